"""The raw-pixel picture beside the model's: the pixels' principal components, their kNN graph and a 2-D
projection made the same way as the embedding's (the cows-vs-no-cows and the CIFAR-10 visualisation write-ups).

The pipeline runs it on a thread of its own beside the embedding's projection and the analyses (pipeline.py);
raw_vs_model reads the result, or computes it when called on its own.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from reportgen.compute.neighbours import ANALYSIS_NEIGHBOURS, Neighbours, shared_neighbours
from reportgen.compute.projection import Projection, project

PIXEL_PCA_DIMS = 50  # UMAP/t-SNE on 50 principal components instead of 1-3k pixels: same picture, far cheaper
KNN = ANALYSIS_NEIGHBOURS  # the same graph size as the embedding's, so both pictures are made alike
# The raw picture is a comparison, so it runs fewer UMAP epochs from these sizes (largest first). Measured at
# N = 10,000 by bench/bench_umap_epochs.py: 100 epochs keep trustworthiness 0.970 (500: 0.973) and the 2-D kNN
# label accuracy 0.978 (0.979), in 1.9 s instead of 8.4 s.
RAW_UMAP_EPOCHS = ((5000, 100), (2000, 200))


# Above this many samples the PCA is fitted on a seeded subset of this many and applied to every sample in
# chunks. At N = 60,000 the full fit held two float copies of all pixels (the report's memory rose by 425 MB
# while it ran) and took 3.3 s on one thread; fitted on 10,000 rows it takes 0.5 s and ~100 MB, the two
# 50-dimensional subspaces' principal-angle cosines are 0.984 at least (0.9987 on average; 0.998 at least for
# the first ten components), and the 10-NN label accuracy in them is 0.9954 against 0.9955.
PCA_FIT_ROWS = 10_000
TRANSFORM_CHUNK = 8192


@dataclass
class PixelProjection:
    projection: Projection
    neighbours: Neighbours  # kNN graph of the reduced pixels
    dims: int  # principal components kept
    n_pixels: int  # pixel values per sample before the PCA
    seconds: float
    pca_rows: int = 0  # samples the PCA was fitted on (all of them up to PCA_FIT_ROWS; 0 = no PCA)


def _unit(pixels: np.ndarray) -> np.ndarray:
    data = pixels.astype(np.float32)
    data /= 255.0  # in place: one float copy, not two
    return data


def reduced_pixels(pixels: np.ndarray, seed: int) -> tuple[np.ndarray, int]:
    """(N, P) uint8 -> ((N, <=50) float32 principal components of the pixel values in [0, 1], the number of
    samples the PCA was fitted on)."""
    from sklearn.decomposition import PCA

    n, width = pixels.shape
    dims = min(PIXEL_PCA_DIMS, width, max(1, n - 1))
    if dims >= width:
        return _unit(pixels), 0
    pca = PCA(n_components=dims, random_state=seed, svd_solver="randomized")
    if n <= PCA_FIT_ROWS:
        return pca.fit_transform(_unit(pixels)).astype(np.float32), n
    rows = np.sort(np.random.default_rng(seed).choice(n, PCA_FIT_ROWS, replace=False))
    pca.fit(_unit(pixels[rows]))
    reduced = np.empty((n, dims), np.float32)
    for start in range(0, n, TRANSFORM_CHUNK):
        reduced[start:start + TRANSFORM_CHUNK] = pca.transform(_unit(pixels[start:start + TRANSFORM_CHUNK]))
    return reduced, PCA_FIT_ROWS


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
    reduced, pca_rows = reduced_pixels(pixels, seed)
    knn = shared_neighbours(reduced, KNN, device=device, seed=seed)
    projection = project_pixels(reduced, method, seed, knn)
    return PixelProjection(projection, knn, int(reduced.shape[1]), int(pixels.shape[1]),
                           time.perf_counter() - started, pca_rows)
