"""Rank samples whose given label is disputed by the witness that can be trusted for them.

Two witnesses, each trusted where the other is not (measured in bench/bench_mislabels.py):
  - the model's probability of the label: the best evidence on data it was not trained on, where genuinely
    overlapping classes make the neighbours a noisy second opinion (cleanlab's self-confidence);
  - the label's support among the sample's embedding neighbours (the share carrying the label and the model's
    mean probability of it for them): on its training split the model has memorised wrong labels (p = 1),
    but a memorised "1" that is really a 7 may still sit among 7s.
Where it is not known whether the model was trained on a sample, the weaker of the two decides.

Scaling: at N = 50,000 and K = 1,000 nothing here builds an (N, K) array; per-class work (NaN checks, the
suggested class) is done in row chunks of at most CHUNK_ELEMENTS values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BASIS = ("model", "neighbours")  # MislabelScores.basis indexes this
TRAINING_SPLITS = ("train", "training")
CHUNK_ELEMENTS = 1 << 17  # (rows, K) float64 blocks of 1 MB
METHOD = ("score = 1 - the support for the given label from the witness trusted for that sample: the model's "
          "probability of it where the model was not trained on the sample; where it was (it may have memorised a "
          "wrong label), the mean of the share of the {k} nearest embedding neighbours carrying the label and the "
          "model's mean probability of it for them; where that is not known, the weaker of the two")


@dataclass
class MislabelScores:
    score: np.ndarray  # (N,) float64 in [0, 1]; above 0.5 the trusted witness gives the label less than half
    suggested: np.ndarray  # (N,) int64, the class (other than the given one) that witness favours most
    basis: np.ndarray  # (N,) uint8, index into BASIS: the witness that set the score
    model_label: np.ndarray  # (N,) float64, the model's p(given label)
    model_suggested: np.ndarray  # (N,) float64, the model's p(suggested)
    neighbours_label: np.ndarray  # (N,) float64, share of the k neighbours carrying the given label
    neighbours_suggested: np.ndarray  # (N,) float64, share carrying the suggested label
    neighbours_model_label: np.ndarray  # (N,) float64, mean over the neighbours of the model's p(given label)


def fitted_rows(split: np.ndarray, split_names: list[str]) -> np.ndarray | None:
    """(N,) bool: rows of a split named like a training split; None when no split is, so it is not known."""
    names = [i for i, name in enumerate(split_names) if name.lower() in TRAINING_SPLITS]
    return np.isin(split, names) if names else None


def finite_rows(block: np.ndarray) -> np.ndarray:
    """A float64 copy of `block` (B, K), rows with a non-finite value (NaN logits) made the uniform distribution."""
    block = np.array(block, dtype=np.float64)
    block[~np.isfinite(block).all(axis=1)] = 1.0 / block.shape[1]
    return block


def nonfinite_rows(probs: np.ndarray, chunk: int) -> np.ndarray:
    """(N,) bool: rows of `probs` with a non-finite value, checked `chunk` rows at a time."""
    return np.concatenate([~np.isfinite(probs[start:start + chunk]).all(axis=1)
                           for start in range(0, len(probs), chunk)] or [np.zeros(0, bool)])


def picked(probs: np.ndarray, bad: np.ndarray, rows: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """probs[rows, classes] as float64 (any equal shapes), 1/K on the `bad` rows, as finite_rows makes them."""
    values = probs[rows, classes].astype(np.float64)
    values[bad[rows]] = 1.0 / probs.shape[1]
    return values


def best_other(support: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """(B,) argmax of `support` (B, K) over the classes other than each row's label (modifies `support`)."""
    if support.shape[1] == 1:
        return labels.copy()
    support[np.arange(len(labels)), labels] = -np.inf
    return support.argmax(axis=1)


def mislabel_scores(labels: np.ndarray, probs: np.ndarray, neighbour_indices: np.ndarray, *,
                    fitted: np.ndarray | None = None) -> MislabelScores:
    """labels: (N,) int; probs: (N, K) float32 or float64, not copied; neighbour_indices: (N, k+1), column 0 =
    the sample itself; fitted: (N,) bool, True where the model was trained on the sample, None = not known."""
    labels = np.asarray(labels, dtype=np.int64)
    n, num_classes = probs.shape
    chunk = max(1, CHUNK_ELEMENTS // num_classes)
    others = np.asarray(neighbour_indices)[:, 1:]
    k = others.shape[1]
    rows = np.arange(n)
    bad = nonfinite_rows(probs, chunk)
    model_label = picked(probs, bad, rows, labels)
    if k == 0:  # no neighbours: the model is the only witness
        neighbours_label = neighbours_model_label = np.full(n, np.nan)
        support, use_neighbours = model_label, np.zeros(n, bool)
    else:
        neighbours_label = (labels[others] == labels[:, None]).mean(axis=1)
        neighbours_model_label = picked(probs, bad, others, labels[:, None]).mean(axis=1)
        support = (neighbours_label + neighbours_model_label) / 2
        use_neighbours = support < model_label if fitted is None else np.asarray(fitted, dtype=bool)
    score = 1.0 - np.where(use_neighbours, support, model_label)
    suggested = np.empty(n, np.int64)
    for start in range(0, n, chunk):
        block = slice(start, start + chunk)
        evidence = finite_rows(probs[block])
        chosen = np.flatnonzero(use_neighbours[block])
        if chosen.size:
            evidence[chosen] = neighbourhood_support(labels, probs, others[block][chosen])
        suggested[block] = best_other(evidence, labels[block])
    neighbours_suggested = (labels[others] == suggested[:, None]).mean(axis=1) if k else np.full(n, np.nan)
    return MislabelScores(score=np.clip(score, 0.0, 1.0), suggested=suggested,
                          basis=use_neighbours.astype(np.uint8), model_label=model_label,
                          model_suggested=picked(probs, bad, rows, suggested), neighbours_label=neighbours_label,
                          neighbours_suggested=neighbours_suggested, neighbours_model_label=neighbours_model_label)


def neighbourhood_support(labels: np.ndarray, probs: np.ndarray, others: np.ndarray) -> np.ndarray:
    """(B, K): per class, the mean of the share of `others` (B, k) carrying it and of the model's mean p of it."""
    b, k = others.shape
    num_classes = probs.shape[1]
    support = np.bincount((np.arange(b)[:, None] * num_classes + labels[others]).reshape(-1),
                          minlength=b * num_classes).reshape(b, num_classes).astype(np.float64)
    for column in others.T:
        support += finite_rows(probs[column])
    support /= 2 * k
    return support


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
