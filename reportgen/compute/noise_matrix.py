"""How the labels were flipped, by confident learning, and from it the chance that each label is wrong.

Confident learning (Northcutt, Jiang and Chuang, 2021) counts the rows by (given label, class they confidently
are): a row is confidently class c when p(c) reaches c's threshold t_c, the mean p(c) over the rows labelled c,
and it counts for the most probable such class. Each given label's counts are then scaled to that label's number
of rows (the calibrated confident joint). Mixed with a uniform joint (labels independent of the true class) it
gives the noise matrix T[a, y] = P(label y | true class a), and Bayes gives, for a model's p over true classes,

    P(label y is right | p) = p_y T[y, y] / sum_a p_a T[a, y]

so a label is doubted more when the model's doubt points to a class whose samples are often given that label
(a look-alike) than when it points to one that never is. The uniform half keeps a confusion that the joint has not
seen from counting as impossible: the joint also counts the model's own confusions, not just flipped labels.

Scaling: the joint is sparse (at most one entry per row); rows are read in chunks of at most CHUNK_ELEMENTS
values, so nothing (N, K) is built at N = 200,000 and K = 1,000 beyond the caller's probabilities.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CHUNK_ELEMENTS = 1 << 17  # (rows, K) float64 blocks of 1 MB
UNIFORM_SHARE = 0.5  # of the joint's mass given to the uniform joint (bench/bench_mislabels.py measured 0.1-4)


@dataclass
class NoiseMatrix:
    joint: object  # scipy.sparse.csr_matrix (K, K) float64: the calibrated confident joint [given, true]
    label_rows: np.ndarray  # (K,) float64, rows per given label among those counted

    def mixed(self, uniform_share: float) -> tuple[object, np.ndarray, np.ndarray]:
        """(joint scaled by 1 - share, (K,) the uniform joint's value in each cell of row y, (K,) true-class
        totals of the mixture), so that T[a, y] = (joint[y, a] + uniform[y]) / totals[a]."""
        k = len(self.label_rows)
        joint = self.joint * (1.0 - uniform_share)
        uniform = uniform_share * self.label_rows / k
        totals = np.asarray(joint.sum(axis=0)).ravel() + uniform.sum()
        return joint, uniform, totals


def finite_probs(block: np.ndarray) -> np.ndarray:
    """A float64 copy of `block` (B, K), rows with a non-finite value (NaN logits) made the uniform distribution."""
    block = np.array(block, dtype=np.float64)
    block[~np.isfinite(block).all(axis=1)] = 1.0 / block.shape[1]
    return block


def row_blocks(probs: np.ndarray, rows: np.ndarray):
    """(slice into `rows`, finite float64 probs of those rows) over chunks of at most CHUNK_ELEMENTS values."""
    step = max(1, CHUNK_ELEMENTS // probs.shape[1])
    for start in range(0, len(rows), step):
        part = slice(start, start + step)
        yield part, finite_probs(probs[rows[part]])


def confident_joint(labels: np.ndarray, probs: np.ndarray, rows: np.ndarray) -> NoiseMatrix:
    """The calibrated confident joint over `rows` (M,) int; labels: (N,) int; probs: (N, K), not copied."""
    from scipy.sparse import csr_matrix

    rows = np.asarray(rows, dtype=np.int64)
    k = probs.shape[1]
    given = labels[rows]
    label_rows = np.bincount(given, minlength=k).astype(np.float64)
    self_confidence = np.empty(len(rows))
    for part, block in row_blocks(probs, rows):
        self_confidence[part] = block[np.arange(len(block)), given[part]]
    sums = np.bincount(given, weights=self_confidence, minlength=k)
    threshold = np.where(label_rows > 0, sums / np.maximum(label_rows, 1), np.inf)  # no rows: never confident
    confident = np.empty(len(rows), np.int64)
    for part, block in row_blocks(probs, rows):
        above = np.where(block >= threshold, block, -1.0)
        confident[part] = np.where(above.max(axis=1) >= 0, above.argmax(axis=1), -1)
    counted = confident >= 0
    joint = csr_matrix((np.ones(counted.sum()), (given[counted], confident[counted])), shape=(k, k))
    joint.sum_duplicates()
    per_label = np.asarray(joint.sum(axis=1)).ravel()
    scale = np.divide(label_rows, per_label, out=np.zeros(k), where=per_label > 0)
    return NoiseMatrix(csr_matrix(joint.multiply(scale[:, None])), label_rows)


def label_wrong(labels: np.ndarray, probs: np.ndarray, rows: np.ndarray, noise: NoiseMatrix, *,
                uniform_share: float = UNIFORM_SHARE) -> np.ndarray:
    """(M,) float64: P(the label is wrong | the model's p) for `rows` (M,) int, by Bayes with the noise matrix."""
    rows = np.asarray(rows, dtype=np.int64)
    joint, uniform, totals = noise.mixed(uniform_share)
    into = joint.multiply(1.0 / totals[None, :]).tocsr()  # into[y, a] = the joint's part of T[a, y]
    diagonal = into.diagonal() + uniform / totals
    wrong = np.empty(len(rows))
    for part, block in row_blocks(probs, rows):
        given = labels[rows[part]]
        label = block[np.arange(len(given)), given] * diagonal[given]
        every = np.asarray(into[given].multiply(block).sum(axis=1)).ravel() + uniform[given] * (block @ (1 / totals))
        wrong[part] = 1.0 - label / np.maximum(every, np.finfo(float).tiny)
    return np.clip(wrong, 0.0, 1.0)
