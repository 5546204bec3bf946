"""Image sets for bench/bench_mislabels.py, made here (no download): digits, and two synthetic sets whose class
pairs share generating parameters, so a small CNN trained on clean labels still confuses specific pairs.

  digits    scikit-learn's 8x8 digits upscaled to 16x16: real, mostly separable
  garments  20x20 grayscale silhouettes in ten clothing-like classes; T-shirt/shirt/pullover/coat overlap in
            sleeve length, body length and button line, sneaker/boot in shaft height, as in Fashion-MNIST
  textures  16x16 RGB oriented gratings; five pairs share a hue and differ by a few degrees of orientation
"""

from __future__ import annotations

import numpy as np

GARMENTS = ("T-shirt", "shirt", "pullover", "coat", "dress", "trouser", "bag", "sandal", "sneaker", "boot")
# Per class: mean and spread of (sleeve length, body length, button line, flare). Sleeves and body length
# overlap between the tops on purpose; `button line` is a weak cue present in shirts and coats.
TOPS = {0: ((0.25, 0.08), (0.85, 0.10), (0.10, 0.15), (0.05, 0.05)),
        1: ((0.55, 0.12), (0.90, 0.10), (0.70, 0.25), (0.05, 0.05)),
        2: ((0.80, 0.12), (0.88, 0.10), (0.10, 0.15), (0.05, 0.05)),
        3: ((0.85, 0.10), (1.15, 0.12), (0.60, 0.25), (0.10, 0.08)),
        4: ((0.10, 0.10), (1.25, 0.12), (0.05, 0.10), (0.45, 0.12))}


def digits() -> tuple[np.ndarray, np.ndarray]:
    """(N, 1, 16, 16) float32 in [0, 1] and (N,) int64 labels."""
    import torch
    from sklearn.datasets import load_digits

    data = load_digits()
    small = torch.from_numpy(data.images[:, None].astype(np.float32) / 16.0)
    big = torch.nn.functional.interpolate(small, size=16, mode="bilinear", align_corners=False)
    return big.numpy(), data.target.astype(np.int64)


def _garment(label: int, rng, yy: np.ndarray, xx: np.ndarray) -> np.ndarray:
    """One silhouette on the [-1, 1]^2 grid (y grows downwards)."""
    img = np.zeros_like(xx)
    if label in TOPS:
        sleeve, length, buttons, flare = (rng.normal(m, s) for m, s in TOPS[label])
        width, top = rng.normal(0.75, 0.06), -0.6
        half = width / 2 + max(flare, 0) * np.clip(yy - top, 0, None)
        img[(np.abs(xx) < half) & (yy > top) & (yy < top + max(length, 0.4))] = 1.0
        reach = np.clip(np.abs(xx) - width / 2, 0, None)  # sleeves leave the shoulders, slanting down
        arm = (reach > 0) & (reach < max(sleeve, 0) * 0.45) & (np.abs(yy - top - 0.15 - 0.6 * reach) < 0.13)
        img[arm] = 1.0
        img[(yy < top + 0.2) & (yy > top - 0.05) & (np.abs(xx) < 0.15 - (yy - top) * 0.5)] = 0.0  # neckline
        img[(np.abs(xx) < 0.1) & (yy > top) & (img > 0)] *= 1 - np.clip(buttons, 0, 1) * 0.8
    elif label == 5:  # trouser: two legs
        width = rng.normal(0.55, 0.05)
        img[(np.abs(xx) < width / 2) & (yy > -0.8) & (yy < 0.85)] = 1.0
        img[(np.abs(xx) < rng.uniform(0.04, 0.1)) & (yy > rng.uniform(-0.5, -0.2))] = 0.0
    elif label == 6:  # bag: a box and a handle
        w, h = rng.normal(0.75, 0.08), rng.normal(0.55, 0.08)
        img[(np.abs(xx) < w) & (yy > 0.6 - 2 * h) & (yy < 0.6)] = 1.0
        ring = np.hypot(xx / 0.35, (yy - (0.6 - 2 * h)) / 0.4)
        img[(ring > 0.8) & (ring < 1.0) & (yy < 0.6 - 2 * h)] = 1.0
    else:  # footwear: a sole, an upper of some height, a shaft that makes a boot; sandals have straps
        shaft = {7: (0.10, 0.08), 8: (0.30, 0.10), 9: (0.60, 0.12)}[label]
        height = max(rng.normal(*shaft), 0)
        img[(np.abs(xx) < 0.85) & (yy > 0.45) & (yy < 0.6)] = 1.0
        upper = (xx > -0.8) & (xx < 0.6) & (yy > 0.45 - 0.35 * (1 - (xx + 0.8) / 1.6) - 0.1) & (yy <= 0.45)
        img[upper] = 1.0
        img[(xx > -0.8) & (xx < -0.2) & (yy > 0.2 - height) & (yy <= 0.45)] = 1.0
        if label == 7:
            img[upper & (np.sin(xx * 18 + rng.uniform(0, 6)) > 0.2)] = 0.0
    return img


def garments(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(n, 1, 20, 20) float32 and (n,) int64: textured silhouettes, shifted, scaled, blurred and noisy."""
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(seed)
    side = 20
    labels = np.arange(n) % len(GARMENTS)
    rng.shuffle(labels)
    images = np.empty((n, 1, side, side), np.float32)
    axis = np.linspace(-1, 1, side)
    for i, label in enumerate(labels):
        scale, dy, dx = rng.uniform(0.85, 1.15), *rng.uniform(-0.12, 0.12, 2)
        yy, xx = np.meshgrid((axis - dy) * scale, (axis - dx) * scale, indexing="ij")
        shape = _garment(int(label), rng, yy, xx)
        angle, freq = rng.uniform(0, np.pi), rng.uniform(4, 12)
        texture = 0.75 + 0.25 * np.sin(freq * (xx * np.cos(angle) + yy * np.sin(angle)))
        img = gaussian_filter(shape * texture * rng.uniform(0.6, 1.0), 0.7) + rng.normal(0, 0.08, shape.shape)
        images[i, 0] = img
    return images, labels.astype(np.int64)


def textures(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(n, 3, 16, 16) float32 and (n,) int64: class c is a grating of hue c // 2 whose orientation differs
    by 14 degrees from its pair's, with 9 degrees of spread, random frequency, phase and noise."""
    rng = np.random.default_rng(seed)
    side, k = 16, 10
    labels = np.arange(n) % k
    rng.shuffle(labels)
    hues = np.array([[1, .3, .3], [.3, 1, .3], [.3, .3, 1], [1, 1, .3], [.3, 1, 1]], np.float32)
    base = np.deg2rad(np.arange(k // 2) * 36.0)
    angle = base[labels // 2] + np.deg2rad(14.0) * (labels % 2) + np.deg2rad(rng.normal(0, 5, n))
    freq, phase = rng.uniform(1.2, 2.2, n), rng.uniform(0, 2 * np.pi, n)
    yy, xx = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    wave = np.sin(freq[:, None, None] * (xx * np.cos(angle)[:, None, None] + yy * np.sin(angle)[:, None, None])
                  + phase[:, None, None])
    colour = hues[labels // 2] * rng.uniform(0.7, 1.0, (n, 1))
    images = 0.5 + 0.4 * wave[:, None] * colour[:, :, None, None] + rng.normal(0, 0.2, (n, 3, side, side))
    return images.astype(np.float32), labels.astype(np.int64)
