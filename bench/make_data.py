"""Scalable benchmark data: scikit-learn's digits upscaled to 28x28 with random affine jitter, and a small CNN."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from sklearn.datasets import load_digits
from torch import nn

SIDE = 28


def write_images(root: Path, n: int, seed: int = 0, val_share: float = 0.2) -> None:
    digits = load_digits()
    rng = np.random.default_rng(seed)
    base = [Image.fromarray((img / 16 * 255).astype(np.uint8), "L").resize((SIDE, SIDE), Image.BICUBIC)
            for img in digits.images]
    for i in range(n):
        j = int(rng.integers(len(base)))
        image = base[j].rotate(float(rng.uniform(-15, 15)), resample=Image.BILINEAR,
                               translate=tuple(int(v) for v in rng.integers(-2, 3, 2)))
        split = "val" if i < n * val_share else "train"
        folder = root / split / str(digits.target[j])
        folder.mkdir(parents=True, exist_ok=True)
        image.save(folder / f"s{i:06d}.png")


class BenchCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                      nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                      nn.AdaptiveAvgPool2d(4))
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(512, 64), nn.ReLU(), nn.Linear(64, 10))

    def forward(self, x):
        return self.head(self.features(x))


def train_model(root: Path, out: Path, seed: int = 0, limit: int = 3000) -> None:
    torch.manual_seed(seed)
    paths = sorted((root / "train").glob("*/*.png"))[:: max(1, len(list((root / "train").glob("*/*.png"))) // limit)]
    x = torch.stack([torch.from_numpy(np.asarray(Image.open(p), dtype=np.float32) / 255)[None] for p in paths])
    y = torch.tensor([int(p.parent.name) for p in paths])
    fit_and_export(BenchCNN(), x, y, out, epochs=6, batch=64, seed=seed)


def fit_and_export(model: nn.Module, x: torch.Tensor, y: torch.Tensor, out: Path, *, epochs: int, batch: int,
                   seed: int) -> None:
    """Adam on shuffled batches, then a torch.export program with a dynamic batch dimension at `out`."""
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    generator = torch.Generator().manual_seed(seed)
    for _epoch in range(epochs):
        order = torch.randperm(len(y), generator=generator)  # samples are sorted by class: shuffle, or learn nothing
        for start in range(0, len(y), batch):
            rows = order[start:start + batch]
            loss = nn.functional.cross_entropy(model(x[rows]), y[rows])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    model.eval()
    program = torch.export.export(model, (x[:2],), dynamic_shapes=({0: torch.export.Dim("batch")},))
    torch.export.save(program, str(out))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("root", type=Path)
    parser.add_argument("--n", type=int, default=2000)
    args = parser.parse_args()
    write_images(args.root / "data", args.n)
    train_model(args.root / "data", args.root / "model.pt2")
