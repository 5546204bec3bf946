"""Suspected mislabels: samples whose given label both the model and their embedding neighbours dispute.

What to do next: look at each one and relabel (or drop) it. The neighbours shown are the evidence.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reportgen.analyses.section import Finding, Result
from reportgen.analyses.summary import evaluation_collapse
from reportgen.collect.thumbnails import data_uri
from reportgen.compute.mislabel_scores import (
    BASIS,
    METHOD,
    TRAINING_SPLITS,
    fitted_rows,
    mislabel_scores,
    ranked_suspects,
)
from reportgen.compute.neighbours import ANALYSIS_NEIGHBOURS, Neighbours

ID = "mislabels"
TITLE = "Suspected mislabels"
TEMPLATE = "_mislabels.html"
NEIGHBOURS_USED = ANALYSIS_NEIGHBOURS
NEIGHBOURS_SHOWN = 8
THRESHOLD = 0.5  # as many of a witness's samples as it gives the label less than half
JSON_LIMIT = 1000  # report.json lists at most this many, best first


def neighbour_evidence(row: int, indices: np.ndarray, distances: np.ndarray, collected,
                       suggested: int) -> list[dict]:
    shown = []
    for j, dist in zip(indices[row, 1:NEIGHBOURS_SHOWN + 1], distances[row, 1:NEIGHBOURS_SHOWN + 1]):
        j = int(j)
        shown.append({"index": j, "path": collected.paths[j], "label": collected.classes[collected.labels[j]],
                      "prediction": collected.classes[collected.preds[j]],
                      "supports": bool(collected.labels[j] == suggested), "distance": float(dist),
                      "thumbnail": data_uri(collected.thumbnails[j])})
    return shown


JSON_KEYS = ("path", "label", "suggested", "score", "split", "prediction", "judged_by", "model_p_label",
             "neighbours_label")


@dataclass
class MislabelsResult(Result):
    rows: list[dict]  # every suspect, best first; the first `page_rows` carry thumbnails and neighbours
    page_rows: int
    n_samples: int
    k: int
    method: str
    fitted_known: bool
    # the class a collapsed model gives most images (summary.evaluation_collapse), else None: such a model is no
    # witness to the labels, so its suspects are listed but not put forward as label errors
    model_collapsed: str | None = None

    json_limit = JSON_LIMIT
    open_rows = 8  # drawn when the page opens; the rest of the page's rows wait in a fold

    @property
    def n_suspected(self) -> int:
        return len(self.rows)

    @property
    def shown_rows(self) -> list[dict]:
        return self.rows[:self.page_rows]

    def findings(self) -> list[Finding]:
        """One finding for the suspects that BOTH witnesses dispute (the trusted one, and most of the embedding
        neighbours): a hard sample among look-alikes of its own label, such as a style the model never learnt, is
        the sub-populations' news, not a label error. Scored by their share of the samples (5% or more: 1); the
        ones the model predicts as labelled lead the evidence: no error count shows them."""
        both = [r for r in self.rows if r["neighbours_label"] < 0.5]
        if not both or self.model_collapsed is not None:
            return []
        hidden = [r for r in both if r["prediction"] == r["label"]]
        n, share = len(both), len(both) / max(self.n_samples, 1)
        severity = "high" if n >= 5 and share >= 0.01 else "medium" if n >= 3 else "low"
        example = (hidden or both)[0]
        text = (f"{n} label{'s look' if n > 1 else ' looks'} wrong ({share:.1%} of the samples): most of "
                f"{'their' if n > 1 else 'its'} nearest neighbours carry another label, and so does the evidence "
                f"trusted for {'them' if n > 1 else 'it'}")
        if hidden:
            text += (f"; {len(hidden)} of them the model predicts as labelled (memorised), so no error count shows "
                     f"{'them' if len(hidden) > 1 else 'it'}")
        text += f" (e.g. {example['path']}: labelled {example['label']}, looks like {example['suggested']})."
        evidence = [r["index"] for r in hidden + [r for r in both if r["prediction"] != r["label"]]][:8]
        return [Finding(f"{ID}/suspects", ID, severity, min(1.0, 20 * share), text, evidence, subject="mislabels",
                        kind="samples", rows=[r["index"] for r in both])]

    def json(self) -> dict:
        return {
            "suspected_mislabels": [{key: r[key] for key in JSON_KEYS} for r in self.rows],
            "suspected_mislabels_method": {
                "score": self.method,
                "trained_on": (f"splits named {' or '.join(TRAINING_SPLITS)}; the others held out" if self.fitted_known
                               else "not known (no split is named train, nor every split like a held-out one): "
                                    "the weaker witness decides"),
                "threshold": THRESHOLD, "limit": JSON_LIMIT, "neighbours": self.k,
                "model_collapsed": self.model_collapsed,
            },
        }


def run(collected, *, neighbours: Neighbours, top_k: int) -> MislabelsResult:
    graph = neighbours
    indices = graph.indices[:, :NEIGHBOURS_USED + 1]
    fitted = fitted_rows(collected.split, collected.split_names)
    scores = mislabel_scores(collected.labels, collected.probs, indices, fitted=fitted)
    suspects = ranked_suspects(scores, limit=JSON_LIMIT, threshold=THRESHOLD)
    k_used = indices.shape[1] - 1
    method = METHOD.format(k=k_used)
    rows = []
    for rank, i in enumerate(suspects):
        i = int(i)
        given, suggested = int(collected.labels[i]), int(scores.suggested[i])
        row = {
            "index": i, "path": collected.paths[i], "split": collected.split_names[collected.split[i]],
            "label": collected.classes[given], "suggested": collected.classes[suggested],
            "prediction": collected.classes[collected.preds[i]],
            "score": float(scores.score[i]),
            "judged_by": BASIS[scores.basis[i]],
            "model_p_label": float(scores.model_label[i]), "model_p_suggested": float(scores.model_suggested[i]),
            "neighbours_label": float(scores.neighbours_label[i]),
            "neighbours_suggested": float(scores.neighbours_suggested[i]),
        }
        if rank < top_k:  # thumbnails only for the rows the page shows
            row["thumbnail"] = data_uri(collected.thumbnails[i])
            row["neighbours"] = neighbour_evidence(i, graph.indices, graph.distances, collected, suggested)
        rows.append(row)
    collapse = evaluation_collapse(collected)
    return MislabelsResult(rows, top_k, collected.n, k_used, method, fitted is not None,
                           model_collapsed=collapse["class"] if collapse is not None else None)
