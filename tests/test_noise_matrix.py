"""The noise matrix behind the model's order of suspected mislabels: confident learning's joint, cross-checked
against cleanlab's, and the Bayes posterior against a dense computation by hand."""

import numpy as np
import pytest

from reportgen.compute.noise_matrix import confident_joint, label_wrong


def noisy_posteriors(seed: int = 0, n: int = 500, k: int = 5):
    """Dirichlet posteriors leaning to the true class; 15% of the labels moved to the next class."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, k, n)
    alpha = np.full((n, k), 0.6)
    alpha[np.arange(n), truth] += 3.0
    alpha[np.arange(n), (truth + 1) % k] += 1.0  # each class looks a little like the next
    probs = rng.gamma(alpha)
    probs /= probs.sum(axis=1, keepdims=True)
    labels = truth.copy()
    moved = rng.random(n) < 0.15
    labels[moved] = (truth[moved] + 1) % k
    return labels, probs


@pytest.mark.parametrize("seed", [0, 1])
def test_confident_joint_is_cleanlabs_with_each_label_scaled_to_its_rows(seed):
    count = pytest.importorskip("cleanlab.count")
    labels, probs = noisy_posteriors(seed)
    theirs = count.compute_confident_joint(labels, probs, calibrate=False).astype(np.float64)
    rows = np.bincount(labels, minlength=probs.shape[1])
    expected = theirs / theirs.sum(axis=1, keepdims=True) * rows[:, None]  # cleanlab then rounds to integers
    ours = confident_joint(labels, probs, np.arange(len(labels)))
    np.testing.assert_allclose(ours.joint.toarray(), expected, atol=1e-9)
    np.testing.assert_array_equal(ours.label_rows, rows)


def test_posterior_is_bayes_with_the_mixed_noise_matrix():
    labels, probs = noisy_posteriors(2)
    k = probs.shape[1]
    rows = np.arange(len(labels))
    noise = confident_joint(labels, probs, rows)
    joint = noise.joint.toarray() * 0.7 + 0.3 * noise.label_rows[:, None] / k  # [given, true]
    given_if_true = (joint / joint.sum(axis=0, keepdims=True)).T  # T[a, y] = P(given y | true a)
    right = probs[rows, labels] * given_if_true[labels, labels] / (probs @ given_if_true)[rows, labels]
    np.testing.assert_allclose(label_wrong(labels, probs, rows, noise, uniform_share=0.3), 1 - right, atol=1e-12)


def test_an_all_uniform_noise_matrix_gives_back_self_confidence():
    labels, probs = noisy_posteriors(3)
    rows = np.arange(len(labels))
    wrong = label_wrong(labels, probs, rows, confident_joint(labels, probs, rows), uniform_share=1.0)
    np.testing.assert_allclose(wrong, 1 - probs[rows, labels], atol=1e-12)


def test_look_alike_doubt_counts_for_more_than_doubt_towards_a_class_never_mislabelled_so():
    labels, probs = noisy_posteriors(4, n=2000)
    noise = confident_joint(labels, probs, np.arange(len(labels)))
    # two rows labelled 1 with the same p(1): doubt towards 0 (whose samples get labelled 1) or towards 3
    probs = np.vstack([probs, [0.6, 0.3, 0.05, 0.025, 0.025], [0.025, 0.3, 0.05, 0.6, 0.025]])
    labels = np.append(labels, [1, 1])
    pair = np.array([2000, 2001])
    towards_look_alike, towards_other = label_wrong(labels, probs, pair, noise)
    assert towards_look_alike > 1.2 * towards_other
    np.testing.assert_allclose(*label_wrong(labels, probs, pair, noise, uniform_share=1.0))  # self-confidence: equal


def test_non_finite_rows_and_classes_nobody_carries_stay_finite():
    labels, probs = noisy_posteriors(5, n=60, k=4)
    probs = np.hstack([probs, np.zeros((60, 1))])  # a fifth class: no label, no probability
    probs[7] = np.nan
    rows = np.arange(60)
    noise = confident_joint(labels, probs, rows[10:])
    wrong = label_wrong(labels, probs, rows, noise)
    assert np.isfinite(wrong).all() and (wrong >= 0).all() and (wrong <= 1).all()
