"""Scale-out of the collect pass with torch.distributed, started by torchrun:

    torchrun --nproc_per_node=N -m reportgen MODEL DATA -o report.html

Each rank decodes and runs its share of the batches; rank 0 gathers every rank's rows and alone computes the
analyses and writes the report. Ranks take whole batches of the single-process batch partition (batch k goes to
rank k mod N), so every sample is computed in the same batch as without torchrun and the numbers are identical;
rows are still de-duplicated by sample index on gathering, so no sample can be lost or counted twice.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import torch
import torch.distributed as dist

from reportgen.errors import ReportgenError


@dataclass
class World:
    rank: int
    size: int

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def launched_world() -> World | None:
    """The torchrun world, initialised once (gloo on CPU, nccl on CUDA); None outside torchrun or with 1 rank."""
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if size < 2:
        return None
    if not dist.is_initialized():
        backend = "nccl" if torch.cuda.is_available() and dist.is_nccl_available() else "gloo"
        dist.init_process_group(backend=backend)
    return World(dist.get_rank(), dist.get_world_size())


def rank_device(device: torch.device) -> torch.device:
    """One GPU per rank: cuda:LOCAL_RANK."""
    if device.type == "cuda" and "LOCAL_RANK" in os.environ:
        index = int(os.environ["LOCAL_RANK"])
        if index >= torch.cuda.device_count():
            raise ReportgenError(f"torchrun started more processes per node than this machine has GPUs "
                                 f"({torch.cuda.device_count()}); use --nproc_per_node={torch.cuda.device_count()} "
                                 "or --device cpu")
        torch.cuda.set_device(index)
        return torch.device("cuda", index)
    return device


def shard_batches(num: int, batch_size: int, world: World | None) -> list[list[int]]:
    """The single-process batches [0..B), [B..2B), ... of which this rank takes every size-th."""
    batches = [list(range(start, min(start + batch_size, num))) for start in range(0, num, batch_size)]
    return batches if world is None else batches[world.rank::world.size]


def gather_objects(payload) -> list:
    """Every rank's payload, in rank order, on every rank."""
    gathered = [None] * dist.get_world_size()
    dist.all_gather_object(gathered, payload)
    return gathered


def merge_ranks(ok, skipped, arrays, thumbs):
    """Every rank's rows merged into one set of arrays, keyed by sample index (a row seen twice is kept once).

    arrays: [logits, probs, loss, embeddings, pixels, properties, labels, pixel hashes], each (N, ...); the
    per-batch ones are None where this rank decoded nothing."""
    rows = np.flatnonzero(ok)
    mine = {"rows": rows, "skipped": skipped, "thumbs": [thumbs[i] for i in rows],
            "arrays": None if arrays[0] is None else [a[rows] for a in arrays]}
    merged_skipped, seen = [], set()
    for part in gather_objects(mine):
        for entry in part["skipped"]:
            if entry.path not in seen:  # the data source's own skips are on every rank
                seen.add(entry.path)
                merged_skipped.append(entry)
        if part["arrays"] is None:
            continue
        if arrays[0] is None:  # this rank had no batch: take the shapes from the first rank that had one
            arrays = [np.zeros((len(ok), *a.shape[1:]), a.dtype) for a in part["arrays"]]
        new = ~ok[part["rows"]]
        for target, values in zip(arrays, part["arrays"]):
            target[part["rows"][new]] = values[new]
        for i, thumb in zip(part["rows"][new], [t for t, keep in zip(part["thumbs"], new) if keep]):
            thumbs[i] = thumb
        ok[part["rows"][new]] = True
    return ok, merged_skipped, arrays


