"""Loss vs distance to the class mean: distances, Spearman's rho (cross-checked with scipy), edge cases."""

import math

import numpy as np
import pandas as pd
from collected_factory import make_collected

from reportgen.analyses import loss_vs_distance
from reportgen.compute.class_geometry import centroid_distances, class_means, distance_to_class_mean
from reportgen.compute.rank_correlation import spearman
from reportgen.render.report_json import dumps_json


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


def rank_correlation_by_hand(x, y):
    """Spearman's rho as the Pearson correlation of average ranks (pandas ranks ties the same way), and its
    two-sided p from the t statistic with n - 2 degrees of freedom (the t tail by its incomplete-beta form)."""
    rx, ry = pd.Series(x).rank().to_numpy(), pd.Series(y).rank().to_numpy()
    rho = float(np.corrcoef(rx, ry)[0, 1])
    n = len(x)
    t = rho * math.sqrt((n - 2) / (1 - rho * rho))
    df = n - 2
    # P(|T| > t) = I_{df / (df + t^2)}(df / 2, 1/2), the regularised incomplete beta, by numerical integration
    z = df / (df + t * t)
    grid = np.linspace(0, z, 200_001)[1:]
    integrand = grid ** (df / 2 - 1) * (1 - grid) ** -0.5
    area = np.trapezoid(integrand, grid) + 2 * grid[0] ** (df / 2) / df  # the first sliver, where grid -> 0
    beta = math.gamma(df / 2) * math.gamma(0.5) / math.gamma(df / 2 + 0.5)
    return rho, area / beta


def test_spearman_agrees_with_a_hand_computation_and_is_none_when_undefined():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=50), rng.normal(size=50)
    y[:10] = y[10:20]  # ties
    x[3] = np.nan
    ours = spearman(x, y)
    rho, p = rank_correlation_by_hand(x[np.isfinite(x)], y[np.isfinite(x)])
    assert np.isclose(ours["rho"], rho) and np.isclose(ours["p"], p, rtol=1e-3) and ours["n"] == 49
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
    result = loss_vs_distance.run(collected)
    report = result.json()["loss_vs_distance"]
    assert report["overall"]["pixel"]["rho"] > 0.8 and report["overall"]["pixel"]["n"] == 119
    assert set(report["per_class"]) == {"c0", "c1", "c2"}
    assert all(r["pixel"]["rho"] > 0.6 for r in report["per_class"].values())
    assert len(report["pixel_distance"]) == 120
    figure = result.figures["pixel"]
    assert sum(len(t["x"]) for t in figure["data"] if t.get("meta", {}).get("samples")) == 119
    assert figure["data"][-1]["name"] == "class averages" and len(figure["data"][-1]["x"]) == 3
    dumps_json(result.json())
