"""How far each sample lies from the rest: the mean distance to its K nearest neighbours (cleanlab Datalab's
`outlier` score before its exponential squashing), divided by the median over all samples, so 1 is typical and
3 is three times as isolated as the typical sample. Computed from any kNN graph: the embedding's (what the model
makes of the image) and the raw pixels' (how it looks).

Flagged: beyond Q3 + FENCE x IQR of the scores (Tukey's fence, which looks at the spread of the bulk, not at
the tail it is meant to judge; cleanlab's default is 1.7 IQR on the same distances).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

K = 10  # neighbours averaged (cleanlab Datalab's outlier default)
FENCE = 1.5


@dataclass
class OutlierScores:
    score: np.ndarray  # (N,) mean kNN distance / its median
    fence: float  # Q3 + FENCE x IQR of `score`

    @property
    def flagged(self) -> np.ndarray:
        return self.score > self.fence


def knn_outlier_scores(distances: np.ndarray, *, k: int = K, fence: float = FENCE, fitted=None) -> OutlierScores:
    """distances: (N, k'+1) ascending kNN distances, column 0 the sample itself; fitted: (N,) bool, the rows whose
    scores set the median and the fence (None: all)."""
    mean = distances[:, 1:k + 1].mean(axis=1).astype(np.float64)
    basis = mean if fitted is None else mean[fitted]
    median = float(np.median(basis)) if basis.size else 0.0
    score = mean / median if median > 0 else np.zeros_like(mean)
    q1, q3 = np.quantile(score if fitted is None else score[fitted], [0.25, 0.75]) if basis.size else (0.0, 0.0)
    return OutlierScores(score, float(q3 + fence * (q3 - q1)))
