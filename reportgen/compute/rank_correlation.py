"""Spearman's rank correlation that answers None instead of NaN or a warning when it is undefined."""

from __future__ import annotations

import warnings

import numpy as np

MIN_SAMPLES = 3


def spearman(x: np.ndarray, y: np.ndarray) -> dict:
    """{"rho", "p", "n"} over the pairs where both (N,) values are finite; rho/p None when undefined."""
    from scipy.stats import spearmanr

    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    keep = np.isfinite(x) & np.isfinite(y)
    n = int(keep.sum())
    # A constant column has no ranks to correlate; scipy would warn and return NaN.
    if n < MIN_SAMPLES or np.ptp(x[keep]) == 0 or np.ptp(y[keep]) == 0:
        return {"rho": None, "p": None, "n": n}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = spearmanr(x[keep], y[keep])
    rho, p = float(result.statistic), float(result.pvalue)
    return {"rho": rho if np.isfinite(rho) else None, "p": p if np.isfinite(p) else None, "n": n}
