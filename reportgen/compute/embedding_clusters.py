"""A cheap partition of the embedding into regions, as one more feature to slice by: PCA to a few dimensions and
k-means (one seeded start, at most 50 Lloyd iterations), both fitted on a seeded subset of FIT_ROWS and applied to
every row, so 200,000 rows cost about a second. Regions, not a clustering to interpret: the ring on the projection
shows where each lies."""

from __future__ import annotations

import numpy as np

FIT_ROWS = 20_000
PCA_DIMS = 16
CHUNK = 50_000


def cluster_count(n: int) -> int:
    """About sqrt(n) / 2, between 4 and 40: regions large enough to be slices, few enough to name."""
    return int(np.clip(round(np.sqrt(n) / 2), 4, 40))


def embedding_clusters(embeddings: np.ndarray, *, seed: int = 0, clusters: int | None = None) -> np.ndarray:
    """(n,) int cluster of each row. embeddings: (n, D) float32."""
    from sklearn.cluster import KMeans
    from sklearn.decomposition import PCA

    n = len(embeddings)
    k = min(clusters or cluster_count(n), n)
    rng = np.random.default_rng(seed)
    fit = embeddings[np.sort(rng.choice(n, FIT_ROWS, replace=False))] if n > FIT_ROWS else embeddings
    dims = min(PCA_DIMS, fit.shape[1], len(fit))
    pca = PCA(dims, svd_solver="randomized" if fit.shape[1] > 4 * dims else "full", random_state=seed).fit(fit)
    kmeans = KMeans(k, n_init=1, max_iter=50, random_state=seed).fit(pca.transform(fit))
    return np.concatenate([kmeans.predict(pca.transform(embeddings[start:start + CHUNK]))
                           for start in range(0, n, CHUNK)]).astype(np.int64)
