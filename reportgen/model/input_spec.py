"""What the model wants as input: channels, size and normalisation, inferred where the model fixes them."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from reportgen.errors import ReportgenError


@dataclass
class InputSpec:
    channels: int
    size: tuple[int, int] | None  # (H, W); None = take it from the first image
    mean: tuple[float, ...]
    std: tuple[float, ...]
    source: str  # how channels/size were decided, shown in the report


def infer_input_spec(model: torch.nn.Module, *, image_size: int | tuple[int, int] | None = None,
                     mean: tuple[float, ...] | None = None, std: tuple[float, ...] | None = None) -> InputSpec:
    channels, size, source = _from_graph(model) or _from_first_conv(model) or (3, None, "default (3 channels)")
    if image_size:
        size = (image_size, image_size) if isinstance(image_size, int) else tuple(image_size)
        source += "; size from --image-size"
    mean = tuple(mean) if mean else (0.0,) * channels
    std = tuple(std) if std else (1.0,) * channels
    if len(mean) == 1:
        mean = mean * channels
    if len(std) == 1:
        std = std * channels
    if len(mean) != channels or len(std) != channels:
        raise ReportgenError(f"--mean/--std need 1 or {channels} values for this {channels}-channel model")
    if any(s == 0 for s in std):
        raise ReportgenError("--std values must be non-zero")
    return InputSpec(channels, size, mean, std, source)


def _from_graph(model):
    """An exported program records its input's shape; static dims are the ones it was exported for."""
    if not isinstance(model, torch.fx.GraphModule):
        return None
    for node in model.graph.nodes:
        value = node.meta.get("val")
        if node.op == "placeholder" and isinstance(value, torch.Tensor) and value.ndim == 4:
            dims = [d if isinstance(d, int) else None for d in value.shape]
            channels = dims[1] or 3
            size = (dims[2], dims[3]) if dims[2] and dims[3] else None
            return channels, size, "exported input shape"
    return None


def _from_first_conv(model):
    for _name, param in model.named_parameters():
        if param.ndim == 4:  # the first conv kernel: (out, in, kh, kw)
            size = getattr(model, "image_size", None)  # torchvision's ViT fixes its input size
            size = (size, size) if isinstance(size, int) else None
            return int(param.shape[1]), size, "first convolution's input channels"
        if param.ndim == 2:
            return None  # a linear layer came first: no conv to read channels from
    return None
