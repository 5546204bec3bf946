"""Where each class sits: class means (of pixels or embeddings), distances to them, and between them."""

from __future__ import annotations

import numpy as np


def class_means(values: np.ndarray, labels: np.ndarray, num_classes: int) -> np.ndarray:
    """(K, D) float64 mean of `values` (N, D) per given label; NaN rows for classes without samples."""
    values = np.asarray(values)
    means = np.full((num_classes, values.shape[1]), np.nan)
    for c in range(num_classes):
        members = labels == c
        if members.any():
            means[c] = values[members].mean(axis=0, dtype=np.float64)
    return means


def distance_to_class_mean(values: np.ndarray, labels: np.ndarray, means: np.ndarray, *,
                           scale: float = 1.0) -> np.ndarray:
    """(N,) Euclidean distance of each row of `values` (N, D), divided by `scale`, to its own class's mean.

    Computed class by class so a uint8 pixel array is never copied to float all at once.
    """
    out = np.zeros(len(labels), dtype=np.float64)
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        diff = np.asarray(values[members], dtype=np.float64) / scale - means[c] / scale
        out[members] = np.sqrt((diff * diff).sum(axis=1))
    return out


def distances_to_every_class_mean(values: np.ndarray, means: np.ndarray) -> np.ndarray:
    """(N, K) float32 Euclidean distance of each row of `values` (N, D) to each class mean (K, D); NaN columns
    for classes without samples (seed 002's "6.83 to class 6, 7.71 to the ground truth 5")."""
    known = np.nan_to_num(means)
    v = values.astype(np.float64)
    d2 = (v * v).sum(1)[:, None] - 2 * v @ known.T + (known ** 2).sum(1)[None]
    d = np.sqrt(np.clip(d2, 0, None)).astype(np.float32)
    d[:, np.isnan(means).any(axis=1)] = np.nan
    return d


def centroid_distances(means: np.ndarray) -> np.ndarray:
    """(K, K) Euclidean distances between the class means (K, D); NaN where a class has no samples."""
    diff = means[:, None, :] - means[None, :, :]
    return np.sqrt((diff * diff).sum(axis=2))


def class_spread(distances: np.ndarray, labels: np.ndarray, num_classes: int) -> np.ndarray:
    """(K,) mean distance of a class's samples to their class mean, from `distance_to_class_mean` (N,)."""
    totals = np.bincount(labels, weights=distances, minlength=num_classes)
    counts = np.bincount(labels, minlength=num_classes)
    return np.divide(totals, counts, out=np.full(num_classes, np.nan), where=counts > 0)
