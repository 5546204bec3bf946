"""The highest-loss samples of each split, as a gallery: the quickest way to see what the model gets wrong."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reportgen.analyses.findings import evaluation_split
from reportgen.analyses.section import Result
from reportgen.collect.thumbnails import data_uri
from reportgen.compute.ranking_by_loss import hardest_samples

ID = "hardest"
TITLE = "Hardest samples"
TEMPLATE = "_hardest.html"
JSON_KEYS = ("path", "label", "prediction", "confidence", "loss")


@dataclass
class HardestResult(Result):
    top_k: int
    splits: list[dict]  # {name, samples: [{index, path, label, prediction, confidence, loss, thumbnail}]}

    @property
    def ordered_splits(self) -> list[dict]:
        """The evaluation split first: its hardest samples are the ones a reviewer reads."""
        first = evaluation_split([s["name"] for s in self.splits])
        return sorted(self.splits, key=lambda s: s["name"] != first)

    def json(self) -> dict:
        return {"splits": {s["name"]: {"hardest": [{k: r[k] for k in JSON_KEYS} for r in s["samples"]]}
                           for s in self.splits}}


def run(collected, *, top_k: int) -> HardestResult:
    splits = []
    for s, name in enumerate(collected.split_names):
        rows = []
        for i in hardest_samples(collected.loss, collected.split == s, top_k):
            loss = float(collected.loss[i])
            rows.append({"index": int(i), "path": collected.paths[i],
                         "label": collected.classes[collected.labels[i]],
                         "prediction": collected.classes[collected.preds[i]],
                         "confidence": float(collected.confidence[i]), "loss": loss if np.isfinite(loss) else None,
                         "thumbnail": data_uri(collected.thumbnails[i])})
        splits.append({"name": name, "samples": rows})
    return HardestResult(top_k, splits)
