"""Time of the whole calibration computation (reportgen/compute/calibration.py) on synthetic logits, with its
main stages, at (N, K) = (10,000, 10) and (50,000, 1,000). Prints figures; asserts nothing.

    .venv/bin/python bench/bench_calibration.py [--sizes 10000x10 50000x1000]

The logits are calibrated by construction (labels drawn from their softmax) and then scaled by 2, so the
temperature fit has work to do. One evaluation split: the temperature is cross-validated (5 folds + a fit
on all), the slowest protocol.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from reportgen.compute.calibration import calibration_for_split
from reportgen.compute.logit_rows import probabilities, top_one
from reportgen.compute.ranking import one_vs_rest_scores, top_k_accuracy
from reportgen.compute.reliability import classwise_ece
from reportgen.compute.temperature import cross_validated_temperatures, fit_temperature


def synthetic(n: int, k: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 2, (n, k)).astype(np.float32)
    probs = probabilities(logits)
    labels = np.empty(n, dtype=np.int64)
    for start in range(0, n, 4096):  # inverse-CDF sampling in chunks: the cumsum stays small
        part = probs[start:start + 4096].cumsum(axis=1)
        labels[start:start + 4096] = (part < rng.random((len(part), 1)) * part[:, -1:]).sum(axis=1)
    return logits * 2, labels.clip(0, k - 1)


def seconds(call) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["10000x10", "50000x1000"])
    args = parser.parse_args()
    print(f"{'N':>7} {'K':>5} {'whole s':>8} | {'top-1':>6} {'probs':>6} {'cw-ECE':>6} {'AUC/AP':>6} "
          f"{'top-k':>6} {'fit T':>6} {'CV T':>6}  T")
    for size in args.sizes:
        n, k = (int(v) for v in size.split("x"))
        logits, labels = synthetic(n, k)
        whole = seconds(lambda: calibration_for_split(logits, labels))
        probs = probabilities(logits)
        stages = [seconds(lambda: top_one(logits, labels)), seconds(lambda: probabilities(logits)),
                  seconds(lambda: classwise_ece(probs, labels)), seconds(lambda: one_vs_rest_scores(probs, labels)),
                  seconds(lambda: top_k_accuracy(logits, labels)), seconds(lambda: fit_temperature(logits, labels)),
                  seconds(lambda: cross_validated_temperatures(logits, labels, start=2.0))]
        print(f"{n:>7} {k:>5} {whole:>8.2f} | " + " ".join(f"{s:>6.2f}" for s in stages)
              + f"  {fit_temperature(logits, labels):.3f}")


if __name__ == "__main__":
    main()
