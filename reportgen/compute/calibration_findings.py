"""Candidate findings from calibration results (calibration.calibration_by_split), for the report's digest.

Each finding is {id, severity, score, text, evidence}: `score` in [0, 1] ranks findings across sections,
`severity` is "high", "medium" or "low", `text` one plain sentence with the numbers.

Thresholds, and why:
- Miscalibration needs ECE >= 0.02 (two points of confidence on average: below that no reader acts) and ECE
  >= twice the ECE a perfectly calibrated model would show on this many samples by chance (the binomial noise
  of each bin's accuracy); severity by ECE: >= 0.10 high (confidence off by ten points), >= 0.05 medium.
  Over- or under-confidence by the sign of mean confidence - accuracy, when it is at least half the ECE;
  otherwise the errors point both ways.
- A temperature counts when outside [0.8, 1.25] and the NLL drops by at least 2% and by at least 0.005 nats (a
  model right on every sample with near-certainty drops from 2e-7 to 0 by "100%", sharpening without end: no
  news); >= 2x (or <= 1/2) high,
  >= 1.5x medium: the fix is one number, so its size is the news. Unless it leaves ECE no lower: then the NLL
  gain comes from a few confident mistakes with huge losses (a style the model never saw, wrong labels), which
  one number does not fix, and the finding is low and says so.
- Poor AP is relative: at least 3 classes with >= 5 positives each, and a class below the median AP by more
  than max(0.10, 3 robust standard deviations (1.4826 x MAD)); severity by the worst gap: >= 0.30 high,
  >= 0.15 medium.
"""

from __future__ import annotations

import numpy as np

ECE_FLOOR = 0.02
ECE_NOISE_FACTOR = 2.0
ECE_HIGH, ECE_MEDIUM = 0.10, 0.05
ECE_FULL_SCORE = 0.15
T_LOW, T_MEDIUM, T_HIGH = 1.25, 1.5, 2.0  # factors away from 1, either way
NLL_GAIN, NLL_MIN_DROP = 0.02, 0.005
AP_MIN_CLASSES, AP_MIN_POSITIVES = 3, 5
AP_GAP_FLOOR, AP_MADS = 0.10, 3.0
AP_HIGH, AP_MEDIUM = 0.30, 0.15
AP_LISTED = 5


def _finding(id_, severity, score, text, evidence) -> dict:
    return {"id": id_, "severity": severity, "score": float(min(1.0, max(0.0, score))), "text": text,
            "evidence": evidence}


def chance_ece(bins: list[dict]) -> float:
    """The ECE a perfectly calibrated model would show by chance with these bins: sum over bins of
    share x E|binomial accuracy - confidence| ~ sqrt(2 / pi) x sqrt(c (1 - c) / count) (normal approximation)."""
    total = sum(b["count"] for b in bins)
    if not total:
        return 0.0
    return sum(np.sqrt(2 / np.pi * b["count"] * b["confidence"] * (1 - b["confidence"]))
               for b in bins if b["count"]) / total


def _worst_bin(bins: list[dict], sign: int) -> dict | None:
    """The bin that adds most to ECE with the gap's sign (+1: confidence above accuracy)."""
    scored = [b for b in bins if b["count"] and sign * (b["confidence"] - b["accuracy"]) > 0]
    return max(scored, key=lambda b: b["count"] * abs(b["confidence"] - b["accuracy"]), default=None)


def miscalibration(split: str, r: dict) -> dict | None:
    ece, bins = r["ece"], r["reliability"]["equal_width"]
    if ece is None or ece < max(ECE_FLOOR, ECE_NOISE_FACTOR * chance_ece(bins)):
        return None
    gap = r["mean_confidence"] - r["accuracy"]
    kind = "over-confident" if gap >= ece / 2 else "under-confident" if gap <= -ece / 2 else "miscalibrated"
    text = f"{split}: the model is {kind}: ECE {ece:.3f}"
    if kind == "miscalibrated":
        text += " with errors both ways"
    else:
        worst = _worst_bin(bins, 1 if kind == "over-confident" else -1)
        if worst is not None:
            text += (f"; at {worst['lower']:.2f}-{worst['upper']:.2f} confidence (mean {worst['confidence']:.2f}) "
                     f"it is right {worst['accuracy']:.0%} of the time")
    if r["ece_after"] is not None:
        verb = "brings ECE to" if r["ece_after"] < ece else "does not lower it:"
        text += f"; temperature scaling (T = {r['temperature']:.2f}) {verb} {r['ece_after']:.3f}"
    severity = "high" if ece >= ECE_HIGH else "medium" if ece >= ECE_MEDIUM else "low"
    slug = kind.replace("-confident", "-confidence")
    return _finding(f"calibration/{split}/{slug}", severity, ece / ECE_FULL_SCORE, text + ".",
                    {"ece": ece, "mean_confidence": r["mean_confidence"], "accuracy": r["accuracy"],
                     "chance_ece": chance_ece(bins), "temperature": r["temperature"], "ece_after": r["ece_after"]})


def temperature_far_from_one(split: str, r: dict) -> dict | None:
    t, before, after = r["temperature"], r["nll"], r["nll_after"]
    if t is None or after is None:
        return None
    factor = max(t, 1 / t)
    gain = (before - after) / before if before > 0 else 0.0
    if factor < T_LOW or gain < NLL_GAIN or before - after < NLL_MIN_DROP:
        return None
    severity = "high" if factor >= T_HIGH else "medium" if factor >= T_MEDIUM else "low"
    meaning = ("logits are too large: confidences too extreme" if t > 1
               else "logits are too small: confidences too timid")
    text = (f"{split}: temperature scaling with T = {t:.2f} cuts NLL from {before:.3f} to {after:.3f} "
            f"({gain:.0%}) without changing any prediction ({meaning}).")
    if r["ece"] is not None and r["ece_after"] is not None and r["ece_after"] >= r["ece"]:
        severity = "low"
        text = (f"{text[:-1]}, but ECE rises from {r['ece']:.3f} to {r['ece_after']:.3f}: the NLL gain comes from a "
                "few confident mistakes with very large losses, which one temperature does not fix.")
    return _finding(f"calibration/{split}/temperature", severity, np.log(factor) / np.log(3.0), text,
                    {"temperature": t, "nll": before, "nll_after": after, "nll_gain": gain})


def poor_average_precision(split: str, r: dict, classes: list[str] | None) -> dict | None:
    ap = np.array([np.nan if v is None else v for v in r["per_class"]["average_precision"]], dtype=float)
    counted = np.flatnonzero(np.isfinite(ap) & (np.asarray(r["per_class"]["positives"]) >= AP_MIN_POSITIVES))
    if len(counted) < AP_MIN_CLASSES:
        return None
    median = float(np.median(ap[counted]))
    spread = 1.4826 * float(np.median(np.abs(ap[counted] - median)))
    cut = median - max(AP_GAP_FLOOR, AP_MADS * spread)
    poor = counted[ap[counted] < cut]
    if not len(poor):
        return None
    poor = poor[np.argsort(ap[poor], kind="stable")]
    worst_gap = median - ap[poor[0]]
    names = [classes[k] if classes else str(k) for k in poor]
    listed = ", ".join(f"{name} {ap[k]:.2f}" for name, k in zip(names[:AP_LISTED], poor))
    more = f" and {len(poor) - AP_LISTED} more" if len(poor) > AP_LISTED else ""
    noun = "class ranks" if len(poor) == 1 else "classes rank"
    text = (f"{split}: {len(poor)} {noun} far below the others by average precision "
            f"(median {median:.2f}): {listed}{more}.")
    severity = "high" if worst_gap >= AP_HIGH else "medium" if worst_gap >= AP_MEDIUM else "low"
    return _finding(f"calibration/{split}/poor-average-precision", severity, worst_gap / 0.5, text,
                    {"median_average_precision": median, "cut": cut,
                     "classes": [{"class": int(k), "name": n, "average_precision": float(ap[k])}
                                 for n, k in zip(names, poor)]})


def calibration_findings(results: dict[str, dict], *, classes: list[str] | None = None) -> list[dict]:
    """Findings for every split in `results` ({split: calibration_for_split(...)}), highest score first."""
    found = []
    for split, r in results.items():
        for finding in (miscalibration(split, r), temperature_far_from_one(split, r),
                        poor_average_precision(split, r, classes)):
            if finding is not None:
                found.append(finding)
    return sorted(found, key=lambda f: -f["score"])
