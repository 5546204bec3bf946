"""Precision@k of reportgen's suspected-mislabel ranking vs cleanlab's, on digits with labels flipped on purpose.

    .venv/bin/python bench/bench_mislabels.py [--seeds 5] [--model mlp|cnn]

A small model is trained on scikit-learn's digits (the train split, its labels optionally noisy); its
probabilities and penultimate embeddings over train + val are what reportgen would collect. We flip a known
set of labels, then compare the first k suspects (k = number of flips) of:
  reportgen      the blended model + neighbour score (reportgen/mislabel_scores.py), kNN over all samples
  cleanlab       cleanlab.filter.find_label_issues(labels, probs, return_indices_ranked_by="self_confidence")
  self-conf      1 - p(given label), the whole ranking (cleanlab's ranking without its filter)
  neighbours     the neighbour vote alone (model_weight=0)
on the same probabilities. cleanlab is a bench/test-only dependency.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

from reportgen.mislabel_scores import mislabel_scores, precision_at_k
from reportgen.neighbours import nearest_neighbours

LOOK_ALIKES = [(1, 7), (3, 8), (4, 9), (5, 6)]
K_NEIGHBOURS = 15


def flip_random(labels: np.ndarray, rows: np.ndarray, share: float, rng, k: int = 10) -> np.ndarray:
    """Flip `share` of `rows` to a uniformly chosen other class; returns the flipped indices."""
    chosen = rng.choice(rows, int(round(share * len(rows))), replace=False)
    labels[chosen] = (labels[chosen] + rng.integers(1, k, len(chosen))) % k
    return chosen


def flip_look_alike(labels: np.ndarray, rows: np.ndarray, share: float, rng) -> np.ndarray:
    """Flip `share` of the samples of each look-alike pair's classes to the other class of the pair."""
    flipped = []
    original = labels.copy()
    for a, b in LOOK_ALIKES:
        for src, dst in ((a, b), (b, a)):
            members = rows[original[rows] == src]
            chosen = rng.choice(members, int(round(share * len(members))), replace=False)
            labels[chosen] = dst
            flipped.append(chosen)
    return np.concatenate(flipped)


def train_mlp(x, y, seed):
    """sklearn MLP; the embedding is its hidden layer (ReLU), as reportgen taps the penultimate layer."""
    from sklearn.neural_network import MLPClassifier

    model = MLPClassifier(hidden_layer_sizes=(64,), max_iter=400, random_state=seed, alpha=1e-4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # not converging on flipped labels is expected: it is memorising them
        model.fit(x, y)

    def outputs(data):
        hidden = np.maximum(data @ model.coefs_[0] + model.intercepts_[0], 0)
        return model.predict_proba(data), hidden.astype(np.float32)

    return outputs


def train_cnn(x, y, seed):
    """reportgen's demo DigitsCNN on the 8x8 digits upscaled to 32x32; the embedding is its 64-d layer."""
    import torch

    from reportgen.demo import DigitsCNN
    from reportgen.embedding_tap import EmbeddingTap

    torch.manual_seed(seed)
    torch.set_num_threads(2)

    def images(data):
        t = torch.from_numpy(data.reshape(-1, 1, 8, 8).astype(np.float32) / 16.0)
        return torch.nn.functional.interpolate(t, size=32, mode="bilinear", align_corners=False)

    model = DigitsCNN()
    xt, yt = images(x), torch.from_numpy(y)
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    generator = torch.Generator().manual_seed(seed)
    for _ in range(15):
        order = torch.randperm(len(yt), generator=generator)
        for start in range(0, len(yt), 64):
            batch = order[start:start + 64]
            loss = torch.nn.functional.cross_entropy(model(xt[batch]), yt[batch])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    model.eval()
    tap = EmbeddingTap(model, None)

    def outputs(data):
        with torch.no_grad():
            logits, emb = tap(images(data))
        return torch.softmax(logits, 1).numpy(), emb.numpy().astype(np.float32)

    return outputs


SCENARIOS = {
    # name: (train noise, val noise, rows evaluated)
    "random flips, val 10%": (None, ("random", 0.10), "val"),
    "look-alike flips, val 25%": (None, ("look", 0.25), "val"),
    "train noise 20% + val flips 10%": (("random", 0.20), ("random", 0.10), "val"),
    "train noise 20%, find train flips": (("random", 0.20), None, "train"),
    "look-alike train noise 25%, find train": (("look", 0.25), None, "train"),
}


def run_scenario(name, seed, model_kind):
    from cleanlab.filter import find_label_issues
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    train_noise, val_noise, evaluated = SCENARIOS[name]
    digits = load_digits()
    x, y_true = digits.data, digits.target.astype(np.int64)
    idx_train, idx_val = train_test_split(np.arange(len(y_true)), test_size=0.25, random_state=seed,
                                          stratify=y_true)
    rng = np.random.default_rng(seed)
    labels = y_true.copy()
    flips = {"train": np.array([], np.int64), "val": np.array([], np.int64)}
    for split, noise, rows in (("train", train_noise, idx_train), ("val", val_noise, idx_val)):
        if noise:
            kind, share = noise
            flips[split] = (flip_random(labels, rows, share, rng) if kind == "random"
                            else flip_look_alike(labels, rows, share, rng))
    trainer = train_mlp if model_kind == "mlp" else train_cnn
    outputs = trainer(x[idx_train], labels[idx_train], seed)
    probs, embeddings = outputs(x)
    neighbours = nearest_neighbours(embeddings, K_NEIGHBOURS)
    rows = idx_train if evaluated == "train" else idx_val
    flipped = flips[evaluated]
    k = len(flipped)

    def top_k(score):
        return rows[np.argsort(-score[rows], kind="stable")][:k]

    ours = mislabel_scores(labels, probs, neighbours.indices).score
    only_neighbours = mislabel_scores(labels, probs, neighbours.indices, model_weight=0.0).score
    self_conf = 1.0 - probs[np.arange(len(labels)), labels]
    issues = find_label_issues(labels[rows], probs[rows], return_indices_ranked_by="self_confidence")
    return {
        "reportgen": precision_at_k(top_k(ours), flipped, k),
        "cleanlab": precision_at_k(rows[issues], flipped, k),
        "self-conf": precision_at_k(top_k(self_conf), flipped, k),
        "neighbours": precision_at_k(top_k(only_neighbours), flipped, k),
        "k": k,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--model", choices=("mlp", "cnn"), default="mlp")
    args = parser.parse_args()
    methods = ("reportgen", "cleanlab", "self-conf", "neighbours")
    print(f"precision@k (k = number of flips), mean ± sd over {args.seeds} seeds, model = {args.model}")
    print(f"{'scenario':42s} {'k':>5s} " + " ".join(f"{m:>13s}" for m in methods))
    started = time.perf_counter()
    for name in SCENARIOS:
        results = [run_scenario(name, seed, args.model) for seed in range(args.seeds)]
        cells = [f"{np.mean([r[m] for r in results]):.3f} ± {np.std([r[m] for r in results]):.3f}"
                 for m in methods]
        print(f"{name:42s} {np.mean([r['k'] for r in results]):5.0f} " + " ".join(f"{c:>13s}" for c in cells))
    print(f"({time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
