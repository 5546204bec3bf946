"""A whole page from a hand-made `Collected`: every analysis that needs no model, rendered, with its JSON twin.
For budget and interaction tests at sizes no test could afford to run a model over."""

from __future__ import annotations

import json
from pathlib import Path

from reportgen.analyses import run_all
from reportgen.neighbours import nearest_neighbours
from reportgen.pixel_projection import pixel_projection
from reportgen.projection import project
from reportgen.render import dumps_json, render_html, report_json
from reportgen.sample_payload import sample_payload
from reportgen.section import Context


def render_collected(collected, html: Path, *, groups=None) -> dict:
    """Write the page for `collected` to `html` (PCA projections, no model) and return its report.json."""
    ctx = Context(projection=project(collected.embeddings, "pca"),
                  neighbours=nearest_neighbours(collected.embeddings, 15),
                  pixel_projection=pixel_projection(collected.pixels, "pca", seed=0), class_groups=groups,
                  model_info={"path": "synthetic.pt2", "format": "none", "sha256": "0" * 64, "arch": None,
                              "input": "synthetic"})
    sections = run_all(collected, ctx, quiet=True)
    report = report_json(sections, base={"schema_version": 2, "title": "synthetic"})
    html.write_text(render_html(sections, title="synthetic", samples=sample_payload(collected, groups=groups),
                                meta={"version": "test"}), encoding="utf-8")
    assert not report["section_errors"], report["section_errors"]
    return json.loads(dumps_json(report))
