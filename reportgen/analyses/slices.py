"""Underperforming slices: groups of evaluation images, named by one or two of their features (a fifth of an image
property, grayscale or colour, the true class, the predicted class, a region of the embedding, the data source),
whose error rate is well above the overall: "7_Sneaker images in the darkest 20%: 41% error against 6% overall".
The search, its minimum size, its significance test and its ranking: compute/slice_search.py.

What to do next: look at the cards' images; collect or augment more of a slice (darker images, that source),
check a source's labels, or add the property to the evaluation set's checks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reportgen.analyses.findings import evaluation_split
from reportgen.analyses.section import Finding, Result
from reportgen.collect.thumbnails import data_uri
from reportgen.compute.property_bins import PROPERTY_LABELS
from reportgen.compute.slice_features import slice_features
from reportgen.compute.slice_search import MIN_SHARE, MIN_SIZE, Slice, SliceSearch, find_slices
from reportgen.compute.slice_statistics import ALPHA, p_text, slice_score, slice_severity

ID = "slices"
TITLE = "Underperforming slices"
TEMPLATE = "_slices.html"
SHOWN_OPEN = 5  # cards drawn when the page opens; the rest wait in a fold
SHOWN_MAX = 20  # cards in the page (report.json keeps every slice found)
EXAMPLES = 8  # thumbnails per card and sample_paths per slice: wrong ones first
EXAMPLES_RIGHT = 2
DIGEST = 3  # slices offered to the digest


@dataclass
class SlicesResult(Result):
    search: SliceSearch
    split: str
    rows: np.ndarray  # (n,) the collected rows searched (the evaluation split)
    collected: object
    seed: int = 0
    shown_open = SHOWN_OPEN
    shown_max = SHOWN_MAX
    alpha = ALPHA
    min_share = MIN_SHARE
    min_floor = MIN_SIZE

    @property
    def slices(self) -> list[Slice]:
        return self.search.slices

    @property
    def features(self) -> list[str]:
        return [f.name for f in self.search.features if f.phrases]

    @property
    def feature_labels(self) -> list[str]:
        return [PROPERTY_LABELS.get(name, name) for name in self.features]

    def members(self, found: Slice) -> np.ndarray:
        """(size,) collected rows of the slice."""
        return self.rows[found.members]

    def examples(self, found: Slice) -> list[int]:
        rows = self.members(found)
        right = self.collected.correct[rows]
        rng = np.random.default_rng(self.seed)
        wrong_rows, right_rows = rows[~right], rows[right]
        take_right = min(len(right_rows), max(EXAMPLES_RIGHT, EXAMPLES - len(wrong_rows)))
        picked = [rng.choice(wrong_rows, min(len(wrong_rows), EXAMPLES - take_right), replace=False),
                  rng.choice(right_rows, take_right, replace=False)]
        return [int(i) for part in picked for i in np.sort(part)]

    def sentence(self, found: Slice) -> str:
        return (f"{self.search.description(found)}: {found.error_rate:.0%} error against "
                f"{self.search.error_rate:.0%} overall")

    def view(self, found: Slice) -> dict:
        c = self.collected
        rows = self.members(found)
        loss = c.loss[rows]
        loss = loss[np.isfinite(loss)]
        cards = [{"index": i, "path": c.paths[i], "thumbnail": data_uri(c.thumbnails[i]),
                  "label": c.classes[c.labels[i]], "prediction": c.classes[c.preds[i]]} for i in self.examples(found)]
        return {"sentence": self.sentence(found), "description": self.search.description(found), "size": found.size,
                "share": found.size / self.search.n, "error_rate": found.error_rate, "q": found.q,
                "mean_loss": float(loss.mean()) if loss.size else None, "rows": rows.tolist(), "examples": cards,
                "bad": found.error_rate >= 2 * self.search.error_rate}

    def json(self) -> dict:
        s = self.search
        paths = self.collected.paths
        return {
            "slices": [{"description": s.description(f), "size": f.size, "error_rate": f.error_rate,
                        "baseline_error_rate": s.error_rate, "sample_paths": [paths[i] for i in self.examples(f)],
                        "split": self.split, "share": f.size / s.n, "p": f.p, "q": f.q, "score": f.score,
                        "features": {s.features[k].name: s.features[k].phrases[v] for k, v in f.terms}}
                       for f in self.slices],
            "slices_search": {
                "split": self.split, "n": s.n, "error_rate": s.error_rate, "min_size": s.min_size,
                "tested": s.tested, "features": self.features,
                "method": ("every value of one feature and every pair of values of two (fifths of each image "
                           "property, grayscale, true class, predicted class, embedding region, data source) with "
                           f"at least max({MIN_SIZE}, {MIN_SHARE:.1%} of n) images; one-sided Fisher's exact test "
                           f"against the rest, Benjamini-Hochberg q < {ALPHA} over every slice tested; error at least "
                           "5 points and half again above the overall; a pair beyond both its parents; ranked by "
                           "SliceLine's score (alpha 0.95); near-identical slices (Jaccard >= 0.7) said once"),
            },
        }

    def findings(self) -> list[Finding]:
        """The DIGEST best-ranked slices, each a group of all its images (as sub-populations' modes are), its wrong
        ones as evidence. Severity: high at double the overall
        error and 15 points above it; score: the share of the headroom above the overall error the slice loses,
        weighted toward larger slices. A slice of one class shares the class's subject with the confusion
        section's recall finding, and a slice of one property fifth shares the properties section's."""
        found = []
        base = self.search.error_rate
        for f in self.slices[:DIGEST]:
            rows = self.members(f)
            (first, code), names = f.terms[0], [self.search.features[k].name for k, _ in f.terms]
            subject = (f"class:{self.collected.classes[self.search.features[first].value(code)]}"
                       if names == ["class"] else f"slice:{self.search.description(f)}")
            found.append(Finding(
                f"{ID}/{self.search.key(f)}", ID, slice_severity(f.error_rate, base),
                slice_score(f.error_rate, base, f.size, self.search.n),
                f"{self.split}: {self.sentence(f)} ({f.size} images, q {p_text(f.q)}).",
                [i for i in self.examples(f) if not self.collected.correct[i]][:8], subject=subject, kind="group",
                rows=rows.tolist()))
        return found


def run(collected, *, seed: int = 0) -> SlicesResult:
    split = evaluation_split(collected.split_names)
    rows = np.flatnonzero(collected.split == collected.split_names.index(split))
    wrong = ~collected.correct[rows]
    k = len(collected.classes)
    cells = np.where(wrong, collected.labels[rows] * k + collected.preds[rows], -1)
    search = find_slices(slice_features(collected, rows, seed=seed), wrong, cells=cells)
    return SlicesResult(search, split, rows, collected, seed)
