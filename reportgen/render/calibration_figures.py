"""The calibration section's figures (plotly figure dicts, drawn by templates/analysis_views.js), each made from
one split's calibration_for_split result: reliability diagrams with their bin counts, confidence histograms of
right and wrong predictions, the accuracy-coverage curve and per-class precision-recall curves. Every hover
template is a constant; class names travel only in `name`, which the page escapes."""

from __future__ import annotations

from reportgen.compute.selective import threshold_text
from reportgen.render.figure_data import bar_trace, figure, layout, rounded

BEFORE, AFTER = "#1f77b4", "#ff7f0e"
RIGHT, WRONG = "#2ca02c", "#d62728"
BIN_HOVER = ("%{customdata[2]} samples, confidence %{customdata[0]:.3f} to %{customdata[1]:.3f}<br>"
             "accuracy %{y:.1%}, mean confidence %{x:.3f}")


def _points(x, y, customdata, hovertemplate: str, *, name: str, colour: str, mode: str = "markers",
            **extra) -> dict:
    return {"type": "scatter", "mode": mode, "name": name, "x": rounded(x), "y": rounded(y),
            "customdata": customdata, "hovertemplate": hovertemplate, "marker": {"color": colour, "size": 8},
            "line": {"color": colour, "width": 2}, **extra}


def _used(bins: list[dict]) -> list[dict]:
    return [b for b in bins if b["count"]]


def _edges(bins: list[dict]) -> tuple[list[float], list[float]]:
    return [b["lower"] for b in bins], [b["upper"] for b in bins]


def _bin_cells(bins: list[dict]) -> list[list]:
    return [[round(b["lower"], 4), round(b["upper"], 4), b["count"]] for b in bins]


def reliability_figure(before: list[dict], after: list[dict]) -> dict:
    """Accuracy per confidence bin (bars over each bin's range; dots at its mean confidence), after temperature
    scaling as a line, and under it a row of the bins' sample counts (written on each bar)."""
    used, used_after = _used(before), _used(after)
    traces = [{"type": "scatter", "mode": "lines", "name": "perfectly calibrated", "x": [0, 1], "y": [0, 1],
               "line": {"color": "#888", "dash": "dash", "width": 1}, "hoverinfo": "skip"},
              bar_trace(*_edges(used), [b["accuracy"] for b in used], name="accuracy per bin", colour=BEFORE),
              _points([b["confidence"] for b in used], [b["accuracy"] for b in used], _bin_cells(used), BIN_HOVER,
                      name="before", colour=BEFORE)]
    if used_after:
        traces.append(_points([b["confidence"] for b in used_after], [b["accuracy"] for b in used_after],
                              _bin_cells(used_after), BIN_HOVER, name="after temperature scaling", colour=AFTER,
                              mode="lines+markers"))
    counts = [b["count"] for b in used]
    traces += [bar_trace(*_edges(used), counts, name="samples per bin", colour=BEFORE, axis="y2", showlegend=False),
               {"type": "scatter", "mode": "text", "name": "samples per bin", "yaxis": "y2", "showlegend": False,
                "x": rounded([(b["lower"] + b["upper"]) / 2 for b in used]), "y": counts,
                "text": [str(c) for c in counts], "textposition": "top center", "textfont": {"size": 10},
                "hoverinfo": "skip"}]
    if used_after:
        traces.append(bar_trace(*_edges(used_after), [b["count"] for b in used_after], filled=False, axis="y2",
                                name="samples per bin after", colour=AFTER, showlegend=False))
    top = max(counts + [b["count"] for b in used_after], default=1)
    return figure(traces, layout(None, "accuracy", xaxis={"range": [0, 1], "anchor": "y2",
                                                          "title": {"text": "confidence (top-1 probability)"}},
                                 yaxis={"range": [0, 1.02], "domain": [0.32, 1]},
                                 yaxis2={"domain": [0, 0.22], "anchor": "x", "range": [0, 1.4 * top],
                                         "title": {"text": "samples"}, "zeroline": False},
                                 legend={"orientation": "h", "y": 1.12}))


def confidence_histogram_figure(histograms: dict) -> dict:
    """Confidence of right and wrong predictions, each as a share of its own count, so both show whatever the
    accuracy; the hover gives the counts."""
    edges = histograms["edges"]
    lower, upper = edges[:-1], edges[1:]
    traces = []
    for key, word, colour in (("correct", "right", RIGHT), ("wrong", "wrong", WRONG)):
        counts = histograms[key]
        total = sum(counts) or 1
        shares = [c / total for c in counts]
        traces.append(bar_trace(lower, upper, shares, name=f"{word} ({sum(counts)})", colour=colour))
        traces.append(_points([(lo + hi) / 2 for lo, hi in zip(lower, upper)], shares,
                              [[round(lo, 3), round(hi, 3), c] for lo, hi, c in zip(lower, upper, counts)],
                              f"%{{customdata[2]}} {word} predictions, confidence %{{customdata[0]:.2f}} to "
                              f"%{{customdata[1]:.2f}}<br>%{{y:.1%}} of the {word} ones<extra></extra>",
                              name=word, colour=colour, showlegend=False, marker={"color": colour, "size": 5}))
    return figure(traces, layout("confidence (top-1 probability)", "share of the right / wrong predictions",
                                 xaxis={"range": [0, 1]}, legend={"orientation": "h", "y": 1.12}))


def coverage_figure(points: list[dict], operating_point: dict | None) -> dict:
    """Accuracy of the predictions kept against the share kept, keeping those with confidence >= a threshold
    (in the hover); the operating point of the section's sentence marked."""
    hover = "keep confidence >= %{customdata[0]}: %{customdata[1]} samples (%{x:.1%})<br>accuracy %{y:.2%}"

    def cells(points: list[dict]) -> list[list]:
        return [[threshold_text(p["threshold"]), p["count"]] for p in points]

    traces = [_points([p["coverage"] for p in points], [p["accuracy"] for p in points], cells(points),
                      hover + "<extra></extra>", name="accuracy-coverage", colour=BEFORE, mode="lines",
                      showlegend=False)]
    if operating_point is not None:
        traces.append(_points([operating_point["coverage"]], [operating_point["accuracy"]], cells([operating_point]),
                              hover, name="operating point", colour=WRONG,
                              marker={"color": WRONG, "size": 13, "symbol": "star"}))
    return figure(traces, layout("coverage (share of samples kept)", "accuracy of the kept predictions",
                                 xaxis={"range": [0, 1.02]}, legend={"orientation": "h", "y": 1.12}))


def pr_figure(curves: list[dict], classes: list[str]) -> dict:
    """One precision-recall curve per listed class (its name and AP in the legend), in the class's page colour."""
    traces = [{"type": "scatter", "mode": "lines", "name": f"{classes[c['class']]} (AP {c['average_precision']:.2f})",
               "x": rounded(c["recall"], 4), "y": rounded(c["precision"], 4), "customdata": rounded(c["threshold"], 4),
               "hovertemplate": "recall %{x:.3f}, precision %{y:.3f}<br>keeping p(class) >= %{customdata}",
               "line": {"width": 2}, "meta": {"class_colour": c["class"]}} for c in curves]
    return figure(traces, layout("recall", "precision", xaxis={"range": [0, 1.02]}, yaxis={"range": [0, 1.05]}))
