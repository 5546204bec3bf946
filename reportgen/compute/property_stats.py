"""Numbers behind the image-properties section: distributions on shared bins, the train-vs-evaluation drift
(two-sample Kolmogorov-Smirnov), and accuracy and mean loss per fifth of each property with an exact test against
the rest (compute/slice_search.py's, with Benjamini-Hochberg over every bin of every property)."""

from __future__ import annotations

import numpy as np

from reportgen.compute.paired_tests import benjamini_hochberg
from reportgen.compute.property_bins import all_property_bins
from reportgen.compute.slice_statistics import ALPHA, fisher_greater, margin

HISTOGRAM_BINS = 30
TAIL = 0.005  # the histogram's range leaves out this share at each end (counted in the end bins)


def histogram(groups: dict[str, np.ndarray]) -> dict:
    """{edges: (B+1,), centres: (B,), shares: {group: (B,) share of the group's images}} on bins shared by every
    group.

    groups: name -> (n,) values. Few distinct values get one bin each; otherwise HISTOGRAM_BINS equal bins over
    the pooled values' central 99% (the tails fall in the end bins)."""
    pooled = np.concatenate([v for v in groups.values() if len(v)])
    distinct = np.unique(pooled)
    if len(distinct) <= HISTOGRAM_BINS // 2:
        gaps = np.diff(distinct).min() if len(distinct) > 1 else 1.0
        edges = np.concatenate([distinct - gaps / 2, [distinct[-1] + gaps / 2]])
        centres = distinct
    else:
        low, high = np.quantile(pooled, [TAIL, 1 - TAIL])
        if high <= low:
            low, high = distinct[0], distinct[-1]
        edges = np.linspace(low, high, HISTOGRAM_BINS + 1)
        centres = (edges[1:] + edges[:-1]) / 2
    shares = {}
    for name, values in groups.items():
        counts = np.bincount(np.clip(np.searchsorted(edges, values, side="right") - 1, 0, len(edges) - 2),
                             minlength=len(edges) - 1)
        shares[name] = (counts / max(len(values), 1)).tolist()
    return {"edges": edges.tolist(), "centres": np.asarray(centres).tolist(), "shares": shares}


def drift(reference: np.ndarray, target: np.ndarray) -> dict | None:
    """KS statistic and p of target against reference (both (n,)), and their medians; None if either is empty."""
    from scipy.stats import ks_2samp

    if not len(reference) or not len(target):
        return None
    test = ks_2samp(reference, target)
    return {"ks": float(test.statistic), "p": float(test.pvalue), "median_reference": float(np.median(reference)),
            "median_target": float(np.median(target))}


def accuracy_per_bin(properties: np.ndarray, rows: np.ndarray, correct: np.ndarray,
                     loss: np.ndarray) -> tuple[dict, dict]:
    """({property: [{phrase, low, high, share_low, share_high, n, accuracy, error_rate, mean_loss, p, q, worse}]},
    {property: (n,) bin of each row}) over `rows` (n,) of properties (N, P); correct, loss: (N,). `worse`: the
    bin's error rate is well above the rest's and q < ALPHA."""
    wrong = ~correct[rows]
    total, n = int(wrong.sum()), len(rows)
    base = total / n if n else 0.0
    out, codes, p_values = {}, {}, []
    for bins in all_property_bins(properties, rows):
        codes[bins.name] = bins.codes
        entries = []
        for b, phrase in enumerate(bins.phrases):
            inside = bins.codes == b
            size, errors = int(inside.sum()), int(wrong[inside].sum())
            finite = loss[rows][inside]
            finite = finite[np.isfinite(finite)]
            p = float(fisher_greater(errors, size, total, n)) if 0 < total and errors / size > base else 1.0
            p_values.append(p)
            entries.append({"phrase": phrase, "low": bins.ranges[b][0], "high": bins.ranges[b][1],
                            "share_low": bins.shares[b][0], "share_high": bins.shares[b][1], "n": size,
                            "accuracy": 1 - errors / size, "error_rate": errors / size,
                            "mean_loss": float(finite.mean()) if finite.size else None, "p": p})
        out[bins.name] = entries
    q = iter(benjamini_hochberg(p_values))
    for entries in out.values():
        for entry in entries:
            entry["q"] = float(next(q))
            entry["worse"] = bool(entry["q"] < ALPHA and entry["error_rate"] >= base + margin(base))
    return out, codes
