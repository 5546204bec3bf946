"""The model's embedding space in 2-D, coloured by label, prediction or correctness, dot size = loss."""

from __future__ import annotations

import numpy as np

from reportgen.display_sampling import thumbnail_mask, thumbnail_note
from reportgen.section import Section

ID = "projection"
TITLE = "Embedding projection"
WAITS_FOR = ("projection",)  # may still be fitting on another thread (analyses.run_all)


def run(collected, ctx) -> Section:
    projection = ctx.projection
    coords = np.round(projection.coords.astype(np.float64), 4)
    shown = thumbnail_mask(collected.n, seed=ctx.seed, cap=ctx.thumbnail_cap)
    data = {
        "thumbnail_note": thumbnail_note(shown),
        "method": projection.method,
        "seed": projection.seed,
        "note": projection.note,
        "layer": collected.embedding_layer,
        "layer_note": collected.embedding_note,
        "dim": int(collected.embeddings.shape[1]),
        "x": coords[:, 0].tolist(),
        "y": coords[:, 1].tolist(),
    }
    json = {"projection": {"method": projection.method, "seed": projection.seed, "note": projection.note,
                           "thumbnails_embedded": int(shown.sum()),
                           "layer": collected.embedding_layer, "coordinates": coords.tolist()}}
    return Section(ID, TITLE, "_projection.html", data, json)
