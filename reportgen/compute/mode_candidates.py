"""Candidate modes inside one class and the three numbers that say whether one is real.

Candidates are the clusters of the class's HDBSCAN hierarchy: the single-linkage tree over mutual reachability
distances in the full embedding (each member's distance to its MIN_SAMPLES-th nearest class-mate smooths out
noise). Each split of the tree into two parts of at least `min_size` makes both parts candidates, so a mode of
ten samples in a class of a thousand is one as surely as a 40% mode is. Single linkage chains: a large mode
joined to the rest by a few stray points comes out ragged, or not at all. So the class's kNN graph is also cut
where its two leading spectral directions cut it best (spectral bisection, the large modes' way), and each
candidate is then refined to the members whose nearest class-mates are mostly inside it (kNN majority).
"""

from __future__ import annotations

import numpy as np

MIN_SAMPLES = 5  # HDBSCAN's min_samples
REFINE_ROUNDS = 5
SPECTRAL_FROM = 100  # smaller classes are left to the tree: ~10 ms of eigsh each would cost 10 s at K = 1,000


def pairwise_distances(x: np.ndarray) -> np.ndarray:
    """(n, D) -> (n, n) Euclidean distances, float32 (centred first: the Gram trick loses less to rounding)."""
    x = x.astype(np.float32)
    x = x - x.mean(0)
    squared = (x * x).sum(1)
    d2 = squared[:, None] + squared[None, :] - 2 * (x @ x.T)
    np.maximum(d2, 0, out=d2)
    np.fill_diagonal(d2, 0)
    return np.sqrt(d2, out=d2)


def nearest_within(distances: np.ndarray, k: int) -> np.ndarray:
    """(n, n) distances -> (n, k) positions of each member's k nearest others, nearest first."""
    n = len(distances)
    k = min(k, n - 1)
    d = distances.copy()
    np.fill_diagonal(d, np.inf)
    part = np.argpartition(d, k - 1, axis=1)[:, :k]
    order = np.argsort(np.take_along_axis(d, part, 1), axis=1, kind="stable")
    return np.take_along_axis(part, order, 1)


def tree_candidates(distances: np.ndarray, within: np.ndarray, min_size: int) -> list[np.ndarray]:
    """Positions of every cluster born at a split of the HDBSCAN tree into two parts >= min_size.

    distances: (n, n); within: (n, k) from nearest_within.
    """
    from scipy.cluster.hierarchy import leaves_list, linkage
    from scipy.spatial.distance import squareform

    n = len(distances)
    core = distances[np.arange(n), within[:, min(MIN_SAMPLES, within.shape[1]) - 1]]
    reach = np.maximum(distances, np.maximum(core[:, None], core[None, :]))
    np.fill_diagonal(reach, 0)
    tree = linkage(squareform(reach, checks=False), method="single")
    order = leaves_list(tree)
    # A node's leaves are contiguous in the dendrogram order: node -> (start, size), from the root down.
    size = np.concatenate([np.ones(n, np.int64), tree[:, 3].astype(np.int64)])
    start = np.zeros(2 * n - 1, np.int64)
    groups = []
    for node in range(2 * n - 2, n - 1, -1):
        left, right = int(tree[node - n, 0]), int(tree[node - n, 1])
        start[left], start[right] = start[node], start[node] + size[left]
        if size[left] >= min_size and size[right] >= min_size:
            groups += [order[start[i]:start[i] + size[i]] for i in (left, right)]
    return groups


def spectral_candidates(within: np.ndarray, min_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Both sides of the lowest-conductance sweep cut along each of the kNN graph's two leading non-trivial
    eigenvectors (normalised adjacency); within: (n, k) as from nearest_within."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.linalg import eigsh

    n, k = within.shape
    if n < SPECTRAL_FROM:
        return []
    graph = coo_matrix((np.ones(n * k), (np.repeat(np.arange(n), k), within.ravel())), shape=(n, n)).tocsr()
    graph = ((graph + graph.T) > 0).astype(np.float64)
    degree = np.asarray(graph.sum(1)).ravel()
    scale = 1 / np.sqrt(degree)
    normalised = graph.multiply(scale[:, None]).multiply(scale[None, :]).tocsr()
    values, vectors = eigsh(normalised, k=3, which="LA", v0=rng.uniform(0.5, 1.5, n))
    vectors = vectors[:, np.argsort(values)[:2]]  # the largest (1, sqrt(degree)) says nothing
    edges = graph.tocoo()
    upper = edges.row < edges.col
    groups = []
    for vector in vectors.T:
        order = np.argsort(vector * scale, kind="stable")
        position = np.empty(n, np.int64)
        position[order] = np.arange(n)
        first = np.minimum(position[edges.row[upper]], position[edges.col[upper]])
        last = np.maximum(position[edges.row[upper]], position[edges.col[upper]])
        # edges cut by the prefix of length i: first < i <= last
        cut = np.cumsum(np.bincount(first, minlength=n) - np.bincount(last, minlength=n))[:-1]
        volume = np.cumsum(degree[order])[:-1]
        conductance = cut / np.minimum(volume, degree.sum() - volume)
        sizes = np.arange(1, n)
        conductance[(sizes < min_size) | (sizes > n - min_size)] = np.inf
        best = int(np.argmin(conductance)) + 1
        if np.isfinite(conductance[best - 1]):
            groups += [order[:best], order[best:]]
    return groups


def refine(inside: np.ndarray, within: np.ndarray) -> np.ndarray:
    """(n,) bool -> the members most of whose min(k, size - 1) nearest class-mates are inside, a few rounds."""
    for _ in range(REFINE_ROUNDS):
        size = int(inside.sum())
        if size < 2:
            break
        new = inside[within[:, :min(within.shape[1], size - 1)]].mean(1) > 0.5
        if np.array_equal(new, inside):
            break
        inside = new
    return inside


def cut_and_incoming(inside: np.ndarray, within: np.ndarray) -> tuple[float, float]:
    """(links leaving the group, links of the rest coming in), each over the share a random group of its size
    would have: 0 for a group apart, about 1 for an arbitrary one. Members count their min(k, size - 1)
    nearest class-mates, so a group smaller than k can still be wholly apart."""
    n, size = len(inside), int(inside.sum())
    leaving = 1 - inside[within[inside, :min(within.shape[1], size - 1)]].mean()
    incoming = inside[within[~inside]].mean()
    return float(leaving / ((n - size) / (n - 1))), float(incoming / (size / (n - 1)))


def valley(x: np.ndarray, inside: np.ndarray, width: float = 0.15) -> float:
    """Density midway between the group's centre and the rest's, over the lower of the two: about 1 when the
    group is a piece cut out of one blob, near 0 when a gap separates them. x: (n, D) the class's members.

    Along the line joining the centres (t = 0 at the group's, 1 at the rest's), counts within `width`."""
    centre = x[inside].mean(0)
    direction = x[~inside].mean(0) - centre
    t = (x - centre) @ direction / max(float(direction @ direction), 1e-12)
    count = lambda at: np.count_nonzero(np.abs(t - at) < width)  # noqa: E731
    peak = min(count(0.0), count(1.0))
    middle = min(count(at) for at in np.linspace(0.3, 0.7, 9))
    return middle / peak if peak else float("inf")


def join_by_majority(x: np.ndarray, sample: np.ndarray, inside: np.ndarray, k: int = 15) -> np.ndarray:
    """Extend a mask over the sampled rows to all rows of x: a row is in when most of its k nearest sampled
    rows are (sampled rows keep their own)."""
    full = np.zeros(len(x), bool)
    full[sample] = inside
    rest = np.setdiff1d(np.arange(len(x)), sample)
    xs = x[sample].astype(np.float32)
    squared = (xs * xs).sum(1)
    for start in range(0, len(rest), 2048):
        block = x[rest[start:start + 2048]].astype(np.float32)
        d2 = squared[None, :] - 2 * block @ xs.T  # the block's own norm does not change the ranking
        nearest = np.argpartition(d2, k - 1, axis=1)[:, :k]
        full[rest[start:start + 2048]] = inside[nearest].mean(1) > 0.5
    return full
