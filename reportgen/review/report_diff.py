"""`reportgen diff A.json B.json`: what changed from report A to report B, from the two report.json files alone
(no model is run): per-split and per-class deltas, the samples that flipped, the classes worse beyond noise, and
the findings that are new or resolved.

Samples are matched by path (paths are relative to the data root, so two checkouts of the same data match). Over
different data (another fingerprint, or other paths) the per-split numbers stay each report's own, flips and the
shared-sample accuracies cover only the samples both reports have, and a warning says how many that is.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from reportgen.errors import ReportgenError
from reportgen.review.class_regressions import class_changes, worse_classes

METRICS = ("precision", "recall", "f1")


def _change(a, b) -> dict:
    return {"a": a, "b": b, "delta": None if a is None or b is None else b - a}


def identity(report: dict) -> dict:
    """Which report this is: the fields a reader needs to tell two apart."""
    provenance, model = report.get("provenance", {}), report.get("model", {})
    return {"title": report.get("title"), "created": provenance.get("created"), "model_path": model.get("path"),
            "model_sha256": model.get("sha256"), "data_fingerprint": provenance.get("data_fingerprint"),
            "report_html": report.get("report_html"), "n_samples": report.get("n_samples")}


def _samples_by_path(report: dict) -> tuple[dict, int]:
    """path -> sample row (the first, if a manifest lists a file twice), and how many duplicates were dropped."""
    rows = {}
    for row in report.get("samples", []):
        rows.setdefault(row["path"], row)
    return rows, len(report.get("samples", [])) - len(rows)


def _right(row: dict) -> bool:
    # a sample whose logits were NaN/inf has a null loss and never counts as right, as in accuracy
    return row["label"] == row["prediction"] and row.get("loss") is not None


def _flip_row(a: dict, b: dict) -> dict:
    return {"path": b["path"], "split": b["split"], "label": b["label"], "prediction_a": a["prediction"],
            "prediction_b": b["prediction"], "confidence_a": a.get("confidence"), "confidence_b": b.get("confidence"),
            "loss_a": a.get("loss"), "loss_b": b.get("loss")}


def _loss_change(row: dict) -> float:
    worst = 1e9  # a null loss (non-finite logits) is the worst there is
    return (worst if row["loss_b"] is None else row["loss_b"]) - (worst if row["loss_a"] is None else row["loss_a"])


def sample_changes(a: dict, b: dict) -> dict:
    """Flips over the samples both reports hold: fixed (wrong in A, right in B), broken (right, then wrong) and
    changed (wrong in both, another prediction); shared-sample accuracy per split (B's split names) and overall."""
    rows_a, dup_a = _samples_by_path(a)
    rows_b, dup_b = _samples_by_path(b)
    shared = [p for p in rows_b if p in rows_a]
    fixed, broken, changed, relabelled = [], [], [], 0
    right = {}  # split -> [n, right in A, right in B]
    for path in shared:
        ra, rb = rows_a[path], rows_b[path]
        relabelled += ra["label"] != rb["label"]
        was, now = _right(ra), _right(rb)
        for split in ("all", rb["split"]):
            counts = right.setdefault(split, [0, 0, 0])
            counts[0], counts[1], counts[2] = counts[0] + 1, counts[1] + was, counts[2] + now
        if now and not was:
            fixed.append(_flip_row(ra, rb))
        elif was and not now:
            broken.append(_flip_row(ra, rb))
        elif not was and ra["prediction"] != rb["prediction"]:
            changed.append(_flip_row(ra, rb))
    fixed.sort(key=_loss_change)  # the largest loss drop first
    broken.sort(key=lambda r: -_loss_change(r))  # the largest rise first
    return {
        "samples": {"a": len(rows_a), "b": len(rows_b), "shared": len(shared), "only_a": len(rows_a) - len(shared),
                    "only_b": len(rows_b) - len(shared), "duplicate_paths": {"a": dup_a, "b": dup_b},
                    "relabelled": relabelled},
        "shared_accuracy": {split: {"n": n, **_change(ca / n, cb / n)} for split, (n, ca, cb) in right.items()},
        "flips": {"n_fixed": len(fixed), "n_broken": len(broken), "n_changed": len(changed),
                  "fixed": fixed, "broken": broken, "changed": changed},
    }


def split_changes(a: dict, b: dict) -> tuple[dict, dict]:
    """(splits, per_class): every split either report has with its accuracy, mean loss and sample count in
    each; per-class precision/recall/F1 deltas for the splits both have (classes of either)."""
    sa, sb = a.get("splits", {}), b.get("splits", {})
    splits, per_class = {}, {}
    for name in list(sb) + [n for n in sa if n not in sb]:
        x, y = sa.get(name, {}), sb.get(name, {})
        splits[name] = {key: _change(x.get(key), y.get(key)) for key in ("n_samples", "accuracy", "mean_loss")}
        if name in sa and name in sb:
            ca, cb = x.get("per_class", {}), y.get("per_class", {})
            per_class[name] = {c: {**{m: _change(ca.get(c, {}).get(m), cb.get(c, {}).get(m)) for m in METRICS},
                                   "support": _change(ca.get(c, {}).get("support"), cb.get(c, {}).get("support"))}
                               for c in list(cb) + [c for c in ca if c not in cb]}
    return splits, per_class


def _finding_keys(finding: dict) -> list:
    return [("subject", finding["subject"])] * bool(finding.get("subject")) + [("id", finding.get("id"))]


def finding_changes(a: dict, b: dict) -> dict:
    """Findings matched by subject, else by id: new in B, resolved (in A only), and kept (both, A's and B's)."""
    index = {}
    for n, finding in enumerate(a.get("findings", [])):
        for key in _finding_keys(finding):
            index.setdefault(key, n)
    matched, new, kept = set(), [], []
    for finding in b.get("findings", []):
        hit = next((index[k] for k in _finding_keys(finding) if k in index and index[k] not in matched), None)
        if hit is None:
            new.append(finding)
        else:
            matched.add(hit)
            kept.append({"a": a["findings"][hit], "b": finding})
    resolved = [f for n, f in enumerate(a.get("findings", [])) if n not in matched]
    return {"new": new, "resolved": resolved, "kept": kept}


def _class_changes(a: dict, b: dict, flips: dict, split: str) -> list[dict]:
    """class_changes on B's evaluation split over the samples both reports hold (labels and splits as in B)."""
    fixed, broken = (Counter(r["label"] for r in flips[kind] if split == "all" or r["split"] == split)
                     for kind in ("fixed", "broken"))
    in_a, _ = _samples_by_path(a)
    rows_b, _ = _samples_by_path(b)
    support, right = Counter(), Counter()
    for path, row in rows_b.items():
        if path in in_a and (split == "all" or row["split"] == split):
            support[row["label"]] += 1
            right[row["label"]] += _right(row)
    return class_changes(dict(support), right, fixed, broken)


def diff_reports(a: dict, b: dict) -> dict:
    """What changed from report A (older, or the baseline) to report B: two report.json dicts in, one JSON-safe
    dict out. Deltas are B - A."""
    samples = sample_changes(a, b)
    splits, per_class = split_changes(a, b)
    head = (b.get("headline") or a.get("headline") or {}).get("split", "all")
    ha, hb = a.get("headline") or {}, b.get("headline") or {}
    changes = _class_changes(a, b, samples["flips"], head) if a.get("samples") and b.get("samples") else []
    diff = {
        "kind": "reportgen-diff", "a": identity(a), "b": identity(b),
        "headline": {"split": head, "accuracy": _change(ha.get("accuracy"), hb.get("accuracy")),
                     "mean_loss": _change(ha.get("mean_loss"), hb.get("mean_loss"))},
        "splits": splits, "per_class": per_class, **samples,
        "worse_classes": {"split": head, "tested": len(changes), "rows": worse_classes(changes)},
        "findings": finding_changes(a, b),
    }
    diff["same_data"], diff["warnings"] = _warnings(a, b, diff)
    return diff


def _warnings(a: dict, b: dict, diff: dict) -> tuple[bool, list[str]]:
    n, warnings = diff["samples"], []
    fa, fb = diff["a"]["data_fingerprint"], diff["b"]["data_fingerprint"]
    same = fa == fb and n["only_a"] == n["only_b"] == 0 and not n["relabelled"]
    if not a.get("samples") or not b.get("samples"):
        warnings.append("a report has no sample rows, so no flips could be computed")
    elif not same:
        warnings.append(f"the two reports are over different data (fingerprint {str(fa)[:12]} vs {str(fb)[:12]}): "
                        f"flips and shared-sample accuracies cover the {n['shared']:,} samples both hold "
                        f"({n['only_a']:,} only in A, {n['only_b']:,} only in B); per-split numbers are each "
                        "report's own")
    if n["relabelled"]:
        warnings.append(f"{n['relabelled']:,} shared samples carry another label in B than in A")
    if a.get("classes") and b.get("classes") and a["classes"] != b["classes"]:
        warnings.append("the class lists differ; a class in only one report has null scores on the other side")
    return same, warnings


def load_report(path: str | Path) -> dict:
    """A report.json (an HTML report's JSON twin is found beside it), or a ReportgenError saying what is wrong."""
    path = report_path(path)
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ReportgenError(f"{path}: could not be read ({exc.strerror or exc})") from exc
    except ValueError as exc:
        raise ReportgenError(f"{path}: not JSON ({exc}); pass the report.json written beside a report") from exc
    if not is_report(report):
        raise ReportgenError(f"{path}: not a reportgen report.json; pass the JSON written beside a report")
    return report


def report_path(path: str | Path) -> Path:
    """The JSON to read for `path`: itself, or an HTML report's JSON twin beside it."""
    path = Path(path)
    twin = path.with_suffix(".json")
    return twin if path.suffix.lower() in (".html", ".htm") and twin.is_file() else path


def is_report(value) -> bool:
    return isinstance(value, dict) and "schema_version" in value and "splits" in value
