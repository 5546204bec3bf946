"""Suspected-mislabel ranking: its properties, and precision@k against cleanlab where the neighbours matter."""

import numpy as np
import pytest

from collected_factory import make_collected
from reportgen.analyses import mislabels
from reportgen.mislabel_scores import (mislabel_scores, neighbour_label_votes, precision_at_k,
                                       ranked_suspects)
from reportgen.neighbours import nearest_neighbours
from reportgen.render import dumps_json, report_json
from reportgen.section import Context


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


def test_neighbour_votes_are_shares_of_the_neighbours_labels_without_self():
    labels = np.array([0, 0, 1, 1])
    indices = np.array([[0, 1, 2], [1, 0, 3], [2, 3, 0], [3, 2, 1]])
    votes = neighbour_label_votes(labels, indices, 2)
    np.testing.assert_allclose(votes, [[0.5, 0.5], [0.5, 0.5], [0.5, 0.5], [0.5, 0.5]])
    np.testing.assert_allclose(votes.sum(axis=1), 1.0)


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
    ctx = Context(neighbours=nearest_neighbours(collected.embeddings, 15), top_k=5)
    section = mislabels.run(collected, ctx)
    listed = section.json["suspected_mislabels"]
    assert listed, "make_collected's wrong predictions give some disputed labels"
    assert [r["score"] for r in listed] == sorted((r["score"] for r in listed), reverse=True)
    for row in listed:
        assert set(row) >= {"path", "label", "suggested", "score"}
        assert row["label"] != row["suggested"] and row["score"] > 0.5
    shown = section.data["rows"]
    assert len(shown) == min(5, len(listed))
    assert all(len(r["neighbours"]) == 8 and r["thumbnail"].startswith("data:image/") for r in shown)
    dumps_json(report_json([section], base={}))  # JSON-safe: no NaN
