"""Outliers: samples far from every other sample, in the model's embedding or in the raw pixels (the score and
its fence: compute/outlier_scores.py), ranked, with each class's most typical and most atypical samples.

An outlier in the embedding is an image the model has seen nothing like (a foreign image, a rare style, a
corrupt file); one only in the raw pixels looks odd (blank, rotated, another size or colour) but the model maps
it among ordinary ones. What to do next: drop what does not belong, collect more of what is rare.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reportgen.analyses.section import Finding, Result
from reportgen.collect.thumbnails import data_uri
from reportgen.compute.neighbours import Neighbours
from reportgen.compute.outlier_scores import FENCE, K, OutlierScores, knn_outlier_scores
from reportgen.render.table_data import column, table

ID = "outliers"
TITLE = "Outliers"
TEMPLATE = "_outliers.html"
GALLERY_OPEN, GALLERY_PAGE = 16, 64  # ranked outliers drawn at once, and in a fold
CLASS_CARDS = 10  # classes drawn with their typical and atypical samples; the table lists every class
PER_SIDE = 4
JSON_LIMIT = 1000
EXTREME = 2.0  # twice the fence's distance: a "medium" finding


def card(collected, i: int, caption: str) -> dict:
    return {"index": int(i), "path": collected.paths[i], "caption": caption,
            "wrong": bool(collected.labelled and not collected.correct[i]),
            "thumbnail": data_uri(collected.thumbnails[i])}


@dataclass
class OutliersResult(Result):
    rows: list[dict]  # flagged samples, most beyond their fence first
    score: np.ndarray  # (N,) the larger of the two views' score / fence: > 1 is flagged
    embedding: OutlierScores
    pixels: OutlierScores | None
    per_class: list[dict]
    cards: list[dict]  # the CLASS_CARDS classes with the most isolated members, with thumbnails
    gallery: list[dict]
    n_samples: int
    by: str  # "label" or "prediction": what a sample's class is
    k = K
    fence_factor = FENCE
    gallery_open = GALLERY_OPEN

    @property
    def flagged_rows(self) -> list[int]:
        return [r["index"] for r in self.rows]

    def class_table(self) -> dict:
        columns = [column("class", "class"), column("n", "samples", "int"), column("flagged", "outliers", "int"),
                   column("median", "median score", "num", 2), column("max", "highest score", "num", 2),
                   column("rows", "rows", "hidden")]
        rows = [{**c, "rows": c["atypical"] + c["typical"]} for c in self.per_class]
        return table(columns, rows, sort=("max", "desc"), page=15, search=len(rows) > 20,
                     action={"kind": "rows", "title": "class", "rows": "rows"},
                     caption="click a class: its most atypical, then its most typical samples")

    def sample_columns(self) -> dict:
        """Per-sample data for the projection's "outlier score" colour (a few bytes a sample)."""
        typical = round(float(np.median(self.score)), 3)
        return {"outlier": {"score": np.round(self.score, 2).tolist(), "typical": typical, "fence": 1.0}}

    def json(self) -> dict:
        keys = ("path", "score", "embedding_score", "pixel_score", "flagged_by", "split", "label", "prediction")
        return {"outliers": [{k: r[k] for k in keys} for r in self.rows[:JSON_LIMIT]],
                "outliers_summary": {
                    "method": f"mean distance to the {K} nearest neighbours / its median, in the embedding and in "
                              f"the raw pixels (PCA of the 32x32 copies); flagged beyond Q3 + {FENCE} x IQR; score = "
                              "the larger of score / fence over the two views (> 1: flagged)",
                    "k": K, "fence_factor": FENCE, "embedding_fence": round(self.embedding.fence, 4),
                    "pixel_fence": round(self.pixels.fence, 4) if self.pixels else None,
                    "n_flagged": len(self.rows), "limit": JSON_LIMIT, "class_by": self.by,
                    # every sample's, row i = sample i (the ranked list above holds the flagged ones)
                    "scores": np.round(self.score, 4).tolist(),
                    "embedding_scores": np.round(self.embedding.score, 4).tolist(),
                    "pixel_scores": np.round(self.pixels.score, 4).tolist() if self.pixels else None,
                    "per_class": {c["class"]: {"n": c["n"], "flagged": c["flagged"], "median_score": c["median"],
                                               "typical": c["typical_paths"], "atypical": c["atypical_paths"]}
                                  for c in self.per_class}}}

    def findings(self) -> list[Finding]:
        """One finding when any sample is flagged: "medium" when one lies EXTREME times its fence's distance out
        (nothing else in the data is like it), else "low"; scored by the flagged share (10% or more: 1)."""
        if not self.rows:
            return []
        n, share = len(self.rows), len(self.rows) / max(self.n_samples, 1)
        pixel_only = sum(r["flagged_by"] == "pixels" for r in self.rows)
        top = self.rows[0]
        text = (f"{n} image{'s are outliers' if n > 1 else ' is an outlier'} ({share:.1%}): far from "
                f"{'their' if n > 1 else 'its'} {K} nearest neighbours (beyond Q3 + {FENCE} IQR of that distance)")
        if pixel_only:
            text += f", {pixel_only} of them only in the raw pixels"
        view = top["pixel_score"] if top["flagged_by"] == "pixels" else top["embedding_score"]
        text += (f"; the most isolated, {top['path']}, has its neighbours {view:.1f} times as far away as the typical "
                 f"sample{' in the raw pixels' if top['flagged_by'] == 'pixels' else ''}.")
        return [Finding(f"{ID}/flagged", ID, "medium" if top["score"] >= EXTREME else "low", min(1.0, 10 * share),
                        text, [r["index"] for r in self.rows[:8]], subject="outliers", kind="samples",
                        rows=self.flagged_rows)]


def class_summaries(collected, score: np.ndarray, flagged: np.ndarray, own: np.ndarray) -> list[dict]:
    """Per class (its samples by `own`, (N,) class index): counts and its PER_SIDE most typical and atypical rows."""
    order = np.lexsort((score, own))
    starts = np.searchsorted(own[order], np.arange(len(collected.classes) + 1))
    out = []
    for c, name in enumerate(collected.classes):
        rows = order[starts[c]:starts[c + 1]]
        if not rows.size:
            continue
        typical, atypical = rows[:PER_SIDE], rows[::-1][:min(PER_SIDE, max(0, rows.size - PER_SIDE))]
        out.append({"class": name, "n": int(rows.size), "flagged": int(flagged[rows].sum()),
                    "median": round(float(np.median(score[rows])), 4), "max": round(float(score[rows[-1]]), 4),
                    "typical": typical.tolist(), "atypical": atypical.tolist(),
                    "typical_paths": [collected.paths[i] for i in typical],
                    "atypical_paths": [collected.paths[i] for i in atypical]})
    return out


def run(collected, *, neighbours: Neighbours, pixel_projection=None) -> OutliersResult:
    """pixel_projection: compute.pixel_projection.PixelProjection (its kNN graph of the raw pixels), or None."""
    usable = ~collected.nonfinite if collected.nonfinite is not None else None
    embedding = knn_outlier_scores(neighbours.distances, fitted=usable)
    pixels = knn_outlier_scores(pixel_projection.neighbours.distances) if pixel_projection is not None else None
    over_e = embedding.score / embedding.fence if embedding.fence > 0 else np.zeros(collected.n)
    over_p = pixels.score / pixels.fence if pixels is not None and pixels.fence > 0 else np.zeros(collected.n)
    if usable is not None:
        over_e = np.where(usable, over_e, 0.0)  # zeros for NaN logits' embeddings: no place, so no distance
    score = np.maximum(over_e, over_p)
    flagged = score > 1
    ranked = np.flatnonzero(flagged)[np.argsort(-score[flagged], kind="stable")]
    name = lambda c: collected.classes[c] if c >= 0 else None  # noqa: E731
    rows = [{"index": int(i), "path": collected.paths[i], "score": round(float(score[i]), 4),
             "embedding_score": round(float(embedding.score[i]), 4),
             "pixel_score": round(float(pixels.score[i]), 4) if pixels is not None else None,
             "flagged_by": "both" if over_e[i] > 1 and over_p[i] > 1 else "embedding" if over_e[i] > 1 else "pixels",
             "split": collected.split_names[collected.split[i]], "label": name(collected.labels[i]),
             "prediction": name(collected.preds[i])} for i in ranked]
    by = "label" if collected.labelled else "prediction"
    per_class = class_summaries(collected, score, flagged, collected.labels if collected.labelled else collected.preds)
    cards = []
    for c in sorted(per_class, key=lambda c: -c["max"])[:CLASS_CARDS]:
        cards.append({**c, "typical_cards": [card(collected, i, f"{score[i]:.2f}") for i in c["typical"]],
                      "atypical_cards": [card(collected, i, f"{score[i]:.2f}") for i in c["atypical"]]})
    gallery = [card(collected, r["index"], f"{r['score']:.2f} · {r['flagged_by']}") for r in rows[:GALLERY_PAGE]]
    return OutliersResult(rows, score, embedding, pixels, per_class, cards, gallery, collected.n, by)
