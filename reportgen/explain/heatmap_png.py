"""Small images of maps for the page, with the colour maps built from a few anchor colours in numpy.

Signed maps (gradients, attributions) use a diverging blue-white-red palette of 33 steps with white at zero,
stored as a palette PNG: gradients are noisy, and 33 steps instead of 256 halve the bytes of a 64x64 map (to
about 2 KB) with no visible loss. Maps larger than MAP_SIDE are area-averaged down; smaller ones stay at their
own size and the page scales them up with crisp pixels. Budget: ~200 samples x ~10 maps each in one page.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

MAP_SIDE = 64  # longest side of an encoded map, in pixels
GAP_RGB, GAP_GREY = (214, 226, 245), 224  # grid gaps: pale blue, unlike any filter's mid-grey zero

# ColorBrewer RdBu (reversed: blue = negative, red = positive) and an inferno-like ramp for Grad-CAM.
DIVERGING_ANCHORS = ["#053061", "#2166ac", "#4393c3", "#92c5de", "#d1e5f0", "#f7f7f7",
                     "#fddbc7", "#f4a582", "#d6604d", "#b2182b", "#67001f"]
HEAT_ANCHORS = ["#000004", "#420a68", "#932667", "#dd513a", "#fca50a", "#fcffa4"]


def palette(anchors: list[str], size: int = 256) -> np.ndarray:
    """(size, 3) uint8 colours interpolated linearly between the anchor colours."""
    rgb = np.array([[int(a[i:i + 2], 16) for i in (1, 3, 5)] for a in anchors], dtype=np.float64)
    stops = np.linspace(0, 1, len(anchors))
    at = np.linspace(0, 1, size)
    return np.stack([np.interp(at, stops, rgb[:, c]) for c in range(3)], axis=1).round().astype(np.uint8)


DIVERGING = palette(DIVERGING_ANCHORS, 33)  # odd: index 16 is exactly zero (white)
HEAT = palette(HEAT_ANCHORS)
CAM_COLOURS = 64  # an overlay of heat over a photo, quantised: a third of the bytes of full RGB


def symmetric_scale(values: np.ndarray) -> float:
    """A colour-scale limit for signed maps: the 99.5th percentile of |values|, so one hot pixel doesn't wash
    out the rest; 1.0 for an all-zero map."""
    limit = float(np.percentile(np.abs(values), 99.5)) if values.size else 0.0
    if not np.isfinite(limit) or limit <= 0:
        limit = float(np.abs(values).max()) if values.size else 0.0
    return limit if np.isfinite(limit) and limit > 0 else 1.0


def shrink(array: np.ndarray, side: int = MAP_SIDE) -> np.ndarray:
    """(h, w) float map area-averaged so its longest side is at most `side`."""
    height, width = array.shape
    scale = side / max(height, width)
    if scale >= 1:
        return array
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return np.asarray(Image.fromarray(array.astype(np.float32), "F").resize(size, Image.BOX))


def encode_png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def signed_map_png(values: np.ndarray, limit: float) -> bytes:
    """values: (H, W) float; -limit..+limit maps to blue..white..red."""
    small = shrink(np.nan_to_num(values.astype(np.float32)))
    half = len(DIVERGING) // 2
    index = np.clip(np.round(small / limit * half) + half, 0, len(DIVERGING) - 1).astype(np.uint8)
    image = Image.fromarray(index, "P")
    image.putpalette(DIVERGING.reshape(-1).tolist())
    return encode_png(image)


def source_webp(pixels: np.ndarray) -> bytes:
    """pixels: (H, W) or (H, W, 3) floats in [0, 1]. WebP, as the page's thumbnails: a photo is a seventh of its
    PNG size; lossless for tiny images, whose every pixel shows when the page scales them up."""
    channels = [shrink(pixels[..., c]) for c in range(3)] if pixels.ndim == 3 else [shrink(pixels)]
    array = (np.clip(np.stack(channels, axis=-1), 0, 1) * 255).round().astype(np.uint8)
    image = Image.fromarray(array[..., 0] if len(channels) == 1 else array)
    buffer = io.BytesIO()
    image.save(buffer, "WEBP", lossless=max(image.size) <= 32, quality=85, method=4)
    return buffer.getvalue()


def cam_overlay_png(gray: np.ndarray, cam: np.ndarray, alpha: float = 0.55) -> bytes:
    """gray: (H, W) in [0, 1] the input; cam: (H, W) in [0, 1]; the heat colours blended over the input."""
    small_gray, small_cam = shrink(gray), shrink(cam)
    heat = HEAT[np.clip(np.round(small_cam * 255), 0, 255).astype(np.uint8)].astype(np.float32)
    blend = alpha * heat + (1 - alpha) * 255 * np.clip(small_gray, 0, 1)[..., None]
    return encode_png(Image.fromarray(blend.round().astype(np.uint8)).quantize(CAM_COLOURS))


def tile_grid_png(tiles: np.ndarray, *, tile_side: int, columns: int = 8, gap: int = 3) -> bytes:
    """tiles: (N, h, w) or (N, h, w, 3) floats in [0, 1], laid out in a grid, each scaled to `tile_side`
    (nearest-neighbour, so 3x3 filters stay readable as 3x3 blocks)."""
    count = len(tiles)
    columns = max(1, min(columns, count))
    rows = -(-count // columns)
    height, width = tiles.shape[1:3]
    scale = tile_side / max(height, width)
    tile_h, tile_w = max(1, round(height * scale)), max(1, round(width * scale))
    resample = Image.NEAREST if scale >= 1 else Image.BOX
    mode = "RGB" if tiles.ndim == 4 else "L"
    sheet = Image.new(mode, (columns * (tile_w + gap) - gap, rows * (tile_h + gap) - gap),
                      GAP_RGB if mode == "RGB" else GAP_GREY)
    for n, tile in enumerate(tiles):
        image = Image.fromarray((np.clip(tile, 0, 1) * 255).round().astype(np.uint8), mode)
        sheet.paste(image.resize((tile_w, tile_h), resample), ((n % columns) * (tile_w + gap),
                                                               (n // columns) * (tile_h + gap)))
    return encode_png(sheet)


def colour_bar_png(colours: np.ndarray, height: int = 10, width: int = 128) -> bytes:
    """A horizontal legend strip of an (n, 3) palette, each colour a block of equal width."""
    columns = colours[np.arange(width) * len(colours) // width]
    return encode_png(Image.fromarray(np.repeat(columns[None], height, axis=0), "RGB"))
