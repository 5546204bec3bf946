"""The rankings bench/bench_mislabels.py compares, its metrics and its tables. Every score: higher = more suspect.

  before      reportgen on main before this change: 1 - p(label) on held-out rows, 1 - (vote + nbr-p) / 2 on
              trained-on rows, the weaker of the two where no split is named train (the val-only case)
  reportgen   reportgen/compute/mislabel_scores.py now, told the splits the report would see
  rg-unknown  the same when the report can't tell which rows were trained on: the weaker witness decides
  cleanlab (the "cleanlab best" column takes, per row, the one with the best mean precision@k):
    cl-sc, cl-nm, cl-cwe   1 - cleanlab.rank.get_label_quality_scores, self_confidence, normalized_margin,
                           confidence_weighted_entropy
    cl-sc-adj, cl-nm-adj   the same with adjust_pred_probs=True (per-class thresholds subtracted first)
    cl-fli-sc, cl-fli-nm   cleanlab.filter.find_label_issues (confident learning, prune_by_noise_rate) ranked by
                           self_confidence or normalized_margin; the flagged only, others score 0
  ablations (--all):
    no-noise-order   reportgen with the model's rows ordered by p(label) instead of the noise-aware posterior
    no-vote-order    reportgen with the neighbours' rows ordered by their support instead of the vote
    share 0.2/0.8    reportgen's posterior with the uniform share of the noise matrix at 0.2 / 0.8 (default 0.5)
    posterior        the posterior itself on the model's rows, not handed out on the 1 - p scale
    vote, vote-dw    1 - share of the neighbours carrying the label; distance-weighted by exp(-(d / d_k)^2)
    cl-thr           1 - p(label) / t_label, t_c the mean p(c) of the rows labelled c (a per-class threshold)
"""

from __future__ import annotations

import numpy as np

from reportgen.compute.mislabel_scores import handed_out, mislabel_scores
from reportgen.compute.noise_matrix import confident_joint, label_wrong

CLEANLAB = ("cl-sc", "cl-nm", "cl-cwe", "cl-sc-adj", "cl-nm-adj", "cl-fli-sc", "cl-fli-nm")


def vote_shares(labels: np.ndarray, others: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """(N,) weighted share of each sample's neighbours (`others`: (N, k)) that carry its label."""
    same = labels[others] == labels[:, None]
    weights = np.ones(others.shape) if weights is None else weights
    return (same * weights).sum(1) / np.maximum(weights.sum(1), 1e-12)


def ranked_issue_score(issues: np.ndarray, n: int) -> np.ndarray:
    score = np.zeros(n)
    score[issues] = 1.0 - np.arange(len(issues)) / max(len(issues), 1) * 0.5  # flagged: 1 .. 0.5, in order
    return score


def before(labels: np.ndarray, probs: np.ndarray, others: np.ndarray, fitted: np.ndarray | None) -> np.ndarray:
    p = probs[np.arange(len(labels)), labels]
    support = (vote_shares(labels, others) + probs[others, labels[:, None]].mean(1)) / 2
    use_neighbours = support < p if fitted is None else fitted
    return 1 - np.where(use_neighbours, support, p)


def cleanlab_scores(labels: np.ndarray, probs: np.ndarray) -> dict[str, np.ndarray]:
    from cleanlab.filter import find_label_issues
    from cleanlab.rank import get_label_quality_scores

    scores = {}
    for method, short in (("self_confidence", "sc"), ("normalized_margin", "nm"),
                          ("confidence_weighted_entropy", "cwe")):
        scores[f"cl-{short}"] = 1 - get_label_quality_scores(labels, probs, method=method)
        if short != "cwe":  # cleanlab does not adjust confidence-weighted entropy
            scores[f"cl-{short}-adj"] = 1 - get_label_quality_scores(labels, probs, method=method,
                                                                     adjust_pred_probs=True)
    for method, short in (("self_confidence", "sc"), ("normalized_margin", "nm")):
        issues = find_label_issues(labels, probs, return_indices_ranked_by=method, n_jobs=1)
        scores[f"cl-fli-{short}"] = ranked_issue_score(issues, len(labels))
    return {name: scores[name] for name in CLEANLAB}


def all_scores(labels: np.ndarray, probs: np.ndarray, neighbours, fitted: np.ndarray | None, *,
               ablations: bool = False) -> dict[str, np.ndarray]:
    """`fitted`: (N,) bool, the rows the model was trained on, as reportgen's fitted_rows gives it for the splits
    the report sees (all False for a val-only report); `before` gets None there, as main's fitted_rows gave."""
    n = len(labels)
    others = neighbours.indices[:, 1:]
    old_fitted = None if fitted is None or not fitted.any() else fitted
    ours = mislabel_scores(labels, probs, neighbours.indices, fitted=fitted)
    scores = {"before": before(labels, probs, others, old_fitted), "reportgen": ours.score,
              "rg-unknown": mislabel_scores(labels, probs, neighbours.indices).score, **cleanlab_scores(labels, probs)}
    if not ablations:
        return scores
    p, vote = ours.model_label, ours.neighbours_label
    support = (vote + ours.neighbours_model_label) / 2
    model_rows, neighbour_rows = np.flatnonzero(ours.basis == 0), np.flatnonzero(ours.basis == 1)

    def reordered(model_key=None, neighbour_key=None) -> np.ndarray:
        score = ours.score.copy()
        if model_key is not None and model_rows.size:
            score[model_rows] = handed_out(1 - p, model_rows, model_key, 1 - p)
        if neighbour_key is not None and neighbour_rows.size:
            score[neighbour_rows] = handed_out(1 - support, neighbour_rows, neighbour_key, 1 - support)
        return score

    scores["no-noise-order"] = reordered(model_key=1 - p)
    scores["no-vote-order"] = reordered(neighbour_key=1 - support)
    if model_rows.size:
        noise = confident_joint(labels, probs, model_rows if fitted is not None else np.arange(n))
        for share in (0.2, 0.8):
            wrong = np.zeros(n)
            wrong[model_rows] = label_wrong(labels, probs, model_rows, noise, uniform_share=share)
            scores[f"share {share}"] = reordered(model_key=wrong)
    posterior = ours.score.copy()
    posterior[model_rows] = ours.model_wrong[model_rows]
    scores["posterior"] = posterior
    dist = neighbours.distances[:, 1:].astype(np.float64)
    kernel = np.exp(-(dist / np.maximum(dist[:, -1:], 1e-12)) ** 2)
    scores["vote"] = 1 - vote
    scores["vote-dw"] = 1 - vote_shares(labels, others, kernel)
    t = np.bincount(labels, weights=p, minlength=probs.shape[1]) / np.maximum(np.bincount(labels, minlength=probs.shape[1]), 1)
    scores["cl-thr"] = 1 - p / np.maximum(t[labels], 1e-12)
    return scores


def evaluate(score: np.ndarray, is_flip: np.ndarray) -> dict[str, float]:
    """precision@k (k = number of flips; ties broken by index, as a stable sort would), AUROC, AP."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    k = int(is_flip.sum())
    top = np.argsort(-score, kind="stable")[:k]
    return {"p@k": float(is_flip[top].mean()), "auroc": float(roc_auc_score(is_flip, score)),
            "ap": float(average_precision_score(is_flip, score))}


def spread(values) -> str:
    values = np.asarray(values, dtype=np.float64)
    return f"{values.mean():.3f}±{values.std(ddof=1) if len(values) > 1 else 0:.3f}"


def paired(ours, theirs) -> str:
    """Mean difference over seeds and twice its standard error; '*' where the difference exceeds that."""
    diff = np.asarray(ours) - np.asarray(theirs)
    half = 2 * diff.std(ddof=1) / np.sqrt(len(diff)) if len(diff) > 1 else float("nan")
    return f"{diff.mean():+.3f}±{half:.3f}{'*' if abs(diff.mean()) > half else ' '}"


def print_tables(results: list[dict], seeds: int, *, ablations: bool = False) -> None:
    cases = list(dict.fromkeys((r["dataset"], r["case"]) for r in results))
    print(f"\nprecision@k (k = planted flips among the ranked samples) and AP: mean ± standard deviation over {seeds} "
          f"seeds;\nvs = reportgen - cleanlab best (the cleanlab ranking with the best mean p@k on that row), paired "
          f"by seed, ± 2 standard errors, * beyond that")
    print(f"{'data / case':25s}{'k':>4s} {'before p@k':>12s} {'reportgen p@k':>14s} {'reportgen AP':>13s} "
          f"{'cleanlab best p@k':>24s} {'vs cleanlab':>15s} {'vs before':>15s}")
    for dataset, case in cases:
        mine = [r for r in results if (r["dataset"], r["case"]) == (dataset, case)]
        column = {m: [r["metrics"][m]["p@k"] for r in mine] for m in mine[0]["metrics"]}
        best = max(CLEANLAB, key=lambda m: np.mean(column[m]))
        ours = column["reportgen"]
        print(f"{dataset + ' / ' + case:25s}{np.mean([r['k'] for r in mine]):4.0f} {spread(column['before']):>12s} "
              f"{spread(ours):>14s} {spread([r['metrics']['reportgen']['ap'] for r in mine]):>13s} "
              f"{spread(column[best]) + ' ' + best:>24s} {paired(ours, column[best]):>15s} "
              f"{paired(ours, column['before']):>15s}")
    for dataset in dict.fromkeys(r["dataset"] for r in results):
        mine = [r for r in results if r["dataset"] == dataset]
        memorised = [r["memorised"] for r in mine if "memorised" in r]
        print(f"{dataset}: clean CNN val accuracy {np.mean([r['accuracy'] for r in mine]):.3f}"
              + (f"; memorised run fits {np.mean(memorised):.0%} of its train flips" if memorised else ""))
    if ablations:
        methods = list(results[0]["metrics"])
        width = max(map(len, methods)) + 1
        for metric in ("p@k", "ap"):
            print(f"\n{metric}, every ranking, mean over {seeds} seeds")
            print(f"{'data / case':25s}" + "".join(f"{m:>{width}s}" for m in methods))
            means = []
            for dataset, case in cases:
                mine = [r for r in results if (r["dataset"], r["case"]) == (dataset, case)]
                means.append([np.mean([r["metrics"][m][metric] for r in mine]) for m in methods])
                print(f"{dataset + ' / ' + case:25s}" + "".join(f"{v:{width}.3f}" for v in means[-1]))
            print(f"{'mean over rows':25s}" + "".join(f"{v:{width}.3f}" for v in np.mean(means, axis=0)))
