"""The report's sections, in report order. Adding one = one module here, one partial in templates/, one line below."""

from __future__ import annotations

import time
import traceback
from concurrent.futures import Future

from reportgen.analyses import (baseline, class_groups, confusable_classes, confusion, hardest, insides,
                                loss_vs_distance,
                                mislabels, notes, projection_view, raw_vs_model, saliency_maps, sample_explorer,
                                skipped_files, subpopulations, summary, train_vs_val, training_curves)
from reportgen.progress import progress
from reportgen.section import Section

REGISTRY = [summary, notes, baseline, training_curves, projection_view, sample_explorer, confusion, class_groups,
            hardest,
            mislabels, confusable_classes, loss_vs_distance, subpopulations, raw_vs_model, train_vs_val,
            saliency_maps, insides, skipped_files]


def run_all(collected, ctx, *, quiet: bool = False, pending: dict[str, Future] | None = None,
            modules: list | None = None) -> list[Section]:
    """Run every analysis; one that raises becomes an error box, never a lost report.

    `pending` maps Context fields to results still being computed on other threads (the projections). An
    analysis that declares such a field in its WAITS_FOR runs after the others, once the field has arrived, so
    the fits and the other analyses share the cores. Sections come back in registry order all the same."""
    modules = REGISTRY if modules is None else modules
    pending = pending or {}

    def waits(module) -> bool:
        return any(name in pending for name in getattr(module, "WAITS_FOR", ()))

    done = {}
    bar = progress(total=len(modules), desc="analyses", unit="section", quiet=quiet)
    for module in [m for m in modules if not waits(m)] + [m for m in modules if waits(m)]:
        started = time.perf_counter()
        waited = 0.0  # kept apart from the analysis's own seconds: waiting is the fits' time, not its own
        try:
            for name in getattr(module, "WAITS_FOR", ()):
                if name in pending:
                    bar.set_postfix_str(f"waiting for the {name.replace('_', ' ')}")
                    wait_started = time.perf_counter()
                    try:
                        setattr(ctx, name, pending[name].result())  # a failed fit raises here: an error box
                    finally:
                        waited += time.perf_counter() - wait_started
            done[module.ID] = module.run(collected, ctx)
        except Exception as exc:  # noqa: BLE001 - isolate each analysis
            done[module.ID] = Section(id=module.ID, title=module.TITLE, template="_error.html",
                                      error=f"{type(exc).__name__}: {exc}",
                                      data={"trace": traceback.format_exc(limit=3)})
        ctx.section_seconds[module.ID] = round(time.perf_counter() - started - waited, 3)
        if waited:
            ctx.section_wait_seconds[module.ID] = round(waited, 3)
        bar.set_postfix_str("")
        bar.update(1)
    bar.close()
    return [done[m.ID] for m in modules]
