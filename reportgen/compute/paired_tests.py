"""Did a class get worse, or is it noise? Exact McNemar on paired right/wrong outcomes, and Benjamini-Hochberg
across classes.

Two checkpoints scored on the same samples give paired outcomes: per sample, right or wrong under each. A
two-proportion z-test on the two recalls treats them as independent samples, which they are not: every sample
right (or wrong) under both models moves both proportions together and says nothing about the change, yet the
z-test's variance counts it. Only the discordant samples carry evidence, and under "no change" each of them is
equally likely to be a fix or a break, so broken ~ Binomial(fixed + broken, 1/2): McNemar's test, here exact
(the binomial tail, no chi-square approximation, which is poor for the handful of flips a class usually has).

It is not uniformly stricter than the z-test. Recall 41/50 -> 33/50 with 9 broken and 1 fixed gives p = 0.021
here and p = 0.068 from the z-test (the pairing removes the 32 samples that didn't move); the same recalls with
20 broken and 12 fixed give p = 0.22 here and still 0.068 there (a churning class whose net drop is 8 is less
surely worse). It is the test whose assumptions hold for this design, at any count.
"""

from __future__ import annotations

import math

import numpy as np


def mcnemar_exact(broken: int, fixed: int) -> float:
    """Two-sided exact McNemar p-value from the discordant counts (right -> wrong, wrong -> right).

    p = min(1, 2 P(X <= min(broken, fixed))), X ~ Binomial(broken + fixed, 1/2); 1.0 with no discordant pair.
    Integer arithmetic, so p stays exact (and honest near 0) for thousands of flips.
    """
    n, low = broken + fixed, min(broken, fixed)
    if n == 0 or broken == fixed:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(low + 1))
    return min(1.0, 2 * tail / 2 ** n)


def benjamini_hochberg(p_values) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q), in the input's order: q < 0.05 keeps the expected share of
    false discoveries among the classes flagged under 5 %. p_values: (M,) float."""
    p = np.asarray(p_values, dtype=float)
    m = len(p)
    if m == 0:
        return p
    order = np.argsort(p, kind="stable")
    scaled = p[order] * m / np.arange(1, m + 1)
    q = np.minimum.accumulate(scaled[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(q, 1.0)
    return out
