"""Confusion matrix (rows = true class) and per-class precision, recall, F1 and support, per split."""

from __future__ import annotations

from reportgen.classification_metrics import confusion_matrix, per_class_scores
from reportgen.section import Section

ID = "confusion"
TITLE = "Confusion matrix and per-class scores"


def run(collected, ctx) -> Section:
    k = len(collected.classes)
    splits = []
    for s, name in enumerate(collected.split_names):
        in_split = collected.split == s
        # Rows with NaN/inf logits have no prediction to place in the matrix; they are counted apart.
        mask = in_split & ~collected.nonfinite if collected.nonfinite is not None else in_split
        matrix = confusion_matrix(collected.labels[mask], collected.preds[mask], k)
        scores = per_class_scores(matrix)
        rows = [{"class": c, "precision": float(scores["precision"][i]), "recall": float(scores["recall"][i]),
                 "f1": float(scores["f1"][i]), "support": int(scores["support"][i])}
                for i, c in enumerate(collected.classes)]
        splits.append({"name": name, "matrix": matrix.tolist(), "per_class": rows,
                       "excluded_nonfinite": int((in_split & ~mask).sum())})
    json = {"splits": {s["name"]: {
        "confusion_matrix": s["matrix"],
        "confusion_excluded_nonfinite": s["excluded_nonfinite"],
        "per_class": {r["class"]: {k_: r[k_] for k_ in ("precision", "recall", "f1", "support")}
                      for r in s["per_class"]},
    } for s in splits}}
    return Section(ID, TITLE, "_confusion.html", {"classes": collected.classes, "splits": splits}, json)
