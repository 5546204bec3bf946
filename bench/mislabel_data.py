"""Image sets for bench/bench_mislabels.py, made here (no download): digits, and three synthetic sets whose classes
share generating parameters or parts, so a small CNN trained on clean labels still confuses specific classes.

  digits    scikit-learn's 8x8 digits upscaled to 16x16: real, mostly separable
  garments  20x20 grayscale silhouettes in ten clothing-like classes; T-shirt/shirt/pullover/coat overlap in
            sleeve length, body length and button line, sneaker/boot in shaft height, as in Fashion-MNIST
  textures  16x16 RGB oriented gratings; five pairs share a hue and differ by a few degrees of orientation
  mixtures  16x16 RGB pictures of parts; each class mixes its own part with parts it shares with the two classes
            beside it on a ring, so 30-60% of a class's images are drawn exactly as another class's are (Bayes
            accuracy 82%): overlap no model can undo, and two look-alikes per class, not one
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


def mixtures(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(n, 3, 16, 16) float32 and (n,) int64: every class is a mixture of parts drawn from one pool of 20
    blob-and-stripe patterns: one part its own, and one shared with each of its two neighbours on a ring of
    ten classes, with mixing weights drawn per class (the own part 40-70%). An image of a shared part is
    the same picture whichever class drew it: overlap no model can undo, each class with two look-alikes.
    The pool and the weights are the same for every seed; seeds draw new images."""
    k, side = 10, 16
    design = np.random.default_rng(20)
    parts = [_part(design, side) for _ in range(2 * k)]  # 0..9 own, 10..19 shared by (c, c + 1)
    own = design.uniform(0.4, 0.7, k)
    left = design.uniform(0.3, 0.7, k) * (1 - own)
    weights = np.zeros((k, 2 * k))
    weights[np.arange(k), np.arange(k)] = own
    weights[np.arange(k), k + (np.arange(k) - 1) % k] = left
    weights[np.arange(k), k + np.arange(k)] = 1 - own - left
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % k
    rng.shuffle(labels)
    chosen = (rng.random(n)[:, None] > weights[labels].cumsum(axis=1)).sum(axis=1)
    images = np.stack([parts[c] for c in chosen])
    shift = rng.integers(-2, 3, (n, 2))
    for i, (dy, dx) in enumerate(shift):
        images[i] = np.roll(images[i], (dy, dx), axis=(1, 2))
    images = images * rng.uniform(0.7, 1.2, (n, 3, 1, 1)) + rng.normal(0, 0.25, images.shape)
    return images.astype(np.float32), labels.astype(np.int64)


def _part(rng, side: int) -> np.ndarray:
    """(3, side, side): three soft coloured blobs over a faint oriented stripe."""
    yy, xx = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    angle, freq = rng.uniform(0, np.pi), rng.uniform(0.6, 1.6)
    img = 0.15 * np.sin(freq * (xx * np.cos(angle) + yy * np.sin(angle)))[None] * rng.uniform(0.3, 1, (3, 1, 1))
    for _ in range(3):
        cy, cx, size = *rng.uniform(3, side - 3, 2), rng.uniform(1.5, 3.5)
        img = img + rng.uniform(-0.8, 0.8, (3, 1, 1)) * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / size ** 2)[None]
    return img.astype(np.float32)
