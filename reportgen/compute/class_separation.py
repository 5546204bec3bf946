"""How well classes separate in a space: leave-one-out kNN accuracy of the given labels, O(N k)."""

from __future__ import annotations

import numpy as np

SEPARATION_K = 10


def knn_label_accuracy(neighbour_indices: np.ndarray, labels: np.ndarray, k: int = SEPARATION_K) -> float:
    """Share of samples whose k nearest neighbours' majority label is their own.

    neighbour_indices: (N, k'+1), column 0 = self (excluded, hence leave-one-out); ties go to the lowest label.
    """
    others = neighbour_indices[:, 1:k + 1]
    n, used = others.shape
    if n == 0 or used == 0:
        return float("nan")
    num_classes = int(labels.max()) + 1
    votes = np.bincount(np.repeat(np.arange(n), used) * num_classes + labels[others.reshape(-1)],
                        minlength=n * num_classes).reshape(n, num_classes)
    return float(np.mean(votes.argmax(axis=1) == labels))


def neighbours_2d(coords: np.ndarray, k: int = SEPARATION_K) -> np.ndarray:
    """(N, k+1) kNN indices in a 2-D projection (N, 2) by KD-tree, column 0 = self."""
    from sklearn.neighbors import NearestNeighbors

    k1 = min(k + 1, coords.shape[0])
    _, indices = NearestNeighbors(n_neighbors=k1).fit(coords).kneighbors(coords)
    # Exact duplicates can put another point in column 0; make self come first as in reportgen.compute.neighbours.
    rows = np.arange(coords.shape[0])
    not_first = indices[:, 0] != rows
    for i in np.flatnonzero(not_first):
        rest = [j for j in indices[i] if j != i][:k1 - 1]
        indices[i] = [i] + rest
    return indices
