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
