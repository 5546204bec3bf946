"""The model's embedding space in 2-D, coloured by label, prediction, correctness or group, dot size = loss."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reportgen.analyses.section import Result
from reportgen.compute.projection import Projection
from reportgen.render.display_sampling import THUMBNAIL_CAP, thumbnail_mask, thumbnail_note

ID = "projection"
TITLE = "Embedding projection"
TEMPLATE = "_projection.html"


@dataclass
class ProjectionResult(Result):
    projection: Projection
    layer: str | None
    layer_note: str | None
    dim: int
    thumbnails_embedded: int
    n: int

    @property
    def method(self) -> str:
        return self.projection.method

    @property
    def seed(self) -> int:
        return self.projection.seed

    @property
    def note(self) -> str | None:
        return self.projection.note

    @property
    def coords(self) -> np.ndarray:
        return np.round(self.projection.coords.astype(np.float64), 4)

    @property
    def thumbnail_note(self) -> str | None:
        return thumbnail_note(np.arange(self.n) < self.thumbnails_embedded)

    @property
    def x(self) -> list:
        return self.coords[:, 0].tolist()

    @property
    def y(self) -> list:
        return self.coords[:, 1].tolist()

    def json(self) -> dict:
        return {"projection": {"method": self.method, "seed": self.seed, "note": self.note,
                               "thumbnails_embedded": self.thumbnails_embedded, "layer": self.layer,
                               "coordinates": self.coords.tolist()}}


def run(collected, *, projection: Projection, seed: int = 0, thumbnail_cap: int = THUMBNAIL_CAP) -> ProjectionResult:
    shown = thumbnail_mask(collected.n, seed=seed, cap=thumbnail_cap)
    return ProjectionResult(projection, collected.embedding_layer, collected.embedding_note,
                            int(collected.embeddings.shape[1]), int(shown.sum()), collected.n)
