"""Exact and near duplicates, found without comparing every pair (N = 200,000 is 2e10 pairs): links from three
cheap sources, then groups as the connected components of the links (what union-find over them gives).

- **exact**: equal hashes of the decoded pixels (`Collected.pixel_hash`), by sorting: the same picture under two
  names or formats (a PNG saved again, a lossless WebP of it).
- **near, by the embedding**: pairs in the shared kNN graph closer than NEAR_FRACTION of the median distance
  from a sample to its nearest other sample (cleanlab Datalab's `near_duplicate` rule and default fraction). The
  model is meant to see through what a copy changes: it finds **shifted, cropped, flipped or recoloured
  copies**, whose perceptual hash differs in many bits. It can also pull apart images that are not copies and
  merely look alike to the model (two plain backgrounds), which is why each link carries the hash distance too.
- **near, by the perceptual hash**: pairs whose pHash differs in at most HASH_BITS bits (found through HASH_BITS
  + 1 blocks of the hash: two such hashes agree on one block at least) and whose 32x32 copies differ by at most
  PIXEL_NEAR grey levels on average. It finds **re-encoded, resized or lightly edited copies** that the embedding
  misses: where the model is fragile to compression noise, or its embedding is too coarse (a few dimensions, the
  logits) for a distance threshold to mean "the same image". The pixel check keeps look-alike small images
  (digits share low frequencies) out.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from reportgen.compute.image_hashes import hamming

NEAR_FRACTION = 0.13  # of the median nearest-neighbour distance (cleanlab Datalab's near_duplicate default)
HASH_BITS = 4  # pHash bits that may differ for the hash's own links
PIXEL_NEAR = 8.0  # mean absolute difference of the 32x32 copies, in grey levels (0-255), for the hash's links
HASH_WINDOW = 16  # hash links: each sample is compared with its next 16 in a block's sorted order, whatever its size
PIXEL_CHUNK = 65_536  # pairs whose pixel copies are compared at once


@dataclass
class Links:
    """Candidate duplicate pairs a < b with what each source says of them."""
    a: np.ndarray  # (E,) int64
    b: np.ndarray  # (E,) int64
    exact: np.ndarray  # (E,) bool: same pixel hash
    by_embedding: np.ndarray  # (E,) bool: embedding distance below the threshold
    by_hash: np.ndarray  # (E,) bool: pHash and pixel copies close
    distance: np.ndarray  # (E,) float32 embedding distance
    hash_bits: np.ndarray  # (E,) int64 pHash bits that differ


@dataclass
class Groups:
    members: list[np.ndarray]  # each group's rows, ascending; groups ordered by their first row
    group_of: np.ndarray  # (N,) int64: row -> its group's position in `members`, -1 for a sample in none
    links: Links
    median_nn: float  # median distance to the nearest other sample (exact copies aside)
    threshold: float  # NEAR_FRACTION * median_nn


def _pairs(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(a, b) as unique pairs with a < b, ordered, self-pairs dropped."""
    lo, hi = np.minimum(a, b).astype(np.int64), np.maximum(a, b).astype(np.int64)
    keep = lo != hi
    base = int(hi.max()) + 1 if hi.size else 1
    codes = np.sort(lo[keep] * base + hi[keep])  # one int64 per pair: sorting rows of two was 10x slower
    codes = codes[np.concatenate([[True], codes[1:] != codes[:-1]])] if codes.size else codes
    return codes // base, codes % base  # (np.unique's hash table took 2.9 s for 2.7M codes, this sort 0.2 s)


def exact_pairs(pixel_hash: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each sample linked to the previous one with the same hash (a chain per group): O(N log N)."""
    order = np.argsort(pixel_hash, kind="stable")
    same = np.flatnonzero(pixel_hash[order][1:] == pixel_hash[order][:-1])
    return _pairs(order[same], order[same + 1])


def nearest_median(distances: np.ndarray) -> float:
    """Median distance to the nearest other sample, over samples whose nearest is not an exact copy (distance 0):
    with many copies, the median of all would be 0 and so would every threshold."""
    first = distances[:, 1] if distances.shape[1] > 1 else np.zeros(0)
    first = first[first > 0]
    return float(np.median(first)) if first.size else 0.0


def embedding_pairs(embeddings: np.ndarray, indices: np.ndarray, distances: np.ndarray, threshold: float,
                    usable=None):
    """kNN-graph pairs closer than `threshold` (indices, distances: (N, k+1), column 0 the sample itself), both
    `usable` ((N,) bool or None: all). The graph's distances come from |a|^2 + |b|^2 - 2ab in float32, whose
    rounding is the size of a near copy's distance: candidates within twice the threshold are measured again."""
    rows, cols = np.nonzero(distances[:, 1:] < 2 * threshold)
    others = indices[rows, cols + 1].astype(np.int64)
    if usable is not None:
        keep = usable[rows] & usable[others]
        rows, others = rows[keep], others[keep]
    a, b = _pairs(rows.astype(np.int64), others)
    close = np.linalg.norm(embeddings[a].astype(np.float64) - embeddings[b], axis=1) < threshold
    return a[close], b[close]


def hash_pairs(phash: np.ndarray, pixels: np.ndarray, *, bits: int = HASH_BITS, window: int = HASH_WINDOW,
               pixel_near: float = PIXEL_NEAR):
    """Pairs within `bits` pHash bits whose pixel copies (N, P) uint8 differ by at most `pixel_near` on average."""
    n = phash.shape[0]
    blocks = bits + 1
    edges = np.linspace(0, 64, blocks + 1).astype(int)
    found_a, found_b = [], []
    for lo, hi in pairwise(edges):
        key = (phash >> np.uint64(lo)) & np.uint64((1 << (hi - lo)) - 1)
        order = np.lexsort((phash, key))  # same block together, similar whole hashes side by side
        for offset in range(1, min(window, n - 1) + 1):
            i, j = order[:-offset], order[offset:]
            close = (key[i] == key[j]) & (hamming(phash[i], phash[j]) <= bits)
            found_a.append(i[close])
            found_b.append(j[close])
    if not found_a:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    a, b = _pairs(np.concatenate(found_a), np.concatenate(found_b))
    keep = np.zeros(a.shape[0], bool)
    for start in range(0, a.shape[0], PIXEL_CHUNK):
        sa, sb = a[start:start + PIXEL_CHUNK], b[start:start + PIXEL_CHUNK]
        mad = np.abs(pixels[sa].astype(np.int16) - pixels[sb].astype(np.int16)).mean(axis=1)
        keep[start:start + PIXEL_CHUNK] = mad <= pixel_near
    return a[keep], b[keep]


def _member(pairs: tuple[np.ndarray, np.ndarray], a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
    codes = pairs[0] * n + pairs[1]
    return np.isin(a * n + b, codes)


def duplicate_groups(embeddings: np.ndarray, indices: np.ndarray, distances: np.ndarray, pixel_hash, phash,
                     pixels: np.ndarray, *, fraction: float = NEAR_FRACTION, usable=None) -> Groups:
    """embeddings: (N, D); indices, distances: the shared kNN graph (N, k+1); pixel_hash, phash: (N,) uint64 or
    None (no such link); pixels: (N, P) uint8; usable: (N,) bool, the rows whose embedding means something (a
    model's NaN output leaves zeros, which would all be "copies" of each other), or None for all."""
    n = embeddings.shape[0]
    median = nearest_median(distances if usable is None else distances[usable])
    threshold = fraction * median
    empty = (np.zeros(0, np.int64), np.zeros(0, np.int64))
    exact = exact_pairs(pixel_hash) if pixel_hash is not None else empty
    near = embedding_pairs(embeddings, indices, distances, threshold, usable) if threshold > 0 else empty
    looks = hash_pairs(phash, pixels) if phash is not None else empty
    a, b = _pairs(np.concatenate([exact[0], near[0], looks[0]]), np.concatenate([exact[1], near[1], looks[1]]))
    distance = np.linalg.norm(embeddings[a].astype(np.float64) - embeddings[b], axis=1).astype(np.float32)
    links = Links(a, b, _member(exact, a, b, n), _member(near, a, b, n), _member(looks, a, b, n), distance,
                  hamming(phash[a], phash[b]) if phash is not None else np.full(a.shape, -1, np.int64))
    group_of = np.full(n, -1, np.int64)
    if not a.size:
        return Groups([], group_of, links, median, threshold)
    graph = coo_matrix((np.ones(a.shape[0], np.int8), (a, b)), shape=(n, n))
    count, component = connected_components(graph, directed=False)
    sizes = np.bincount(component, minlength=count)
    rows = np.flatnonzero(sizes[component] > 1)  # ascending, so each group's rows are too
    order = np.argsort(component[rows], kind="stable")
    split_at = np.flatnonzero(np.diff(component[rows][order])) + 1
    members = sorted(np.split(rows[order], split_at), key=lambda g: g[0])
    for g, rows_of in enumerate(members):
        group_of[rows_of] = g
    return Groups(members, group_of, links, median, threshold)
