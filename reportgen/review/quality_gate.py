"""`--fail-under accuracy=0.95 --fail-under recall[cat]=0.8 --fail-under ece<=0.05`: a CI gate read from the
finished report dict.

A threshold is `[SPLIT:]METRIC=VALUE`, a lower bound, with METRIC `accuracy` or `precision|recall|f1[CLASS]`;
without a split it covers every split together (per-class scores from the summed confusion matrices). Or
`[SPLIT:]METRIC<=VALUE`, an upper bound, with METRIC one of the calibration scores (UPPER_BOUNDED) read from
report["calibration"]; without a split, the evaluation split's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from reportgen.compute.classification_metrics import matrix_from_json, per_class_scores
from reportgen.errors import ReportgenError

GATE_FAILED_EXIT_CODE = 3  # distinct from 2 (user error) and 130 (interrupted)
LOWER_BOUNDED = ("accuracy", "precision", "recall", "f1")
UPPER_BOUNDED = ("ece", "mce", "ace", "classwise_ece", "nll", "brier")  # lower is better
_SPEC = re.compile(r"^(?:(?P<split>[^:=<\[\]]+):)?(?P<metric>[a-z_0-9]+)"
                   r"(?:\[(?P<cls>[^\]]+)\])?(?P<op><=|=)(?P<value>[-+0-9.eE]+)$")
FORMS = ("write accuracy=0.95, recall[CLASS]=0.8 (also precision, f1), ece<=0.05 (also mce, ace, classwise_ece, "
         "nll, brier), or prefix a split, e.g. val:accuracy=0.9")


@dataclass(frozen=True)
class Threshold:
    metric: str
    value: float
    cls: str | None = None
    split: str | None = None
    text: str = ""
    upper: bool = False  # METRIC<=VALUE: fails above the value, not below it

    def fails(self, actual: float | None) -> bool:
        """A missing value (no samples, a failed section) fails either way."""
        return actual is None or (actual > self.value if self.upper else actual < self.value)


@dataclass(frozen=True)
class GateFailure:
    threshold: Threshold
    actual: float | None

    def __str__(self) -> str:
        got = "n/a" if self.actual is None else f"{self.actual:.4f}"
        return f"{self.threshold.text}: got {got}"


def parse_threshold(text: str) -> Threshold:
    match = _SPEC.match(text.strip())
    if not match:
        raise ReportgenError(f"--fail-under {text!r}: not understood; {FORMS}")
    metric, upper = match["metric"], match["op"] == "<="
    if metric in UPPER_BOUNDED and not upper:
        raise ReportgenError(f"--fail-under {text!r}: lower is better for {metric}, so it takes an upper bound: "
                             f"write {metric}<={match['value']}")
    if metric in LOWER_BOUNDED and upper:
        raise ReportgenError(f"--fail-under {text!r}: higher is better for {metric}, so it takes a lower bound: "
                             f"write {text.strip().replace('<=', '=')}")
    if metric not in LOWER_BOUNDED + UPPER_BOUNDED or (metric in ("precision", "recall", "f1")) != bool(match["cls"]):
        raise ReportgenError(f"--fail-under {text!r}: not understood; {FORMS}")
    try:
        value = float(match["value"])
    except ValueError:
        raise ReportgenError(f"--fail-under {text!r}: {match['value']!r} is not a number") from None
    return Threshold(metric, value, match["cls"], match["split"], text.strip(), upper)


def measure_calibration(report: dict, threshold: Threshold) -> float | None:
    """The calibration score of `threshold`'s split, else of the evaluation split; None when the section failed."""
    calibration = report.get("calibration")
    if not calibration:
        return None
    from reportgen.analyses.findings import evaluation_split  # the analyses (torch) only once a report is read

    split = threshold.split or evaluation_split(list(calibration))
    if split not in calibration:
        raise ReportgenError(f"--fail-under {threshold.text}: no calibration scores for split {split!r} "
                             f"(they cover the evaluation splits: {', '.join(calibration)})")
    return calibration[split].get(threshold.metric)


def measure(report: dict, threshold: Threshold) -> float | None:
    """The report's value for `threshold`'s metric; ReportgenError if its split or class is not in the report."""
    splits = report.get("splits", {})
    if threshold.split is not None and threshold.split not in splits:
        raise ReportgenError(f"--fail-under {threshold.text}: no split {threshold.split!r} in this report "
                             f"(splits: {', '.join(splits)})")
    if threshold.metric in UPPER_BOUNDED:
        return measure_calibration(report, threshold)
    if threshold.metric == "accuracy":
        return (splits[threshold.split] if threshold.split else report).get("accuracy")
    classes = report["classes"]
    if threshold.cls not in classes:
        raise ReportgenError(f"--fail-under {threshold.text}: no class {threshold.cls!r} "
                             f"(classes: {', '.join(classes)})")
    if threshold.split:
        return splits[threshold.split]["per_class"][threshold.cls][threshold.metric]
    matrix = sum(matrix_from_json(s) for s in splits.values())
    return float(per_class_scores(matrix)[threshold.metric][classes.index(threshold.cls)])


def check(report: dict, thresholds) -> list[GateFailure]:
    """Every threshold the report falls below, or above for an upper bound (a missing value, e.g. no samples,
    fails too). `thresholds`: Threshold objects or their text ("accuracy=0.95", "val:recall[cat]=0.8",
    "ece<=0.05")."""
    failures = []
    for threshold in thresholds:
        if isinstance(threshold, str):
            threshold = parse_threshold(threshold)
        actual = measure(report, threshold)
        if threshold.fails(actual):
            failures.append(GateFailure(threshold, actual))
    return failures
