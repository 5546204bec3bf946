"""The raw-pixel picture beside the model's: the pixels' principal components, their kNN graph and a 2-D
projection made the same way as the embedding's (seeds 000 and 004).

The pipeline runs it on a thread of its own beside the embedding's projection and the analyses (pipeline.py);
raw_vs_model reads the result, or computes it when called on its own.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from reportgen.neighbours import Neighbours, shared_neighbours
from reportgen.projection import Projection, project

PIXEL_PCA_DIMS = 50  # UMAP/t-SNE on 50 principal components instead of 1-3k pixels: same picture, far cheaper
KNN = 15
# The raw picture is a comparison, so it runs fewer UMAP epochs from these sizes (largest first). Measured at
# N = 10,000 by bench/bench_umap_epochs.py: 100 epochs keep trustworthiness 0.970 (500: 0.973) and the 2-D kNN
# label accuracy 0.978 (0.979), in 1.9 s instead of 8.4 s.
RAW_UMAP_EPOCHS = ((5000, 100), (2000, 200))


@dataclass
class PixelProjection:
    projection: Projection
    neighbours: Neighbours  # kNN graph of the reduced pixels
    dims: int  # principal components kept
    n_pixels: int  # pixel values per sample before the PCA
    seconds: float


def reduced_pixels(pixels: np.ndarray, seed: int) -> np.ndarray:
    """(N, P) uint8 -> (N, <=50) float32 principal components of the pixel values in [0, 1]."""
    from sklearn.decomposition import PCA

    data = pixels.astype(np.float32)
    data /= 255.0  # in place: at 60k samples each copy is 246 MB, and this job runs beside the analyses
    dims = min(PIXEL_PCA_DIMS, data.shape[1], max(1, data.shape[0] - 1))
    if dims >= data.shape[1]:
        return data
    return PCA(n_components=dims, random_state=seed, svd_solver="randomized").fit_transform(data).astype(np.float32)


def project_pixels(pixels: np.ndarray, method: str, seed: int, knn: Neighbours) -> Projection:
    """`project`, with fewer UMAP epochs for a big raw picture (RAW_UMAP_EPOCHS)."""
    epochs = next((e for size, e in RAW_UMAP_EPOCHS if pixels.shape[0] >= size), None)
    if method != "umap" or epochs is None:
        return project(pixels, method, seed=seed, neighbours=knn)
    projection = project(pixels, method, seed=seed, neighbours=knn, n_epochs=epochs)
    projection.note = f"raw UMAP with {epochs} epochs to keep its cost down (see bench/bench_umap_epochs.py)"
    return projection


def pixel_projection(pixels: np.ndarray, method: str, *, seed: int = 0, device="cpu") -> PixelProjection:
    """PCA, kNN graph (the embedding's policy: exact where fast, NN-descent for big N on CPU) and projection."""
    started = time.perf_counter()
    reduced = reduced_pixels(pixels, seed)
    knn = shared_neighbours(reduced, KNN, device=device, seed=seed)
    projection = project_pixels(reduced, method, seed, knn)
    return PixelProjection(projection, knn, int(reduced.shape[1]), int(pixels.shape[1]),
                           time.perf_counter() - started)
