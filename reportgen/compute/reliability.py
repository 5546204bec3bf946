"""Binned reliability over confidences: equal-width bins (ECE, MCE), equal-mass bins (adaptive ECE) and
class-wise ECE.

Equal-width bins follow torchmetrics' `CalibrationError`: bin b holds confidences in [b/n_bins, (b+1)/n_bins),
and a confidence of exactly 1.0 falls in a slot of its own, [1.0, 1.0], listed after the others when it has
samples (torchmetrics keeps n_bins + 1 slots and buckets with `right=True`). Like torchmetrics (which casts
confidences to float32), values are binned as float32, so a confidence above 1 - 3e-8 counts as 1.0: these are
the predictions saturated in the float32 probabilities that collect keeps. Our float32 edges are the correctly
rounded b/n_bins; torch.linspace's differ by a few ulps at some edges (depending on the CPU's vector width), so
a confidence within ~1e-7 of such an edge may land one bin apart. Bin sums are float64.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reportgen.compute.logit_rows import row_chunks


@dataclass
class Reliability:
    lower: np.ndarray  # (B,) float64, each bin's lower edge
    upper: np.ndarray  # (B,) float64, upper edge (exclusive for equal-width bins but the [1, 1] slot)
    count: np.ndarray  # (B,) int64
    confidence_sum: np.ndarray  # (B,) float64
    correct_sum: np.ndarray  # (B,) float64

    @property
    def gaps(self) -> np.ndarray:
        """(B,) |accuracy - mean confidence| per non-empty bin (empty bins dropped)."""
        full = self.count > 0
        return np.abs(self.correct_sum[full] - self.confidence_sum[full]) / self.count[full]

    @property
    def ece(self) -> float | None:
        """Sum over bins of share x |accuracy - mean confidence|."""
        total = self.count.sum()
        return float(np.abs(self.correct_sum - self.confidence_sum).sum() / total) if total else None

    @property
    def mce(self) -> float | None:
        """The largest |accuracy - mean confidence| over non-empty bins."""
        gaps = self.gaps
        return float(gaps.max()) if gaps.size else None

    def to_json(self) -> list[dict]:
        bins = []
        for lo, hi, count, conf, right in zip(self.lower, self.upper, self.count, self.confidence_sum,
                                              self.correct_sum):
            bins.append({"lower": float(lo), "upper": float(hi), "count": int(count),
                         "accuracy": float(right / count) if count else None,
                         "confidence": float(conf / count) if count else None})
        return bins


def equal_width_edges(n_bins: int) -> np.ndarray:
    """(n_bins + 1,) float32: b / n_bins, correctly rounded."""
    return np.linspace(0.0, 1.0, n_bins + 1, dtype=np.float32)


def equal_width_slots(values: np.ndarray, n_bins: int) -> np.ndarray:
    """Bin index of each value in [0, 1] (compared as float32): [b/n, (b+1)/n) -> b; 1.0 -> n (its own slot)."""
    return np.searchsorted(equal_width_edges(n_bins), values.astype(np.float32), side="right") - 1


def equal_width_reliability(confidence: np.ndarray, correct: np.ndarray, *, n_bins: int = 15) -> Reliability:
    """confidence: (N,) float in [0, 1]; correct: (N,) bool. n_bins bins, plus the [1, 1] slot when used."""
    slots = equal_width_slots(confidence, n_bins)
    count = np.bincount(slots, minlength=n_bins + 1)
    edges = equal_width_edges(n_bins).astype(np.float64)
    lower, upper = np.append(edges[:-1], 1.0), np.append(edges[1:], 1.0)
    keep = n_bins + 1 if count[n_bins] else n_bins
    return Reliability(lower[:keep], upper[:keep], count[:keep],
                       np.bincount(slots, weights=confidence, minlength=n_bins + 1)[:keep],
                       np.bincount(slots, weights=correct, minlength=n_bins + 1)[:keep])


def equal_mass_reliability(confidence: np.ndarray, correct: np.ndarray, *, n_bins: int = 15) -> Reliability:
    """n_bins bins of (nearly) equal count over the sorted confidences; edges are each bin's min and max.

    Ties may straddle two bins (the split is by rank, as in Nixon et al. 2019's adaptive calibration error),
    which keeps the counts equal whatever the ties.
    """
    order = np.argsort(confidence, kind="stable")
    groups = [g for g in np.array_split(order, min(n_bins, len(order))) if len(g)]
    return Reliability(np.array([confidence[g].min() for g in groups]),
                       np.array([confidence[g].max() for g in groups]),
                       np.array([len(g) for g in groups], dtype=np.int64),
                       np.array([confidence[g].sum() for g in groups]),
                       np.array([correct[g].sum() for g in groups], dtype=np.float64))


def classwise_ece(probs: np.ndarray, labels: np.ndarray, *, n_bins: int = 15) -> tuple[float | None, np.ndarray]:
    """Class-wise ECE and its (K,) per-class terms.

    For each class k, the one-vs-rest ECE of p_k against 1[y = k] over all N samples with the equal-width bins
    above; the score is the mean over all K classes. This is Kull et al. 2019's "classwise-ECE" (Beyond
    temperature scaling, NeurIPS, sec. 3), the same as Nixon et al. 2019's static calibration error; per class
    it equals torchmetrics' binary CalibrationError(n_bins, norm="l1").
    probs: (N, K) float; labels: (N,) int.
    """
    n, num_classes = probs.shape
    if n == 0:
        return None, np.full(num_classes, np.nan)
    slots = n_bins + 1
    prob_sum = np.zeros(num_classes * slots)
    label_sum = np.zeros(num_classes * slots)
    columns = np.arange(num_classes) * slots
    for rows in row_chunks(n, num_classes):
        p = probs[rows].astype(np.float64)
        flat = columns + equal_width_slots(p, n_bins)
        prob_sum += np.bincount(flat.ravel(), weights=p.ravel(), minlength=num_classes * slots)
        label_sum += np.bincount(flat[np.arange(len(p)), labels[rows]], minlength=num_classes * slots)
    # share x |accuracy - mean p| = |sum of labels - sum of p| / N, bin by bin
    per_class = np.abs(label_sum - prob_sum).reshape(num_classes, slots).sum(axis=1) / n
    return float(per_class.mean()), per_class
