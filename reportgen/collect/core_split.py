"""How a CPU's cores are split between the decoding workers and the pass's forward: torch's thread count for the
forward, chosen from what the pass's first batches cost and checked again while it runs.

Per image, decoding costs d CPU-seconds (timed in the workers) and the forward f(t) wall-seconds at t threads
(timed in the pass, with the pass's own work on the batch). The forward's t threads hold t cores while it runs;
the decoding gets what the C cores have left. So an image takes about

    T(t) = max(f(t), (d + t * f(t)) / C)

and the pass runs at the t with the least T of two candidates: the cores the workers leave, and all of them. At
t = C that is f(C) + d / C: the forward and the decoding take turns, and the pass makes them (the workers wait
at a gate while a forward on every core runs, collect/batched_pass.py), because sharing the cores costs more than
it saves: a worker that takes a core from one of the forward's threads stalls the others at their next barrier,
and a ResNet-18 pass at 224 px on 2 cores ran its forward at 16-17 ms an image beside the (niced) workers against
13.7 with them waiting. A decoding-bound pass (a small CNN on 28-px digits: d 0.3 ms, f 0.1 ms) keeps 1 thread
beside 2 workers on 2 cores; a model-bound one (ResNet-18 at 224 px: d 3.4 ms, f(1) 26 ms, f(2) 13.7 ms) takes
both. The fixed rule this replaces (the cores the workers leave) held ResNet-18's pass to 0.4x its bare forward.

The pass's first batch is a warm-up whose forward times nothing. Each candidate is then timed on TRIALS batches,
interleaved (the first batch at a thread count can pay set-up, so the faster of them counts), unless the first of
each already decides by EARLY; or unless the first at every core does, with the others' f(t) estimated from a
`prior`: the forward's per-image times at each count on the pass's probe (a few images of noise timed on quiet
cores before the workers start, collect/batched_pass.py), scaled by the measured f(every core). A ResNet-18 pass
on 2 cores so skips its trial batch at 1 thread (0.45 s of a 1,000-photo pass), and a count the prior favours is
still timed before it is chosen. Then the other count is timed on one batch and the choice made again: at gaps that
double (from RECHECK for a choice of every core; from FIRST_RECHECK up to RECHECK for fewer threads, since the
start-up can make every core look slower than it is), or as soon as d or f of the choice has moved by DRIFT from
what it was made on (other processes took cores, the images got larger; not before SETTLE batches). Fewer threads
win a near tie.
"""

from __future__ import annotations

import os
import statistics
from dataclasses import dataclass

import torch

TRIALS = 2
EARLY = 0.3  # after one batch each, a candidate predicted this much faster is chosen at once
RECHECK = 32  # batches before the first check of the other candidate once every core is chosen; the gap doubles
# with each check (a check costs about one batch at the slower count: 1/32 of the pass at first, less and less after)
LAST_RECHECK = RECHECK << 4  # the longest gap (512 batches): a long pass is still checked now and then
FIRST_RECHECK = 4  # a choice of fewer threads is checked this soon, the gap doubling up to RECHECK: the trials run
# while the workers fill their prefetch queues beside the forward, which can make all the cores look slower than they
# are (a ResNet-18 pass on 2 cores chose 1 thread on its trials and ran 23 of 32 batches there, at half the speed)
DRIFT = 0.5  # on a busy machine a batch's forward time moves by a third from one batch to the next
SETTLE = 8  # batches after a choice before a drift can call it into question
NEAR_TIE = 0.1  # more threads only if predicted more than this much faster
SWITCH = 0.15  # once chosen, another count only if predicted this much faster: a ResNet-18 pass over 10,000
# photos on a busy 2-core machine, switching on any predicted gain, ran 64 of its 313 batches at 1 thread (1.8x slower)
WORKER_NICE = 10  # the decoding workers' niceness when they share cores with the forward's threads


@dataclass
class BatchCost:
    images: int
    decode_seconds: float  # CPU seconds the workers spent decoding and preparing the batch
    forward_seconds: float  # wall seconds of the pass's work on it at `threads`
    threads: int


CPU_WORKERS = 4  # on CPU the forward needs the cores too; the split above decides how many threads it takes
CUDA_WORKERS = 12  # on CUDA the GPU runs the forward, so decoding is the pass's ceiling


def available_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def default_workers(device: torch.device) -> int:
    """Decoding workers when --workers is not given. On a GPU, every core but the one that feeds the device (at
    most CUDA_WORKERS): on an H200 with 16 cores, 4 workers held ResNet-18's pass at 224 px to 252 images/s while
    its bare forward ran at 24,700 (bench/cuda_bench.py)."""
    cores = available_cores()
    if device.type == "cuda":
        return max(1, min(CUDA_WORKERS, cores - 1))
    return min(CPU_WORKERS, cores)


def image_seconds(threads: int, forward: float, decode: float, cores: int) -> float:
    """T(t): predicted wall seconds per image at `threads`, from f(t) = `forward` and d = `decode` per image."""
    return max(forward, (decode + threads * forward) / cores)


class CoreSplit:
    """`threads()` for the next batch; `record(cost)` once it has run; `summary()` for the provenance."""

    def __init__(self, cores: int, workers: int, most: int):
        self.cores, self.workers = max(1, cores), workers
        top = max(1, min(most, self.cores))
        self.candidates = sorted({max(1, min(top, self.cores - workers)), top}) if workers else [top]
        self.queue = [t for _ in range(TRIALS) for t in self.candidates[::-1]] if len(self.candidates) > 1 else []
        self.chosen: int | None = None if self.queue else self.candidates[0]
        self.costs: list[BatchCost] = []  # every batch's, the warm-up first (see timed())
        self.basis: tuple[float, float] | None = None  # (d, f(chosen)) the choice was made on
        self.since = 0
        self.rechecks = 0
        self.prior: dict[int, float] | None = None  # thread count -> seconds per image of the probe's forward

    @classmethod
    def for_device(cls, device: torch.device, workers: int) -> CoreSplit:
        """On CPU, the split measured between the decoding workers and the forward; elsewhere torch's threads as
        they are (the device runs the forward). Never more threads than torch has (OMP_NUM_THREADS,
        torch.set_num_threads)."""
        if device.type != "cpu":
            return cls(torch.get_num_threads(), 0, torch.get_num_threads())
        return cls(available_cores(), workers, torch.get_num_threads())

    @property
    def shares_cores(self) -> bool:
        """The forward may take cores the workers decode on (so the workers should yield to it)."""
        return self.workers > 0 and max(self.candidates) + self.workers > self.cores

    def threads(self) -> int:
        """The count for the next batch: a trial's or a re-check's, else the choice."""
        return self.queue[0] if self.queue else self.chosen

    def at_choice(self) -> bool:
        """The next batch runs at the chosen count: not a trial, not a re-check."""
        return self.chosen is not None and not self.queue

    def settled(self) -> int:
        """The choice, whatever the next batch would have tried (a pass can end in a re-check, or in its trials);
        it changes nothing, so the provenance and the gradient analyses can ask it at any time."""
        if self.chosen is not None:
            return self.chosen
        predicted = self.predicted()
        return self._best(predicted) if predicted else self.threads()

    def record(self, cost: BatchCost) -> None:
        if cost.images <= 0:
            return
        self.costs.append(cost)
        if len(self.costs) == 1 and len(self.candidates) > 1:
            return  # the warm-up (timed())
        if self.queue and self.queue[0] == cost.threads:
            self.queue.pop(0)
        if self.chosen is None:
            if not self.queue or self._early():
                self.queue = []
                self._choose()
            return
        if self.queue:
            return
        if self.basis is not None and cost.threads == self.chosen and len(self.candidates) > 1:
            self.since += 1
            decode, forward = self.basis
            moved = max(abs(self.decode() - decode) / max(decode, 1e-9),
                        abs(self.forward(self.chosen) - forward) / max(forward, 1e-9))
            if self.since >= self.recheck_after() or moved > DRIFT and self.since >= SETTLE:
                self.rechecks += 1
                self.queue = [t for t in self.candidates if t != self.chosen]
                return
        if self.basis is None or cost.threads != self.chosen:
            self._choose()

    def recheck_after(self) -> int:
        """Batches at the chosen count before the other is timed again. For a choice of every core, RECHECK,
        doubling with each check up to LAST_RECHECK: the start-up's error runs one way (the workers filling their
        queues slow the forward most when it takes every core), so such a choice needs no early check, and each
        check costs a batch at the slower count (a 1,000-photo ResNet-18 pass has 32 batches). For fewer threads,
        FIRST_RECHECK, doubling up to RECHECK."""
        if self.chosen == self.candidates[-1]:
            return min(LAST_RECHECK, RECHECK << self.rechecks)
        return min(RECHECK, FIRST_RECHECK << self.rechecks)

    # -- estimates -------------------------------------------------------------------------------------------
    def decode(self) -> float:
        """d: the median of the last 5 batches' decoding CPU-seconds per image (the warm-up's too: only its forward
        pays the set-up)."""
        recent = self.costs[-5:]
        return statistics.median(c.decode_seconds / c.images for c in recent) if recent else 0.0

    def forward(self, threads: int) -> float:
        """f(t): the faster of the last TRIALS batches at `threads`, wall seconds per image."""
        timed = [c.forward_seconds / c.images for c in self.timed() if c.threads == threads][-TRIALS:]
        return min(timed) if timed else float("inf")

    def timed(self) -> list[BatchCost]:
        """The batches whose forward times a count: all but the pass's first, whose forward builds the kernels for
        the batch's shape (a ResNet-18 pass at 224 px: 59 ms an image at 2 threads against 17-19 after it)."""
        return self.costs[1:] if len(self.candidates) > 1 else self.costs

    def predicted(self, *, estimated: bool = False) -> dict[int, float]:
        """T(t) of each timed count; `estimated`: of the others too, where the prior can scale a timed one's f."""
        decode = self.decode()
        forward = {t: self.forward(t) for t in self.candidates if self.forward(t) != float("inf")}
        if estimated and self.prior and forward and len(forward) < len(self.candidates):
            timed = max(forward)  # every core's, the trials' first
            forward |= {t: self.prior[t] * forward[timed] / self.prior[timed] for t in self.candidates
                        if t not in forward}
        return {t: image_seconds(t, f, decode, self.cores) for t, f in forward.items()}

    def _early(self) -> bool:
        predicted = self.predicted(estimated=True)
        if len(predicted) < len(self.candidates):
            return False
        best, worst = min(predicted.values()), max(predicted.values())
        fastest = min(predicted, key=predicted.get)
        # only a timed count is chosen early: one the prior favours is timed first
        return best < worst * (1 - EARLY) and self.forward(fastest) != float("inf")

    def _choose(self) -> None:
        predicted = self.predicted()
        if not predicted:
            return
        best = min(predicted.values())
        current = predicted.get(self.chosen) if self.chosen is not None else None
        if current is None or best < current * (1 - SWITCH):
            self.chosen = self._best(predicted)
        self.basis = (self.decode(), self.forward(self.chosen))
        self.since = 0

    @staticmethod
    def _best(predicted: dict[int, float]) -> int:
        """The fewest threads within NEAR_TIE of the fastest predicted (fewer threads leave the workers cores)."""
        best = min(predicted.values())
        return min(t for t, seconds in predicted.items() if seconds <= best * (1 + NEAR_TIE))

    def summary(self) -> dict:
        batches: dict[str, int] = {}
        for cost in self.costs:
            batches[str(cost.threads)] = batches.get(str(cost.threads), 0) + 1
        return {"cores": self.cores, "workers": self.workers, "candidates": self.candidates,
                "chosen": self.settled(), "batches_at": batches,
                "decode_ms_per_image": round(self.decode() * 1e3, 3),
                "forward_ms_per_image": {str(t): round(self.forward(t) * 1e3, 3) for t in self.candidates
                                         if self.forward(t) != float("inf")},
                "rechecks": self.rechecks,
                "prior_ms_per_image": {str(t): round(s * 1e3, 3) for t, s in (self.prior or {}).items()}}
