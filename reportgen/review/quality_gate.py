"""`--fail-under accuracy=0.95 --fail-under recall[cat]=0.8`: a CI gate read from the finished report dict.

A threshold is `[SPLIT:]METRIC[=VALUE]` with METRIC `accuracy` or `precision|recall|f1[CLASS]`. Without a
split it covers every split together (per-class scores from the summed confusion matrices).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from reportgen.compute.classification_metrics import matrix_from_json, per_class_scores
from reportgen.errors import ReportgenError

GATE_FAILED_EXIT_CODE = 3  # distinct from 2 (user error) and 130 (interrupted)
_SPEC = re.compile(r"^(?:(?P<split>[^:=\[\]]+):)?(?P<metric>accuracy|precision|recall|f1)"
                   r"(?:\[(?P<cls>[^\]]+)\])?=(?P<value>[-+0-9.eE]+)$")


@dataclass(frozen=True)
class Threshold:
    metric: str
    value: float
    cls: str | None = None
    split: str | None = None
    text: str = ""


@dataclass(frozen=True)
class GateFailure:
    threshold: Threshold
    actual: float | None

    def __str__(self) -> str:
        got = "n/a" if self.actual is None else f"{self.actual:.4f}"
        return f"{self.threshold.text}: got {got}"


def parse_threshold(text: str) -> Threshold:
    match = _SPEC.match(text.strip())
    if not match or (match["metric"] != "accuracy") != bool(match["cls"]):
        raise ReportgenError(f"--fail-under {text!r}: not understood; write accuracy=0.95, recall[CLASS]=0.8 "
                             "(also precision, f1) or prefix a split, e.g. val:accuracy=0.9")
    try:
        value = float(match["value"])
    except ValueError:
        raise ReportgenError(f"--fail-under {text!r}: {match['value']!r} is not a number") from None
    return Threshold(match["metric"], value, match["cls"], match["split"], text.strip())


def measure(report: dict, threshold: Threshold) -> float | None:
    """The report's value for `threshold`'s metric; ReportgenError if its split or class is not in the report."""
    splits = report.get("splits", {})
    if threshold.split is not None and threshold.split not in splits:
        raise ReportgenError(f"--fail-under {threshold.text}: no split {threshold.split!r} in this report "
                             f"(splits: {', '.join(splits)})")
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
    """Every threshold the report falls below (a missing value, e.g. no samples, fails too). `thresholds`:
    Threshold objects or their text ("accuracy=0.95", "val:recall[cat]=0.8")."""
    failures = []
    for threshold in thresholds:
        if isinstance(threshold, str):
            threshold = parse_threshold(threshold)
        actual = measure(report, threshold)
        if actual is None or actual < threshold.value:
            failures.append(GateFailure(threshold, actual))
    return failures
