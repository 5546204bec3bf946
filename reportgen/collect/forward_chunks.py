"""How many images the pass's forward takes at a time on a CPU: its batch, or a smaller chunk of it.

On a GPU a larger batch is faster per image; on a CPU a small one can be, since its activations stay in the
caches: on 2 cores, ResNet-18 at 224 px ran at 12-13 ms an image in chunks of 4-8 against 14.5 in 32 and 16 in
64, a ViT-Tiny at 9.5 in 8-16 against 15 in 64, MobileNetV3-small at 1.6 in 16 against 2.2 in 32
(bench/bare_forward.py times the same sizes). Where the best size lies depends on the model and the CPU's caches,
so it is measured, on the pass's own batches (their outputs are the pass's; nothing is run twice): once the core
split has chosen its thread count, one batch at each candidate size, largest first; where the two fastest are
within RETRY_WITHIN of each other, one more batch at each of them (the faster of a size's two counts); then the
fastest per image for the rest of the pass. One batch each is not enough on a busy machine: ResNet-18's chunks of
8 ran 11.4-11.9 ms an image on quiet cores against 12.2-12.9 for 16 and 13.0-13.5 for 32, yet a pass's single
trials timed 8 at 11.9 and 16 at 11.0 and kept 16. The decoding workers' batches stay as they are (fewer, larger
messages). A model under the form probe's MEASURE_FROM FLOPs an image is not timed (decoding bounds its pass, and
a small chunk's calls cost more than they save: a small CNN on 28-px digits, 0.18 ms an image in its batch of 128,
0.92 in chunks of 4).
"""

from __future__ import annotations

import torch

CHUNKS = (4, 8, 16)  # candidate sizes below the batch's own
RETRY_WITHIN = 0.1  # the two fastest sizes' first batches this close: each is timed on one more


class ForwardChunks:
    """`size(timing)` for the next batch's forward, `forward(tap, x, size)` to run it, `record(size, images, seconds,
    timing)` once it ran; `summary()`."""

    def __init__(self, batch_size: int, *, measure: bool):
        """`measure`: on CPU, outside torchrun (whose ranks must compute alike); else the whole batch."""
        self.batch_size = batch_size
        smaller = [c for c in CHUNKS if c < batch_size] if measure else []
        self.candidates = [batch_size, *sorted(smaller, reverse=True)]
        self.seconds: dict[int, float] = {}  # size -> seconds per image, the fastest of its trial batches
        self.retry: list[int] | None = None  # the sizes still to be timed again, once each has been timed once
        self.chosen: int | None = None if len(self.candidates) > 1 else batch_size

    def size(self, timing: bool) -> int:
        """The chunk for the next batch; `timing`: the batch runs at the split's chosen thread count (not one of
        its trials), so it can time a candidate."""
        if self.chosen is not None:
            return self.chosen
        if not timing:
            return self.batch_size
        return self.retry[0] if self.retry else next(c for c in self.candidates if c not in self.seconds)

    def record(self, size: int, images: int, seconds: float, timing: bool) -> None:
        """A batch of `images` ran its forward in chunks of `size` in `seconds` (the model's calls alone)."""
        if self.chosen is not None or not timing or images < min(size, self.batch_size):
            return  # a short last batch times nothing
        self.seconds[size] = min(self.seconds.get(size, float("inf")), seconds / images)
        if self.retry is not None:
            self.retry = [c for c in self.retry if c != size]
        elif len(self.seconds) == len(self.candidates):
            fastest = sorted(self.seconds, key=self.seconds.get)[:2]
            close = self.seconds[fastest[1]] <= self.seconds[fastest[0]] * (1 + RETRY_WITHIN)
            self.retry = fastest[::-1] if close else []
        if self.retry == []:
            best = min(self.seconds.values())
            # the largest size within 3% of the fastest: fewer calls, and what noise is left
            self.chosen = max(c for c, s in self.seconds.items() if s <= best * 1.03)

    def forward(self, tap, x: torch.Tensor, size: int):
        """chunked_forward(tap, x, size); a model that fails on a smaller chunk (one traced or exported for its
        batch's shape) runs the whole batch, and whole batches from then on. A failure on the whole batch is the
        model's: the caller says so."""
        try:
            return chunked_forward(tap, x, size)
        except Exception:
            if size >= len(x):
                raise
            self.chosen, self.seconds = self.batch_size, {}
            return tap(x)

    def summary(self) -> dict:
        return {"chosen": self.chosen if self.chosen is not None else self.batch_size,
                "ms_per_image": {str(c): round(s * 1e3, 3) for c, s in sorted(self.seconds.items())}}


def chunked_forward(tap, x: torch.Tensor, size: int):
    """tap(x) run `size` images at a time: (logits, embeddings) as one batch."""
    if size >= len(x):
        return tap(x)
    parts = [tap(chunk) for chunk in x.split(size)]
    return torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts])
