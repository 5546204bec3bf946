"""Grad-CAM (Selvaraju et al. 2017) on the last convolution, found automatically in every format that allows it.

cam = ReLU(sum_c w_c * A_c) with w_c = mean over positions of d logit_t / d A_c, where A is the layer's output.
The layer's output and its gradient come from `saliency.target_gradients`, in the same backward as the input
gradient, so Grad-CAM costs no extra pass.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from reportgen.model.adapter import ModelAdapter, NoHooks

NO_CONV = ("Grad-CAM is not shown: the model has no convolution, so it has no spatial feature map to weight; "
           "the gradient saliency maps above are its explanation.")
TRANSFORMER = ("Grad-CAM is not shown: the model's convolutions all run before its attention layers (a ViT's "
               "patch embedding), where Grad-CAM shows little beyond the input gradient; the gradient saliency "
               "maps above are its explanation.")
SCRIPT = ("Grad-CAM is not shown: it needs a hook on an inner convolution, and a TorchScript program can't take "
          "hooks; save the model with torch.export (.pt2) or as a state_dict to get it.")


@dataclass
class CamLayer:
    name: str | None  # the layer Grad-CAM reads, or None
    note: str | None = None  # one sentence saying why Grad-CAM is absent (or how the layer was chosen)


def find_cam_layer(adapter: ModelAdapter, probe: torch.Tensor, override: str | None = None) -> CamLayer:
    """The last 2-D convolution (by execution order), or `override` (--cam-layer) when it names a layer."""
    if not adapter.takes_hooks:
        return CamLayer(None, SCRIPT)
    try:
        if override:
            names = adapter.layer_names()
            if override not in names:
                return CamLayer(None, f"Grad-CAM is not shown: --cam-layer {override} is not a layer of this "
                                      f"model (its layers include {', '.join(names[-4:])}).")
            return CamLayer(override, f"Grad-CAM reads layer {override} (--cam-layer).")
        layers = adapter.conv_layers(probe)
    except NoHooks:
        return CamLayer(None, SCRIPT)
    convs = [i for i, layer in enumerate(layers) if layer.kind == "conv"]
    if not convs:
        return CamLayer(None, NO_CONV)
    last = convs[-1]
    if any(layer.kind == "attention" for layer in layers[last + 1:]):
        return CamLayer(None, TRANSFORMER)
    return CamLayer(layers[last].name, f"Grad-CAM reads the last convolution, {layers[last].name}.")


def grad_cam(activations: torch.Tensor, gradients: torch.Tensor) -> torch.Tensor:
    """(B, h, w) Grad-CAM at the layer's resolution from activations and gradients, both (B, C, h, w)."""
    weights = gradients.mean(dim=(2, 3), keepdim=True)
    return torch.relu((weights * activations).sum(dim=1))


def cam_to_input_size(cam: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """(B, H, W) in [0, 1]: bilinear upsampling to the input's size, then each map scaled by its own range
    (the usual display convention, and pytorch-grad-cam's, so the two can be compared)."""
    up = F.interpolate(cam[:, None].float(), size=size, mode="bilinear", align_corners=False)[:, 0]
    low = up.amin(dim=(1, 2), keepdim=True)
    high = up.amax(dim=(1, 2), keepdim=True)
    return (up - low) / (high - low + 1e-7)
