"""The statistics a slice is judged by (compute/slice_search.py) and the image-properties section reuses for its
fifths: the exact test, how far above the overall an error rate must be, and the scores that rank slices."""

from __future__ import annotations

import numpy as np

ALPHA = 0.01  # q: with errors spread at random, 2 data sets in 300 showed a slice (bench/bench_slices.py)
MIN_EXCESS = 0.05
SLICELINE_ALPHA = 0.95


def margin(base):
    """How far above `base` an error rate must be to count as well above it."""
    return np.maximum(MIN_EXCESS, 0.5 * np.minimum(base, 1 - base))


def fisher_greater(errors, size, total_errors, total):
    """One-sided Fisher's exact p: P(X >= errors), X ~ Hypergeometric(total rows, total_errors, size drawn)."""
    from scipy.stats import hypergeom

    errors, size = np.asarray(errors), np.asarray(size)
    return np.asarray(hypergeom.sf(errors - 1, total, total_errors, size), dtype=np.float64).clip(0.0, 1.0)


def sliceline_score(rate, base: float, size, n: int):
    """SliceLine's score: alpha (rate / base - 1) - (1 - alpha) (n / size - 1), alpha = SLICELINE_ALPHA."""
    return SLICELINE_ALPHA * (np.asarray(rate) / base - 1) - (1 - SLICELINE_ALPHA) * (n / np.asarray(size) - 1)


def p_text(p: float) -> str:
    """'= 3e-05' to follow 'p' or 'q', or '< 1e-300' where the float underflowed to 0 (0 would claim certainty)."""
    return f"= {p:.1g}" if p > 0 else "< 1e-300"


def slice_severity(rate: float, base: float) -> str:
    """high: at least double the overall error and 15 points above it; medium otherwise."""
    return "high" if rate >= base + max(0.15, base) else "medium"


def slice_score(rate: float, base: float, size: int, n: int) -> float:
    """The digest's score in [0, 1]: the share of the headroom above the overall error the slice loses, weighted
    toward larger slices (full weight at a tenth of the data)."""
    return min(1.0, (rate - base) / max(1 - base, 1e-9)) * (0.5 + 0.5 * min(1.0, size / (0.1 * n)))
