"""Exact kNN on torch (blocked matmul) vs pynndescent's approximate index, side by side in one run.

    .venv/bin/python bench/bench_knn.py --n 10000 50000
"""

import argparse
import time

import numpy as np

from reportgen.neighbours import nearest_neighbours


def recall(approx: np.ndarray, exact: np.ndarray) -> float:
    return float(np.mean([len(set(a) & set(e)) / len(e) for a, e in zip(approx[:, 1:], exact[:, 1:])]))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, nargs="+", default=[10000, 50000])
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--k", type=int, default=15)
    args = parser.parse_args()
    from pynndescent import NNDescent

    NNDescent(np.random.default_rng(0).normal(size=(500, args.dim)).astype(np.float32), n_neighbors=args.k + 1)
    print("| N | exact torch s | pynndescent s (compiled) | ratio approx/exact | recall of approx |")
    print("|---|---|---|---|---|")
    for n in args.n:
        rng = np.random.default_rng(0)
        centres = rng.normal(0, 4, (10, args.dim))
        x = (centres[rng.integers(0, 10, n)] + rng.normal(size=(n, args.dim))).astype(np.float32)
        t = time.perf_counter()
        exact = nearest_neighbours(x, args.k)
        t_exact = time.perf_counter() - t
        t = time.perf_counter()
        index = NNDescent(x, n_neighbors=args.k + 1, random_state=0)
        approx, _ = index.neighbor_graph
        t_approx = time.perf_counter() - t
        print(f"| {n} | {t_exact:.2f} | {t_approx:.2f} | {t_approx / t_exact:.2f}x | {recall(approx, exact.indices):.3f} |")
