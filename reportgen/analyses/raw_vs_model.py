"""Raw pixels vs the model's embedding, projected the same way and coloured the same (seeds 000 and 004).

What the network added: if the classes already separate in raw pixels, a simpler model may do; if they
separate only after the network, it is earning its keep; if neither separates, the model needs more.
"""

from __future__ import annotations

import time

import numpy as np

from reportgen.class_separation import SEPARATION_K, knn_label_accuracy, neighbours_2d
from reportgen.figure_data import class_scatter_traces, figure, layout, rounded
from reportgen.neighbours import shared_neighbours
from reportgen.projection import Projection, project
from reportgen.section import Section

ID = "raw-vs-model"
TITLE = "Raw pixels vs the model's embedding"
PIXEL_PCA_DIMS = 50  # UMAP/t-SNE on 50 principal components instead of 1-3k pixels: same picture, far cheaper
KNN = 15
FAST_UMAP_FROM = 2000  # from this many samples, the raw UMAP runs 200 epochs (as UMAP itself does above 10k)
FAST_UMAP_EPOCHS = 200


def reduced_pixels(pixels: np.ndarray, seed: int) -> np.ndarray:
    """(N, P) uint8 -> (N, <=50) float32 principal components of the pixel values in [0, 1]."""
    from sklearn.decomposition import PCA

    data = pixels.astype(np.float32) / 255.0
    dims = min(PIXEL_PCA_DIMS, data.shape[1], max(1, data.shape[0] - 1))
    if dims >= data.shape[1]:
        return data
    return PCA(n_components=dims, random_state=seed, svd_solver="randomized").fit_transform(data).astype(np.float32)


def project_pixels(pixels: np.ndarray, method: str, seed: int, knn) -> Projection:
    """`project`, except that a big raw UMAP is a comparison picture: 200 epochs instead of UMAP's 500 for
    N <= 10k cost 4 s instead of 10 s at N = 10k on 2 cores (bench/bench_model_vs_data.py)."""
    if method != "umap" or pixels.shape[0] < FAST_UMAP_FROM:
        return project(pixels, method, seed=seed, neighbours=knn)
    projection = project(pixels, method, seed=seed, neighbours=knn, n_epochs=FAST_UMAP_EPOCHS)
    projection.note = f"raw UMAP with {FAST_UMAP_EPOCHS} epochs to keep its cost down"
    return projection


def scores(labels: np.ndarray, full_space_indices: np.ndarray, coords: np.ndarray) -> dict:
    return {"knn_accuracy": knn_label_accuracy(full_space_indices, labels),
            "knn_accuracy_2d": knn_label_accuracy(neighbours_2d(coords), labels)}


def projection_figure(coords: np.ndarray, collected) -> dict:
    traces = class_scatter_traces(coords[:, 0], coords[:, 1], collected.labels, collected.classes)
    hidden = {"showticklabels": False, "showgrid": False}
    return figure(traces, layout(xaxis=hidden, yaxis=hidden, dragmode="pan"))


def run(collected, ctx) -> Section:
    started = time.perf_counter()
    method = ctx.projection.method
    pixels = reduced_pixels(collected.pixels, ctx.seed)
    # the same kNN policy as the embedding's graph: exact where fast, NN-descent for big N on CPU
    pixel_knn = shared_neighbours(pixels, KNN, device=ctx.device or "cpu", seed=ctx.seed)
    raw = project_pixels(pixels, method, ctx.seed, pixel_knn)
    seconds = time.perf_counter() - started
    model_coords = ctx.projection.coords
    raw_scores = scores(collected.labels, pixel_knn.indices, raw.coords)
    model_scores = scores(collected.labels, ctx.neighbours.indices, model_coords)
    panels = [
        {"key": "raw", "title": f"Raw pixels ({raw.method.upper()})", "scores": raw_scores, "note": raw.note,
         "figure": projection_figure(raw.coords, collected)},
        {"key": "model", "title": f"Model embedding ({method.upper()})", "scores": model_scores,
         "note": ctx.projection.note, "figure": projection_figure(model_coords, collected)},
    ]
    data = {"panels": panels, "k": SEPARATION_K, "pixel_dims": int(pixels.shape[1]),
            "n_pixels": int(collected.pixels.shape[1]), "seconds": seconds, "method": raw.method}
    json = {"raw_vs_model": {
        "method": raw.method, "seed": ctx.seed, "knn_k": SEPARATION_K,
        "raw_input": f"{collected.pixels.shape[1]} pixel values in [0, 1], PCA to {pixels.shape[1]} dimensions",
        "scores": {"raw": raw_scores, "model": model_scores},
        "raw_coordinates": [rounded(row) for row in raw.coords],
        "seconds": round(seconds, 3),
    }}
    return Section(ID, TITLE, "_raw_vs_model.html", data, json)
