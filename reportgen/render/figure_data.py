"""Plotly figure dicts for the analysis sections: data only. templates/analysis_views.js draws them.

Conventions the JS relies on: a trace with `meta.samples` true carries sample row indices in `customdata`, and
its points show the hover card and open the sample panel when clicked; with `meta.colour` "label" each point
gets its class's colour from the page palette (the same colours as the main projection). Names and texts
are user data: the JS escapes them before Plotly sees them.
"""

from __future__ import annotations

import numpy as np


def rounded(values, digits: int = 5) -> list:
    """A JSON-safe list: floats to `digits` significant digits, None for NaN/inf."""
    array = np.asarray(values, dtype=np.float64)
    return [float(f"{v:.{digits}g}") if np.isfinite(v) else None for v in array.tolist()]


def class_scatter_traces(x: np.ndarray, y: np.ndarray, labels: np.ndarray, classes: list[str], *,
                         rows: np.ndarray | None = None, marker_size: float = 5) -> list[dict]:
    """One scattergl trace of `rows` (default all), each point coloured by its class in the page.

    x, y, labels are (N,) over all samples. One trace per figure, not one per class: at 1,000 classes a trace
    each made every figure slow to draw, and its legend unreadable. The page colours each point from the
    shared sample data (meta.colour = "label") and adds a legend of the classes when there are few."""
    rows = np.arange(len(labels)) if rows is None else np.asarray(rows)
    return [{
        "type": "scattergl", "mode": "markers", "name": "samples",
        "x": rounded(x[rows]), "y": rounded(y[rows]), "customdata": rows.tolist(),
        "marker": {"size": marker_size, "opacity": 0.7},
        "meta": {"colour": "label", "samples": True},
    }]


def layout(x_title: str | None = None, y_title: str | None = None, **extra) -> dict:
    base = {
        "margin": {"l": 55, "r": 10, "t": 30, "b": 45}, "hovermode": "closest",
        "xaxis": {"zeroline": False, **({"title": {"text": x_title}} if x_title else {})},
        "yaxis": {"zeroline": False, **({"title": {"text": y_title}} if y_title else {})},
        "legend": {"itemsizing": "constant"},
    }
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key] = {**base[key], **value}
        else:
            base[key] = value
    return base


def figure(traces: list[dict], figure_layout: dict) -> dict:
    return {"data": traces, "layout": figure_layout}


def bar_trace(lower, upper, height, *, name: str, colour: str, filled: bool = True, axis: str = "y",
              **extra) -> dict:
    """Bars from lower[i] to upper[i] of height[i] (None: no bar) as ONE scatter trace of closed rectangles
    separated by gaps, which `fill: "toself"` fills each on its own: the page's plotly bundle (gl2d) has no bar
    trace. No hover (a polygon's corners are no place for it): lay a points trace over the bars for that."""
    x, y = [], []
    for lo, hi, h in zip(lower, upper, height):
        if h is not None:
            x += [lo, lo, hi, hi, lo, None]
            y += [0.0, h, h, 0.0, 0.0, None]
    return {"type": "scatter", "mode": "lines", "name": name, "x": rounded(x), "y": rounded(y), "yaxis": axis,
            "fill": "toself" if filled else "none", "fillcolor": colour, "opacity": 0.4 if filled else 0.9,
            "line": {"color": colour, "width": 1 if filled else 2}, "hoverinfo": "skip", **extra}
