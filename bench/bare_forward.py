"""The ceiling a report's pass is measured against: the same model's forward over images already decoded and in
memory, in its fastest float32 form on this machine (contiguous or channels_last, all of torch's threads, the
fastest batch size of BATCHES), nothing else. bfloat16 is timed too, for --amp, and the model with its BatchNorms
folded (torch.fx), as the report runs it where that agrees. Prints one JSON line of images/s.

    .venv/bin/python bench/bare_forward.py weights.pt resnet18 data/ [--batch 64] [--repeats 3] [--device cpu]

ARCH is a torchvision name or timm:NAME; the weights are a state_dict. The batch is decoded the way torchvision's
evaluation transform does it (resize 256, centre crop 224, ImageNet mean/std), then timed: a warm-up pass per form
and batch size, then `--repeats` passes over the batch of each in turn, the median of each.
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import time
from pathlib import Path

import torch
import torchvision
from PIL import Image


def build(arch: str, weights: Path) -> torch.nn.Module:
    state = torch.load(weights, weights_only=True)
    classes = [v for k, v in state.items() if k.endswith("weight") and v.ndim == 2][-1].shape[0]
    if arch.startswith("timm:"):
        import timm

        model = timm.create_model(arch.removeprefix("timm:"), pretrained=False, num_classes=classes)
    else:
        model = torchvision.models.get_model(arch, weights=None, num_classes=classes)
    model.load_state_dict(state)
    return model.eval()


def decoded_batch(root: Path, size: int, batch: int) -> torch.Tensor:
    transform = torchvision.transforms.Compose([
        torchvision.transforms.Resize(round(size * 256 / 224)), torchvision.transforms.CenterCrop(size),
        torchvision.transforms.ToTensor(),
        torchvision.transforms.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))])
    paths = sorted(root.rglob("*.jpg"))[:batch]
    return torch.stack([transform(Image.open(p).convert("RGB")) for p in paths])


BATCHES = (4, 8, 16, 32, 64)  # on a CPU a small batch can be the fastest per image (its activations stay in
# cache): ResNet-18 at 224 px on 2 cores ran at 12-13 ms an image in batches of 4-8 against 15-16 in batches of 64


def folded(model: torch.nn.Module) -> torch.nn.Module | None:
    """A copy with each BatchNorm folded into its convolution by torch.fx (an implementation independent of
    reportgen's), or None where the model has no BatchNorm or fx can't trace it."""
    if not any(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules()):
        return None
    try:
        from torch.fx.experimental.optimization import fuse

        return fuse(copy.deepcopy(model))
    except Exception:  # noqa: BLE001 - not traceable: no folded form
        return None


def rates(model: torch.nn.Module, images: torch.Tensor, device: torch.device, repeats: int) -> dict:
    """images/s of each form at its fastest batch size (every size in BATCHES up to len(images), the same images
    in chunks of that size), and `batch sizes`: each form's fastest size. "best float32" is the model as it is
    (the yardstick); "best float32 folded" also counts its BatchNorms folded into the convolutions, which the
    report's pass does where they agree (reportgen/runtime/folded_batchnorm.py)."""
    model = model.to(device)
    images = images.to(device)
    fused = folded(model)
    forms = {"float32 contiguous": (model, torch.contiguous_format, None),
             "float32 channels_last": (model, torch.channels_last, None),
             "bfloat16 channels_last": (model, torch.channels_last, torch.bfloat16 if device.type == "cpu"
                                        else torch.float16)}
    if fused is not None:
        forms["float32 channels_last, BN folded"] = (fused.to(device), torch.channels_last, None)
    sizes = [b for b in BATCHES if b < len(images)] + [len(images)]

    def run(model, memory_format, amp_dtype, size: int) -> float:
        model.to(memory_format=memory_format)
        chunks = [c.contiguous(memory_format=memory_format) for c in images.split(size)]
        with torch.inference_mode(), torch.autocast(device.type, dtype=amp_dtype or torch.float32,
                                                    enabled=amp_dtype is not None):
            if device.type == "cuda":
                torch.cuda.synchronize()
            start = time.perf_counter()
            for chunk in chunks:
                model(chunk)
            if device.type == "cuda":
                torch.cuda.synchronize()
            return time.perf_counter() - start

    runs = [(name, form, size) for name, form in forms.items() for size in sizes]
    for _name, form, size in runs:
        run(*form, size)  # warm-up: oneDNN/cuDNN pick and build their kernels on a first call at each shape
    times: dict[tuple[str, int], list[float]] = {(name, size): [] for name, _form, size in runs}
    for repeat in range(repeats):
        for name, form, size in (runs if repeat % 2 == 0 else runs[::-1]):
            times[(name, size)].append(run(*form, size))
    model.to(memory_format=torch.contiguous_format)
    out, best_size = {}, {}
    for name in forms:
        rate, size = max((len(images) / statistics.median(times[(name, b)]), b) for b in sizes)
        out[name], best_size[name] = rate, size
    plain = [name for name in forms if name.startswith("float32") and "folded" not in name]
    out["best float32"] = max(out[name] for name in plain)
    out["best float32 folded"] = max(v for k, v in out.items() if k.startswith("float32"))
    # the yardstick before the batch sizes were timed (one batch of len(images)), for comparison with older figures
    out["float32 whole batch"] = max(len(images) / statistics.median(times[(name, len(images))]) for name in plain)
    out["batch sizes"] = best_size
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("weights", type=Path)
    parser.add_argument("arch")
    parser.add_argument("data", type=Path)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    model = build(args.arch, args.weights)
    batch = decoded_batch(args.data, args.size, args.batch)
    print(json.dumps(rates(model, batch, torch.device(args.device), args.repeats)))
