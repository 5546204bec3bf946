"""An order of the classes that puts classes the model confuses with each other next to each other, so the
confusion heatmap of many classes shows its confusions as blocks near the diagonal instead of scattered dots."""

from __future__ import annotations

import numpy as np

LINKAGE_MAX_CLASSES = 2000  # average linkage needs K^2 / 2 distances: 16 MB at 2,000 classes


def confusion_similarity(matrix: np.ndarray) -> np.ndarray:
    """(K, K) symmetric confusion rate between classes: confusions both ways over both classes' samples."""
    off = matrix.astype(np.float64)
    np.fill_diagonal(off, 0.0)
    both = off + off.T
    counts = matrix.sum(axis=1).astype(np.float64)
    total = counts[:, None] + counts[None, :]
    return np.divide(both, total, out=np.zeros_like(both), where=total > 0)


def confusion_order(matrix: np.ndarray) -> list[int]:
    """Class indices ordered by confusion: `matrix` (K, K), rows true. Unconfused classes keep index order."""
    k = matrix.shape[0]
    off = matrix.copy()
    np.fill_diagonal(off, 0)
    if k < 3 or not off.any():
        return list(range(k))
    if k <= LINKAGE_MAX_CLASSES:
        return _linkage_order(confusion_similarity(matrix))
    return _component_order(off)


def _linkage_order(similarity: np.ndarray) -> list[int]:
    """Leaves of an average-linkage tree on 1 - similarity: the most confused pairs merge first."""
    from scipy.cluster.hierarchy import leaves_list, linkage
    from scipy.spatial.distance import squareform

    distance = 1.0 - similarity / similarity.max()
    np.fill_diagonal(distance, 0.0)
    return [int(i) for i in leaves_list(linkage(squareform(distance, checks=False), method="average"))]


def _component_order(off: np.ndarray) -> list[int]:
    """Above LINKAGE_MAX_CLASSES: connected groups of confused classes, largest first, each in reverse
    Cuthill-McKee order (a sparse ordering that keeps linked classes close); unconfused classes last."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components, reverse_cuthill_mckee

    graph = csr_matrix((off + off.T) > 0)
    count, component = connected_components(graph, directed=False)
    sizes = np.bincount(component, minlength=count)
    order: list[int] = []
    for c in sorted(range(count), key=lambda c: (-sizes[c], c)):
        members = np.flatnonzero(component == c)
        if sizes[c] == 1:
            continue
        local = reverse_cuthill_mckee(graph[members][:, members], symmetric_mode=True)
        order.extend(int(i) for i in members[local])
    order.extend(int(i) for i in np.flatnonzero(sizes[component] == 1))
    return order
