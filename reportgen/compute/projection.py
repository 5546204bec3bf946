"""2-D projections of embeddings (UMAP, t-SNE or PCA), seeded so the same inputs give the same coordinates."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from reportgen.compute.neighbours import ANALYSIS_NEIGHBOURS, Neighbours
from reportgen.runtime.numba_cache import import_cached, mark_compiled

METHODS = ("umap", "tsne", "pca")
# UMAP itself runs 500 epochs up to 10,000 samples and 200 above. bench/bench_umap_epochs.py on a real model's
# embeddings (trustworthiness k=15 / share of the 15 nearest neighbours kept in 2-D / 2-D kNN label accuracy):
#   N =  5,000: 150 epochs 0.9838 / 0.363 / 0.979, 200 epochs 0.9836 / 0.363 / 0.978, 500 0.9841 / 0.377 / 0.981
#   N = 10,000: 150 epochs 0.9849 / 0.305 / 0.978, 200 epochs 0.9848 / 0.306 / 0.979, 500 0.9852 / 0.318 / 0.979
#   N = 20,000: 150 epochs 0.9851 / 0.257 / 0.983, 200 epochs 0.9850 / 0.263 / 0.984
# and the same clusters in the same places. 150 epochs take 2.4 s at 10,000 where 200 take 3.1 and 500 7.7, and
# this fit is the analyses stage's longest job, so from 5,000 samples the report runs 150; below, 500 cost
# under 4 s.
SHORT_UMAP_FROM = 5000
SHORT_UMAP_EPOCHS = 150


@dataclass
class Projection:
    method: str  # the method actually used (small N falls back to PCA, see `note`)
    seed: int
    coords: np.ndarray  # (N, 2) float32
    note: str | None = None


def project(embeddings: np.ndarray, method: str = "umap", *, seed: int = 0,
            neighbours: Neighbours | None = None, n_epochs: int | None = None) -> Projection:
    """Project `embeddings` (N, D) float32 to (N, 2); `n_epochs` shortens UMAP's optimisation."""
    n = embeddings.shape[0]
    data = np.nan_to_num(embeddings.astype(np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    if n < 5 or data.shape[1] < 2:
        coords = np.zeros((n, 2), np.float32)
        if data.shape[1] >= 1:
            coords[:, 0] = data[:, 0]
        return Projection("pca", seed, coords, f"{n} samples are too few to project; showing raw coordinates")
    if method == "pca":
        return Projection("pca", seed, _pca(data, seed))
    if method == "tsne":
        from sklearn.manifold import TSNE

        perplexity = float(min(30, (n - 1) / 3))
        coords = TSNE(n_components=2, perplexity=perplexity, random_state=seed, init="pca").fit_transform(data)
        return Projection("tsne", seed, coords.astype(np.float32))
    if method == "umap":
        note = None
        if n_epochs is None and n >= SHORT_UMAP_FROM:
            n_epochs = SHORT_UMAP_EPOCHS
            note = (f"UMAP with {n_epochs} epochs to keep the report fast (its own setting: 500 up to 10,000 "
                    "samples, 200 above); bench/bench_umap_epochs.py measures what that changes")
        return Projection("umap", seed, _umap(data, seed, neighbours, n_epochs), note)
    raise ValueError(f"unknown projection {method!r}; choose from {', '.join(METHODS)}")


def _pca(data: np.ndarray, seed: int) -> np.ndarray:
    from sklearn.decomposition import PCA

    return PCA(n_components=2, random_state=seed).fit_transform(data).astype(np.float32)


def _umap(data: np.ndarray, seed: int, neighbours: Neighbours | None, n_epochs: int | None) -> np.ndarray:
    umap = import_cached("umap")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        n = data.shape[0]
        n_neighbors = min(ANALYSIS_NEIGHBOURS, n - 1)
        kwargs = {}
        if neighbours is not None and neighbours.indices.shape[1] >= n_neighbors:
            # Reuse the shared kNN graph instead of UMAP building its own (NN-descent).
            kwargs["precomputed_knn"] = (neighbours.indices[:, :n_neighbors],
                                         neighbours.distances[:, :n_neighbors], None)
        reducer = umap.UMAP(n_neighbors=n_neighbors, random_state=seed, init="spectral" if n > 50 else "random",
                            n_epochs=n_epochs, **kwargs)
        coords = reducer.fit_transform(data).astype(np.float32)
    mark_compiled("umap")  # the kernels are in the cache now: later runs need not announce a compile
    return coords
