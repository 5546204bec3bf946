"""The rankings bench/bench_mislabels.py compares, its metrics and its tables. Every score: higher = more suspect.

  old blend   reportgen before issue 20: 1 - (p(label) + share of the k neighbours with the label) / 2
  cl-fli-sc   cleanlab.filter.find_label_issues ranked by self_confidence (the flagged only; others score 0)
  cl-fli-nm   the same, ranked by normalized_margin
  cl-sc/nm/cwe  1 - cleanlab.rank.get_label_quality_scores, methods self_confidence, normalized_margin,
              confidence_weighted_entropy: full rankings
  vote        1 - share of the neighbours carrying the label
  vote-dw     the same, each neighbour weighted by exp(-(d / d_k)^2), d_k the k-th neighbour's distance
  nbr-p       1 - mean over the neighbours of the model's p(this sample's label) (their predictions, not labels)
  smooth      1 - (p(label) + nbr-p's mean) / 2: the model's probability smoothed over the neighbourhood
  cl-thr      1 - p(label) / t_label, t_c the mean p(c) of the samples labelled c (confident learning)
  thr-blend   old blend with p(label) / t_label (capped at 1) in place of p(label)
  adaptive    1 - ((1 - w) p + w vote), w = half the neighbours' own label agreement (separable regions: w
              near 1/2; overlapping ones lean on the model)
  rankfuse    mean of the percentile ranks of 1 - p(label) and of 1 - vote
  max         max(1 - p(label), 1 - vote)
  reportgen   reportgen/mislabel_scores.py (issue 20): 1 - p(label) on held-out rows; on rows the model was
              trained on, 1 - (vote + nbr-p's mean) / 2
  rg-nosplit  the same when the report can't tell which rows were trained on: the weaker witness decides
"""

from __future__ import annotations

import numpy as np

from reportgen.compute.mislabel_scores import mislabel_scores


def vote_shares(labels: np.ndarray, others: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """(N,) weighted share of each sample's neighbours (`others`: (N, k)) that carry its label."""
    same = labels[others] == labels[:, None]
    weights = np.ones(others.shape) if weights is None else weights
    return (same * weights).sum(1) / np.maximum(weights.sum(1), 1e-12)


def percentile_rank(score: np.ndarray) -> np.ndarray:
    from scipy.stats import rankdata

    return rankdata(score) / len(score)


def ranked_issue_score(issues: np.ndarray, n: int) -> np.ndarray:
    score = np.zeros(n)
    score[issues] = 1.0 - np.arange(len(issues)) / max(len(issues), 1) * 0.5  # flagged: 1 .. 0.5, in order
    return score


def all_scores(labels: np.ndarray, probs: np.ndarray, neighbours, fitted: np.ndarray) -> dict[str, np.ndarray]:
    """`fitted`: (N,) bool, the rows the model was trained on."""
    from cleanlab.filter import find_label_issues
    from cleanlab.rank import get_label_quality_scores

    n, num_classes = probs.shape
    rows = np.arange(n)
    others, dist = neighbours.indices[:, 1:], neighbours.distances[:, 1:].astype(np.float64)
    p = probs[rows, labels]
    vote = vote_shares(labels, others)
    kernel = np.exp(-(dist / np.maximum(dist[:, -1:], 1e-12)) ** 2)
    nbr_p = probs[others, labels[:, None]].mean(1)
    t = np.array([p[labels == c].mean() if (labels == c).any() else 1.0 for c in range(num_classes)])
    p_rel = np.minimum(p / t[labels], 1.0)
    purity = vote[others].mean(1)  # how much the neighbours' own neighbourhoods agree with their labels
    w = purity / 2
    scores = {
        "old blend": 1 - (p + vote) / 2,
        "cl-fli-sc": ranked_issue_score(find_label_issues(labels, probs, return_indices_ranked_by="self_confidence",
                                                          n_jobs=1), n),
        "cl-fli-nm": ranked_issue_score(find_label_issues(labels, probs, return_indices_ranked_by="normalized_margin",
                                                          n_jobs=1), n),
    }
    for method, short in (("self_confidence", "cl-sc"), ("normalized_margin", "cl-nm"),
                          ("confidence_weighted_entropy", "cl-cwe")):
        scores[short] = 1 - get_label_quality_scores(labels, probs, method=method)
    scores.update({
        "vote": 1 - vote,
        "vote-dw": 1 - vote_shares(labels, others, kernel),
        "nbr-p": 1 - nbr_p,
        "smooth": 1 - (p + nbr_p) / 2,
        "cl-thr": 1 - p / t[labels],
        "thr-blend": 1 - (p_rel + vote) / 2,
        "adaptive": 1 - ((1 - w) * p + w * vote),
        "rankfuse": (percentile_rank(1 - p) + percentile_rank(1 - vote)) / 2,
        "max": np.maximum(1 - p, 1 - vote),
        "reportgen": mislabel_scores(labels, probs, neighbours.indices, fitted=fitted).score,
        "rg-nosplit": mislabel_scores(labels, probs, neighbours.indices).score,
    })
    return scores


def evaluate(score: np.ndarray, is_flip: np.ndarray) -> dict[str, float]:
    """precision@k (k = number of flips; ties broken by index, as a stable sort would), AUROC, AP."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    k = int(is_flip.sum())
    top = np.argsort(-score, kind="stable")[:k]
    return {"p@k": float(is_flip[top].mean()), "auroc": float(roc_auc_score(is_flip, score)),
            "ap": float(average_precision_score(is_flip, score))}


def print_tables(results: list[dict], seeds: int) -> None:
    methods = list(results[0]["metrics"])
    width = max(map(len, methods)) + 1
    cases = list(dict.fromkeys((r["dataset"], r["case"]) for r in results))
    for metric in ("p@k", "auroc", "ap"):
        print(f"\n{metric}, mean over {seeds} seeds (k = flips among the ranked samples)")
        print(f"{'data / case':26s}{'k':>5s} " + "".join(f"{m:>{width}s}" for m in methods))
        means = []
        for dataset, case in cases:
            mine = [r for r in results if (r["dataset"], r["case"]) == (dataset, case)]
            row = [np.mean([r["metrics"][m][metric] for r in mine]) for m in methods]
            means.append(row)
            label = f"{dataset} / {case}"
            print(f"{label:26s}{np.mean([r['k'] for r in mine]):5.0f} " + "".join(f"{v:{width}.3f}" for v in row))
        print(f"{'mean over cases':26s}{'':5s} " + "".join(f"{v:{width}.3f}" for v in np.mean(means, axis=0)))
    for dataset in dict.fromkeys(r["dataset"] for r in results):
        mine = [r for r in results if r["dataset"] == dataset]
        memorised = [r["memorised"] for r in mine if "memorised" in r]
        print(f"{dataset}: clean CNN val accuracy {np.mean([r['accuracy'] for r in mine]):.3f}; "
              f"memorised run fits {np.mean(memorised):.0%} of its train flips")
