"""Decode one image file into a PIL image of the mode the model wants, or say why it can't be."""

from __future__ import annotations

import warnings

import numpy as np
from PIL import Image, ImageOps

# Above this many pixels PIL would refuse the file as a decompression bomb; we decode large photos
# at reduced size instead (JPEG draft mode), and refuse only truly absurd sizes.
MAX_PIXELS = 200_000_000


class DecodeError(Exception):
    """The file is not a decodable image; the message is the reason shown in the report."""


def open_image(path, channels: int, target: tuple[int, int] | None = None) -> Image.Image:
    """Decode `path` to mode "L" (channels=1) or "RGB" (channels=3), upright per its EXIF orientation."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(path) as image:
                if image.width * image.height > MAX_PIXELS:
                    raise DecodeError(f"{image.width}x{image.height} pixels is too large to decode")
                if target and image.format == "JPEG":
                    image.draft("RGB" if channels == 3 else "L", (target[1] * 2, target[0] * 2))
                image.load()
                image = ImageOps.exif_transpose(image)
                return to_mode(image, channels)
    except DecodeError:
        raise
    except Image.DecompressionBombError as exc:
        raise DecodeError("too large to decode safely") from exc
    except (OSError, ValueError, SyntaxError, Image.UnidentifiedImageError) as exc:
        if hasattr(path, "stat") and path.stat().st_size == 0:
            raise DecodeError("empty file (0 bytes)") from exc
        message = str(exc).split(" '")[0] if "cannot identify" in str(exc) else str(exc)
        raise DecodeError(f"not a decodable image ({message[:120]})") from exc


def to_mode(image: Image.Image, channels: int) -> Image.Image:
    mode = "L" if channels == 1 else "RGB"
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        # 16-bit and float images: scale to 8 bits by their range rather than clipping at 255.
        array = np.asarray(image, dtype=np.float64)
        top = 65535.0 if image.mode.startswith("I;16") or array.max() > 255 else 255.0
        image = Image.fromarray(np.clip(array / top * 255.0, 0, 255).astype(np.uint8), "L")
    if image.mode in ("P", "PA", "LA", "RGBA") or "transparency" in image.info:
        # Transparent pixels go on white, as a viewer shows them, not on black.
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    return image.convert(mode) if image.mode != mode else image
