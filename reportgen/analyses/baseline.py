"""Checkpoint comparison (--baseline OLD): metric deltas, the confusion-matrix difference, the samples that
flipped with both predictions, saliency before/after for a few of them, and both embedding projections."""

from __future__ import annotations

import numpy as np

from reportgen.baseline_comparison import compare_metrics, flips
from reportgen.classification_metrics import matrix_json
from reportgen.figure_data import class_scatter_traces, figure, layout
from reportgen.heatmap_png import signed_map_png, source_webp, symmetric_scale
from reportgen.saliency import baseline_subtracted
from reportgen.section import Section
from reportgen.table_data import column, table
from reportgen.thumbnails import data_uri

ID = "baseline"
TITLE = "Compared with the baseline checkpoint"
WAITS_FOR = ("projection",)  # may still be fitting on another thread (analyses.run_all)
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


def _saliency_pairs(ctx, new, rows) -> list[dict]:
    """Overlay (gradient minus blank-input gradient, times the input) toward the label, old model then new."""
    if not len(rows) or ctx.load_inputs is None:
        return []
    spec = ctx.input_spec
    mean, std = (spec.mean, spec.std) if spec is not None else (None, None)
    rows = [int(r) for r in rows]
    inputs = ctx.load_inputs(rows)
    targets = torch_labels(new, rows, inputs.device)
    before = baseline_subtracted(ctx.baseline.model, inputs, targets, mean=mean, std=std).overlay.sum(1)
    after = baseline_subtracted(ctx.model, inputs, targets, mean=mean, std=std).overlay.sum(1)
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


def run(collected, ctx) -> Section:
    run_ = ctx.baseline
    if run_ is None:
        return Section(ID, TITLE, "_baseline.html", {"absent": True})
    old, new = run_.collected, collected
    fixed, broken = flips(old, new)
    metrics = compare_metrics(old, new)
    thumbs = {int(i): data_uri(new.thumbnails[i]) for i in np.concatenate([fixed[:ctx.top_k], broken[:ctx.top_k]])}
    saliency_note = None
    try:
        saliency = {"fixed": _saliency_pairs(ctx, new, fixed[:SALIENCY_PER_KIND]),
                    "broken": _saliency_pairs(ctx, new, broken[:SALIENCY_PER_KIND])}
    except Exception as exc:  # noqa: BLE001 - a model without gradients still gets the rest of the comparison
        saliency = {"fixed": [], "broken": []}
        saliency_note = f"Saliency could not be computed: {type(exc).__name__}: {exc}"
    old_xy, new_xy = run_.projection.coords, ctx.projection.coords
    projections = [
        {"key": "baseline", "title": f"baseline ({run_.projection.method})",
         "figure": figure(class_scatter_traces(old_xy[:, 0], old_xy[:, 1], new.labels, new.classes), layout())},
        {"key": "new", "title": f"new ({ctx.projection.method})",
         "figure": figure(class_scatter_traces(new_xy[:, 0], new_xy[:, 1], new.labels, new.classes), layout())},
    ]
    model = {"path": run_.path, "format": run_.format, "sha256": run_.sha256}
    large = len(new.classes) > MATRIX_TABLE_MAX_CLASSES
    json = {"baseline": {
        **metrics_json({key: value for key, value in metrics.items() if key not in ("accuracy", "splits")}),
        "splits": {name: metrics_json(entry) for name, entry in metrics["splits"].items()},
        "model": model, "accuracy": metrics["accuracy"]["baseline"], "accuracy_delta": metrics["accuracy"]["delta"],
        "n_fixed": int(len(fixed)), "n_broken": int(len(broken)),
        "fixed": _flip_rows(old, new, fixed), "broken": _flip_rows(old, new, broken),
        "projection": {"method": run_.projection.method, "coordinates": np.round(old_xy, 5).tolist()},
    }}
    data = {"absent": False, "model": model, "metrics": metrics, "classes": new.classes, "n_samples": new.n,
            "n_fixed": len(fixed), "n_broken": len(broken), "top_k": ctx.top_k,
            "fixed": _flip_rows(old, new, fixed, ctx.top_k), "broken": _flip_rows(old, new, broken, ctx.top_k),
            "thumbs": thumbs, "saliency": saliency, "saliency_note": saliency_note, "projections": projections,
            "large": large, "per_class_table": per_class_delta_table(metrics["per_class"], large),
            "delta": metrics["confusion_matrix_delta"].tolist() if not large else None,
            "changed_cells": changed_cells_table(metrics["confusion_matrix_delta"], new.classes) if large else None}
    return Section(ID, TITLE, "_baseline.html", data, json)
