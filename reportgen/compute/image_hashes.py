"""Two fingerprints of each image, for duplicates (analyses/duplicates.py).

- `pixel_hash`: 64-bit XXH3 (the xxhash package) over the decoded picture's mode, size and pixel bytes, taken in
  the collect pass (the only place the full decoded picture exists), in the decoding workers. XXH3 because this is
  an equality test, not a signature, and the full picture is large: 0.04 ms for a 400x400 photo's 0.46 MB against
  0.34 ms for SHA-1 (OpenSSL's, on the CPU's SHA instructions), a tenth of a worker's whole work on the photo
  (bench/bench_hygiene.py prints it). Equal hashes = the same pixels, whatever the file's name, format or metadata:
  a PNG saved again as PNG, the same image under two paths. Two different images share a hash with probability
  about N^2 / 2^65 (1e-9 at N = 200,000); XXH3 passes SMHasher's collision and distribution tests.
- `perceptual_hashes`: the 64-bit DCT pHash (Zauner's, as the imagehash package computes it) of the 32x32 pixel
  copy the pass keeps anyway (`Collected.pixels`, made by the same antialiased resize pHash starts with), for all
  samples at once: grey levels, a 2-D DCT-II, the 8x8 lowest frequencies, one bit each for "above their median".
  Re-encoding (JPEG), resizing, mild blur, noise or a brightness change keep it within a few bits; a shift of a
  tenth of the image, a crop or a flip changes many.
"""

from __future__ import annotations

import numpy as np
import xxhash

PHASH_LOW = 8  # 8x8 low frequencies: 64 bits
GREY = np.array([0.299, 0.587, 0.114])  # ITU-R 601 luma, as PIL's convert("L")


def pixel_hash(picture) -> int:
    """A PIL image -> 64-bit hash of its exact pixels (as an unsigned int)."""
    digest = xxhash.xxh3_64(f"{picture.mode}{picture.size}".encode())
    digest.update(picture.tobytes())
    return digest.intdigest()


def dct_matrix(side: int) -> np.ndarray:
    """(side, side) float64: the unnormalised DCT-II as scipy.fft.dct(x, type=2) computes it, as a matrix."""
    n = np.arange(side)
    return 2 * np.cos(np.pi * np.outer(n, 2 * n + 1) / (2 * side))


def grey_squares(pixels: np.ndarray) -> np.ndarray:
    """(N, P) uint8 flattened s x s grey or s x s x 3 RGB images -> (N, s, s) float64 grey levels."""
    n, width = pixels.shape
    side = round(np.sqrt(width))
    if side * side == width:
        return pixels.reshape(n, side, side).astype(np.float64)
    side = round(np.sqrt(width / 3))
    if 3 * side * side != width:
        raise ValueError(f"pixel rows of {width} values are neither s*s grey nor s*s*3 RGB images")
    return pixels.reshape(n, side, side, 3).astype(np.float64) @ GREY


CHUNK = 16_384


def perceptual_hashes(pixels: np.ndarray) -> np.ndarray:
    """pixels: (N, P) uint8, each a flattened square image (grey or RGB) -> (N,) uint64 pHash, bit 63 the first
    (row-major) low frequency, as imagehash's hex string reads."""
    n = pixels.shape[0]
    out = np.empty(n, np.uint64)
    side = grey_squares(pixels[:1]).shape[1] if n else PHASH_LOW
    low = min(PHASH_LOW, side)
    # float64 as imagehash (a coefficient near the median must not flip its bit); only the DCT's low rows are needed
    basis = dct_matrix(side)[:low]
    weights = (np.uint64(1) << np.arange(low * low - 1, -1, -1, dtype=np.uint64))
    for start in range(0, n, CHUNK):
        grey = grey_squares(pixels[start:start + CHUNK])
        coefficients = (basis @ grey @ basis.T).reshape(grey.shape[0], -1)  # (n, low*low)
        bits = coefficients > np.median(coefficients, axis=1, keepdims=True)
        out[start:start + CHUNK] = (bits.astype(np.uint64) * weights).sum(axis=1, dtype=np.uint64)
    return out


def hamming(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Bits that differ between uint64 hashes, elementwise."""
    return np.bitwise_count(np.bitwise_xor(a, b)).astype(np.int64)
