"""The whole report as one call: load -> collect -> neighbours -> projections + analyses -> render -> write.

`build_report` reads top to bottom; each step is a function of the subpackage named for its stage.
"""

from __future__ import annotations

import time
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path

from reportgen import __version__
from reportgen.analyses import REGISTRY, UNLABELLED_REGISTRY
from reportgen.analyses.findings import rank_findings
from reportgen.analyses.runner import run_all
from reportgen.collect.batch_size import choose_batch_size
from reportgen.collect.batched_pass import collect_outputs
from reportgen.collect.core_split import default_workers
from reportgen.collect.dataset import input_loader
from reportgen.collect.distributed import launched_world, rank_device
from reportgen.collect.kept_inputs import KeptInputs
from reportgen.compute.neighbours import ANALYSIS_NEIGHBOURS, shared_neighbours
from reportgen.data.class_groups import load_class_groups
from reportgen.explain.model_access import ModelAccess
from reportgen.explain.saliency_samples import PER_CLASS
from reportgen.given import open_given, report_device
from reportgen.model.formats import adapter_for
from reportgen.options import ReportOptions, resolve_options
from reportgen.render.digest import digest_view, headline
from reportgen.render.files import check_writable, replaces_a_report, write_atomic
from reportgen.render.page import render_html
from reportgen.render.report_json import dumps_json, report_json
from reportgen.render.sample_payload import sample_payload
from reportgen.review.archive_index import index_entry
from reportgen.review.baseline_comparison import run_baseline
from reportgen.review.exports import write_projector
from reportgen.runtime.collector import frozen
from reportgen.runtime.device import resolve_device
from reportgen.runtime.fits import projection_fits
from reportgen.runtime.forward_form import ForwardForm
from reportgen.runtime.numba_cache import compiled_before
from reportgen.runtime.progress import say
from reportgen.runtime.provenance import provenance
from reportgen.runtime.warm_imports import WarmImports

SCHEMA_VERSION = 2


@dataclass
class ReportResult:
    html_path: Path
    json_path: Path | None
    report: dict
    timings: dict[str, float] = field(default_factory=dict)
    replaced: list[Path] = field(default_factory=list)  # earlier reports these files replaced


class Clock:
    """Seconds per stage, in the order the stages ran."""

    def __init__(self):
        self.timings: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.timings[stage] = round(now - self._last, 3)
        self._last = now


def build_report(model, data, output: str | Path = "report.html", *, json_path: str | Path | None = None,
                 options: ReportOptions | None = None, **changes) -> ReportResult | None:
    """Analyse MODEL on DATA; write the HTML report to `output` and its JSON twin to `json_path`.

    MODEL: a saved file or a torch.nn.Module; DATA: a path or data in memory (data/open.py). Options come from
    `options` and keyword `changes` (ReportOptions' fields). Under torchrun, ranks other than 0 return None
    once their share of the pass is gathered."""
    opts = resolve_options(options, changes)
    output, json_out = Path(output), Path(json_path) if json_path else None
    check_writable(output, "-o")  # fail before the long run, not after it
    replaced = [p for p, option in ((output, "-o"), (json_out, "--json")) if p and replaces_a_report(p, option)]
    if json_out is not None:
        check_writable(json_out, "--json")
    clock = Clock()
    world = launched_world()
    device = rank_device(report_device(model, resolve_device(opts.device), opts.device))
    if opts.workers is None:  # decided once: the batch size, the pass and the baseline's pass all size by it
        opts = replace(opts, workers=default_workers(device))
    quiet = opts.quiet or (world is not None and not world.is_main)  # one set of progress bars, rank 0's
    with ExitStack() as stack:  # a module in memory is handed back, and every hook taken out, however it ends
        stack.enter_context(frozen())  # what exists now is the report's long-lived heap (runtime/collector.py)
        given = open_given(model, data, opts, device, stack)
        source, spec = given.source, given.spec
        if opts.projection == "umap" and not compiled_before("umap"):
            say("compiling UMAP's kernels once for this machine (~30 s on 2 cores); later runs, in this or any "
                "clone with the same versions, reuse them", quiet=quiet)
        adapter = stack.enter_context(adapter_for(given.model.module, opts.layer))
        old_adapter = stack.enter_context(adapter_for(given.baseline.module, opts.layer)) if given.baseline else None
        # how each model runs here (memory format, precision), decided on the first batch; its weights handed back
        # in their own format at the end. torchrun's ranks must run alike, so there it is not timed.
        form = stack.enter_context(ForwardForm(adapter.module, device, amp=opts.amp, quiet=quiet,
                                               measure=world is None))
        old_form = stack.enter_context(ForwardForm(old_adapter.module, device, amp=opts.amp, quiet=quiet)) \
            if old_adapter else None
        clock.lap("load")
        batch_size = opts.batch_size or choose_batch_size(adapter, spec, device, num_samples=len(source.samples),
                                                          workers=opts.workers, amp=opts.amp)
        kept = KeptInputs(top_k=opts.top_k, per_class=PER_CLASS)  # the gradient analyses' inputs, not decoded twice
        collected = run_pass(adapter, source, spec, device, batch_size, opts, world, quiet, form=form, keep=kept)
        clock.lap("decode + forward")
        if world is not None and not world.is_main:
            return None  # rank 0 has every row now and writes the one report
        groups = given.groups or (load_class_groups(opts.class_groups, collected.classes) if opts.class_groups
                                  else None)
        reference = run_pass(adapter, given.reference, spec, device, batch_size, opts, None, quiet, form=form) \
            if given.reference is not None else None
        if opts.export_projector:
            write_projector(collected, Path(opts.export_projector))
        neighbours = shared_neighbours(collected.embeddings, max(opts.neighbours, ANALYSIS_NEIGHBOURS), device=device,
                                       seed=opts.seed)
        clock.lap("neighbours")
        with projection_fits(collected, neighbours, method=opts.projection, seed=opts.seed, device=device) as fits:
            baseline = None
            if given.baseline is not None:
                baseline = run_baseline(given.baseline, old_adapter, source, spec, collected, device=device,
                                        batch_size=batch_size, opts=opts, quiet=quiet, form=old_form, kept=kept)
                clock.lap("baseline")
            inputs = {
                "top_k": opts.top_k, "seed": opts.seed, "neighbour_count": opts.neighbours,
                "saliency_samples": opts.saliency_samples, "cam_layer": opts.cam_layer, "device": device,
                "neighbours": neighbours, "projection": fits.projection, "pixel_projection": fits.pixel_projection,
                "model_access": ModelAccess(adapter, input_loader(source, spec, collected, device, kept=kept,
                                                                  form=form), spec.mean, spec.std, form.threads,
                                            form=form),
                "provenance": provenance(source, seed=opts.seed, device=str(device), command=opts.command)
                # these change the numbers' last digits
                | {"batch_size": batch_size, "amp": opts.amp, "forward_threads": collected.forward_threads,
                   "forward_form": form.provenance(), "core_split": collected.core_split},
                "timings": clock.timings, "model_info": given.model.info(spec), "notes": given.notes,
                "history": given.history, "baseline": baseline, "class_groups": groups, "reference": reference,
            }
            modules = REGISTRY if collected.labelled else UNLABELLED_REGISTRY
            outcome = run_all(collected, inputs, modules=modules, quiet=quiet)
        clock.lap("projections + analyses")
    title = opts.title or f"reportgen: {given.model.name} on {source.name}"
    findings = rank_findings(outcome.sections)
    report = report_json(outcome.sections, base={
        "schema_version": SCHEMA_VERSION, "title": title, "report_html": output.name,
        "findings": [f.json(collected.paths) for f in findings]})
    samples = sample_payload(collected, seed=opts.seed, groups=groups, sections=outcome.sections)
    html = render_html(outcome.sections, title=title, samples=samples,
                       meta={"version": __version__, "title": title, "index": index_entry(report)},
                       digest={"headline": headline(report),
                               "findings": digest_view(findings, collected, {s.id: s.title for s in outcome.sections})})
    clock.lap("render")
    write_atomic(output, html)
    report |= {"timings": clock.timings,
               "background_seconds": fits.seconds,  # the fits that ran during "projections + analyses"
               "section_seconds": outcome.seconds,  # each analysis's own work
               "section_wait_seconds": outcome.waits}  # and its wait for a fit on another thread
    if json_out is not None:
        write_atomic(json_out, dumps_json(report))
    return ReportResult(output, json_out, report, clock.timings, replaced)


def run_pass(adapter, source, spec, device, batch_size: int, opts: ReportOptions, world, quiet: bool, *,
             form: ForwardForm, keep: KeptInputs | None = None):
    """The one batched pass over `source`, with the analysis libraries imported once its workers run
    (runtime/warm_imports.py: on CPU before the first batch, on CUDA on a thread beside it)."""
    warm = WarmImports.for_device(device, with_umap=opts.projection == "umap")
    try:
        return collect_outputs(adapter, source, spec, device=device, batch_size=batch_size, workers=opts.workers,
                               quiet=quiet, world=world, amp=opts.amp, form=form, keep=keep,
                               after_fork=warm.start if world is None or world.is_main else None)
    finally:
        warm.done()


def analyse_collected(collected, *, projection: str = "pca", seed: int = 0, quiet: bool = True, **inputs):
    """Every analysis over arrays collected elsewhere (a test's or a bench's synthetic `Collected`): the shared
    kNN graph and both projections made here, no model unless `inputs` gives one (model_access). Returns the
    runner's Outcome; `inputs` adds or replaces any analysis input (class_groups, provenance, ...)."""
    from reportgen.compute.pixel_projection import pixel_projection
    from reportgen.compute.projection import project

    neighbours = shared_neighbours(collected.embeddings, ANALYSIS_NEIGHBOURS, seed=seed)
    given = {"top_k": 25, "seed": seed, "neighbours": neighbours,
             "projection": project(collected.embeddings, projection, seed=seed, neighbours=neighbours),
             "pixel_projection": pixel_projection(collected.pixels, projection, seed=seed),
             "provenance": {}, "timings": {},
             "model_info": {"path": "(arrays)", "format": "none", "sha256": "", "arch": None, "input": "(arrays)"}}
    return run_all(collected, given | inputs, modules=REGISTRY, quiet=quiet)
