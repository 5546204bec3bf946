"""The k-nearest-neighbour graph of the embeddings, computed once and shared (projection, panel, mislabels)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass
class Neighbours:
    indices: np.ndarray  # (N, k+1) int64, column 0 is the sample itself
    distances: np.ndarray  # (N, k+1) float32, Euclidean, ascending


def nearest_neighbours(embeddings: np.ndarray, k: int, *, device: torch.device | str = "cpu",
                       chunk: int = 2048) -> Neighbours:
    """Exact kNN by blocked distance matrices on torch: `embeddings` (N, D) float32."""
    n = embeddings.shape[0]
    k1 = min(k + 1, n)
    data = torch.as_tensor(embeddings, dtype=torch.float32, device=device)
    squared = (data * data).sum(1)
    out_idx = np.empty((n, k1), np.int64)
    out_dist = np.empty((n, k1), np.float32)
    for start in range(0, n, chunk):
        block = data[start:start + chunk]
        # ||a-b||^2 = |a|^2 - 2ab + |b|^2, clamped: rounding can make it slightly negative
        d2 = (squared[start:start + chunk, None] - 2 * block @ data.T + squared[None, :]).clamp_min_(0)
        rows = torch.arange(block.shape[0], device=data.device)
        d2[rows, rows + start] = -1.0  # the sample itself always comes first, even among exact duplicates
        dist, idx = torch.topk(d2, k1, dim=1, largest=False)
        out_idx[start:start + chunk] = idx.cpu().numpy()
        out_dist[start:start + chunk] = dist.clamp_min(0).sqrt().cpu().numpy()
    return Neighbours(out_idx, out_dist)
