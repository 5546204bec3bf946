"""Hand-made `Collected` objects for unit tests of analyses: no model, no images."""

from __future__ import annotations

import hashlib

import numpy as np

from reportgen.collect.batched_pass import Collected


def make_collected(n: int = 60, k: int = 3, d: int = 8, *, seed: int = 0, splits=("val",),
                   accuracy: float = 0.8) -> Collected:
    """Clustered embeddings per class; predictions right with probability `accuracy`; image properties of 16 px
    grey images, unrelated to anything else."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % k
    centres = rng.normal(0, 5, (k, d))
    embeddings = (centres[labels] + rng.normal(0, 1, (n, d))).astype(np.float32)
    wrong = rng.random(n) > accuracy
    preds = np.where(wrong, (labels + 1) % k, labels)
    logits = rng.normal(0, 1, (n, k)).astype(np.float32)
    logits[np.arange(n), preds] += 3
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    loss = -np.log(probs[np.arange(n), labels])
    pixels = rng.integers(0, 255, (n, 16 * 16), dtype=np.uint8)
    # drawn last, so every array above stays what it was before properties were added
    properties = np.column_stack([0.25 + 0.5 * rng.beta(4, 4, n), rng.uniform(0.1, 0.3, n), rng.lognormal(-4, 0.5, n),
                                  rng.uniform(4, 7, n), np.full(n, 16), np.full(n, 16), np.ones(n), np.zeros(n)])
    return Collected(
        classes=[f"c{i}" for i in range(k)], split_names=list(splits), paths=[f"img_{i}.png" for i in range(n)],
        split=np.arange(n) % len(splits), labels=labels, logits=logits, probs=probs.astype(np.float32),
        preds=logits.argmax(1), loss=loss.astype(np.float32), embeddings=embeddings,
        thumbnails=[b"RIFF0000WEBP"] * n, pixels=pixels, pixel_hash=row_hashes(pixels),
        properties=properties.astype(np.float32),
    )


def row_hashes(pixels: np.ndarray) -> np.ndarray:
    """(N,) uint64 exact hashes of the pixel rows, standing in for the pass's hash of the decoded picture."""
    return np.array([int.from_bytes(hashlib.sha1(row.tobytes()).digest()[:8], "big")
                     for row in pixels], np.uint64)
