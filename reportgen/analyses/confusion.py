"""Confusion matrix (rows = true class) and per-class precision, recall, F1 and support, per split.

Up to TABLE_MAX_CLASSES classes the matrix is an HTML table. Above, it is a heatmap the page draws from the
matrix's non-zero cells, embedded once (at most one per sample, whatever K is), in index order or in an order
that puts classes that confuse each other side by side; a "top confusions" table sits beside it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reportgen.analyses.findings import evaluation_split
from reportgen.analyses.section import Finding, Result
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


PAIR_HIGH_RATE, PAIR_MEDIUM_RATE = 0.20, 0.05  # share of a class taken for the other (the larger direction)
PAIR_FULL_RATE = 0.40
RECALL_HIGH_GAP, RECALL_MEDIUM_GAP = 0.40, 0.20  # a class's recall below the median class's
MIN_SUPPORT = 5  # fewer samples say little about a class's recall


def pair_finding(split: dict, pair: dict, errors: int, rows: list[int], rank: int) -> Finding:
    """The pair's share of the split's errors and its larger one-way rate make the score; the rate (and at least
    a few samples) the severity."""
    rate = max(pair["rate_a_as_b"] or 0.0, pair["rate_b_as_a"] or 0.0)
    severity = ("high" if rate >= PAIR_HIGH_RATE and pair["count"] >= 5 else
                "medium" if rate >= PAIR_MEDIUM_RATE and pair["count"] >= 3 else "low")
    a, b = pair["a"], pair["b"]
    def taken(n: int, source: str, target: str, rate) -> str:
        return f"{n} {'sample' if n == 1 else 'samples'} of {source} taken for {target} ({rate or 0:.0%} of {source})"

    most = "are the pair confused most" if rank == 0 else "are also confused"
    text = (f"{split['name']}: {a} and {b} {most}: {taken(pair['a_as_b'], a, b, pair['rate_a_as_b'])}"
            f" and {taken(pair['b_as_a'], b, a, pair['rate_b_as_a'])}, {pair['count'] / max(errors, 1):.0%} of the "
            "split's errors.")
    return Finding(f"{ID}/{split['name']}/{a}|{b}", ID, severity,
                   0.5 * pair["count"] / max(errors, 1) + 0.5 * min(1.0, rate / PAIR_FULL_RATE), text, rows[:8],
                   subject="pair:" + "|".join(sorted((a, b))), kind="group", rows=rows)


@dataclass
class ConfusionResult(Result):
    classes: list[str]
    splits: list[dict]  # {name, index, matrix (K, K), per_class, pairs, excluded_nonfinite, n, tables}
    heatmap: dict | None  # above TABLE_MAX_CLASSES: {orders, splits: [{name, index, cells}]}
    labels: np.ndarray | None = None  # (N,) for the evidence rows of findings
    preds: np.ndarray | None = None
    split: np.ndarray | None = None

    def findings(self) -> list[Finding]:
        """On the evaluation split: the most confused pair (and the next two, if each holds a tenth of the errors),
        and a class whose recall is far below the median class's."""
        target = evaluation_split([s["name"] for s in self.splits])
        s = next(s for s in self.splits if s["name"] == target)
        errors = int(s["matrix"].sum() - np.trace(s["matrix"]))
        found = []
        for rank, pair in enumerate(s["pairs"][:3]):
            if pair["count"] < 2 or (rank and pair["count"] < 0.1 * errors):
                continue
            a, b = pair["a_index"], pair["b_index"]
            rows = np.flatnonzero((self.split == s["index"]) & (((self.labels == a) & (self.preds == b))
                                                                | ((self.labels == b) & (self.preds == a))))
            found.append(pair_finding(s, pair, errors, rows.tolist(), rank))
        seen = [r for r in s["per_class"] if r["support"] >= MIN_SUPPORT]
        if len(seen) >= 3:
            median = float(np.median([r["recall"] for r in seen]))
            worst = min(seen, key=lambda r: r["recall"])
            gap = median - worst["recall"]
            if gap >= RECALL_MEDIUM_GAP:
                rows = np.flatnonzero((self.split == s["index"]) & (self.labels == worst["index"])
                                      & (self.preds != worst["index"]))
                found.append(Finding(
                    f"{ID}/{target}/recall/{worst['class']}", ID, "high" if gap >= RECALL_HIGH_GAP else "medium",
                    min(1.0, gap), f"{target}: class {worst['class']} is found least often: recall "
                                   f"{worst['recall']:.0%} of {worst['support']} against a median of {median:.0%} "
                                   "across classes.", rows[:8].tolist(), subject=f"class:{worst['class']}",
                    kind="group", rows=rows.tolist()))
        return found

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
    return ConfusionResult(collected.classes, splits, heatmap, collected.labels, collected.preds, collected.split)
