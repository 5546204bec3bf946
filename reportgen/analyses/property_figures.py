"""The image-properties section's figures and table: data only (templates/analysis_views.js and tables.js draw
them). Histograms are aggregated on shared bins, a few hundred numbers whatever the number of images."""

from __future__ import annotations

from reportgen.compute.property_bins import PROPERTY_LABELS
from reportgen.compute.slice_statistics import p_text
from reportgen.render.figure_data import figure, layout, rounded
from reportgen.render.table_data import column, table

GROUP_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#7f7f7f"]


def property_figures(stats: dict, bins: dict | None) -> dict:
    """{histogram: each property's distribution per split, one property at a time (a dropdown picks it),
    accuracy (with bins): accuracy per fifth of the evaluation split, a line per property}."""
    names = list(stats)
    traces, visible_of = [], []
    for j, name in enumerate(names):
        hist = stats[name]["histogram"]
        for g, group in enumerate(hist["shares"]):
            traces.append({"type": "scatter", "mode": "lines", "name": group, "x": rounded(hist["centres"]),
                           "y": rounded(hist["shares"][group]), "visible": j == 0,
                           "line": {"shape": "hvh", "width": 2, "color": GROUP_COLOURS[g % len(GROUP_COLOURS)]},
                           "fill": "tozeroy", "opacity": 0.5})
            visible_of.append(j)
    buttons = [{"label": PROPERTY_LABELS[name], "method": "update",
                "args": [{"visible": [v == j for v in visible_of]}, {"xaxis.title.text": PROPERTY_LABELS[name]}]}
               for j, name in enumerate(names)]
    out = {"histogram": figure(traces, layout(PROPERTY_LABELS[names[0]] if names else None, "share of the split",
                                              margin={"t": 40},
                                              updatemenus=[{"type": "dropdown", "x": 0, "y": 1.12,
                                                            "xanchor": "left", "buttons": buttons}]))}
    if bins:
        # x: the middle of each bin's share of the images (10% for the lowest fifth), so properties whose ties
        # merged bins still line up with the others
        lines = [{"type": "scatter", "mode": "lines+markers", "name": PROPERTY_LABELS[name],
                  "x": rounded([50 * (e["share_low"] + e["share_high"]) for e in entries]),
                  "y": rounded([e["accuracy"] for e in entries]),
                  "text": [f"{PROPERTY_LABELS[name]}: images {e['phrase']} ({e['n']})" for e in entries],
                  "hovertemplate": "%{text}<br>accuracy %{y:.1%}<extra></extra>"}
                 for name, entries in bins.items() if len(entries) > 1]
        # the split's name stays out of the layout: Plotly reads titles as HTML, and only traces are escaped
        out["accuracy"] = figure(lines, layout("share of the evaluation images, lowest value to highest (%)",
                                               "accuracy", xaxis={"range": [0, 100]}))
    return out


def bin_table(bins: dict) -> dict:
    """Every fifth of every property: its images, values, n, accuracy, mean loss and q against the rest."""
    rows = [{"property": PROPERTY_LABELS[name], "bin": e["phrase"], "range": f"{e['low']:.3g} – {e['high']:.3g}",
             "n": e["n"], "accuracy": e["accuracy"], "mean_loss": e["mean_loss"],
             "q": p_text(e["q"]).removeprefix("= "), "worse": "worse" if e["worse"] else ""}
            for name, entries in bins.items() for e in entries]
    columns = [column("property", "property"), column("bin", "images"), column("range", "values"),
               column("n", "n", "int"), column("accuracy", "accuracy", "pct"),
               column("mean_loss", "mean loss", "num"), column("q", "q (worse than the rest)"),
               column("worse", "much worse")]
    return table(columns, rows, page=len(rows) or 1, search=False)
