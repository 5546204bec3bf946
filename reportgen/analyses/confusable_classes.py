"""Confusable classes: pairs the model mixes up, and pairs that sit close in its embedding (seed 002's 1 and 7).

What to do next: collect more of the pair's look-alikes, merge the classes, or sharpen the labelling guide.
"""

from __future__ import annotations

import numpy as np

from reportgen.class_geometry import centroid_distances, class_means, class_spread, distance_to_class_mean
from reportgen.classification_metrics import confusion_matrix
from reportgen.section import Section
from reportgen.thumbnails import data_uri

ID = "confusable-classes"
TITLE = "Confusable classes"
PAIRS_PER_MEASURE = 6  # the top pairs by confusions and by neighbour mixing, united
JSON_PAIRS = 50
EXAMPLES_PER_SIDE = 4
MATRIX_MAX_CLASSES = 30  # a bigger distance matrix is unreadable as a table; report.json still has it
NEIGHBOURS_USED = 15


def neighbour_mixing(labels: np.ndarray, neighbour_indices: np.ndarray, num_classes: int) -> np.ndarray:
    """(K, K) symmetric share of kNN edges leaving pair (a, b)'s samples that join a to b.

    neighbour_indices: (N, k+1), column 0 = self. Counts edges both ways, divided by all edges of a and b.
    """
    others = neighbour_indices[:, 1:]
    k = others.shape[1]
    edges = np.bincount(np.repeat(labels, k) * num_classes + labels[others.reshape(-1)],
                        minlength=num_classes * num_classes).reshape(num_classes, num_classes)
    counts = np.bincount(labels, minlength=num_classes).astype(np.float64)
    total = k * (counts[:, None] + counts[None, :])
    mixed = (edges + edges.T).astype(np.float64)
    return np.divide(mixed, total, out=np.zeros_like(mixed), where=total > 0)


def ranked_pairs(confusions: np.ndarray, mixing: np.ndarray, per_measure: int) -> list[tuple[int, int]]:
    """(a, b) pairs, a < b, in the top `per_measure` by confusions or by mixing; most confused first."""
    k = confusions.shape[0]
    a, b = np.triu_indices(k, 1)
    both_ways = confusions[a, b] + confusions[b, a]
    chosen = set()
    for measure in (both_ways, mixing[a, b]):
        order = np.argsort(-measure, kind="stable")
        chosen.update(int(i) for i in order[:per_measure] if measure[i] > 0)
    ordered = sorted(chosen, key=lambda i: (-both_ways[i], -mixing[a[i], b[i]]))
    return [(int(a[i]), int(b[i])) for i in ordered]


def look_alike_examples(collected, probs: np.ndarray, source: int, target: int) -> list[dict]:
    """Samples labelled `source` that the model finds most like `target` (highest p(target)), wrong ones first."""
    members = np.flatnonzero(collected.labels == source)
    if members.size == 0:
        return []
    order = np.lexsort((-probs[members, target], collected.preds[members] != target))
    return [{"index": int(i), "path": collected.paths[i], "label": collected.classes[source],
             "prediction": collected.classes[collected.preds[i]], "p_target": float(probs[i, target]),
             "thumbnail": data_uri(collected.thumbnails[i])} for i in members[order[:EXAMPLES_PER_SIDE]]]


def run(collected, ctx) -> Section:
    classes, labels, k = collected.classes, collected.labels, len(collected.classes)
    probs = np.nan_to_num(collected.probs.astype(np.float64))
    embeddings = collected.embeddings
    means = class_means(embeddings, labels, k)
    distances = centroid_distances(means)
    spread = class_spread(distance_to_class_mean(embeddings, labels, means), labels, k)
    confusions = confusion_matrix(labels, collected.preds, k)
    mixing = neighbour_mixing(labels, ctx.neighbours.indices[:, :NEIGHBOURS_USED + 1], k)
    counts = np.bincount(labels, minlength=k)
    pairs = []
    for a, b in ranked_pairs(confusions, mixing, max(PAIRS_PER_MEASURE, JSON_PAIRS // 2))[:JSON_PAIRS]:
        both = int(confusions[a, b] + confusions[b, a])
        radii = spread[a] + spread[b]
        pairs.append({
            "a": classes[a], "b": classes[b], "a_index": a, "b_index": b,
            "confusions": both, "a_as_b": int(confusions[a, b]), "b_as_a": int(confusions[b, a]),
            "confusion_rate": both / int(counts[a] + counts[b]) if counts[a] + counts[b] else None,
            "neighbour_mixing": float(mixing[a, b]),
            "centroid_distance": float(distances[a, b]) if np.isfinite(distances[a, b]) else None,
            # centroid distance in units of the two classes' mean radii: below ~1 the classes overlap
            "separation": float(distances[a, b] / radii) if np.isfinite(radii) and radii > 0 else None,
        })
    shown = pairs[:PAIRS_PER_MEASURE * 2]
    for p in shown:
        p["examples_a"] = look_alike_examples(collected, probs, p["a_index"], p["b_index"])
        p["examples_b"] = look_alike_examples(collected, probs, p["b_index"], p["a_index"])
    finite = np.where(np.isfinite(distances), distances, np.nan)
    matrix = [[float(v) if np.isfinite(v) else None for v in row] for row in finite]
    top = np.nanmax(finite) if np.isfinite(finite).any() else 1.0
    data = {"pairs": shown, "classes": classes, "matrix": matrix if k <= MATRIX_MAX_CLASSES else None,
            "matrix_max": float(top) if top > 0 else 1.0, "k": NEIGHBOURS_USED}
    keys = ("a", "b", "confusions", "a_as_b", "b_as_a", "confusion_rate", "neighbour_mixing",
            "centroid_distance", "separation")
    json = {"confusable_classes": {
        "pairs": [{key: p[key] for key in keys} | {"examples": [e["path"] for e in
                                                             p.get("examples_a", []) + p.get("examples_b", [])]}
                  for p in pairs],
        "centroid_distances": matrix,
        "class_radius": [float(v) if np.isfinite(v) else None for v in spread],
    }}
    return Section(ID, TITLE, "_confusable_classes.html", data, json)
