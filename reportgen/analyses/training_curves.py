"""Training curves (--history): loss and accuracy per epoch, as the training script logged them."""

from __future__ import annotations

from reportgen.section import Section

ID = "training-curves"
TITLE = "Training curves"
GROUPS = (("loss", "loss"), ("accuracy", "acc"))


def _group(name: str) -> str:
    lower = name.lower()
    return next((title for title, needle in GROUPS if needle in lower), "other")


def _figure(epochs: list, series: dict, title: str) -> dict:
    traces = [{"type": "scatter", "mode": "lines+markers", "name": name, "x": epochs, "y": values}
              for name, values in series.items()]
    xaxis = {"title": {"text": "epoch"}}
    if len(epochs) <= 30 and all(isinstance(e, int) for e in epochs):
        xaxis["dtick"] = 1  # whole epochs: no ticks at 1.5
    layout = {"title": {"text": title}, "xaxis": xaxis, "yaxis": {"title": {"text": title}},
              "height": 340, "margin": {"l": 60, "r": 20, "t": 40, "b": 50}, "legend": {"orientation": "h"}}
    return {"data": traces, "layout": layout}


def run(collected, ctx) -> Section:
    history = ctx.history
    if history is None:
        return Section(ID, TITLE, "_training-curves.html", {"figures": []})
    grouped: dict[str, dict] = {}
    for name, values in history["metrics"].items():
        grouped.setdefault(_group(name), {})[name] = values
    order = [title for title, _ in GROUPS] + ["other"]
    figures = [{"key": key, "figure": _figure(history["epochs"], grouped[key], key)} for key in order if key in grouped]
    final = {name: next((v for v in reversed(values) if v is not None), None)
             for name, values in history["metrics"].items()}
    data = {"figures": figures, "path": ctx.history_path, "n_epochs": len(history["epochs"]), "final": final}
    return Section(ID, TITLE, "_training-curves.html", data,
                   {"training_history": {"path": ctx.history_path, **history}})
