"""Modes within a class, small or large (the "closed 4" of Tensorleap's MNIST walkthrough), ranked by how distinct they are and how
differently the model treats them.

Candidates come from the class's density hierarchy (mode_candidates.py). One is a mode when it stands apart
from the rest of its class by three tests, each against what an arbitrary group of its size would show:
  - few of its members' nearest class-mates are outside it (cut), and few of the rest's are inside it
    (incoming): both at most MAX_CUT of the share a random group would have;
  - unless both are under CLEAR_CUT, a density valley separates it from the rest along the line joining their
    centres (at most MAX_VALLEY): the kNN tests alone pass the two halves of one large blob, which the valley
    test does not. Clearly apart groups skip it, as a mode apart in another direction can fill that line.
A group the model treats like the rest of its class (treatment under CORROBORATED) has nothing but geometry
to show for itself, and must pass stricter bounds (CLEAN_MAX_CUT, CLEAN_MAX_VALLEY): the best cuts of
single-style classes reached 0.17 with a valley of 0.5 on the bench (as did some error-prone planted styles)
and 0.13 with 0.29 in the 16-d embedding of tests/test_class_modes.py's tiny network.
The thresholds were set on bench/bench_class_modes.py's seeds 0-1 (planted styles in trained CNN embeddings,
Gaussian blobs, classes of one style); the bench reports other seeds.

The score ranks distinct AND error-prone modes first: distinctness x (0.25 + 0.75 x treatment), where
treatment is the largest of the error gap, the loss gap and the share of neighbours with another label (each
against the rest of the class). A clean split (both parts right) is still reported, below 0.25.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from reportgen.compute.mode_candidates import (
    cut_and_incoming,
    join_by_majority,
    nearest_within,
    pairwise_distances,
    refine,
    spectral_candidates,
    tree_candidates,
    valley,
)

MIN_CLASS_SIZE = 20  # smaller classes cannot hold a mode and a rest; they are skipped and counted
MIN_MODE_SIZE = 8
MAX_MODE_SHARE = 0.5  # the larger part of a class is its rest, not a mode
K_WITHIN = 15
MAX_ROWS = 4000  # larger classes are searched on a seeded sample; the others join by kNN majority
MAX_CUT = 0.2
CLEAR_CUT = 0.05  # no blob half came near this on the bench; groups this far apart skip the valley test
MAX_VALLEY = 0.5
CORROBORATED = 0.25  # treatment from which the model's behaviour backs up the geometry
CLEAN_MAX_CUT = 0.1
CLEAN_MAX_VALLEY = 0.4
CLEAN_WEIGHT = 0.25  # the score of a perfectly distinct mode the model treats like the rest of its class
REPRESENTATIVES = 6


@dataclass
class Mode:
    class_index: int
    rows: np.ndarray  # (size,) int64 row indices of the members
    share: float  # of the class
    error_rate: float
    rest_error_rate: float  # of the rest of the class
    mean_loss: float  # finite losses only
    rest_mean_loss: float
    mistaken_for: dict[int, int]  # predicted class -> count of wrong predictions, commonest first
    neighbour_labels: dict[int, float]  # label -> share of the members' nearest samples (shared kNN graph)
    inside_share: float  # of the members' nearest samples (shared graph) that are members
    cut: float  # within-class kNN links leaving the mode, over a random group's share
    incoming: float  # the rest's within-class kNN links into the mode, over a random group's share
    valley: float  # density between mode and rest over the lower peak; 0 when unneeded (both under CLEAR_CUT)
    core_distance: float  # mode centre to the rest's centre, in the rest's median radius
    distinctness: float  # 1 - max(cut, incoming), in [0, 1]
    treatment: float  # in [0, 1]
    score: float  # in [0, 1]
    representatives: np.ndarray  # rows nearest the mode's centre
    reasons: list[str] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.rows)


@dataclass
class ClassModes:
    modes: list[Mode]  # ranked, highest score first
    skipped_classes: list[int]  # classes under MIN_CLASS_SIZE (none of their members is searched)
    searched_classes: int
    sampled_classes: list[int] = field(default_factory=list)  # searched on a MAX_ROWS sample


def find_class_modes(embeddings: np.ndarray, labels: np.ndarray, preds: np.ndarray, loss: np.ndarray,
                     neighbour_indices: np.ndarray, *, seed: int = 0,
                     class_names: Sequence[str] | None = None) -> ClassModes:
    """Modes of every class, ranked across classes.

    embeddings: (N, D) float32; labels, preds: (N,) int; loss: (N,) float (non-finite values are left out of
    means); neighbour_indices: (N, k+1) the shared kNN graph, column 0 the sample itself.
    """
    rng = np.random.default_rng(seed)
    num_classes = int(max(labels.max(initial=-1), preds.max(initial=-1))) + 1
    names = list(class_names) if class_names is not None else [str(c) for c in range(num_classes)]
    modes, skipped, sampled, searched = [], [], [], 0
    for c in range(num_classes):
        members = np.flatnonzero(labels == c)
        if len(members) == 0:
            continue
        if len(members) < MIN_CLASS_SIZE:
            skipped.append(c)
            continue
        searched += 1
        if len(members) > MAX_ROWS:
            sampled.append(c)
        for inside, stats in class_groups(embeddings[members], rng):
            mode = describe(c, members, inside, stats, embeddings, labels, preds, loss, neighbour_indices, names)
            if passes(mode):
                modes.append(mode)
    modes = select(modes)
    modes.sort(key=lambda m: (-m.score, -m.size, m.class_index))
    return ClassModes(modes, skipped, searched, sampled)


def class_groups(x: np.ndarray, rng: np.random.Generator) -> list[tuple[np.ndarray, dict]]:
    """(inside mask over the rows of x, {cut, incoming, valley}) of every candidate that passes the tests."""
    n = len(x)
    sample = np.sort(rng.choice(n, MAX_ROWS, replace=False)) if n > MAX_ROWS else np.arange(n)
    xs = x[sample]
    distances = pairwise_distances(xs)
    within = nearest_within(distances, K_WITHIN)
    found, seen = [], set()
    candidates = tree_candidates(distances, within, MIN_MODE_SIZE) + spectral_candidates(within, MIN_MODE_SIZE, rng)
    for candidate in candidates:
        inside = np.zeros(len(xs), bool)
        inside[candidate] = True
        inside = refine(inside, within)
        size = int(inside.sum())
        key = np.packbits(inside).tobytes()
        if size < MIN_MODE_SIZE or size > MAX_MODE_SHARE * len(xs) or key in seen:
            continue
        seen.add(key)
        stats = group_stats(xs, inside, within)
        if apart(stats["cut"], stats["incoming"], stats["valley"], MAX_CUT, MAX_VALLEY):
            found.append((inside, stats))
    if len(sample) < n:
        found = [(join_by_majority(x, sample, inside), stats) for inside, stats in found]
    return found


def group_stats(x: np.ndarray, inside: np.ndarray, within: np.ndarray) -> dict:
    """cut, incoming and valley of the group `inside` (n,) bool among the rows of x (n, D), and the share of its
    members' nearest class-mates that are members. within: (n, k) as from nearest_within."""
    cut, incoming = cut_and_incoming(inside, within)
    n, size = len(x), int(inside.sum())
    # the valley is only needed when the kNN tests leave doubt
    depth = valley(x, inside) if CLEAR_CUT < max(cut, incoming) <= MAX_CUT else 0.0
    return {"cut": cut, "incoming": incoming, "valley": depth, "within": 1 - cut * (n - size) / (n - 1)}


def apart(cut: float, incoming: float, depth: float, max_cut: float, max_valley: float) -> bool:
    spread = max(cut, incoming)
    return spread <= CLEAR_CUT or (spread <= max_cut and depth <= max_valley)


def passes(mode: "Mode") -> bool:
    """The tests, the stricter ones for a group the model treats like the rest of its class."""
    if mode.treatment >= CORROBORATED:
        return apart(mode.cut, mode.incoming, mode.valley, MAX_CUT, MAX_VALLEY)
    return apart(mode.cut, mode.incoming, mode.valley, CLEAN_MAX_CUT, CLEAN_MAX_VALLEY)


def finite_mean(values: np.ndarray) -> float:
    values = values[np.isfinite(values)]
    return float(values.mean()) if values.size else float("nan")


def describe(c: int, members: np.ndarray, inside: np.ndarray, stats: dict, embeddings, labels, preds, loss,
             neighbour_indices, names) -> Mode:
    rows, rest = members[inside], members[~inside]
    wrong = preds[rows] != c
    error, rest_error = float(wrong.mean()), float(np.mean(preds[rest] != c))
    mean_loss, rest_loss = finite_mean(loss[rows]), finite_mean(loss[rest])
    mistaken = np.bincount(preds[rows][wrong], minlength=1)
    mistaken_for = {int(j): int(mistaken[j]) for j in np.argsort(-mistaken, kind="stable") if mistaken[j]}
    k = neighbour_indices.shape[1] - 1
    near = neighbour_indices[rows, 1:]
    near_labels = np.bincount(labels[near].ravel(), minlength=1) / near.size
    neighbour_labels = {int(j): float(near_labels[j]) for j in np.argsort(-near_labels, kind="stable")[:3]
                        if near_labels[j] > 0}
    other = 1 - near_labels[c] if c < len(near_labels) else 1.0
    rest_other = float(np.mean(labels[neighbour_indices[rest, 1:]] != c))
    member = np.zeros(len(labels), bool)
    member[rows] = True
    inside_share = float(member[near[:, :min(k, len(rows) - 1)]].mean())
    x, x_rest = embeddings[rows], embeddings[rest]
    centre, rest_centre = x.mean(0), x_rest.mean(0)
    radius = float(np.median(np.linalg.norm(x_rest - rest_centre, axis=1)))
    core_distance = float(np.linalg.norm(centre - rest_centre) / radius) if radius > 0 else float("inf")
    loss_gap = mean_loss - rest_loss if np.isfinite(mean_loss) and np.isfinite(rest_loss) else 0.0
    treatment = max(error - rest_error, 1 - np.exp(-max(loss_gap, 0.0)), other - rest_other, 0.0)
    distinctness = max(0.0, 1 - max(stats["cut"], stats["incoming"]))
    picks = rows[np.argsort(np.linalg.norm(x - centre, axis=1), kind="stable")[:REPRESENTATIVES]]
    mode = Mode(c, rows, len(rows) / len(members), error, rest_error, mean_loss, rest_loss, mistaken_for,
                neighbour_labels, inside_share, stats["cut"], stats["incoming"], stats["valley"], core_distance,
                float(distinctness), float(treatment), float(distinctness * (CLEAN_WEIGHT + (1 - CLEAN_WEIGHT)
                                                                               * treatment)), picks)
    mode.reasons = reasons(mode, stats["within"], other, rest_other, names)
    return mode


def select(modes: list[Mode]) -> list[Mode]:
    """Per class, the most distinct modes (the larger of equals) that do not overlap and leave a rest at least
    as large as each of them: the rest is the class's main body, not one more mode. Most distinct, not best
    scored: the error-prone half of a distinct style would otherwise push out the whole style."""
    chosen: dict[int, list[Mode]] = {}
    for mode in sorted(modes, key=lambda m: (round(1 - m.distinctness, 2), -m.size)):
        taken = chosen.setdefault(mode.class_index, [])
        used = set().union(*(set(m.rows.tolist()) for m in taken)) if taken else set()
        rest = round(mode.size / mode.share) - len(used) - mode.size
        if used.isdisjoint(mode.rows.tolist()) and rest >= max(MIN_MODE_SIZE, mode.size):
            taken.append(mode)
    return [m for taken in chosen.values() for m in taken]


def reasons(mode: Mode, within: float, other: float, rest_other: float, names) -> list[str]:
    """Why the mode is listed, in plain words with its numbers."""
    said = [f"apart from the rest of its class: {within:.0%} of its members' nearest class-mates are members, "
            f"and {mode.incoming * mode.share:.0%} of the rest's are"]
    if mode.inside_share >= 0.5:
        said.append(f"tight group: {mode.inside_share:.0%} of its neighbours are inside it")
    if mode.error_rate - mode.rest_error_rate >= 0.1:
        said.append(f"error {mode.error_rate:.0%} against {mode.rest_error_rate:.0%} for the rest of the class")
    else:
        said.append(f"the model treats it like the rest of the class (error {mode.error_rate:.0%} against "
                    f"{mode.rest_error_rate:.0%})")
    if np.isfinite(mode.mean_loss) and mode.mean_loss - mode.rest_mean_loss >= 0.5:
        said.append(f"mean loss {mode.mean_loss:.2f} against {mode.rest_mean_loss:.2f}")
    if mode.mistaken_for:
        j, count = next(iter(mode.mistaken_for.items()))
        said.append(f"mistaken for {names[j]} ({count} of {mode.size})")
    top = next(iter(mode.neighbour_labels), None)
    if top is not None and top != mode.class_index and mode.neighbour_labels[top] >= 0.5:
        said.append(f"its neighbours are mostly labelled {names[top]} ({mode.neighbour_labels[top]:.0%})")
    elif other - rest_other >= 0.2:
        said.append(f"{other:.0%} of its neighbours carry another label, against {rest_other:.0%} for the rest")
    return said
