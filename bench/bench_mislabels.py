"""Suspected-mislabel rankings side by side: reportgen's (now and before) vs cleanlab's, over several data sets and
noise types: precision@k (k = number of flips) and average precision, mean ± spread over seeds.

    .venv/bin/python bench/bench_mislabels.py [--seeds 10] [--cache DIR] [--all]
    .venv/bin/python bench/bench_mislabels.py --scale 200000 1000     # seconds and peak memory, synthetic

Per data set (bench/mislabel_data.py: digits, garments, textures, mixtures) and seed, a small CNN is trained on the
clean train split (2/3); its probabilities and penultimate embeddings over train + val are what reportgen
collects, and the splits are named train and val, as the report would be told. Cases, each ranking every sample
the report sees (train + val unless said):
  look-alike     10% of val labels moved to their class's look-alike (the class a clean model confuses it with
                 most: the largest off-diagonal of its mean predicted probabilities on val)
  look-alike/val the same, the report given the val split only (the neighbours' labels carry the noise too)
  random         10% of val labels moved to a uniformly chosen other class
  asymmetric     class c's val labels move to one fixed other class at a rate drawn per class in [0, 20%]
  memorised      10% of TRAIN labels flipped (half look-alike, half random) and the CNN trained on them, the
                 flipped rows shown 4 times per epoch so that it fits most; the share it fits is printed
Each seed draws new images (garments, textures, mixtures), a new split, new flips and a new initialisation.
cleanlab is a bench/test-only dependency. --cache keeps the trained models' outputs between runs (without it,
10 seeds train 80 small CNNs: ~15 minutes on one core). --all adds every candidate and ablation
(bench/mislabel_candidates.py). --scale times the ranking alone on random (N, K) float32
probabilities and 15 random neighbours, with tracemalloc's peak beyond the inputs.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import mislabel_candidates as candidates
import numpy as np
from mislabel_data import digits, garments, mixtures, textures

from reportgen.compute.mislabel_scores import fitted_rows, mislabel_scores
from reportgen.compute.neighbours import nearest_neighbours

K_NEIGHBOURS = 15
NUM_CLASSES = 10  # every data set here
NOISE = 0.10
DATASETS = {"digits": lambda seed: digits(), "garments": lambda seed: garments(3000, seed),
            "textures": lambda seed: textures(3000, seed), "mixtures": lambda seed: mixtures(3000, seed)}
CASES = ("look-alike", "look-alike/val", "random", "asymmetric", "memorised")


def train_cnn(images: np.ndarray, labels: np.ndarray, seed: int, epochs: int, repeat: np.ndarray | None = None):
    """Two conv layers, two dense ones, a 64-d penultimate layer; returns outputs(images) -> (probs, embeddings).
    `repeat`: rows shown 4 times per epoch; a CNN this small needs it to fit flipped labels in a bench's minutes
    (it fits few of them in 60 plain epochs), as a bigger model trained longer would."""
    import torch
    from torch import nn

    torch.manual_seed(seed)
    features = nn.Sequential(nn.Conv2d(images.shape[1], 12, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Conv2d(12, 24, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                             nn.LazyLinear(256), nn.ReLU(), nn.Linear(256, 64), nn.ReLU())
    head = nn.Linear(64, NUM_CLASSES)
    model = nn.Sequential(features, head)
    model(torch.from_numpy(images[:2]))  # sizes the lazy layer
    if repeat is not None:
        images = np.concatenate([images, *[images[repeat]] * 3])
        labels = np.concatenate([labels, *[labels[repeat]] * 3])
    x, y = torch.from_numpy(images), torch.from_numpy(labels)
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    batches = (len(y) + 127) // 128
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, 3e-3, total_steps=epochs * batches)
    generator = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        order = torch.randperm(len(y), generator=generator)
        for start in range(0, len(y), 128):
            batch = order[start:start + 128]
            loss = nn.functional.cross_entropy(model(x[batch]), y[batch])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
    model.eval()

    def outputs(data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with torch.no_grad():
            embeddings = features(torch.from_numpy(data))
            return torch.softmax(head(embeddings), 1).numpy().astype(np.float64), embeddings.numpy()

    return outputs


def model_outputs(name: str, seed: int, train_rows, labels, images, cache: Path | None, repeat=None):
    """(probs (N, K), embeddings (N, 64)) over all images of a CNN trained on `train_rows`."""
    tag = "clean" if repeat is None else "memorised"
    path = cache / f"{name}-{seed}-{tag}.npz" if cache else None
    if path and path.exists():
        saved = np.load(path)
        return saved["probs"], saved["embeddings"]
    at = None if repeat is None else np.flatnonzero(np.isin(train_rows, repeat))
    epochs = 25 if repeat is None else 30
    probs, embeddings = train_cnn(images[train_rows], labels[train_rows], seed, epochs, at)(images)
    if path:
        np.savez(path, probs=probs, embeddings=embeddings)
    return probs, embeddings


def look_alike_partner(probs: np.ndarray, truth: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """(K,) the class each class is most confused with: largest off-diagonal mean probability over `rows`."""
    k = probs.shape[1]
    mean = np.stack([probs[rows[truth[rows] == c]].mean(axis=0) for c in range(k)])
    np.fill_diagonal(mean, -1.0)
    return mean.argmax(axis=1)


def flip(case: str, truth, rows, partner, rng) -> tuple[np.ndarray, np.ndarray]:
    """(labels with some of `rows` flipped, the flipped indices)."""
    labels, k = truth.copy(), len(partner)
    if case == "asymmetric":
        rate, target = rng.uniform(0, 0.2, k), (np.arange(k) + rng.integers(1, k, k)) % k
        chosen = rows[rng.random(len(rows)) < rate[truth[rows]]]
        labels[chosen] = target[truth[chosen]]
        return labels, chosen
    chosen = rng.choice(rows, int(round(NOISE * len(rows))), replace=False)
    if case in ("look-alike", "look-alike/val"):
        labels[chosen] = partner[truth[chosen]]
    elif case == "random":
        labels[chosen] = (truth[chosen] + rng.integers(1, k, len(chosen))) % k
    else:  # memorised: half each
        half = chosen[: len(chosen) // 2]
        labels[half] = partner[truth[half]]
        rest = chosen[len(chosen) // 2:]
        labels[rest] = (truth[rest] + rng.integers(1, k, len(rest))) % k
    return labels, chosen


def run_dataset(name: str, seed: int, cache: Path | None, ablations: bool) -> list[dict]:
    from sklearn.model_selection import train_test_split

    images, truth = DATASETS[name](seed)
    everything = np.arange(len(truth))
    train, val = train_test_split(everything, test_size=1 / 3, random_state=seed, stratify=truth)
    clean = model_outputs(name, seed, train, truth, images, cache)
    partner = look_alike_partner(clean[0], truth, val)
    results = []
    for case in CASES:
        rng = np.random.default_rng([seed, CASES.index(case)])
        labels, flipped = flip(case, truth, train if case == "memorised" else val, partner, rng)
        probs, embeddings = clean
        extra = {}
        if case == "memorised":
            probs, embeddings = model_outputs(name, seed, train, labels, images, cache, repeat=flipped)
            extra["memorised"] = float((probs[flipped].argmax(1) == labels[flipped]).mean())
        present = val if case == "look-alike/val" else everything
        is_flip = np.isin(present, flipped)
        neighbours = nearest_neighbours(embeddings[present], K_NEIGHBOURS)
        in_train = np.isin(present, train)
        split_names = ["train", "val"] if in_train.any() else ["val"]
        fitted = fitted_rows(np.where(in_train, 0, len(split_names) - 1), split_names)
        scores = candidates.all_scores(labels[present], probs[present], neighbours, fitted, ablations=ablations)
        results.append({"dataset": name, "case": case, "seed": seed, "k": int(is_flip.sum()),
                        "accuracy": float((clean[0][val].argmax(1) == truth[val]).mean()),
                        "metrics": {m: candidates.evaluate(s, is_flip) for m, s in scores.items()}, **extra})
    return results


def scale(n: int, num_classes: int) -> None:
    """Seconds and tracemalloc peak (beyond the inputs) of the ranking on synthetic inputs."""
    import tracemalloc

    rng = np.random.default_rng(0)
    probs = np.empty((n, num_classes), np.float32)
    for start in range(0, n, 10_000):
        block = rng.random((min(10_000, n - start), num_classes), dtype=np.float32) ** 8
        probs[start:start + len(block)] = block / block.sum(axis=1, keepdims=True)
    labels = probs.argmax(axis=1)
    flipped = rng.random(n) < 0.1
    labels[flipped] = rng.integers(0, num_classes, flipped.sum())
    indices = np.concatenate([np.arange(n)[:, None], rng.integers(0, n, (n, K_NEIGHBOURS))], axis=1)
    fitted = rng.random(n) < 2 / 3
    print(f"N = {n:,}, K = {num_classes:,}: probs {probs.nbytes / 2**20:.0f} MiB float32; "
          f"one (N, K) float64 array would be {n * num_classes * 8 / 2**20:.0f} MiB")
    for name, run in (("2/3 of the rows trained on", lambda: mislabel_scores(labels, probs, indices, fitted=fitted)),
                      ("trained-on rows not known", lambda: mislabel_scores(labels, probs, indices))):
        tracemalloc.start()
        started = time.perf_counter()
        run()
        seconds = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(f"  {name:32s}{seconds:7.1f} s   peak {peak / 2**20:7.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--cache", type=Path, help="keep the trained models' outputs here between runs")
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    parser.add_argument("--all", action="store_true", help="every candidate and ablation, mean p@k and AP")
    parser.add_argument("--scale", nargs=2, type=int, metavar=("N", "K"), help="time the ranking alone")
    args = parser.parse_args()
    if args.scale:
        return scale(*args.scale)
    import torch

    torch.set_num_threads(1)  # the machine is shared; one thread was also the faster on these tiny batches
    warnings.filterwarnings("ignore")  # cleanlab's notes on classes with few issues
    if args.cache:
        args.cache.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    results = [result for name in args.datasets for seed in range(args.seeds)
               for result in run_dataset(name, seed, args.cache, args.all)]
    candidates.print_tables(results, args.seeds, ablations=args.all)
    print(f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
