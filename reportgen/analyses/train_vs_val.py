"""Train vs validation: per-class accuracy and loss side by side per split, and both splits in one projection.

Overfitting shows as classes with a much higher accuracy on the training split; distribution shift as a split
whose samples keep to themselves in the embedding (their neighbours are mostly from the same split).
"""

from __future__ import annotations

import numpy as np

from reportgen.figure_data import figure, layout, rounded
from reportgen.section import Section
from reportgen.table_data import column, table

ID = "train-vs-val"
TITLE = "Train vs validation"
WAITS_FOR = ("projection",)  # may still be fitting on another thread (analyses.run_all)
SPLIT_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b"]
NEIGHBOURS_USED = 15
FIGURE_MAX_CLASSES = 30  # more categories than this on one axis can't be read: plot the largest gaps


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


def run(collected, ctx) -> Section:
    names = collected.split_names
    if len(names) < 2:
        note = f"Only one split ({names[0]}); a data folder with train/ and val/ (or test/) compares them."
        return Section(ID, TITLE, "_train_vs_val.html", {"note": note}, {"train_vs_val": {"note": note}})
    table = split_class_table(collected)
    overall = {}
    for s, split in enumerate(names):
        members = collected.split == s
        loss = collected.loss[members]
        loss = loss[np.isfinite(loss)]
        overall[split] = {"n": int(members.sum()),
                          "accuracy": float(collected.correct[members].mean()) if members.any() else None,
                          "mean_loss": float(loss.mean()) if loss.size else None}
    mixing = same_split_neighbours(collected.split, ctx.neighbours.indices[:, :NEIGHBOURS_USED + 1], names)
    reference = "train" if "train" in names else names[0]
    for row in table:  # accuracy gap of each other split behind the training split
        ref = row["splits"][reference]["accuracy"]
        row["gaps"] = {split: (ref - v["accuracy"]) if ref is not None and v["accuracy"] is not None else None
                       for split, v in row["splits"].items() if split != reference}
    plotted = classes_to_plot(table)
    figures = {"accuracy": bars_figure(plotted, names, "accuracy", "accuracy"),
               "loss": bars_figure(plotted, names, "mean_loss", "mean loss"),
               "projection": split_projection_figure(ctx.projection.coords, collected.split, names)}
    data = {"splits": names, "reference": reference, "others": [n for n in names if n != reference],
            "overall": overall, "mixing": mixing, "figures": figures, "k": NEIGHBOURS_USED,
            "method": ctx.projection.method, "n_classes": len(table), "n_plotted": len(plotted),
            "per_class": per_class_table(table, names, reference)}
    json = {"train_vs_val": {"splits": names, "reference": reference, "overall": overall,
                             "per_class": {r["class"]: {"splits": r["splits"], "accuracy_gap": r["gaps"]}
                                           for r in table},
                             "same_split_neighbours": mixing}}
    return Section(ID, TITLE, "_train_vs_val.html", data, json)
