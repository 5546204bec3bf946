"""Image properties: how the images look (brightness, contrast, edge strength, entropy, size, aspect, colour),
measured in the collect pass. Per property, its distribution per split, the drift between the training split and
the evaluation split (two-sample Kolmogorov-Smirnov), and accuracy and mean loss per fifth of the evaluation
split; counts of dark, blurry, low-information and grayscale images (compute/property_flags.py).

Without labels the distributions, the drift against --reference data and the flags still hold; accuracy does not.

What to do next: a property that drifted says the evaluation images were taken differently (collect training
images like them, or augment); a fifth with much worse accuracy says which images to look at, and the slices
section says whether a class or a source is behind it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reportgen.analyses.findings import TRAINING_SPLITS, evaluation_split
from reportgen.analyses.property_figures import bin_table, property_figures
from reportgen.analyses.section import Finding, Result
from reportgen.collect.thumbnails import data_uri
from reportgen.compute.image_properties import PROPERTY_NAMES
from reportgen.compute.property_bins import ENDS, PROPERTY_LABELS, PROPERTY_MEANINGS
from reportgen.compute.property_flags import as_reported, flag_summary
from reportgen.compute.property_stats import accuracy_per_bin, drift, histogram
from reportgen.compute.slice_search import NEAR_IDENTICAL
from reportgen.compute.slice_statistics import margin, p_text, slice_score, slice_severity

ID = "properties"
TITLE = "Image properties"
TEMPLATE = "_properties.html"
DRIFT_LOW, DRIFT_MEDIUM, DRIFT_HIGH = 0.1, 0.2, 0.4  # KS statistic: the largest gap between the two CDFs
DRIFT_P = 1e-3
# A flag on FLAG_SHARE to FLAG_MOST of the images is worth a line in the digest even without an accuracy gap; on
# more, it is how the data set looks (upscaled 8 px digits are all blurry), not a few odd images.
FLAG_SHARE, FLAG_MOST = 0.05, 0.5
MORE = {"brightness": ("darker", "brighter"), "contrast": ("lower in contrast", "higher in contrast"),
        "blur": ("blurrier", "sharper"), "entropy": ("flatter (lower entropy)", "busier (higher entropy)"),
        "width": ("narrower", "wider"), "height": ("shorter", "taller"),
        "aspect": ("more portrait", "more landscape"), "colourfulness": ("less colourful", "more colourful")}


@dataclass
class PropertiesResult(Result):
    groups: dict[str, np.ndarray]  # split (or "reference") -> (n, P) property rows, in page order
    reference: str | None  # the group drift is measured from (train, or the --reference data)
    target: str | None  # ... and to (the evaluation split, or the new images)
    stats: dict  # property -> {splits: {group: {n, median, p5, p95}}, histogram, drift}
    bins: dict | None  # property -> per-fifth accuracy on the evaluation split (None without labels)
    flags: dict  # flag -> {rule, splits: {group: count}, accuracy: {flagged, rest, n_flagged, p} | None, examples}
    evaluation: str | None  # the split accuracy per bin is measured on
    collected: object  # thumbnails of the examples, and rows for findings
    evaluation_rows: np.ndarray | None = None  # (n,) rows of the evaluation split
    bin_codes: dict | None = None  # property -> (n,) bin of each evaluation row
    target_rows: np.ndarray | None = None  # (n,) rows of the split drift is measured to

    @property
    def names(self) -> list[str]:
        return list(self.stats)

    @staticmethod
    def short(value: float) -> str:
        return f"{value:.3g}"

    def label(self, name: str) -> str:
        return PROPERTY_LABELS[name]

    def meaning(self, name: str) -> str:
        return PROPERTY_MEANINGS[name]

    def named(self, name: str, phrase: str) -> str:
        """' (aspect ratio)' after a phrase that does not say its property ('in the darkest 20%' does)."""
        words = (self.label(name), name, *ENDS[name])
        return "" if any(w in phrase for w in words) else f" ({self.label(name)})"

    def card(self, i: int) -> dict:
        c = self.collected
        label = c.classes[c.labels[i]] if c.labels[i] >= 0 else None
        return {"index": int(i), "path": c.paths[i], "thumbnail": data_uri(c.thumbnails[i]),
                "caption": f"{label}→{c.classes[c.preds[i]]}" if label else c.classes[c.preds[i]],
                "wrong": label is not None and c.labels[i] != c.preds[i]}

    @property
    def figures(self) -> dict:
        return property_figures(self.stats, self.bins)

    @property
    def bin_table(self) -> dict:
        return bin_table(self.bins or {})

    def json(self) -> dict:
        return {"image_properties": {
            "reference": self.reference, "target": self.target, "evaluation_split": self.evaluation,
            "properties": {name: {"meaning": self.meaning(name), **s, "bins": (self.bins or {}).get(name)}
                           for name, s in self.stats.items()},
            "flags": {name: {k: v for k, v in f.items() if k != "examples"} | {
                "examples": [self.collected.paths[i] for i in f["examples"]]} for name, f in self.flags.items()},
        }}

    def findings(self) -> list[Finding]:
        """Drift: KS D of DRIFT_LOW / MEDIUM / HIGH with p < DRIFT_P, scored by D. A fifth of a property with much
        worse accuracy (the slices' test: well above the rest's error, Benjamini-Hochberg q < 0.05 over every
        bin), scored like a slice and sharing its subject, so the digest says it once. A flag whose images the
        model gets significantly more wrong (medium), or a dark, blurry or low-information minority of
        FLAG_SHARE to FLAG_MOST of the images (low)."""
        return self._drift_findings() + self._bin_findings() + self._flag_findings()

    def _drift_findings(self) -> list[Finding]:
        found = []
        for name, s in self.stats.items():
            d = s["drift"]
            if not d or d["ks"] < DRIFT_LOW or d["p"] >= DRIFT_P:
                continue
            severity = "high" if d["ks"] >= DRIFT_HIGH else "medium" if d["ks"] >= DRIFT_MEDIUM else "low"
            lower = d["median_target"] < d["median_reference"]
            values = self.groups[self.target][:, PROPERTY_NAMES.index(name)]
            order = np.argsort(values if lower else -values, kind="stable")[:8]
            rows = self.target_rows[order].tolist()
            found.append(Finding(
                f"{ID}/drift/{name}", ID, severity, d["ks"],
                f"{self.target} images are {MORE[name][0 if lower else 1]} than {self.reference} images: "
                f"{self.label(name)} median {d['median_target']:.3g} against {d['median_reference']:.3g} "
                f"(Kolmogorov-Smirnov D = {d['ks']:.2f}, p {p_text(d['p'])}).", rows, subject=f"drift:{name}"))
        return found

    def _bin_findings(self) -> list[Finding]:
        """Near-identical bins of two properties (the darkest fifth that is also the lowest-contrast one) are said
        once, as the slices section does: the better scored, then the first property in PROPERTY_NAMES."""
        if not self.bins:
            return []
        wrong = ~self.collected.correct[self.evaluation_rows]
        base, n = float(wrong.mean()), len(wrong)
        worse = [(slice_score(e["error_rate"], base, e["n"], n), name, b, e) for name, entries in self.bins.items()
                 for b, e in enumerate(entries) if e["worse"]]
        found, kept = [], []
        for score, name, b, e in sorted(worse, key=lambda w: -w[0]):
            inside = self.bin_codes[name] == b
            if any((inside & k).sum() >= NEAR_IDENTICAL * (inside | k).sum() for k in kept):
                continue
            kept.append(inside)
            members = self.evaluation_rows[inside]
            errors = members[~self.collected.correct[members]]
            rest = 1 - (wrong.sum() - errors.size) / max(n - e["n"], 1)
            found.append(Finding(
                f"{ID}/bin/{name}/{b}", ID, slice_severity(e["error_rate"], base), score,
                f"{self.evaluation}: accuracy drops for images {e['phrase']}{self.named(name, e['phrase'])}: "
                f"{e['accuracy']:.0%} against {rest:.0%} for the rest ({e['n']} images).",
                errors[:8].tolist(), subject=f"slice:images {e['phrase']}", kind="group", rows=members.tolist()))
        return found

    def _flag_findings(self) -> list[Finding]:
        found = []
        for name, f in self.flags.items():
            count = f["splits"].get(self.evaluation) if self.evaluation else sum(f["splits"].values())
            n = len(self.evaluation_rows) if self.evaluation_rows is not None else len(self.collected.paths)
            acc = f["accuracy"]
            worse = acc is not None and acc["p"] < 0.01 and \
                (1 - acc["flagged"]) >= (1 - acc["rest"]) + margin(1 - acc["rest"])
            if not count or (not worse and (name == "grayscale" or not FLAG_SHARE * n <= count <= FLAG_MOST * n)):
                continue
            where = f" of the {n} {self.evaluation} images" if self.evaluation else f" of {n} images"
            text = f"{count}{where} ({count / n:.0%}) are {name}: {f['rule']}"
            text += (f"; the model gets {acc['flagged']:.0%} of them right against {acc['rest']:.0%} of the rest."
                     if acc is not None else ".")
            # without an accuracy gap a flag is context, below the low findings that point at a problem
            score = 0.5 + 0.5 * (acc["rest"] - acc["flagged"]) if worse else 0.2 * min(1.0, count / n / FLAG_MOST)
            found.append(Finding(f"{ID}/flag/{name}", ID, "medium" if worse else "low", score, text,
                                 f["examples"][:8], subject=f"flag:{name}"))
        return found


def groups_and_drift(collected, reference) -> tuple[dict, str | None, str | None, np.ndarray | None]:
    """Property rows per split (and of the --reference data), and the pair drift is measured between."""
    names = collected.split_names
    groups = {name: collected.properties[collected.split == s] for s, name in enumerate(names)}
    target_rows = None
    ref = target = None
    if not collected.labelled and reference is not None and getattr(reference, "properties", None) is not None:
        groups = {"reference": reference.properties, **{n: g for n, g in groups.items()}}
        if len(names) == 1:
            ref, target = "reference", names[0]
            target_rows = np.arange(collected.n)
    else:
        train = next((n for n in names if n.lower() in TRAINING_SPLITS), None)
        evaluation = evaluation_split(names)
        if train is not None and evaluation != train:
            ref, target = train, evaluation
            target_rows = np.flatnonzero(collected.split == names.index(evaluation))
    return {n: g for n, g in groups.items() if len(g)}, ref, target, target_rows


def run(collected, *, reference=None) -> PropertiesResult | Result:
    if collected.properties is None:
        return NoProperties()
    groups, ref, target, target_rows = groups_and_drift(collected, reference)
    groups = {g: as_reported(rows) for g, rows in groups.items()}
    stats = {}
    for j, name in enumerate(PROPERTY_NAMES):
        values = {g: rows[:, j].astype(np.float64) for g, rows in groups.items()}
        stats[name] = {
            "splits": {g: {"n": len(v), "median": float(np.median(v)), "p5": float(np.quantile(v, 0.05)),
                           "p95": float(np.quantile(v, 0.95))} for g, v in values.items()},
            "histogram": histogram(values),
            "drift": drift(values[ref], values[target]) if ref is not None else None}
    evaluation = evaluation_rows = bins = codes = None
    if collected.labelled:
        evaluation = evaluation_split(collected.split_names)
        evaluation_rows = np.flatnonzero(collected.split == collected.split_names.index(evaluation))
        bins, codes = accuracy_per_bin(collected.properties, evaluation_rows, collected.correct, collected.loss)
    return PropertiesResult(groups, ref, target, stats, bins, flag_summary(collected.properties, collected.split, collected.split_names,
                                         evaluation_rows, collected.correct), evaluation,
                            collected, evaluation_rows, codes, target_rows)


class NoProperties(Result):
    """Arrays collected without image properties (a hand-made Collected): nothing to show."""

    shown = False
