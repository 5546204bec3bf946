"""Photo-sized JPEGs for the real-model benches: seeded, 10 classes, 256 to 500 pixels a side in varied shapes,
so the collect pass decodes, resizes and crops as it does on a folder of photos.

    .venv/bin/python bench/real_images.py /tmp/photos --n 1000

Each image is a smooth colour field (a class's hue), a few ellipses and rectangles, and noise: enough texture for
JPEG to cost what a photo costs to decode (~40 KB at 400x400, quality 90)."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

CLASSES = 10


def photo(rng: np.random.Generator, label: int) -> Image.Image:
    width, height = (int(v) for v in rng.integers(256, 501, size=2))
    hue = np.array([np.cos(2 * np.pi * label / CLASSES), np.sin(2 * np.pi * label / CLASSES), 0.3]) * 90 + 128
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = (np.cos(angle) * xs / width + np.sin(angle) * ys / height)[..., None]
    field = hue + 60 * ramp * rng.uniform(-1, 1, size=3)
    field += rng.normal(0, 12, size=(height, width, 3))
    image = Image.fromarray(np.clip(field, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    for _ in range(int(rng.integers(3, 9))):
        x0, y0 = rng.integers(0, width), rng.integers(0, height)
        box = [int(x0), int(y0), int(x0 + rng.integers(20, width // 2)), int(y0 + rng.integers(20, height // 2))]
        colour = tuple(int(c) for c in rng.integers(0, 256, size=3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)(box, fill=colour)
    return image.filter(ImageFilter.GaussianBlur(float(rng.uniform(0, 1.5))))


def write_photos(root: Path, n: int, seed: int = 0) -> Path:
    """root/<class>/<i>.jpg, n images over CLASSES folders; reused when root already holds n."""
    done = root / f".complete-{n}-{seed}"
    if done.exists():
        return root
    rng = np.random.default_rng(seed)
    for i in range(n):
        label = i % CLASSES
        folder = root / f"class_{label}"
        folder.mkdir(parents=True, exist_ok=True)
        photo(rng, label).save(folder / f"{i:06d}.jpg", quality=90)
    done.touch()
    return root


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("root", type=Path)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    write_photos(args.root, args.n, args.seed)
