"""The highest-loss samples of each split, as a gallery: the quickest way to see what the model gets wrong."""

from __future__ import annotations

import numpy as np

from reportgen.section import Section
from reportgen.thumbnails import data_uri

ID = "hardest"
TITLE = "Hardest samples"


def hardest_samples(loss: np.ndarray, mask: np.ndarray, top_k: int) -> np.ndarray:
    """Indices of the `top_k` highest losses among `mask`, highest first; non-finite losses rank first."""
    candidates = np.flatnonzero(mask)
    ranked_loss = np.where(np.isfinite(loss[candidates]), loss[candidates], np.inf)
    order = np.argsort(-ranked_loss, kind="stable")
    return candidates[order[:top_k]]


def run(collected, ctx) -> Section:
    splits = []
    for s, name in enumerate(collected.split_names):
        rows = []
        for i in hardest_samples(collected.loss, collected.split == s, ctx.top_k):
            loss = float(collected.loss[i])
            rows.append({
                "index": int(i),
                "path": collected.paths[i],
                "label": collected.classes[collected.labels[i]],
                "prediction": collected.classes[collected.preds[i]],
                "confidence": float(collected.confidence[i]),
                "loss": loss if np.isfinite(loss) else None,
                "thumbnail": data_uri(collected.thumbnails[i]),
            })
        splits.append({"name": name, "samples": rows})
    json = {"splits": {s["name"]: {"hardest": [{k: r[k] for k in ("path", "label", "prediction", "confidence",
                                                                 "loss")} for r in s["samples"]]}
                       for s in splits}}
    return Section(ID, TITLE, "_hardest.html", {"splits": splits, "top_k": ctx.top_k}, json)
