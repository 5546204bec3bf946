"""The k-nearest-neighbour graph of the embeddings, computed once and shared (projection, panel, mislabels)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import torch

from reportgen.runtime.numba_cache import import_cached

# Measured with bench/bench_knn.py on 2 cores, each method as a report run pays it (in a fresh process):
# exact blocked matmul takes 1.0 s at 10k, 6.2 s at 30k and 16.5 s at 50k samples (O(N^2)); NN-descent takes
# under 2 s of work at 50k but ~21 s of numba compilation in every new process (pynndescent's nn_descent can't
# be cached: "uses dynamic globals"). Exact therefore wins up to ~60k; above, the quadratic cost loses.
# On a GPU, exact is fast at any size we handle.
EXACT_LIMIT_CPU = 60_000
# The k every analysis reads from the one shared graph: the mislabel vote (bench/bench_mislabels.py was tuned with
# 15), neighbour mixing, the split-shift rate, the mode finder, and UMAP's own default n_neighbors.
ANALYSIS_NEIGHBOURS = 15


@dataclass
class Neighbours:
    indices: np.ndarray  # (N, k+1) int64, column 0 is the sample itself
    distances: np.ndarray  # (N, k+1) float32, Euclidean, ascending
    method: str = "exact"


def shared_neighbours(embeddings: np.ndarray, k: int, *, device: torch.device | str = "cpu",
                      seed: int = 0) -> Neighbours:
    """The kNN graph the report shares: exact where that is fast, NN-descent above EXACT_LIMIT_CPU on CPU."""
    if torch.device(device).type == "cuda" or embeddings.shape[0] <= EXACT_LIMIT_CPU:
        return nearest_neighbours(embeddings, k, device=device)
    return approximate_neighbours(embeddings, k, seed=seed)


def approximate_neighbours(embeddings: np.ndarray, k: int, *, seed: int = 0) -> Neighbours:
    """NN-descent (pynndescent, which UMAP already depends on), asked for 2k neighbours for ~0.98 recall at k."""
    NNDescent = import_cached("pynndescent").NNDescent

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numba's "cannot cache nn_descent" notes are not the user's concern
        index = NNDescent(embeddings, n_neighbors=min(2 * (k + 1), embeddings.shape[0] - 1), random_state=seed,
                          low_memory=True)
        indices, distances = index.neighbor_graph
    n = embeddings.shape[0]
    # NN-descent does not promise the point itself in column 0 (exact duplicates); put it there as exact does.
    rows = np.arange(n)
    others = indices != rows[:, None]
    idx = np.empty((n, k + 1), np.int64)
    dist = np.empty((n, k + 1), np.float32)
    idx[:, 0], dist[:, 0] = rows, 0.0
    order = np.argsort(~others, axis=1, kind="stable")[:, :k]  # first k columns that are not the point itself
    idx[:, 1:] = np.take_along_axis(indices, order, axis=1)
    dist[:, 1:] = np.take_along_axis(distances, order, axis=1)
    return Neighbours(idx, dist, "approximate (NN-descent)")


BLOCK_ELEMENTS = 1 << 25  # one (chunk, N) distance block: 128 MB of float32, whatever N is


def nearest_neighbours(embeddings: np.ndarray, k: int, *, device: torch.device | str = "cpu",
                       chunk: int | None = None) -> Neighbours:
    """Exact kNN by blocked distance matrices on torch: `embeddings` (N, D) float32."""
    n = embeddings.shape[0]
    # A fixed 2,048-row block was a 491 MB matrix (plus temporaries) at N = 60,000: size it by memory instead.
    chunk = chunk or max(64, BLOCK_ELEMENTS // max(n, 1))
    k1 = min(k + 1, n)
    data = torch.as_tensor(embeddings, dtype=torch.float32, device=device)
    squared = (data * data).sum(1)
    out_idx = np.empty((n, k1), np.int64)
    out_dist = np.empty((n, k1), np.float32)
    for start in range(0, n, chunk):
        block = data[start:start + chunk]
        # ||a-b||^2 = |a|^2 - 2ab + |b|^2. A row's ranking doesn't depend on its own |a|^2, so rank by
        # |b|^2 - 2ab (one fused addmm, no further (chunk, N) temporaries) and add |a|^2 to the k kept only.
        partial = torch.addmm(squared[None, :], block, data.T, alpha=-2)
        rows = torch.arange(block.shape[0], device=data.device)
        partial[rows, rows + start] = -torch.inf  # the sample itself always comes first, even among duplicates
        dist, idx = torch.topk(partial, k1, dim=1, largest=False)
        # clamped: rounding can make a squared distance slightly negative
        dist = (dist + squared[start:start + chunk, None]).clamp_min_(0).sqrt_()
        out_idx[start:start + chunk] = idx.cpu().numpy()
        out_dist[start:start + chunk] = dist.cpu().numpy()
    return Neighbours(out_idx, out_dist)


def cross_neighbours(queries: np.ndarray, references: np.ndarray, k: int, *, device="cpu") -> np.ndarray:
    """(Q, k) row indices of each query's k nearest references (Euclidean), nearest first; blocked like
    nearest_neighbours so no (Q, R) matrix is built whole."""
    data = torch.as_tensor(references, dtype=torch.float32, device=device)
    squared = (data * data).sum(1)
    k = min(k, data.shape[0])
    out = np.empty((queries.shape[0], k), np.int64)
    chunk = max(64, BLOCK_ELEMENTS // max(data.shape[0], 1))
    for start in range(0, queries.shape[0], chunk):
        block = torch.as_tensor(queries[start:start + chunk], dtype=torch.float32, device=device)
        partial = torch.addmm(squared[None, :], block, data.T, alpha=-2)
        out[start:start + chunk] = torch.topk(partial, k, dim=1, largest=False).indices.cpu().numpy()
    return out
