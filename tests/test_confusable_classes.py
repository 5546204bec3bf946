"""Confusable classes: the most confused pair comes first, neighbour mixing is a symmetric share."""

import json

import numpy as np
from collected_factory import make_collected

from reportgen.analyses import confusable_classes
from reportgen.analyses.confusable_classes import neighbour_mixing
from reportgen.compute.neighbours import nearest_neighbours
from reportgen.render.report_json import dumps_json


def test_neighbour_mixing_counts_links_between_two_classes():
    labels = np.array([0, 0, 1, 1, 2])
    indices = np.array([[0, 1], [1, 2], [2, 1], [3, 2], [4, 0]])  # one neighbour each
    mixing = neighbour_mixing(labels, indices, 3)
    assert set(mixing) == {(0, 1), (0, 2)}  # pairs a < b, only those with a link
    assert np.isclose(mixing[0, 1], 2 / 4)  # 1->2 and 2->1 join them, of the 4 links leaving classes 0 and 1
    assert np.isclose(mixing[0, 2], 1 / 3)  # 4->0
    assert all(0 <= v <= 1 for v in mixing.values())


def test_the_most_confused_pair_leads_with_look_alike_examples():
    collected = make_collected(120, 4, seed=3)
    collected.preds = collected.labels.copy()
    # c0 and c2 look alike: half of c2 is predicted c0 and sits inside c0's cluster.
    c2 = np.flatnonzero(collected.labels == 2)[:15]
    collected.preds[c2] = 0
    collected.embeddings[c2] = collected.embeddings[collected.labels == 0][:15] + 0.1
    result = confusable_classes.run(collected, neighbours=nearest_neighbours(collected.embeddings, 15))
    pairs = result.json()["confusable_classes"]["pairs"]
    first = pairs[0]
    assert (first["a"], first["b"], first["confusions"], first["b_as_a"]) == ("c0", "c2", 15, 15)
    assert first["neighbour_mixing"] > max(p["neighbour_mixing"] for p in pairs[1:])
    shown = result.shown_pairs[0]
    assert [e["prediction"] for e in shown["examples_b"]] == ["c0"] * 4  # wrong ones first
    matrix = np.array(result.json()["confusable_classes"]["centroid_distances"], dtype=float)
    np.testing.assert_allclose(matrix, matrix.T)
    json.loads(dumps_json(result.json()))


def test_nearest_class_means_match_a_direct_computation(monkeypatch):
    import numpy as np

    from reportgen.compute import class_geometry
    from reportgen.compute.class_geometry import class_means, nearest_class_means

    monkeypatch.setattr(class_geometry, "BLOCK_ELEMENTS", 17)  # several row blocks, one of them ragged
    rng = np.random.default_rng(0)
    values = rng.normal(size=(30, 4)).astype(np.float32)
    labels = np.arange(30) % 3
    preds = (labels + 1) % 3
    means = class_means(values, labels, 4)  # class 3 has no sample
    got = nearest_class_means(values, means, {"label": labels, "prediction": preds}, count=2)
    direct = np.linalg.norm(values[:, None, :] - means[None, :3, :], axis=2)
    rows = np.arange(30)
    np.testing.assert_allclose(got["label"], direct[rows, labels], rtol=1e-5)
    np.testing.assert_allclose(got["prediction"], direct[rows, preds], rtol=1e-5)
    np.testing.assert_array_equal(got["nearest"], np.argsort(direct, axis=1)[:, :2])  # never the empty class
    np.testing.assert_allclose(got["nearest_distance"], np.sort(direct, axis=1)[:, :2], rtol=1e-5)
    distances = class_geometry.centroid_distances(means)
    np.testing.assert_allclose(distances[:3, :3], np.linalg.norm(means[:3, None] - means[None, :3], axis=2),
                               atol=1e-9)
    assert np.isnan(distances[3]).all() and np.isnan(distances[:, 3]).all()
