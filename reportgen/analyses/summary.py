"""Summary: what was analysed, how well the model did, and where every number came from."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reportgen.analyses.findings import evaluation_split
from reportgen.analyses.section import Finding, Result
from reportgen.compute.classification_metrics import finite_mean

ID = "summary"
TITLE = "Summary"
TEMPLATE = "_summary.html"


UNLABELLED_ROW = "(unlabelled)"
# One class taking most of a split's predictions, including most of the images labelled as other classes: the
# classic sign of inputs unlike the training data (wrong mean/std, size or channel order) or of the wrong
# checkpoint, and the one finding that makes every other number moot. A majority class predicted often, or one
# class taken for another, is not it (the images of the other classes still get their own answers). Binary
# problems are left out (half the predictions on one side is normal).
COLLAPSE_SHARE = 0.5  # of the split's predictions on one class
COLLAPSE_OTHERS = 0.5  # and of the images labelled as another class, called that class too
COLLAPSE_UNLABELLED = 0.9  # without labels to compare with, nearly every prediction
COLLAPSE_MIN_CLASSES, COLLAPSE_MIN_SAMPLES = 3, 20


def top_prediction(collected, mask: np.ndarray) -> dict | None:
    """The class predicted most often among `mask`'s rows with finite logits: {class, index, share, label_share,
    others_share (of the rows labelled otherwise, the share given it; both None without labels), n}."""
    finite = mask if collected.nonfinite is None else mask & ~collected.nonfinite
    n = int(finite.sum())
    if not n:
        return None
    counts = np.bincount(collected.preds[finite], minlength=len(collected.classes))
    k = int(counts.argmax())
    others = finite & (collected.labels != k) if collected.labelled else None
    return {"class": collected.classes[k], "index": k, "share": float(counts[k] / n),
            "label_share": float((collected.labels[finite] == k).mean()) if collected.labelled else None,
            "others_share": float((collected.preds[others] == k).mean()) if others is not None and others.any()
            else None, "n": n}


def collapsed(top: dict | None, classes: int) -> bool:
    if top is None or classes < COLLAPSE_MIN_CLASSES or top["n"] < COLLAPSE_MIN_SAMPLES:
        return False
    if top["label_share"] is None:
        return top["share"] >= COLLAPSE_UNLABELLED
    return top["share"] >= COLLAPSE_SHARE and (top["others_share"] or 0.0) >= COLLAPSE_OTHERS


def evaluation_collapse(collected) -> dict | None:
    """The evaluation split's top_prediction() where the model collapsed on it (collapsed()), else None: the one
    decision the summary's finding and the sections that rest on the model's predictions share."""
    split = collected.split_names.index(evaluation_split(collected.split_names))
    top = top_prediction(collected, collected.split == split)
    return top if collapsed(top, len(collected.classes)) else None


def file_counts(collected) -> dict:
    """{split: {class: {found, analysed, skipped}}}: found = analysed + skipped, for every split and class."""
    counts = {s: {c: {"found": 0, "analysed": 0, "skipped": 0} for c in collected.classes}
              for s in collected.split_names}
    if not collected.labelled:  # no class to count by: one row per split
        counts = {s: {UNLABELLED_ROW: {"found": 0, "analysed": int((collected.split == i).sum()), "skipped": 0}}
                  for i, s in enumerate(collected.split_names)}
    else:
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
    accuracy: float | None  # None: no labels (a predictions-only report)
    mean_loss: float | None
    classes: list[str]
    splits: list[dict]  # {name, n_samples, n_skipped, n_files, accuracy, mean_loss, n_nonfinite_logits}
    model: dict
    embedding: dict
    provenance: dict
    timings: dict
    file_counts: dict
    empty_classes: list[dict]
    labelled: bool = True
    collapse_rows: list[int] | None = None  # where the headline split collapsed (see collapsed()): its rows given
    # its top class, labelled otherwise

    @property
    def n_files(self) -> int:
        return self.n_samples + self.n_skipped

    @property
    def n_nonfinite(self) -> int:
        return sum(s["n_nonfinite_logits"] for s in self.splits)

    @property
    def headline_split(self) -> dict:
        """The evaluation split (test, else val, else a split not named train): the number a reader quotes."""
        name = evaluation_split([s["name"] for s in self.splits])
        return next(s for s in self.splits if s["name"] == name)

    @property
    def other_splits(self) -> list[dict]:
        return [s for s in self.splits if s is not self.headline_split]

    def findings(self) -> list[Finding]:
        """What makes the numbers less trustworthy: non-finite logits (high), files that could not be analysed
        (medium from 1% of the files), classes without a single image (low)."""
        found = []
        if self.n_nonfinite:
            found.append(Finding(f"{ID}/nonfinite", ID, "high", 1.0, f"{self.n_nonfinite} samples got NaN or "
                                 "infinite logits: they count as errors and have no prediction; check the model's "
                                 "numerics and --mean/--std on them.", subject="nonfinite"))
        if self.n_skipped:
            share = self.n_skipped / max(self.n_files, 1)
            found.append(Finding(f"{ID}/skipped", ID, "medium" if share >= 0.01 else "low", min(1.0, 10 * share),
                                 f"{self.n_skipped} of {self.n_files} files could not be analysed "
                                 f"({share:.1%}); the skipped-files list says why.", subject="skipped"))
        if self.collapse_rows is not None:  # run() found the headline split collapsed
            top = self.headline_split["top_prediction"]
            split, share, rows = self.headline_split["name"], top["share"], self.collapse_rows
            labels = "" if top["label_share"] is None else \
                f", and for {top['others_share']:.0%} of those labelled as another class"
            found.append(Finding(f"{ID}/collapse", ID, "high", 1.0,
                                 f"{split}: the model predicts {top['class']} for {share:.0%} of the images{labels}. "
                                 "A model that gives one answer whatever it sees is usually fed inputs unlike its "
                                 "training data (check --mean/--std, --image-size and the channel order against its "
                                 "training transform) or is not the checkpoint you meant.", rows[:8],
                                 subject="collapse", kind="group", rows=rows, first=True))
        if self.empty_classes:
            found.append(Finding(f"{ID}/empty", ID, "low", 0.1, f"{len(self.empty_classes)} class folders hold no "
                                 f"image, e.g. {self.empty_classes[0]['split']}/{self.empty_classes[0]['class']}.",
                                 subject="empty"))
        return found

    def json(self) -> dict:
        head = self.headline_split
        return {
            "headline": {"split": head["name"], "accuracy": head["accuracy"], "mean_loss": head["mean_loss"],
                         "n_samples": head["n_samples"], "labelled": self.labelled,
                         "mean_confidence": head["mean_confidence"]},
            "labelled": self.labelled,
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
            "accuracy": float(collected.correct[mask].mean()) if n and collected.labelled else None,
            "mean_loss": finite_mean(collected.loss[mask]) if collected.labelled else None,
            "mean_confidence": float(collected.confidence[mask].mean()) if n else None,
            "n_nonfinite_logits": int(collected.nonfinite[mask].sum()) if collected.nonfinite is not None else 0,
            "top_prediction": top_prediction(collected, mask),
        })
    head = next(s for s in splits if s["name"] == evaluation_split(collected.split_names))
    top = evaluation_collapse(collected)
    collapse_rows = None
    if top is not None:
        given = (collected.split == collected.split_names.index(head["name"])) & (collected.preds == top["index"])
        if collected.nonfinite is not None:
            given &= ~collected.nonfinite  # no prediction at all (their argmax means nothing)
        if collected.labelled:
            given &= collected.labels != top["index"]
        rows = np.flatnonzero(given)
        # evidence from every true class in turn, not the first class's files only
        turn, seen = np.zeros(len(rows), np.int64), {}  # a row's place among the rows of its own class
        for i, label in enumerate(collected.labels[rows].tolist()):
            turn[i] = seen.get(label, 0)
            seen[label] = turn[i] + 1
        collapse_rows = rows[np.lexsort((collected.labels[rows], turn))].tolist()
    return SummaryResult(
        n_samples=collected.n, n_skipped=len(collected.skipped),
        accuracy=float(collected.correct.mean()) if collected.labelled else None,
        mean_loss=finite_mean(collected.loss) if collected.labelled else None, labelled=collected.labelled, classes=collected.classes, splits=splits, model=model_info,
        embedding={"layer": collected.embedding_layer, "dim": int(collected.embeddings.shape[1]),
                   "note": collected.embedding_note},
        provenance=provenance, timings=timings, file_counts=file_counts(collected),
        empty_classes=[{"split": s, "class": c} for s, c in collected.empty_classes], collapse_rows=collapse_rows)
