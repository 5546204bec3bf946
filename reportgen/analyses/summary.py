"""Summary: what was analysed, how well the model did, and where every number came from."""

from __future__ import annotations

from reportgen.classification_metrics import finite_mean
from reportgen.section import Section

ID = "summary"
TITLE = "Summary"


def file_counts(collected) -> dict:
    """{split: {class: {found, analysed, skipped}}}: found = analysed + skipped, for every split and class."""
    counts = {s: {c: {"found": 0, "analysed": 0, "skipped": 0} for c in collected.classes}
              for s in collected.split_names}
    for s, c in zip(collected.split, collected.labels):
        counts[collected.split_names[s]][collected.classes[c]]["analysed"] += 1
    for k in collected.skipped:
        split = counts.setdefault(k.split or "(no split)", {})
        split.setdefault(k.label or "(no class)", {"found": 0, "analysed": 0, "skipped": 0})["skipped"] += 1
    for split in counts.values():
        for row in split.values():
            row["found"] = row["analysed"] + row["skipped"]
    return counts


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
            "n_nonfinite_logits": int(collected.nonfinite[mask].sum()) if collected.nonfinite is not None else 0,
        })
    counts = file_counts(collected)
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
        "file_counts": counts,
        "empty_classes": [{"split": s, "class": c} for s, c in collected.empty_classes],
        "n_nonfinite": sum(s["n_nonfinite_logits"] for s in splits),
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
        "splits": {s["name"]: {**{k: v for k, v in s.items() if k != "name"}, "file_counts": counts.get(s["name"], {})}
                   for s in splits},
        "empty_classes": data["empty_classes"],
        "n_nonfinite_logits": data["n_nonfinite"],
    }
    return Section(ID, TITLE, "_summary.html", data, json)
