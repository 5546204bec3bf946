"""Rank samples whose given label is disputed by the witness that can be trusted for them.

Two witnesses, each trusted where the other is not (measured in bench/bench_mislabels.py):
  - the model: the best evidence on data it was not trained on, where genuinely overlapping classes make the
    neighbours a noisy second opinion. Its samples are ordered by the chance that the label is wrong given the
    model's p and how labels were flipped, estimated by confident learning (compute/noise_matrix.py): doubt that
    points to a look-alike of the label counts for more than doubt spread over classes never mislabelled as it;
  - the sample's embedding neighbours: on its training split the model has memorised wrong labels (p = 1), but a
    memorised "1" that is really a 7 may still sit among 7s. Its samples are ordered by the share of neighbours
    carrying the label (their labels: the model's p for them is memorised too), ties by the support below.
Where it is not known whether the model was trained on a sample, the weaker of the two decides.

A sample's score is 1 - its witness's support (the model's p(label); or the mean of the neighbours' share and
their mean p(label)), with those values handed out among the witness's samples in the order above: the order
within each witness is the sharper one, while how the two witnesses' samples interleave, and how many pass the
threshold, stay as plain support puts them (which witness holds more wrong labels can't be told from the data).

Scaling: at N = 200,000 and K = 1,000 nothing here builds an (N, K) array; per-class work (NaN checks, the noise
matrix, the suggested class) is done in row chunks of at most CHUNK_ELEMENTS values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reportgen.compute.noise_matrix import CHUNK_ELEMENTS, confident_joint, finite_probs, label_wrong
from reportgen.data.discover import SPLIT_NAMES

BASIS = ("model", "neighbours")  # MislabelScores.basis indexes this
TRAINING_SPLITS = ("train", "training")
HELD_OUT_SPLITS = tuple(name for name in SPLIT_NAMES if name not in TRAINING_SPLITS)
METHOD = ("the witness trusted for each sample judges its label: the model where it was not trained on the sample, "
          "ranking by the chance that the label is wrong given how often confident learning finds the model's "
          "favoured classes mislabelled as it; the {k} nearest embedding neighbours where it was (it may have "
          "memorised a wrong label), ranking by the share carrying the label; the weaker of the two where that is "
          "not known. Scores are 1 - the witness's support (p(label), or the mean of the neighbours' share and "
          "their mean p(label)), handed out in that ranking")


@dataclass
class MislabelScores:
    score: np.ndarray  # (N,) float64 in [0, 1]; as many of a witness's samples pass 0.5 as it gives under half
    suggested: np.ndarray  # (N,) int64, the class (other than the given one) that witness favours most
    basis: np.ndarray  # (N,) uint8, index into BASIS: the witness that set the score
    model_label: np.ndarray  # (N,) float64, the model's p(given label)
    model_suggested: np.ndarray  # (N,) float64, the model's p(suggested)
    neighbours_label: np.ndarray  # (N,) float64, share of the k neighbours carrying the given label
    neighbours_suggested: np.ndarray  # (N,) float64, share carrying the suggested label
    neighbours_model_label: np.ndarray  # (N,) float64, mean over the neighbours of the model's p(given label)
    model_wrong: np.ndarray  # (N,) float64, P(label wrong) by the model and the noise matrix; NaN: neighbours judge


def fitted_rows(split: np.ndarray, split_names: list[str]) -> np.ndarray | None:
    """(N,) bool: rows of a split named like a training split; all False when every split is named like a held-out
    one (val, test, ...); None when neither, so it is not known."""
    names = [i for i, name in enumerate(split_names) if name.lower() in TRAINING_SPLITS]
    if names:
        return np.isin(split, names)
    if split_names and all(name.lower() in HELD_OUT_SPLITS for name in split_names):
        return np.zeros(len(split), bool)
    return None


def nonfinite_rows(probs: np.ndarray, chunk: int) -> np.ndarray:
    """(N,) bool: rows of `probs` with a non-finite value, checked `chunk` rows at a time."""
    return np.concatenate([~np.isfinite(probs[start:start + chunk]).all(axis=1)
                           for start in range(0, len(probs), chunk)] or [np.zeros(0, bool)])


def picked(probs: np.ndarray, bad: np.ndarray, rows: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """probs[rows, classes] as float64 (any equal shapes), 1/K on the `bad` rows, as finite_probs makes them."""
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
    model_rows, neighbour_rows = np.flatnonzero(~use_neighbours), np.flatnonzero(use_neighbours)
    model_wrong = np.full(n, np.nan)
    if model_rows.size:
        noise = confident_joint(labels, probs, rows if fitted is None else model_rows)  # the rows not trained on
        model_wrong[model_rows] = label_wrong(labels, probs, model_rows, noise)
    score = np.empty(n)
    score[model_rows] = handed_out(1.0 - model_label, model_rows, model_wrong, 1.0 - model_label)
    score[neighbour_rows] = handed_out(1.0 - support, neighbour_rows, 1.0 - neighbours_label, 1.0 - support)
    suggested = np.empty(n, np.int64)
    for start in range(0, n, chunk):
        block = slice(start, start + chunk)
        evidence = finite_probs(probs[block])
        chosen = np.flatnonzero(use_neighbours[block])
        if chosen.size:
            evidence[chosen] = neighbourhood_support(labels, probs, others[block][chosen])
        suggested[block] = best_other(evidence, labels[block])
    neighbours_suggested = (labels[others] == suggested[:, None]).mean(axis=1) if k else np.full(n, np.nan)
    return MislabelScores(score=np.clip(score, 0.0, 1.0), suggested=suggested,
                          basis=use_neighbours.astype(np.uint8), model_label=model_label,
                          model_suggested=picked(probs, bad, rows, suggested), neighbours_label=neighbours_label,
                          neighbours_suggested=neighbours_suggested, neighbours_model_label=neighbours_model_label,
                          model_wrong=model_wrong)


def handed_out(values: np.ndarray, rows: np.ndarray, first: np.ndarray, then: np.ndarray) -> np.ndarray:
    """values[rows] sorted, handed out to `rows` in ascending order of `first`, ties by `then` (all (N,))."""
    order = rows[np.lexsort((then[rows], first[rows]))]
    out = np.empty(len(values))
    out[order] = np.sort(values[rows])
    return out[rows]


def neighbourhood_support(labels: np.ndarray, probs: np.ndarray, others: np.ndarray) -> np.ndarray:
    """(B, K): per class, the mean of the share of `others` (B, k) carrying it and of the model's mean p of it."""
    b, k = others.shape
    num_classes = probs.shape[1]
    support = np.bincount((np.arange(b)[:, None] * num_classes + labels[others]).reshape(-1),
                          minlength=b * num_classes).reshape(b, num_classes).astype(np.float64)
    for column in others.T:
        support += finite_probs(probs[column])
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
