"""Per-row quantities from logits, computed over row chunks so that only a chunk of float64 (rows, K) exists at
a time: the arrays handed in may be (200,000, 1,000) and are never copied whole."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CHUNK_ELEMENTS = 1 << 16  # 512 KB of float64 per chunk stays in L2: ~1.5-2x faster than 16 MB chunks


@dataclass
class TopOne:
    labels: np.ndarray  # (N,) int64
    confidence: np.ndarray  # (N,) float64, the largest softmax probability
    predicted: np.ndarray  # (N,) int64, argmax (the first class on ties, numpy's rule)
    nll: np.ndarray  # (N,) float64, -log p(label)
    brier: np.ndarray  # (N,) float64, sum over classes of (p_k - y_k)^2

    @property
    def correct(self) -> np.ndarray:
        return self.predicted == self.labels


def row_chunks(num_rows: int, num_classes: int):
    """Slices covering range(num_rows), each of about CHUNK_ELEMENTS elements of a (rows, K) array."""
    step = max(1, CHUNK_ELEMENTS // max(num_classes, 1))
    for start in range(0, num_rows, step):
        yield slice(start, min(start + step, num_rows))


def finite_rows(logits: np.ndarray) -> np.ndarray:
    """(N,) bool: rows whose logits are all finite (a NaN or inf row has no meaningful softmax)."""
    ok = np.empty(len(logits), dtype=bool)
    for rows in row_chunks(len(logits), logits.shape[1]):
        ok[rows] = np.isfinite(logits[rows]).all(axis=1)
    return ok


def top_one(logits: np.ndarray, labels: np.ndarray, *, temperature: float | np.ndarray = 1.0) -> TopOne:
    """Top-1 confidence, prediction, NLL and Brier of softmax(logits / temperature).

    logits: (N, K) finite; labels: (N,) int; temperature: a scalar or (N,) float (one per row, for
    out-of-fold scaling). NLL is logsumexp - z_label in float64, so it stays finite where p underflows.
    """
    labels = np.asarray(labels, dtype=np.int64)
    temperature = np.broadcast_to(np.asarray(temperature, dtype=np.float64), (len(labels),))
    n = len(labels)
    out = TopOne(labels, np.empty(n), np.empty(n, dtype=np.int64), np.empty(n), np.empty(n))
    for rows in row_chunks(n, logits.shape[1]):
        z = logits[rows].astype(np.float64) / temperature[rows, None]
        top = z.max(axis=1)
        e = np.exp(z - top[:, None])
        total = e.sum(axis=1)
        at_label = e[np.arange(len(total)), labels[rows]]
        out.confidence[rows] = 1.0 / total  # the top class's exp is exactly 1
        out.predicted[rows] = z.argmax(axis=1)
        out.nll[rows] = np.log(total) + top - z[np.arange(len(total)), labels[rows]]
        out.brier[rows] = np.einsum("ij,ij->i", e, e) / total ** 2 - 2.0 * at_label / total + 1.0
    return out


def probabilities(logits: np.ndarray, *, temperature: float | np.ndarray = 1.0) -> np.ndarray:
    """(N, K) float32 softmax of finite logits / temperature (a scalar or (N,) float, one per row), float32
    throughout, as torch.softmax on float32 logits gives: within ~2e-6 relative of the float64 values, at half
    the time."""
    probs = np.empty(logits.shape, dtype=np.float32)
    temperature = np.broadcast_to(np.asarray(temperature, dtype=np.float32), (len(logits),))
    for rows in row_chunks(len(logits), logits.shape[1]):
        e = np.array(logits[rows], dtype=np.float32)
        e /= temperature[rows, None]
        e -= e.max(axis=1, keepdims=True)
        np.exp(e, out=e)
        e /= e.sum(axis=1, keepdims=True)
        probs[rows] = e
    return probs
