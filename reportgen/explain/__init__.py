"""What the model looks at: gradients toward chosen classes (`saliency`), Grad-CAM (`grad_cam`), the batched
gradient pass over the chosen samples (`attribution_pass`, `saliency_samples`), the network's filters and feature
maps (`network_insides`), and the small images they are drawn as (`heatmap_png`). Every inner layer is read through
the model's adapter (`reportgen.model`)."""
