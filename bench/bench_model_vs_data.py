"""Seconds per model-vs-data analysis at N samples (default 10,000), on a synthetic `Collected`.

    .venv/bin/python bench/bench_model_vs_data.py [--n 10000] [--projection pca|umap]

The embeddings are clustered by class with a few sub-modes, the pixels a noisy image per class, so the
clustering and projections do realistic work. Compare the total with the decode + forward time of a real
run on as many images (`timings` in report.json).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from collected_factory import make_collected  # noqa: E402

from reportgen.analyses import (  # noqa: E402
    confusable_classes,
    loss_vs_distance,
    mislabels,
    raw_vs_model,
    subpopulations,
    train_vs_val,
)
from reportgen.analyses.runner import run_all  # noqa: E402
from reportgen.compute.neighbours import nearest_neighbours  # noqa: E402
from reportgen.compute.projection import project  # noqa: E402

ANALYSES = (mislabels, confusable_classes, loss_vs_distance, subpopulations, raw_vs_model, train_vs_val)


def synthetic(n: int, k: int = 10, d: int = 64, seed: int = 0):
    collected = make_collected(n, k, d, seed=seed, splits=("train", "val"), accuracy=0.9)
    rng = np.random.default_rng(seed)
    modes = rng.integers(0, 2, n)  # every class has two sub-modes
    offsets = rng.normal(0, 4, (k, 2, d))
    collected.embeddings += offsets[collected.labels, modes].astype(np.float32)
    images = rng.integers(0, 255, (k, 32 * 32))
    noise = rng.normal(0, 40, (n, 32 * 32))
    collected.pixels = np.clip(images[collected.labels] + noise, 0, 255).astype(np.uint8)
    return collected


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--projection", choices=("pca", "umap", "tsne"), default="umap")
    args = parser.parse_args()
    collected = synthetic(args.n)
    started = time.perf_counter()
    neighbours = nearest_neighbours(collected.embeddings, 15)
    print(f"N = {args.n}: shared kNN {time.perf_counter() - started:.2f} s", end="")
    started = time.perf_counter()
    projection = project(collected.embeddings, args.projection, seed=0, neighbours=neighbours)
    print(f", embedding projection ({args.projection}) {time.perf_counter() - started:.2f} s")
    inputs = {"projection": projection, "neighbours": neighbours, "seed": 0, "top_k": 25}
    outcome = run_all(collected, inputs, modules=ANALYSES, quiet=True)
    for module in ANALYSES:
        print(f"  {module.ID:22s} {outcome.seconds[module.ID]:7.2f} s")
    print(f"  {'total':22s} {sum(outcome.seconds.values()):7.2f} s")


if __name__ == "__main__":
    main()
