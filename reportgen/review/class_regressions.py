"""Which classes got worse beyond noise between two checkpoints scored on the same samples: per class, the
right counts before and now, the samples broken and fixed, an exact McNemar p (compute/paired_tests.py says why
that test and not a two-proportion one) and Benjamini-Hochberg's q across the classes tested."""

from __future__ import annotations

from collections import Counter

from reportgen.compute.paired_tests import benjamini_hochberg, mcnemar_exact

ALPHA = 0.05


def class_changes(support: dict[str, int], right_new: dict[str, int], fixed: Counter, broken: Counter) -> list[dict]:
    """One row per class with samples: {class, support, right_baseline, right_new, broken, fixed, p, q}.

    The baseline's right count is the new one less the fixed plus the broken: the same samples, so it follows.
    q adjusts p over every class tested (classes without a flip count too, with p = 1)."""
    rows = []
    for name, n in support.items():
        if not n:
            continue
        b, f = int(broken.get(name, 0)), int(fixed.get(name, 0))
        rows.append({"class": name, "support": int(n), "right_baseline": int(right_new[name]) - f + b,
                     "right_new": int(right_new[name]), "broken": b, "fixed": f, "p": mcnemar_exact(b, f)})
    for row, q in zip(rows, benjamini_hochberg([r["p"] for r in rows])):
        row["q"] = float(q)
    return rows


def worse_classes(rows: list[dict], alpha: float = ALPHA) -> list[dict]:
    """The classes with more broken than fixed samples at p < alpha, surest first."""
    worse = [r for r in rows if r["broken"] > r["fixed"] and r["p"] < alpha]
    return sorted(worse, key=lambda r: (r["p"], r["fixed"] - r["broken"], r["class"]))


def baseline_class_changes(report: dict) -> tuple[str, list[dict]] | None:
    """(split, class_changes rows) on the report's evaluation split from its --baseline comparison, or None
    without one. Right counts come from the split's recall x support, flips from baseline.fixed/broken."""
    baseline = report.get("baseline")
    if not baseline:
        return None
    split = (report.get("headline") or {}).get("split", "all")
    per_class = report.get("splits", {}).get(split, {}).get("per_class")
    if per_class is None:
        return None
    in_split = lambda rows: [r for r in rows if split == "all" or r.get("split") == split]  # noqa: E731
    fixed = Counter(r["label"] for r in in_split(baseline.get("fixed", [])))
    broken = Counter(r["label"] for r in in_split(baseline.get("broken", [])))
    support = {c: int(s.get("support") or 0) for c, s in per_class.items()}
    right = {c: round((per_class[c].get("recall") or 0.0) * n) for c, n in support.items()}
    return split, class_changes(support, right, fixed, broken)
