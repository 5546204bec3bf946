"""The network's insides (as the CIFAR-10/MNIST visualisation write-up shows them): the first convolution's filters and the feature maps of chosen layers.

Filters are weights, readable in every format (a TorchScript program still lists its parameters). Feature maps
are inner outputs, read through the model's adapter where the format allows it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from reportgen.model.adapter import ModelAdapter

MAX_FILTERS = 64
MAX_CHANNELS = 32  # feature-map channels shown per layer and sample


@dataclass
class ConvFilters:
    layer: str | None
    weights: np.ndarray | None  # (O, I, kh, kw)
    note: str | None = None


def first_conv_filters(adapter: ModelAdapter, probe: torch.Tensor) -> ConvFilters:
    """The weights of the first 2-D convolution the model runs (for TorchScript: the first one it declares)."""
    if not adapter.takes_hooks:
        convs = adapter.declared_convs()
        if not convs:
            return ConvFilters(None, None, "The model has no convolution, so there are no filters to show.")
        name, module = convs[0]
        return ConvFilters(name, module.weight.detach().float().contiguous().cpu().numpy(),
                           "A TorchScript program doesn't record the order its layers run in: these are the "
                           "filters of the first convolution it declares.")
    convs = [layer for layer in adapter.conv_layers(probe) if layer.kind == "conv"]
    if not convs:
        return ConvFilters(None, None, "The model has no convolution, so there are no filters to show.")
    name = convs[0].name
    return ConvFilters(name, adapter.conv_weight(name).detach().float().contiguous().cpu().numpy())


def filter_tiles(weights: np.ndarray, limit: int = MAX_FILTERS) -> np.ndarray:
    """(N, kh, kw) grey or (N, kh, kw, 3) colour tiles in [0, 1], mid-grey = 0, each filter on its own scale
    (its largest |weight| reaches black or white), so the pattern shows whatever the filter's norm."""
    shown = weights[:limit]
    if shown.shape[1] == 3:
        tiles = shown.transpose(0, 2, 3, 1)
    else:
        tiles = shown.mean(axis=1)  # one input channel, or several summarised by their mean
    limits = np.abs(tiles).reshape(len(tiles), -1).max(axis=1)
    limits = np.where(limits > 0, limits, 1.0).reshape(-1, *([1] * (tiles.ndim - 1)))
    return 0.5 + 0.5 * tiles / limits


def feature_maps(adapter: ModelAdapter, inputs: torch.Tensor, layers: list[str]) -> dict[str, np.ndarray]:
    """layer -> (B, C, h, w) outputs for `inputs`; raises NoHooks for TorchScript."""
    with adapter.capture(layers) as store, torch.no_grad():
        adapter.module(inputs)
        return {name: store[name].detach().float().contiguous().cpu().numpy() for name in layers if name in store}


def feature_map_tiles(maps: np.ndarray, limit: int = MAX_CHANNELS) -> np.ndarray:
    """maps: (B, C, h, w) one layer for B samples -> (B, n, h, w) in [0, 1]; each channel's range is shared by
    the B samples, so the same tile in two grids is on the same scale and can be compared."""
    shown = maps[:, :limit]
    low = shown.min(axis=(0, 2, 3), keepdims=True)
    high = shown.max(axis=(0, 2, 3), keepdims=True)
    return (shown - low) / np.where(high > low, high - low, 1.0)


def first_and_middle_convs(adapter: ModelAdapter, probe: torch.Tensor) -> list[str]:
    """The first convolution and the middle one (by execution order), once each; raises NoHooks for TorchScript."""
    convs = [layer.name for layer in adapter.conv_layers(probe) if layer.kind == "conv"]
    return list(dict.fromkeys([convs[0], convs[len(convs) // 2]])) if convs else []

