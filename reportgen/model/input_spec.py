"""What the model wants as input: channels, size, resize-and-crop and normalisation.

Each is decided in this order, and the report says where it came from:
  1. what the user gives (--channels, --image-size, --mean/--std or --normalize imagenet, a transform=);
  2. the model's own convention: timm's `pretrained_cfg` (input size, crop fraction, mean, std) or the default
     weights' transforms of a torchvision architecture (resize 256, crop 224, ImageNet mean/std);
  3. what the model fixes (an exported program's input shape, the first convolution's input channels);
  4. defaults: 3 channels, the first image's size, no normalisation.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from reportgen.errors import ReportgenError

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
NORMALIZATIONS = {"imagenet": (IMAGENET_MEAN, IMAGENET_STD), "none": ((0.0,), (1.0,))}


@dataclass
class InputSpec:
    channels: int
    size: tuple[int, int] | None  # (H, W) the model is fed; None = take it from the first image
    mean: tuple[float, ...]
    std: tuple[float, ...]
    source: str  # how channels/size/normalisation were decided, shown in the report
    resize: int | None = None  # resize the shorter side to this, then centre-crop to `size` (torchvision/timm eval)
    transform: object = None  # the user's own transform (a PIL image -> the model's tensor): used instead


@dataclass
class Convention:
    """A model's own preprocessing, as its library records it."""

    size: tuple[int, int] | None
    resize: int | None
    mean: tuple[float, ...] | None
    std: tuple[float, ...] | None
    where: str


def convention_of(model, arch: str | None = None) -> Convention | None:
    """timm's pretrained_cfg on the module, or a torchvision architecture's default weights' transforms."""
    cfg = getattr(model, "pretrained_cfg", None) or getattr(model, "default_cfg", None)
    if isinstance(cfg, dict) and cfg.get("input_size"):
        _c, h, w = cfg["input_size"]
        crop = float(cfg.get("crop_pct") or 1.0)
        resize = int(round(min(h, w) / crop)) if crop < 1 else None
        return Convention((int(h), int(w)), resize, tuple(cfg.get("mean") or ()) or None,
                          tuple(cfg.get("std") or ()) or None, f"timm's pretrained_cfg of {cfg.get('architecture', arch)}")
    if arch and ":" not in arch:
        try:
            import torchvision

            transforms = torchvision.models.get_model_weights(arch).DEFAULT.transforms()
        except (ValueError, KeyError, AttributeError):
            return None
        crop = transforms.crop_size[0] if isinstance(transforms.crop_size, (list, tuple)) else transforms.crop_size
        resize = transforms.resize_size[0] if isinstance(transforms.resize_size, (list, tuple)) else transforms.resize_size
        return Convention((int(crop), int(crop)), int(resize), tuple(transforms.mean), tuple(transforms.std),
                          f"torchvision's {arch} default weights' transforms")
    return None


def normalize_of(transform) -> tuple[tuple[float, ...], tuple[float, ...]] | None:
    """The mean/std of a Normalize inside a torchvision transform (a Compose or the transform itself)."""
    parts = getattr(transform, "transforms", [transform])
    for part in parts:
        if type(part).__name__ == "Normalize":
            return tuple(float(v) for v in part.mean), tuple(float(v) for v in part.std)
    return None


def infer_input_spec(model: torch.nn.Module, *, image_size: int | tuple[int, int] | None = None,
                     mean: tuple[float, ...] | None = None, std: tuple[float, ...] | None = None,
                     channels: int | None = None, normalize: str | None = None, arch: str | None = None,
                     transform=None, data_normalize: tuple | None = None) -> InputSpec:
    """data_normalize: (mean, std) of the Normalize in the dataset's own transform (its tensors arrive prepared;
    the pair turns them back into pictures)."""
    fixed_channels, size, source = _from_graph(model) or _from_first_conv(model) or (3, None, "default (3 channels)")
    convention = convention_of(model, arch)
    resize = None
    if channels:
        fixed_channels, source = channels, f"{channels} channel{'s' if channels > 1 else ''} from --channels"
    if image_size:
        size = (image_size, image_size) if isinstance(image_size, int) else tuple(image_size)
        source += "; size from --image-size"
    elif convention and convention.size:
        size, resize = convention.size, convention.resize
        source += f"; size from {convention.where}"
    if normalize:
        if mean or std:
            raise ReportgenError("give --normalize or --mean/--std, not both")
        if normalize not in NORMALIZATIONS:
            raise ReportgenError(f"--normalize {normalize}: choose {' or '.join(NORMALIZATIONS)}")
        mean, std = NORMALIZATIONS[normalize]
        source += f"; mean/std: {normalize}"
    elif transform is not None and normalize_of(transform):
        mean, std = normalize_of(transform)
        source += "; mean/std from the transform's Normalize"
    elif not (mean or std) and data_normalize:
        mean, std = data_normalize
        source += "; mean/std from the dataset's own transform's Normalize"
    elif not (mean or std) and convention and convention.mean:
        mean, std = convention.mean, convention.std
        source += f"; mean/std from {convention.where}"
    elif mean or std:
        source += "; mean/std from --mean/--std"
    if transform is not None:
        source += "; images prepared by the given transform"
    c = fixed_channels
    mean = tuple(mean) if mean else (0.0,) * c
    std = tuple(std) if std else (1.0,) * c
    if len(mean) == 1:
        mean = mean * c
    if len(std) == 1:
        std = std * c
    if len(mean) != c or len(std) != c:
        raise ReportgenError(f"--mean/--std need 1 or {c} values for this {c}-channel model")
    if any(s == 0 for s in std):
        raise ReportgenError("--std values must be non-zero")
    return InputSpec(c, size, mean, std, source, resize, transform)


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
