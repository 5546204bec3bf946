"""Gradient saliency, baseline-subtracted the way exigo defines it.

For sample x and target class t: saliency = d logit_t / d x; baseline = the same gradient at a blank input;
delta = saliency - baseline (what x adds beyond what the network does for nothing); overlay = delta times the
input's departure from the blank, i.e. delta * x when inputs are unnormalised, as in exigo.

Every function takes a whole batch and runs ONE backward for it: the selected logits are summed, and since
samples don't interact in an eval-mode model, the gradient of the sum with respect to each sample is that
sample's own gradient.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch

from reportgen.model.outputs import as_logits


@contextmanager
def gradients_enabled():
    """Gradients on, even if a caller is inside torch.inference_mode() or torch.no_grad()."""
    with torch.inference_mode(False), torch.enable_grad():
        yield


@dataclass
class TargetGradients:
    inputs: torch.Tensor  # (B, C, H, W) d logit_t / d x
    logits: torch.Tensor  # (B, K) the forward's logits, detached
    layer: torch.Tensor | None = None  # (B, C', h, w) a captured layer's output, detached
    layer_grad: torch.Tensor | None = None  # (B, C', h, w) d logit_t / d layer


def target_gradients(model, inputs: torch.Tensor, targets: torch.Tensor, *, layers: dict | None = None,
                     layer_name: str | None = None) -> TargetGradients:
    """One forward and one backward for the batch: d logit_{targets[i]} / d inputs[i] for every i.

    inputs: (B, C, H, W); targets: (B,) int64. If `layers` is the dict from `adapter.capture([name])`,
    the gradient with respect to that layer's output comes from the same backward (for Grad-CAM).
    """
    with gradients_enabled():
        x = inputs.detach()
        if x.is_inference():  # made under torch.inference_mode(): autograd can't record it, a copy it can
            x = x.clone()
        x.requires_grad_(True)
        logits = as_logits(model(x))
        selected = logits.gather(1, targets.to(logits.device).view(-1, 1)).sum()
        wrt = [x]
        layer = layers.get(layer_name) if layers is not None and layer_name else None
        if isinstance(layer, torch.Tensor) and layer.requires_grad:
            wrt.append(layer)
        # autograd.grad, not .backward(): no .grad is accumulated on the model's parameters.
        grads = torch.autograd.grad(selected, wrt, allow_unused=True)
    input_grad = grads[0] if grads[0] is not None else torch.zeros_like(x)
    result = TargetGradients(input_grad.detach(), logits.detach())
    if len(wrt) == 2:
        result.layer = layer.detach()
        result.layer_grad = grads[1].detach() if grads[1] is not None else torch.zeros_like(result.layer)
    return result


def gradients_per_target(model, inputs: torch.Tensor, targets: list[list[int]], *, layers: dict | None = None,
                         layer_name: str | None = None) -> Iterator[tuple[int, list[int], TargetGradients]]:
    """One forward for the batch, then one backward per position j of the target lists: yields (j, the rows
    that have a j-th target, their gradients toward it). Every input row is run forward once, however many classes it is
    explained toward: at 5 or 6 classes a sample, repeating the rows per class cost 12 forward-equivalents where
    this costs 7 (a backward to the input costs about one forward).

    inputs: (B, C, H, W); targets[i]: the classes for row i. Yielded tensors are (len(rows), ...)."""
    with gradients_enabled():
        x = inputs.detach()
        if x.is_inference():
            x = x.clone()
        x.requires_grad_(True)
        logits = as_logits(model(x))
        layer = layers.get(layer_name) if layers is not None and layer_name else None
        wrt = [x] + ([layer] if isinstance(layer, torch.Tensor) and layer.requires_grad else [])
        depth = max((len(t) for t in targets), default=0)
        for j in range(depth):
            rows = [i for i, classes in enumerate(targets) if len(classes) > j]
            chosen = torch.zeros_like(logits)
            chosen[rows, [targets[i][j] for i in rows]] = 1.0
            grads = torch.autograd.grad(logits, wrt, grad_outputs=chosen, retain_graph=j + 1 < depth,
                                        allow_unused=True)
            at = torch.tensor(rows, device=x.device)
            input_grad = grads[0] if grads[0] is not None else torch.zeros_like(x)
            result = TargetGradients(input_grad.detach()[at], logits.detach()[at])
            if len(wrt) == 2:
                result.layer = layer.detach()[at]
                result.layer_grad = (grads[1].detach() if grads[1] is not None
                                     else torch.zeros_like(layer))[at]
            yield j, rows, result


def gradient_saliency(model, inputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) gradient of logit targets[i] with respect to inputs[i]: captum's Saliency(abs=False)."""
    return target_gradients(model, inputs, targets).inputs


def blank_input(like: torch.Tensor, mean=None, std=None) -> torch.Tensor:
    """(1, C, H, W) a black image as the model sees it: (0 - mean) / std per channel, zeros if unnormalised; in
    `like`'s memory format (channels_last where the model runs so)."""
    channels = like.shape[1]
    mean_t = torch.as_tensor(mean if mean is not None else [0.0] * channels, dtype=like.dtype, device=like.device)
    std_t = torch.as_tensor(std if std is not None else [1.0] * channels, dtype=like.dtype, device=like.device)
    blank = torch.zeros((1, *like.shape[1:]), dtype=like.dtype, device=like.device)
    blank = (blank - mean_t.view(1, -1, 1, 1)) / std_t.view(1, -1, 1, 1)
    if like.dim() == 4 and not like.is_contiguous() and like.is_contiguous(memory_format=torch.channels_last):
        blank = blank.contiguous(memory_format=torch.channels_last)
    return blank


def baseline_gradients(model, blank: torch.Tensor, classes: torch.Tensor) -> torch.Tensor:
    """(len(classes), C, H, W) gradient of each class's logit at the blank input, one backward for all."""
    batch = torch.cat([blank] * len(classes))  # rows of their own, in the blank's memory format
    return gradient_saliency(model, batch, classes)


@dataclass
class SaliencyMaps:
    source: torch.Tensor  # (B, C, H, W) the model's input
    baseline: torch.Tensor  # (B, C, H, W) gradient at the blank input toward the same target
    saliency: torch.Tensor  # (B, C, H, W) gradient at the sample
    delta: torch.Tensor  # saliency - baseline
    overlay: torch.Tensor  # delta * (source - blank)


def subtract_baseline(source: torch.Tensor, saliency: torch.Tensor, baseline: torch.Tensor,
                      blank: torch.Tensor) -> SaliencyMaps:
    delta = saliency - baseline
    return SaliencyMaps(source, baseline, saliency, delta, delta * (source - blank))


def baseline_subtracted(model, inputs: torch.Tensor, targets: torch.Tensor, *, mean=None,
                        std=None) -> SaliencyMaps:
    """Exigo's five panels for a batch: two backwards in all (the samples, then one blank per distinct target)."""
    blank = blank_input(inputs, mean, std)
    saliency = gradient_saliency(model, inputs, targets)
    classes, inverse = torch.unique(targets, return_inverse=True)
    baseline = baseline_gradients(model, blank, classes)[inverse.to(saliency.device)]
    return subtract_baseline(inputs.detach(), saliency, baseline, blank)
