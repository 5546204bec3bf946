"""What the one batched pass keeps: row i of every array is sample i."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from reportgen.data.source import Skipped

PIXEL_SIDE = 32  # per-sample pixels kept for raw-pixel analyses (class-mean distance, raw projection)


@dataclass
class Collected:
    classes: list[str]
    split_names: list[str]
    paths: list[str]  # display paths relative to the data root
    split: np.ndarray  # (N,) int
    labels: np.ndarray  # (N,) int64
    logits: np.ndarray  # (N, K) float32
    probs: np.ndarray  # (N, K) float32
    preds: np.ndarray  # (N,) int64
    loss: np.ndarray  # (N,) float32, cross-entropy of the given label
    embeddings: np.ndarray  # (N, D) float32, penultimate layer (or logits, see embedding_note); NaN/inf -> 0
    thumbnails: list[bytes]  # N encoded images
    pixels: np.ndarray  # (N, P) uint8, each image at PIXEL_SIDE resolution, flattened
    properties: np.ndarray | None = None  # (N, len(PROPERTY_NAMES)) float32: brightness, blur, ... (compute/)
    pixel_hash: np.ndarray | None = None  # (N,) uint64: hash of the decoded pixels (compute/image_hashes.py)
    skipped: list[Skipped] = field(default_factory=list)
    source_index: np.ndarray | None = None  # (N,) row i's index into DataSource.samples
    nonfinite: np.ndarray | None = None  # (N,) bool: the model gave NaN/inf logits; no valid prediction
    empty_classes: list = field(default_factory=list)  # (split, class) folders that held no image
    embedding_layer: str | None = None
    embedding_note: str | None = None
    forward_threads: int | None = None  # torch's intra-op threads in the pass's forward, as last chosen
    core_split: dict | None = None  # how the CPU's cores were split and why (collect/core_split.py)
    labelled: bool = True  # False: no sample has a label (a predictions-only report); labels are all -1

    @property
    def n(self) -> int:
        return len(self.labels)

    @property
    def correct(self) -> np.ndarray:
        """A sample with non-finite logits has no valid prediction, so it never counts as correct."""
        ok = self.preds == self.labels
        return ok & ~self.nonfinite if self.nonfinite is not None else ok

    @cached_property
    def confidence(self) -> np.ndarray:
        """(N,) top-1 probability. Computed once: an (N, K) reduction, costly at many classes, and read per
        sample by several analyses."""
        return self.probs.max(axis=1)
