"""Groups across classes that add to the confusion matrix instead of restating it.

Clusters of the whole embedding mostly gather the classes the model confuses anyway. Two kinds say more:
  - wrong regardless of label: a region of the shared kNN graph where most samples are wrong, whatever label
    they carry, far more often than the per-class error rates predict (a few errors sprinkled among a
    class's correct samples are the confusion matrix's business and do not make a region);
  - one source: a region where one data source (data_sources.guess_sources) dominates beyond what the labels
    of its samples predict: a possible shortcut.
A region is a connected component of kNN links between samples that each qualify on their own neighbourhood,
so it grows with the data and needs no cluster count.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

MIN_SIZE = 8
MIN_REGION_ERROR = 0.5  # share of a sample's neighbours that are wrong, for a region of errors
ERROR_LIFT = 2.0  # ... at least this many times the error the labels' per-class rates predict
MAX_LABEL_SHARE = 0.8  # a region of one label is a mode of that class (class_modes.py)
MIN_SOURCE_SHARE = 0.8  # share of a sample's neighbours from its own source
SOURCE_LIFT = 1.5  # ... at least this many times the share its label predicts
REPRESENTATIVES = 6


@dataclass
class Cluster:
    kind: str  # "wrong regardless of label" or "one source"
    rows: np.ndarray  # (size,) int64
    labels: dict[int, int]  # label -> count, commonest first
    predicted: dict[int, int]  # prediction -> count, commonest first
    error_rate: float
    expected_error_rate: float  # the members' per-class error rates, averaged
    region_share: float  # of the members' neighbours that are wrong (errors) or from the source (one source)
    mean_loss: float
    source: str | None = None
    expected_source_share: float | None = None  # P(source | label), averaged over the members
    score: float = 0.0
    representatives: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    reasons: list[str] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.rows)


def counts(values: np.ndarray) -> dict[int, int]:
    found = np.bincount(values, minlength=1)
    return {int(v): int(found[v]) for v in np.argsort(-found, kind="stable") if found[v]}


def regions(qualifies: np.ndarray, neighbour_indices: np.ndarray, same: np.ndarray | None = None) -> list:
    """Connected components (>= MIN_SIZE) of the kNN links between qualifying samples (and, given `same`
    (N,), only between samples with equal values of it)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = len(qualifies)
    source = np.repeat(np.arange(n), neighbour_indices.shape[1] - 1)
    target = neighbour_indices[:, 1:].ravel()
    keep = qualifies[source] & qualifies[target]
    if same is not None:
        keep &= same[source] == same[target]
    graph = coo_matrix((np.ones(keep.sum()), (source[keep], target[keep])), shape=(n, n))
    _, component = connected_components(graph, directed=False)
    component = np.where(qualifies, component, -1)
    sizes = np.bincount(component[qualifies], minlength=1)
    return [np.flatnonzero(component == g) for g in np.flatnonzero(sizes >= MIN_SIZE)]


def find_cross_class_clusters(embeddings: np.ndarray, labels: np.ndarray, preds: np.ndarray, loss: np.ndarray,
                              neighbour_indices: np.ndarray, *, sources: np.ndarray | None = None,
                              source_names: Sequence[str] | None = None,
                              class_names: Sequence[str] | None = None) -> list[Cluster]:
    """Regions wrong regardless of label and regions of one source, highest score first.

    embeddings: (N, D); labels, preds: (N,) int; loss: (N,); neighbour_indices: (N, k+1), column 0 the sample
    itself; sources: (N,) int source index per sample, or None when the paths show no sources.
    """
    num_classes = int(max(labels.max(initial=-1), preds.max(initial=-1))) + 1
    names = list(class_names) if class_names is not None else [str(c) for c in range(num_classes)]
    wrong = preds != labels
    near = neighbour_indices[:, 1:]
    class_error = np.bincount(labels, weights=wrong, minlength=num_classes) / np.maximum(
        np.bincount(labels, minlength=num_classes), 1)
    found = []
    region_error = wrong[near].mean(1)
    for rows in regions(wrong & (region_error >= MIN_REGION_ERROR), neighbour_indices):
        expected = float(class_error[labels[rows]].mean())
        share = float(region_error[rows].mean())
        top_label = np.bincount(labels[rows]).max() / len(rows)
        if top_label <= MAX_LABEL_SHARE and share >= ERROR_LIFT * expected:
            found.append(describe("wrong regardless of label", rows, labels, preds, loss, embeddings, expected,
                                  share, score=share * (1 - expected)))
    if sources is not None:
        num_sources = int(sources.max()) + 1
        joint = np.zeros((num_classes, num_sources))
        np.add.at(joint, (labels, sources), 1)
        given_label = joint / np.maximum(joint.sum(1, keepdims=True), 1)  # P(source | label)
        own_share = (sources[near] == sources[:, None]).mean(1)
        expected_own = given_label[labels, sources]
        qualifies = (own_share >= MIN_SOURCE_SHARE) & (own_share >= SOURCE_LIFT * expected_own)
        for rows in regions(qualifies, neighbour_indices, same=sources):
            s = int(sources[rows[0]])
            expected = float(expected_own[rows].mean())
            share = float(own_share[rows].mean())
            cluster = describe("one source", rows, labels, preds, loss, embeddings, float(class_error[
                labels[rows]].mean()), share, score=share - expected)
            cluster.source = source_names[s] if source_names is not None else str(s)
            cluster.expected_source_share = expected
            found.append(cluster)
    for cluster in found:
        cluster.reasons = reasons(cluster, names)
    return sorted(found, key=lambda c: (-c.score, -c.size))


def describe(kind, rows, labels, preds, loss, embeddings, expected, share, score) -> Cluster:
    finite = loss[rows][np.isfinite(loss[rows])]
    x = embeddings[rows]
    picks = rows[np.argsort(np.linalg.norm(x - x.mean(0), axis=1), kind="stable")[:REPRESENTATIVES]]
    return Cluster(kind, rows, counts(labels[rows]), counts(preds[rows]), float(np.mean(preds[rows] != labels[rows])),
                   expected, share, float(finite.mean()) if finite.size else float("nan"),
                   score=float(np.clip(score, 0, 1)), representatives=picks)


def reasons(cluster: Cluster, names) -> list[str]:
    labels = ", ".join(f"{names[c]} ({n})" for c, n in list(cluster.labels.items())[:4])
    top, count = next(iter(cluster.predicted.items()))
    if cluster.kind == "one source":
        return [f"{cluster.region_share:.0%} of its members' neighbours come from source {cluster.source}, "
                f"against {cluster.expected_source_share:.0%} that their labels predict",
                f"labels: {labels}; error {cluster.error_rate:.0%}"]
    return [f"wrong on {cluster.region_share:.0%} of its neighbourhood whatever the label: labels {labels}",
            f"the per-class error rates predict {cluster.expected_error_rate:.0%}",
            f"predicted {names[top]} for {count} of {cluster.size}"]
