"""The report's sections, in report order. Adding one = one module here, one partial in templates/, one line below."""

from __future__ import annotations

import traceback

from reportgen.analyses import confusion, hardest, projection_view, sample_explorer, skipped_files, summary
from reportgen.section import Section

REGISTRY = [summary, projection_view, sample_explorer, confusion, hardest, skipped_files]


def run_all(collected, ctx) -> list[Section]:
    """Run every analysis; one that raises becomes an error box, never a lost report."""
    sections = []
    for module in REGISTRY:
        try:
            sections.append(module.run(collected, ctx))
        except Exception as exc:  # noqa: BLE001 - isolate each analysis
            sections.append(Section(id=module.ID, title=module.TITLE, template="_error.html",
                                    error=f"{type(exc).__name__}: {exc}",
                                    data={"trace": traceback.format_exc(limit=3)}))
    return sections
