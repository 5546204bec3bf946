"""Suspected-mislabel ranking: its properties, precision@k against cleanlab on planted cases (memorised flips,
look-alike flips in overlapping classes: pairs, and a ring where each class overlaps two), and its memory at
K = 1,000."""

import json
import tracemalloc

import numpy as np
import pytest
from collected_factory import make_collected

from reportgen.analyses import mislabels
from reportgen.compute.mislabel_scores import fitted_rows, mislabel_scores, precision_at_k, ranked_suspects
from reportgen.compute.neighbours import nearest_neighbours
from reportgen.render.report_json import dumps_json


def memorised_flips(seed: int = 0, n: int = 600, k: int = 4, share: float = 0.1):
    """Embeddings clustered by the TRUE class; labels with `share` flipped; a model that memorised half the
    flips (confident in the wrong given label), as any model is on its own training split."""
    rng = np.random.default_rng(seed)
    truth = np.arange(n) % k
    embeddings = (rng.normal(0, 6, (k, 16))[truth] + rng.normal(0, 1, (n, 16))).astype(np.float32)
    labels = truth.copy()
    flipped = rng.choice(n, int(share * n), replace=False)
    labels[flipped] = (truth[flipped] + rng.integers(1, k, len(flipped))) % k
    probs = np.full((n, k), 0.05)
    probs[np.arange(n), truth] = 0.85
    probs += rng.uniform(0, 0.3, (n, k))  # some ambiguous clean samples too
    memorised = flipped[: len(flipped) // 2]
    probs[memorised] = 0.03
    probs[memorised, labels[memorised]] = 0.91
    probs /= probs.sum(axis=1, keepdims=True)
    return labels, probs, embeddings, flipped


def overlapping_pairs(seed: int, n: int = 1200, k: int = 6, d: int = 8, gap: float = 1.6):
    """Three pairs of Gaussian classes whose centres are `gap` apart (unit spread: they overlap); the model is the
    exact posterior, as a model trained on clean data would be at best; the last third is held out and 10% of
    its labels moved to the other class of their pair."""
    rng = np.random.default_rng(seed)
    truth = np.arange(n) % k
    offset = rng.normal(0, 1, (k // 2, d))
    offset *= gap / 2 / np.linalg.norm(offset, axis=1, keepdims=True)
    centres = np.repeat(rng.normal(0, 6, (k // 2, d)), 2, axis=0) + np.stack([offset, -offset], 1).reshape(k, d)
    x = centres[truth] + rng.normal(0, 1, (n, d))
    logits = -((x[:, None, :] - centres[None]) ** 2).sum(-1) / 2
    probs = np.exp(logits - logits.max(1, keepdims=True))
    probs /= probs.sum(1, keepdims=True)
    fitted = np.arange(n) < 2 * n // 3
    labels = truth.copy()
    flipped = rng.choice(np.flatnonzero(~fitted), (n - fitted.sum()) // 10, replace=False)
    labels[flipped] ^= 1
    return labels, probs, x.astype(np.float32), fitted, flipped


def ring_of_classes(seed: int, n: int = 2400, k: int = 6, d: int = 4, radius: float = 3.0):
    """Six Gaussian classes on a circle, each overlapping BOTH its neighbours (unit spread); the model is the exact
    posterior of a model trained elsewhere on clean data; 10% of these (held-out) labels moved one way round the
    ring (c -> c + 1), as annotators confuse a class with one look-alike. A label y whose model doubt points to
    y - 1 (the class that gets mislabelled y) is likelier wrong than one whose doubt points to y + 1:
    self-confidence can't tell them apart, the noise matrix can."""
    rng = np.random.default_rng(seed)
    truth = np.arange(n) % k
    angle = 2 * np.pi * np.arange(k) / k
    centres = np.zeros((k, d))
    centres[:, 0], centres[:, 1] = radius * np.cos(angle), radius * np.sin(angle)
    x = centres[truth] + rng.normal(0, 1, (n, d))
    logits = -((x[:, None, :] - centres[None]) ** 2).sum(-1) / 2
    probs = np.exp(logits - logits.max(1, keepdims=True))
    probs /= probs.sum(1, keepdims=True)
    labels = truth.copy()
    flipped = rng.choice(n, n // 10, replace=False)
    labels[flipped] = (truth[flipped] + 1) % k
    return labels, probs, x.astype(np.float32), flipped


def ranked(score: np.ndarray) -> np.ndarray:
    return np.argsort(-score, kind="stable")


def test_evidence_fields_are_shares_of_the_neighbours_labels_without_self():
    labels = np.array([0, 0, 1, 1])
    indices = np.array([[0, 1, 2], [1, 0, 3], [2, 3, 0], [3, 2, 1]])
    probs = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.4, 0.6]])
    scores = mislabel_scores(labels, probs, indices)
    np.testing.assert_allclose(scores.neighbours_label, 0.5)
    np.testing.assert_allclose(scores.neighbours_suggested, 0.5)
    np.testing.assert_allclose(scores.model_label, [0.9, 0.8, 0.7, 0.6])
    np.testing.assert_allclose(scores.neighbours_model_label, [(0.8 + 0.3) / 2, (0.9 + 0.4) / 2,
                                                               (0.6 + 0.1) / 2, (0.7 + 0.2) / 2])


def test_the_witness_follows_the_split_the_model_was_trained_on():
    """Each witness's rows keep its plain scale (1 - p on held-out rows, 1 - support on trained-on rows), handed
    out in the witness's sharper order: the noise-aware posterior, and the neighbours' vote."""
    labels, probs, embeddings, fitted, _ = overlapping_pairs(0, n=300)
    indices = nearest_neighbours(embeddings, 15).indices
    scores = mislabel_scores(labels, probs, indices, fitted=fitted)
    p = probs[np.arange(len(labels)), labels]
    support = (scores.neighbours_label + scores.neighbours_model_label) / 2
    np.testing.assert_allclose(np.sort(scores.score[~fitted]), np.sort(1 - p[~fitted]))
    np.testing.assert_allclose(np.sort(scores.score[fitted]), np.sort(1 - support[fitted]))
    held, trained = np.flatnonzero(~fitted), np.flatnonzero(fitted)
    assert np.all(np.diff(scores.score[held[np.lexsort((1 - p[held], scores.model_wrong[held]))]]) >= 0)
    by_vote = trained[np.lexsort((1 - support[trained], 1 - scores.neighbours_label[trained]))]
    assert np.all(np.diff(scores.score[by_vote]) >= 0)
    assert np.isnan(scores.model_wrong[fitted]).all() and (scores.model_wrong[~fitted] >= 0).all()
    assert set(np.unique(scores.basis[fitted])) == {1} and set(np.unique(scores.basis[~fitted])) == {0}
    unknown = mislabel_scores(labels, probs, indices)
    np.testing.assert_array_equal(unknown.basis, support < p)
    np.testing.assert_allclose(np.sort(unknown.score), np.sort(1 - np.minimum(p, support)))


def test_training_splits_are_found_by_name():
    split = np.array([0, 1, 1, 2])
    np.testing.assert_array_equal(fitted_rows(split, ["Train", "val", "test"]), [True, False, False, False])
    np.testing.assert_array_equal(fitted_rows(split, ["val", "Test", "validation"]), [False] * 4)
    assert fitted_rows(split, ["val", "test", "other"]) is None


def test_look_alike_flips_in_a_ring_of_overlapping_classes_rank_above_every_cleanlab_ranking():
    """A val-only report on the ring: at least as good as every cleanlab ranking on each seed, and 6 more of the
    720 flips in the three top-240s; plain self-confidence (the ranking before the noise matrix, and cleanlab's
    best here) finds none more, so this fails if the held-out rows lose the noise-aware order."""
    filters = pytest.importorskip("cleanlab.filter")
    rank = pytest.importorskip("cleanlab.rank")
    extra = []
    for seed in range(3):
        labels, probs, embeddings, flipped = ring_of_classes(seed)
        k = len(flipped)
        fitted = fitted_rows(np.zeros(len(labels), int), ["val"])
        scores = mislabel_scores(labels, probs, nearest_neighbours(embeddings, 15).indices, fitted=fitted)
        theirs = [ranked(1 - rank.get_label_quality_scores(labels, probs, method=method))
                  for method in ("self_confidence", "normalized_margin", "confidence_weighted_entropy")]
        theirs.append(filters.find_label_issues(labels, probs, return_indices_ranked_by="self_confidence"))
        found = [int(np.isin(order[:k], flipped).sum()) for order in [ranked(scores.score), *theirs]]
        assert found[0] >= max(found[1:]), (seed, found)
        extra.append(found[0] - max(found[1:]))
    assert sum(extra) >= 6, extra


def test_a_label_disputed_by_model_and_neighbours_ranks_first():
    labels, probs, embeddings, _ = memorised_flips(share=0.0)
    target = 7  # truly class 3: give it label 0, which the model disputes too
    labels[target] = 0
    probs[target] = [0.02, 0.02, 0.02, 0.94]
    indices = nearest_neighbours(embeddings, 15).indices
    scores = mislabel_scores(labels, probs, indices)
    assert scores.score.min() >= 0 and scores.score.max() <= 1
    assert np.all(scores.suggested != labels)
    ranked = ranked_suspects(scores, limit=10)
    assert ranked[0] == target and scores.suggested[target] == 3
    assert np.all(np.diff(scores.score[ranked]) <= 0)
    assert np.all(scores.score[ranked] > 0.5)


def test_non_finite_probabilities_do_not_poison_the_scores():
    labels, probs, embeddings, _ = memorised_flips(n=80)
    probs[3] = np.nan
    scores = mislabel_scores(labels, probs, nearest_neighbours(embeddings, 15).indices)
    assert np.isfinite(scores.score).all()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_memorised_flips_in_the_train_split_are_found_where_cleanlab_misses_them(seed):
    """10% of the train split flipped and every train label fitted (p = 0.94, the flips too); the held-out third
    is predicted well but not perfectly; the embeddings still cluster by the true class."""
    filters = pytest.importorskip("cleanlab.filter")
    rng = np.random.default_rng(seed)
    n, k = 900, 4
    truth = np.arange(n) % k
    embeddings = (rng.normal(0, 6, (k, 16))[truth] + rng.normal(0, 1, (n, 16))).astype(np.float32)
    fitted = np.arange(n) < 600
    labels = truth.copy()
    flipped = rng.choice(600, 60, replace=False)
    labels[flipped] = (truth[flipped] + rng.integers(1, k, 60)) % k
    probs = np.full((n, k), 0.02)
    probs[np.arange(n), np.where(fitted, labels, truth)] = 0.94
    probs[~fitted] += rng.uniform(0, 0.5, (n - 600, k))  # held out: some clean samples are ambiguous
    probs /= probs.sum(axis=1, keepdims=True)
    scores = mislabel_scores(labels, probs, nearest_neighbours(embeddings, 15).indices, fitted=fitted)
    theirs = precision_at_k(filters.find_label_issues(labels, probs, return_indices_ranked_by="self_confidence"),
                            flipped, 60)
    assert precision_at_k(ranked(scores.score), flipped, 60) >= 0.9
    assert theirs <= 0.2
    assert np.all(scores.basis[flipped] == 1) and np.all(scores.suggested[flipped] == truth[flipped])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_look_alike_flips_in_overlapping_classes_rank_at_least_as_well_as_cleanlab(seed):
    """The held-out rows are judged by the model alone; the old 50/50 blend with the neighbour vote ranked
    below cleanlab's self-confidence on each of these seeds."""
    filters = pytest.importorskip("cleanlab.filter")
    rank = pytest.importorskip("cleanlab.rank")
    labels, probs, embeddings, fitted, flipped = overlapping_pairs(seed)
    k = len(flipped)
    scores = mislabel_scores(labels, probs, nearest_neighbours(embeddings, 15).indices, fitted=fitted)
    ours = precision_at_k(ranked(scores.score), flipped, k)
    issues = filters.find_label_issues(labels, probs, return_indices_ranked_by="self_confidence")
    assert ours >= precision_at_k(issues, flipped, k)
    assert ours >= precision_at_k(ranked(1 - rank.get_label_quality_scores(labels, probs)), flipped, k)


@pytest.mark.parametrize("fitted", [None, "all"])
def test_no_n_by_k_float64_arrays_at_a_thousand_classes(fitted):
    """Issue 14: at K = 1,000 the scores may not build (N, K) float64 arrays beyond the caller's probabilities."""
    n, num_classes, k = 10_000, 1_000, 15
    rng = np.random.default_rng(0)
    probs = rng.random((n, num_classes), dtype=np.float32)
    probs /= probs.sum(axis=1, keepdims=True)
    labels = rng.integers(0, num_classes, n)
    indices = np.concatenate([np.arange(n)[:, None], rng.integers(0, n, (n, k))], axis=1)
    before = probs.copy()
    tracemalloc.start()
    scores = mislabel_scores(labels, probs, indices, fitted=None if fitted is None else np.ones(n, bool))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < n * num_classes * 8 / 8  # an eighth of one (N, K) float64 array
    assert np.isfinite(scores.score).all() and np.all(scores.suggested != labels)
    np.testing.assert_array_equal(probs, before)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_precision_at_k_not_worse_than_cleanlab_when_the_model_memorised_flips(seed):
    filters = pytest.importorskip("cleanlab.filter")
    labels, probs, embeddings, flipped = memorised_flips(seed)
    k = len(flipped)
    scores = mislabel_scores(labels, probs, nearest_neighbours(embeddings, 15).indices)
    ours = precision_at_k(np.argsort(-scores.score, kind="stable"), flipped, k)
    theirs = precision_at_k(filters.find_label_issues(labels, probs, return_indices_ranked_by="self_confidence"),
                            flipped, k)
    assert ours >= theirs
    assert ours >= 0.9  # the neighbours find the memorised half that the probabilities hide


def test_precision_at_k_counts_a_short_ranking_as_misses():
    assert precision_at_k(np.array([1, 2]), np.array([1, 2, 3, 4]), 4) == 0.5


def test_section_lists_suspects_best_first_with_their_evidence():
    collected = make_collected(90, 3, seed=1)
    collected.labels[:6] = (collected.labels[:6] + 1) % 3  # six wrong labels; model and neighbours still agree
    result = mislabels.run(collected, neighbours=nearest_neighbours(collected.embeddings, 15), top_k=5)
    listed = result.json()["suspected_mislabels"]
    assert listed, "make_collected's wrong predictions give some disputed labels"
    assert [r["score"] for r in listed] == sorted((r["score"] for r in listed), reverse=True)
    for row in listed:
        assert set(row) >= {"path", "label", "suggested", "score"}
        assert row["label"] != row["suggested"] and row["score"] > 0.5
    shown = result.shown_rows
    assert len(shown) == min(5, len(listed))
    assert all(len(r["neighbours"]) == 8 and r["thumbnail"].startswith("data:image/") for r in shown)
    json.loads(dumps_json(result.json()))  # JSON-safe: no NaN
