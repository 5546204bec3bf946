"""Rank samples whose given label is disputed by both the model and the sample's embedding-space neighbours.

The model's probabilities alone (cleanlab's self-confidence) miss mislabels the model has memorised, which is
every mislabel in the split it was trained on. The neighbours' given labels are a second, independent witness:
a memorised "1" that is really a 7 still sits among 7s in the embedding.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MODEL_WEIGHT = 0.5  # share of the model's probabilities in the blended evidence; the rest is the neighbour vote


@dataclass
class MislabelScores:
    score: np.ndarray  # (N,) float64 in [0, 1]; above 0.5 most of the evidence disputes the given label
    suggested: np.ndarray  # (N,) int64, the class (other than the given one) the evidence favours most
    votes: np.ndarray  # (N, K) float64, share of each sample's k neighbours that carry each given label


def neighbour_label_votes(labels: np.ndarray, neighbour_indices: np.ndarray, num_classes: int) -> np.ndarray:
    """(N, K) share of the neighbours with each label. `neighbour_indices`: (N, k+1), column 0 = self."""
    others = neighbour_indices[:, 1:]
    n, k = others.shape
    if k == 0:
        return np.full((n, num_classes), 1.0 / num_classes)
    rows = np.repeat(np.arange(n), k)
    flat = rows * num_classes + labels[others.reshape(-1)]
    counts = np.bincount(flat, minlength=n * num_classes).reshape(n, num_classes)
    return counts / k


def clean_probs(probs: np.ndarray) -> np.ndarray:
    """(N, K) probabilities with non-finite rows (NaN logits) replaced by the uniform distribution."""
    probs = np.asarray(probs, dtype=np.float64)
    bad = ~np.isfinite(probs).all(axis=1)
    if bad.any():
        probs = probs.copy()
        probs[bad] = 1.0 / probs.shape[1]
    return probs


def mislabel_scores(labels: np.ndarray, probs: np.ndarray, neighbour_indices: np.ndarray, *,
                    model_weight: float = MODEL_WEIGHT) -> MislabelScores:
    """Score = the share of the blended evidence (model probabilities + neighbour vote) against the given label.

    labels: (N,) int; probs: (N, K); neighbour_indices: (N, k+1) with column 0 = the sample itself.
    The margin of the best other class over the given label ranked no better in bench/bench_mislabels.py,
    so the simpler, readable share is used: 0.8 means 80% of the evidence says "not this label".
    """
    labels = np.asarray(labels, dtype=np.int64)
    probs = clean_probs(probs)
    n, num_classes = probs.shape
    votes = neighbour_label_votes(labels, neighbour_indices, num_classes)
    blended = model_weight * probs + (1.0 - model_weight) * votes
    rows = np.arange(n)
    score = np.clip(1.0 - blended[rows, labels], 0.0, 1.0)
    others = blended.copy()
    others[rows, labels] = -np.inf
    suggested = others.argmax(axis=1) if num_classes > 1 else labels.copy()
    return MislabelScores(score=score, suggested=suggested.astype(np.int64), votes=votes)


def ranked_suspects(scores: MislabelScores, *, limit: int, threshold: float = 0.5,
                    rows: np.ndarray | None = None) -> np.ndarray:
    """Indices (among `rows`, default all) with score above `threshold`, best first, at most `limit`."""
    candidates = np.arange(len(scores.score)) if rows is None else np.asarray(rows)
    candidates = candidates[scores.score[candidates] > threshold]
    order = np.argsort(-scores.score[candidates], kind="stable")
    return candidates[order[:limit]]


def precision_at_k(ranked: np.ndarray, truly_flipped: np.ndarray, k: int) -> float:
    """Share of the first `k` ranked indices that are real flips; a ranking shorter than k counts as misses."""
    if k <= 0:
        return float("nan")
    return float(np.isin(np.asarray(ranked)[:k], truly_flipped).sum() / k)
