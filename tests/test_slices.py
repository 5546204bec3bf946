"""Underperforming slices: planted slices are found and named (a darkened group, a data source, one class's dark
images), errors spread at random give none over several seeds, the exact test equals scipy's Fisher test, and
report.json's `slices` has the issue's shape, ranked."""

from __future__ import annotations

import numpy as np
import pytest
from collected_factory import make_collected
from PIL import Image

from reportgen.analyses import slices
from reportgen.compute.image_properties import image_properties
from reportgen.compute.slice_search import Feature, find_slices, min_slice_size
from reportgen.compute.slice_statistics import fisher_greater
from reportgen.data.sources import TRAILING_COUNTER, source_key


def with_errors(collected, wrong: np.ndarray):
    """Predictions wrong exactly on `wrong` (N,) bool (to the next class), right elsewhere."""
    k = len(collected.classes)
    collected.preds = np.where(wrong, (collected.labels + 1) % k, collected.labels)
    return collected


def photo(rng, side: int = 32) -> np.ndarray:
    """A smooth colour image with a few shapes: (side, side, 3) float in [0, 255]."""
    yy, xx = np.mgrid[:side, :side] / side
    image = np.zeros((side, side, 3))
    for _ in range(3):
        f, phase, amp = rng.uniform(0.5, 3, 2), rng.uniform(0, 6.3), rng.uniform(20, 50, 3)
        image += np.sin(2 * np.pi * (f[0] * xx + f[1] * yy) + phase)[..., None] * amp
    image += rng.uniform(90, 160, 3)
    for _ in range(3):
        y, x, r = rng.integers(4, side - 4, 3)
        image[(yy * side - y) ** 2 + (xx * side - x) ** 2 < (r % 6 + 2) ** 2] = rng.uniform(0, 255, 3)
    return np.clip(image + rng.normal(0, 5, image.shape), 0, 255)


def test_a_darkened_group_the_model_gets_wrong_is_found_and_called_dark():
    """Real pixels: 60 of 300 evaluation images darkened to a fifth of their brightness, half of them wrong; the
    properties are measured on the images as the pass does."""
    rng = np.random.default_rng(0)
    n = 300
    collected = make_collected(n, 5, seed=0)
    dark = np.zeros(n, bool)
    dark[rng.choice(n, 60, replace=False)] = True
    images = [photo(rng) * (0.2 if dark[i] else 1.0) for i in range(n)]
    collected.properties = np.stack([image_properties(Image.fromarray(a.astype(np.uint8))) for a in images])
    wrong = (rng.random(n) < 0.05) | (dark & (rng.random(n) < 0.5))
    result = slices.run(with_errors(collected, wrong))
    top = result.slices[0]
    assert "darkest 20%" in result.search.description(top)
    members = set(result.members(top).tolist())
    assert len(members & set(np.flatnonzero(dark))) >= 0.9 * len(members)
    record = result.json()["slices"][0]
    assert record["description"] == "images in the darkest 20%" and record["size"] == 60
    assert record["error_rate"] == pytest.approx(wrong[dark].mean())
    assert record["baseline_error_rate"] == pytest.approx(wrong.mean())


def test_a_slice_in_one_data_source_is_found():
    collected = make_collected(1200, 4, seed=1)
    rng = np.random.default_rng(1)
    source = rng.choice(["scanner", "phone", "web"], 1200)
    collected.paths = [f"{s}/c{label}/{i:04d}.png" for i, (s, label) in enumerate(zip(source, collected.labels))]
    wrong = rng.random(1200) < np.where(source == "web", 0.35, 0.08)
    result = slices.run(with_errors(collected, wrong))
    described = [result.search.description(s) for s in result.slices]
    assert described[0] == "images from web", described
    assert result.slices[0].size == int((source == "web").sum())


def test_one_class_in_the_dark_is_named_as_the_pair_not_as_its_parents():
    """Dark images are bad only in class c2: the pair is the slice; 'dark images' and 'c2 images' alone are
    explained by it and left out."""
    n = 2000
    collected = make_collected(n, 5, seed=2)
    rng = np.random.default_rng(2)
    brightness = collected.properties[:, 0]
    darkest = brightness <= np.quantile(brightness, 0.2)
    wrong = (rng.random(n) < 0.06) | ((collected.labels == 2) & darkest & (rng.random(n) < 0.6))
    result = slices.run(with_errors(collected, wrong))
    described = [result.search.description(s) for s in result.slices]
    assert described[0] == "c2 images in the darkest 20%", described
    assert "images in the darkest 20%" not in described and "c2 images" not in described
    finding = result.findings()[0]
    assert finding.text.startswith("val: c2 images in the darkest 20%: ")
    assert finding.kind == "group" and sorted(finding.rows) == sorted(result.members(result.slices[0]).tolist())


@pytest.mark.parametrize("seed", range(6))
def test_errors_spread_at_random_give_no_slice(seed):
    collected = make_collected(3000, 10, seed=seed)
    collected.paths = [f"{('a', 'b', 'c')[i % 3]}/img_{i}.png" for i in range(3000)]
    wrong = np.random.default_rng(100 + seed).random(3000) < 0.15
    result = slices.run(with_errors(collected, wrong), seed=seed)
    assert result.search.tested > 300  # every feature and pair was searched
    assert result.slices == [], [result.sentence(s) for s in result.slices]
    assert result.json()["slices"] == [] and result.findings() == []


def test_the_exact_test_is_fishers_one_sided_test():
    from scipy.stats import fisher_exact

    for errors, size, total_errors, total in ((12, 40, 60, 1000), (3, 20, 100, 500), (0, 25, 10, 300),
                                              (30, 30, 31, 400)):
        table = [[errors, size - errors], [total_errors - errors, total - size - (total_errors - errors)]]
        expected = fisher_exact(table, alternative="greater").pvalue
        assert fisher_greater(errors, size, total_errors, total) == pytest.approx(expected, rel=1e-9, abs=1e-300)


def test_near_identical_slices_are_said_once_and_small_ones_not_at_all():
    n = 1000
    rng = np.random.default_rng(3)
    group = rng.random(n) < 0.2
    twin = group.copy()
    twin[np.flatnonzero(group)[:5]] = False  # the same group, named by a second feature, but for 5 rows
    tiny = np.zeros(n, bool)
    tiny[np.flatnonzero(~group)[:min_slice_size(n) - 1]] = True  # all wrong, one row short of the minimum
    wrong = (rng.random(n) < 0.05) | (group & (rng.random(n) < 0.5)) | tiny
    features = [Feature("a", group.astype(np.int64), ["in group a", "outside a"][::-1]),
                Feature("b", twin.astype(np.int64), ["in group b", "outside b"][::-1]),
                Feature("c", tiny.astype(np.int64), ["not tiny", "tiny"])]
    search = find_slices(features, wrong)
    assert [search.description(s) for s in search.slices] in (["images in group a"], ["images in group b"])


def test_report_json_lists_slices_ranked_with_the_issue_fields():
    n = 2000
    collected = make_collected(n, 4, seed=4)
    rng = np.random.default_rng(4)
    brightness, contrast = collected.properties[:, 0], collected.properties[:, 1]
    wrong = (rng.random(n) < 0.05) | ((brightness < np.quantile(brightness, 0.2)) & (rng.random(n) < 0.4)) \
        | ((contrast > np.quantile(contrast, 0.8)) & (rng.random(n) < 0.25))
    result = slices.run(with_errors(collected, wrong))
    records = result.json()["slices"]
    assert len(records) >= 2
    for record in records:
        assert {"description", "size", "error_rate", "baseline_error_rate", "sample_paths"} <= set(record)
        assert record["error_rate"] > record["baseline_error_rate"] and record["size"] >= min_slice_size(n)
        assert 0 < len(record["sample_paths"]) <= slices.EXAMPLES
    assert [r["score"] for r in records] == sorted((r["score"] for r in records), reverse=True)
    assert records[0]["description"] == "images in the darkest 20%"


def test_source_keys_follow_purepath_rules():
    """data/sources.py splits paths with string operations for speed: the same keys as PurePosixPath gives."""
    from pathlib import PurePosixPath

    def by_pathlib(path, ignored):
        parts = PurePosixPath(path.replace("\\", "/")).parts
        folders = [p for p in parts[:-1] if p.lower() not in ignored]
        prefix = TRAILING_COUNTER.sub("", PurePosixPath(parts[-1]).stem).lower() if parts else ""
        return "/".join(folders + ([prefix] if prefix and prefix not in ignored else [])) or "(no name)"

    ignored = {"cow", "train", "val"}
    for path in ("train/cow/IMG_2041.jpg", "cow/kaggle/cow (13).jpg", "a//b/./c.png", "/abs/x/y_1.png",
                 "//two/x.png", "///three/y.png", "\\\\unc\\s\\f.png", "x.", ".hidden", "a.b.c.png", "dir\\win\\f_2.jpg",
                 "", ".", "a/", "name", "A/B/Frame_0042.JPG", "web/.png", "..", "../up/x1.png", "a/b..png", "/", "//"):
        assert source_key(path, ignored) == by_pathlib(path, ignored), path


def test_show_all_opens_the_slice_and_the_page_says_what_report_json_says(browser, tmp_path):
    from synthetic_page import render_collected

    n = 1500
    collected = make_collected(n, 4, seed=5)
    rng = np.random.default_rng(5)
    brightness = collected.properties[:, 0]
    wrong = (rng.random(n) < 0.05) | ((brightness <= np.quantile(brightness, 0.2)) & (rng.random(n) < 0.5))
    report = render_collected(with_errors(collected, wrong), tmp_path / "page.html")
    top = report["slices"][0]
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto((tmp_path / "page.html").as_uri())
    page.wait_for_selector("body[data-ready=true]")
    card = page.locator("#slices .rg-slice").first
    assert card.locator("h4 b").inner_text() == top["description"]
    assert f"{top['error_rate']:.1%} error" in card.inner_text()
    card.locator("button.rg-show-selection").click()
    page.wait_for_selector("#drawer:not([hidden])", timeout=5000)
    assert f"{top['size']} samples" in page.locator("#selection-summary").inner_text()
    assert top["description"] in page.locator("#drawer-title").inner_text()
    assert errors == []
    page.close()
