"""Image properties and underperforming slices at scale, and the slice search's false positives.

    .venv/bin/python bench/bench_slices.py                         # N = 200,000, K = 1,000; 20 null seeds at 5,000
    .venv/bin/python bench/bench_slices.py --n 50000 --classes 100 --null-seeds 0

Builds a synthetic Collected (clustered embeddings, errors at 10%, eight image properties, paths from two
sources), plants a darkened group of a tenth of the evaluation split that the model gets wrong 60% of the time,
and times the two sections' run() (the features, the embedding regions and the search) and their JSON, wall and
CPU seconds, with BLAS and OpenMP held to one thread as in a report (runtime/fits.py). Then, on data whose
errors are uniform (no planted group), counts the slices reported over many seeds: the search's false-positive
rate. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def synthetic(n: int, k: int, *, seed: int, planted: bool, d: int = 64):
    """A lean Collected: logits and probs are (n, 1) placeholders (neither section reads them)."""
    from reportgen.collect.collected import Collected

    rng = np.random.default_rng(seed)
    labels = (np.arange(n) % k).astype(np.int64)
    centres = rng.normal(0, 3, (k, d)).astype(np.float32)
    embeddings = centres[labels] + rng.normal(0, 1, (n, d)).astype(np.float32)
    split = (rng.random(n) < 0.5).astype(np.int64)  # 0 train, 1 val
    wrong = rng.random(n) < 0.1
    properties = np.column_stack([
        rng.beta(5, 5, n), rng.uniform(0.05, 0.3, n), rng.lognormal(-6, 1, n), rng.uniform(4, 7.5, n),
        np.full(n, 32.0), np.full(n, 32.0), np.ones(n), rng.uniform(0, 0.3, n)]).astype(np.float32)
    if planted:
        dark = (split == 1) & (rng.random(n) < 0.1)
        properties[dark, 0] *= 0.25
        properties[dark, 1] *= 0.25
        wrong |= dark & (rng.random(n) < 0.6)
    preds = np.where(wrong, (labels + 1 + rng.integers(0, k - 1, n)) % k, labels)
    loss = np.where(wrong, rng.uniform(1, 5, n), rng.uniform(0, 0.5, n)).astype(np.float32)
    source = np.where(rng.random(n) < 0.5, "web", "lab")
    paths = [f"{('train', 'val')[s]}/class_{c:05d}/{src}_{i:07d}.png" for i, (s, c, src) in
             enumerate(zip(split, labels, source))]
    return Collected(
        classes=[f"class_{c:05d}" for c in range(k)], split_names=["train", "val"], paths=paths, split=split,
        labels=labels, logits=np.zeros((n, 1), np.float32), probs=np.ones((n, 1), np.float32), preds=preds,
        loss=loss, embeddings=embeddings, thumbnails=[b"RIFF0000WEBP"] * n, pixels=np.zeros((n, 1), np.uint8),
        properties=properties)


def clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def seconds(start: tuple[float, float], end: tuple[float, float]) -> str:
    return f"{end[0] - start[0]:.2f} s ({end[1] - start[1]:.2f} s CPU)"


def timed(n: int, k: int, seed: int) -> None:
    from threadpoolctl import threadpool_limits

    from reportgen.analyses import properties, slices
    from reportgen.compute.slice_features import slice_features
    from reportgen.compute.slice_statistics import p_text

    collected = synthetic(n, k, seed=seed, planted=True)
    import sklearn.cluster  # noqa: F401  the pipeline imports it during the collect pass; keep it out of the figure

    with threadpool_limits(limits=1):
        started = clock()
        props = properties.run(collected)
        props.json()
        props.findings()
        middle = clock()
        rows = np.flatnonzero(collected.split == 1)
        slice_features(collected, rows, seed=seed)
        after_features = clock()
        found = slices.run(collected, seed=seed)
        found.json()
        found.findings()
        done = clock()
    print(f"N = {n:,}, K = {k:,} ({len(rows):,} evaluation rows): properties {seconds(started, middle)}, slices "
          f"{seconds(after_features, done)}, its features alone {seconds(middle, after_features)}; "
          f"{found.search.tested:,} slices tested, {len(found.slices)} reported")
    for f in found.slices[:5]:
        print(f"  {found.sentence(f)} ({f.size:,} images, q {p_text(f.q)})")


def null_rate(n: int, k: int, seeds: int) -> None:
    from reportgen.analyses import slices

    reported = 0
    with_any = 0
    for seed in range(seeds):
        found = slices.run(synthetic(n, k, seed=1000 + seed, planted=False), seed=seed)
        reported += len(found.slices)
        with_any += bool(found.slices)
        if found.slices:
            print(f"  seed {1000 + seed}: {[found.sentence(f) for f in found.slices]}")
    print(f"uniform errors, N = {n:,}, K = {k}: {with_any} of {seeds} seeds reported any slice "
          f"({reported} slices in all)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--classes", type=int, default=1000)
    parser.add_argument("--null-seeds", type=int, default=20)
    parser.add_argument("--null-n", type=int, default=5000)
    parser.add_argument("--null-classes", type=int, default=10)
    args = parser.parse_args()

    timed(args.n, args.classes, seed=0)
    if args.null_seeds:
        null_rate(args.null_n, args.null_classes, args.null_seeds)


if __name__ == "__main__":
    main()
