"""Calibration and ranking scores of one evaluation split, in report.json's shape (issue 19).

`calibration_by_split` chooses the temperature protocol: with both val and test, T is fitted on val and
applied to test (val's own after-scores are out-of-fold); with one evaluation split, 5-fold cross-validation
on it. `calibration_for_split` computes everything for one split. Both return JSON-safe dicts: Python floats,
ints, None for what is undefined (never NaN), lists.

Memory: besides the caller's logits, one (N, K) float32 array of probabilities (and, when some rows are
non-finite, one copy of the finite rows); everything else is per chunk of rows or per block of columns.
"""

from __future__ import annotations

import numpy as np

from reportgen.compute.logit_rows import TopOne, finite_rows, probabilities, top_one
from reportgen.compute.ranking import one_vs_rest_scores, pr_curve, top_k_accuracy
from reportgen.compute.reliability import classwise_ece, equal_mass_reliability, equal_width_reliability
from reportgen.compute.selective import (
    confidence_histograms,
    coverage_curve,
    coverage_sentence,
    operating_point,
    thinned_points,
)
from reportgen.compute.temperature import cross_validated_temperatures, fit_temperature

CONFIDENT_WRONG = 24  # gallery size: wrong predictions, most confident first
PR_CURVES_ALL_UP_TO = 20  # K at most this: a PR curve per class; above it, the WORST_PR_CURVES lowest-AP ones
WORST_PR_CURVES = 10
NO_CHANGE = "Dividing logits by T > 0 changes no prediction, only confidences."


def _number(value) -> float | None:
    value = float(value)
    return value if np.isfinite(value) else None


def _numbers(values: np.ndarray) -> list[float | None]:
    return [_number(v) for v in values]


def prior_baseline(labels: np.ndarray, num_classes: int) -> dict:
    """Always predicting the split's most common class, and predicting its class priors for every sample.

    labels: (N,) int. The priors are the split's own label shares (an optimistic baseline: the best constant
    prediction in hindsight), so its log loss is the entropy of the label distribution.
    """
    counts = np.bincount(labels, minlength=num_classes)
    n = counts.sum()
    if n == 0:
        return {"majority_class": None, "accuracy": None, "log_loss": None}
    shares = counts[counts > 0] / n
    return {"majority_class": int(counts.argmax()), "accuracy": float(counts.max() / n),
            "log_loss": float(-(shares * np.log(shares)).sum())}


def confident_wrong(top: TopOne, index: np.ndarray, *, limit: int = CONFIDENT_WRONG) -> list[dict]:
    """The `limit` most confident wrong predictions; `index` maps rows of `top` to the caller's rows."""
    wrong = np.flatnonzero(~top.correct)
    wrong = wrong[np.argsort(-top.confidence[wrong], kind="stable")[:limit]]
    return [{"index": int(index[i]), "label": int(top.labels[i]), "predicted": int(top.predicted[i]),
             "confidence": float(top.confidence[i])} for i in wrong]


def _pr_curves(probs: np.ndarray, labels: np.ndarray, average_precision: np.ndarray) -> list[dict]:
    scored = np.flatnonzero(np.isfinite(average_precision))
    if probs.shape[1] > PR_CURVES_ALL_UP_TO:
        scored = scored[np.argsort(average_precision[scored], kind="stable")[:WORST_PR_CURVES]]
    return [{"class": int(k), "average_precision": float(average_precision[k])}
            | pr_curve(probs[:, k], labels == k) for k in scored]


def _empty(num_classes: int, excluded: int) -> dict:
    keys = ("accuracy", "mean_confidence", "ece", "mce", "ace", "classwise_ece", "nll", "brier", "temperature",
            "temperature_protocol", "fold_temperatures", "ece_after", "mce_after", "ace_after", "classwise_ece_after",
            "nll_after", "brier_after", "coverage_operating_point")
    return {"n": 0, "excluded_non_finite": excluded} | dict.fromkeys(keys) | {
        "top_k_accuracy": {str(k): None for k in (1, 3, 5) if k <= num_classes},
        "reliability": {"equal_width": [], "equal_mass": [], "equal_width_after": [], "equal_mass_after": []},
        "coverage": [], "coverage_sentence": "No sample with finite logits.",
        "confidence_histograms": None, "per_class": {"roc_auc": [None] * num_classes,
                                                     "average_precision": [None] * num_classes,
                                                     "positives": [0] * num_classes,
                                                     "classwise_ece": [None] * num_classes},
        "pr_curves": [], "prior_baseline": prior_baseline(np.zeros(0, np.int64), num_classes),
        "confident_wrong": []}


def _temperature(logits, labels, *, temperature, fitted_on, split, folds, seed):
    """(per-row T or None, T, fold Ts or None, protocol sentence)."""
    n = len(labels)
    if temperature is not None:
        return temperature, temperature, None, (
            f"T = {temperature:.3g} was fitted on {fitted_on} and applied to {split} ({n} samples). {NO_CHANGE}")
    if n < 2 * folds:
        return None, None, None, f"Too few samples ({n}) to fit a temperature by {folds}-fold cross-validation."
    fitted = fit_temperature(logits, labels)
    row_t, fold_t = cross_validated_temperatures(logits, labels, folds=folds, seed=seed, start=fitted)
    return row_t, fitted, fold_t, (
        f"T = {fitted:.3g} was fitted on all of {split} ({n} samples); the after-scores are out-of-fold: "
        f"{folds}-fold cross-validation (seed {seed}), each fold scaled by the T fitted on the others "
        f"({', '.join(f'{t:.3g}' for t in fold_t)}). {NO_CHANGE}")


def calibration_for_split(logits: np.ndarray, labels: np.ndarray, *, split: str = "this split",
                          temperature: float | None = None, fitted_on: str | None = None, n_bins: int = 15,
                          folds: int = 5, seed: int = 0) -> dict:
    """Every calibration and ranking score of one split, JSON-safe.

    logits: (N, K) float; labels: (N,) int in [0, K). Rows with a non-finite logit are left out and counted
    (`excluded_non_finite`); `n` is what remains. With `temperature` (fitted elsewhere, on `fitted_on`), the
    after-scores apply it; without, they are out-of-fold from `folds`-fold cross-validation on this split.
    Keys: n, excluded_non_finite, accuracy, mean_confidence, ece, mce, ace, classwise_ece, nll, brier,
    temperature, temperature_protocol, fold_temperatures, ece_after, mce_after, ace_after, classwise_ece_after,
    nll_after, brier_after, top_k_accuracy {"1", "3", "5" (k <= K)}, reliability {equal_width, equal_mass,
    equal_width_after, equal_mass_after: [{lower, upper, count, accuracy, confidence}]}, coverage
    [{threshold, coverage, accuracy, count}], coverage_operating_point, coverage_sentence,
    confidence_histograms {edges, correct, wrong}, per_class {roc_auc, average_precision, positives,
    classwise_ece: (K,) lists}, pr_curves [{class, average_precision, threshold, precision, recall}],
    prior_baseline {majority_class, accuracy, log_loss}, confident_wrong [{index, label, predicted, confidence}].
    """
    labels = np.asarray(labels, dtype=np.int64)
    num_classes = logits.shape[1]
    finite = finite_rows(logits)
    index = np.flatnonzero(finite)
    if not finite.all():
        logits, labels = logits[index], labels[index]
    if not len(labels):
        return _empty(num_classes, int((~finite).sum()))
    before = top_one(logits, labels)
    probs = probabilities(logits)
    classwise, per_class_ece = classwise_ece(probs, labels, n_bins=n_bins)
    auc, ap, positives = one_vs_rest_scores(probs, labels)
    curves = _pr_curves(probs, labels, ap)
    del probs
    row_t, fitted, fold_t, protocol = _temperature(logits, labels, temperature=temperature, fitted_on=fitted_on,
                                                   split=split, folds=folds, seed=seed)
    after = top_one(logits, labels, temperature=row_t) if row_t is not None else None
    classwise_after = None
    if after is not None:
        probs = probabilities(logits, temperature=row_t)
        classwise_after = classwise_ece(probs, labels, n_bins=n_bins)[0]
        del probs
    width = equal_width_reliability(before.confidence, before.correct, n_bins=n_bins)
    mass = equal_mass_reliability(before.confidence, before.correct, n_bins=n_bins)
    width_after = equal_width_reliability(after.confidence, after.correct, n_bins=n_bins) if after else None
    mass_after = equal_mass_reliability(after.confidence, after.correct, n_bins=n_bins) if after else None
    curve = coverage_curve(before.confidence, before.correct)
    point = operating_point(curve)
    return {
        "n": len(labels), "excluded_non_finite": int((~finite).sum()),
        "accuracy": float(before.correct.mean()), "mean_confidence": float(before.confidence.mean()),
        "ece": width.ece, "mce": width.mce, "ace": mass.ece, "classwise_ece": classwise,
        "nll": float(before.nll.mean()), "brier": float(before.brier.mean()),
        "temperature": fitted, "temperature_protocol": protocol,
        "fold_temperatures": fold_t.tolist() if fold_t is not None else None,
        "ece_after": width_after.ece if after else None, "mce_after": width_after.mce if after else None,
        "ace_after": mass_after.ece if after else None, "classwise_ece_after": classwise_after,
        "nll_after": float(after.nll.mean()) if after else None,
        "brier_after": float(after.brier.mean()) if after else None,
        "top_k_accuracy": top_k_accuracy(logits, labels),
        "reliability": {"equal_width": width.to_json(), "equal_mass": mass.to_json(),
                        "equal_width_after": width_after.to_json() if after else [],
                        "equal_mass_after": mass_after.to_json() if after else []},
        "coverage": thinned_points(curve), "coverage_operating_point": point,
        "coverage_sentence": coverage_sentence(curve, point),
        "confidence_histograms": confidence_histograms(before.confidence, before.correct),
        "per_class": {"roc_auc": _numbers(auc), "average_precision": _numbers(ap),
                      "positives": positives.tolist(), "classwise_ece": _numbers(per_class_ece)},
        "pr_curves": curves,
        "prior_baseline": prior_baseline(labels, num_classes),
        "confident_wrong": confident_wrong(before, index),
    }


def calibration_by_split(logits: np.ndarray, labels: np.ndarray, split: np.ndarray, split_names: list[str],
                         **options) -> dict[str, dict]:
    """{split name: calibration_for_split(...)} for the evaluation splits (all but "train", unless train is
    the only one). With val and test both present, test is scaled by the T fitted on all of val.
    logits: (N, K); labels, split: (N,) int. `options` go to calibration_for_split. `confident_wrong` indices
    are rows of `logits`."""
    present = [name for i, name in enumerate(split_names) if (split == i).any()]
    evaluated = [name for name in present if name != "train"] or present
    if "val" in evaluated and "test" in evaluated:  # val first: test needs its T
        evaluated = ["val"] + [name for name in evaluated if name != "val"]
    results = {}
    for name in evaluated:
        rows = np.flatnonzero(split == split_names.index(name))
        given = {}
        if name == "test" and "val" in results and results["val"]["temperature"] is not None:
            given = {"temperature": results["val"]["temperature"], "fitted_on": "val"}
        results[name] = calibration_for_split(logits[rows], labels[rows], split=name, **given, **options)
        for row in results[name]["confident_wrong"]:
            row["index"] = int(rows[row["index"]])  # the split's row -> the caller's
    return results
