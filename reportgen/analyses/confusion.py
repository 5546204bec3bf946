"""Confusion matrix (rows = true class) and per-class precision, recall, F1 and support, per split.

Up to TABLE_MAX_CLASSES classes the matrix is an HTML table. Above, it is a heatmap the page draws from the
matrix's non-zero cells, embedded once (at most one per sample, whatever K is), in index order or in an order
that puts classes that confuse each other side by side; a "top confusions" table sits beside it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reportgen.analyses.section import Result
from reportgen.compute.class_order import confusion_order
from reportgen.compute.classification_metrics import confusion_matrix, matrix_json, per_class_scores, sparse_cells
from reportgen.render.table_data import column, table

ID = "confusion"
TITLE = "Confusion matrix and per-class scores"
TEMPLATE = "_confusion.html"
TABLE_MAX_CLASSES = 30  # wider HTML tables ran past their card (2,245 px at 100 classes)
TOP_CONFUSIONS_JSON = 200


def top_confusions(matrix: np.ndarray, classes: list[str], limit: int | None = None) -> list[dict]:
    """Class pairs by confusions both ways, most first, with each direction's count and rate (of its row)."""
    off = matrix.copy()
    np.fill_diagonal(off, 0)
    a, b = np.nonzero(np.triu(off + off.T, 1))
    both = off[a, b] + off[b, a]
    order = np.lexsort((b, a, -both))[:limit]
    support = matrix.sum(axis=1)
    rate = lambda n, row: float(n / support[row]) if support[row] else None  # noqa: E731
    return [{"a": classes[a[i]], "b": classes[b[i]], "a_index": int(a[i]), "b_index": int(b[i]),
             "count": int(both[i]), "a_as_b": int(off[a[i], b[i]]), "b_as_a": int(off[b[i], a[i]]),
             "rate_a_as_b": rate(off[a[i], b[i]], a[i]), "rate_b_as_a": rate(off[b[i], a[i]], b[i])}
            for i in order]


def per_class_table(rows: list[dict], split_index: int, large: bool) -> dict:
    # A class without samples in this split has no recall or F1 to speak of (report.json keeps scikit-learn's
    # 0): "n/a" sorts it last, so the worst classes that were actually seen come first.
    rows = [r | {"recall": None, "f1": None} if not r["support"] else r for r in rows]
    columns = [column("class", "class"), column("precision", "precision", "num"), column("recall", "recall", "num"),
               column("f1", "F1", "num"), column("support", "support", "int"), column("index", "", "hidden")]
    # With many classes the reader wants the worst ones first; with few, index order reads like the matrix.
    return table(columns, rows, sort=("f1", "asc") if large else None, page=20 if large else len(rows),
                 search=large, action={"kind": "class", "split": split_index, "class": "index"})


def confusions_table(pairs: list[dict], split_index: int) -> dict:
    columns = [column("a", "class a"), column("b", "class b"), column("count", "confusions", "int"),
               column("a_as_b", "a → b", "int"), column("rate_a_as_b", "of a", "pct"),
               column("b_as_a", "b → a", "int"), column("rate_b_as_a", "of b", "pct"),
               column("a_index", "", "hidden"), column("b_index", "", "hidden")]
    return table(columns, pairs, page=10, action={"kind": "pair", "split": split_index, "a": "a_index",
                                                  "b": "b_index"})


@dataclass
class ConfusionResult(Result):
    classes: list[str]
    splits: list[dict]  # {name, index, matrix (K, K), per_class, pairs, excluded_nonfinite, n, tables}
    heatmap: dict | None  # above TABLE_MAX_CLASSES: {orders, splits: [{name, index, cells}]}

    @property
    def k(self) -> int:
        return len(self.classes)

    @property
    def large(self) -> bool:
        return self.heatmap is not None

    def json(self) -> dict:
        return {"splits": {s["name"]: {
            **matrix_json(s["matrix"]),
            "confusion_excluded_nonfinite": s["excluded_nonfinite"],
            "per_class": {r["class"]: {key: r[key] for key in ("precision", "recall", "f1", "support")}
                          for r in s["per_class"]},
            "top_confusions": [{key: v for key, v in p.items() if not key.endswith("_index")}
                               for p in s["pairs"][:TOP_CONFUSIONS_JSON]],
        } for s in self.splits}}


def run(collected) -> ConfusionResult:
    k = len(collected.classes)
    large = k > TABLE_MAX_CLASSES
    splits = []
    for s, name in enumerate(collected.split_names):
        in_split = collected.split == s
        # Rows with NaN/inf logits have no prediction to place in the matrix; they are counted apart.
        mask = in_split & ~collected.nonfinite if collected.nonfinite is not None else in_split
        matrix = confusion_matrix(collected.labels[mask], collected.preds[mask], k)
        scores = per_class_scores(matrix)
        rows = [{"class": c, "index": i, "precision": float(scores["precision"][i]),
                 "recall": float(scores["recall"][i]), "f1": float(scores["f1"][i]),
                 "support": int(scores["support"][i])} for i, c in enumerate(collected.classes)]
        pairs = top_confusions(matrix, collected.classes)
        splits.append({"name": name, "index": s, "matrix": matrix, "per_class": rows, "pairs": pairs,
                       "excluded_nonfinite": int((in_split & ~mask).sum()), "n": int(mask.sum()),
                       "per_class_table": per_class_table(rows, s, large),
                       "confusions_table": confusions_table(pairs[:500], s)})
    heatmap = None
    if large:
        total = sum(s["matrix"] for s in splits)
        heatmap = {"orders": {"confusion": confusion_order(total)},
                   "splits": [{"name": s["name"], "index": s["index"], "cells": sparse_cells(s["matrix"])}
                              for s in splits]}
    return ConfusionResult(collected.classes, splits, heatmap)
