import numpy as np
import pytest
from sklearn.neighbors import NearestNeighbors

from reportgen.compute.neighbours import approximate_neighbours, nearest_neighbours


def data(n=600, d=12, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.normal(0, 3, (8, d))[rng.integers(0, 8, n)] + rng.normal(size=(n, d))).astype(np.float32)


def test_exact_equals_scikit_learn():
    x = data()
    ours = nearest_neighbours(x, 10, chunk=128)
    dist, idx = NearestNeighbors(n_neighbors=11).fit(x).kneighbors(x)
    assert (ours.indices[:, 0] == np.arange(len(x))).all()
    np.testing.assert_allclose(ours.distances, dist, atol=1e-3)
    assert np.mean([set(a) == set(b) for a, b in zip(ours.indices, idx)]) > 0.99  # ties may swap order


def test_self_first_even_with_duplicates():
    x = np.repeat(data(50), 2, axis=0)
    ours = nearest_neighbours(x, 3)
    assert (ours.indices[:, 0] == np.arange(len(x))).all()


@pytest.mark.slow
def test_approximate_recall_is_high_and_shape_matches():
    x = data(3000)
    exact = nearest_neighbours(x, 15)
    approx = approximate_neighbours(x, 15)
    assert approx.indices.shape == exact.indices.shape and (approx.indices[:, 0] == np.arange(3000)).all()
    recall = np.mean([len(set(a[1:]) & set(e[1:])) / 15 for a, e in zip(approx.indices, exact.indices)])
    assert recall > 0.9
