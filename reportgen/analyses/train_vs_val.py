"""Train vs validation: per-class accuracy and loss side by side per split, and both splits in one projection.

Overfitting shows as classes with a much higher accuracy on the training split; distribution shift as a split
whose samples keep to themselves in the embedding (their neighbours are mostly from the same split).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reportgen.analyses.findings import TRAINING_SPLITS, evaluation_split
from reportgen.analyses.section import Finding, Result
from reportgen.compute.neighbours import ANALYSIS_NEIGHBOURS, Neighbours
from reportgen.compute.projection import Projection
from reportgen.render.figure_data import figure, layout, rounded
from reportgen.render.table_data import column, table

ID = "train-vs-val"
TITLE = "Train vs validation"
TEMPLATE = "_train_vs_val.html"
SPLIT_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b"]
NEIGHBOURS_USED = ANALYSIS_NEIGHBOURS
FIGURE_MAX_CLASSES = 30  # more categories than this on one axis can't be read: plot the largest gaps
GAP_HIGH, GAP_MEDIUM, GAP_FULL = 0.15, 0.05, 0.30  # train accuracy minus the evaluation split's
CLASS_GAP_HIGH, CLASS_GAP_MEDIUM = 0.40, 0.20
SHIFT_HIGH, SHIFT_MEDIUM = 2.5, 1.5  # same-split neighbours over what chance gives
MIN_CLASS_SAMPLES = 5


def split_class_table(collected) -> list[dict]:
    """Per class, per split: n, accuracy and mean finite loss (None where the split has no such sample)."""
    rows = []
    for c, name in enumerate(collected.classes):
        row = {"class": name, "splits": {}}
        for s, split in enumerate(collected.split_names):
            members = (collected.labels == c) & (collected.split == s)
            loss = collected.loss[members]
            loss = loss[np.isfinite(loss)]
            row["splits"][split] = {
                "n": int(members.sum()),
                "accuracy": float(collected.correct[members].mean()) if members.any() else None,
                "mean_loss": float(loss.mean()) if loss.size else None}
        rows.append(row)
    return rows


def same_split_neighbours(split: np.ndarray, neighbour_indices: np.ndarray, names: list[str]) -> dict:
    """Per split: share of its samples' kNN (N, k+1) from the same split, and the share chance would give."""
    same = split[neighbour_indices[:, 1:]] == split[:, None]
    n = len(split)
    out = {}
    for s, name in enumerate(names):
        members = split == s
        if not members.any() or n < 2:
            continue
        observed = float(same[members].mean())
        expected = float((members.sum() - 1) / (n - 1))
        out[name] = {"observed": observed, "expected": expected,
                     "ratio": observed / expected if expected > 0 else None}
    return out


def bars_figure(table: list[dict], names: list[str], key: str, title: str) -> dict:
    # A dot plot (one marker per split and class) reads like grouped bars and needs only the scatter trace,
    # which keeps the page on plotly's small gl2d bundle.
    symbols = ("circle", "diamond", "square", "triangle-up")
    traces = [{"type": "scatter", "mode": "markers", "name": split, "x": [r["class"] for r in table],
               "y": rounded([r["splits"][split][key] if r["splits"][split][key] is not None else np.nan
                             for r in table]),
               "marker": {"color": SPLIT_COLOURS[s % len(SPLIT_COLOURS)], "size": 11,
                          "symbol": symbols[s % len(symbols)]}} for s, split in enumerate(names)]
    return figure(traces, layout("class", title, xaxis={"type": "category"}))


def largest_gap(row: dict) -> float:
    gaps = [g for g in row["gaps"].values() if g is not None]
    return max(gaps) if gaps else float("-inf")


def classes_to_plot(rows: list[dict]) -> list[dict]:
    """Every class up to FIGURE_MAX_CLASSES; above, the ones with the largest accuracy gap, in class order."""
    if len(rows) <= FIGURE_MAX_CLASSES:
        return rows
    keep = set(sorted(range(len(rows)), key=lambda i: -largest_gap(rows[i]))[:FIGURE_MAX_CLASSES])
    return [row for i, row in enumerate(rows) if i in keep]


def per_class_table(rows: list[dict], names: list[str], reference: str) -> dict:
    columns = [column("class", "class")]
    for split in names:
        columns += [column(f"{split}:n", f"{split} n", "int"), column(f"{split}:accuracy", f"{split} accuracy", "pct"),
                    column(f"{split}:loss", f"{split} loss", "num")]
    others = [n for n in names if n != reference]
    columns += [column(f"gap:{split}", f"gap {reference} − {split}", "pct") for split in others]
    flat = []
    for row in rows:
        cells = {"class": row["class"]}
        for split in names:
            v = row["splits"][split]
            cells |= {f"{split}:n": v["n"], f"{split}:accuracy": v["accuracy"], f"{split}:loss": v["mean_loss"]}
        cells |= {f"gap:{split}": row["gaps"][split] for split in others}
        flat.append(cells)
    large = len(rows) > FIGURE_MAX_CLASSES
    return table(columns, flat, sort=(f"gap:{others[0]}", "desc") if large and others else None,
                 page=25 if large else len(rows), search=large)


def split_projection_figure(coords: np.ndarray, split: np.ndarray, names: list[str]) -> dict:
    traces = []
    for s, name in enumerate(names):
        rows = np.flatnonzero(split == s)
        traces.append({"type": "scattergl", "mode": "markers", "name": name, "x": rounded(coords[rows, 0]),
                       "y": rounded(coords[rows, 1]), "customdata": rows.tolist(), "meta": {"samples": True},
                       "marker": {"size": 5, "opacity": 0.6, "color": SPLIT_COLOURS[s % len(SPLIT_COLOURS)]}})
    # Plotly's own buttons switch splits: the page needs no extra code for it.
    buttons = [{"label": "all splits", "method": "restyle", "args": [{"visible": [True] * len(names)}]}]
    buttons += [{"label": f"{name} only", "method": "restyle",
                 "args": [{"visible": [t == s for t in range(len(names))]}]} for s, name in enumerate(names)]
    hidden = {"showticklabels": False, "showgrid": False}
    return figure(traces, layout(xaxis=hidden, yaxis=hidden, dragmode="pan", margin={"t": 40},
                                 updatemenus=[{"type": "buttons", "direction": "right", "x": 0, "y": 1.08,
                                               "xanchor": "left", "buttons": buttons}]))


@dataclass
class TrainVsValResult(Result):
    splits: list[str]
    note: str | None = None  # one split: nothing to compare
    reference: str | None = None
    table: list[dict] | None = None  # per class: {class, splits: {split: {n, accuracy, mean_loss}}, gaps}
    overall: dict | None = None
    mixing: dict | None = None
    projection: Projection | None = None
    split: np.ndarray | None = None  # (N,) split index of each sample
    classes: list[str] | None = None
    labels: np.ndarray | None = None
    preds: np.ndarray | None = None
    k = NEIGHBOURS_USED

    @property
    def shown(self) -> bool:
        return self.note is None

    @property
    def others(self) -> list[str]:
        return [n for n in self.splits if n != self.reference]

    @property
    def method(self) -> str:
        return self.projection.method

    @property
    def n_classes(self) -> int:
        return len(self.table)

    @property
    def figures(self) -> dict:
        plotted = classes_to_plot(self.table)
        return {"accuracy": bars_figure(plotted, self.splits, "accuracy", "accuracy"),
                "loss": bars_figure(plotted, self.splits, "mean_loss", "mean loss"),
                "projection": split_projection_figure(self.projection.coords, self.split, self.splits)}

    @property
    def n_plotted(self) -> int:
        return len(classes_to_plot(self.table))

    @property
    def per_class(self) -> dict:
        return per_class_table(self.table, self.splits, self.reference)

    def findings(self) -> list[Finding]:
        """Overfitting (the training split far ahead of the evaluation split, overall or for one class) and
        shift (evaluation samples keeping to themselves in the embedding); scored by the size of the gap."""
        train = next((n for n in self.splits if n.lower() in TRAINING_SPLITS), None)
        target = evaluation_split(self.splits)
        found = []
        if train and target != train:
            a, b = self.overall[train]["accuracy"], self.overall[target]["accuracy"]
            if a is not None and b is not None and a - b >= GAP_MEDIUM:
                found.append(Finding(f"{ID}/overall", ID, "high" if a - b >= GAP_HIGH else "medium",
                                     (a - b) / GAP_FULL, f"The model does much better on the data it was trained "
                                     f"on: {a:.1%} accuracy on {train} against {b:.1%} on {target}.",
                                     subject="overfitting"))
            gaps = [(r["gaps"].get(target), r) for r in self.table
                    if r["splits"][target]["n"] >= MIN_CLASS_SAMPLES and r["gaps"].get(target) is not None]
            if gaps:
                gap, row = max(gaps, key=lambda g: g[0])
                if gap >= CLASS_GAP_MEDIUM:
                    c = self.classes.index(row["class"])
                    rows = np.flatnonzero((self.split == self.splits.index(target)) & (self.labels == c)
                                          & (self.preds != c))
                    found.append(Finding(
                        f"{ID}/class/{row['class']}", ID, "high" if gap >= CLASS_GAP_HIGH else "medium", gap,
                        f"Class {row['class']}: {row['splits'][train]['accuracy']:.0%} right on {train} against "
                        f"{row['splits'][target]['accuracy']:.0%} on {target}: what it learnt of this class does not "
                        "carry over.", rows[:8].tolist(), subject=f"class:{row['class']}", kind="group",
                        rows=rows.tolist()))
        shift = (self.mixing or {}).get(target)
        if shift and shift["ratio"] and shift["ratio"] >= SHIFT_MEDIUM and shift["observed"] >= 0.5:
            found.append(Finding(
                f"{ID}/shift/{target}", ID, "high" if shift["ratio"] >= SHIFT_HIGH else "medium",
                (shift["ratio"] - 1) / 3, f"{target} samples keep to themselves in the embedding: "
                f"{shift['observed']:.0%} of their {NEIGHBOURS_USED} nearest neighbours are from {target}, against "
                f"{shift['expected']:.0%} by chance: the split differs from the others (a shift).",
                subject=f"shift:{target}"))
        return found

    def json(self) -> dict:
        if self.note:
            return {"train_vs_val": {"note": self.note}}
        return {"train_vs_val": {"splits": self.splits, "reference": self.reference, "overall": self.overall,
                                 "per_class": {r["class"]: {"splits": r["splits"], "accuracy_gap": r["gaps"]}
                                               for r in self.table},
                                 "same_split_neighbours": self.mixing}}


def run(collected, *, neighbours: Neighbours, projection: Projection) -> TrainVsValResult:
    names = collected.split_names
    if len(names) < 2:
        return TrainVsValResult(names, note=f"Only one split ({names[0]}); a data folder with train/ and val/ "
                                            "(or test/) compares them.")
    table = split_class_table(collected)
    overall = {}
    for s, split in enumerate(names):
        members = collected.split == s
        loss = collected.loss[members]
        loss = loss[np.isfinite(loss)]
        overall[split] = {"n": int(members.sum()),
                          "accuracy": float(collected.correct[members].mean()) if members.any() else None,
                          "mean_loss": float(loss.mean()) if loss.size else None}
    mixing = same_split_neighbours(collected.split, neighbours.indices[:, :NEIGHBOURS_USED + 1], names)
    reference = "train" if "train" in names else names[0]
    for row in table:  # accuracy gap of each other split behind the training split
        ref = row["splits"][reference]["accuracy"]
        row["gaps"] = {split: (ref - v["accuracy"]) if ref is not None and v["accuracy"] is not None else None
                       for split, v in row["splits"].items() if split != reference}
    return TrainVsValResult(names, None, reference, table, overall, mixing, projection, collected.split,
                            collected.classes, collected.labels, collected.preds)
