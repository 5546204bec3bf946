"""What the gradient analyses are given of the model: its adapter, the normalisation its inputs carry, and a
loader that re-decodes chosen samples (collected row indices) into one model-ready batch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import torch

from reportgen.model.adapter import ModelAdapter


@dataclass
class ModelAccess:
    adapter: ModelAdapter
    load_inputs: Callable[[Sequence[int]], torch.Tensor]  # rows -> (B, C, H, W) on the model's device
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None
