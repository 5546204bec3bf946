"""Duplicates and outliers at scale: synthetic arrays of N samples in K classes with planted copies and outliers,
the seconds of each step and what was found, one row per N. Also the collect pass's added cost per image (the
pixel hash).

    .venv/bin/python bench/bench_hygiene.py --n 20000 200000 --k 1000

Planted, each in PLANT of the samples: exact copies (the same pixels and embedding), "shifted" copies (the
embedding a hair away, the pixels another image's), "re-encoded" copies (pixels within 2 grey levels, the
embedding half the median nearest distance away: a model fragile to compression), and outliers (the embedding
8 class spreads out). The kNN graphs are the report's own (exact up to 60,000 samples on CPU, NN-descent
above); their seconds are shown apart, as the report pays them once for every analysis.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import numpy as np

PLANT = 0.005


@dataclass
class PixelGraph:  # what the outliers analysis reads of compute.pixel_projection.PixelProjection
    neighbours: object


def synthetic(n: int, k: int, seed: int = 0):
    from reportgen.collect.collected import Collected

    rng = np.random.default_rng(seed)
    labels = (np.arange(n) % k).astype(np.int64)
    embeddings = (rng.normal(0, 3, (k, 64)).astype(np.float32)[labels]
                  + rng.normal(0, 1, (n, 64)).astype(np.float32))
    pixels = rng.integers(0, 256, (n, 32 * 32), dtype=np.uint8)
    hashes = rng.integers(0, 2**63, n, dtype=np.uint64)
    m = int(PLANT * n)
    rows = rng.permutation(n)
    exact, shifted, reencoded, outliers = (rows[i * m:(i + 1) * m] for i in range(4))
    sources = rows[4 * m:7 * m].reshape(3, m)
    for copies, source in zip((exact, shifted, reencoded), sources):
        labels[copies] = labels[source]
    embeddings[exact], pixels[exact], hashes[exact] = embeddings[sources[0]], pixels[sources[0]], hashes[sources[0]]
    embeddings[shifted] = embeddings[sources[1]] + rng.normal(0, 1e-3, (m, 64)).astype(np.float32)
    pixels[reencoded] = np.clip(pixels[sources[2]].astype(int) + rng.integers(-2, 3, (m, 1024)), 0, 255)
    embeddings[reencoded] = embeddings[sources[2]] + rng.normal(0, 0.05, (m, 64)).astype(np.float32)
    direction = rng.normal(0, 1, (m, 64)).astype(np.float32)
    embeddings[outliers] += 8 * direction
    probs = np.zeros((n, 1), np.float32)  # no analysis here reads the model's outputs
    collected = Collected(classes=[f"class_{c:04d}" for c in range(k)], split_names=["train", "val"],
                          paths=[f"img_{i:07d}.png" for i in range(n)], split=(np.arange(n) % 5 == 0).astype(np.int64),
                          labels=labels, logits=probs, probs=probs, preds=labels.copy(),
                          loss=np.zeros(n, np.float32), embeddings=embeddings, thumbnails=[b"RIFF0000WEBP"] * n,
                          pixels=pixels, pixel_hash=hashes)
    return collected, {"exact": (exact, sources[0]), "shifted": (shifted, sources[1]),
                       "re-encoded": (reencoded, sources[2])}, outliers


def pass_cost() -> None:
    from PIL import Image

    from reportgen.compute.image_hashes import pixel_hash

    rng = np.random.default_rng(0)
    for name, image in (("28x28 grey", Image.fromarray(rng.integers(0, 256, (28, 28), dtype=np.uint8))),
                        ("224x224 RGB", Image.fromarray(rng.integers(0, 256, (224, 224, 3), dtype=np.uint8)))):
        started = time.perf_counter()
        for _ in range(2000):
            pixel_hash(image)
        print(f"pixel hash in the pass, {name}: {(time.perf_counter() - started) / 2000 * 1e6:.1f} us per image")


def row(n: int, k: int) -> None:
    from reportgen.analyses import duplicates, outliers
    from reportgen.compute.image_hashes import perceptual_hashes
    from reportgen.compute.neighbours import ANALYSIS_NEIGHBOURS, shared_neighbours
    from reportgen.compute.pixel_projection import reduced_pixels

    collected, planted, far = synthetic(n, k)
    started = time.perf_counter()
    graph = shared_neighbours(collected.embeddings, ANALYSIS_NEIGHBOURS)
    graph_seconds = time.perf_counter() - started
    started = time.perf_counter()
    pixel_graph = PixelGraph(shared_neighbours(reduced_pixels(collected.pixels, 0)[0], ANALYSIS_NEIGHBOURS))
    pixel_graph_seconds = time.perf_counter() - started
    started = time.perf_counter()
    perceptual_hashes(collected.pixels)
    phash_seconds = time.perf_counter() - started
    started = time.perf_counter()
    found = duplicates.run(collected, neighbours=graph)
    duplicate_seconds = time.perf_counter() - started
    started = time.perf_counter()
    ranked = outliers.run(collected, neighbours=graph, pixel_projection=pixel_graph)
    outlier_seconds = time.perf_counter() - started
    started = time.perf_counter()
    size = len(str(found.json())) + len(str(ranked.json())) + len(str(ranked.sample_columns()))
    json_seconds = time.perf_counter() - started
    group_of = {i: g for g, group in enumerate(found.groups) for i in group["rows"]}
    recall = {name: np.mean([group_of.get(int(a), -1) == group_of.get(int(b), -2) for a, b in zip(*pairs)])
              for name, pairs in planted.items()}
    flagged = {r["index"] for r in ranked.rows}
    print(f"N={n:,} K={k:,}: kNN graph {graph_seconds:.1f} s ({graph.method}), pixels' {pixel_graph_seconds:.1f} s | "
          f"pHash {phash_seconds:.2f} s, duplicates {duplicate_seconds:.2f} s (pHash included), outliers "
          f"{outlier_seconds:.2f} s, JSON {json_seconds:.2f} s ({size / 1e6:.1f} MB) | groups {len(found.groups):,}, "
          f"planted pairs found: " + ", ".join(f"{name} {value:.1%}" for name, value in recall.items())
          + f"; outliers {np.mean([int(i) in flagged for i in far]):.1%} of planted flagged, "
          f"{len(flagged):,} flagged in all")


def against_cleanlab(n: int, k: int) -> None:
    """Datalab's near_duplicate and outlier issue types on the same synthetic embeddings (Euclidean): the overlap
    of the flagged sets. Datalab sees the embeddings only, so the re-encoded copies are ours alone."""
    import warnings

    from cleanlab import Datalab

    from reportgen.analyses import duplicates, outliers
    from reportgen.compute.neighbours import ANALYSIS_NEIGHBOURS, shared_neighbours

    collected, planted, far = synthetic(n, k)
    graph = shared_neighbours(collected.embeddings, ANALYSIS_NEIGHBOURS)
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lab = Datalab(data={"label": collected.labels}, label_name="label", verbosity=0)
        lab.find_issues(features=collected.embeddings, issue_types={"near_duplicate": {"metric": "euclidean"},
                                                                     "outlier": {"metric": "euclidean"}})
    seconds = time.perf_counter() - started
    issues = lab.get_issues()
    found = duplicates.run(collected, neighbours=graph)
    ours = {i for g in found.groups if "pixels" in g["found_by"] or "embedding" in g["found_by"] for i in g["rows"]}
    theirs = set(np.flatnonzero(issues["is_near_duplicate_issue"]).tolist())
    flagged = {r["index"] for r in outliers.run(collected, neighbours=graph).rows}
    theirs_out = set(np.flatnonzero(issues["is_outlier_issue"]).tolist())
    def overlap(ours: set, theirs: set) -> str:
        both = len(ours & theirs)
        return f"{both:,} flagged by both of ours {len(ours):,} / theirs {len(theirs):,} (Jaccard " \
               f"{both / max(1, len(ours | theirs)):.3f})"

    print(f"cleanlab Datalab at N={n:,} ({seconds:.1f} s): near duplicates (exact + embedding links) "
          f"{overlap(ours, theirs)}; outliers (embedding only) {overlap(flagged, theirs_out)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[20_000, 200_000])
    parser.add_argument("--k", type=int, default=1000)
    parser.add_argument("--cleanlab", type=int, default=0, help="also compare with cleanlab's Datalab at this N")
    args = parser.parse_args()
    pass_cost()
    for n in args.n:
        row(n, args.k)
    if args.cleanlab:
        against_cleanlab(args.cleanlab, args.k)


if __name__ == "__main__":
    main()
