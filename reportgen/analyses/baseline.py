"""Checkpoint comparison (--baseline OLD): metric deltas, the confusion-matrix difference, the samples that
flipped with both predictions, saliency before/after for a few of them, and both embedding projections."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reportgen.analyses.section import Result
from reportgen.collect.thumbnails import data_uri
from reportgen.compute.classification_metrics import matrix_json
from reportgen.compute.projection import Projection
from reportgen.explain.heatmap_png import signed_map_png, source_webp, symmetric_scale
from reportgen.explain.model_access import ModelAccess
from reportgen.explain.saliency import baseline_subtracted
from reportgen.render.figure_data import class_scatter_traces, figure, layout
from reportgen.render.table_data import column, table
from reportgen.review.baseline_comparison import BaselineRun, compare_metrics, flips

ID = "baseline"
TITLE = "Compared with the baseline checkpoint"
TEMPLATE = "_baseline.html"
SALIENCY_PER_KIND = 4  # flipped samples (fixed, broken) given saliency before and after
MATRIX_TABLE_MAX_CLASSES = 30  # above, the confusion-matrix difference is listed as its changed cells


def metrics_json(entry: dict) -> dict:
    """One compare_metrics entry for report.json: its matrices dense, or sparse for many classes."""
    plain = {k: v for k, v in entry.items() if not k.startswith("confusion_matrix")}
    return plain | matrix_json(entry["confusion_matrix_baseline"], "confusion_matrix_baseline") \
        | matrix_json(entry["confusion_matrix_delta"], "confusion_matrix_delta")


def per_class_delta_table(per_class: dict, large: bool) -> dict:
    columns = [column("class", "class"), column("precision", "precision Δ", "num"),
               column("recall_baseline", "recall before", "num"), column("recall_new", "recall now", "num"),
               column("recall", "recall Δ", "num"), column("f1", "F1 Δ", "num")]
    rows = [{"class": c, "precision": r["precision"]["delta"], "recall_baseline": r["recall"]["baseline"],
             "recall_new": r["recall"]["new"], "recall": r["recall"]["delta"], "f1": r["f1"]["delta"]}
            for c, r in per_class.items()]
    return table(columns, rows, sort=("f1", "asc") if large else None, page=25 if large else len(rows), search=large)


def changed_cells_table(delta: np.ndarray, classes: list[str]) -> dict:
    """The cells of the confusion-matrix difference that changed, largest change first."""
    t, p = np.nonzero(delta)
    order = np.argsort(-np.abs(delta[t, p]), kind="stable")
    rows = [{"true": classes[t[i]], "pred": classes[p[i]], "change": int(delta[t[i], p[i]]),
             "t": int(t[i]), "p": int(p[i])} for i in order[:2000]]
    columns = [column("true", "true class"), column("pred", "predicted class"), column("change", "new − baseline", "int"),
               column("t", "", "hidden"), column("p", "", "hidden")]
    return table(columns, rows, page=15, action={"kind": "cell", "split": -1, "true": "t", "pred": "p"})


def _flip_rows(old, new, rows, limit=None) -> list[dict]:
    classes = new.classes
    out = []
    for i in rows[:limit]:
        out.append({"index": int(i), "path": new.paths[i], "split": new.split_names[new.split[i]],
                    "label": classes[new.labels[i]],
                    "baseline_prediction": classes[old.preds[i]], "prediction": classes[new.preds[i]],
                    "baseline_confidence": float(old.confidence[i]), "confidence": float(new.confidence[i]),
                    "baseline_loss": _finite(old.loss[i]), "loss": _finite(new.loss[i])})
    return out


def _finite(value):
    value = float(value)
    return value if np.isfinite(value) else None


def _saliency_pairs(access: ModelAccess, old_access: ModelAccess, new, rows) -> list[dict]:
    """Overlay (gradient minus blank-input gradient, times the input) toward the label, old model then new."""
    if not len(rows):
        return []
    mean, std = access.mean, access.std
    rows = [int(r) for r in rows]
    inputs = access.load_inputs(rows)
    targets = torch_labels(new, rows, inputs.device)
    before = baseline_subtracted(old_access.adapter.module, inputs, targets, mean=mean, std=std).overlay.sum(1)
    after = baseline_subtracted(access.adapter.module, inputs, targets, mean=mean, std=std).overlay.sum(1)
    pairs = []
    for j, row in enumerate(rows):
        maps = np.stack([before[j].cpu().numpy(), after[j].cpu().numpy()])
        limit = symmetric_scale(maps)
        source = inputs[j].detach().cpu().numpy()
        pixels = np.clip(source * np.asarray(std).reshape(-1, 1, 1) + np.asarray(mean).reshape(-1, 1, 1), 0, 1) \
            if mean is not None else np.clip(source, 0, 1)
        pixels = pixels.transpose(1, 2, 0) if pixels.shape[0] == 3 else pixels[0]
        pairs.append({"index": row, "path": new.paths[row],
                      "source": data_uri(source_webp(pixels), "image/webp"),
                      "before": data_uri(signed_map_png(maps[0], limit), "image/png"),
                      "after": data_uri(signed_map_png(maps[1], limit), "image/png")})
    return pairs


def torch_labels(collected, rows, device):
    import torch

    return torch.as_tensor(collected.labels[rows], device=device)


@dataclass
class BaselineResult(Result):
    run: BaselineRun | None = None
    new_projection: Projection | None = None
    metrics: dict | None = None
    classes: list[str] | None = None
    n_samples: int = 0
    fixed: list[dict] | None = None  # every flipped sample, largest loss change first
    broken: list[dict] | None = None
    top_k: int = 25
    thumbs: dict | None = None
    saliency: dict | None = None
    saliency_note: str | None = None
    labels: np.ndarray | None = None

    @property
    def shown(self) -> bool:
        return self.run is not None

    @property
    def model(self) -> dict:
        return {"path": self.run.path, "format": self.run.format, "sha256": self.run.sha256}

    @property
    def n_fixed(self) -> int:
        return len(self.fixed)

    @property
    def n_broken(self) -> int:
        return len(self.broken)

    @property
    def large(self) -> bool:
        return len(self.classes) > MATRIX_TABLE_MAX_CLASSES

    @property
    def per_class_table(self) -> dict:
        return per_class_delta_table(self.metrics["per_class"], self.large)

    @property
    def delta(self):
        return None if self.large else self.metrics["confusion_matrix_delta"].tolist()

    @property
    def changed_cells(self):
        return changed_cells_table(self.metrics["confusion_matrix_delta"], self.classes) if self.large else None

    @property
    def projections(self) -> list[dict]:
        old_xy, new_xy = self.run.projection.coords, self.new_projection.coords
        scatter = lambda xy: figure(class_scatter_traces(xy[:, 0], xy[:, 1], self.labels, self.classes), layout())  # noqa: E731
        return [{"key": "baseline", "title": f"baseline ({self.run.projection.method})", "figure": scatter(old_xy)},
                {"key": "new", "title": f"new ({self.new_projection.method})", "figure": scatter(new_xy)}]

    def json(self) -> dict:
        if self.run is None:
            return {}
        metrics = self.metrics
        return {"baseline": {
            **metrics_json({key: value for key, value in metrics.items() if key not in ("accuracy", "splits")}),
            "splits": {name: metrics_json(entry) for name, entry in metrics["splits"].items()},
            "model": self.model, "accuracy": metrics["accuracy"]["baseline"],
            "accuracy_delta": metrics["accuracy"]["delta"],
            "n_fixed": self.n_fixed, "n_broken": self.n_broken,
            "fixed": [{k: v for k, v in r.items() if k != "index"} for r in self.fixed],
            "broken": [{k: v for k, v in r.items() if k != "index"} for r in self.broken],
            "projection": {"method": self.run.projection.method,
                           "coordinates": np.round(self.run.projection.coords, 5).tolist()},
        }}


def run(collected, *, baseline: BaselineRun | None = None, projection: Projection,
        model_access: ModelAccess | None = None, top_k: int = 25) -> BaselineResult:
    if baseline is None:
        return BaselineResult()
    old, new = baseline.collected, collected
    fixed, broken = flips(old, new)
    thumbs = {int(i): data_uri(new.thumbnails[i]) for i in np.concatenate([fixed[:top_k], broken[:top_k]])}
    saliency_note = None
    try:
        if model_access is None or baseline.access is None:
            raise ValueError("no model to take gradients of")
        saliency = {"fixed": _saliency_pairs(model_access, baseline.access, new, fixed[:SALIENCY_PER_KIND]),
                    "broken": _saliency_pairs(model_access, baseline.access, new, broken[:SALIENCY_PER_KIND])}
    except Exception as exc:  # noqa: BLE001 - a model without gradients still gets the rest of the comparison
        saliency = {"fixed": [], "broken": []}
        saliency_note = f"Saliency could not be computed: {type(exc).__name__}: {exc}"
    return BaselineResult(baseline, projection, compare_metrics(old, new), new.classes, new.n,
                          _flip_rows(old, new, fixed), _flip_rows(old, new, broken), top_k, thumbs, saliency,
                          saliency_note, new.labels)
