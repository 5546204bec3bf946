"""The gradient pass over the chosen samples: per sample, exigo's baseline-subtracted saliency toward its label,
the attribution toward each of its top classes, and Grad-CAM, from one forward per chunk of samples and one
backward per class position (`saliency.gradients_per_target`).

Chunks are sized by memory: what one input row's forward keeps for the backward is measured once (the tensors
autograd saves, two rows against one), and a chunk holds GRADIENT_BYTES of it. Results are yielded per sample as
small (H, W) maps (channels summed), so memory stays bounded by one chunk however many samples are chosen.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field

import numpy as np
import torch

from reportgen.explain.grad_cam import cam_to_input_size, grad_cam
from reportgen.explain.saliency import (
    baseline_gradients,
    blank_input,
    gradients_enabled,
    gradients_per_target,
    subtract_baseline,
)
from reportgen.model.adapter import ModelAdapter

GRADIENT_BYTES = 512 * 2 ** 20  # activations saved for the backward, per chunk
MAX_ROWS = 64  # input rows per forward, however small the model


@dataclass
class SampleAttribution:
    row: int
    source: np.ndarray  # (C, H, W) the model's input
    label_maps: dict[str, np.ndarray]  # baseline, saliency, delta, overlay toward the label: (H, W) each
    class_maps: dict[int, np.ndarray]  # class -> (H, W) overlay toward that class
    cams: dict[int, np.ndarray] = field(default_factory=dict)  # class -> (H, W) Grad-CAM in [0, 1]
    label_stats: dict[str, float] = field(default_factory=dict)  # mean |map| for the label maps


def explained_classes(probs: np.ndarray, label: int, top: int = 5) -> list[int]:
    """The `top` most probable classes, most probable first, plus the label when it isn't among them."""
    order = [int(k) for k in np.argsort(-probs, kind="stable")[:top]]
    return order if label in order else order + [int(label)]


def saved_bytes_per_row(model, probe: torch.Tensor) -> int:
    """Bytes autograd keeps for the backward per input row: a forward of two rows against one (the weights it
    saves are the same in both)."""
    def saved(rows: int) -> int:
        total = 0

        def pack(tensor):
            nonlocal total
            total += tensor.nelement() * tensor.element_size()
            return tensor

        x = (probe[:rows] if len(probe) >= rows else torch.cat([probe[:1]] * rows)).detach().clone()
        with gradients_enabled(), torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
            model(x.requires_grad_(True))
        return total

    return max(1, saved(2) - saved(1))


def rows_per_chunk(model, probe: torch.Tensor, budget: int = GRADIENT_BYTES) -> int:
    """Samples per forward: GRADIENT_BYTES of saved activations, at most MAX_ROWS."""
    return int(max(1, min(MAX_ROWS, budget // saved_bytes_per_row(model, probe))))


def attribute_samples(adapter: ModelAdapter, load_inputs, rows: list[int], targets: list[list[int]],
                      labels: list[int], *, mean=None, std=None, cam_layer: str | None = None,
                      cam_classes: list[set[int]] | None = None,
                      chunk: int | None = None) -> Iterator[SampleAttribution]:
    """rows: collected row indices; targets[i]: classes to explain rows[i] toward (must include labels[i]);
    cam_classes[i]: the classes whose Grad-CAM to keep for rows[i] (Grad-CAM needs `cam_layer`); chunk: samples
    per forward (default: by memory, `rows_per_chunk`, measured on the first inputs)."""
    baseline_cache: dict[int, torch.Tensor] = {}
    model = adapter.module
    capture = adapter.capture([cam_layer]) if cam_layer else nullcontext(None)
    with capture as layers:
        start = 0
        while start < len(rows):
            inputs = load_inputs(rows[start:start + (chunk or MAX_ROWS)])
            if chunk is None:
                chunk = rows_per_chunk(model, inputs)
            for at in range(0, len(inputs), chunk):
                part = slice(start + at, start + min(at + chunk, len(inputs)))
                yield from _chunk(model, inputs[at:at + chunk], rows[part], targets[part], labels[part], mean, std,
                                  layers, cam_layer, cam_classes[part] if cam_classes else None, baseline_cache, chunk)
            start += len(inputs)


def _chunk(model, inputs, rows, targets, labels, mean, std, layers, cam_layer, cam_classes, baseline_cache, chunk):
    blank = blank_input(inputs, mean, std)
    missing = sorted({int(k) for classes in targets for k in classes} - baseline_cache.keys())
    for at in range(0, len(missing), chunk):
        # The blank input's gradient depends only on the class: computed once per class, reused by every chunk.
        classes = missing[at:at + chunk]
        grads = baseline_gradients(model, blank, torch.tensor(classes, device=inputs.device))
        baseline_cache.update(zip(classes, grads))
    label_maps: list[dict] = [{} for _ in rows]
    stats: list[dict] = [{} for _ in rows]
    class_maps: list[dict] = [{} for _ in rows]
    cams: list[dict] = [{} for _ in rows]
    for j, have, result in gradients_per_target(model, inputs, targets, layers=layers, layer_name=cam_layer):
        classes = [targets[i][j] for i in have]
        baseline = torch.stack([baseline_cache[k] for k in classes])
        maps = subtract_baseline(inputs[have], result.inputs, baseline, blank)
        overlay = maps.overlay.sum(dim=1).cpu().numpy()
        cam = None
        if result.layer is not None and result.layer.ndim == 4:
            cam = cam_to_input_size(grad_cam(result.layer, result.layer_grad), inputs.shape[2:]).cpu().numpy()
        for n, (i, k) in enumerate(zip(have, classes)):
            class_maps[i][k] = overlay[n]
            if k == labels[i]:
                label_maps[i] = {name: getattr(maps, name)[n].sum(dim=0).cpu().numpy()
                                 for name in ("baseline", "saliency", "delta", "overlay")}
                stats[i] = {f"{name}_mean_abs": float(getattr(maps, name)[n].abs().mean())
                            for name in ("baseline", "saliency", "delta")}
            if cam is not None and k in (cam_classes[i] if cam_classes else set(targets[i])):
                cams[i][k] = cam[n]
    source = inputs.detach().contiguous().cpu().numpy()
    for i, row in enumerate(rows):
        yield SampleAttribution(int(row), source[i], label_maps[i],
                                {k: class_maps[i][k] for k in targets[i]}, cams[i], stats[i])
