"""The report's sections, in report order. Adding one = one module here, one partial in templates/, one line below."""

from __future__ import annotations

import time
import traceback

from reportgen.analyses import (baseline, confusable_classes, confusion, hardest, insides, loss_vs_distance,
                                mislabels, notes, projection_view, raw_vs_model, saliency_maps, sample_explorer,
                                skipped_files, subpopulations, summary, train_vs_val, training_curves)
from reportgen.progress import progress
from reportgen.section import Section

REGISTRY = [summary, notes, baseline, training_curves, projection_view, sample_explorer, confusion, hardest,
            mislabels, confusable_classes, loss_vs_distance, subpopulations, raw_vs_model, train_vs_val,
            saliency_maps, insides, skipped_files]


def run_all(collected, ctx, *, quiet: bool = False) -> list[Section]:
    """Run every analysis; one that raises becomes an error box, never a lost report."""
    sections = []
    bar = progress(total=len(REGISTRY), desc="analyses", unit="section", quiet=quiet)
    for module in REGISTRY:
        started = time.perf_counter()
        try:
            sections.append(module.run(collected, ctx))
        except Exception as exc:  # noqa: BLE001 - isolate each analysis
            sections.append(Section(id=module.ID, title=module.TITLE, template="_error.html",
                                    error=f"{type(exc).__name__}: {exc}",
                                    data={"trace": traceback.format_exc(limit=3)}))
        ctx.section_seconds[module.ID] = round(time.perf_counter() - started, 3)
        bar.update(1)
    bar.close()
    return sections
