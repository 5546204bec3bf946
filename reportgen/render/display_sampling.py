"""Which samples get a thumbnail in the page. Thumbnails are most of a page's bytes (about 0.5-1 KB each);
above THUMBNAIL_CAP a seeded random subset keeps theirs, while every point, number and JSON row still covers
all samples. Measured: a 50,000-sample page with every thumbnail is 49 MB and ready in 2.0 s in headless
Chromium on 2 cores; the cap keeps larger runs at about that size."""

from __future__ import annotations

import numpy as np

THUMBNAIL_CAP = 50_000


def thumbnail_mask(n: int, *, seed: int = 0, cap: int = THUMBNAIL_CAP) -> np.ndarray:
    """(N,) bool: True where the sample's thumbnail is embedded."""
    if n <= cap:
        return np.ones(n, dtype=bool)
    mask = np.zeros(n, dtype=bool)
    mask[np.random.default_rng(seed).choice(n, size=cap, replace=False)] = True
    return mask


def thumbnail_note(mask: np.ndarray) -> str | None:
    if mask.all():
        return None
    return (f"Thumbnails are embedded for {int(mask.sum()):,} of {mask.size:,} samples (a seeded random subset) to "
            "keep the page light; the others show no preview. Every point, number and report.json row covers "
            "all samples.")
