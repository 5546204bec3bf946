"""Finding the reports under a folder for the archive index, reading as little as possible of each.

A report is its JSON twin (`X.json` beside `X.html`, what `reportgen` writes by default), read whole: it is
the machine-readable copy. A page without a twin gives the `report-meta` block in its <head>, within the first
HEAD_BYTES; an HTML file is never read past those. A JSON file is parsed only when its first bytes name a
`schema_version`, so an unrelated 500 MB annotation file beside the reports costs one small read.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

HEAD_BYTES = 64 * 1024  # the block sits after the <title>; a 100 MB page is never read whole
JSON_PEEK_BYTES = 4096
_META = re.compile(r'<script type="application/json" id="report-meta">(.*?)</script>', re.S)


@dataclass
class FoundReport:
    page: Path | None  # the HTML report, when there is one
    json: Path | None  # its report.json, when there is one: the diff reads it
    entry: dict  # archive_index.index_entry's fields


def created_utc(created) -> str:
    """'YYYY-MM-DD HH:MM:SS' in UTC ('' if unreadable): sortable as text across time zones, and a date plotly
    reads (it ignores UTC offsets)."""
    try:
        moment = datetime.fromisoformat(str(created))
    except ValueError:
        return ""
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _head(path: Path, size: int) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read(size)
    except OSError:
        return None


def read_entry(path: Path) -> dict | None:
    """The index entry embedded in a report page, or None if the file is not a reportgen report."""
    text = _head(path, HEAD_BYTES)
    match = _META.search(text or "")
    if not match:
        return None
    try:
        # Jinja's tojson escapes <, >, & and ' as \\u00XX, which json.loads turns back.
        entry = json.loads(match.group(1)).get("index")
    except (ValueError, AttributeError):
        return None
    return entry if isinstance(entry, dict) else None


def read_report_json(path: Path) -> dict | None:
    """A report.json's dict, or None for any other JSON (or an unreadable file)."""
    from reportgen.review.report_diff import is_report

    if '"schema_version"' not in (_head(path, JSON_PEEK_BYTES) or ""):
        return None
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return report if is_report(report) else None


def _twin_page(json_path: Path, report: dict) -> Path | None:
    names = [Path(report["report_html"]).name] if report.get("report_html") else []
    for name in names + [json_path.with_suffix(".html").name]:
        if (json_path.parent / name).is_file():
            return json_path.parent / name
    return None


def find_reports(folder: Path, *, skip: tuple[Path, ...] = ()) -> list[FoundReport]:
    """Every report under `folder` (its JSON twin, else its page's meta block), newest first; `skip` names
    files and folders the index writes itself."""
    from reportgen.review.archive_index import index_entry

    skipped = {p.resolve() for p in skip}
    found = []
    for dirpath, dirs, names in os.walk(folder, followlinks=False):
        dirs[:] = sorted(d for d in dirs if (Path(dirpath) / d).resolve() not in skipped)
        paths = [Path(dirpath) / n for n in sorted(names) if (Path(dirpath) / n).resolve() not in skipped]
        claimed = set()
        for path in (p for p in paths if p.suffix.lower() == ".json"):
            report = read_report_json(path)
            if report is not None:
                page = _twin_page(path, report)
                claimed.add(page)
                found.append(FoundReport(page, path, index_entry(report)))
        for path in (p for p in paths if p.suffix.lower() in (".html", ".htm") and p not in claimed):
            entry = read_entry(path)
            if entry is not None:
                found.append(FoundReport(path, None, entry))
    return sorted(found, key=lambda f: created_utc(f.entry.get("created")), reverse=True)
