"""Class centroids in embedding space and every sample's distance to each of them (seed 002's error analysis)."""

from __future__ import annotations

import numpy as np


def class_centroids(embeddings: np.ndarray, labels: np.ndarray, num_classes: int) -> np.ndarray:
    """(K, D) float64 mean embedding per class by given label; NaN rows for classes with no sample."""
    sums = np.zeros((num_classes, embeddings.shape[1]))
    np.add.at(sums, labels, embeddings.astype(np.float64))
    counts = np.bincount(labels, minlength=num_classes)[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums / counts


def class_centroid_distances(embeddings: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """(N, K) float32 Euclidean distance of each sample (N, D) to each class centroid (K, D)."""
    e = embeddings.astype(np.float64)
    d2 = (e * e).sum(1)[:, None] - 2 * e @ np.nan_to_num(centroids).T + (np.nan_to_num(centroids) ** 2).sum(1)[None]
    d = np.sqrt(np.clip(d2, 0, None)).astype(np.float32)
    d[:, np.isnan(centroids).any(axis=1)] = np.nan
    return d
