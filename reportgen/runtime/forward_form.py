"""How the model runs on this machine: its memory format (channels_last where that is faster), its precision
(`--amp`: bfloat16 on a CPU that has it, float16 on CUDA) and its eval-mode BatchNorms folded into the convolutions
before them (folded_batchnorm.py; kept where the folded logits agree, for models timed at all). Decided once per
model by timing a few forwards of the first batch, then used by the pass and by the gradient analyses alike.

channels_last is tried only on convolutional models (two or more 4-D weights: a ViT's one patch embedding gains
nothing) and kept only if it is faster by FASTER_BY and gives the plain form's logits; bfloat16 is kept only if
it is faster than float32 on this CPU, and the user is told when it is not. A model whose forward costs less than
MEASURE_FROM per image (counted, not timed: torch's FlopCounterMode) is not timed at all: beside its decoding a
form can't matter, and a choice that no clock makes keeps its numbers the same from run to run on a busy machine
(a 2-layer CNN on 8 16-px images took 0.1 ms alone and 75 ms beside two other busy processes). On ResNet-18 at 224 px on a 2-core AVX-512 CPU, channels_last ran
1.3-1.8x the plain forward and bfloat16 on top of it 2-3x (bench/bench_real_models.py).

As a context manager it hands the model's weights back in the memory format they came in.
"""

from __future__ import annotations

import math
import time
from contextlib import contextmanager, nullcontext

import torch

from reportgen.model.outputs import as_logits
from reportgen.runtime.folded_batchnorm import FoldedBatchNorm
from reportgen.runtime.progress import say

CONTIGUOUS, CHANNELS_LAST = "contiguous", "channels_last"
FORMATS = {CONTIGUOUS: torch.contiguous_format, CHANNELS_LAST: torch.channels_last}
FLOAT32 = "float32"
DTYPES = {FLOAT32: torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
FASTER_BY = 0.05  # a form other than the plain one must save this share of the time: noise is no reason to change
MEASURE_FROM = 20e6  # FLOPs per image of the plain forward below which no form is timed
PROBE_IMAGES = 4  # on CPU, the most images of noise in the input's shape timed before the decoding workers start
PROBE_FLOPS = 6e9  # ... and fewer (at least 2) where as few images hold this much work: each form runs 3 times (a
# warm-up, 2 timed), the fold is checked once and the split's prior times one forward at 1 thread. On ResNet-18 at
# 224 px (3.6 GFLOPs an image) on 2 cores, 2 images instead of 4 took that from 0.61-0.62 s to 0.41-0.43 s of the
# pass, and still timed channels_last 1.18x the plain form (1.27-1.31x on 4); a light model's few milliseconds
# keep 4 images, for a time the clock can still tell apart.
REPEATS = 2
CLOSE_CALL = 0.15  # the two fastest forms this close after REPEATS rounds: as many rounds again. One round of
# EfficientNet-B0's 4-image probe timed channels_last 1.05x the plain form and kept the plain one, which then ran
# 11.7 ms an image in the pass against 8.4 in channels_last; on quiet cores the probe times it 1.22-1.27x.
# On a GPU a 4-image forward is mostly launch overhead (on an H200, float16 timed at 0.95x float32 on 4 images of
# ResNet-50), so there the whole first batch is timed, more often: each forward takes milliseconds.
CUDA_REPEATS = 5


@contextmanager
def torch_threads(count: int | None):
    """torch's intra-op threads set to `count` within the block (None: as they are)."""
    previous = torch.get_num_threads()
    if count:
        torch.set_num_threads(count)
    try:
        yield
    finally:
        if count:
            torch.set_num_threads(previous)


def cpu_has_bfloat16() -> bool:
    """Native bfloat16 (AVX-512 BF16 or AMX) for oneDNN; without it autocast emulates it, slower than float32."""
    try:
        return bool(torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def forward_flops(module, image: torch.Tensor) -> int:
    """FLOPs of one forward of `image` (1, C, H, W), as torch counts them (convolutions and matrix products)."""
    from torch.utils.flop_counter import FlopCounterMode

    with torch.inference_mode(), FlopCounterMode(display=False) as counter:
        module(image)
    return int(counter.get_total_flops())


def is_convolutional(module: torch.nn.Module) -> bool:
    return sum(p.dim() == 4 for p in module.parameters()) >= 2


def probe_images(flops: int) -> int:
    """Images of the CPU probe for a forward of `flops` an image: PROBE_FLOPS of work, within 2 and PROBE_IMAGES."""
    return int(min(PROBE_IMAGES, max(2, math.ceil(PROBE_FLOPS / max(1, flops)))))


def close_call(seconds: dict[tuple[str, str], list[float]]) -> bool:
    """The two fastest forms' best times within CLOSE_CALL of each other: a choice that noise could swing."""
    best = sorted(min(s) for s in seconds.values() if s)
    return len(best) > 1 and best[1] <= best[0] * (1 + CLOSE_CALL)


def choose_form(seconds: dict[tuple[str, str], float], *, low: str | None) -> tuple[str, str, str | None]:
    """(memory format, precision, a note for the user or None) from each timed form's seconds per forward.

    Within a precision, channels_last wins only if FASTER_BY faster than contiguous. `low` is the reduced precision
    asked for (--amp), used unless its best form is slower than float32's best; the note then says so."""
    def best(precision: str) -> tuple[str, float] | None:
        timed = {fmt: s for (fmt, p), s in seconds.items() if p == precision}
        if not timed:
            return None
        plain = timed.get(CONTIGUOUS)
        fast = timed.get(CHANNELS_LAST)
        if plain is None or fast is not None and fast < plain * (1 - FASTER_BY):
            return CHANNELS_LAST, fast
        return CONTIGUOUS, plain

    full = best(FLOAT32)
    reduced = best(low) if low else None
    if reduced is None or full is None:
        chosen = reduced or full
        return chosen[0], low if reduced else FLOAT32, None
    if reduced[1] < full[1]:
        return reduced[0], low, None
    return full[0], FLOAT32, (f"--amp: {low} ran at {full[1] / reduced[1]:.2f}x float32's speed on this machine, "
                              "so the pass runs in float32")


class ForwardForm:
    """The chosen memory format and precision for one model; `decide(batch)` times the candidates once."""

    def __init__(self, module: torch.nn.Module | None, device: torch.device, *, amp: bool = False, quiet: bool = False,
                 measure: bool = True):
        self.module, self.device, self.amp, self.quiet, self.measure = module, device, amp, quiet, measure
        self.memory_format, self.precision = CONTIGUOUS, FLOAT32
        self.decided = False
        self.threads: int | None = None  # torch's threads for the gradient work: the pass's forward's, once known
        self.images_per_second: dict[str, float] = {}  # each form timed, for the provenance
        self.flops: int | None = None  # per image, of the plain forward
        self.seconds = 0.0  # spent timing the forms
        self.probe_seconds: float | None = None  # the chosen form's fastest, per image of the probe, where timed
        self.note: str | None = None
        self.fold: FoldedBatchNorm | None = None  # BatchNorms folded into their convs, where their logits agree
        self.probe: torch.Tensor | None = None  # the inputs decide() timed
        self._restore: list[tuple[torch.Tensor, torch.memory_format]] = []

    # -- use ---------------------------------------------------------------------------------------------------
    @property
    def worth_timing(self) -> bool:
        """A forward large enough for its speed to matter beside decoding (MEASURE_FROM), as far as it is known."""
        return self.flops is not None and self.flops >= MEASURE_FROM

    @property
    def layout(self) -> torch.memory_format:
        """The chosen memory format, as torch names it."""
        return FORMATS[self.memory_format]

    def inputs(self, images: torch.Tensor) -> torch.Tensor:
        """`images` on the device (non-blocking from pinned memory) in the chosen memory format."""
        x = images.to(self.device, non_blocking=True)
        return x.contiguous(memory_format=self.layout) if x.dim() == 4 else x

    def folded(self, keep: frozenset[str] | set[str] = frozenset()):
        """Within the block the model runs with its BatchNorms folded (folded_batchnorm.py), except next to the
        layers named in `keep` (those whose outputs a caller reads)."""
        return self.fold.applied(keep) if self.fold else nullcontext()

    def autocast(self):
        if self.precision == FLOAT32:
            return nullcontext()
        return torch.autocast(self.device.type, dtype=DTYPES[self.precision])

    def provenance(self) -> dict:
        return {"memory_format": self.memory_format, "precision": self.precision,
                "batchnorms_folded": len(self.fold) if self.fold else 0, "flops_per_image": self.flops,
                "images_per_second": self.images_per_second, "seconds": self.seconds, "note": self.note}

    # -- choice ------------------------------------------------------------------------------------------------
    def reduced_precision(self) -> str | None:
        if not self.amp:
            return None
        if self.device.type == "cuda":
            return "float16"
        if self.device.type == "cpu" and cpu_has_bfloat16():
            return "bfloat16"
        self.note = ("--amp: this CPU has no native bfloat16 (AVX-512 BF16 or AMX), so the pass runs in float32"
                     if self.device.type == "cpu" else f"--amp: not supported on {self.device.type}; float32 it is")
        return None

    def decide(self, batch: torch.Tensor) -> None:
        """Time the candidate forms on `batch` (the model's input, on the device: on CPU the pass's noise probe, of
        which up to PROBE_IMAGES images, fewer for a heavy model (probe_images); on CUDA its whole first batch)."""
        self.decided = True
        low = self.reduced_precision()
        if self.module is None or not self.measure:  # nothing to time (a bare callable), or not to be timed
            self.precision = low or FLOAT32
            if self.note:
                say(self.note, quiet=self.quiet)
            return
        probe = batch if self.device.type == "cuda" else batch[:PROBE_IMAGES]
        candidates = [(CONTIGUOUS, FLOAT32)]
        if probe.dim() == 4 and is_convolutional(self.module):
            candidates.append((CHANNELS_LAST, FLOAT32))
        if low:
            candidates += [(fmt, low) for fmt, _ in list(candidates)]
        started = time.perf_counter()
        try:
            self.flops = forward_flops(self.module, probe[:1])
            if self.device.type != "cuda":
                probe = probe[:probe_images(self.flops)]
            with FoldedBatchNorm.watching(self.module) as fold:  # the conv -> BN pairs it runs
                reference, _ = self._run(probe, CONTIGUOUS, FLOAT32)  # the warm-up: oneDNN builds kernels on a first call
        except Exception:  # noqa: BLE001 - the pass's own forward raises it again, as one clear line
            return
        self.probe = probe
        if self.flops < MEASURE_FROM and not low:
            candidates = candidates[:1]
        if len(candidates) > 1:
            for fmt, precision in candidates[1:]:  # each form's warm-up, and its logits checked
                try:
                    logits, _ = self._run(probe, fmt, precision)
                except Exception:  # noqa: BLE001 - a model that can't run in this form runs in another
                    logits = None
                if logits is None or precision == FLOAT32 and not agrees(logits, reference):
                    candidates.remove((fmt, precision))
            seconds = {form: [] for form in candidates}
            repeats = CUDA_REPEATS if self.device.type == "cuda" else REPEATS
            for repeat in range(2 * repeats):
                if repeat == repeats and not close_call(seconds):
                    break
                for form in candidates if repeat % 2 == 0 else candidates[::-1]:
                    seconds[form].append(self._run(probe, *form)[1])
            # the fastest of each: other work on the machine only ever slows a forward down
            fastest = {form: min(s) for form, s in seconds.items()}
            self.images_per_second = {f"{fmt} {p}": round(len(probe) / s, 1) for (fmt, p), s in fastest.items()}
            fmt, precision, note = choose_form(fastest, low=low)
            self.memory_format, self.precision = fmt, precision
            self.probe_seconds = fastest[(fmt, precision)] / len(probe)
            self.note = note or self.note
            self.seconds = round(time.perf_counter() - started, 3)
        elif low:
            self.precision = low
        self._apply(self.memory_format)
        if len(fold) and self.worth_timing:
            self.fold = self._checked(fold.prepare(), probe, reference)
        if self.note:
            say(self.note, quiet=self.quiet)

    def _checked(self, fold: FoldedBatchNorm, probe: torch.Tensor, reference: torch.Tensor) -> FoldedBatchNorm | None:
        """`fold` if the model gives the plain forward's logits with it (in the chosen form, float32), else None:
        what its hooks could not see (a conv's output read twice, an in-place op between) changes the logits."""
        try:
            with fold.applied():
                logits, _ = self._run(probe, self.memory_format, FLOAT32)
        except Exception:  # noqa: BLE001 - the model runs unfolded
            return None
        return fold if agrees(logits, reference) else None

    def seconds_at(self, threads: int) -> float:
        """The chosen form's forward on decide()'s probe at `threads` of torch's, seconds per image (one run: a first
        call at a thread count on the same shape costs no more than the next, 25.4-26.1 ms an image for ResNet-18)."""
        with torch_threads(threads):
            return self._run(self.probe, self.memory_format, self.precision)[1] / len(self.probe)

    def _run(self, probe: torch.Tensor, fmt: str, precision: str) -> tuple[torch.Tensor, float]:
        self._apply(fmt)
        x = probe.contiguous(memory_format=FORMATS[fmt])
        context = nullcontext() if precision == FLOAT32 else torch.autocast(self.device.type, dtype=DTYPES[precision])
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        start = time.perf_counter()
        with torch.inference_mode(), context:
            logits = as_logits(self.module(x)).float()
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        return logits, time.perf_counter() - start

    def _apply(self, fmt: str) -> None:
        """The module's 4-D weights in `fmt`; each one's own format remembered (once) to be handed back."""
        target = FORMATS[fmt]
        remembered = {id(t) for t, _ in self._restore}
        if self.module is None:
            return
        # outside inference mode (the pass runs in it): weights made there could never take part in a backward
        with torch.inference_mode(False), torch.no_grad():
            for tensor in (*self.module.parameters(), *self.module.buffers()):
                if tensor.dim() != 4 or tensor.is_contiguous(memory_format=target):
                    continue
                if id(tensor) not in remembered:
                    own = torch.channels_last if tensor.is_contiguous(memory_format=torch.channels_last) \
                        else torch.contiguous_format
                    self._restore.append((tensor, own))
                tensor.data = tensor.data.contiguous(memory_format=target)

    def restore(self) -> None:
        with torch.inference_mode(False), torch.no_grad():
            for tensor, own in self._restore:
                tensor.data = tensor.data.contiguous(memory_format=own)
        self._restore = []

    def __enter__(self):
        return self

    def __exit__(self, *_exc) -> None:
        self.restore()


def agrees(logits: torch.Tensor, reference: torch.Tensor) -> bool:
    """The same logits up to float32 reordering (channels_last sums a convolution in another order)."""
    if logits.shape != reference.shape:
        return False
    scale = float(reference.abs().max()) if reference.numel() else 0.0
    return bool(torch.allclose(logits, reference, rtol=1e-3, atol=1e-4 * max(1.0, scale), equal_nan=True))
