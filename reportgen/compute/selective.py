"""Confidence as a filter: histograms of confidence for right and wrong predictions, the accuracy-coverage
curve of selective prediction (keep only predictions with confidence >= t), and the sentence that sums it up."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

HISTOGRAM_BINS = 20
CURVE_POINTS = 200  # what the page draws; every point is exact, the thinning only drops points
ERROR_CUT = 0.5  # the operating point halves the error rate: a gain a reader can act on, for any accuracy
MIN_KEPT_SHARE = 0.01  # ... while keeping at least 1% of the samples and at least MIN_KEPT_COUNT of them,
MIN_KEPT_COUNT = 10  # so the accuracy quoted is not one lucky sample


@dataclass
class CoverageCurve:
    threshold: np.ndarray  # (M,) float64, distinct confidences, descending
    kept: np.ndarray  # (M,) int64, samples with confidence >= threshold
    right: np.ndarray  # (M,) int64, of those, correct predictions
    total: int

    def point(self, i: int) -> dict:
        return {"threshold": float(self.threshold[i]), "coverage": float(self.kept[i] / self.total),
                "accuracy": float(self.right[i] / self.kept[i]), "count": int(self.kept[i])}


def confidence_histograms(confidence: np.ndarray, correct: np.ndarray, *, bins: int = HISTOGRAM_BINS) -> dict:
    """Counts of right and wrong predictions over shared equal-width confidence bins on [0, 1] (last bin
    closed). confidence: (N,) float; correct: (N,) bool."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    return {"edges": edges.tolist(),
            "correct": np.histogram(confidence[correct], edges)[0].tolist(),
            "wrong": np.histogram(confidence[~correct], edges)[0].tolist()}


def coverage_curve(confidence: np.ndarray, correct: np.ndarray) -> CoverageCurve:
    """One point per distinct confidence t: how many predictions have confidence >= t and how many are right."""
    order = np.argsort(-confidence, kind="stable")
    ranked = confidence[order]
    right = np.cumsum(correct[order])
    ends = np.flatnonzero(np.append(ranked[1:] != ranked[:-1], True)) if len(ranked) else np.zeros(0, int)
    return CoverageCurve(ranked[ends].astype(np.float64), ends + 1, right[ends], len(confidence))


def thinned_points(curve: CoverageCurve, *, max_points: int = CURVE_POINTS) -> list[dict]:
    """At most ~max_points exact points, evenly spaced in coverage, always including full coverage."""
    picks = np.arange(len(curve.kept))
    if len(picks) > max_points:
        wanted = np.linspace(1, curve.total, max_points)
        picks = np.unique(np.searchsorted(curve.kept, wanted))
    return [curve.point(i) for i in picks]


def operating_point(curve: CoverageCurve) -> dict | None:
    """The lowest threshold whose kept predictions have at most half the overall error rate, keeping at least
    max(1% of samples, 10) of them; None when no threshold does (or there is no error to halve)."""
    if not curve.total:
        return None
    overall_error = 1.0 - curve.right[-1] / curve.total
    error = 1.0 - curve.right / curve.kept
    enough = curve.kept >= max(MIN_KEPT_COUNT, MIN_KEPT_SHARE * curve.total)
    good = np.flatnonzero(enough & (error <= ERROR_CUT * overall_error))
    if overall_error == 0 or not len(good):
        return None
    return curve.point(good[-1])


def threshold_text(threshold: float) -> str:
    """0.8312 -> "0.83"; close to 1, enough digits to tell it from 1: 0.99973 -> "0.9997"."""
    digits = 2
    while digits < 8 and round(threshold, digits) >= 1.0 > threshold:
        digits += 1
    return f"{threshold:.{digits}f}"


def coverage_sentence(curve: CoverageCurve, point: dict | None) -> str:
    """The plain sentence for the page, e.g. "keeping predictions with confidence >= 0.83 keeps 91% of samples
    at 97% accuracy (89% on all)"."""
    if not curve.total:
        return "No predictions to filter."
    overall = curve.right[-1] / curve.total
    if overall == 1.0:
        return f"All {curve.total} predictions are right; filtering by confidence cannot help."
    if point is None:
        return (f"No confidence threshold halves the error rate ({1 - overall:.1%}) while keeping at least "
                f"{max(MIN_KEPT_COUNT, int(np.ceil(MIN_KEPT_SHARE * curve.total)))} samples: confidence does not "
                "separate right from wrong predictions well enough to filter on.")
    return (f"Keeping predictions with confidence >= {threshold_text(point['threshold'])} keeps "
            f"{point['coverage']:.0%} of samples at {point['accuracy']:.1%} accuracy ({overall:.1%} on all).")
