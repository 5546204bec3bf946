"""Per-sample facts behind the sample panel: top-5 probabilities, distance to every class centroid, and the
k nearest neighbours in embedding space ("fetch similars"). Also the per-sample table of report.json."""

from __future__ import annotations

import numpy as np

from reportgen.class_centroids import class_centroid_distances, class_centroids
from reportgen.section import Section

ID = "samples"
TITLE = "Sample explorer"
TOP_CLASSES = 5


def run(collected, ctx) -> Section:
    k = ctx.neighbour_count
    neighbours = ctx.neighbours.indices[:, 1:k + 1]
    neighbour_dist = ctx.neighbours.distances[:, 1:k + 1]
    embeddings = np.nan_to_num(collected.embeddings, nan=0.0, posinf=0.0, neginf=0.0)
    centroids = class_centroids(embeddings, collected.labels, len(collected.classes))
    distances = class_centroid_distances(embeddings, centroids)
    top = np.argsort(-collected.probs, axis=1, kind="stable")[:, :TOP_CLASSES]
    top_p = np.take_along_axis(collected.probs, top, axis=1)
    coords = ctx.projection.coords
    panel = {
        "k": int(neighbours.shape[1]),
        "neighbours": neighbours.tolist(),
        "neighbour_distance": _rounded(neighbour_dist),
        "centroid_distance": _rounded(distances),
        "top_class": top.tolist(),
        "top_prob": _rounded(top_p, 4),
    }
    rows = []
    for i in range(collected.n):
        loss = float(collected.loss[i])
        rows.append({
            "path": collected.paths[i], "split": collected.split_names[collected.split[i]],
            "label": collected.classes[collected.labels[i]], "prediction": collected.classes[collected.preds[i]],
            "confidence": round(float(collected.confidence[i]), 5),
            "loss": round(loss, 5) if np.isfinite(loss) else None,
            "x": round(float(coords[i, 0]), 4), "y": round(float(coords[i, 1]), 4),
            "neighbours": panel["neighbours"][i],
            "centroid_distance": panel["centroid_distance"][i],
        })
    return Section(ID, TITLE, "_samples.html", {"panel": panel, "count": collected.n}, {"samples": rows})


def _rounded(values: np.ndarray, digits: int = 3) -> list:
    """Rounded to keep the page small; NaN (a class with no samples) becomes null."""
    out = np.round(values.astype(np.float64), digits)
    return [[None if not np.isfinite(v) else float(v) for v in row] for row in out]
