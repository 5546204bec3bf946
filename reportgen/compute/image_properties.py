"""Properties of each decoded image, measured in the collect pass (no second decode): how it looks, not what it
shows. Brightness and contrast (mean and spread of grey levels), blur (the variance of a Laplacian: low means
few sharp edges), entropy (bits per pixel of the grey-level histogram: low means flat, little information),
width, height, aspect ratio, and colourfulness (0 for an image that is grey in every pixel).

Measured on a copy at most PROPERTY_SIDE pixels on a side, so a 4,000-pixel photo costs what a thumbnail does
(blur is therefore comparable across images of one size, as the data sets it is read on are)."""

from __future__ import annotations

import numpy as np
from PIL import Image

PROPERTY_NAMES = ("brightness", "contrast", "blur", "entropy", "width", "height", "aspect", "colourfulness")
PROPERTY_SIDE = 128


def shrunk(image: Image.Image, side: int = PROPERTY_SIDE) -> Image.Image:
    """A copy at most `side` pixels on a side (the image itself if it is no larger): the one copy the pass's
    properties, thumbnail and small pixels are all made from, instead of three shrinks of a full photo each."""
    if max(image.size) <= side:
        return image
    small = image.copy()
    small.thumbnail((side, side), Image.BILINEAR)
    return small


def image_properties(image: Image.Image, small: Image.Image | None = None) -> np.ndarray:
    """(len(PROPERTY_NAMES),) float32 for one image (any mode; the original size, before resizing); `small`: its
    shrunk() copy, where the caller has made it already."""
    width, height = image.size
    small = shrunk(image) if small is None else small
    rgb = np.asarray(small.convert("RGB"), dtype=np.float32)
    grey = rgb @ np.array([0.299, 0.587, 0.114], np.float32)
    laplacian = (grey[1:-1, :-2] + grey[1:-1, 2:] + grey[:-2, 1:-1] + grey[2:, 1:-1] - 4 * grey[1:-1, 1:-1]) \
        if min(grey.shape) >= 3 else np.zeros(1, np.float32)
    counts = np.bincount(np.clip(grey, 0, 255).astype(np.uint8).reshape(-1), minlength=256)
    p = counts[counts > 0] / counts.sum()
    # the channels' mean as two adds, not rgb.mean(axis=2): numpy reduces a 3-long last axis slowly (0.23 against
    # 0.09 ms a 128-px picture, a tenth of a decoding worker's report work); the values are whole numbers, so the
    # sums are exact and the result is the same to the bit
    channel_mean = (rgb[..., 0] + rgb[..., 1] + rgb[..., 2]) / np.float32(3)
    colour = np.abs(rgb - channel_mean[..., None]).mean() / 255
    return np.array([grey.mean() / 255, grey.std() / 255, laplacian.var() / 255 ** 2, -(p * np.log2(p)).sum(),
                     width, height, width / max(height, 1), colour], np.float32)
