"""The pull-request comment at K = 1,000 classes with a baseline: under GitHub's comment limit with its header,
findings and truncation note; the classes worse beyond noise with counts and p-values that scipy agrees with."""

import re

import numpy as np
import pytest
from scipy.stats import binomtest, false_discovery_control

from reportgen.compute.paired_tests import benjamini_hochberg, mcnemar_exact
from reportgen.review.class_regressions import baseline_class_changes
from reportgen.review.pr_comment import GITHUB_COMMENT_LIMIT, fit_body
from reportgen.review.pr_markdown import LIMIT_CHARS, pr_summary

K, SUPPORT = 1000, 50
NASTY = "a|b <img src=https://x.example/p.png> @octocat"


def flip_row(name, kind, j, now_right):
    path = f"val/{name}/{kind}_{j}.png"
    prediction, before = (name, "other") if now_right else ("other", name)
    return {"path": path, "split": "val", "label": name, "baseline_prediction": before, "prediction": prediction}


def thousand_class_report(seed=0):
    """A report.json dict as build_report writes it with --baseline, every count made up but consistent."""
    rng = np.random.default_rng(seed)
    classes = [f"class_{i:04d}" for i in range(K)]
    classes[1] = NASTY
    per_class, deltas, fixed, broken, counts = {}, {}, [], [], {}
    for i, name in enumerate(classes):
        right = int(rng.integers(30, 39))
        b, f = (12, 1) if i % 97 == 3 else (int(rng.integers(0, 4)), int(rng.integers(0, 4)))
        counts[name] = (right, b, f)
        fixed += [flip_row(name, "fixed", j, True) for j in range(f)]
        broken += [flip_row(name, "broken", j, False) for j in range(b)]
        recall, recall_before = right / SUPPORT, (right - f + b) / SUPPORT
        per_class[name] = {"precision": recall, "recall": recall, "f1": recall, "support": SUPPORT}
        deltas[name] = {m: {"baseline": recall_before, "new": recall, "delta": recall - recall_before}
                        for m in ("precision", "recall", "f1")}
    split = {"n_samples": K * SUPPORT, "accuracy": 0.7, "mean_loss": 0.9, "per_class": per_class}
    findings = [{"id": f"f{i}", "severity": ("high", "medium", "low")[i % 3], "subject": f"s{i}",
                 "text": f"val: {NASTY} and class_{i:04d} are confused " + "and more " * 20} for i in range(50)]
    return {
        "title": "a thousand classes", "n_samples": 2 * K * SUPPORT, "n_skipped": 0,
        "model": {"path": "/m/new.pt2", "sha256": "ab" * 32}, "classes": classes,
        "headline": {"split": "val", "accuracy": 0.7, "mean_loss": 0.9, "n_samples": K * SUPPORT},
        "splits": {"val": split, "train": dict(split, accuracy=0.8)}, "findings": findings,
        "baseline": {"model": {"path": "/m/old.pt2", "sha256": "cd" * 32}, "n_fixed": len(fixed),
                     "n_broken": len(broken), "fixed": fixed, "broken": broken,
                     "splits": {"val": {"accuracy": {"baseline": 0.71, "new": 0.7, "delta": -0.01},
                                        "per_class": deltas}}},
    }, counts


def outside_code_spans(text):
    return "".join(text.replace("\\`", "").split("`")[::2])


def test_comment_at_a_thousand_classes_fits_and_says_it_was_cut():
    report, _ = thousand_class_report()
    text = pr_summary(report, report_location="https://ci.example/run/1", gate_failures=["accuracy=0.95"])
    assert len(text) <= LIMIT_CHARS < GITHUB_COMMENT_LIMIT
    assert fit_body(text).endswith(text)  # the poster's own cut never fires
    lines = text.splitlines()
    assert lines[0] == "### a thousand classes"
    assert "| **val** (evaluation) | 50000 | 71.0% | **70.0%** | **-1.0 pp** | 0.900 |" in lines
    assert [line[:3] for line in lines if re.match(r"\d\. \*\*", line)] == ["1. ", "2. ", "3. ", "4. ", "5. "]
    assert "**Quality gate failed:** `accuracy=0.95`" in lines
    note = next(line for line in lines if line.startswith("*Truncated to fit one comment"))
    shown = int(re.search(r"([\d,]+) of 1,000 classes shown", note).group(1).replace(",", ""))
    details = lines[next(i for i, line in enumerate(lines) if line.startswith("<details>")):lines.index(note)]
    per_class_rows = [line for line in details if line.startswith("| `")]
    assert 100 < shown == len(per_class_rows) < K
    assert lines.index("</details>") == len(lines) - 3 and lines[-1] == "Full report: https://ci.example/run/1"
    # user-made names can't render HTML or mention anyone outside code spans
    plain = outside_code_spans(text)
    assert "<img" not in plain and "@octocat" not in plain and "&lt;img" in plain


def test_worse_classes_agree_with_scipy():
    report, counts = thousand_class_report()
    split, rows = baseline_class_changes(report)
    assert split == "val" and len(rows) == K
    p = [binomtest(b, b + f, 0.5).pvalue if b + f else 1.0 for _, b, f in counts.values()]
    assert [r["p"] for r in rows] == pytest.approx(p, rel=1e-9, abs=1e-15)
    assert [r["q"] for r in rows] == pytest.approx(false_discovery_control(p), rel=1e-9)
    for r in rows:
        right, b, f = counts[r["class"]]
        assert (r["right_new"], r["right_baseline"], r["broken"], r["fixed"]) == (right, right - f + b, b, f)
    text = pr_summary(report)
    expected = sorted((pv, name) for pv, (name, (_, b, f)) in zip(p, counts.items()) if b > f and pv < 0.05)
    assert f"**Classes worse beyond noise** on val: {len(expected)} (" in text
    name = expected[0][1]
    right, b, f = counts[name]
    assert f"| `{name}` | {right - f + b}/50 → {right}/50 | {b} | {f} | {expected[0][0]:.2g} |" in text


@pytest.mark.parametrize("broken,fixed", [(0, 0), (1, 0), (9, 1), (1, 9), (5, 5), (20, 12), (700, 640)])
def test_exact_mcnemar_is_the_binomial_test(broken, fixed):
    expected = binomtest(broken, broken + fixed, 0.5).pvalue if broken + fixed else 1.0
    assert mcnemar_exact(broken, fixed) == pytest.approx(expected, rel=1e-12)


def test_benjamini_hochberg_matches_scipy():
    p = np.random.default_rng(3).uniform(0, 0.2, 200) ** 2
    assert benjamini_hochberg(p) == pytest.approx(false_discovery_control(p), rel=1e-12)
