"""Confusable classes: pairs the model mixes up, and pairs that sit close in its embedding (Tensorleap's MNIST 1 and 7).

What to do next: collect more of the pair's look-alikes, merge the classes, or sharpen the labelling guide.

Pairs are counted sparsely (from the samples' predictions and kNN links), never as K x K tables: at 10,000
classes a dense pair table is 800 MB.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reportgen.analyses.section import Finding, Result
from reportgen.collect.thumbnails import data_uri
from reportgen.compute.class_geometry import (
    centroid_distances,
    class_means,
    class_spread,
    distance_to_class_mean,
    nearest_class_means,
)
from reportgen.compute.neighbours import ANALYSIS_NEIGHBOURS, Neighbours

ID = "confusable-classes"
TITLE = "Confusable classes"
TEMPLATE = "_confusable_classes.html"
PAIRS_PER_MEASURE = 6  # the top pairs by confusions and by neighbour mixing, united
JSON_PAIRS = 50
EXAMPLES_PER_SIDE = 4
MATRIX_MAX_CLASSES = 30  # a bigger distance matrix is unreadable as a table
MATRIX_JSON_MAX_CLASSES = 100  # above, report.json lists each class's nearest classes instead of K x K distances
NEAREST_CLASSES = 5
MIXING_FINDING = 0.1  # a tenth of a pair's kNN links joining it is overlap worth a sentence
NEIGHBOURS_USED = ANALYSIS_NEIGHBOURS


def pair_counts(first: np.ndarray, second: np.ndarray, num_classes: int) -> dict[tuple[int, int], int]:
    """{(a, b): count} of the ordered pairs (first[i], second[i]) with a != b."""
    codes = first.astype(np.int64) * num_classes + second
    codes = codes[first != second]
    values, counts = np.unique(codes, return_counts=True)
    return {(int(v // num_classes), int(v % num_classes)): int(c) for v, c in zip(values, counts)}


def neighbour_mixing(labels: np.ndarray, neighbour_indices: np.ndarray, num_classes: int) -> dict[tuple[int, int], float]:
    """{(a, b): share}, a < b, of the kNN edges leaving classes a and b that join a to b (both directions).

    neighbour_indices: (N, k+1), column 0 = self. Only pairs with at least one such edge are listed.
    """
    others = neighbour_indices[:, 1:]
    k = others.shape[1]
    edges = pair_counts(np.repeat(labels, k), labels[others.reshape(-1)], num_classes)
    counts = np.bincount(labels, minlength=num_classes).astype(np.float64)
    mixing: dict[tuple[int, int], float] = {}
    for (a, b), n in edges.items():
        key = (min(a, b), max(a, b))
        mixing[key] = mixing.get(key, 0.0) + n
    return {(a, b): n / (k * (counts[a] + counts[b])) for (a, b), n in mixing.items()}


def ranked_pairs(confusions: dict[tuple[int, int], int], mixing: dict[tuple[int, int], float],
                 per_measure: int) -> list[tuple[int, int]]:
    """(a, b) pairs, a < b, in the top `per_measure` by confusions (both ways) or by mixing; most confused first."""
    both: dict[tuple[int, int], int] = {}
    for (a, b), n in confusions.items():
        key = (min(a, b), max(a, b))
        both[key] = both.get(key, 0) + n
    chosen = set(sorted(both, key=lambda p: (-both[p], p))[:per_measure])
    chosen |= set(sorted(mixing, key=lambda p: (-mixing[p], p))[:per_measure])
    return sorted(chosen, key=lambda p: (-both.get(p, 0), -mixing.get(p, 0.0), p))


def look_alike_examples(collected, source: int, target: int) -> list[dict]:
    """Samples labelled `source` that the model finds most like `target` (highest p(target)), wrong ones first."""
    members = np.flatnonzero(collected.labels == source)
    if members.size == 0:
        return []
    p_target = np.nan_to_num(collected.probs[members, target].astype(np.float64))
    order = np.lexsort((-p_target, collected.preds[members] != target))
    return [{"index": int(i), "path": collected.paths[i], "label": collected.classes[source],
             "prediction": collected.classes[collected.preds[i]], "p_target": float(collected.probs[i, target]),
             "thumbnail": data_uri(collected.thumbnails[i])} for i in members[order[:EXAMPLES_PER_SIDE]]]


def nearest_classes(means: np.ndarray, classes: list[str]) -> dict[str, list[dict]]:
    """Each class's NEAREST_CLASSES nearest other class centroids (for many classes, instead of K x K)."""
    present = np.flatnonzero(~np.isnan(means).any(axis=1))
    near = nearest_class_means(means[present], means, {}, count=NEAREST_CLASSES + 1)
    out = {}
    for row, c in enumerate(present):
        pairs = [(int(j), float(d)) for j, d in zip(near["nearest"][row], near["nearest_distance"][row]) if j != c]
        out[classes[c]] = [{"class": classes[j], "distance": round(d, 5)} for j, d in pairs[:NEAREST_CLASSES]]
    return out


PAIR_KEYS = ("a", "b", "confusions", "a_as_b", "b_as_a", "confusion_rate", "neighbour_mixing", "centroid_distance",
             "separation")


@dataclass
class ConfusableResult(Result):
    pairs: list[dict]  # up to JSON_PAIRS, most confused first; the first few carry look-alike examples
    classes: list[str]
    class_radius: list[float | None]
    centroid_distances: list[list[float | None]] | None  # K x K up to MATRIX_JSON_MAX_CLASSES classes
    nearest: dict | None  # above it: each class's nearest classes
    k: int = NEIGHBOURS_USED

    @property
    def shown_pairs(self) -> list[dict]:
        return self.pairs[:PAIRS_PER_MEASURE * 2]

    @property
    def matrix(self):
        return self.centroid_distances if len(self.classes) <= MATRIX_MAX_CLASSES else None

    @property
    def matrix_max(self) -> float:
        values = [v for row in self.centroid_distances or [] for v in row if v is not None]
        return max(values) if values and max(values) > 0 else 1.0

    def findings(self) -> list[Finding]:
        """Pairs that overlap in the embedding (a large share of their kNN links join them, and their centroids
        sit within their radii) while the model rarely confuses them yet: what the confusion matrix does not
        say. Scored by the share of links; the confused pairs are the confusion section's findings."""
        found = []
        for p in self.pairs:
            rate = p["confusion_rate"] or 0.0
            if p["neighbour_mixing"] >= MIXING_FINDING and (p["separation"] or 9) < 1.0 and rate < 0.05:
                found.append(Finding(
                    f"{ID}/{p['a']}|{p['b']}", ID, "medium" if p["neighbour_mixing"] >= 0.2 else "low",
                    p["neighbour_mixing"] * 2, f"{p['a']} and {p['b']} overlap in the model's embedding: "
                    f"{p['neighbour_mixing']:.0%} of their nearest-neighbour links join one to the other and their "
                    f"centroids are {p['separation']:.1f} radii apart, though the model confuses them in only "
                    f"{rate:.1%} of their samples: a margin that may not hold on new data.",
                    [e["index"] for e in p.get("examples_a", []) + p.get("examples_b", [])][:8],
                    subject="pair:" + "|".join(sorted((p["a"], p["b"])))))
        return found[:2]

    def json(self) -> dict:
        out = {"pairs": [{key: p[key] for key in PAIR_KEYS}
                         | {"examples": [e["path"] for e in p.get("examples_a", []) + p.get("examples_b", [])]}
                         for p in self.pairs],
               "class_radius": self.class_radius}
        if self.centroid_distances is not None:
            out["centroid_distances"] = self.centroid_distances
        else:
            out["nearest_classes"] = self.nearest
        return {"confusable_classes": out}


def run(collected, *, neighbours: Neighbours) -> ConfusableResult:
    classes, labels, k = collected.classes, collected.labels, len(collected.classes)
    embeddings = collected.embeddings
    means = class_means(embeddings, labels, k)
    spread = class_spread(distance_to_class_mean(embeddings, labels, means), labels, k)
    confusions = pair_counts(labels, collected.preds, k)
    mixing = neighbour_mixing(labels, neighbours.indices[:, :NEIGHBOURS_USED + 1], k)
    counts = np.bincount(labels, minlength=k)
    pairs = []
    for a, b in ranked_pairs(confusions, mixing, max(PAIRS_PER_MEASURE, JSON_PAIRS // 2))[:JSON_PAIRS]:
        a_as_b, b_as_a = confusions.get((a, b), 0), confusions.get((b, a), 0)
        distance = float(np.linalg.norm(means[a] - means[b]))
        radii = spread[a] + spread[b]
        pairs.append({
            "a": classes[a], "b": classes[b], "a_index": a, "b_index": b,
            "confusions": a_as_b + b_as_a, "a_as_b": a_as_b, "b_as_a": b_as_a,
            "confusion_rate": (a_as_b + b_as_a) / int(counts[a] + counts[b]) if counts[a] + counts[b] else None,
            "neighbour_mixing": float(mixing.get((a, b), 0.0)),
            "centroid_distance": distance if np.isfinite(distance) else None,
            # centroid distance in units of the two classes' mean radii: below ~1 the classes overlap
            "separation": float(distance / radii) if np.isfinite(radii) and radii > 0 and np.isfinite(distance)
            else None,
        })
    for p in pairs[:PAIRS_PER_MEASURE * 2]:
        p["examples_a"] = look_alike_examples(collected, p["a_index"], p["b_index"])
        p["examples_b"] = look_alike_examples(collected, p["b_index"], p["a_index"])
    matrix = nearest = None
    if k <= MATRIX_JSON_MAX_CLASSES:
        matrix = [[float(v) if np.isfinite(v) else None for v in row] for row in centroid_distances(means)]
    else:
        nearest = nearest_classes(means, classes)
    return ConfusableResult(pairs, classes, [float(v) if np.isfinite(v) else None for v in spread], matrix, nearest)
