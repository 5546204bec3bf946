"""Per-sample facts behind the sample panel: top-5 probabilities, the distance to the label's and the
prediction's class centroid and to the 5 nearest centroids, and the k nearest neighbours in embedding space
("fetch similars"). Also the per-sample table of report.json.

Everything per sample is k-wide, never K-wide: at 1,000 classes a row of every centroid distance made the page
131 MB at 5,000 samples."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reportgen.analyses.section import Result
from reportgen.compute.class_geometry import class_means, nearest_class_means
from reportgen.compute.neighbours import Neighbours
from reportgen.compute.projection import Projection

ID = "samples"
TITLE = "Sample explorer"
TEMPLATE = "_samples.html"
TOP_CLASSES = 5
NEAREST_CENTROIDS = 5
TOP_BLOCK_ROWS = 4096  # rows per top-k block: a (rows, K) index array, not an (N, K) one


def top_classes(probs: np.ndarray, count: int = TOP_CLASSES) -> tuple[np.ndarray, np.ndarray]:
    """(N, count) class indices by falling probability (ties: lower index first) and their probabilities."""
    n, k = probs.shape
    count = min(count, k)
    top = np.zeros((n, count), np.int64)
    for start in range(0, n, TOP_BLOCK_ROWS):
        block = -probs[start:start + TOP_BLOCK_ROWS]
        if count < k:
            part = np.argpartition(block, count - 1, axis=1)[:, :count]
            # argpartition leaves ties at the boundary to chance: widen to every value equal to the cut-off
            cut = np.take_along_axis(block, part, axis=1).max(axis=1, keepdims=True)
            if ((block <= cut).sum(axis=1) > count).any():
                part = np.argsort(block, axis=1, kind="stable")[:, :count]
        else:
            part = np.tile(np.arange(k), (block.shape[0], 1))
        order = np.lexsort((part, np.take_along_axis(block, part, axis=1)), axis=1)
        top[start:start + TOP_BLOCK_ROWS] = np.take_along_axis(part, order, axis=1)
    return top, np.take_along_axis(probs, top, axis=1)


@dataclass
class SamplesResult(Result):
    panel: dict  # per sample, k-wide: neighbours and their distances, centroid distances, top classes
    columns: dict  # per sample: report.json's row fields, one list each

    @property
    def count(self) -> int:
        return len(self.columns["path"])

    def json(self) -> dict:
        return {"samples": [dict(zip(self.columns, values)) for values in zip(*self.columns.values())]}


def run(collected, *, neighbours: Neighbours, projection: Projection, neighbour_count: int = 8) -> SamplesResult:
    k = neighbour_count
    shown = neighbours.indices[:, 1:k + 1]
    shown_distance = neighbours.distances[:, 1:k + 1]
    embeddings = collected.embeddings
    # Without labels the classes' centres are those of what the model predicts (the only grouping there is).
    own = collected.labels if collected.labelled else collected.preds
    centroids = class_means(embeddings, own, len(collected.classes))
    near = nearest_class_means(embeddings, centroids, {"label": own, "prediction": collected.preds},
                               count=NEAREST_CENTROIDS)
    top, top_p = top_classes(collected.probs)
    coords = projection.coords
    panel = {
        "k": int(shown.shape[1]),
        "neighbours": shown.tolist(),
        "neighbour_distance": _rounded(shown_distance),
        "label_centroid": _rounded(near["label"]),
        "pred_centroid": _rounded(near["prediction"]),
        "near_class": near["nearest"].tolist(),
        "near_distance": _rounded(near["nearest_distance"]),
        "top_class": top.tolist(),
        "top_prob": _rounded(top_p, 4),
    }
    # Column-wise: one .tolist() per column, then zip, instead of per-sample numpy scalar conversions
    # (9 s -> well under 1 s at N = 10,000).
    loss = np.round(collected.loss.astype(np.float64), 5)
    names = collected.classes
    columns = {
        "path": collected.paths,
        "split": [collected.split_names[s] for s in collected.split.tolist()],
        "label": [names[c] if c >= 0 else None for c in collected.labels.tolist()],
        "prediction": [names[c] for c in collected.preds.tolist()],
        "confidence": np.round(collected.confidence.astype(np.float64), 5).tolist(),
        "loss": [v if np.isfinite(v) else None for v in loss.tolist()],
        "x": np.round(coords[:, 0].astype(np.float64), 4).tolist(),
        "y": np.round(coords[:, 1].astype(np.float64), 4).tolist(),
        "neighbours": panel["neighbours"],
        "top_classes": [[names[c] for c in row] for row in panel["top_class"]],
        "top_probs": panel["top_prob"],
        "centroid_distance_label": panel["label_centroid"] if collected.labelled else [None] * collected.n,
        "centroid_distance_prediction": panel["pred_centroid"],
        "nearest_centroids": [[names[c] for c in row] for row in panel["near_class"]],
        "nearest_centroid_distances": panel["near_distance"],
    }
    return SamplesResult(panel, columns)


def _rounded(values: np.ndarray, digits: int = 3) -> list:
    """Rounded to keep the page small; NaN (a class with no samples) becomes null."""
    out = np.round(values.astype(np.float64), digits)
    if np.isfinite(out).all():
        return out.tolist()
    if out.ndim == 1:
        return [v if np.isfinite(v) else None for v in out.tolist()]
    return [[v if np.isfinite(v) else None for v in row] for row in out.tolist()]
