"""reportgen.compute calibration scores, each cross-checked against an independent implementation:
torchmetrics' CalibrationError, scikit-learn's metrics and calibration_curve, scipy's softmax and bounded
minimiser, and direct formulas. Data are synthetic and seeded."""

from __future__ import annotations

import json
import tracemalloc

import numpy as np
import pytest
import torch
from scipy.optimize import minimize_scalar
from scipy.special import softmax
from sklearn.calibration import calibration_curve
from sklearn.metrics import (
    average_precision_score,
    log_loss,
    precision_recall_curve,
    roc_auc_score,
    top_k_accuracy_score,
)
from torchmetrics.classification import BinaryCalibrationError, MulticlassCalibrationError

from reportgen.compute.calibration import calibration_by_split, calibration_for_split, prior_baseline
from reportgen.compute.calibration_findings import calibration_findings
from reportgen.compute.logit_rows import probabilities, top_one
from reportgen.compute.ranking import one_vs_rest_scores, pr_curve, top_k_accuracy
from reportgen.compute.reliability import classwise_ece, equal_mass_reliability, equal_width_reliability
from reportgen.compute.selective import coverage_curve, operating_point, thinned_points
from reportgen.compute.temperature import fit_temperature


def calibrated(n: int, k: int, *, scale: float = 2.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Logits (N, K) float32 and labels drawn from their own softmax: calibrated by construction."""
    rng = np.random.default_rng(seed)
    logits = (rng.normal(0, scale, (n, k))).astype(np.float32)
    probs = softmax(logits.astype(np.float64), axis=1)
    labels = (probs.cumsum(axis=1) < rng.random((n, 1))).sum(axis=1).clip(0, k - 1)
    return logits, labels


def torchmetrics_ece(probs: np.ndarray, labels: np.ndarray, norm: str) -> float:
    metric = MulticlassCalibrationError(num_classes=probs.shape[1], n_bins=15, norm=norm)
    return float(metric(torch.from_numpy(probs), torch.from_numpy(labels)))


def json_types_only(value) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, str) and json_types_only(v) for k, v in value.items())
    if isinstance(value, list):
        return all(json_types_only(v) for v in value)
    return value is None or type(value) in (bool, int, float, str)


@pytest.mark.parametrize("num_classes", [2, 10])
def test_ece_and_mce_equal_torchmetrics_including_saturated_rows(num_classes):
    logits, labels = calibrated(3000, num_classes, scale=3.0)
    logits = logits * 1.5  # over-confident, so the bins differ in gap
    logits[:40, 0] += 60.0  # top-1 probability 1.0: torchmetrics' extra [1, 1] slot
    probs = softmax(logits.astype(np.float64), axis=1)
    top = top_one(logits, labels)
    width = equal_width_reliability(top.confidence, top.correct)
    assert (top.confidence == 1.0).sum() >= 40 and width.to_json()[-1]["lower"] == 1.0
    # torchmetrics sums float32 confidences: agreement to its precision, and the same samples in each bin
    # (its recipe: float32 top-1 probability, torch.bucketize(right=True) on torch.linspace edges, minus 1)
    assert width.ece == pytest.approx(torchmetrics_ece(probs, labels, "l1"), abs=1e-5)
    assert width.mce == pytest.approx(torchmetrics_ece(probs, labels, "max"), abs=1e-5)
    slots = torch.bucketize(torch.from_numpy(probs.max(axis=1)).float(), torch.linspace(0, 1, 16), right=True) - 1
    assert width.count.tolist() == torch.bincount(slots, minlength=16)[:len(width.count)].tolist()


def test_a_confidence_on_a_bin_edge_goes_to_the_upper_bin_as_in_torchmetrics():
    edges = torch.linspace(0, 1, 16, dtype=torch.float32).numpy()
    shared = edges[(edges == np.linspace(0, 1, 16, dtype=np.float32)) & (edges >= 0.5)]  # spelt alike by both
    confidence = np.repeat(shared, 7).astype(np.float64)
    probs = np.stack([confidence, 1 - confidence], axis=1)
    labels = np.random.default_rng(3).integers(0, 2, len(confidence))
    width = equal_width_reliability(confidence, labels == 0)
    for b in width.to_json():
        if b["count"]:
            assert b["lower"] <= b["confidence"] and (b["confidence"] < b["upper"] or b["lower"] == 1.0)
    assert width.ece == pytest.approx(torchmetrics_ece(probs, labels, "l1"), rel=1e-6)
    assert width.mce == pytest.approx(torchmetrics_ece(probs, labels, "max"), rel=1e-6)


def test_reliability_bins_equal_sklearn_calibration_curve():
    logits, labels = calibrated(4000, 10, scale=3.0, seed=1)
    top = top_one(logits * 1.3, labels)
    bins = [b for b in equal_width_reliability(top.confidence, top.correct).to_json() if b["count"]]
    accuracy, confidence = calibration_curve(top.correct, top.confidence, n_bins=15, strategy="uniform")
    np.testing.assert_allclose([b["accuracy"] for b in bins], accuracy, rtol=1e-12)
    np.testing.assert_allclose([b["confidence"] for b in bins], confidence, rtol=1e-12)


def test_adaptive_ece_uses_equal_count_bins():
    logits, labels = calibrated(2003, 5, seed=2)
    top = top_one(logits * 2, labels)
    mass = equal_mass_reliability(top.confidence, top.correct)
    assert mass.count.sum() == 2003 and mass.count.max() - mass.count.min() <= 1
    order = np.argsort(top.confidence, kind="stable")
    direct = sum(len(g) / 2003 * abs(top.correct[g].mean() - top.confidence[g].mean())
                 for g in np.array_split(order, 15))
    assert mass.ece == pytest.approx(direct, rel=1e-12)


def test_classwise_ece_is_the_mean_of_torchmetrics_binary_ece_per_class():
    logits, labels = calibrated(2500, 6, seed=4)
    probs = probabilities(logits * 1.7)
    mean, per_class = classwise_ece(probs, labels)
    binary = [float(BinaryCalibrationError(n_bins=15, norm="l1")(
        torch.from_numpy(probs[:, k].astype(np.float64)), torch.from_numpy((labels == k).astype(np.int64))))
        for k in range(6)]
    np.testing.assert_allclose(per_class, binary, rtol=1e-9, atol=1e-12)
    assert mean == pytest.approx(np.mean(binary), rel=1e-9)


def test_nll_equals_sklearn_log_loss_and_brier_the_direct_sum():
    logits, labels = calibrated(3000, 8, seed=5)
    top = top_one(logits, labels)
    probs = softmax(logits.astype(np.float64), axis=1)
    assert top.nll.mean() == pytest.approx(log_loss(labels, probs, labels=np.arange(8)), rel=1e-10)
    assert top.brier.mean() == pytest.approx(((probs - np.eye(8)[labels]) ** 2).sum(axis=1).mean(), rel=1e-10)


def test_top_k_accuracy_equals_sklearn_with_ties():
    rng = np.random.default_rng(6)
    logits = np.round(rng.normal(0, 1, (3000, 12)), 1).astype(np.float32)  # many equal logits in a row
    labels = rng.integers(0, 12, 3000)
    ours = top_k_accuracy(logits, labels)
    assert set(ours) == {"1", "3", "5"}
    for k in (1, 3, 5):
        assert ours[str(k)] == top_k_accuracy_score(labels, logits, k=k, labels=np.arange(12))


def test_top_k_for_two_classes_is_top_1_only_and_equals_sklearn():
    logits, labels = calibrated(1000, 2, seed=7)
    ours = top_k_accuracy(logits, labels)
    assert list(ours) == ["1"]
    assert ours["1"] == top_k_accuracy_score(labels, softmax(logits, axis=1)[:, 1], k=1)


def test_roc_auc_and_average_precision_equal_sklearn_per_class_with_ties():
    rng = np.random.default_rng(8)
    logits = np.round(rng.normal(0, 1, (2000, 9)), 1).astype(np.float32)
    labels = rng.integers(0, 8, 2000)  # class 8 has no positives
    labels[:3] = 8
    labels[labels == 7] = 0  # ... and class 7 none either
    probs = probabilities(logits)
    auc, ap, positives = one_vs_rest_scores(probs, labels)
    assert positives.tolist() == np.bincount(labels, minlength=9).tolist()
    for k in range(9):
        if positives[k] == 0:
            assert np.isnan(auc[k]) and np.isnan(ap[k])
            continue
        assert auc[k] == pytest.approx(roc_auc_score(labels == k, probs[:, k]), abs=1e-12)
        assert ap[k] == pytest.approx(average_precision_score(labels == k, probs[:, k]), abs=1e-12)


def test_pr_curve_points_are_points_of_sklearns_curve():
    logits, labels = calibrated(5000, 4, seed=9)
    probs = probabilities(logits)
    ours = pr_curve(probs[:, 1], labels == 1, max_points=50)
    assert len(ours["threshold"]) <= 50
    precision, recall, thresholds = precision_recall_curve(labels == 1, probs[:, 1])
    at = {float(t): (p, r) for p, r, t in zip(precision, recall, thresholds)}
    for t, p, r in zip(ours["threshold"], ours["precision"], ours["recall"]):
        assert at[t] == pytest.approx((p, r), abs=1e-12)


@pytest.mark.parametrize("true_t", [2.0, 0.5])
def test_temperature_scaling_recovers_a_known_temperature(true_t):
    logits, labels = calibrated(20000, 10, scale=2.0, seed=10)
    fitted = fit_temperature(logits * true_t, labels)
    assert fitted == pytest.approx(true_t, rel=0.03)


def test_temperature_is_the_nll_minimum_found_by_scipy_and_nll_does_not_rise():
    logits, labels = calibrated(3000, 7, seed=11)
    logits = logits * 1.8
    fitted = fit_temperature(logits, labels)
    scipy_fit = minimize_scalar(lambda log_t: top_one(logits, labels, temperature=np.exp(log_t)).nll.mean(),
                                bounds=(-3, 3), method="bounded", options={"xatol": 1e-9})
    assert fitted == pytest.approx(np.exp(scipy_fit.x), rel=1e-4)
    assert top_one(logits, labels, temperature=fitted).nll.mean() <= top_one(logits, labels).nll.mean()


def test_temperature_never_changes_a_prediction():
    logits, labels = calibrated(2000, 10, seed=12)
    before = top_one(logits, labels).predicted
    for t in (0.05, 0.7, 1.9, 20.0, np.linspace(0.3, 3.0, 2000)):
        assert (top_one(logits, labels, temperature=t).predicted == before).all()
    result = calibration_for_split(logits * 2, labels)
    right = sum(b["accuracy"] * b["count"] for b in result["reliability"]["equal_width"] if b["count"])
    right_after = sum(b["accuracy"] * b["count"] for b in result["reliability"]["equal_width_after"] if b["count"])
    assert right == pytest.approx(right_after)
    assert result["nll_after"] <= result["nll"]


def test_protocol_fits_on_val_for_test_and_cross_validates_a_lone_split():
    logits, labels = calibrated(3000, 5, seed=13)
    logits = logits * 1.5
    split = np.arange(3000) % 3
    both = calibration_by_split(logits, labels, split, ["train", "val", "test"])
    assert list(both) == ["val", "test"]
    assert both["test"]["temperature"] == both["val"]["temperature"]
    assert "fitted on val" in both["test"]["temperature_protocol"]
    assert both["test"]["fold_temperatures"] is None and len(both["val"]["fold_temperatures"]) == 5
    lone = calibration_by_split(logits, labels, split % 2, ["train", "val"])
    assert list(lone) == ["val"] and "5-fold cross-validation" in lone["val"]["temperature_protocol"]
    assert "changes no prediction" in lone["val"]["temperature_protocol"]
    assert calibration_by_split(logits, labels, split % 2, ["train", "val"]) == lone  # seeded, deterministic


def test_coverage_curve_and_operating_point_against_brute_force():
    logits, labels = calibrated(5000, 10, seed=14)
    top = top_one(logits, labels)
    curve = coverage_curve(top.confidence, top.correct)
    points = thinned_points(curve)
    assert len(points) <= 200 and points[-1]["coverage"] == 1.0
    for p in points[::17]:
        kept = top.confidence >= p["threshold"]
        assert p["coverage"] == kept.mean() and p["accuracy"] == top.correct[kept].mean()
    chosen = operating_point(curve)
    error = 1 - top.correct.mean()
    ok = [t for t in np.unique(top.confidence) if (top.confidence >= t).sum() >= 50
          and 1 - top.correct[top.confidence >= t].mean() <= error / 2]
    assert chosen["threshold"] == min(ok)


def test_prior_baseline_equals_sklearn_log_loss_of_the_priors():
    labels = np.random.default_rng(15).choice(4, 1000, p=[0.5, 0.3, 0.15, 0.05])
    priors = np.bincount(labels, minlength=4) / 1000
    baseline = prior_baseline(labels, 4)
    assert baseline["majority_class"] == 0 and baseline["accuracy"] == priors.max()
    assert baseline["log_loss"] == pytest.approx(log_loss(labels, np.tile(priors, (1000, 1))), rel=1e-12)


def test_non_finite_rows_are_left_out_counted_and_never_make_nan():
    logits, labels = calibrated(1500, 6, seed=16)
    dirty = logits.copy()
    dirty[[3, 50, 700]] = np.nan
    dirty[900, 2] = np.inf
    dirty[901, 0] = -np.inf
    result = calibration_for_split(dirty, labels)
    keep = np.setdiff1d(np.arange(1500), [3, 50, 700, 900, 901])
    clean = calibration_for_split(logits[keep], labels[keep])
    assert result["excluded_non_finite"] == 5 and result["n"] == 1495
    assert result["ece"] == clean["ece"] and result["nll"] == clean["nll"]
    assert [w["index"] for w in result["confident_wrong"]] == [keep[w["index"]] for w in clean["confident_wrong"]]
    json.dumps(result, allow_nan=False)
    everything_bad = calibration_for_split(np.full((4, 6), np.nan, np.float32), labels[:4])
    assert everything_bad.keys() == result.keys() and everything_bad["excluded_non_finite"] == 4
    json.dumps(everything_bad, allow_nan=False)


@pytest.mark.parametrize("num_classes", [2, 1000])
def test_result_shape_and_json_safety(num_classes):
    logits, labels = calibrated(3000, num_classes, seed=17)
    result = calibration_for_split(logits * 1.5, labels, split="val")
    assert json_types_only(result)
    json.dumps(result, allow_nan=False)
    assert set(result["top_k_accuracy"]) == ({"1"} if num_classes == 2 else {"1", "3", "5"})
    for key in ("roc_auc", "average_precision", "positives", "classwise_ece"):
        assert len(result["per_class"][key]) == num_classes
    assert len(result["reliability"]["equal_width"]) in (15, 16) and len(result["reliability"]["equal_mass"]) == 15
    assert len(result["pr_curves"]) == (2 if num_classes == 2 else 10)
    for key in ("ece", "mce", "ace", "classwise_ece", "nll", "brier", "temperature", "ece_after", "nll_after"):
        assert isinstance(result[key], float)


def test_memory_stays_within_a_few_n_by_k_arrays():
    rng = np.random.default_rng(18)
    logits = rng.normal(0, 3, (20000, 1000)).astype(np.float32)
    labels = np.where(rng.random(20000) < 0.7, logits.argmax(axis=1), rng.integers(0, 1000, 20000))
    tracemalloc.start()
    calibration_for_split(logits, labels)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    # the float32 probabilities are one logits-sized array; a float64 (N, K) alone would be two
    assert peak < 1.6 * logits.nbytes, f"peak {peak / 1e6:.0f} MB for {logits.nbytes / 1e6:.0f} MB of logits"


def test_findings_name_over_and_under_confidence_and_a_poorly_ranked_class():
    logits, labels = calibrated(6000, 10, seed=19)
    labels[labels == 3] = np.random.default_rng(0).integers(0, 10, (labels == 3).sum())  # class 3: noise
    classes = [f"c{k}" for k in range(10)]
    results = {"val": calibration_for_split(logits * 2.5, labels, split="val"),
               "test": calibration_for_split(logits * 0.5, labels, split="test")}
    findings = calibration_findings(results, classes=classes)
    by_id = {f["id"]: f for f in findings}
    over, under = by_id["calibration/val/over-confidence"], by_id["calibration/test/under-confidence"]
    assert over["severity"] == "high" and f"ECE {results['val']['ece']:.3f}" in over["text"]
    assert f"T = {results['val']['temperature']:.2f}" in by_id["calibration/val/temperature"]["text"]
    assert results["val"]["temperature"] > 2
    assert under["text"].startswith("test: the model is under-confident")
    assert [c["name"] for c in by_id["calibration/val/poor-average-precision"]["evidence"]["classes"]] == ["c3"]
    assert all(f["severity"] in {"high", "medium", "low"} and 0 <= f["score"] <= 1 for f in findings)
    assert [f["score"] for f in findings] == sorted((f["score"] for f in findings), reverse=True)
    json.dumps(findings, allow_nan=False)


def test_a_calibrated_model_raises_no_calibration_finding():
    logits, labels = calibrated(20000, 10, seed=20)
    found = calibration_findings({"val": calibration_for_split(logits, labels, split="val")})
    assert not [f for f in found if "confiden" in f["id"] or "temperature" in f["id"]]


def test_classwise_ece_after_scaling_is_torchmetrics_on_the_scaled_probabilities():
    logits, labels = calibrated(2400, 5, seed=20)
    split = np.arange(2400) % 2
    result = calibration_by_split(logits * 2.0, labels, split, ["val", "test"])["test"]
    rows = split == 1
    scaled = softmax(logits[rows].astype(np.float64) * 2.0 / result["temperature"], axis=1)
    binary = [float(BinaryCalibrationError(n_bins=15, norm="l1")(
        torch.from_numpy(scaled[:, k]), torch.from_numpy((labels[rows] == k).astype(np.int64)))) for k in range(5)]
    assert result["classwise_ece_after"] == pytest.approx(np.mean(binary), rel=1e-4, abs=1e-6)
    assert result["classwise_ece_after"] < result["classwise_ece"]


def test_confident_wrong_rows_of_each_split_are_rows_of_the_whole_array():
    logits, labels = calibrated(900, 4, seed=21)
    split = np.arange(900) % 3
    results = calibration_by_split(logits * 2.0, labels, split, ["train", "val", "test"])
    for s, name in ((1, "val"), (2, "test")):
        wrong = results[name]["confident_wrong"]
        assert wrong and all(split[w["index"]] == s and labels[w["index"]] == w["label"] for w in wrong)
        top = top_one(logits[[w["index"] for w in wrong]] * 2.0, labels[[w["index"] for w in wrong]])
        np.testing.assert_allclose(top.confidence, [w["confidence"] for w in wrong])


def test_a_temperature_that_leaves_ece_higher_is_a_low_finding_that_says_so():
    logits, labels = calibrated(3000, 5, seed=22)
    wrong = np.flatnonzero(logits.argmax(axis=1) != labels)[:60]
    logits[wrong, logits[wrong].argmax(axis=1)] += 40.0  # a few certain mistakes: huge losses drive T up
    result = calibration_for_split(logits, labels, split="val")
    assert result["temperature"] > 2 and result["nll_after"] < result["nll"] and result["ece_after"] > result["ece"]
    found = {f["id"]: f for f in calibration_findings({"val": result})}["calibration/val/temperature"]
    assert found["severity"] == "low" and f"ECE rises from {result['ece']:.3f}" in found["text"]


def test_a_model_right_on_every_sample_with_near_certainty_raises_no_temperature_finding():
    rng = np.random.default_rng(23)
    labels = rng.integers(0, 3, 24)
    logits = rng.normal(0, 1, (24, 3)).astype(np.float32)
    logits[np.arange(24), labels] += 16.0  # every prediction right, confidence ~1 - 1e-7
    result = calibration_for_split(logits, labels, split="val")
    assert result["temperature"] < 0.8 and result["nll"] < 1e-5  # sharpening helps, by nothing a reader would act on
    assert calibration_findings({"val": result}) == []
