"""`--batch-size auto`: 128 on CPU (larger batches gain nothing there); on CUDA, the batch that fills about half
of the card's free memory, measured with one probe forward, so a big GPU is not starved by a laptop default."""

from __future__ import annotations

import torch

CPU_BATCH = 128
GPU_SHARE = 0.5
GPU_MAX_BATCH = 4096
PROBE_BATCH = 32


def choose_batch_size(tap, spec, device: torch.device, *, amp: bool = False) -> int:
    if device.type != "cuda":
        return CPU_BATCH
    probe = torch.zeros((PROBE_BATCH, spec.channels, *spec.size), device=device)
    torch.cuda.synchronize(device)
    torch.cuda.reset_peak_memory_stats(device)
    before = torch.cuda.memory_allocated(device)
    with torch.inference_mode(), torch.autocast("cuda", dtype=torch.float16, enabled=amp):
        tap(probe)
    per_sample = max(1, (torch.cuda.max_memory_allocated(device) - before) // PROBE_BATCH)
    free, _total = torch.cuda.mem_get_info(device)
    fitting = int(free * GPU_SHARE // per_sample)
    # a power of two keeps the kernels on their usual tile sizes
    return max(PROBE_BATCH, min(GPU_MAX_BATCH, 1 << max(0, fitting.bit_length() - 1)))
