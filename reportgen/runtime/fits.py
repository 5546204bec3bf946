"""The two projection fits (the model's embedding and the raw pixels) on two threads, beside the analyses.

Both fits are single-threaded (seeded UMAP is) and their numba kernels release the GIL, so they share the cores
with the analyses on the main thread. Above FITS_BESIDE_ANALYSES_UP_TO samples the fits' and the analyses'
working sets together broke the 2 GB budget (2.18 GB at 60k, bench/harness.py), so there the analyses wait for
both fits. At 60k the two fits in parallel peaked at 1.61 GB; one after the other at 1.52 GB, 11 s slower.

While they run, BLAS and OpenMP pools get one thread each (threadpoolctl), set before the fits start:
- the fits and the analyses already keep both cores busy, and two-thread pools only waited at their barriers
  (at 10k: 14.6 -> 12.0 CPU-seconds for this stage, sub-populations 4.5 s -> 2.4 s);
- a pool's thread count changes float sums' last bits (the pixels' PCA, UMAP's spectral start), and UMAP turns
  those into a different layout. A limit that began while a fit was running (as it once did) made the
  coordinates depend on timing; one setting for every fit and analysis keeps them a function of the inputs.
OpenMP's count is kept per thread, so the fit threads' own torch ops (the raw pixels' kNN graph) keep torch's
default. Limited to one as well, the two fits at 60k took 40-45 s against 35-44 s (two alternating rounds each).
"""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field

from threadpoolctl import threadpool_limits

from reportgen.compute.pixel_projection import pixel_projection
from reportgen.compute.projection import project

FITS_BESIDE_ANALYSES_UP_TO = 20_000


def timed(seconds: dict[str, float], name: str, function, *args, **kwargs):
    """`function(*args, **kwargs)`, its seconds recorded under `name` (for jobs on other threads)."""
    started = time.perf_counter()
    try:
        return function(*args, **kwargs)
    finally:
        seconds[name] = round(time.perf_counter() - started, 3)


@contextmanager
def fit_pool():
    """The two threads the fits run on. Leaving normally waits for the fits; leaving on an exception (Ctrl-C, a
    crash) does not: a fit thread caught in an import can wait for ever on a lock the interrupted main thread
    held, and the command exits without joining it."""
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="reportgen-fit")
    try:
        yield pool
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()


@dataclass
class Fits:
    projection: Future
    pixel_projection: Future
    seconds: dict[str, float] = field(default_factory=dict)  # each fit's own seconds, once done


@contextmanager
def projection_fits(collected, neighbours, *, method: str, seed: int, device):
    """Within the block: one-thread pools, and both fits started (futures); the block's end waits for them."""
    seconds: dict[str, float] = {}
    with threadpool_limits(limits=1), fit_pool() as pool:
        fits = Fits(pool.submit(timed, seconds, "projection", project, collected.embeddings, method, seed=seed,
                                neighbours=neighbours),
                    pool.submit(timed, seconds, "raw-pixel projection", pixel_projection, collected.pixels,
                                method, seed=seed, device=device), seconds)
        if collected.n > FITS_BESIDE_ANALYSES_UP_TO:
            wait([fits.projection, fits.pixel_projection])
        yield fits
