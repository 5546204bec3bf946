"""Loss vs distance to the class mean: distances, Spearman's rho (cross-checked with scipy), edge cases."""

import numpy as np
from scipy.stats import spearmanr

from collected_factory import make_collected
from reportgen.analyses import loss_vs_distance
from reportgen.class_geometry import centroid_distances, class_means, distance_to_class_mean
from reportgen.rank_correlation import spearman
from reportgen.render import dumps_json, report_json
from reportgen.section import Context


def test_distance_to_class_mean_matches_a_direct_computation():
    rng = np.random.default_rng(0)
    values = rng.integers(0, 255, (30, 12), dtype=np.uint8)
    labels = np.arange(30) % 3
    means = class_means(values, labels, 4)  # class 3 has no samples
    assert np.isnan(means[3]).all()
    got = distance_to_class_mean(values, labels, means, scale=255.0)
    for i in range(30):
        own = values[labels == labels[i]].astype(float).mean(axis=0)
        assert np.isclose(got[i], np.linalg.norm(values[i] / 255.0 - own / 255.0))
    matrix = centroid_distances(means[:3])
    np.testing.assert_allclose(matrix, matrix.T)
    np.testing.assert_allclose(np.diag(matrix), 0)


def test_spearman_agrees_with_scipy_and_is_none_when_undefined():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=50), rng.normal(size=50)
    x[3] = np.nan
    ours = spearman(x, y)
    theirs = spearmanr(x[np.isfinite(x)], y[np.isfinite(x)])
    assert np.isclose(ours["rho"], theirs.statistic) and np.isclose(ours["p"], theirs.pvalue) and ours["n"] == 49
    assert spearman(x, np.ones(50))["rho"] is None
    assert spearman([1.0, 2.0], [2.0, 1.0]) == {"rho": None, "p": None, "n": 2}


def test_loss_that_grows_with_pixel_distance_gives_a_high_rho():
    collected = make_collected(120, 3, seed=2)
    rng = np.random.default_rng(2)
    base = rng.integers(100, 140, (3, 256))
    spread = np.arange(120) / 120.0  # sample i is i/120 of the way to an odd image
    odd = rng.integers(0, 255, (120, 256))
    collected.pixels = (base[collected.labels] * (1 - spread[:, None]) + odd * spread[:, None]).astype(np.uint8)
    collected.loss = (spread + rng.normal(0, 0.05, 120)).clip(0).astype(np.float32)
    collected.loss[5] = np.inf  # a non-finite loss is left out, not fatal
    section = loss_vs_distance.run(collected, Context())
    report = section.json["loss_vs_distance"]
    assert report["overall"]["pixel"]["rho"] > 0.8 and report["overall"]["pixel"]["n"] == 119
    assert set(report["per_class"]) == {"c0", "c1", "c2"}
    assert all(r["pixel"]["rho"] > 0.6 for r in report["per_class"].values())
    assert len(report["pixel_distance"]) == 120
    figure = section.data["figures"]["pixel"]
    assert sum(len(t["x"]) for t in figure["data"] if t.get("meta", {}).get("samples")) == 119
    assert figure["data"][-1]["name"] == "class averages" and len(figure["data"][-1]["x"]) == 3
    dumps_json(report_json([section], base={}))
