"""Well-separated modes within a class (the open vs the closed 4 of Tensorleap's MNIST walkthrough) and clusters of the whole embedding.

A mode is only reported when KMeans' split is real: a minimum size, a good silhouette, few of the class's own
kNN links crossing between the modes, and a density valley between each mode and its nearest neighbour mode.
Silhouette and the cut test alone still praise the cut of one elongated blob; the valley test does not, as
a single blob is densest between the two halves KMeans makes of it.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

MAX_MODES = 3
MIN_SILHOUETTE = 0.25
MAX_CUT_RATIO = 0.25  # cross-mode kNN links / the share random halves would have
MAX_VALLEY = 0.5  # density midway between two modes / the lower of the two modes' densities
MIN_MODE_SIZE = 5
MIN_MODE_SHARE = 0.05
PCA_DIMS = 10
SILHOUETTE_SAMPLE = 2000  # silhouette is O(n^2); a seeded sample keeps big classes cheap


@dataclass
class Modes:
    assignment: np.ndarray  # (n,) int, mode of each member row
    centres: np.ndarray  # (m, d) in the reduced space
    reduced: np.ndarray  # (n, d) the members in the reduced space
    silhouette: float
    cut_ratio: float
    valley: float = 0.0


def reduce(values: np.ndarray, dims: int, seed: int) -> np.ndarray:
    """(n, D) -> (n, min(dims, D, n - 1)) by PCA; the clustering needs the main directions, not all D."""
    from sklearn.decomposition import PCA

    dims = max(1, min(dims, values.shape[1], values.shape[0] - 1))
    return PCA(n_components=dims, random_state=seed).fit_transform(values.astype(np.float64))


def kmeans(values: np.ndarray, m: int, seed: int):
    from sklearn.cluster import KMeans

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate points make KMeans warn about fewer distinct clusters
        return KMeans(n_clusters=m, n_init=4, random_state=seed).fit(values)


def cut_ratio(assignment: np.ndarray, members: np.ndarray, neighbour_indices: np.ndarray) -> float:
    """Share of the members' within-member kNN links that join two modes, over the share expected at random.

    members: (n,) row indices into the kNN graph `neighbour_indices` (N, k+1); assignment: (n,) their modes.
    """
    position = np.full(neighbour_indices.shape[0], -1)
    position[members] = np.arange(len(members))
    linked = position[neighbour_indices[members, 1:]]
    inside = linked >= 0
    if not inside.any():
        return 1.0
    source = np.broadcast_to(assignment[:, None], linked.shape)[inside]
    crossing = np.mean(source != assignment[linked[inside]])
    shares = np.bincount(assignment) / len(assignment)
    expected = 1.0 - np.sum(shares ** 2)
    return float(crossing / expected) if expected > 0 else 1.0


def valley_depth(reduced: np.ndarray, assignment: np.ndarray, centres: np.ndarray) -> float:
    """Worst (highest) density ratio, over each mode and its nearest other mode, of the least dense spot
    between them to the lower of their peaks, along the line joining their centres. reduced: (n, d)."""
    worst = 0.0
    for a in range(len(centres)):
        gaps = np.linalg.norm(centres - centres[a], axis=1)
        gaps[a] = np.inf
        b = int(gaps.argmin())
        pair = (assignment == a) | (assignment == b)
        # t = 0 at centre a, 1 at centre b; count the points within 0.15 of each position
        t = (reduced[pair] - centres[a]) @ (centres[b] - centres[a]) / gaps[b] ** 2
        density = lambda at: np.count_nonzero(np.abs(t - at) < 0.15)  # noqa: E731
        peak = min(density(0.0), density(1.0))
        middle = min(density(at) for at in np.linspace(0.3, 0.7, 9))
        worst = max(worst, middle / peak if peak else np.inf)
    return float(worst)


def class_modes(embeddings: np.ndarray, members: np.ndarray, neighbour_indices: np.ndarray, *,
                seed: int = 0) -> Modes | None:
    """The best well-separated 2..MAX_MODES split of `embeddings[members]`, or None if the class is one mode."""
    from sklearn.metrics import silhouette_score

    n = len(members)
    min_size = max(MIN_MODE_SIZE, int(np.ceil(MIN_MODE_SHARE * n)))
    if n < 2 * min_size:
        return None
    reduced = reduce(embeddings[members], PCA_DIMS, seed)
    best = None
    for m in range(2, MAX_MODES + 1):
        if n < m * min_size:
            break
        fit = kmeans(reduced, m, seed)
        assignment = fit.labels_
        if np.bincount(assignment, minlength=m).min() < min_size:
            continue
        score = float(silhouette_score(reduced, assignment, sample_size=min(n, SILHOUETTE_SAMPLE),
                                       random_state=seed))
        if best is None or score > best.silhouette:
            best = Modes(assignment, fit.cluster_centers_, reduced, score, 1.0)
    if best is None or best.silhouette < MIN_SILHOUETTE:
        return None
    best.cut_ratio = cut_ratio(best.assignment, members, neighbour_indices)
    best.valley = valley_depth(best.reduced, best.assignment, best.centres)
    return best if best.cut_ratio <= MAX_CUT_RATIO and best.valley <= MAX_VALLEY else None


def representatives(modes: Modes, mode: int, count: int) -> np.ndarray:
    """Positions (into the members) of the `count` members closest to the mode's centre."""
    inside = np.flatnonzero(modes.assignment == mode)
    dist = np.linalg.norm(modes.reduced[inside] - modes.centres[mode], axis=1)
    return inside[np.argsort(dist, kind="stable")[:count]]


def embedding_clusters(embeddings: np.ndarray, num_clusters: int, *, seed: int = 0) -> np.ndarray:
    """(N,) KMeans cluster of every sample over a PCA reduction of the whole embedding (N, D)."""
    num_clusters = max(1, min(num_clusters, embeddings.shape[0]))
    if num_clusters == 1:
        return np.zeros(embeddings.shape[0], np.int64)
    return kmeans(reduce(embeddings, 2 * PCA_DIMS, seed), num_clusters, seed).labels_.astype(np.int64)
