"""A whole page from a hand-made `Collected`: every analysis that needs no model, rendered, with its JSON twin.
For budget and interaction tests at sizes no test could afford to run a model over."""

from __future__ import annotations

import json
from pathlib import Path

from reportgen.pipeline import analyse_collected
from reportgen.render.page import render_html
from reportgen.render.report_json import dumps_json, report_json
from reportgen.render.sample_payload import sample_payload


def render_collected(collected, html: Path, *, groups=None) -> dict:
    """Write the page for `collected` to `html` (PCA projections, no model) and return its report.json."""
    sections = analyse_collected(collected, class_groups=groups).sections
    report = report_json(sections, base={"schema_version": 2, "title": "synthetic"})
    samples = sample_payload(collected, groups=groups, sections=sections)
    html.write_text(render_html(sections, title="synthetic", samples=samples,
                                meta={"version": "test"}), encoding="utf-8")
    assert not report["section_errors"], report["section_errors"]
    return json.loads(dumps_json(report))
