"""Inside the network: the first convolution's filters, feature maps of the first and a middle
convolution for the most and the least confident sample, and both samples' final-layer activations (logits)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from reportgen.analyses.section import Result
from reportgen.collect.thumbnails import data_uri
from reportgen.explain.heatmap_png import tile_grid_png
from reportgen.explain.model_access import ModelAccess
from reportgen.explain.network_insides import (
    feature_map_tiles,
    feature_maps,
    filter_tiles,
    first_and_middle_convs,
    first_conv_filters,
)
from reportgen.model.adapter import NoHooks

ID = "insides"
TITLE = "Inside the network"
TEMPLATE = "_insides.html"
MAX_LOGIT_ROWS = 20  # more classes than this: show the ten largest logits of each sample, labels and predictions
FEATURE_TILE = 40  # pixels per feature-map tile
FILTER_TILE = 40


@dataclass
class InsidesResult(Result):
    samples: list[dict]  # the most and the least confident sample
    logits: list[dict]  # per class shown: each sample's logit
    filters: dict | None = None  # {layer, shape, count, shown, uri}
    filters_note: str | None = None
    layers: list[dict] = field(default_factory=list)  # feature maps: {name, position, channels, shown, size, grids}
    maps_note: str | None = None
    first_conv_shape: list[int] | None = None

    def json(self) -> dict:
        out = {"samples": {s["role"]: s["path"] for s in self.samples},
               "final_layer": {s["role"]: {row["class"]: row["logits"][n] for row in self.logits}
                               for n, s in enumerate(self.samples)}}
        if self.filters is not None:
            out["first_conv"] = {"layer": self.filters["layer"], "shape": self.first_conv_shape}
        if self.filters is not None or self.layers or self.maps_note:
            out["feature_map_layers"] = [layer["name"] for layer in self.layers]
            out["notes"] = [n for n in (self.filters_note, self.maps_note) if n]
        return {"network_insides": out}


def run(collected, *, model_access: ModelAccess | None = None) -> InsidesResult:
    samples = extreme_samples(collected)
    result = InsidesResult(samples, logit_rows(collected, [s["index"] for s in samples]))
    if model_access is None:
        result.filters_note = "No model was given to this report, so its filters and feature maps can't be shown."
        return result
    with model_access.running():
        _filters_and_maps(result, model_access, [s["index"] for s in samples])
    return result


def _filters_and_maps(result: InsidesResult, model_access: ModelAccess, rows: list[int]) -> None:
    """The first convolution's filters and the feature maps of the first and a middle one, into `result`."""
    adapter = model_access.adapter
    inputs = model_access.load_inputs(rows)
    filters = first_conv_filters(adapter, inputs[:1])
    result.filters_note = filters.note
    if filters.weights is not None:
        out_ch, in_ch, kh, kw = filters.weights.shape
        tiles = filter_tiles(filters.weights)
        result.filters = {"layer": filters.layer, "shape": f"{out_ch} filters of {in_ch}x{kh}x{kw}",
                          "count": out_ch, "shown": len(tiles),
                          "uri": png_uri(tile_grid_png(tiles, tile_side=FILTER_TILE))}
        result.first_conv_shape = [out_ch, in_ch, kh, kw]
    try:
        names = first_and_middle_convs(adapter, inputs[:1])
        maps = feature_maps(adapter, inputs, names) if names else {}
        if not names:
            result.maps_note = "The model has no convolution, so there are no feature maps to show."
    except NoHooks:
        maps = {}
        result.maps_note = ("Feature maps are not shown: reading an inner layer's output needs a hook, and a "
                            "TorchScript program can't take hooks; save the model with torch.export (.pt2) or as "
                            "a state_dict to get them.")
    for position, name in zip(("first", "middle"), maps):
        tiles = feature_map_tiles(maps[name])
        result.layers.append({"name": name, "position": position, "channels": int(maps[name].shape[1]),
                              "shown": int(tiles.shape[1]), "size": list(maps[name].shape[2:]),
                              "grids": [png_uri(tile_grid_png(t, tile_side=FEATURE_TILE)) for t in tiles]})


def png_uri(png: bytes) -> str:
    return data_uri(png, "image/png")


def extreme_samples(collected) -> list[dict]:
    """The most and the least confident sample (one, if they coincide)."""
    picks = [("most confident", int(np.argmax(collected.confidence))),
             ("least confident", int(np.argmin(collected.confidence)))]
    if picks[0][1] == picks[1][1]:
        picks = picks[:1]
    return [{"role": role, "index": i, "path": collected.paths[i], "label": collected.classes[collected.labels[i]],
             "prediction": collected.classes[collected.preds[i]], "confidence": float(collected.confidence[i]),
             "thumbnail": data_uri(collected.thumbnails[i])} for role, i in picks]


def logit_rows(collected, rows: list[int]) -> list[dict]:
    """One row per class shown: the logits of each chosen sample (the same numbers as report.json's) and each
    one's share of the largest |logit| among them, for the bar."""
    logits = collected.logits[rows].astype(np.float64)
    classes = range(len(collected.classes))
    if len(collected.classes) > MAX_LOGIT_ROWS:
        top = {int(k) for r in range(len(rows)) for k in np.argsort(-logits[r])[:10]}
        top |= {int(collected.labels[r]) for r in rows} | {int(collected.preds[r]) for r in rows}
        classes = sorted(top)
    finite = np.abs(logits[np.isfinite(logits)])
    limit = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
    out = []
    for k in classes:
        values = [float(v) if np.isfinite(v) else None for v in logits[:, k]]
        out.append({"class": collected.classes[k], "logits": values,
                    "shares": [round(v / limit, 4) if v is not None else 0.0 for v in values],
                    "marks": ["pred" if collected.preds[r] == k else "label" if collected.labels[r] == k else ""
                              for r in rows]})
    return out
