"""The projections fit on other threads while the analyses run: results wait where needed, stay in registry order,
and are the same numbers as fitted one after another."""

import inspect
import subprocess
import sys
from concurrent.futures import Future, ThreadPoolExecutor
from types import SimpleNamespace

import numpy as np

from reportgen.analyses import REGISTRY, run_all
from reportgen.neighbours import nearest_neighbours
from reportgen.numba_cache import import_cached
from reportgen.projection import project
from reportgen.section import Context, Section

PENDABLE = ("projection", "pixel_projection")


def test_an_analysis_that_waits_runs_after_the_others_and_sections_keep_registry_order():
    pending = Future()
    order = []

    def waiting_run(collected, ctx):
        order.append("waits")
        return Section("waits", "W", "_x.html", {"coords": ctx.projection})

    def free_run(collected, ctx):
        order.append("free")
        assert not pending.done()  # it ran before the projection arrived
        pending.set_result("the projection")
        return Section("free", "F", "_x.html")

    waits = SimpleNamespace(ID="waits", TITLE="W", WAITS_FOR=("projection",), run=waiting_run)
    free = SimpleNamespace(ID="free", TITLE="F", run=free_run)
    sections = run_all(None, Context(), quiet=True, pending={"projection": pending}, modules=[waits, free])
    assert order == ["free", "waits"]
    assert [s.id for s in sections] == ["waits", "free"]
    assert sections[0].data["coords"] == "the projection"


def test_an_analysis_is_timed_for_its_own_work_and_its_wait_for_a_fit_apart():
    import threading
    import time

    pending = Future()
    threading.Timer(0.3, pending.set_result, args=("the projection",)).start()

    def quick(collected, ctx):
        return Section("waits", "W", "_x.html")

    waits = SimpleNamespace(ID="waits", TITLE="W", WAITS_FOR=("projection",), run=quick)
    ctx = Context()
    started = time.perf_counter()
    run_all(None, ctx, quiet=True, pending={"projection": pending}, modules=[waits])
    assert time.perf_counter() - started >= 0.29
    assert ctx.section_wait_seconds["waits"] >= 0.29
    assert ctx.section_seconds["waits"] < 0.1


def test_a_failed_fit_becomes_an_error_box_in_each_analysis_that_needed_it():
    failed = Future()
    failed.set_exception(RuntimeError("layout diverged"))
    needs = [SimpleNamespace(ID=f"m{i}", TITLE="M", WAITS_FOR=("projection",), run=lambda c, x: Section("ok", "", ""))
             for i in range(2)]
    sections = run_all(None, Context(), quiet=True, pending={"projection": failed}, modules=needs)
    assert [s.error for s in sections] == ["RuntimeError: layout diverged"] * 2


def test_every_analysis_that_reads_a_pending_field_declares_it():
    for module in REGISTRY:
        source = inspect.getsource(module)
        for name in PENDABLE:
            if f"ctx.{name}" in source:
                assert name in getattr(module, "WAITS_FOR", ()), f"{module.__name__} reads ctx.{name}"


def test_umap_kernels_release_the_gil_and_threaded_fits_equal_sequential_ones():
    umap = import_cached("umap")
    assert umap.layouts._nb_optimize_layout_euclidean_single_epoch.targetoptions.get("nogil") is True
    rng = np.random.default_rng(0)
    spaces = [rng.normal(size=(400, 8)).astype(np.float32) + np.repeat(rng.normal(0, 4, (4, 8)), 100, axis=0)
              for _ in range(2)]
    graphs = [nearest_neighbours(x, 15) for x in spaces]
    fit = lambda i: project(spaces[i], "umap", seed=1, neighbours=graphs[i], n_epochs=60).coords  # noqa: E731
    alone = [fit(0), fit(1)]
    with ThreadPoolExecutor(2) as pool:
        together = list(pool.map(fit, [0, 1]))
    assert all(np.array_equal(a, b) for a, b in zip(alone, together))


def test_a_report_with_its_fits_before_the_analyses_equals_one_with_them_beside(model_files, image_tree, tmp_path,
                                                                                 monkeypatch):
    from reportgen import pipeline

    def run(name):
        return pipeline.build_report(model_files["pt2"], image_tree, tmp_path / f"{name}.html", quiet=True,
                                     projection="umap", workers=0, saliency_samples=4).report

    beside = run("beside")
    monkeypatch.setattr(pipeline, "FITS_BESIDE_ANALYSES_UP_TO", 0)  # as above 20,000 samples
    before = run("before")
    volatile = {"timings", "background_seconds", "section_seconds", "section_wait_seconds", "provenance", "report_html"}

    def comparable(report):
        kept = {k: v for k, v in report.items() if k not in volatile}
        kept["raw_vs_model"] = {k: v for k, v in kept["raw_vs_model"].items() if k != "seconds"}
        return kept

    assert beside["projection"]["method"] == "umap" and beside["background_seconds"]
    assert comparable(beside) == comparable(before)


def test_every_fit_runs_under_the_one_thread_limit_in_both_modes(model_files, image_tree, tmp_path, monkeypatch):
    # A pool's thread count changes float sums' last bits and UMAP turns those into another layout: a limit
    # that began while a fit ran made the raw-pixel coordinates depend on timing. Every fit must start under it.
    from threadpoolctl import threadpool_info

    from reportgen import pipeline

    seen = []

    def recording(function):
        def wrapper(*args, **kwargs):
            seen.append({lib["user_api"]: lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"})
            return function(*args, **kwargs)
        return wrapper

    monkeypatch.setattr(pipeline, "project", recording(pipeline.project))
    monkeypatch.setattr(pipeline, "pixel_projection", recording(pipeline.pixel_projection))
    for beside_up_to in (10**9, 0):
        monkeypatch.setattr(pipeline, "FITS_BESIDE_ANALYSES_UP_TO", beside_up_to)
        pipeline.build_report(model_files["pt2"], image_tree, tmp_path / f"r{beside_up_to}.html", quiet=True,
                              projection="pca", workers=0, saliency_samples=0)
    assert len(seen) == 4 and all(threads == {"blas": 1} for threads in seen), seen


def test_import_cached_gives_every_thread_the_whole_module():
    # the fit threads and the warm-up thread import umap at once; none may get it half imported (a new process:
    # in this one an earlier test may have imported it already)
    code = ("import sys, threading, time\n"
            "from reportgen.numba_cache import import_cached\n"
            "threading.Thread(target=import_cached, args=('umap',)).start()\n"
            "while 'umap' not in sys.modules:  # the other thread is inside umap's import now\n"
            "    time.sleep(0.0005)\n"
            "print(hasattr(import_cached('umap'), 'UMAP'))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert done.stdout.strip() == "True", done.stderr[-2000:]


def test_above_the_threshold_both_fits_run_together_and_the_analyses_wait_for_them(model_files, image_tree,
                                                                                   tmp_path, monkeypatch):
    # Memory: above FITS_BESIDE_ANALYSES_UP_TO the analyses' working sets must not meet the fits'. Speed: the two
    # single-threaded fits still share the two cores rather than leave one idle in turn.
    import threading

    from reportgen import pipeline

    both_fitting = threading.Barrier(2, timeout=60)  # breaks (an error) unless both fits run at once

    def meeting(function):
        def wrapper(*args, **kwargs):
            both_fitting.wait()
            return function(*args, **kwargs)
        return wrapper

    seen = {}

    def recording_run_all(collected, ctx, *, quiet, pending):
        seen["fits done"] = all(job.done() for job in pending.values())
        return run_all(collected, ctx, quiet=quiet, pending=pending)

    monkeypatch.setattr(pipeline, "FITS_BESIDE_ANALYSES_UP_TO", 0)
    monkeypatch.setattr(pipeline, "project", meeting(pipeline.project))
    monkeypatch.setattr(pipeline, "pixel_projection", meeting(pipeline.pixel_projection))
    monkeypatch.setattr(pipeline, "run_all", recording_run_all)
    result = pipeline.build_report(model_files["pt2"], image_tree, tmp_path / "r.html", quiet=True,
                                   projection="pca", workers=0, saliency_samples=0)
    assert seen["fits done"] is True
    assert not result.report["section_errors"]
