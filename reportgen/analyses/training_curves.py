"""Training curves (--history): loss and accuracy per epoch, as the training script logged them."""

from __future__ import annotations

from dataclasses import dataclass

from reportgen.analyses.section import Result

ID = "training-curves"
TITLE = "Training curves"
TEMPLATE = "_training-curves.html"
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
              "height": 340, "margin": {"l": 60, "r": 20, "t": 40, "b": 50}, "legend": {"orientation": "h"},
              "showlegend": True}  # one series too: its name says which split it is
    return {"data": traces, "layout": layout}


@dataclass
class TrainingCurvesResult(Result):
    history: dict | None  # {"epochs": [...], "metrics": {name: [...]}} from review.training_history
    path: str | None = None

    @property
    def shown(self) -> bool:
        return self.history is not None

    @property
    def n_epochs(self) -> int:
        return len(self.history["epochs"])

    @property
    def figures(self) -> list[dict]:
        grouped: dict[str, dict] = {}
        for name, values in self.history["metrics"].items():
            grouped.setdefault(_group(name), {})[name] = values
        order = [title for title, _ in GROUPS] + ["other"]
        return [{"key": key, "figure": _figure(self.history["epochs"], grouped[key], key)}
                for key in order if key in grouped]

    @property
    def final(self) -> dict:
        return {name: next((v for v in reversed(values) if v is not None), None)
                for name, values in self.history["metrics"].items()}

    def json(self) -> dict:
        return {"training_history": {"path": self.path, **self.history}} if self.history else {}


def run(collected, *, history=None) -> TrainingCurvesResult:
    """history: review.training_history.History or None."""
    if history is None:
        return TrainingCurvesResult(None)
    return TrainingCurvesResult(history.series, history.path)
