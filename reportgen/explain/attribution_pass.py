"""The gradient pass over the chosen samples: per sample, exigo's baseline-subtracted saliency toward its label,
the attribution toward each of its top classes, and Grad-CAM, all from one backward per chunk of samples.

Each sample is repeated once per class it is explained toward, so a chunk's (sample, class) pairs form one
batch. Results are yielded per sample as small (H, W) maps (channels summed), so memory stays bounded by
one chunk however many samples are chosen.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np
import torch

from reportgen.explain.grad_cam import cam_to_input_size, grad_cam
from reportgen.explain.saliency import baseline_gradients, blank_input, subtract_baseline, target_gradients
from reportgen.model.adapter import ModelAdapter

PAIRS_PER_BACKWARD = 64  # (sample, class) rows per batch: bounds activation memory for the backward


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


def attribute_samples(adapter: ModelAdapter, load_inputs, rows: list[int], targets: list[list[int]],
                      labels: list[int], *, mean=None, std=None, cam_layer: str | None = None,
                      cam_classes: list[set[int]] | None = None) -> Iterator[SampleAttribution]:
    """rows: collected row indices; targets[i]: classes to explain rows[i] toward (must include labels[i]);
    cam_classes[i]: the classes whose Grad-CAM to keep for rows[i] (Grad-CAM needs `cam_layer`)."""
    baseline_cache: dict[int, torch.Tensor] = {}
    model = adapter.module
    capture = adapter.capture([cam_layer]) if cam_layer else nullcontext(None)
    with capture as layers:
        start = 0
        while start < len(rows):
            stop, pairs = start, 0
            while stop < len(rows) and (stop == start or pairs + len(targets[stop]) <= PAIRS_PER_BACKWARD):
                pairs += len(targets[stop])
                stop += 1
            yield from _chunk(model, load_inputs, rows[start:stop], targets[start:stop], labels[start:stop],
                              mean, std, layers, cam_layer,
                              cam_classes[start:stop] if cam_classes else None, baseline_cache)
            start = stop


def _chunk(model, load_inputs, rows, targets, labels, mean, std, layers, cam_layer, cam_classes, baseline_cache):
    inputs = load_inputs(rows)
    blank = blank_input(inputs, mean, std)
    sample_of = torch.tensor([i for i, classes in enumerate(targets) for _ in classes], device=inputs.device)
    pair_class = torch.tensor([k for classes in targets for k in classes], device=inputs.device)
    missing = sorted({int(k) for k in pair_class.tolist()} - baseline_cache.keys())
    if missing:
        # The blank input's gradient depends only on the class: computed once per class, reused by every chunk.
        grads = baseline_gradients(model, blank, torch.tensor(missing, device=inputs.device))
        baseline_cache.update(zip(missing, grads))
    result = target_gradients(model, inputs[sample_of], pair_class, layers=layers, layer_name=cam_layer)
    baseline = torch.stack([baseline_cache[int(k)] for k in pair_class.tolist()])
    maps = subtract_baseline(inputs[sample_of], result.inputs, baseline, blank)
    overlay = maps.overlay.sum(dim=1).cpu().numpy()
    cams = None
    if result.layer is not None and result.layer.ndim == 4:
        cams = cam_to_input_size(grad_cam(result.layer, result.layer_grad), inputs.shape[2:]).cpu().numpy()
    source = inputs.cpu().numpy()
    pair = 0
    for i, row in enumerate(rows):
        first = pair
        pair += len(targets[i])
        at_label = first + targets[i].index(labels[i])
        label_maps = {name: getattr(maps, name)[at_label].sum(dim=0).cpu().numpy()
                      for name in ("baseline", "saliency", "delta", "overlay")}
        stats = {f"{name}_mean_abs": float(getattr(maps, name)[at_label].abs().mean())
                 for name in ("baseline", "saliency", "delta")}
        class_maps = {k: overlay[first + j] for j, k in enumerate(targets[i])}
        kept = {}
        if cams is not None:
            wanted = cam_classes[i] if cam_classes else set(targets[i])
            kept = {k: cams[first + j] for j, k in enumerate(targets[i]) if k in wanted}
        yield SampleAttribution(int(row), source[i], label_maps, class_maps, kept, stats)
