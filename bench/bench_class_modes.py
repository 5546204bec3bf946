"""Modes within classes: planted groups found (precision / recall by planted size), single-mode classes that
report a mode anyway (the false-positive rate), and run time; the old gate (reportgen/subclusters.py) and the
new finder (reportgen/compute/class_modes.py) side by side in one run.

    .venv/bin/python bench/bench_class_modes.py [--seeds 2 3 4 5]

Data (bench/planted_modes.py), all made here and seeded:
  glyphs K=10    1,000 a class, each holding a group drawn another way (four of 1%, four of 3%, one of 10%
                 and 40%; half seen in training); embeddings of a small CNN trained on them (64-d)
  glyphs K=100   50-400 a class (128-d); half the classes hold a group of 3%, 10% or 40% where that is >= 10
  digits         scikit-learn's digits, ~90 a class, 8 classes with 10% or 40% restyled
  blobs          anisotropic Gaussian classes (64-d, 50-600 a class): single-mode by construction
A planted group is found when one reported mode of its class has precision and recall >= 0.8 against it.
"apart" counts the groups that are a distinct mode in the embedding at all (the new tests applied to the true
group): what any embedding-based finder could hope to find. Single-mode classes are the unplanted glyph
classes (one glyph with jitter: augmented copies of one style) and the blobs. Thresholds were set on seeds 0-1.
Both finders run with one BLAS thread, as the report's analyses do (pipeline.py). Last, the findings the new
finder writes for real digits with nothing planted (the CNN trained on half of them, the other half searched).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from planted_modes import STYLES, blob_data, digits_data, glyph_data
from threadpoolctl import threadpool_limits

from reportgen import subclusters as old
from reportgen.compute import class_modes as new
from reportgen.compute.cross_class_clusters import find_cross_class_clusters
from reportgen.compute.mode_candidates import nearest_within, pairwise_distances
from reportgen.compute.mode_findings import mode_findings
from reportgen.compute.neighbours import nearest_neighbours

K_NEIGHBOURS = 15  # what the pipeline shares (max(--neighbours, 15))
SHARES = (0.01, 0.03, 0.10, 0.40)


def scenarios(seed: int):
    rng = np.random.default_rng(seed)
    shares = [0.01] * 4 + [0.03] * 4 + [0.10, 0.40]  # the small ones need the large classes
    plants = {c: (shares[c], STYLES[(c + seed) % len(STYLES)], c % 2 == 1) for c in range(10)}
    yield "glyphs K=10", glyph_data(10, 1000, 200, plants, seed=seed)
    sizes = rng.integers(50, 401, 100)
    plants = {}
    for c in range(0, 100, 2):
        share = [0.03, 0.10, 0.40][c // 2 % 3]
        if share * sizes[c] >= 10:
            plants[c] = (share, STYLES[c // 6 % len(STYLES)], bool(c // 2 % 2))
    yield "glyphs K=100", glyph_data(100, sizes, 50, plants, seed=seed, width=128, epochs=5)
    restyles = ["rotated", "inverted", "thick", "striped"]
    yield "digits", digits_data({c: ([0.10, 0.40][c % 2], restyles[(c // 2 + seed) % 4], c >= 4) for c in range(8)},
                                seed=seed)
    yield "blobs", blob_data(30, rng.integers(50, 601, 30), 64, seed=seed)


def new_modes(data, indices, seed):
    result = new.find_class_modes(data.embeddings, data.labels, data.preds, data.loss, indices, seed=seed)
    found = {}
    for mode in result.modes:
        found.setdefault(mode.class_index, []).append(mode.rows)
    return found


def old_modes(data, indices, seed, classes=None):
    found = {}
    for c in range(int(data.labels.max()) + 1) if classes is None else classes:
        members = np.flatnonzero(data.labels == c)
        modes = old.class_modes(data.embeddings, members, indices, seed=seed)
        if modes is not None:
            found[c] = [members[modes.assignment == m] for m in range(int(modes.assignment.max()) + 1)]
    return found


def apart(data, c, indices) -> bool:
    """Whether the planted group of class c, as it is, passes the new tests."""
    members = np.flatnonzero(data.labels == c)
    inside = np.isin(members, data.groups[c])
    x = data.embeddings[members]
    stats = new.group_stats(x, inside, nearest_within(pairwise_distances(x), new.K_WITHIN))
    names = [str(j) for j in range(int(data.labels.max()) + 1)]
    return new.passes(new.describe(c, members, inside, stats, data.embeddings, data.labels, data.preds, data.loss,
                                   indices, names))


def best_match(group: np.ndarray, modes: list[np.ndarray]) -> tuple[float, float]:
    """(precision, recall) of the reported mode that overlaps the group most (Jaccard); (nan, 0) if none."""
    best = (float("nan"), 0.0, -1.0)
    for rows in modes:
        common = len(np.intersect1d(group, rows))
        jaccard = common / (len(group) + len(rows) - common)
        if jaccard > best[2]:
            best = (common / len(rows), common / len(group), jaccard)
    return best[:2]


def scale_runs():
    """Seconds of each finder on N = 50,000 (K = 1,000 of 50) and N = 10,000 (K = 10 of 1,000) blobs; the new
    one with the cross-class clusters. The old gate runs on 100 and 3 classes and is scaled up (it takes
    minutes otherwise)."""
    rows = []
    for k, n, dims in ((1000, 50, 128), (10, 1000, 512)):
        data = blob_data(k, n, dims, seed=0)
        # The blobs are ~100 apart and ~2 wide: the kNN of each class is its part of the global kNN graph.
        indices = np.empty((len(data.labels), K_NEIGHBOURS + 1), np.int64)
        for c in range(k):
            members = np.flatnonzero(data.labels == c)
            indices[members] = members[nearest_neighbours(data.embeddings[members], K_NEIGHBOURS).indices]
        start = time.perf_counter()
        result = new.find_class_modes(data.embeddings, data.labels, data.preds, data.loss, indices)
        find_cross_class_clusters(data.embeddings, data.labels, data.preds, data.loss, indices)
        new_seconds = time.perf_counter() - start
        subset = range(100 if k > 100 else 3)
        start = time.perf_counter()
        old_modes(data, indices, 0, subset)
        old_seconds = (time.perf_counter() - start) * k / len(subset)
        rows.append((f"N={len(data.labels):,} K={k} D={dims}", new_seconds, old_seconds, len(result.modes)))
    return rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, nargs="+", default=[2, 3, 4, 5])
    args = parser.parse_args()
    torch.set_num_threads(2)
    groups, singles, timings = [], [], []
    for seed in args.seeds:
        for name, data in scenarios(seed):
            indices = nearest_neighbours(data.embeddings, K_NEIGHBOURS).indices
            with threadpool_limits(limits=1):
                start = time.perf_counter()
                found_new = new_modes(data, indices, seed)
                new_seconds = time.perf_counter() - start
                start = time.perf_counter()
                found_old = old_modes(data, indices, seed)
                old_seconds = time.perf_counter() - start
            timings.append((f"{name} seed {seed}", len(data.labels), new_seconds, old_seconds))
            for c in range(int(data.labels.max()) + 1):
                size = int(np.sum(data.labels == c))
                if c in data.groups:
                    group = data.groups[c]
                    share, style, seen = data.plants[c]
                    wrong = float(np.mean(data.preds[group] != c)) >= 0.5
                    groups.append((share, wrong, apart(data, c, indices), *best_match(group, found_new.get(c, [])),
                                   *best_match(group, found_old.get(c, []))))
                elif name != "digits" and size >= new.MIN_CLASS_SIZE:  # digits: real, maybe several styles
                    singles.append((name, c in found_new, c in found_old))
    with threadpool_limits(limits=1):
        scales = scale_runs()
    print_tables(groups, singles, timings, scales)
    real_digits(seed=1)


def real_digits(seed: int):
    data = digits_data({}, seed=seed)
    indices = nearest_neighbours(data.embeddings, K_NEIGHBOURS).indices
    with threadpool_limits(limits=1):
        result = new.find_class_modes(data.embeddings, data.labels, data.preds, data.loss, indices, seed=seed)
        clusters = find_cross_class_clusters(data.embeddings, data.labels, data.preds, data.loss, indices)
    print(f"\nreal digits, nothing planted (seed {seed}, accuracy {np.mean(data.preds == data.labels):.1%}): "
          f"{len(result.modes)} modes, {len(clusters)} cross-class clusters")
    for finding in mode_findings(result.modes, clusters):
        print(f"  [{finding['severity']}, {finding['score']:.2f}] {finding['text']}")


def found_line(rows) -> str:
    def part(p, r):
        hit = np.mean([pi >= 0.8 and ri >= 0.8 for pi, ri in zip(p, r)])
        reported = [pi for pi in p if pi == pi]
        precision = f"{np.mean(reported):.2f}" if reported else "  - "
        return f"{hit:5.0%} {precision:>5} {np.mean(r):5.2f}"

    cols = list(zip(*rows))
    return (f"{len(rows):6d} {np.mean(cols[2]):6.0%} | {part(cols[3], cols[4])} | {part(cols[5], cols[6])}")


def print_tables(groups, singles, timings, scales):
    print("\nplanted groups: found = a mode with precision and recall >= 0.8; P over groups with any mode, R over all")
    print(f"{'planted':<22} {'groups':>6} {'apart':>6} | {'new: found':>10} {'P':>5} {'R':>5} |"
          f" {'old: found':>10} {'P':>5} {'R':>5}")
    for share in SHARES:
        for wrong, label in ((True, "model wrong"), (False, "model right")):
            rows = [g for g in groups if g[0] == share and g[1] == wrong]
            if rows:
                print(f"{share:>4.0%} of class, {label:<11} {found_line(rows)}")
    print(f"{'all':<22} {found_line(groups)}")
    print("\nsingle-mode classes that report any mode (false positives)")
    for name in dict.fromkeys(s[0] for s in singles):
        rows = [s for s in singles if s[0] == name]
        print(f"{name:<14} {len(rows):4d} classes   new {sum(r[1] for r in rows):3d} ({np.mean([r[1] for r in rows]):.1%})"
              f"   old {sum(r[2] for r in rows):3d} ({np.mean([r[2] for r in rows]):.1%})")
    print(f"{'all':<14} {len(singles):4d} classes   new {np.mean([r[1] for r in singles]):.1%}"
          f"   old {np.mean([r[2] for r in singles]):.1%}")
    print("\nseconds (the shared kNN graph not counted: the report computes it anyway)")
    for name, n, t_new, t_old in timings:
        print(f"{name:<22} N={n:>6,}   new {t_new:6.2f}   old {t_old:7.2f}")
    for name, t_new, t_old, count in scales:
        print(f"{name:<22} blobs      new {t_new:6.2f}   old {t_old:7.1f} (scaled up from a few classes)")


if __name__ == "__main__":
    main()
