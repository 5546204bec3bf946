"""Small previews of each sample, encoded once in the collect pass and embedded in the page."""

from __future__ import annotations

import base64
import io

from PIL import Image

THUMB_SIZE = 48  # longest side in pixels: readable on hover, ~1 KB per sample as WebP
THUMB_FORMAT = "WEBP"
THUMB_MIME = "image/webp"
# WebP's effort setting (0-6). bench/bench_thumbnails.py: method 2 instead of 4 encodes a 28x28 digit in 0.105 ms
# instead of 0.125 and a 48x48 photo in 0.17 ms instead of 0.24, for 3.5 % more bytes; 1 and 0 save no more
# time on digits and add 22 % to photos.
WEBP_METHOD = 2


def encode_thumbnail(image: Image.Image, size: int = THUMB_SIZE) -> bytes:
    """WebP of `image` shrunk to fit `size`. A smaller image keeps its own size: the page scales every
    thumbnail up with image-rendering: pixelated, which keeps pixels as crisp as encoding it upscaled did. At
    WebP method 4, a 28x28 digit took 0.16 ms and 204 B as it is against 0.43 ms and 362 B upscaled to 48x48,
    when encoding was 3x the decoding's cost in the collect pass."""
    thumb = image
    scale = size / max(image.size)
    if scale < 1:
        thumb = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))),
                             Image.BILINEAR)
    buffer = io.BytesIO()
    thumb.save(buffer, THUMB_FORMAT, quality=70, method=WEBP_METHOD)
    return buffer.getvalue()


def data_uri(thumb: bytes, mime: str = THUMB_MIME) -> str:
    return f"data:{mime};base64,{base64.b64encode(thumb).decode('ascii')}"


def base64_strings(thumbs: list[bytes]) -> list[str]:
    return [base64.b64encode(t).decode("ascii") for t in thumbs]
