"""Ranking quality: top-k accuracy, and per-class one-vs-rest ROC AUC and average precision with PR curves."""

from __future__ import annotations

import numpy as np

from reportgen.compute.logit_rows import row_chunks

SORT_ELEMENTS = 1 << 21  # scores sorted a block of columns at a time: one (N, columns) copy of ~8 MB


def top_k_accuracy(logits: np.ndarray, labels: np.ndarray, *, ks=(1, 3, 5)) -> dict[str, float | None]:
    """{"1": share of rows whose label is among the k highest logits, ...} for each k <= K.

    logits: (N, K) finite; labels: (N,) int. Ties (equal logits) put the higher class index first, as
    scikit-learn's top_k_accuracy_score does (a stable ascending sort, reversed), so "1" can differ from
    argmax accuracy (lowest index first) on rows with a tie at the top. Ranks are counted, not sorted.
    """
    n, num_classes = logits.shape
    ks = [k for k in ks if k <= num_classes]
    if n == 0:
        return {str(k): None for k in ks}
    labels = np.asarray(labels, dtype=np.int64)
    rank = np.empty(n, dtype=np.int64)  # classes ranked above the label
    columns = np.arange(num_classes)
    for rows in row_chunks(n, num_classes):
        z = logits[rows]
        at_label = z[np.arange(len(z)), labels[rows]][:, None]
        ties_above = (z == at_label) & (columns > labels[rows, None])
        rank[rows] = (z > at_label).sum(axis=1) + ties_above.sum(axis=1)
    return {str(k): float((rank < k).mean()) for k in ks}


def one_vs_rest_scores(probs: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-class ROC AUC, average precision and positives, scoring class k by p_k against 1[y = k].

    probs: (N, K); labels: (N,) int. Returns (roc_auc (K,), average_precision (K,)) float64, NaN where a class
    has no positives (or, for AUC, no negatives), and positives (K,) int64. Both equal scikit-learn's
    roc_auc_score and average_precision_score, ties included:
      AUC = (sum of the positives' average ascending ranks - P(P+1)/2) / (P x negatives)   (Mann-Whitney U)
      AP  = mean over positives of the precision at their threshold: TP(score >= s) / #(score >= s)
    Only each column's sorted scores are needed (np.sort, SIMD), then a search for the class's own positives:
    ~1 s at (50,000, 1,000) on one core (bench/bench_calibration.py).
    """
    n, num_classes = probs.shape
    labels = np.asarray(labels, dtype=np.int64)
    positives = np.bincount(labels, minlength=num_classes)[:num_classes].astype(np.int64)
    auc = np.full(num_classes, np.nan)
    ap = np.full(num_classes, np.nan)
    by_label = np.argsort(labels, kind="stable")
    label_starts = np.concatenate([[0], np.cumsum(positives)])
    width = max(1, SORT_ELEMENTS // max(n, 1))
    for first in range(0, num_classes if n else 0, width):
        block = np.arange(first, min(first + width, num_classes))
        ascending = np.sort(probs[:, block], axis=0)
        for j, k in enumerate(block):
            count = positives[k]
            if count == 0:
                continue
            column = ascending[:, j]
            scores = probs[by_label[label_starts[k]:label_starts[k + 1]], k]
            below = np.searchsorted(column, scores, side="left")
            not_above = np.searchsorted(column, scores, side="right")
            if count < n:  # tied scores share the average of their ranks (1-based: below + 1 .. not_above)
                rank_sum = float((below + not_above + 1).sum()) / 2.0
                auc[k] = (rank_sum - count * (count + 1) / 2.0) / (count * (n - count))
            true_pos = count - np.searchsorted(np.sort(scores), scores, side="left")
            ap[k] = float((true_pos / (n - below)).mean())
    return auc, ap, positives


def pr_curve(scores: np.ndarray, positive: np.ndarray, *, max_points: int = 200) -> dict[str, list[float]]:
    """Precision and recall at distinct thresholds (score >= threshold), highest threshold first, thinned to
    at most ~max_points points evenly spaced in rank; each kept point is exact (a point of scikit-learn's
    precision_recall_curve). scores: (N,) float; positive: (N,) bool."""
    order = np.argsort(-scores, kind="stable")
    ranked = scores[order]
    true_pos = np.cumsum(positive[order])
    ends = np.flatnonzero(np.append(ranked[1:] != ranked[:-1], True))
    if len(ends) > max_points:
        wanted = np.linspace(0, len(scores) - 1, max_points)
        ends = np.unique(ends[np.searchsorted(ends, wanted)])
    total = true_pos[-1] if len(true_pos) else 0
    return {"threshold": ranked[ends].astype(float).tolist(),
            "precision": (true_pos[ends] / (ends + 1.0)).tolist(),
            "recall": (true_pos[ends] / total).tolist() if total else [0.0] * len(ends)}
