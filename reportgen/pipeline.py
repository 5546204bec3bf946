"""load -> collect -> neighbours -> projection -> analyses -> render: the whole report as one call."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import torch
from threadpoolctl import threadpool_limits

from reportgen import __version__
from reportgen.analyses import run_all
from reportgen.archive_index import index_entry
from reportgen.baseline_comparison import run_baseline
from reportgen.batch_size import choose_batch_size
from reportgen.class_groups import load_class_groups
from reportgen.collect import collect_outputs, first_image_size, input_loader
from reportgen.embedding_tap import EmbeddingTap
from reportgen.distributed import launched_world, rank_device
from reportgen.errors import ReportgenError
from reportgen.exports import write_projector
from reportgen.input_spec import infer_input_spec
from reportgen.load_data import discover
from reportgen.load_model import load_model
from reportgen.neighbours import shared_neighbours
from reportgen.pixel_projection import pixel_projection
from reportgen.projection import project
from reportgen.provenance import provenance
from reportgen.render import check_writable, dumps_json, render_html, report_json, write_atomic
from reportgen.sample_payload import sample_payload
from reportgen.section import Context
from reportgen.training_history import load_history
from reportgen.warm_imports import WarmImports


def read_notes(path: str | Path) -> str:
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ReportgenError(f"{path}: cannot read the --notes file ({getattr(exc, 'strerror', None) or exc})") from exc


FITS_BESIDE_ANALYSES_UP_TO = 20_000


@dataclass
class ReportOptions:
    arch: str | None = None
    trust_model: bool = False
    classes: list[str] | None = None
    image_size: int | None = None
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None
    device: str = "auto"
    batch_size: int | None = None  # None = auto (batch_size.choose_batch_size)
    amp: bool = False
    workers: int | None = None
    layer: str | None = None
    projection: str = "umap"
    seed: int = 0
    top_k: int = 25
    neighbours: int = 8
    saliency_samples: int = 200
    cam_layer: str | None = None
    quiet: bool = False
    title: str | None = None
    command: list[str] | None = None
    notes: str | Path | None = None  # a markdown file shown in the Notes section
    history: str | Path | None = None  # per-epoch metrics: CSV, JSON or a TensorBoard event folder
    baseline: str | Path | None = None  # an older checkpoint compared with this one on the same data
    export_projector: str | Path | None = None  # folder for TensorBoard Embedding Projector files
    class_groups: str | Path | None = None  # CSV class,group: accuracy per group, colour by group


@dataclass
class ReportResult:
    html_path: Path
    json_path: Path | None
    report: dict
    timings: dict[str, float] = field(default_factory=dict)


def timed(seconds: dict[str, float], name: str, function, *args, **kwargs):
    """`function(*args, **kwargs)`, its seconds recorded under `name` (for jobs on other threads)."""
    started = time.perf_counter()
    try:
        return function(*args, **kwargs)
    finally:
        seconds[name] = round(time.perf_counter() - started, 3)


@contextmanager
def fit_pool():
    """The two threads the two UMAP fits run on. Leaving normally waits for the fits; leaving on an exception
    (Ctrl-C, a crash) does not: a fit thread caught in an import can wait for ever on a lock the interrupted
    main thread held, and the command exits without joining it."""
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="reportgen-fit")
    try:
        yield pool
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ReportgenError("--device cuda: no CUDA device is available on this machine; use --device cpu or auto")
    try:
        return torch.device(name)
    except RuntimeError as exc:
        raise ReportgenError(f"--device {name}: not a device name; use auto, cpu or cuda") from exc


def build_report(model: str | Path, data: str | Path, output: str | Path = "report.html", *,
                 json_path: str | Path | None = None, options: ReportOptions | None = None,
                 **overrides) -> ReportResult | None:
    """Analyse MODEL on DATA; write the HTML report to `output` and its JSON twin to `json_path`.

    Under torchrun, ranks other than 0 return None once their share of the pass is gathered."""
    opts = options or ReportOptions()
    for key, value in overrides.items():
        setattr(opts, key, value)
    output = Path(output)
    check_writable(output, "-o")
    if json_path:
        check_writable(Path(json_path), "--json")
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[stage] = round(now - clock, 3)
        clock = now

    notes = read_notes(opts.notes) if opts.notes else None
    history = load_history(opts.history) if opts.history else None
    world = launched_world()
    device = rank_device(resolve_device(opts.device))
    if world is not None and not world.is_main:
        opts.quiet = True  # one set of progress bars, rank 0's
    loaded = load_model(model, arch=opts.arch, trust_model=opts.trust_model, device=device)
    old = load_model(opts.baseline, arch=opts.arch, trust_model=opts.trust_model, device=device) \
        if opts.baseline else None
    source = discover(data, classes=opts.classes)
    groups = load_class_groups(opts.class_groups, source.classes) if opts.class_groups else None
    spec = infer_input_spec(loaded.module, image_size=opts.image_size, mean=opts.mean, std=opts.std)
    if spec.size is None:
        spec.size = first_image_size(source, spec.channels)
        spec.source += "; size of the first image"
    tap = EmbeddingTap(loaded.module, opts.layer)
    lap("load")
    opts.batch_size = opts.batch_size or choose_batch_size(tap, spec, device, num_samples=len(source.samples),
                                                           workers=opts.workers or 4, amp=opts.amp)
    warm = WarmImports(with_umap=opts.projection == "umap")
    try:
        collected = collect_outputs(tap, source, spec, device=device, batch_size=opts.batch_size,
                                    workers=opts.workers, quiet=opts.quiet, world=world, amp=opts.amp,
                                    after_fork=warm.start if world is None or world.is_main else None)
    finally:
        warm.done()
    lap("decode + forward")
    if world is not None and not world.is_main:
        return None  # rank 0 has every row now and writes the one report
    if opts.export_projector:
        write_projector(collected, Path(opts.export_projector))
    embeddings = collected.embeddings
    # The two UMAP fits are single-threaded (seeded UMAP is) and their numba kernels release the GIL: they run
    # on two threads, beside the analyses (see run_all). Above FITS_BESIDE_ANALYSES_UP_TO samples the fits' and
    # the analyses' working sets together broke the 2 GB budget (2.18 GB at 60k, bench/harness.py), so there
    # the analyses wait for both fits. At 60k the two fits in parallel peak at 1.61 GB; one after another they
    # peaked at 1.52 GB and took 11 s longer, each leaving a core idle.
    beside_analyses = collected.n <= FITS_BESIDE_ANALYSES_UP_TO
    background: dict[str, float] = {}
    neighbours = shared_neighbours(embeddings, max(opts.neighbours, 15), device=device, seed=opts.seed)
    lap("neighbours")
    # From here on BLAS and OpenMP pools get one thread each (threadpoolctl), and from before the fits start:
    # - the fits and the analyses already keep both cores busy, and two-thread pools only waited at their
    #   barriers (at 10k: 14.6 -> 12.0 CPU-seconds for this stage, sub-populations 4.5 s -> 2.4 s);
    # - a pool's thread count changes float sums' last bits (the pixels' PCA, UMAP's spectral start), and
    #   UMAP turns those into a different layout. A limit that began while a fit was running (as it once
    #   did) made the coordinates depend on timing; one setting for every fit and analysis, in both modes,
    #   keeps them a function of the inputs and the seed.
    # OpenMP's count is kept per thread, so the fit threads' own torch ops (the raw pixels' kNN graph) keep
    # torch's default. Limited to one as well, the two fits at 60k took 40-45 s against 35-44 s (two
    # alternating rounds each).
    with threadpool_limits(limits=1), fit_pool() as fits:
        projection_job = fits.submit(timed, background, "projection", project, embeddings, opts.projection,
                                     seed=opts.seed, neighbours=neighbours)
        pixel_job = fits.submit(timed, background, "raw-pixel projection", pixel_projection, collected.pixels,
                                opts.projection, seed=opts.seed, device=device)
        if not beside_analyses:
            wait([projection_job, pixel_job])
        baseline = None
        if old is not None:
            baseline = run_baseline(old, source, spec, collected, device=device, opts=opts)
            lap("baseline")
        ctx = Context(
            top_k=opts.top_k, seed=opts.seed, neighbours=neighbours, input_spec=spec,
            neighbour_count=opts.neighbours, saliency_samples=opts.saliency_samples, cam_layer=opts.cam_layer,
            provenance=provenance(source, seed=opts.seed, device=str(device), command=opts.command),
            timings=timings,
            model_info={"path": str(loaded.path), "format": loaded.format, "sha256": loaded.sha256,
                        "arch": loaded.arch,
                        "input": f"{spec.channels}x{spec.size[0]}x{spec.size[1]}, mean {list(spec.mean)}, "
                                 f"std {list(spec.std)} ({spec.source})"},
            model=loaded.module, model_format=loaded.format, device=device,
            load_inputs=input_loader(source, spec, collected, device),
            notes=notes, notes_path=str(opts.notes) if opts.notes else None,
            history=history, history_path=str(opts.history) if opts.history else None, baseline=baseline,
            class_groups=groups,
        )
        # all three change the numbers' last digits
        ctx.provenance.update(batch_size=opts.batch_size, amp=opts.amp, forward_threads=collected.forward_threads)
        sections = run_all(collected, ctx, quiet=opts.quiet,
                           pending={"projection": projection_job, "pixel_projection": pixel_job})
    lap("projections + analyses")
    title = opts.title or f"reportgen: {loaded.path.name} on {source.root.name or source.root}"
    report = report_json(sections, base={"schema_version": 2, "title": title, "report_html": output.name})
    html = render_html(sections, title=title, samples=sample_payload(collected, seed=opts.seed, groups=groups),
                       meta={"version": __version__, "title": title, "index": index_entry(report)})
    lap("render")
    write_atomic(output, html)
    report["timings"] = timings
    report["background_seconds"] = background  # the fits that ran during "projections + analyses"
    report["section_seconds"] = ctx.section_seconds  # each analysis's own work
    report["section_wait_seconds"] = ctx.section_wait_seconds  # and its wait for a fit on another thread
    json_out = Path(json_path) if json_path else None
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(json_out, dumps_json(report))
    return ReportResult(output, json_out, report, timings)
