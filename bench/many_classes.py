"""Benchmark data with many classes: seeded RGB images of K synthetic classes and a small CNN trained on them.

Each class is a random smooth colour pattern; its samples are that pattern shifted, flipped and noised, so a
small CNN learns most classes but confuses the ones whose patterns happen to look alike. Nothing is downloaded.

    .venv/bin/python bench/many_classes.py /tmp/k1000 --n 5000 --classes 1000
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from make_data import fit_and_export
from PIL import Image
from torch import nn

SIDE = 32


def class_patterns(k: int, seed: int) -> np.ndarray:
    """(K, SIDE, SIDE, 3) float32 in [0, 1]: low-frequency colour patterns, one per class."""
    rng = np.random.default_rng(seed)
    coarse = rng.random((k, 4, 4, 3)).astype(np.float32)
    patterns = np.stack([np.asarray(Image.fromarray((c * 255).astype(np.uint8), "RGB")
                                    .resize((SIDE, SIDE), Image.BICUBIC), dtype=np.float32) / 255 for c in coarse])
    return patterns


def sample_image(pattern: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    dy, dx = rng.integers(-3, 4, 2)
    image = np.roll(pattern, (int(dy), int(dx)), axis=(0, 1))
    if rng.random() < 0.5:
        image = image[:, ::-1]
    image = image * rng.uniform(0.8, 1.2) + rng.normal(0, 0.08, image.shape)
    return (np.clip(image, 0, 1) * 255).astype(np.uint8)


def class_names(k: int) -> list[str]:
    return [f"class_{c:05d}" for c in range(k)]


def write_images(root: Path, n: int, k: int, *, seed: int = 0, val_share: float = 0.5) -> None:
    """n images, classes in turn (so every class has n // k or more), split between train/ and val/."""
    rng = np.random.default_rng(seed)
    patterns = class_patterns(k, seed)
    names = class_names(k)
    for i in range(n):
        c = i % k
        split = "val" if rng.random() < val_share else "train"
        folder = root / split / names[c]
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(sample_image(patterns[c], rng), "RGB").save(folder / f"s{i:07d}.png")


class SmallCNN(nn.Module):
    def __init__(self, k: int):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                      nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                      nn.AdaptiveAvgPool2d(4))
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(512, 128), nn.ReLU(), nn.Linear(128, k))

    def forward(self, x):
        return self.head(self.features(x))


def train_model(k: int, out: Path, *, seed: int = 0, per_class: int = 20, epochs: int = 4) -> None:
    """Train on fresh samples of the same patterns (not the report's images) and save a torch.export program."""
    rng = np.random.default_rng(seed + 1)
    patterns = class_patterns(k, seed)
    labels = np.repeat(np.arange(k), per_class)
    x = torch.from_numpy(np.stack([sample_image(patterns[c], rng) for c in labels]).astype(np.float32) / 255)
    x = x.permute(0, 3, 1, 2).contiguous()
    y = torch.from_numpy(labels)
    torch.manual_seed(seed)
    fit_and_export(SmallCNN(k), x, y, out, epochs=epochs, batch=128, seed=seed)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("root", type=Path)
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--classes", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    write_images(args.root / "data", args.n, args.classes, seed=args.seed)
    train_model(args.classes, args.root / "model.pt2", seed=args.seed)
