"""Exact kNN on torch (blocked matmul) vs pynndescent's approximate NN-descent, side by side in one run, each
timed as a report run pays it: in a fresh process, so NN-descent's per-process numba compilation counts.

    .venv/bin/python bench/bench_knn.py --n 10000 30000 50000
"""

import argparse
import subprocess
import sys

import numpy as np

CHILD = """
import sys, time, numpy as np
from reportgen.compute.neighbours import approximate_neighbours, nearest_neighbours
n, dim, k, method = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
rng = np.random.default_rng(0)
x = (rng.normal(0, 4, (10, dim))[rng.integers(0, 10, n)] + rng.normal(size=(n, dim))).astype(np.float32)
start = time.perf_counter()
result = (nearest_neighbours if method == "exact" else approximate_neighbours)(x, k)
seconds = time.perf_counter() - start
if method == "approx":  # the same work again, compiled: what NN-descent costs without its compilation
    start = time.perf_counter(); approximate_neighbours(x, k); print(f"warm {time.perf_counter() - start:.2f}")
np.save(sys.argv[5], result.indices)
print(f"seconds {seconds:.2f}")
"""


def run(n, dim, k, method, out):
    done = subprocess.run([sys.executable, "-c", CHILD, str(n), str(dim), str(k), method, out],
                          capture_output=True, text=True, check=True)
    return dict(line.split() for line in done.stdout.strip().splitlines())


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, nargs="+", default=[10000, 30000, 50000])
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--k", type=int, default=15)
    args = parser.parse_args()
    print("| N | exact s | NN-descent s (fresh process) | of which compiled work | approx / exact | recall |")
    print("|---|---|---|---|---|---|")
    for n in args.n:
        exact = run(n, args.dim, args.k, "exact", "/tmp/knn_exact.npy")
        approx = run(n, args.dim, args.k, "approx", "/tmp/knn_approx.npy")
        e, a = np.load("/tmp/knn_exact.npy"), np.load("/tmp/knn_approx.npy")
        recall = float(np.mean([len(set(x[1:]) & set(y[1:])) / args.k for x, y in zip(a, e)]))
        te, ta = float(exact["seconds"]), float(approx["seconds"])
        print(f"| {n} | {te:.2f} | {ta:.2f} | {float(approx['warm']):.2f} | {ta / te:.2f}x | {recall:.3f} |")
