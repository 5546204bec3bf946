"""The one batched pass (`batched_pass`): each image decoded once, the model run once per batch, and everything
the analyses need kept per sample in `Collected` (logits, probabilities, loss, embeddings, thumbnails, small
pixels). Also the batch size (`batch_size`), the thumbnails (`thumbnails`) and torchrun sharding
(`distributed`)."""
