"""What fewer UMAP epochs cost in picture quality, on a real model's embeddings and on raw pixels.

    .venv/bin/python bench/bench_umap_epochs.py [--n 10000] [--epochs 100 150 200 500]

Runs the benchmark data (bench/make_data.py) through the collect pass once, then fits UMAP on the embeddings and
on the reduced pixels at each epoch count (seeded, one thread, the shared kNN graph as in a report) and prints
seconds and three quality figures: trustworthiness (sklearn, k=15), the share of each point's 15 nearest
neighbours in the full space that stay among its 15 nearest in 2-D, and the leave-one-out kNN label accuracy in
2-D (the number the raw-vs-model section shows).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from reportgen.collect.batched_pass import collect_outputs
from reportgen.compute.class_separation import knn_label_accuracy, neighbours_2d
from reportgen.compute.neighbours import nearest_neighbours
from reportgen.compute.pixel_projection import reduced_pixels
from reportgen.compute.projection import project
from reportgen.data.discover import discover
from reportgen.model.formats import adapter_for
from reportgen.model.input_spec import infer_input_spec
from reportgen.model.load import load_model

HERE = Path(__file__).resolve().parent
K = 15


def collected_for(n: int, workdir: Path):
    root = workdir / f"n{n}"
    if not (root / "model.pt2").exists():
        subprocess.run([sys.executable, str(HERE / "make_data.py"), str(root), "--n", str(n)], check=True)
    loaded = load_model(root / "model.pt2", device=torch.device("cpu"))
    source = discover(root / "data")
    spec = infer_input_spec(loaded.module)
    return collect_outputs(adapter_for(loaded.module), source, spec, device=torch.device("cpu"),
                           batch_size=256, workers=2, quiet=True)


def kept_neighbours(full: np.ndarray, coords: np.ndarray) -> float:
    flat = neighbours_2d(coords, K)[:, 1:]
    return float(np.mean([len(set(a) & set(b)) / K for a, b in zip(full[:, 1:K + 1].tolist(), flat.tolist())]))


def main() -> None:
    from sklearn.manifold import trustworthiness

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--epochs", type=int, nargs="+", default=[100, 150, 200, 500])
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "reportgen-bench")
    args = parser.parse_args()
    collected = collected_for(args.n, args.workdir)
    spaces = {"embedding": collected.embeddings, "raw pixels (PCA 50)": reduced_pixels(collected.pixels, 0)[0]}
    project(spaces["embedding"][:300], "umap")  # load the numba kernels before timing anything
    print(f"N = {collected.n}; trust = trustworthiness k={K}; kept = share of the {K} nearest neighbours kept in 2-D;"
          " 2-D acc = kNN label accuracy in 2-D")
    print("| space | epochs | seconds | trust | kept | 2-D acc |\n|---|---|---|---|---|---|")
    for name, data in spaces.items():
        graph = nearest_neighbours(data, K)
        for epochs in args.epochs:
            started = time.perf_counter()
            coords = project(data, "umap", seed=0, neighbours=graph, n_epochs=epochs).coords
            seconds = time.perf_counter() - started
            trust = trustworthiness(data, coords, n_neighbors=K)
            print(f"| {name} | {epochs} | {seconds:.2f} | {trust:.4f} | {kept_neighbours(graph.indices, coords):.3f} "
                  f"| {knn_label_accuracy(neighbours_2d(coords), collected.labels):.3f} |", flush=True)


if __name__ == "__main__":
    main()
