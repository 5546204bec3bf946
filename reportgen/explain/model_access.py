"""What the gradient analyses are given of the model: its adapter, the normalisation its inputs carry, a loader
of chosen samples (collected row indices) as one model-ready batch (from the inputs the pass kept, in the memory
format it ran in), the threads the pass's forward ran with, and the form it ran in (its folded BatchNorms)."""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from typing import Callable, Sequence

import torch

from reportgen.model.adapter import ModelAdapter
from reportgen.runtime.forward_form import ForwardForm, torch_threads


@dataclass
class ModelAccess:
    adapter: ModelAdapter
    load_inputs: Callable[[Sequence[int]], torch.Tensor]  # rows -> (B, C, H, W) on the model's device
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None
    threads: int | None = None  # torch's threads for the gradient work (None: as they are)
    form: ForwardForm | None = None  # how the pass ran the model (None: as it is)

    def running(self):
        """Within the block, torch runs with the pass's forward's threads."""
        return torch_threads(self.threads)

    def folded(self, keep: set[str] | frozenset[str] = frozenset()):
        """Within the block the model runs with the BatchNorms the pass folded still folded, except next to the
        layers in `keep` (those whose outputs the caller reads): the same gradients with respect to the input
        (eval-mode BN is an affine map), one pass over each activation fewer, forward and backward."""
        return self.form.folded(keep) if self.form is not None else nullcontext()
