"""Raw pixels vs the model: kNN separation scores, and the network's gain shows when pixels are noise."""

import numpy as np
from collected_factory import make_collected

from reportgen.analyses import raw_vs_model
from reportgen.compute.class_separation import knn_label_accuracy, neighbours_2d
from reportgen.compute.neighbours import nearest_neighbours
from reportgen.compute.projection import project
from reportgen.render.report_json import dumps_json


def test_knn_accuracy_is_one_when_separated_and_near_chance_when_shuffled():
    rng = np.random.default_rng(0)
    labels = np.arange(300) % 3
    coords = np.c_[labels * 10.0, np.zeros(300)] + rng.normal(0, 1, (300, 2))
    assert knn_label_accuracy(neighbours_2d(coords), labels) == 1.0
    shuffled = rng.permutation(labels)
    assert abs(knn_label_accuracy(neighbours_2d(coords), shuffled) - 1 / 3) < 0.12


def test_neighbours_2d_put_each_point_first_even_among_duplicates():
    coords = np.zeros((6, 2))
    indices = neighbours_2d(coords, k=3)
    assert indices.shape == (6, 4)
    assert (indices[:, 0] == np.arange(6)).all()
    assert all(len(set(row)) == 4 for row in indices.tolist())


def test_section_scores_both_spaces_and_the_embedding_wins_over_noise_pixels():
    collected = make_collected(120, 3, seed=5)  # clustered embeddings, random pixels
    result = raw_vs_model.run(collected, projection=project(collected.embeddings, "pca"),
                              neighbours=nearest_neighbours(collected.embeddings, 15), seed=0)
    report = result.json()["raw_vs_model"]
    assert report["method"] == "pca" and len(report["raw_coordinates"]) == 120
    raw, model = report["scores"]["raw"], report["scores"]["model"]
    assert model["knn_accuracy"] > 0.9 and raw["knn_accuracy"] < 0.6
    assert model["knn_accuracy_2d"] > raw["knn_accuracy_2d"]
    panels = result.panels
    assert [p["key"] for p in panels] == ["raw", "model"]
    for panel in panels:  # one trace of every sample; the page colours each point by its class
        (trace,) = panel["figure"]["data"]
        assert trace["meta"]["colour"] == "label" and sorted(trace["customdata"]) == list(range(120))
        assert sorted(i for t in panel["figure"]["data"] for i in t["customdata"]) == list(range(120))
    dumps_json(result.json())


def test_a_big_set_fits_its_pca_on_a_seeded_subset_and_says_so(monkeypatch):
    from sklearn.decomposition import PCA

    from reportgen.compute import pixel_projection

    rng = np.random.default_rng(3)
    pixels = rng.integers(0, 256, (400, 64), dtype=np.uint8)
    full, rows = pixel_projection.reduced_pixels(pixels, seed=2)  # at or under PCA_FIT_ROWS: every row
    assert rows == 400 and full.shape == (400, 50) and full.dtype == np.float32
    direct = PCA(50, random_state=2, svd_solver="randomized").fit_transform(pixels.astype(np.float32) / 255)
    np.testing.assert_array_equal(full, direct.astype(np.float32))

    monkeypatch.setattr(pixel_projection, "PCA_FIT_ROWS", 100)
    monkeypatch.setattr(pixel_projection, "TRANSFORM_CHUNK", 64)  # several chunks, the last one short
    reduced, rows = pixel_projection.reduced_pixels(pixels, seed=2)
    assert rows == 100 and reduced.shape == (400, 50)
    subset = np.sort(np.random.default_rng(2).choice(400, 100, replace=False))
    pca = PCA(50, random_state=2, svd_solver="randomized").fit(pixels[subset].astype(np.float32) / 255)
    np.testing.assert_allclose(reduced, pca.transform(pixels.astype(np.float32) / 255), rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(reduced, pixel_projection.reduced_pixels(pixels, seed=2)[0])  # seeded

    collected = make_collected(400, 3, seed=5)
    result = raw_vs_model.run(collected, projection=project(collected.embeddings, "pca"),
                              neighbours=nearest_neighbours(collected.embeddings, 15), seed=0)
    assert result.json()["raw_vs_model"]["raw_input"].endswith("fitted on a seeded subset of 100 samples")
    assert result.pca_rows == 100
