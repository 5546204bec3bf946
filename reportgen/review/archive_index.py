"""`reportgen index DIR -o index.html`: one sortable page over every report under DIR, without re-analysis.

Each report carries its index entry in the page's `report-meta` JSON block, in the page's <head> before anything
large (report.json holds the same fields), so the index reads the first HEAD_BYTES of each file and never reruns
a model.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from reportgen.errors import ReportgenError

HEAD_BYTES = 64 * 1024  # the block sits after the <title>; a 100 MB page is never read whole
_META = re.compile(r'<script type="application/json" id="report-meta">(.*?)</script>', re.S)


def index_entry(report: dict) -> dict:
    """The fields the archive index shows, taken from a finished report dict."""
    provenance = report.get("provenance", {})
    baseline = report.get("baseline") or {}
    head = report.get("headline") or {"split": "all", "accuracy": report.get("accuracy")}
    delta = (baseline.get("splits", {}).get(head["split"], {}).get("accuracy", {}).get("delta")
             if baseline.get("splits") else baseline.get("accuracy_delta"))
    return {
        "created": provenance.get("created"),
        "title": report.get("title"),
        "model_path": report.get("model", {}).get("path"),
        "model_sha256": report.get("model", {}).get("sha256"),
        "data_fingerprint": provenance.get("data_fingerprint"),
        "n_samples": report.get("n_samples"),
        "split": head["split"],  # the evaluation split the accuracy is of (train stands apart)
        "accuracy": head["accuracy"],
        "baseline_sha256": baseline.get("model", {}).get("sha256"),
        "accuracy_delta": delta,
    }


def read_entry(path: Path) -> dict | None:
    """The index entry embedded in a report page, or None if the file is not a reportgen report."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            text = handle.read(HEAD_BYTES)
    except OSError:
        return None
    match = _META.search(text)
    if not match:
        return None
    try:
        # Jinja's tojson escapes <, >, & and ' as \\u00XX, which json.loads turns back.
        entry = json.loads(match.group(1)).get("index")
    except (ValueError, AttributeError):
        return None
    return entry if isinstance(entry, dict) else None


def find_reports(folder: Path) -> list[tuple[Path, dict]]:
    """(page, entry) for every reportgen page under `folder`, newest first."""
    found = []
    for dirpath, _dirs, names in os.walk(folder, followlinks=False):
        for name in sorted(names):
            if name.lower().endswith((".html", ".htm")):
                path = Path(dirpath) / name
                entry = read_entry(path)
                if entry is not None:
                    found.append((path, entry))
    return sorted(found, key=lambda item: item[1].get("created") or "", reverse=True)


def index_rows(folder: Path, output: Path) -> list[dict]:
    rows = []
    for path, entry in find_reports(folder):
        if path.resolve() == output.resolve():
            continue
        # "./" first: a file named "javascript:x.html" must stay a relative link
        rows.append({**entry, "href": "./" + os.path.relpath(path, output.parent).replace(os.sep, "/")})
    return rows


def write_index(folder: str | Path, output: str | Path) -> list[dict]:
    """Write the index page; returns its rows."""
    from reportgen.render.files import write_atomic
    from reportgen.render.page import render_index

    folder, output = Path(folder), Path(output)
    if not folder.is_dir():
        raise ReportgenError(f"{folder}: not a folder; pass the folder that holds your reports")
    rows = index_rows(folder, output)
    output.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(output, render_index(rows, title=f"reportgen reports under {folder}"))
    return rows
