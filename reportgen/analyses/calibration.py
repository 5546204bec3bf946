"""Calibration and decision quality (issue 19): when the model says 0.9, is it right 90% of the time, and what is
lost by acting only on confident predictions? Per evaluation split: ECE, MCE, adaptive ECE, class-wise ECE, NLL
and Brier before and after temperature scaling, reliability diagrams, confidence of right and wrong predictions,
the accuracy-coverage curve, top-k accuracy, per-class ROC AUC and average precision with PR curves, the
class-prior baseline and the most confident wrong predictions. The numbers are compute/calibration.py's.

What to do next: an over-confident model wants temperature scaling (one number, fitted here) before its
confidences drive a threshold; a class with a poor AP wants more or cleaner data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reportgen.analyses.findings import evaluation_split
from reportgen.analyses.section import Finding, Result
from reportgen.collect.thumbnails import data_uri
from reportgen.compute.calibration import PR_CURVES_ALL_UP_TO, calibration_by_split
from reportgen.compute.calibration_findings import calibration_findings
from reportgen.render import calibration_figures as figures
from reportgen.render.table_data import column, table

ID = "calibration"
TITLE = "Calibration and decision quality"
TEMPLATE = "_calibration.html"
EVIDENCE = 8
JSON_KEYS = ("n", "excluded_non_finite", "accuracy", "mean_confidence", "ece", "mce", "ace", "classwise_ece", "nll",
             "brier", "temperature", "temperature_protocol", "fold_temperatures", "ece_after", "mce_after",
             "ace_after", "classwise_ece_after", "nll_after", "brier_after", "top_k_accuracy", "reliability",
             "coverage", "coverage_operating_point", "coverage_sentence", "confidence_histograms")
SCORES = (("ece", "ECE (15 equal-width bins)"), ("mce", "MCE (largest bin gap)"), ("ace", "ACE (15 equal-mass bins)"),
          ("classwise_ece", "class-wise ECE"), ("nll", "NLL (mean cross-entropy)"), ("brier", "Brier score"))


@dataclass
class CalibrationResult(Result):
    classes: list[str]
    split_names: list[str]  # every split of the data, for split indices
    results: dict[str, dict]  # split -> compute.calibration.calibration_for_split's dict (evaluated splits only)
    collected: object  # for the gallery's thumbnails and the findings' sample rows
    scores = SCORES

    @property
    def large(self) -> bool:
        return len(self.classes) > PR_CURVES_ALL_UP_TO

    @property
    def left_out(self) -> list[str]:
        """Splits with no calibration: train beside evaluation splits (calibration_by_split), or no samples."""
        return [name for name in self.split_names if name not in self.results]

    @property
    def ordered(self) -> list[str]:
        """The evaluation split first; the others wait in folds."""
        first = evaluation_split(list(self.results))
        return sorted(self.results, key=lambda name: name != first)

    def view(self, name: str) -> dict:
        """What the partial draws for one split: the numbers, figures, per-class table and gallery."""
        r, index = self.results[name], self.split_names.index(name)
        rows = [{"class": c, "index": k, "roc_auc": r["per_class"]["roc_auc"][k],
                 "average_precision": r["per_class"]["average_precision"][k],
                 "classwise_ece": r["per_class"]["classwise_ece"][k], "positives": r["per_class"]["positives"][k]}
                for k, c in enumerate(self.classes)]
        columns = [column("class", "class"), column("roc_auc", "ROC AUC", "num"),
                   column("average_precision", "average precision", "num"),
                   column("classwise_ece", "class-wise ECE", "num", 4), column("positives", "samples", "int"),
                   column("index", "", "hidden")]
        majority = r["prior_baseline"]["majority_class"]
        figure_set = {"coverage": figures.coverage_figure(r["coverage"], r["coverage_operating_point"]),
                      "pr": figures.pr_figure(r["pr_curves"], self.classes)}
        for key in ("equal_width", "equal_mass"):
            figure_set[key] = figures.reliability_figure(r["reliability"][key], r["reliability"][f"{key}_after"])
        if r["confidence_histograms"]:
            figure_set["histograms"] = figures.confidence_histogram_figure(r["confidence_histograms"])
        return {"name": name, "index": index, "r": r, "figures": figure_set,
                "majority": self.classes[majority] if majority is not None else None,
                "per_class_table": table(columns, rows, sort=("average_precision", "asc") if self.large else None,
                                         page=20 if self.large else len(rows), search=self.large,
                                         action={"kind": "class", "split": index, "class": "index"}),
                "confident_wrong": [self._card(w) for w in r["confident_wrong"]]}

    def _card(self, wrong: dict) -> dict:
        i = wrong["index"]
        return {"index": i, "path": self.collected.paths[i], "label": self.classes[wrong["label"]],
                "prediction": self.classes[wrong["predicted"]], "confidence": wrong["confidence"],
                "thumbnail": data_uri(self.collected.thumbnails[i])}

    def json(self) -> dict:
        calibration, per_class = {}, {}
        paths = self.collected.paths
        for name, r in self.results.items():
            baseline = r["prior_baseline"]
            majority = baseline["majority_class"]
            calibration[name] = {key: r[key] for key in JSON_KEYS} | {
                "prior_baseline": baseline | {"majority_class": self.classes[majority] if majority is not None
                                              else None},
                "confident_wrong": [{"path": paths[w["index"]], "label": self.classes[w["label"]],
                                     "prediction": self.classes[w["predicted"]], "confidence": w["confidence"]}
                                    for w in r["confident_wrong"]]}
            per_class[name] = {"per_class": {c: {"roc_auc": r["per_class"]["roc_auc"][k],
                                                 "average_precision": r["per_class"]["average_precision"][k]}
                                             for k, c in enumerate(self.classes)}}
        # per_class merges into the confusion section's splits.<name>.per_class.<class> (report_json deep-merges)
        return {"calibration": calibration, "splits": per_class}

    def findings(self) -> list[Finding]:
        """compute.calibration_findings, with sample rows: the most confident wrong predictions for over-confidence
        (and a temperature above 1), the least confident right ones for under-confidence (a temperature below
        1), and the missed samples of the classes ranked poorly. Miscalibration and its temperature share a
        subject (the digest says the fix once); a poorly ranked class shares the confusion section's."""
        found = []
        for f in calibration_findings(self.results, classes=self.classes):
            slug = f["id"].rsplit("/", 1)[1]
            split = f["id"][len(ID) + 1:-len(slug) - 1]
            if slug == "poor-average-precision":
                classes = [c["class"] for c in f["evidence"]["classes"]]
                rows, evidence = self._missed(split, classes)
                subject = f"class:{self.classes[classes[0]]}" if len(classes) == 1 else f["id"]
                found.append(Finding(f["id"], ID, f["severity"], f["score"], f["text"], evidence, subject=subject,
                                     kind="group", rows=rows))
                continue
            timid = slug == "under-confidence" or (slug == "temperature" and f["evidence"]["temperature"] < 1)
            evidence = (self._least_confident_right(split) if timid
                        else [w["index"] for w in self.results[split]["confident_wrong"][:EVIDENCE]])
            found.append(Finding(f["id"], ID, f["severity"], f["score"], f["text"], evidence,
                                 subject=f"{ID}:{split}"))
        return found

    def _split_rows(self, split: str) -> np.ndarray:
        c = self.collected
        mask = c.split == self.split_names.index(split)
        return np.flatnonzero(mask & ~c.nonfinite) if c.nonfinite is not None else np.flatnonzero(mask)

    def _least_confident_right(self, split: str) -> list[int]:
        rows = self._split_rows(split)
        rows = rows[self.collected.correct[rows]]
        return rows[np.argsort(self.collected.confidence[rows], kind="stable")[:EVIDENCE]].tolist()

    def _missed(self, split: str, classes: list[int]) -> tuple[list[int], list[int]]:
        """Samples of `classes` predicted as something else; as evidence, the worst class's samples it scores
        lowest (the ones its ranking puts last)."""
        c = self.collected
        rows = self._split_rows(split)
        missed = rows[np.isin(c.labels[rows], classes) & (c.preds[rows] != c.labels[rows])]
        worst = rows[c.labels[rows] == classes[0]]
        worst = worst[np.argsort(c.probs[worst, classes[0]], kind="stable")[:EVIDENCE]]
        return missed.tolist(), worst.tolist()


def run(collected, *, seed: int = 0) -> CalibrationResult:
    results = calibration_by_split(collected.logits, collected.labels, collected.split, collected.split_names,
                                   seed=seed)
    return CalibrationResult(collected.classes, collected.split_names, results, collected)
