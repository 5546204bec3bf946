"""Summary: what was analysed, how well the model did, and where every number came from."""

from __future__ import annotations

from dataclasses import dataclass

from reportgen.analyses.section import Result
from reportgen.compute.classification_metrics import finite_mean

ID = "summary"
TITLE = "Summary"
TEMPLATE = "_summary.html"


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


@dataclass
class SummaryResult(Result):
    n_samples: int
    n_skipped: int
    accuracy: float
    mean_loss: float | None
    classes: list[str]
    splits: list[dict]  # {name, n_samples, n_skipped, n_files, accuracy, mean_loss, n_nonfinite_logits}
    model: dict
    embedding: dict
    provenance: dict
    timings: dict
    file_counts: dict
    empty_classes: list[dict]

    @property
    def n_files(self) -> int:
        return self.n_samples + self.n_skipped

    @property
    def n_nonfinite(self) -> int:
        return sum(s["n_nonfinite_logits"] for s in self.splits)

    def json(self) -> dict:
        return {
            "n_samples": self.n_samples, "n_files": self.n_files, "accuracy": self.accuracy,
            "mean_loss": self.mean_loss, "classes": self.classes, "embedding": self.embedding, "model": self.model,
            "provenance": self.provenance,
            "splits": {s["name"]: {**{k: v for k, v in s.items() if k != "name"},
                                   "file_counts": self.file_counts.get(s["name"], {})} for s in self.splits},
            "empty_classes": self.empty_classes, "n_nonfinite_logits": self.n_nonfinite,
        }


def run(collected, *, provenance: dict, timings: dict, model_info: dict) -> SummaryResult:
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
    return SummaryResult(
        n_samples=collected.n, n_skipped=len(collected.skipped), accuracy=float(collected.correct.mean()),
        mean_loss=finite_mean(collected.loss), classes=collected.classes, splits=splits, model=model_info,
        embedding={"layer": collected.embedding_layer, "dim": int(collected.embeddings.shape[1]),
                   "note": collected.embedding_note},
        provenance=provenance, timings=timings, file_counts=file_counts(collected),
        empty_classes=[{"split": s, "class": c} for s, c in collected.empty_classes])
