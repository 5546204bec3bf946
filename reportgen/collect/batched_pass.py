"""ONE batched pass over the data: decode each image once and keep what every analysis needs (`Collected`).

Nothing downstream re-reads the images, except analyses that need gradients, which get a chosen few from the
inputs kept in the pass (`KeptInputs`) or, past its memory budget, decode them again (`input_loader`). The
first batch decides how the model runs (`ForwardForm`: channels_last, --amp's precision) and the first batches
how the cores are split between decoding and the forward (`CoreSplit`).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from contextlib import ExitStack, contextmanager
from functools import partial

import numpy as np
import torch
from torch.utils.data import DataLoader

from reportgen.collect.collected import Collected
from reportgen.collect.core_split import WORKER_NICE, BatchCost, CoreSplit
from reportgen.collect.dataset import ImageDataset, Preprocess
from reportgen.collect.distributed import World, merge_ranks, shard_batches
from reportgen.collect.forward_chunks import ForwardChunks
from reportgen.collect.kept_inputs import KeptInputs
from reportgen.compute.image_properties import PROPERTY_NAMES
from reportgen.data.decode import DecodeError
from reportgen.data.source import UNLABELLED, DataSource, Skipped
from reportgen.errors import ReportgenError
from reportgen.model.adapter import ModelAdapter
from reportgen.model.input_spec import InputSpec
from reportgen.runtime.collector import freeze_now
from reportgen.runtime.deferred_interrupt import deferred_sigint
from reportgen.runtime.forward_form import PROBE_IMAGES, ForwardForm, torch_threads
from reportgen.runtime.progress import progress

# Batches each decoding worker may decode ahead: PREFETCH_BYTES of model inputs over all workers, within
# PREFETCH_BATCHES. On CPU the pass starts with ~1.1-1.5 s of library imports on the main thread
# (runtime/warm_imports.py) and the workers decode ahead meanwhile, on the core it leaves; what they decode then
# is not decoded later while the forward waits. The budget covers that window: ~450 photos at ~3.3 ms each, 68 MB
# of 224-px inputs. Measured (`reportgen` alternating, the pass less its forward): 28-px digits at 10,000, 4
# batches of 128 ran out of room after 0.4 s, 16 took the pass from 4.12-4.14 s to 3.61-3.72; ResNet-18 over
# 1,000 photos, 8 batches of 32 instead of 4, 3.56-3.84 s against 3.98-4.08. The batches wait in shared memory
# (/dev/shm), which a container may hold to 64 MB: at most SHM_SHARE of its free space is asked for.
PREFETCH_BYTES = 80 * 2 ** 20
PREFETCH_BATCHES = (2, 16)  # torch's own default, the least; beyond 16 nothing was faster
SHM_SHARE = 0.5
UNSIZED_BATCH_BYTES = 4 * 2 ** 20  # a guess where the inputs' size is not known before the pass (~ a photo batch)
SHARED_MEMORY = "/dev/shm"


def shared_memory_free(path: str = SHARED_MEMORY) -> int | None:
    """Bytes free where the workers' batches wait, or None where that is not a place this system has."""
    try:
        stats = os.statvfs(path)
    except (OSError, AttributeError):  # no /dev/shm (macOS) or no statvfs (Windows)
        return None
    return stats.f_bavail * stats.f_frsize


def prefetch_batches(spec: InputSpec, batch_size: int, workers: int, shm_free: int | None = None) -> int:
    """Each worker's prefetch_factor: PREFETCH_BYTES of inputs over all workers' queues, or SHM_SHARE of
    `shm_free` where that is less, within PREFETCH_BATCHES (a raw picture is a byte a value, a user's transform's
    tensor 4); 4, or fewer for a small /dev/shm, where the size is not known yet."""
    low, high = PREFETCH_BATCHES
    budget = PREFETCH_BYTES if shm_free is None else min(PREFETCH_BYTES, int(shm_free * SHM_SHARE))
    if spec.size is None:
        return max(low, min(4, budget // (UNSIZED_BATCH_BYTES * max(1, workers))))
    batch_bytes = batch_size * spec.channels * spec.size[0] * spec.size[1] * (1 if spec.transform is None else 4)
    return int(min(high, max(low, budget // max(1, batch_bytes * workers))))


def _init_worker(_worker_id: int, nice: int = 0) -> None:
    # Ctrl-C is the main process's to handle (one message, no report); workers would each print a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if nice:  # the forward's threads may share the workers' cores: decode below them, not stall their barriers
        try:
            os.nice(nice)
        except OSError:
            pass


@contextmanager
def started(loader: DataLoader):
    """iter(loader), with its workers stopped on the way out, whatever ends the pass.

    Left to the iterator's garbage collection, the workers outlived a Ctrl-C: the console command then leaves
    with os._exit, and a worker caught sending a batch blocked for ever at its own exit, joining its queue's
    feeder thread, and kept the caller's stdout and stderr open."""
    batches = None
    if loader.num_workers:
        freeze_now()  # the heap the workers share is not walked by the collector, so not copied (collector.py)
    try:
        with deferred_sigint():
            batches = iter(loader)  # forks the workers
        yield batches
    finally:
        shutdown = getattr(batches, "_shutdown_workers", None)  # torch's own clean-up; it runs once
        if shutdown is not None:
            shutdown()


@contextmanager
def paused(gate):
    """The decoding workers wait (before their next image) while the body runs; `gate`: their Event, or None.

    The pass holds them so while its forward runs on every core (core_split.py): a worker that takes a core from
    one of the forward's threads stalls the others at their next barrier, so sharing the cores is slower than
    taking turns (ResNet-18 at 224 px on 2 cores: the forward 16-17 ms an image beside the niced workers, 13.7
    with them waiting, and the pass 0.77x its bare forward against 0.83x)."""
    if gate is None:
        yield
        return
    gate.clear()
    try:
        yield
    finally:
        gate.set()


def _collate(batch, prepare: Preprocess):
    """(images, raw, indices, extras, failed, the CPU seconds its items took to decode and prepare); raw: the
    images are (B, H, W, C) uint8 pixels, for Preprocess.model_batch."""
    seconds = sum(item[3] for item in batch)
    good = [(i, t, extra) for i, t, extra, _s in batch if t is not None]
    failed = [(i, reason) for i, t, reason, _s in batch if t is None]
    if not good:
        return None, False, torch.empty(0, dtype=torch.long), [], failed, seconds
    indices = torch.tensor([i for i, _, _ in good])
    images, raw = prepare.stacked([t for _, t, _ in good])
    return images, raw, indices, [extra for _, _, extra in good], failed, seconds


def first_image_size(source: DataSource, channels: int) -> tuple[int, int]:
    """The model fixes no size: use the first decodable image's (H, W) for every sample."""
    for sample in source.samples[:1000]:
        try:
            image = source.reader.read(sample, channels, None).image
        except (DecodeError, OSError):
            continue
        return tuple(image.shape[-2:]) if isinstance(image, torch.Tensor) else (image.height, image.width)
    raise ReportgenError(f"{source.name}: none of the first {min(1000, len(source.samples))} images could be decoded")


UNKNOWN = -2  # a label the reader gives during the pass


def label_name(source: DataSource, label) -> str | None:
    return source.classes[label] if label is not None and 0 <= label < len(source.classes) else None


def _inputs_sized_by(spec: InputSpec, source: DataSource) -> bool:
    """Every model input will be `spec.size`: the pass prepares each image itself. Not so with a user's transform,
    a size taken from the images, or data in memory (no root), whose items may be tensors its own transform made."""
    return spec.transform is None and spec.size is not None and source.root is not None


def collect_outputs(tap: ModelAdapter, source: DataSource, spec: InputSpec, *, device: torch.device,
                    batch_size: int = 128, workers: int, quiet: bool = False,
                    world: World | None = None, amp: bool = False, after_fork=None, form: ForwardForm | None = None,
                    keep: KeptInputs | None = None, split: CoreSplit | None = None) -> Collected:
    """Run the model once over every sample; decode failures become `skipped` entries, never lost rows.

    Under torchrun (`world`), this rank runs its share of the batches and every rank returns all rows.
    `workers`: decoding processes, decided by the caller (core_split.default_workers for the device is the default).
    `after_fork()` is called once the loader's workers have started (work that must not run during a fork).
    `form`: how the model runs, decided here if it isn't yet (on CPU before the workers start, else on the first
    batch; without one, the pass makes its own and hands the model back as it was); `keep`: where the inputs the
    gradient analyses may ask for are kept;
    `split`: the cores' split (made here by default; on CPU from the first batches' timings)."""
    num = len(source.samples)
    num_classes = len(source.classes) or None  # None: the model's output count decides (unnamed classes)
    split = split or CoreSplit.for_device(device, workers)
    chunks: ForwardChunks | None = None  # made once the form is decided (its FLOPs say if chunks are worth timing)
    # the layer the embedding is read from keeps its own output (not folded with a BatchNorm after it)
    tapped = {tap.embedding_layer} if getattr(tap, "embedding_layer", None) else set()
    gate = multiprocessing.Event() if workers and split.shares_cores else None  # see paused()
    if gate is not None:
        gate.set()
    dataset = ImageDataset(source, spec, gate)
    loader = DataLoader(dataset, batch_sampler=shard_batches(num, batch_size, world), num_workers=workers,
                        collate_fn=partial(_collate, prepare=dataset.prepare), pin_memory=device.type == "cuda",
                        persistent_workers=False,
                        prefetch_factor=prefetch_batches(spec, batch_size, workers, shared_memory_free())
                        if workers else None,
                        worker_init_fn=partial(_init_worker, nice=WORKER_NICE if split.shares_cores else 0)
                        if workers else None)
    labels_all = np.array([UNKNOWN if s.label is None else s.label for s in source.samples], dtype=np.int64)
    ok = np.zeros(num, dtype=bool)
    logits_all = probs_all = loss_all = emb_all = properties = None
    thumbs: list[bytes | None] = [None] * num
    pixels: np.ndarray | None = None
    hashes = np.zeros(num, np.uint64)  # exact pixel hash of each decoded picture (compute/image_hashes.py)
    skipped = list(source.skipped)
    bar = progress(total=num, desc="collect", unit="img", quiet=quiet)
    with ExitStack() as stack:
        if form is None:  # a form of its own, handed back at the end; torchrun's ranks must agree, so not timed
            form = stack.enter_context(ForwardForm(getattr(tap, "module", None), device, amp=amp, quiet=quiet,
                                                   measure=world is None))
        if not form.decided and device.type == "cpu" and _inputs_sized_by(spec, source):
            # timed before the workers start: beside them filling their queues, a 1,000-photo ResNet-18 pass took
            # 2.4-3.4 s to time its forms (0.6 s on quiet cores) and once measured channels_last at half the plain
            # form's speed. On seeded noise in the input's shape: a forward's time does not depend on the pixels,
            # and no image is read twice.
            probe = torch.randn(PROBE_IMAGES, spec.channels, *spec.size, generator=torch.Generator().manual_seed(0))
            top = max(split.candidates)
            with torch_threads(top):
                form.decide(probe)
            if form.probe_seconds is not None and len(split.candidates) > 1:  # the split's prior (core_split.py)
                split.prior = {top: form.probe_seconds} | {t: form.seconds_at(t) for t in split.candidates
                                                           if t != top}
        batches = stack.enter_context(started(loader))
        stack.enter_context(torch.inference_mode())
        if after_fork is not None:
            after_fork()
        for inputs, raw, indices, extras, failed, decode_seconds in batches:
            started_at = time.perf_counter()
            for i, reason in failed:
                sample = source.samples[i]
                skipped.append(Skipped(source.display(sample), reason, source.split_names[sample.split],
                                       label_name(source, sample.label)))
            bar.update(len(indices) + len(failed))
            if inputs is None:
                continue
            idx = indices.numpy()
            labels_all[idx] = [UNKNOWN if e[3] is None else e[3] for e in extras]
            if not raw and inputs.shape[1] != spec.channels:  # only a user's transform can make this: say so
                raise ReportgenError(f"the data's own transform makes {inputs.shape[1]}-channel tensors but the model "
                                     f"takes {spec.channels}; add transforms.Grayscale("
                                     f"{spec.channels}) to it (or pass images without a transform)")
            threads = split.threads()
            if chunks is None and form.decided:
                chunks = ForwardChunks(batch_size, measure=device.type == "cpu" and world is None and form.worth_timing)
            timing = split.at_choice()
            chunk = chunks.size(timing) if chunks is not None else len(inputs)
            with torch_threads(threads):
                if not form.decided:
                    form.decide(dataset.prepare.model_batch(inputs, raw, device))
                with paused(gate if threads >= split.cores else None):
                    x = form.inputs(dataset.prepare.model_batch(inputs, raw, device, form.layout))
                    try:
                        called = time.perf_counter()
                        with form.autocast(), form.folded(keep=tapped):
                            logits, emb = chunks.forward(tap, x, chunk) if chunks is not None else tap(x)
                        if chunks is not None:
                            chunks.record(chunk, len(x), time.perf_counter() - called, timing)
                    except ReportgenError:
                        raise  # already one clear line (e.g. an output that holds no logits)
                    except Exception as exc:  # any failure inside user code becomes one clear line
                        raise ReportgenError(f"the model raised {type(exc).__name__} in forward on a batch of shape "
                                             f"{tuple(x.shape)}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
                                             "; check --image-size, --mean/--std and the channel count") from exc
                if num_classes is None and logits.ndim == 2:
                    num_classes = int(logits.shape[1])
                if logits.ndim != 2 or logits.shape[1] != num_classes:
                    raise ReportgenError(f"the model outputs {tuple(logits.shape[1:])} values per image but the data "
                                         f"has {num_classes} classes ({', '.join(source.classes[:5])}...); pass "
                                         "--classes in the model's output order, or check the model")
                batch_labels = labels_all[idx]
                outside = (batch_labels >= num_classes) | (batch_labels < UNLABELLED)
                if outside.any():
                    raise ReportgenError(f"{source.display(source.samples[idx[outside][0]])}: label "
                                         f"{int(batch_labels[outside][0])} but the model has {num_classes} outputs; "
                                         "check the labels, or pass the model that was trained on them")
                logits = logits.float()
                y = torch.as_tensor(np.maximum(batch_labels, 0), device=logits.device)
                loss = torch.nn.functional.cross_entropy(logits, y, reduction="none")
                loss[torch.as_tensor(batch_labels < 0, device=loss.device)] = float("nan")  # no label, no loss
                if logits_all is None:
                    logits_all = np.zeros((num, num_classes), np.float32)
                    probs_all = np.zeros((num, num_classes), np.float32)
                    loss_all = np.zeros(num, np.float32)
                    emb_all = np.zeros((num, emb.shape[1]), np.float32)
                    pixels = np.zeros((num, extras[0][1].size), np.uint8)
                    properties = np.zeros((num, len(PROPERTY_NAMES)), np.float32)
                logits_all[idx] = logits.cpu().numpy()
                probs_all[idx] = torch.softmax(logits, dim=1).cpu().numpy()
                loss_all[idx] = loss.cpu().numpy()
                emb_all[idx] = emb.float().cpu().numpy()
                pixels[idx] = np.stack([e[1] for e in extras])
                properties[idx] = np.stack([e[2] for e in extras])
                hashes[idx] = [e[4] for e in extras]
                for i, extra in zip(idx, extras):
                    thumbs[i] = extra[0]
                ok[idx] = True
                if keep is not None:
                    keep.offer_batch(idx, inputs, source, labels_all[idx], logits_all[idx], probs_all[idx],
                                     loss_all[idx], raw=raw)
            split.record(BatchCost(len(idx), decode_seconds, time.perf_counter() - started_at, threads))
    bar.close()
    # the gradient analyses run as the pass's forward did: at its choice, not at a re-check the pass ended in
    form.threads = split.settled()
    if world is not None:
        ok, skipped, merged = merge_ranks(ok, skipped, [logits_all, probs_all, loss_all, emb_all, pixels, properties,
                                                        labels_all, hashes], thumbs)
        logits_all, probs_all, loss_all, emb_all, pixels, properties, labels_all, hashes = merged
    if not ok.any():
        raise ReportgenError(f"{source.name}: none of the {num} images could be decoded, e.g. "
                             f"{skipped[-1].path}: {skipped[-1].reason}")
    rows = np.flatnonzero(ok)
    logits_kept = logits_all[rows]
    nonfinite = ~np.isfinite(logits_kept).all(axis=1)
    return Collected(
        classes=list(source.classes) or [str(k) for k in range(num_classes)],
        split_names=list(source.split_names),
        paths=[source.display(source.samples[i]) for i in rows],
        split=np.array([source.samples[i].split for i in rows], dtype=np.int64),
        labels=labels_all[rows],
        logits=logits_kept,
        # No valid distribution exists for NaN/inf logits: zeros say "no confidence in any class".
        probs=np.where(nonfinite[:, None], 0.0, probs_all[rows]).astype(np.float32),
        # argmax of a NaN row is meaningless; those rows are flagged by `nonfinite` and never count as correct
        preds=np.nan_to_num(logits_kept, nan=-np.inf).argmax(axis=1),
        loss=loss_all[rows],
        # Cleaned once here so kNN, projections and every analysis can trust them (bad rows are `nonfinite`).
        embeddings=np.nan_to_num(emb_all[rows], nan=0.0, posinf=0.0, neginf=0.0),
        thumbnails=[thumbs[i] for i in rows],
        pixels=pixels[rows],
        properties=properties[rows],
        pixel_hash=hashes[rows],
        skipped=skipped,
        embedding_layer=tap.embedding_layer,
        embedding_note=tap.embedding_note,
        forward_threads=split.settled(),
        core_split=split.summary() | {"forward_chunk": (chunks or ForwardChunks(batch_size, measure=False)).summary()}
        if device.type == "cpu" else None,
        source_index=rows,
        nonfinite=nonfinite,
        empty_classes=list(source.empty_classes),
        labelled=source.labelled,
    )

