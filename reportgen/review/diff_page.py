"""`reportgen diff A.json B.json -o diff.html`: the diff (review/report_diff.py) as a page beside its JSON."""

from __future__ import annotations

import os
from pathlib import Path

from reportgen.review.report_diff import diff_reports, load_report, report_path

FLIPS_ON_PAGE = 500  # per kind; the JSON keeps every flip


def write_diff(a, b, output: str | Path = "diff.html", *, json_path: str | Path | None = None,
               sources: tuple | None = None) -> dict:
    """`reportgen diff` as a function: a and b are report.json paths (an HTML report's twin is found) or dicts;
    writes the page (and the diff as JSON to `json_path`) and returns the diff dict. `sources`: the two JSON
    paths when dicts are given, for the page's links to the reports."""
    from reportgen.render.files import write_atomic
    from reportgen.render.page import render_diff
    from reportgen.render.report_json import dumps_json

    output = Path(output)
    given = (a, b)
    reports = [r if isinstance(r, dict) else load_report(r) for r in given]
    paths = sources or tuple(None if isinstance(r, dict) else report_path(r) for r in given)
    links = {side: report_link(Path(path), report, output) if path is not None else None
             for side, path, report in zip("ab", paths, reports)}
    diff = diff_reports(*reports)
    output.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(output, render_diff(page_view(diff, links)))
    if json_path is not None:
        Path(json_path).parent.mkdir(parents=True, exist_ok=True)
        write_atomic(Path(json_path), dumps_json(diff))
    return diff


def page_view(diff: dict, links: dict) -> dict:
    """What templates/diff.html shows: the evaluation split first, classes by F1 change (worst first), and the
    first FLIPS_ON_PAGE flips of each kind. links: {"a": href or None, "b": ...} to the two reports."""
    head = diff["headline"]["split"]
    first = lambda item: item[0] != head  # noqa: E731

    def worst_f1(item):
        change = item[1]["f1"]["delta"]
        return (change is None, change if change is not None else 0.0, item[0])

    return {
        "diff": diff, "links": links, "splits": sorted(diff["splits"].items(), key=first),
        "per_class": [{"name": name, "rows": sorted(rows.items(), key=worst_f1)}
                      for name, rows in sorted(diff["per_class"].items(), key=first)],
        "flips": {kind: {"n": len(diff["flips"][kind]), "rows": diff["flips"][kind][:FLIPS_ON_PAGE]}
                  for kind in ("fixed", "broken", "changed")},
        "title": f"reportgen diff: {diff['a'].get('title') or 'A'} → {diff['b'].get('title') or 'B'}",
    }


def report_link(json_path: Path, report: dict, output: Path) -> str | None:
    """A relative link from the page at `output` to the report whose JSON is at `json_path` (its HTML twin when
    it is there, else the JSON)."""
    target = json_path.with_name(Path(report["report_html"]).name) if report.get("report_html") else None
    target = target if target is not None and target.is_file() else json_path
    # "./" first: a file named "javascript:x.html" must stay a relative link
    return "./" + os.path.relpath(target.resolve(), output.parent.resolve()).replace(os.sep, "/")
