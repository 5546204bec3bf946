"""Runs the registry. Each analysis declares what it needs as keyword-only parameters of `run(collected, *, ...)`;
the runner supplies them by name from the inputs it was given, waiting for those still being computed on other
threads (the projections, as futures). An analysis that raises becomes an error box, never a lost report."""

from __future__ import annotations

import inspect
import time
import traceback
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from reportgen.analyses.section import Section
from reportgen.runtime.progress import progress


@dataclass
class Outcome:
    sections: list[Section]  # in registry order
    seconds: dict[str, float] = field(default_factory=dict)  # per analysis, its own work (no waiting)
    waits: dict[str, float] = field(default_factory=dict)  # per analysis, its wait for a result on another thread


def declared_inputs(module) -> dict[str, inspect.Parameter]:
    """The keyword-only parameters of `module.run`: what the analysis needs besides the collected arrays."""
    params = inspect.signature(module.run).parameters
    return {name: p for name, p in params.items() if p.kind is inspect.Parameter.KEYWORD_ONLY}


def check_inputs(modules, available: set[str]) -> None:
    """Every required input of every analysis is one the pipeline provides (a typo is a TypeError, not a KeyError
    in the middle of a report)."""
    for module in modules:
        for name, param in declared_inputs(module).items():
            if param.default is inspect.Parameter.empty and name not in available:
                raise TypeError(f"analysis {module.ID} needs input {name!r}, which the pipeline does not provide "
                                f"(it provides: {', '.join(sorted(available))})")


def run_all(collected, inputs: dict[str, Any], *, modules: list, quiet: bool = False) -> Outcome:
    """Run `modules` (analysis modules, each with ID, TITLE, TEMPLATE and run). `inputs` maps names to values or
    to Futures still being computed; analyses that need a pending one run after the others, so the fits and the
    other analyses share the cores."""
    check_inputs(modules, set(inputs))
    pending = {name for name, value in inputs.items() if isinstance(value, Future) and not value.done()}

    def waits(module) -> bool:
        return any(name in pending for name in declared_inputs(module))

    outcome = Outcome([])
    done: dict[str, Section] = {}
    bar = progress(total=len(modules), desc="analyses", unit="section", quiet=quiet)
    for module in [m for m in modules if not waits(m)] + [m for m in modules if waits(m)]:
        started = time.perf_counter()
        waited = 0.0  # kept apart from the analysis's own seconds: waiting is the fits' time, not its own
        try:
            kwargs = {}
            for name in declared_inputs(module):
                if name not in inputs:
                    continue  # optional, with a default
                value = inputs[name]
                if isinstance(value, Future):
                    bar.set_postfix_str(f"waiting for the {name.replace('_', ' ')}")
                    wait_started = time.perf_counter()
                    try:
                        value = value.result()  # a failed fit raises here: an error box
                    finally:
                        waited += time.perf_counter() - wait_started
                kwargs[name] = value
            result = module.run(collected, **kwargs)
            done[module.ID] = Section(module.ID, module.TITLE, module.TEMPLATE, result,
                                      shown=getattr(result, "shown", True))
        except Exception as exc:  # noqa: BLE001 - isolate each analysis
            done[module.ID] = Section(module.ID, module.TITLE, module.TEMPLATE, error=f"{type(exc).__name__}: {exc}",
                                      trace=traceback.format_exc(limit=3))
        outcome.seconds[module.ID] = round(time.perf_counter() - started - waited, 3)
        if waited:
            outcome.waits[module.ID] = round(waited, 3)
        bar.set_postfix_str("")
        bar.update(1)
    bar.close()
    outcome.sections = [done[m.ID] for m in modules]
    return outcome
