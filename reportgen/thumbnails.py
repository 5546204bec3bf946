"""Small previews of each sample, encoded once in the collect pass and embedded in the page."""

from __future__ import annotations

import base64
import io

from PIL import Image

THUMB_SIZE = 48  # longest side in pixels: readable on hover, ~1 KB per sample as WebP
THUMB_FORMAT = "WEBP"
THUMB_MIME = "image/webp"


def encode_thumbnail(image: Image.Image, size: int = THUMB_SIZE) -> bytes:
    thumb = image.copy()
    # Upscale tiny images (8x8 digits) too, with NEAREST so pixels stay crisp.
    scale = size / max(thumb.size)
    new_size = (max(1, round(thumb.width * scale)), max(1, round(thumb.height * scale)))
    thumb = thumb.resize(new_size, Image.NEAREST if scale > 1 else Image.BILINEAR)
    buffer = io.BytesIO()
    thumb.save(buffer, THUMB_FORMAT, quality=70, method=4)
    return buffer.getvalue()


def data_uri(thumb: bytes, mime: str = THUMB_MIME) -> str:
    return f"data:{mime};base64,{base64.b64encode(thumb).decode('ascii')}"


def base64_strings(thumbs: list[bytes]) -> list[str]:
    return [base64.b64encode(t).decode("ascii") for t in thumbs]
