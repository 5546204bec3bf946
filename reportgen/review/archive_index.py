"""`reportgen index DIR -o index.html`: one page over every report under DIR, without re-analysis: a sortable
table, trend charts of chosen metrics across the experiments, filters by model and data, and two picks to
compare.

Each report's entry (index_entry) comes from its report.json, or from the `report-meta` block in its page's
<head> (review/archive_reading.py). Comparing two reports needs their JSON files and Python, which a page can't
run, so the index writes the diff page (review/diff_page.py) of each report against the one before it on the
same data (the pairs a reader compares most: one change at a time), and for any other pair the page shows the
headline deltas from the entries and the `reportgen diff` command to run.
"""

from __future__ import annotations

import hashlib
import os
import shlex
from collections import Counter
from pathlib import Path

from reportgen.errors import ReportgenError
from reportgen.review.archive_reading import created_utc, find_reports

SEVERITIES = ("high", "medium", "low")


def _ece(report: dict, split: str):
    """The evaluation split's expected calibration error, when the report has a calibration section."""
    calibration = report.get("calibration")
    if not isinstance(calibration, dict):
        return None
    return (calibration.get("splits", {}).get(split) or {}).get("ece", calibration.get("ece"))


def index_entry(report: dict) -> dict:
    """The fields the archive index shows and charts, taken from a finished report dict (small: no per-class
    or per-sample values, so the page's <head> can carry it)."""
    provenance = report.get("provenance", {})
    baseline = report.get("baseline") or {}
    head = report.get("headline") or {"split": "all", "accuracy": report.get("accuracy"),
                                      "mean_loss": report.get("mean_loss")}
    delta = (baseline.get("splits", {}).get(head["split"], {}).get("accuracy", {}).get("delta")
             if baseline.get("splits") else baseline.get("accuracy_delta"))
    severities = Counter(f.get("severity") for f in report.get("findings", []))
    return {
        "created": provenance.get("created"),
        "title": report.get("title"),
        "model_path": report.get("model", {}).get("path"),
        "model_sha256": report.get("model", {}).get("sha256"),
        "data_fingerprint": provenance.get("data_fingerprint"),
        "n_samples": report.get("n_samples"),
        "split": head["split"],  # the evaluation split the accuracy is of (train stands apart)
        "accuracy": head.get("accuracy"),
        "mean_loss": head.get("mean_loss"),
        "splits": {name: {key: s.get(key) for key in ("n_samples", "accuracy", "mean_loss")}
                   for name, s in report.get("splits", {}).items()},
        "findings": {s: severities.get(s, 0) for s in SEVERITIES} if "findings" in report else None,
        "ece": _ece(report, head["split"]),
        "baseline_sha256": baseline.get("model", {}).get("sha256"),
        "accuracy_delta": delta,
    }


def _relative(path: Path, output: Path) -> str:
    # "./" first: a file named "javascript:x.html" must stay a relative link
    return "./" + os.path.relpath(path.resolve(), output.parent.resolve()).replace(os.sep, "/")


def metrics(entry: dict) -> dict:
    """The chartable numbers of one entry, flat: "accuracy", "mean_loss", "findings.high", "split.train.accuracy"."""
    flat = {key: entry.get(key) for key in ("accuracy", "mean_loss", "ece", "accuracy_delta", "n_samples")}
    flat |= {f"findings.{s}": n for s, n in (entry.get("findings") or {}).items()}
    flat |= {f"split.{name}.accuracy": s.get("accuracy") for name, s in (entry.get("splits") or {}).items()}
    return flat


def index_rows(found, folder: Path, output: Path) -> list[dict]:
    """One row per report: its entry, an id (from its path in the archive, so it survives moving the archive),
    links to the page and the JSON, and what the charts plot."""
    rows = []
    for report in found:
        source = os.path.relpath(report.json or report.page, folder).replace(os.sep, "/")
        rows.append({**report.entry, "id": hashlib.sha1(source.encode()).hexdigest()[:12],
                     "href": _relative(report.page or report.json, output),
                     "json_href": _relative(report.json, output) if report.json else None,
                     "json_arg": shlex.quote(os.path.relpath(report.json, output.parent)) if report.json else None,
                     "created_utc": created_utc(report.entry.get("created")), "metrics": metrics(report.entry),
                     "diff_previous": None})
    return rows


def chart_specs(rows: list[dict]) -> list[dict]:
    """The trend charts the page can draw, each a few series of `metrics` keys; charts with no value anywhere
    are left out (ECE without a calibration section, the delta without --baseline)."""
    names = {name for r in rows for name in (r.get("splits") or {})}
    evaluation = {r.get("split") for r in rows}
    if len(evaluation) == 1:  # every report's evaluation split: its own line would repeat the first
        names -= evaluation
    splits = sorted(names)
    charts = [
        {"id": "accuracy", "title": "Accuracy", "percent": True, "series":
            [{"key": "accuracy", "name": "evaluation split"}]
            + [{"key": f"split.{s}.accuracy", "name": s, "dash": "dot"} for s in splits]},
        {"id": "mean_loss", "title": "Mean loss (evaluation split)", "series": [{"key": "mean_loss", "name": "mean loss"}]},
        {"id": "findings", "title": "Findings by severity", "series":
            [{"key": f"findings.{s}", "name": s} for s in SEVERITIES]},
        {"id": "ece", "title": "Expected calibration error", "series": [{"key": "ece", "name": "ECE"}]},
        {"id": "accuracy_delta", "title": "Accuracy change vs the run's --baseline", "percent": True,
         "series": [{"key": "accuracy_delta", "name": "Δ accuracy"}]},
        {"id": "n_samples", "title": "Samples analysed", "series": [{"key": "n_samples", "name": "samples"}]},
    ]
    shown = [c for c in charts if any(r["metrics"].get(s["key"]) is not None for r in rows for s in c["series"])]
    for chart in shown:
        chart["on"] = chart["id"] in ("accuracy", "mean_loss", "findings", "ece")
    return shown


def filter_options(rows: list[dict]) -> list[dict]:
    """The page's two filters: by model (sha256, labelled with its file name) and by data fingerprint."""
    def options(field: str, label_field: str | None) -> list[dict]:
        seen: dict = {}
        for r in rows:
            if r.get(field):
                seen.setdefault(r[field], Path(str(r.get(label_field) or "")).name if label_field else "")
        return [{"value": v, "label": f"{v[:12]} {name}".strip() + f" ({sum(r.get(field) == v for r in rows)})"}
                for v, name in sorted(seen.items(), key=lambda item: (item[1], item[0]))]

    return [{"key": "model", "field": "model_sha256", "title": "model (sha256)",
             "options": options("model_sha256", "model_path")},
            {"key": "data", "field": "data_fingerprint", "title": "data fingerprint",
             "options": options("data_fingerprint", None)}]


def write_consecutive_diffs(found, rows: list[dict], folder: Path) -> dict[str, str]:
    """The diff page of each report against the previous one on the same data (by creation time), where both
    have their JSON; returns {"idA|idB": href} and sets each later row's `diff_previous`. One data set at a time,
    so at most two reports are in memory."""
    from reportgen.review.diff_page import write_diff
    from reportgen.review.report_diff import load_report

    groups: dict = {}
    for report, row in sorted(zip(found, rows), key=lambda item: item[1]["created_utc"]):
        if report.json is not None:
            groups.setdefault(row["data_fingerprint"], []).append((report, row))
    pairs = {}
    for members in groups.values():
        before = None
        for report, row in members:
            loaded = load_report(report.json)  # JSON only: two files, no model
            if before is not None:
                page = folder / f"{before[1]['id']}-{row['id']}.html"
                folder.mkdir(parents=True, exist_ok=True)
                write_diff(before[2], loaded, page, sources=(before[0].json, report.json))
                pairs[f"{before[1]['id']}|{row['id']}"] = row["diff_previous"] = f"./{folder.name}/{page.name}"
            before = (report, row, loaded)
    return pairs


def write_index(folder: str | Path, output: str | Path, *, diffs: bool = True) -> list[dict]:
    """Write the index page (and, with `diffs`, each report's diff against the previous one on the same data,
    into `<output stem>-diffs/` beside it); returns its rows, newest first."""
    from reportgen.render.files import write_atomic
    from reportgen.render.page import render_index

    folder, output = Path(folder), Path(output)
    if not folder.is_dir():
        raise ReportgenError(f"{folder}: not a folder; pass the folder that holds your reports")
    diff_folder = output.parent / f"{output.stem}-diffs"
    found = find_reports(folder, skip=(output, diff_folder))
    rows = index_rows(found, folder, output)
    pairs = write_consecutive_diffs(found, rows, diff_folder) if diffs else {}
    output.parent.mkdir(parents=True, exist_ok=True)
    page = {"charts": chart_specs(rows), "filters": filter_options(rows), "diffs": pairs}
    write_atomic(output, render_index(rows, title=f"reportgen reports under {folder}", page=page))
    return rows
