"""Duplicates, leakage and outliers in a real report over planted data: copies across splits (exact), a
re-encoded and a shifted copy (near), a copy filed under another label, foreign images (outliers); the
evaluation accuracy recomputed without the leaked images; agreement with cleanlab's Datalab on the same data;
the projection's outlier colouring in a real browser, with and without labels."""

import json
import shutil

import numpy as np
import pytest
import torch
from bs4 import BeautifulSoup
from conftest import load_tensors, write_tree
from PIL import Image
from torch import nn

import reportgen.pipeline
from reportgen import build_report
from reportgen.compute.duplicates import NEAR_FRACTION, embedding_pairs, nearest_median
from reportgen.compute.neighbours import nearest_neighbours
from reportgen.compute.outlier_scores import knn_outlier_scores


class ShiftNet(nn.Module):
    """Circular convolutions and a global average: a circular shift of an image leaves its embedding as it was,
    as a real network nearly does for small shifts."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1, padding_mode="circular")
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1, padding_mode="circular")
        self.fc = nn.Linear(16, 3)

    def forward(self, x):
        x = torch.relu(self.conv2(torch.relu(self.conv1(x))))
        return self.fc(x.mean(dim=(2, 3)))


def trained_shift_net(root) -> ShiftNet:
    torch.manual_seed(0)
    model = ShiftNet()
    x, y = load_tensors(root)
    optimiser = torch.optim.Adam(model.parameters(), lr=0.02)
    for _ in range(80):
        loss = nn.functional.cross_entropy(model(x), y)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    return model.eval()


EXACT_LEAKS = {("train/dot/dot_03.png", "val/dot/copy_of_dot_03.png"),
               ("train/ring/ring_02.png", "val/ring/copy_of_ring_02.png")}
REENCODED = ("train/bar/bar_07.png", "val/bar/reencoded_bar_07.jpg")
SHIFTED = ("train/ring/ring_05.png", "val/ring/shifted_ring_05.png")
INSIDE_TRAIN = ("train/bar/bar_01.png", "train/bar/bar_01_again.png")
OTHER_LABEL = ("train/bar/filed_as_bar.png", "train/dot/dot_09.png")
FOREIGN = {"val/dot/foreign_noise.png", "val/ring/foreign_checker.png", "val/bar/foreign_gradient.png"}


def plant(root) -> None:
    for original, copy in EXACT_LEAKS | {INSIDE_TRAIN}:
        shutil.copy(root / original, root / copy)
    shutil.copy(root / OTHER_LABEL[1], root / OTHER_LABEL[0])
    ring = np.asarray(Image.open(root / SHIFTED[0]))
    Image.fromarray(np.roll(ring, (3, 4), axis=(0, 1))).save(root / SHIFTED[1])
    Image.open(root / REENCODED[0]).save(root / REENCODED[1], quality=90)
    rng = np.random.default_rng(5)
    yy, xx = np.mgrid[:16, :16]
    Image.fromarray((rng.random((16, 16)) > 0.5).astype(np.uint8) * 255).save(root / "val/dot/foreign_noise.png")
    Image.fromarray(((xx // 4 + yy // 4) % 2 * 255).astype(np.uint8)).save(root / "val/ring/foreign_checker.png")
    Image.fromarray((xx * 16).astype(np.uint8)).save(root / "val/bar/foreign_gradient.png")


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """(report, collected arrays, parsed page, html path, model) for the planted tree."""
    root = write_tree(tmp_path_factory.mktemp("planted") / "data")
    model = trained_shift_net(root)  # on the originals only
    plant(root)
    out = tmp_path_factory.mktemp("planted-report")
    kept = {}
    run_pass = reportgen.pipeline.run_pass

    def keep(*args, **kwargs):
        kept["collected"] = run_pass(*args, **kwargs)
        return kept["collected"]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(reportgen.pipeline, "run_pass", keep)
        result = build_report(model, root, out / "r.html", json_path=out / "r.json", quiet=True, projection="pca",
                              workers=0)
    soup = BeautifulSoup(result.html_path.read_text(encoding="utf-8"), "html.parser")
    return result.report, kept["collected"], soup, result.html_path, model


def test_planted_copies_are_found_and_nothing_else(planted):
    report = planted[0]
    assert not report["section_errors"]
    groups = {tuple(g["paths"]): g for g in report["duplicates"]}
    assert set(groups) == EXACT_LEAKS | {REENCODED, SHIFTED, INSIDE_TRAIN, OTHER_LABEL}
    for pair in EXACT_LEAKS:
        assert groups[pair]["kind"] == "exact" and groups[pair]["splits"] == ["train", "val"] and groups[pair]["leak"]
    # each near copy is found by the source meant for it, and only by it
    assert groups[REENCODED]["kind"] == "near" and groups[REENCODED]["found_by"] == ["hash"]
    assert groups[SHIFTED]["kind"] == "near" and groups[SHIFTED]["found_by"] == ["embedding"]
    assert groups[SHIFTED]["hash_bits"] > 10  # a shift moves the perceptual hash far
    assert not groups[INSIDE_TRAIN]["leak"] and not groups[INSIDE_TRAIN]["label_conflict"]
    assert groups[OTHER_LABEL]["label_conflict"] and groups[OTHER_LABEL]["labels"] == ["bar", "dot"]
    assert [g["leak"] for g in report["duplicates"]] == sorted((g["leak"] for g in report["duplicates"]), reverse=True)
    summary = report["duplicates_summary"]
    assert (summary["groups"], summary["exact"], summary["near"], summary["leaked_groups"]) == (6, 4, 2, 4)


def test_accuracy_without_the_leaked_images(planted):
    report = planted[0]
    leaked = {p for g in report["duplicates"] if g["leak"] for p in g["paths"] if p.startswith("val/")}
    val = [s for s in report["samples"] if s["split"] == "val"]
    right = lambda rows: sum(s["label"] == s["prediction"] for s in rows) / len(rows)  # noqa: E731
    row = report["duplicates_summary"]["leakage"]["val"]
    assert row["n"] == len(val) and row["n_leaked"] == len(leaked) == 4
    assert row["accuracy"] == pytest.approx(right(val)) == pytest.approx(report["splits"]["val"]["accuracy"])
    assert row["accuracy_without"] == pytest.approx(right([s for s in val if s["path"] not in leaked]))
    finding = next(f for f in report["findings"] if f["id"] == "duplicates/leakage/val")
    assert finding["severity"] == "high"
    assert finding["text"].startswith(f"4 val images have copies in train; val accuracy without them "
                                      f"{row['accuracy_without']:.1%} vs {row['accuracy']:.1%}")
    # the digest shows each evaluation copy beside its training original
    assert tuple(finding["evidence"][:2]) in {a[::-1] for a in EXACT_LEAKS | {REENCODED, SHIFTED}}
    assert any(f["id"] == "duplicates/label-conflicts" for f in report["findings"])


def test_leaked_groups_are_shown_side_by_side(planted):
    _, _, soup, _, _ = planted
    section = soup.find("section", id="duplicates")
    samples = json.loads(soup.find("script", id="sample-data").string)
    rows = section.select("table.rg-leaks tbody tr")
    assert len(rows) == 4
    for row in rows:
        train_side, evaluation_side = row.find_all("td")[:2]
        train_paths = [samples["path"][int(f["data-index"])] for f in train_side.select("figure[data-index]")]
        evaluation_paths = [samples["path"][int(f["data-index"])] for f in evaluation_side.select("figure[data-index]")]
        assert train_paths and all(p.startswith("train/") for p in train_paths)
        assert evaluation_paths and all(p.startswith("val/") for p in evaluation_paths)
        for figure in row.select("figure[data-index]"):
            assert figure.img["alt"] == samples["path"][int(figure["data-index"])]
    accuracy = section.select_one("table.rg-leakage tbody tr").get_text(" ", strip=True)
    assert accuracy.startswith("val")
    selection = json.loads(section.select_one("script.rg-selection").string)
    assert sorted(samples["path"][i] for i in selection) == sorted(p for pair in EXACT_LEAKS | {REENCODED, SHIFTED}
                                                                   for p in pair)


def test_foreign_images_top_the_outliers(planted):
    report, _, soup, _, _ = planted
    outliers = report["outliers"]
    assert {o["path"] for o in outliers[:3]} == FOREIGN
    assert [o["score"] for o in outliers] == sorted((o["score"] for o in outliers), reverse=True)
    assert all(o["score"] > 1 for o in outliers)
    per_class = report["outliers_summary"]["per_class"]
    for path in FOREIGN:  # each is its class's most atypical sample, and never among its most typical
        cls = path.split("/")[1]
        assert per_class[cls]["atypical"][0] == path and path not in per_class[cls]["typical"]
    finding = next(f for f in report["findings"] if f["id"] == "outliers/flagged")
    assert set(finding["evidence"][:3]) == FOREIGN
    gallery = soup.find("section", id="outliers").select(".rg-outliers figure[data-index]")
    samples = json.loads(soup.find("script", id="sample-data").string)
    assert [samples["path"][int(f["data-index"])] for f in gallery] == [o["path"] for o in outliers][:len(gallery)]
    assert samples["outlier"]["score"] == pytest.approx(report["outliers_summary"]["scores"], abs=0.0051)
    assert len(samples["outlier"]["score"]) == report["n_samples"]


def jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a | b else 1.0


def test_agrees_with_cleanlab_datalab(planted):
    """Datalab's near_duplicate and outlier issue types on the same embeddings (Euclidean, as ours): its
    near-duplicate rule is the one our embedding source uses, its outlier score the same mean kNN distance
    (squashed), with a fence at 1.7 IQR against our 1.5."""
    from cleanlab import Datalab
    from scipy.stats import spearmanr

    report, collected, _, _, _ = planted
    lab = Datalab(data={"label": collected.labels}, label_name="label", verbosity=0)
    lab.find_issues(features=collected.embeddings, issue_types={"near_duplicate": {"metric": "euclidean"},
                                                                 "outlier": {"metric": "euclidean"}})
    issues = lab.get_issues()
    graph = nearest_neighbours(collected.embeddings, 15)
    a, b = embedding_pairs(collected.embeddings, graph.indices, graph.distances,
                           NEAR_FRACTION * nearest_median(graph.distances))
    ours = {collected.paths[i] for i in np.concatenate([a, b])}
    theirs = {collected.paths[i] for i in np.flatnonzero(issues["is_near_duplicate_issue"])}
    assert jaccard(ours, theirs) >= 0.9, (ours, theirs)
    in_groups = {p for g in report["duplicates"] for p in g["paths"]}
    assert theirs <= in_groups  # and ours adds the re-encoded copy, which the embedding alone misses
    assert set(REENCODED) <= in_groups - theirs
    flagged = {o["path"] for o in report["outliers"] if o["flagged_by"] != "pixels"}
    theirs = {collected.paths[i] for i in np.flatnonzero(issues["is_outlier_issue"])}
    assert jaccard(flagged, theirs) >= 0.8 and FOREIGN <= theirs, (flagged, theirs)
    rho = spearmanr(knn_outlier_scores(graph.distances).score, issues["outlier_score"]).statistic
    assert rho <= -0.99  # the same ranking (their score falls as the distance grows)


SELECT_OUTLIER = """() => {
    const select = document.getElementById('projection-colour');
    select.value = 'outlier';
    select.dispatchEvent(new Event('change'));
    const t = document.getElementById('projection-plot')._fullData.find((t) => t.name === 'samples');
    return {rows: t.customdata, colours: t.marker.color, cmin: t.marker.cmin, cmax: t.marker.cmax,
            legend: document.getElementById('projection-legend').textContent};
}"""


def drawn_outlier_colours(browser, html) -> tuple[dict, dict]:
    page = browser.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(html.as_uri())
    page.wait_for_selector("body[data-ready=true]")
    options = page.eval_on_selector_all("#projection-colour option", "els => els.map(e => e.value)")
    assert "outlier" in options
    drawn = page.evaluate(SELECT_OUTLIER)
    samples = page.evaluate("window.reportgen.samples")
    page.close()
    assert not errors, errors
    return drawn, samples


def test_projection_coloured_by_outlier_score(planted, browser):
    report, _, _, html, _ = planted
    drawn, samples = drawn_outlier_colours(browser, html)
    assert sorted(drawn["rows"]) == list(range(report["n_samples"]))
    assert drawn["colours"] == [samples["outlier"]["score"][i] for i in drawn["rows"]]
    assert drawn["cmax"] == 1 and drawn["cmin"] == samples["outlier"]["typical"] < 1
    assert "outlier score" in drawn["legend"]
    index = {p: i for i, p in enumerate(samples["path"])}
    assert all(samples["outlier"]["score"][index[p]] > 1 for p in FOREIGN)


def test_unlabelled_images_get_copies_and_outliers(planted, browser, tmp_path):
    """A flat folder (a predictions-only report): copies within it and outliers, and the same colouring."""
    *_, model = planted
    flat = tmp_path / "incoming"
    flat.mkdir()
    write_tree(tmp_path / "tree", seed=3)
    for path in sorted((tmp_path / "tree" / "val").glob("*/*.png")):
        shutil.copy(path, flat / f"{path.parent.name}_{path.name}")
    shutil.copy(flat / "dot_dot_00.png", flat / "dot_00_again.png")
    xx = np.mgrid[:16, :16][1]
    Image.fromarray((xx * 16).astype(np.uint8)).save(flat / "gradient.png")
    result = build_report(model, flat, tmp_path / "u.html", json_path=tmp_path / "u.json", quiet=True,
                          projection="pca", workers=0)
    report = result.report
    assert report["labelled"] is False and not report["section_errors"]
    assert [g["paths"] for g in report["duplicates"]] == [["dot_00_again.png", "dot_dot_00.png"]]
    assert report["duplicates_summary"]["leakage"] == {} and report["outliers"][0]["path"] == "gradient.png"
    assert report["outliers_summary"]["class_by"] == "prediction"
    drawn, samples = drawn_outlier_colours(browser, result.html_path)
    assert drawn["colours"] == [samples["outlier"]["score"][i] for i in drawn["rows"]]
