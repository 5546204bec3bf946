"""Summary: what was analysed, how well the model did, and where every number came from."""

from __future__ import annotations

import numpy as np

from reportgen.classification_metrics import finite_mean
from reportgen.section import Section

ID = "summary"
TITLE = "Summary"


def run(collected, ctx) -> Section:
    splits = []
    for s, name in enumerate(collected.split_names):
        mask = collected.split == s
        skipped = sum(1 for k in collected.skipped if k.split == name)
        n = int(mask.sum())
        splits.append({
            "name": name,
            "n_samples": n,
            "n_skipped": skipped,
            "n_files": n + skipped,
            "accuracy": float(collected.correct[mask].mean()) if n else None,
            "mean_loss": finite_mean(collected.loss[mask]),
            "n_nonfinite_logits": int((~np.isfinite(collected.logits[mask])).any(axis=1).sum()),
        })
    data = {
        "n_samples": collected.n,
        "n_skipped": len(collected.skipped),
        "n_files": collected.n + len(collected.skipped),
        "accuracy": float(collected.correct.mean()),
        "mean_loss": finite_mean(collected.loss),
        "classes": collected.classes,
        "splits": splits,
        "model": ctx.model_info,
        "embedding": {"layer": collected.embedding_layer, "dim": int(collected.embeddings.shape[1]),
                      "note": collected.embedding_note},
        "provenance": ctx.provenance,
        "timings": ctx.timings,
    }
    json = {
        "n_samples": data["n_samples"],
        "n_files": data["n_files"],
        "accuracy": data["accuracy"],
        "mean_loss": data["mean_loss"],
        "classes": data["classes"],
        "embedding": data["embedding"],
        "model": ctx.model_info,
        "provenance": ctx.provenance,
        "splits": {s["name"]: {k: v for k, v in s.items() if k != "name"} for s in splits},
    }
    return Section(ID, TITLE, "_summary.html", data, json)
