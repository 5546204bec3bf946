"""Raw pixels vs the model's embedding, projected the same way and coloured the same (seeds 000 and 004).

What the network added: if the classes already separate in raw pixels, a simpler model may do; if they
separate only after the network, it is earning its keep; if neither separates, the model needs more.
"""

from __future__ import annotations

import numpy as np

from reportgen.class_separation import SEPARATION_K, knn_label_accuracy, neighbours_2d
from reportgen.figure_data import class_scatter_traces, figure, layout, rounded
from reportgen.pixel_projection import pixel_projection
from reportgen.section import Section

ID = "raw-vs-model"
TITLE = "Raw pixels vs the model's embedding"
WAITS_FOR = ("projection", "pixel_projection")  # may still be fitting on other threads (analyses.run_all)


def scores(labels: np.ndarray, full_space_indices: np.ndarray, coords: np.ndarray) -> dict:
    return {"knn_accuracy": knn_label_accuracy(full_space_indices, labels),
            "knn_accuracy_2d": knn_label_accuracy(neighbours_2d(coords), labels)}


def projection_figure(coords: np.ndarray, collected) -> dict:
    traces = class_scatter_traces(coords[:, 0], coords[:, 1], collected.labels, collected.classes)
    hidden = {"showticklabels": False, "showgrid": False}
    return figure(traces, layout(xaxis=hidden, yaxis=hidden, dragmode="pan"))


def run(collected, ctx) -> Section:
    method = ctx.projection.method
    pixels = ctx.pixel_projection or pixel_projection(collected.pixels, method, seed=ctx.seed,
                                                      device=ctx.device or "cpu")
    raw, pixel_knn, seconds = pixels.projection, pixels.neighbours, pixels.seconds
    model_coords = ctx.projection.coords
    raw_scores = scores(collected.labels, pixel_knn.indices, raw.coords)
    model_scores = scores(collected.labels, ctx.neighbours.indices, model_coords)
    panels = [
        {"key": "raw", "title": f"Raw pixels ({raw.method.upper()})", "scores": raw_scores, "note": raw.note,
         "figure": projection_figure(raw.coords, collected)},
        {"key": "model", "title": f"Model embedding ({method.upper()})", "scores": model_scores,
         "note": ctx.projection.note, "figure": projection_figure(model_coords, collected)},
    ]
    # a big set's PCA is fitted on a seeded subset (pixel_projection.PCA_FIT_ROWS): say so where it is
    fitted_on = pixels.pca_rows if 0 < pixels.pca_rows < collected.n else None
    data = {"panels": panels, "k": SEPARATION_K, "pixel_dims": pixels.dims, "pca_rows": fitted_on,
            "n_pixels": pixels.n_pixels, "seconds": seconds, "method": raw.method}
    subset = f", fitted on a seeded subset of {fitted_on} samples" if fitted_on else ""
    json = {"raw_vs_model": {
        "method": raw.method, "seed": ctx.seed, "knn_k": SEPARATION_K,
        "raw_input": f"{pixels.n_pixels} pixel values in [0, 1], PCA to {pixels.dims} dimensions{subset}",
        "scores": {"raw": raw_scores, "model": model_scores},
        "raw_coordinates": [rounded(row) for row in raw.coords],
        "seconds": round(seconds, 3),
    }}
    return Section(ID, TITLE, "_raw_vs_model.html", data, json)
