"""Raw pixels vs the model's embedding, projected the same way and coloured the same (the cows-vs-no-cows and the CIFAR-10 visualisation write-ups).

What the network added: if the classes already separate in raw pixels, a simpler model may do; if they
separate only after the network, it is earning its keep; if neither separates, the model needs more.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reportgen.analyses.section import Finding, Result
from reportgen.compute.class_separation import SEPARATION_K, knn_label_accuracy, neighbours_2d
from reportgen.compute.neighbours import Neighbours
from reportgen.compute.pixel_projection import pixel_projection as compute_pixel_projection
from reportgen.compute.projection import Projection
from reportgen.render.figure_data import class_scatter_traces, figure, layout, rounded

ID = "raw-vs-model"
TITLE = "Raw pixels vs the model's embedding"
TEMPLATE = "_raw_vs_model.html"


def scores(labels: np.ndarray, full_space_indices: np.ndarray, coords: np.ndarray) -> dict:
    return {"knn_accuracy": knn_label_accuracy(full_space_indices, labels),
            "knn_accuracy_2d": knn_label_accuracy(neighbours_2d(coords), labels)}


@dataclass
class RawVsModelResult(Result):
    raw: Projection
    model: Projection
    raw_scores: dict
    model_scores: dict
    labels: np.ndarray
    classes: list[str]
    seed: int
    pixel_dims: int
    n_pixels: int
    pca_rows: int | None  # the raw pixels' PCA was fitted on this seeded subset (None: on every sample)
    seconds: float
    k = SEPARATION_K

    @property
    def method(self) -> str:
        return self.raw.method

    @property
    def panels(self) -> list[dict]:
        hidden = {"showticklabels": False, "showgrid": False}
        figure_of = lambda coords: figure(class_scatter_traces(coords[:, 0], coords[:, 1], self.labels, self.classes),  # noqa: E731
                                          layout(xaxis=hidden, yaxis=hidden, dragmode="pan"))
        return [
            {"key": "raw", "title": f"Raw pixels ({self.raw.method.upper()})", "scores": self.raw_scores,
             "note": self.raw.note, "figure": figure_of(self.raw.coords)},
            {"key": "model", "title": f"Model embedding ({self.model.method.upper()})", "scores": self.model_scores,
             "note": self.model.note, "figure": figure_of(self.model.coords)},
        ]

    def findings(self) -> list[Finding]:
        """What the raw-pixel view says: if the raw pixels already separate the classes about as well as the
        embedding (10-NN accuracy within 5 points), a simpler model may do (medium); if they separate them
        better, the embedding loses information the pixels hold (high); a large gain is good to know (low)."""
        raw, model = self.raw_scores["knn_accuracy"], self.model_scores["knn_accuracy"]
        if raw is None or model is None:
            return []
        words = f"{SEPARATION_K}-nearest-neighbour label accuracy {raw:.0%} in raw pixels against {model:.0%} in the " \
                "model's embedding"
        if raw > model + 0.02:
            return [Finding(f"{ID}/worse", ID, "high", min(1.0, (raw - model) * 5), f"The raw pixels separate the "
                            f"classes better than the model's embedding: {words}.", subject="raw-vs-model")]
        if raw >= model - 0.05:
            return [Finding(f"{ID}/simple", ID, "medium", 0.3, f"The raw pixels already separate the classes about "
                            f"as well as the network: {words}. A simpler model may do.", subject="raw-vs-model")]
        return [Finding(f"{ID}/gain", ID, "low", min(0.5, model - raw), f"The network earns its keep: {words}.",
                        subject="raw-vs-model")]

    def json(self) -> dict:
        subset = f", fitted on a seeded subset of {self.pca_rows} samples" if self.pca_rows else ""
        return {"raw_vs_model": {
            "method": self.raw.method, "seed": self.seed, "knn_k": SEPARATION_K,
            "raw_input": f"{self.n_pixels} pixel values in [0, 1], PCA to {self.pixel_dims} dimensions{subset}",
            "scores": {"raw": self.raw_scores, "model": self.model_scores},
            "raw_coordinates": [rounded(row) for row in self.raw.coords],
            "seconds": round(self.seconds, 3),
        }}


def run(collected, *, projection: Projection, neighbours: Neighbours, pixel_projection=None, seed: int = 0,
        device="cpu") -> RawVsModelResult:
    pixels = pixel_projection or compute_pixel_projection(collected.pixels, projection.method, seed=seed,
                                                          device=device)
    raw = pixels.projection
    return RawVsModelResult(
        raw=raw, model=projection, raw_scores=scores(collected.labels, pixels.neighbours.indices, raw.coords),
        model_scores=scores(collected.labels, neighbours.indices, projection.coords), labels=collected.labels,
        classes=collected.classes, seed=seed, pixel_dims=pixels.dims, n_pixels=pixels.n_pixels,
        # a big set's PCA is fitted on a seeded subset (pixel_projection.PCA_FIT_ROWS): say so where it is
        pca_rows=pixels.pca_rows if 0 < pixels.pca_rows < collected.n else None, seconds=pixels.seconds)
