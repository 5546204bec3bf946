"""Underperforming slices: groups of images, named by one or two features ("7_Sneaker images in the darkest 20%"),
whose error rate is well above the overall, SliceLine-style (Sagadeeva & Boehm, SIGMOD 2021).

The lattice is searched to depth two, exhaustively: every value of every feature, and every pair of values of two
features, counted with one bincount per feature pair (78 pairs for 13 features: a few milliseconds each at
200,000 rows). A feature value held by fewer than the minimum size of rows is dropped before pairing, so a pair's
cells stay at most (n / min size)^2.

A slice is reported when all of these hold:
  - size at least max(MIN_SIZE, MIN_SHARE x n): 20 images, or 0.5% of the searched ones (1,000 of 200,000);
    smaller groups are the business of the per-sample lists;
  - its error rate is well above the rate of the rest: one-sided Fisher's exact test (errors in the slice vs
    out of it, the hypergeometric tail), then Benjamini-Hochberg over EVERY slice tested, q < ALPHA (0.01). With
    errors spread at random, 2 synthetic data sets in 300 showed a slice (bench/bench_slices.py), none of the
    seeds in tests/test_slices.py;
  - the effect is large: at least MIN_EXCESS (5 points) above the overall rate and at least half again the
    overall error (or half its accuracy, above 50% error): 6% overall needs 11%, 30% needs 45%;
  - a pair says more than each of its two single-feature parents: 5 points worse than the parent, and worse than
    the rest of the parent by the same exact test, Benjamini-Hochberg over the pairs that passed, q < ALPHA.
    Otherwise the parent says it alone;
  - a single feature value that is bad only because a reported pair inside it is bad is dropped (its rows
    outside the pair are not significantly worse than overall): "dark images" when only dark sneakers fail;
  - a slice named by the prediction is not mostly (ONE_CELL or more of it) one cell of the confusion matrix:
    "images predicted cat in the region of dogs" is the dog-as-cat cell, wrong by construction. For the same
    reason the prediction is never paired with the true class or an embedding region (which mostly holds one
    class). Such slices are not tested at all: left in the family, their certain "discoveries" would loosen
    Benjamini-Hochberg's threshold for every other slice.
Ranked by SliceLine's score, alpha (rate / overall - 1) - (1 - alpha) (n / size - 1) with alpha = 0.95, which
trades effect against size (a slice of 1% of the data needs 6 times the overall error to score above 0, one of
20% needs 1.2 times). Near-identical slices (Jaccard overlap NEAR_IDENTICAL or more with one ranked above) are
said once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np

from reportgen.compute.paired_tests import benjamini_hochberg
from reportgen.compute.slice_statistics import ALPHA, MIN_EXCESS, fisher_greater, margin, sliceline_score

MIN_SIZE = 20
MIN_SHARE = 0.005
NEAR_IDENTICAL = 0.7
MAX_SLICES = 50
MAX_CONSIDERED = 2000  # significant candidates walked for de-duplication, best first
ONE_CELL = 0.8
EXCLUDED_PAIRS = {frozenset({"class", "prediction"}), frozenset({"region", "prediction"})}  # see above


@dataclass
class Feature:
    name: str  # "brightness", "class", "prediction", "cluster", "source", ...
    codes: np.ndarray  # (n,) int, -1 where the row has no value
    phrases: list[str]  # per code: "in the darkest 20%", "7_Sneaker images" (head), "predicted 7_Sneaker"
    head: bool = False  # its phrase is the noun of the sentence ("7_Sneaker images" instead of "images")
    values: list[int] | None = None  # per code, the code it had before compact() (None: the same)

    def value(self, code: int) -> int:
        return code if self.values is None else self.values[code]


@dataclass
class Slice:
    terms: tuple[tuple[int, int], ...]  # (feature index, code) pairs, one or two
    size: int
    errors: int
    p: float = 1.0
    q: float = 1.0
    score: float = 0.0
    members: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # (size,) positions in the rows

    @property
    def error_rate(self) -> float:
        return self.errors / self.size


@dataclass
class SliceSearch:
    slices: list[Slice]  # ranked
    features: list[Feature]
    n: int
    errors: int
    min_size: int
    tested: int  # slices tested (the Benjamini-Hochberg family)

    @property
    def error_rate(self) -> float:
        return self.errors / self.n if self.n else 0.0

    def description(self, found: Slice) -> str:
        """'7_Sneaker images in the darkest 20%': the class (if any) as the noun, the other terms after it."""
        head = [self.features[f].phrases[c] for f, c in found.terms if self.features[f].head]
        rest = [self.features[f].phrases[c] for f, c in found.terms if not self.features[f].head]
        return " and ".join(head or ["images"]) + (" " + " and ".join(rest) if rest else "")

    def key(self, found: Slice) -> str:
        """Stable across runs of the same data: 'brightness=0&class=7'."""
        return "&".join(f"{self.features[f].name}={self.features[f].value(c)}" for f, c in found.terms)


def min_slice_size(n: int) -> int:
    return max(MIN_SIZE, math.ceil(MIN_SHARE * n))


def compact(feature: Feature, min_size: int) -> Feature:
    """The feature with values held by fewer than min_size rows set to -1 and the rest renumbered."""
    valid = feature.codes >= 0
    counts = np.bincount(feature.codes[valid], minlength=len(feature.phrases))
    kept = np.flatnonzero(counts >= min_size)
    remap = np.full(len(feature.phrases) + 1, -1, np.int64)
    remap[kept] = np.arange(len(kept))
    codes = remap[np.where(valid, feature.codes, len(feature.phrases))]
    return Feature(feature.name, codes, [feature.phrases[k] for k in kept], feature.head,
                   [feature.value(int(k)) for k in kept])


def candidates(features: list[Feature], errors: np.ndarray, min_size: int) -> list[Slice]:
    """Every value and every pair of values (of two features) held by min_size rows or more, with its counts."""
    found = []
    weights = errors.astype(np.float64)
    for fi, f in enumerate(features):
        valid = f.codes >= 0
        sizes = np.bincount(f.codes[valid], minlength=len(f.phrases))
        errs = np.bincount(f.codes[valid], weights=weights[valid], minlength=len(f.phrases)).round().astype(np.int64)
        found += [Slice(((fi, int(c)),), int(sizes[c]), int(errs[c])) for c in np.flatnonzero(sizes >= min_size)]
    singles = {s.terms[0]: s.size for s in found}
    for fi, gi in combinations(range(len(features)), 2):
        f, g = features[fi], features[gi]
        if frozenset({f.name, g.name}) in EXCLUDED_PAIRS or not f.phrases or not g.phrases:
            continue
        both = (f.codes >= 0) & (g.codes >= 0)
        width = len(g.phrases)
        joint = f.codes[both] * width + g.codes[both]
        sizes = np.bincount(joint, minlength=len(f.phrases) * width)
        errs = np.bincount(joint, weights=weights[both], minlength=len(f.phrases) * width).round().astype(np.int64)
        for j in np.flatnonzero(sizes >= min_size):
            terms = ((fi, int(j // width)), (gi, int(j % width)))
            if sizes[j] in (singles[terms[0]], singles[terms[1]]):
                continue  # the same rows as one of its parents: the parent names them more simply
            found.append(Slice(terms, int(sizes[j]), int(errs[j])))
    return found


def members(features: list[Feature], found: Slice) -> np.ndarray:
    mask = np.ones(len(features[0].codes), bool)
    for f, c in found.terms:
        mask &= features[f].codes == c
    return np.flatnonzero(mask)


def beyond_parents(child: Slice, singles: dict) -> float:
    """p that the child is no worse than the rest of its parents (the larger of the two exact tests), 1.0 when it
    is not MIN_EXCESS worse than each parent."""
    worst = 0.0
    for term in child.terms:
        parent = singles[term]
        if parent.size <= child.size or child.error_rate < parent.error_rate + MIN_EXCESS:
            return 1.0
        worst = max(worst, float(fisher_greater(child.errors, child.size, parent.errors, parent.size)))
    return worst


def explained_by_child(parent: Slice, children: list[Slice], n: int, total_errors: int, base: float) -> bool:
    """The parent's rows outside one of its reported pairs are no worse than the data outside that pair."""
    for child in children:
        if parent.terms[0] not in child.terms:
            continue
        rest_size, rest_errors = parent.size - child.size, parent.errors - child.errors
        p = fisher_greater(rest_errors, rest_size, total_errors - child.errors, n - child.size)
        if p >= ALPHA or rest_errors / rest_size < base + margin(base):
            return True
    return False


def one_cell(features: list[Feature], found: Slice, cells: np.ndarray | None) -> bool:
    if cells is None or not any(features[f].name == "prediction" for f, _ in found.terms):
        return False
    rows = members(features, found)
    held = cells[rows]
    held = held[held >= 0]
    return len(held) > 0 and np.unique(held, return_counts=True)[1].max() >= ONE_CELL * len(rows)


def find_slices(features: list[Feature], errors: np.ndarray, *, min_size: int | None = None,
                cells: np.ndarray | None = None) -> SliceSearch:
    """Slices of one or two feature values whose error rate is well above the overall, ranked.

    features: each with (n,) codes over the same rows; errors: (n,) bool, the model wrong on the row; cells:
    (n,) int, the confusion-matrix cell of each wrong row (label x K + prediction), -1 for right rows."""
    errors = np.asarray(errors, bool)
    n, total = len(errors), int(errors.sum())
    min_size = min_slice_size(n) if min_size is None else min_size
    features = [compact(f, min_size) for f in features]
    if n == 0 or total == 0 or total == n:
        return SliceSearch([], features, n, total, min_size, 0)
    base = total / n
    found = [s for s in candidates(features, errors, min_size) if not one_cell(features, s, cells)]
    if not found:
        return SliceSearch([], features, n, total, min_size, 0)
    sizes = np.array([s.size for s in found])
    errs = np.array([s.errors for s in found])
    rates = errs / sizes
    # a rate at or below the rest's can't be significantly above it: p = 1, still counted in the family
    p = np.where(rates > base, fisher_greater(errs, sizes, total, n), 1.0)
    q = benjamini_hochberg(p)
    scores = sliceline_score(rates, base, sizes, n)
    for s, p_s, q_s, score in zip(found, p, q, scores):
        s.p, s.q, s.score = float(p_s), float(q_s), float(score)
    keep = (q < ALPHA) & (rates >= base + margin(base))
    significant = [s for s, k in zip(found, keep) if k]
    singles = {s.terms[0]: s for s in found if len(s.terms) == 1}
    pairs = [s for s in significant if len(s.terms) == 2]
    beyond = benjamini_hochberg([beyond_parents(s, singles) for s in pairs])  # a family of its own
    pairs = [s for s, q_s in zip(pairs, beyond) if q_s < ALPHA]
    ones = [s for s in significant if len(s.terms) == 1 and not explained_by_child(s, pairs, n, total, base)]
    ranked = sorted(ones + pairs, key=lambda s: (-s.score, -s.size, s.terms))[:MAX_CONSIDERED]
    kept, masks = [], []
    for s in ranked:
        rows = members(features, s)
        if any(mask[rows].sum() >= NEAR_IDENTICAL * (s.size + kept_s.size - mask[rows].sum())
               for mask, kept_s in zip(masks, kept)):
            continue  # Jaccard |A & B| / |A | B| at NEAR_IDENTICAL or more: the same slice named another way
        s.members = rows
        kept.append(s)
        mask = np.zeros(n, bool)
        mask[rows] = True
        masks.append(mask)
        if len(kept) == MAX_SLICES:
            break
    return SliceSearch(kept, features, n, total, min_size, len(found))
