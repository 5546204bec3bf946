"""--baseline OLD: run an older checkpoint over the same samples, and the numbers that compare the two.

Both models see the same decoded inputs (the new model's preprocessing), so a flipped sample is the model's
doing, not the data's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from reportgen.collect.batched_pass import collect_outputs
from reportgen.collect.dataset import input_loader
from reportgen.compute.classification_metrics import confusion_matrix, per_class_scores
from reportgen.compute.neighbours import ANALYSIS_NEIGHBOURS, shared_neighbours
from reportgen.compute.projection import Projection, project
from reportgen.errors import ReportgenError
from reportgen.explain.model_access import ModelAccess
from reportgen.model.adapter import ModelAdapter


@dataclass
class BaselineRun:
    path: str
    format: str
    sha256: str
    collected: Any  # Collected, rows aligned with the new model's
    projection: Projection
    access: ModelAccess | None = None  # the baseline model, for saliency before/after


def run_baseline(loaded, adapter: ModelAdapter, source, spec, collected, *, device, batch_size: int, opts,
                 quiet: bool, form=None, kept=None) -> BaselineRun:
    """Collect the baseline model's outputs over the same DataSource; rows must match the new model's. `form`:
    how the baseline model runs (a ForwardForm); `kept`: the inputs the new model's pass kept (the same rows)."""
    try:
        old = collect_outputs(adapter, source, spec, device=device, batch_size=batch_size, workers=opts.workers,
                              quiet=quiet, amp=opts.amp, form=form)
    except ReportgenError as exc:
        raise ReportgenError(f"--baseline {exc}") from exc
    if old.paths != collected.paths:
        raise ReportgenError(f"{loaded.path}: the baseline analysed a different set of files than the new model; "
                             "compare checkpoints on data both can read")
    # Pass the kNN graph: without it UMAP builds its own with NN-descent, ~21 s of uncacheable compilation.
    embeddings = old.embeddings
    graph = shared_neighbours(embeddings, ANALYSIS_NEIGHBOURS, device=device, seed=opts.seed)
    projection = project(embeddings, opts.projection, seed=opts.seed, neighbours=graph)
    return BaselineRun(str(loaded.path), loaded.format, loaded.sha256, old, projection,
                       ModelAccess(adapter, input_loader(source, spec, old, device, kept=kept, form=form), spec.mean,
                                   spec.std, form.threads if form is not None else None, form=form))


def flips(old, new) -> tuple[np.ndarray, np.ndarray]:
    """(fixed, broken) row indices: wrong -> right and right -> wrong, each ordered by the larger loss change."""
    fixed = np.flatnonzero(~old.correct & new.correct)
    broken = np.flatnonzero(old.correct & ~new.correct)
    change = np.nan_to_num(new.loss - old.loss, nan=0.0, posinf=1e9, neginf=-1e9)
    return fixed[np.argsort(change[fixed], kind="stable")], broken[np.argsort(-change[broken], kind="stable")]


def _scores(collected, rows) -> dict:
    k = len(collected.classes)
    ok = rows & ~collected.nonfinite if collected.nonfinite is not None else rows
    matrix = confusion_matrix(collected.labels[ok], collected.preds[ok], k)
    return {"matrix": matrix, "accuracy": float(collected.correct[rows].mean()) if rows.any() else None,
            **per_class_scores(matrix)}


def _delta(new, old):
    return None if new is None or old is None else new - old


def compare_metrics(old, new) -> dict:
    """Accuracy per split and overall, per-class precision/recall/F1 and the confusion-matrix difference."""
    result = {"splits": {}}
    groups = [("all", np.ones(new.n, bool))] + [(name, new.split == s) for s, name in enumerate(new.split_names)]
    for name, rows in groups:
        a, b = _scores(old, rows), _scores(new, rows)
        entry = {
            "accuracy": {"baseline": a["accuracy"], "new": b["accuracy"],
                         "delta": _delta(b["accuracy"], a["accuracy"])},
            "per_class": {c: {m: {"baseline": float(a[m][i]), "new": float(b[m][i]), "delta": float(b[m][i] - a[m][i])}
                              for m in ("precision", "recall", "f1")} for i, c in enumerate(new.classes)},
            # arrays here; analyses/baseline.py writes them (dense, or sparse for many classes)
            "confusion_matrix_baseline": a["matrix"],
            "confusion_matrix_delta": b["matrix"] - a["matrix"],
        }
        if name == "all":
            result.update(entry)
        else:
            result["splits"][name] = entry
    return result
