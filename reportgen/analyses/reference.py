"""Against labelled reference data (--reference DATA): where new, unlabelled images fall among images whose labels
are known: each one's nearest labelled neighbours, whether they agree with the model's prediction, and the share
of images far from every labelled class (further from each class's centre than 95% of that class's own images)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reportgen.analyses.section import Finding, Result
from reportgen.collect.thumbnails import data_uri
from reportgen.compute.class_geometry import class_means, nearest_class_means
from reportgen.compute.neighbours import cross_neighbours

ID = "reference"
TITLE = "Against the labelled reference"
TEMPLATE = "_reference.html"
NEIGHBOURS = 5
FAR_QUANTILE = 0.95
FAR_MEDIUM, FAR_HIGH = 0.05, 0.20  # shares of far images worth a finding
SHOWN = 12


@dataclass
class ReferenceResult(Result):
    n_reference: int = 0
    far: np.ndarray | None = None  # (N,) bool
    agree: np.ndarray | None = None  # (N,) bool: the neighbours' majority label is the prediction
    neighbours: np.ndarray | None = None  # (N, NEIGHBOURS) rows of the reference
    reference_paths: list[str] | None = None
    reference_labels: list[str] | None = None
    paths: list[str] | None = None
    farthest: list[dict] | None = None  # the farthest images, with their labelled neighbours

    @property
    def shown(self) -> bool:
        return self.far is not None

    def json(self) -> dict:
        if self.far is None:
            return {}
        return {"reference": {
            "n_reference": self.n_reference, "share_far": float(self.far.mean()),
            "agreement": float(self.agree.mean()), "far_quantile": FAR_QUANTILE,
            "samples": [{"path": self.paths[i], "far": bool(self.far[i]), "neighbours_agree": bool(self.agree[i]),
                         "nearest_labelled": [self.reference_paths[j] for j in self.neighbours[i]]}
                        for i in range(len(self.far))],
            "farthest": [{"path": f["path"], "prediction": f["prediction"], "far": f["far"],
                          "beyond_class_radius": f["outside"],
                          "nearest_labelled": [n["path"] for n in f["neighbours"]]} for f in self.farthest]}}

    def findings(self) -> list[Finding]:
        """A share of images far from every labelled class (FAR_MEDIUM or more): data the model was not made for."""
        if self.far is None:
            return []
        share = float(self.far.mean())
        if share < FAR_MEDIUM:
            return []
        return [Finding(f"{ID}/far", ID, "high" if share >= FAR_HIGH else "medium", min(1.0, share * 2),
                        f"{share:.0%} of the new images are far from every labelled class (beyond where 95% of each "
                        "class's own reference images lie): data unlike what the classes were drawn from.",
                        [s["index"] for s in self.farthest[:8]], subject="far from reference",
                        kind="group", rows=np.flatnonzero(self.far).tolist())]


def run(collected, *, reference=None) -> ReferenceResult:
    """reference: the labelled reference's Collected (None: the section is not shown)."""
    if reference is None:
        return ReferenceResult()
    k = len(reference.classes)
    means = class_means(reference.embeddings, reference.labels, k)
    own = nearest_class_means(reference.embeddings, means, {"own": reference.labels}, count=0)["own"]
    limits = np.array([np.quantile(own[reference.labels == c], FAR_QUANTILE) if (reference.labels == c).any()
                       else np.inf for c in range(k)])
    near = nearest_class_means(collected.embeddings, means, {}, count=k)
    # Distance to each class's centre in units of that class's own 95% radius: classes differ in spread, so the
    # image that is furthest out is the one furthest beyond the nearest class's own edge, not in raw distance.
    outside = (near["nearest_distance"] / np.maximum(limits[near["nearest"]], 1e-12)).min(axis=1)
    far = outside > 1
    neighbours = cross_neighbours(collected.embeddings, reference.embeddings, NEIGHBOURS)
    votes = reference.labels[neighbours]
    majority = np.array([np.bincount(v, minlength=k).argmax() for v in votes])
    agree = majority == collected.preds
    order = np.argsort(-outside, kind="stable")[:SHOWN]
    farthest = [{"index": int(i), "path": collected.paths[i], "prediction": collected.classes[collected.preds[i]],
              "thumbnail": data_uri(collected.thumbnails[i]), "far": bool(far[i]),
              "outside": round(float(outside[i]), 4),
              "neighbours": [{"path": reference.paths[j], "label": reference.classes[reference.labels[j]],
                              "thumbnail": data_uri(reference.thumbnails[j])} for j in neighbours[i]]}
             for i in order]
    return ReferenceResult(reference.n, far, agree, neighbours, reference.paths,
                           [reference.classes[c] for c in reference.labels], collected.paths, farthest)
