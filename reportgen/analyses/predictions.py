"""Predictions, for images without labels: how many of each class the model predicts, how sure it is, and the
images it is least sure of or finds most unlike the rest of what it calls the same class."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reportgen.analyses.section import Finding, Result
from reportgen.collect.thumbnails import data_uri
from reportgen.compute.class_geometry import class_means, nearest_class_means
from reportgen.render.figure_data import figure, layout, rounded
from reportgen.render.table_data import column, table

ID = "predictions"
TITLE = "Predictions"
TEMPLATE = "_predictions.html"
BINS = 20
UNSURE = 0.5  # below this top-1 probability a prediction is a guess between classes
UNSURE_MEDIUM, UNSURE_HIGH = 0.10, 0.25  # shares of unsure predictions worth a finding


def atypicality(embeddings: np.ndarray, groups: np.ndarray, num_classes: int) -> np.ndarray:
    """(N,) distance to the centroid of the sample's group (its predicted class), in units of that group's
    median distance: 1 is typical, 3 is far out."""
    means = class_means(embeddings, groups, num_classes)
    distance = nearest_class_means(embeddings, means, {"own": groups}, count=0)["own"].astype(np.float64)
    median = np.array([np.median(distance[groups == c]) if (groups == c).any() else np.nan for c in range(num_classes)])
    scale = median[groups]
    return np.divide(distance, scale, out=np.zeros_like(distance), where=scale > 0)


def card(collected, i: int, value: float, what: str) -> dict:
    return {"index": int(i), "path": collected.paths[i], "prediction": collected.classes[collected.preds[i]],
            "value": float(value), "what": what, "thumbnail": data_uri(collected.thumbnails[i])}


@dataclass
class PredictionsResult(Result):
    counts: list[dict]  # {class, index, n, share, mean_confidence}
    histogram: dict  # {edges, counts}
    lowest: list[dict]
    atypical: list[dict]
    n: int
    n_unsure: int

    @property
    def counts_table(self) -> dict:
        columns = [column("class", "predicted class"), column("n", "images", "int"), column("share", "share", "pct"),
                   column("mean_confidence", "mean confidence", "num"), column("index", "", "hidden")]
        return table(columns, self.counts, sort=("n", "desc"), page=20, search=len(self.counts) > 20,
                     action={"kind": "pred", "split": -1, "class": "index"})

    @property
    def histogram_figure(self) -> dict:
        edges, counts = self.histogram["edges"], self.histogram["counts"]
        trace = {"type": "scatter", "mode": "lines", "name": "images", "x": rounded(edges),
                 "y": counts + counts[-1:], "line": {"shape": "hv"}, "fill": "tozeroy"}
        return figure([trace], layout("top-1 probability (confidence)", "images"))

    def json(self) -> dict:
        strip = lambda rows: [{k: v for k, v in r.items() if k not in ("thumbnail", "index")} for r in rows]  # noqa: E731
        return {"predictions": {"class_counts": {c["class"]: c["n"] for c in self.counts},
                                "confidence_histogram": self.histogram, "unsure_below": UNSURE,
                                "n_unsure": self.n_unsure, "lowest_confidence": strip(self.lowest),
                                "most_atypical": strip(self.atypical)}}

    def findings(self) -> list[Finding]:
        """Many guesses between classes: the model is unsure of a share of the images (UNSURE_MEDIUM or more)."""
        share = self.n_unsure / max(self.n, 1)
        if share < UNSURE_MEDIUM:
            return []
        return [Finding(f"{ID}/unsure", ID, "high" if share >= UNSURE_HIGH else "medium", share * 2,
                        f"The model is unsure of {share:.0%} of these images (top-1 probability under {UNSURE:.0%}): "
                        "they may lie outside what it was trained on.", [r["index"] for r in self.lowest[:8]],
                        subject="unsure")]


def run(collected, *, top_k: int = 25) -> PredictionsResult:
    k = len(collected.classes)
    confidence = collected.confidence.astype(np.float64)
    counts = np.bincount(collected.preds, minlength=k)
    sums = np.bincount(collected.preds, weights=confidence, minlength=k)
    rows = [{"class": name, "index": c, "n": int(counts[c]), "share": counts[c] / collected.n,
             "mean_confidence": sums[c] / counts[c] if counts[c] else None}
            for c, name in enumerate(collected.classes) if counts[c]]
    hist, edges = np.histogram(confidence, bins=BINS, range=(0, 1))
    lowest = np.argsort(confidence, kind="stable")[:top_k]
    odd = atypicality(collected.embeddings, collected.preds, k)
    atypical = np.argsort(-odd, kind="stable")[:top_k]
    return PredictionsResult(rows, {"edges": edges.tolist(), "counts": hist.tolist()},
                             [card(collected, i, confidence[i], "confidence") for i in lowest],
                             [card(collected, i, odd[i], "distance to its class's centre, in median distances")
                              for i in atypical], collected.n, int((confidence < UNSURE).sum()))
