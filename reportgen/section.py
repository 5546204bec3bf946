"""What an analysis returns, and what it is given besides the collected arrays."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from reportgen.display_sampling import THUMBNAIL_CAP
from reportgen.neighbours import Neighbours
from reportgen.projection import Projection


@dataclass
class Section:
    id: str  # HTML anchor and key in report.json's "sections"
    title: str
    template: str  # the Jinja partial that renders `data`
    data: dict[str, Any] = field(default_factory=dict)  # for the template
    json: dict[str, Any] = field(default_factory=dict)  # deep-merged into report.json
    error: str | None = None  # set when the analysis failed: the page shows an error box instead


@dataclass
class Context:
    top_k: int = 25
    seed: int = 0
    projection: Projection | None = None
    neighbours: Neighbours | None = None
    pixel_projection: Any = None  # pixel_projection.PixelProjection; raw_vs_model makes its own when None
    thumbnail_cap: int = THUMBNAIL_CAP  # samples above this get a seeded subset of thumbnails
    neighbour_count: int = 8  # k shown in the sample panel ("fetch similars")
    saliency_samples: int = 200  # --saliency-samples: how many samples get saliency maps and Grad-CAM
    cam_layer: str | None = None  # --cam-layer: the layer Grad-CAM reads (default: the last convolution)
    provenance: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    section_seconds: dict[str, float] = field(default_factory=dict)  # per analysis, its own work (no waiting)
    section_wait_seconds: dict[str, float] = field(default_factory=dict)  # per analysis, waiting for a fit
    input_spec: Any = None
    model_info: dict[str, Any] = field(default_factory=dict)
    # For the few analyses that need gradients: the model (eval mode, on `device`; a torch.nn.Module,
    # a torch.fx.GraphModule for .pt2, or a torch.jit.ScriptModule) and a loader that re-decodes chosen samples.
    model: Any = None
    model_format: str | None = None
    device: Any = None
    load_inputs: Callable[[Sequence[int]], Any] | None = None  # collected row indices -> (B, C, H, W) tensor
    # Optional inputs of the review sections: --notes text, --history (training_history.load_history),
    # --baseline (baseline_comparison.BaselineRun).
    notes: str | None = None
    notes_path: str | None = None
    history: dict[str, Any] | None = None
    history_path: str | None = None
    baseline: Any = None
    class_groups: Any = None  # --class-groups: class_groups.ClassGroups
