"""What the model looks at: exigo's baseline-subtracted saliency toward the label, the attribution toward each
of the top classes, and Grad-CAM, for the hardest samples and a few wrong and correct ones per class."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from reportgen.analyses.section import Result
from reportgen.collect.thumbnails import data_uri
from reportgen.explain.attribution_pass import attribute_samples, explained_classes
from reportgen.explain.grad_cam import CamLayer, find_cam_layer
from reportgen.explain.heatmap_png import (
    DIVERGING,
    HEAT,
    cam_overlay_png,
    colour_bar_png,
    signed_map_png,
    source_webp,
    symmetric_scale,
)
from reportgen.explain.model_access import ModelAccess
from reportgen.explain.saliency_samples import choose_saliency_samples

ID = "saliency"
TITLE = "What the model looks at"
TEMPLATE = "_saliency.html"
DEFAULT_BUDGET = 200
SUMMARY_KEYS = ("index", "path", "split", "label", "prediction", "reason", "baseline_mean_abs", "saliency_mean_abs",
                "delta_mean_abs", "overlay_sum")
METHOD = ("gradient of the target logit with respect to the input, minus the same gradient at a blank (black) "
          "input; overlay = that difference times the input's departure from the blank")


@dataclass
class SaliencyResult(Result):
    budget: int
    n_chosen: int
    note: str | None = None  # why there are no maps (no model, no samples chosen)
    cam_layer: str | None = None
    cam_note: str | None = None
    classes: list[dict] = field(default_factory=list)  # {name, samples: [sample views], n_wrong}, wrong-first

    @property
    def diverging_bar(self) -> str:
        return png_uri(colour_bar_png(DIVERGING))

    @property
    def heat_bar(self) -> str:
        return png_uri(colour_bar_png(HEAT))

    def json(self) -> dict:
        if self.note:
            return {"saliency": {"note": self.note, "samples": []}}
        samples = sorted((s for c in self.classes for s in c["samples"]), key=lambda s: s["order"])
        return {"saliency": {"method": METHOD, "target": "label", "budget": self.budget,
                             "grad_cam": {"layer": self.cam_layer, "note": self.cam_note},
                             "samples": [{key: s[key] for key in SUMMARY_KEYS} for s in samples]}}


def run(collected, *, model_access: ModelAccess | None = None, saliency_samples: int = DEFAULT_BUDGET,
        cam_layer: str | None = None, top_k: int = 25) -> SaliencyResult:
    budget = int(saliency_samples or 0)
    chosen = choose_saliency_samples(collected, budget, top_k=top_k)
    result = SaliencyResult(budget, len(chosen))
    if model_access is None:
        result.note = "No model was given to this report, so no saliency maps could be computed."
        return result
    if not chosen:
        result.note = "No samples were chosen (--saliency-samples is 0)."
        return result
    rows = list(chosen)
    adapter, load_inputs, mean, std = model_access.adapter, model_access.load_inputs, model_access.mean, model_access.std
    labels = [int(collected.labels[r]) for r in rows]
    targets = [explained_classes(collected.probs[r], label) for r, label in zip(rows, labels)]
    cam_classes = [{int(collected.preds[r]), int(collected.labels[r])} for r in rows]
    by_class: dict[int, list[dict]] = {}
    with model_access.running():
        cam = find_cam_layer(adapter, load_inputs(rows[:1]), cam_layer)
        with model_access.folded(keep={cam.name}):
            attributions = attribute_samples(adapter, load_inputs, rows, targets, labels, mean=mean, std=std,
                                             cam_layer=cam.name, cam_classes=cam_classes)
            for order, attribution in enumerate(attributions):
                view = sample_view(collected, attribution, chosen[attribution.row], mean, std) | {"order": order}
                by_class.setdefault(int(collected.labels[attribution.row]), []).append(view)
    # Classes with wrong samples first (most wrong first), then by class index: the first fold opens.
    result.classes = [{"name": collected.classes[k], "samples": by_class[k],
                       "n_wrong": sum(view["wrong"] for view in by_class[k])}
                      for k in sorted(by_class, key=lambda k: (-sum(v["wrong"] for v in by_class[k]), k))]
    if cam.name and not any(view["cams"] for views in by_class.values() for view in views):
        cam = CamLayer(None, f"Grad-CAM is not shown: the output of layer {cam.name} is not a (batch, channels, "
                             "height, width) feature map; pass --cam-layer with a convolutional layer.")
    result.cam_layer, result.cam_note = cam.name, cam.note
    return result


def png_uri(png: bytes) -> str:
    return data_uri(png, "image/png")


def display_pixels(source: np.ndarray, mean, std) -> np.ndarray:
    """(C, H, W) model input -> (H, W) or (H, W, 3) pixels in [0, 1], undoing the normalisation."""
    channels = source.shape[0]
    mean = np.asarray(mean if mean is not None else [0.0] * channels, dtype=np.float32).reshape(-1, 1, 1)
    std = np.asarray(std if std is not None else [1.0] * channels, dtype=np.float32).reshape(-1, 1, 1)
    pixels = np.clip(source * std + mean, 0, 1)
    return pixels.transpose(1, 2, 0) if channels == 3 else pixels[0]


def sample_view(collected, result, reason: str, mean, std) -> dict:
    """One sample's maps (images as data URIs, for the page) and their numbers (for report.json)."""
    row, classes = result.row, collected.classes
    label, pred = int(collected.labels[row]), int(collected.preds[row])
    pixels = display_pixels(result.source, mean, std)
    grey = pixels.mean(axis=2) if pixels.ndim == 3 else pixels
    maps = result.label_maps
    # baseline, saliency and delta share one scale so delta visibly is saliency minus baseline; the overlay and
    # the per-class maps share another, so classes compare by strength as well as by place.
    gradient_limit = symmetric_scale(np.stack([maps["baseline"], maps["saliency"], maps["delta"]]))
    class_limit = symmetric_scale(np.stack(list(result.class_maps.values())))
    class_uris = {k: png_uri(signed_map_png(m, class_limit)) for k, m in result.class_maps.items()}
    strip = [{"caption": "source", "uri": data_uri(source_webp(pixels), "image/webp")}]
    strip += [{"caption": name, "uri": png_uri(signed_map_png(maps[name], gradient_limit))}
              for name in ("baseline", "saliency", "delta")]
    strip.append({"caption": "overlay", "uri": class_uris[label]})
    class_maps = [{"caption": f"{classes[k]} {100 * float(collected.probs[row, k]):.1f}%", "class": classes[k],
                   "role": " ".join(name for name, on in (("pred", k == pred), ("label", k == label)) if on),
                   "uri": uri} for k, uri in class_uris.items()]
    cams = [{"caption": f"Grad-CAM {'prediction' if k == pred else 'label'} {classes[k]}",
             "uri": png_uri(cam_overlay_png(grey, cam))}
            for k, cam in sorted(result.cams.items(), key=lambda item: item[0] != pred)]
    loss = float(collected.loss[row])
    return {"index": row, "path": collected.paths[row], "split": collected.split_names[collected.split[row]],
            "label": classes[label], "prediction": classes[pred], "confidence": float(collected.confidence[row]),
            "loss": loss if np.isfinite(loss) else None, "reason": reason, "wrong": label != pred,
            "strip": strip, "class_maps": class_maps, "cams": cams,
            **{k: finite(v) for k, v in result.label_stats.items()},
            # Per class, the overlay summed over the image: (grad at x - grad at blank) . (x - blank).
            "overlay_sum": {classes[k]: finite(m.sum()) for k, m in result.class_maps.items()}}


def finite(value) -> float | None:
    """report.json holds no NaN/inf (a model that produces them gets null)."""
    value = float(value)
    return round(value, 8) if np.isfinite(value) else None
