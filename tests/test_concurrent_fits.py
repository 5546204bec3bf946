"""The projections fit on other threads while the analyses run: results wait where needed, stay in registry order,
and are the same numbers as fitted one after another."""

import subprocess
import sys
from concurrent.futures import Future, ThreadPoolExecutor
from types import SimpleNamespace

import numpy as np
import pytest

from reportgen.analyses import REGISTRY
from reportgen.analyses.runner import declared_inputs, run_all
from reportgen.compute.neighbours import nearest_neighbours
from reportgen.compute.projection import project
from reportgen.runtime.numba_cache import import_cached


def analysis(name, run):
    return SimpleNamespace(ID=name, TITLE=name.upper(), TEMPLATE="_x.html", run=run)


def test_an_analysis_that_waits_runs_after_the_others_and_sections_keep_registry_order():
    pending = Future()
    order = []

    def waiting_run(collected, *, projection):
        order.append("waits")
        return {"coords": projection}

    def free_run(collected, *, seed):
        order.append("free")
        assert not pending.done()  # it ran before the projection arrived
        pending.set_result("the projection")
        return {"seed": seed}

    outcome = run_all(None, {"projection": pending, "seed": 3}, quiet=True,
                      modules=[analysis("waits", waiting_run), analysis("free", free_run)])
    assert order == ["free", "waits"]
    assert [s.id for s in outcome.sections] == ["waits", "free"]
    assert outcome.sections[0].result == {"coords": "the projection"} and outcome.sections[1].result == {"seed": 3}


def test_an_analysis_is_timed_for_its_own_work_and_its_wait_for_a_fit_apart():
    import threading
    import time

    pending = Future()
    threading.Timer(0.3, pending.set_result, args=("the projection",)).start()
    started = time.perf_counter()
    outcome = run_all(None, {"projection": pending}, quiet=True,
                      modules=[analysis("waits", lambda collected, *, projection: None)])
    assert time.perf_counter() - started >= 0.29
    assert outcome.waits["waits"] >= 0.29
    assert outcome.seconds["waits"] < 0.1


def test_a_failed_fit_becomes_an_error_box_in_each_analysis_that_needed_it():
    failed = Future()
    failed.set_exception(RuntimeError("layout diverged"))
    needs = [analysis(f"m{i}", lambda collected, *, projection: None) for i in range(2)]
    outcome = run_all(None, {"projection": failed}, quiet=True, modules=needs)
    assert [s.error for s in outcome.sections] == ["RuntimeError: layout diverged"] * 2


def test_an_input_no_one_provides_is_a_type_error_naming_it_and_optional_ones_keep_their_default():
    typo = analysis("typo", lambda collected, *, projeciton: None)
    with pytest.raises(TypeError, match="needs input 'projeciton'.*provides: projection"):
        run_all(None, {"projection": 1}, quiet=True, modules=[typo])
    optional = analysis("opt", lambda collected, *, notes=None, seed: (notes, seed))
    assert run_all(None, {"seed": 1}, quiet=True, modules=[optional]).sections[0].result == (None, 1)


def test_every_registered_analysis_declares_inputs_the_pipeline_provides(demo_like_report):
    """The pipeline ran every analysis (run_all checks each declared input against what it was given) and none
    failed: a declared input the pipeline lacks, or a misspelt one, would have stopped the report."""
    assert set(demo_like_report.report["section_seconds"]) == {m.ID for m in REGISTRY}
    assert demo_like_report.report["section_errors"] == {}
    assert all(declared_inputs(m) or m.run.__code__.co_argcount == 1 for m in REGISTRY)


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
    from reportgen.runtime import fits

    def run(name):
        return pipeline.build_report(model_files["pt2"], image_tree, tmp_path / f"{name}.html", quiet=True,
                                     projection="umap", workers=0, saliency_samples=4).report

    beside = run("beside")
    monkeypatch.setattr(fits, "FITS_BESIDE_ANALYSES_UP_TO", 0)  # as above 20,000 samples
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
    from reportgen.runtime import fits

    seen = []

    def recording(function):
        def wrapper(*args, **kwargs):
            seen.append({lib["user_api"]: lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"})
            return function(*args, **kwargs)
        return wrapper

    monkeypatch.setattr(fits, "project", recording(fits.project))
    monkeypatch.setattr(fits, "pixel_projection", recording(fits.pixel_projection))
    for beside_up_to in (10**9, 0):
        monkeypatch.setattr(fits, "FITS_BESIDE_ANALYSES_UP_TO", beside_up_to)
        pipeline.build_report(model_files["pt2"], image_tree, tmp_path / f"r{beside_up_to}.html", quiet=True,
                              projection="pca", workers=0, saliency_samples=0)
    assert len(seen) == 4 and all(threads == {"blas": 1} for threads in seen), seen


def test_import_cached_gives_every_thread_the_whole_module():
    # the fit threads and the warm-up thread import umap at once; none may get it half imported (a new process:
    # in this one an earlier test may have imported it already)
    code = ("import sys, threading, time\n"
            "from reportgen.runtime.numba_cache import import_cached\n"
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
    from reportgen.runtime import fits

    both_fitting = threading.Barrier(2, timeout=60)  # breaks (an error) unless both fits run at once

    def meeting(function):
        def wrapper(*args, **kwargs):
            both_fitting.wait()
            return function(*args, **kwargs)
        return wrapper

    seen = {}

    def recording_run_all(collected, inputs, **kwargs):
        seen["fits done"] = inputs["projection"].done() and inputs["pixel_projection"].done()
        return run_all(collected, inputs, **kwargs)

    monkeypatch.setattr(fits, "FITS_BESIDE_ANALYSES_UP_TO", 0)
    monkeypatch.setattr(fits, "project", meeting(fits.project))
    monkeypatch.setattr(fits, "pixel_projection", meeting(fits.pixel_projection))
    monkeypatch.setattr(pipeline, "run_all", recording_run_all)
    result = pipeline.build_report(model_files["pt2"], image_tree, tmp_path / "r.html", quiet=True,
                                   projection="pca", workers=0, saliency_samples=0)
    assert seen["fits done"] is True
    assert not result.report["section_errors"]
