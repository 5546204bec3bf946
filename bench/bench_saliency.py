"""Saliency throughput: reportgen's batched gradient vs captum's Saliency(abs=False), same model, same batch.

    .venv/bin/python bench/bench_saliency.py [--device cpu|cuda] [--batch 64] [--size 64] [--repeats 15]

Both compute d logit_target / d input for every sample of the batch. The two are timed alternately in one run
(warm-up first, median of the repeats) so machine load affects both alike; the outputs are checked equal.
Prints samples/s for each and ours / captum (>= 1.0 means no slower than captum).
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

import torch
from captum.attr import Saliency
from torch import nn

from reportgen.explain.saliency import baseline_subtracted, gradient_saliency


def small_cnn(num_classes: int = 10) -> nn.Module:
    """Four conv blocks and a linear head, about 0.3M parameters: a stand-in for a small image classifier."""
    def block(c_in, c_out):
        return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU(), nn.MaxPool2d(2))

    return nn.Sequential(block(3, 32), block(32, 64), block(64, 96), block(96, 128),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(128, num_classes))


def seconds(fn, device) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    device = torch.device(args.device)
    torch.manual_seed(0)
    model = small_cnn().to(device).eval()
    inputs = torch.rand(args.batch, 3, args.size, args.size, device=device)
    targets = torch.randint(0, 10, (args.batch,), device=device)
    captum = Saliency(model)

    def ours():
        return gradient_saliency(model, inputs, targets)

    def theirs():
        return captum.attribute(inputs, target=targets, abs=False)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # captum: "Input Tensor 0 did not already require gradients"
        difference = (ours() - theirs()).abs().max().item()
        for _ in range(3):  # warm-up: allocator, cuDNN autotuning, captum's first-call set-up
            ours(), theirs()
        times = {"reportgen": [], "captum": []}
        for repeat in range(args.repeats):
            order = [("reportgen", ours), ("captum", theirs)]
            for name, fn in order if repeat % 2 == 0 else order[::-1]:
                times[name].append(seconds(fn, device))
        exigo = [seconds(lambda: baseline_subtracted(model, inputs, targets), device) for _ in range(args.repeats)]
    rate = {name: args.batch / statistics.median(t) for name, t in times.items()}
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else f"{torch.get_num_threads()} threads"
    print(f"device {device} ({where}), torch {torch.__version__}, batch {args.batch}x3x{args.size}x{args.size}, "
          f"median of {args.repeats}")
    print(f"max |ours - captum| = {difference:.2e}")
    print(f"reportgen gradient_saliency : {rate['reportgen']:10.1f} samples/s")
    print(f"captum Saliency(abs=False)  : {rate['captum']:10.1f} samples/s")
    print(f"ratio reportgen / captum    : {rate['reportgen'] / rate['captum']:10.2f}")
    print(f"reportgen baseline_subtracted (exigo's panels): {args.batch / statistics.median(exigo):10.1f} samples/s")


if __name__ == "__main__":
    main()
