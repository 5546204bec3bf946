"""What the gradient analyses are given of the model: its adapter, the normalisation its inputs carry, a loader
of chosen samples (collected row indices) as one model-ready batch (from the inputs the pass kept, in the memory
format it ran in), and the threads the pass's forward ran with."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import torch

from reportgen.model.adapter import ModelAdapter
from reportgen.runtime.forward_form import torch_threads


@dataclass
class ModelAccess:
    adapter: ModelAdapter
    load_inputs: Callable[[Sequence[int]], torch.Tensor]  # rows -> (B, C, H, W) on the model's device
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None
    threads: int | None = None  # torch's threads for the gradient work (None: as they are)

    def running(self):
        """Within the block, torch runs with the pass's forward's threads."""
        return torch_threads(self.threads)
