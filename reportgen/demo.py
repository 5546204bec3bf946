"""The embedded default: scikit-learn's bundled handwritten digits (real data, no download) and a small CNN.

Writes the digits as PNG files in an ImageFolder tree with train/ and val/ splits, trains the CNN on those
very files (decoded as reportgen decodes them), saves it as a torch.export program and a training history.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn

from reportgen.data.decode import open_image
from reportgen.runtime.progress import progress

IMAGE_SIDE = 32  # the 8x8 digits, upscaled: big enough for a two-conv network and for thumbnails
VAL_SHARE = 0.25


class DigitsCNN(nn.Module):
    """Two conv blocks and a 64-d penultimate layer: small enough to train in seconds on 2 cores."""

    def __init__(self, num_classes: int = 10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(4),
        )
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(32 * 16, 64), nn.ReLU(), nn.Linear(64, num_classes))

    def forward(self, x):
        return self.head(self.features(x))


def write_digit_images(data_dir: Path, seed: int = 0) -> None:
    from sklearn.datasets import load_digits

    digits = load_digits()
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(digits.target))
    n_val = int(len(order) * VAL_SHARE)
    for rank, i in enumerate(order):
        split = "val" if rank < n_val else "train"
        folder = data_dir / split / str(digits.target[i])
        folder.mkdir(parents=True, exist_ok=True)
        pixels = (digits.images[i] / 16.0 * 255).astype(np.uint8)
        image = Image.fromarray(pixels, "L").resize((IMAGE_SIDE, IMAGE_SIDE), Image.BICUBIC)
        image.save(folder / f"digit_{i:04d}.png")


def _load_split(split_dir: Path) -> tuple[torch.Tensor, torch.Tensor]:
    paths = sorted(split_dir.glob("*/*.png"))
    classes = sorted({p.parent.name for p in paths})
    images = np.stack([np.asarray(open_image(p, 1), dtype=np.float32) / 255.0 for p in paths])
    labels = np.array([classes.index(p.parent.name) for p in paths])
    return torch.from_numpy(images[:, None]), torch.from_numpy(labels)


def train(model: nn.Module, x: torch.Tensor, y: torch.Tensor, x_val, y_val, *, epochs: int, seed: int,
          quiet: bool) -> list[dict]:
    generator = torch.Generator().manual_seed(seed)
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    history = []
    bar = progress(total=epochs, desc="train demo CNN", unit="epoch", quiet=quiet)
    for epoch in range(1, epochs + 1):
        model.train()
        order = torch.randperm(len(y), generator=generator)
        total = 0.0
        for start in range(0, len(y), 64):
            batch = order[start:start + 64]
            # Light augmentation (shifts of up to 2 px) keeps the tiny data set from being memorised at once.
            shift = torch.randint(-2, 3, (2,), generator=generator).tolist()
            images = torch.roll(x[batch], shifts=shift, dims=(2, 3))
            loss = nn.functional.cross_entropy(model(images), y[batch])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            total += loss.item() * len(batch)
        model.eval()
        with torch.no_grad():
            val_logits = model(x_val)
            history.append({"epoch": epoch, "train_loss": total / len(y),
                            "val_loss": nn.functional.cross_entropy(val_logits, y_val).item(),
                            "val_accuracy": (val_logits.argmax(1) == y_val).float().mean().item()})
        bar.update(1)
    bar.close()
    return history


def prepare_demo(workdir: str | Path, *, epochs: int = 12, seed: int = 0, quiet: bool = False,
                 retrain: bool = False) -> tuple[Path, Path]:
    """Write the digits tree and the trained .pt2 under `workdir`; returns (model path, data folder).

    A model trained before with the same epochs and seed is reused (`retrain` trains again): the second
    `reportgen demo` is a report, not a 70-second training run."""
    workdir = Path(workdir)
    data_dir = workdir / "data"
    model_path = workdir / "digits_cnn.pt2"
    recipe = {"epochs": epochs, "seed": seed}
    if not (data_dir / "train").exists():
        write_digit_images(data_dir, seed)
    elif not retrain and model_path.exists() and (workdir / "history.csv").exists() and _trained_with(workdir) == recipe:
        if not quiet:
            print(f"reusing the demo model trained before in {workdir} (--retrain trains it again)", file=sys.stderr)
        return model_path, data_dir
    torch.manual_seed(seed)
    x, y = _load_split(data_dir / "train")
    x_val, y_val = _load_split(data_dir / "val")
    model = DigitsCNN()
    history = train(model, x, y, x_val, y_val, epochs=epochs, seed=seed, quiet=quiet)
    model.eval()
    program = torch.export.export(model, (x[:2],), dynamic_shapes=({0: torch.export.Dim("batch")},))
    torch.export.save(program, str(model_path))
    with open(workdir / "history.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(history[0]))
        writer.writeheader()
        writer.writerows(history)
    (workdir / RECIPE).write_text(json.dumps(recipe), encoding="utf-8")
    return model_path, data_dir


RECIPE = "demo-recipe.json"  # how the saved model was trained: a different --epochs or --seed trains again


def _trained_with(workdir: Path) -> dict | None:
    try:
        return json.loads((workdir / RECIPE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
