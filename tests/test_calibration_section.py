"""The calibration section (issue 19) end to end: on a hand-made Collected and on the tiny fixture report,
report.json's `calibration` and per-class `roc_auc` / `average_precision` against the compute module and against
scikit-learn and torchmetrics on logits recomputed here, its findings, the page in headless Chromium, and the
`--fail-under` upper bounds through the CLI."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch
from bs4 import BeautifulSoup
from click.testing import CliRunner
from collected_factory import make_collected
from conftest import CLASSES, load_tensors
from PIL import Image
from scipy.special import softmax
from sklearn.metrics import average_precision_score, log_loss, roc_auc_score, top_k_accuracy_score
from test_analysis_views_browser import open_report
from tiny_models import TinyNet
from torchmetrics.classification import MulticlassCalibrationError

from reportgen import build_report
from reportgen.analyses import calibration, confusion
from reportgen.analyses.findings import rank_findings
from reportgen.analyses.runner import run_all
from reportgen.cli import cli
from reportgen.compute.calibration import calibration_by_split
from reportgen.errors import ReportgenError
from reportgen.render.page import render_html
from reportgen.render.report_json import dumps_json, report_json
from reportgen.render.sample_payload import sample_payload
from reportgen.review.quality_gate import GATE_FAILED_EXIT_CODE, check, parse_threshold


def with_logits(collected, logits: np.ndarray, labels: np.ndarray):
    """`collected` with these logits and labels, and everything the pass derives from them."""
    probs = softmax(logits.astype(np.float64), axis=1)
    return dataclasses.replace(collected, logits=logits.astype(np.float32), labels=labels,
                               probs=probs.astype(np.float32), preds=logits.argmax(axis=1),
                               loss=-np.log(probs[np.arange(len(labels)), labels]).astype(np.float32))


def drawn_from_softmax(n: int, k: int, *, scale: float, seed: int = 0, splits=("val",)):
    """A Collected whose labels are drawn from its own softmax (calibrated by construction), its logits then
    multiplied by `scale`: above 1 over-confident, below 1 under-confident."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 2.5, (n, k))
    labels = (softmax(logits, axis=1).cumsum(axis=1) < rng.random((n, 1))).sum(axis=1).clip(0, k - 1)
    return with_logits(make_collected(n, k, splits=splits, seed=seed), logits * scale, labels)


def section_json(collected, modules=(confusion, calibration)) -> dict:
    sections = run_all(collected, {"seed": 0}, modules=list(modules), quiet=True).sections
    assert not [s.error for s in sections if s.error]
    return json.loads(dumps_json(report_json(sections, base={})))


def test_report_json_holds_the_compute_modules_numbers_and_merges_into_per_class_scores():
    collected = drawn_from_softmax(600, 4, scale=1.6, splits=("train", "val", "test"))
    report = section_json(collected)
    expected = calibration_by_split(collected.logits, collected.labels, collected.split, collected.split_names)
    assert list(report["calibration"]) == ["val", "test"]  # train is left out; test is scaled by val's T
    for name, r in expected.items():
        got = report["calibration"][name]
        for key in calibration.JSON_KEYS:
            assert got[key] == r[key], (name, key)
        assert set(got["top_k_accuracy"]) == {"1", "3"} and got["temperature"] == expected["val"]["temperature"]
        assert got["prior_baseline"]["majority_class"] in collected.classes
        assert [w["path"] for w in got["confident_wrong"]] == [collected.paths[w["index"]]
                                                               for w in r["confident_wrong"]]
        for k, cls in enumerate(collected.classes):
            scores = report["splits"][name]["per_class"][cls]
            assert set(scores) == {"precision", "recall", "f1", "support", "roc_auc", "average_precision"}
            assert scores["roc_auc"] == r["per_class"]["roc_auc"][k]
            assert scores["average_precision"] == r["per_class"]["average_precision"][k]
    assert "roc_auc" not in report["splits"]["train"]["per_class"]["c0"]
    # and against independent implementations, from the collected logits
    rows = collected.split == collected.split_names.index("val")
    probs = softmax(collected.logits[rows].astype(np.float64), axis=1)
    labels = collected.labels[rows]
    val = report["calibration"]["val"]
    metric = MulticlassCalibrationError(num_classes=4, n_bins=15, norm="l1")
    assert val["ece"] == pytest.approx(float(metric(torch.from_numpy(probs), torch.from_numpy(labels))), abs=1e-6)
    assert val["nll"] == pytest.approx(log_loss(labels, probs, labels=range(4)), rel=1e-6)
    assert val["top_k_accuracy"]["3"] == pytest.approx(top_k_accuracy_score(labels, probs, k=3, labels=range(4)))
    for k, cls in enumerate(collected.classes):
        scores = report["splits"]["val"]["per_class"][cls]
        assert scores["roc_auc"] == pytest.approx(roc_auc_score(labels == k, probs[:, k]), abs=1e-6)
        assert scores["average_precision"] == pytest.approx(average_precision_score(labels == k, probs[:, k]),
                                                            abs=1e-6)


def test_an_over_confident_model_is_found_with_its_most_confident_mistakes():
    collected = drawn_from_softmax(3000, 6, scale=3.0, seed=1)
    section = run_all(collected, {"seed": 0}, modules=[calibration], quiet=True).sections[0]
    by_id = {f.id: f for f in section.findings()}
    over = by_id["calibration/val/over-confidence"]
    assert over.severity == "high" and over.section == "calibration" and over.subject == "calibration:val"
    assert over.text.startswith("val: the model is over-confident: ECE ")
    assert len(over.evidence) == 8 and all(collected.preds[i] != collected.labels[i] for i in over.evidence)
    confidence = collected.confidence[over.evidence]
    assert np.all(np.diff(confidence) <= 0)
    assert confidence.min() >= np.sort(collected.confidence[~collected.correct])[-8] - 1e-6
    temperature = by_id["calibration/val/temperature"]
    assert section.result.results["val"]["temperature"] > 2 and temperature.subject == over.subject
    ranked = [f.id for f in rank_findings([section])]
    assert "calibration/val/over-confidence" in ranked and "calibration/val/temperature" not in ranked  # said once


def test_an_under_confident_model_shows_its_least_confident_right_predictions():
    collected = drawn_from_softmax(3000, 6, scale=0.4, seed=2)
    section = run_all(collected, {"seed": 0}, modules=[calibration], quiet=True).sections[0]
    under = next(f for f in section.findings() if f.id == "calibration/val/under-confidence")
    assert all(collected.preds[i] == collected.labels[i] for i in under.evidence)
    right = np.sort(collected.confidence[collected.correct])[:8]
    np.testing.assert_allclose(np.sort(collected.confidence[under.evidence]), right)


def test_a_poorly_ranked_class_is_a_group_of_its_missed_samples():
    collected = drawn_from_softmax(3000, 6, scale=1.0, seed=3)
    noisy = np.flatnonzero(collected.labels == 2)
    labels = collected.labels.copy()
    labels[noisy] = np.random.default_rng(0).integers(0, 6, len(noisy))  # class 2's scores no longer rank it
    labels[np.random.default_rng(1).choice(3000, 150, replace=False)] = 2
    collected = with_logits(collected, collected.logits, labels)
    section = run_all(collected, {"seed": 0}, modules=[calibration], quiet=True).sections[0]
    poor = next(f for f in section.findings() if f.id == "calibration/val/poor-average-precision")
    assert poor.kind == "group" and poor.subject == "class:c2"
    assert set(poor.rows) == set(np.flatnonzero((labels == 2) & (collected.preds != 2)))
    assert all(labels[i] == 2 for i in poor.evidence) and len(poor.evidence) == 8


def test_non_finite_rows_are_left_out_and_the_page_says_so(tmp_path):
    collected = drawn_from_softmax(200, 3, scale=1.0, seed=4)
    collected.logits[[5, 9]] = np.nan
    collected.nonfinite = ~np.isfinite(collected.logits).all(axis=1)
    report = section_json(collected, modules=(calibration,))
    assert report["calibration"]["val"]["n"] == 198 and report["calibration"]["val"]["excluded_non_finite"] == 2
    sections = run_all(collected, {"seed": 0}, modules=[calibration], quiet=True).sections
    html = render_html(sections, title="t", samples=sample_payload(collected), meta={"version": "test"})
    note = BeautifulSoup(html, "html.parser").select_one("#calibration p.note")
    assert note is not None and "2 samples with NaN/inf logits" in note.get_text()


# --- real reports over the tiny tree: train/ and val/, 3 classes ---


@pytest.fixture(scope="module")
def weak_model(tmp_path_factory, image_tree):
    """The tiny net after 8 steps of training: about 60% right at about 0.55 confidence, so every score is far
    from its perfect value (the fixture's trained model is right on every val sample with near-certainty)."""
    torch.manual_seed(0)
    model = TinyNet()
    x, y = load_tensors(image_tree)
    optimiser = torch.optim.Adam(model.parameters(), lr=0.02)
    for _ in range(8):
        optimiser.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        optimiser.step()
    path = tmp_path_factory.mktemp("weak") / "weak.pt2"
    program = torch.export.export(model.eval(), (x[:2],), dynamic_shapes=({0: torch.export.Dim("batch")},))
    torch.export.save(program, str(path))
    return model, path


def test_a_real_reports_json_agrees_with_torchmetrics_and_sklearn(weak_model, image_tree, tmp_path):
    model, path = weak_model
    result = build_report(path, image_tree, tmp_path / "r.html", json_path=tmp_path / "r.json", quiet=True,
                          projection="pca", workers=0, saliency_samples=0)
    report = json.loads(result.json_path.read_text())
    assert set(report["calibration"]) == {"val"} and not report["section_errors"]
    # the val samples' logits from the eager model on the images themselves: independent of the pipeline
    rows = [s for s in report["samples"] if s["split"] == "val"]
    x = torch.stack([torch.from_numpy(np.asarray(Image.open(image_tree / s["path"]), dtype=np.float32) / 255.0)[None]
                     for s in rows])
    with torch.no_grad():
        probs = softmax(model(x).double().numpy(), axis=1)
    labels = np.array([CLASSES.index(s["label"]) for s in rows])
    val = report["calibration"]["val"]
    assert 0.05 < val["ece"] and 0.3 < val["accuracy"] < 0.9  # far from perfect: the checks below mean something
    for norm, key in (("l1", "ece"), ("max", "mce")):
        metric = MulticlassCalibrationError(num_classes=3, n_bins=15, norm=norm)
        assert val[key] == pytest.approx(float(metric(torch.from_numpy(probs), torch.from_numpy(labels))), rel=1e-4)
    assert val["nll"] == pytest.approx(log_loss(labels, probs, labels=range(3)), rel=1e-5)
    assert val["brier"] == pytest.approx(((probs - np.eye(3)[labels]) ** 2).sum(axis=1).mean(), rel=1e-5)
    assert "5-fold cross-validation" in val["temperature_protocol"]  # one evaluation split
    for k, cls in enumerate(CLASSES):
        scores = report["splits"]["val"]["per_class"][cls]
        assert scores["average_precision"] == pytest.approx(average_precision_score(labels == k, probs[:, k]),
                                                            rel=1e-5)
        assert scores["roc_auc"] == pytest.approx(roc_auc_score(labels == k, probs[:, k]), rel=1e-5)


def test_the_page_shows_the_section_with_its_scores_figures_and_gallery(demo_like_report):
    soup = BeautifulSoup(demo_like_report.html_path.read_text(encoding="utf-8"), "html.parser")
    report = demo_like_report.report
    section = soup.find("section", id="calibration")
    assert section is not None and section.find(class_="error-box") is None
    assert soup.select_one('nav a[href="#calibration"]') is not None
    val = report["calibration"]["val"]
    scores = {tr["data-score"]: [td.get_text() for td in tr.find_all("td")]
              for tr in section.select("table.rg-calibration-scores tr[data-score]")}
    assert scores["ece"] == [f"{val['ece']:.4f}", f"{val['ece_after']:.4f}"]
    assert scores["nll"] == [f"{val['nll']:.4f}", f"{val['nll_after']:.4f}"]
    assert val["temperature_protocol"] in section.select_one(".rg-temperature-protocol").get_text(" ", strip=True)
    assert section.select_one(".rg-coverage-sentence").get_text(strip=True) == val["coverage_sentence"]
    targets = {s["data-target"] for s in section.select("script.rg-figure")}
    assert targets == {f"calibration-{key}-1" for key in ("equal_width", "equal_mass", "histograms", "coverage", "pr")}
    reliability = json.loads(section.find("script", attrs={"data-target": "calibration-equal_width-1"}).string)
    counted = next(t for t in reliability["data"] if t["mode"] == "text")
    assert sum(int(c) for c in counted["text"]) == val["n"]  # every bin's count is written on the page
    assert all(t["type"] == "scatter" for s in section.select("script.rg-figure")
               for t in json.loads(s.string)["data"])  # the page's plotly bundle has no bar trace
    gallery = section.select(".rg-confident-wrong figure[data-index]")
    assert [f.img["alt"] for f in gallery] == [w["path"] for w in val["confident_wrong"]]


def draw_figures(page) -> list[str]:
    targets = page.evaluate("[...document.querySelectorAll('#calibration script.rg-figure')].map((s) => s.dataset.target)")
    for target in targets:
        page.locator(f"#{target}").scroll_into_view_if_needed()
        page.wait_for_selector(f"#{target}.js-plotly-plot", timeout=10000)
    return targets


def test_figures_draw_and_the_per_class_table_sorts_in_chromium(browser, demo_like_report):
    page, errors = open_report(browser, demo_like_report.html_path)
    assert len(draw_figures(page)) == 5
    # PR curves in the classes' page colours, named (as text) in the legend
    legend = page.locator("#calibration-pr-1 .legendtext").all_text_contents()
    assert sorted(name.split(" (AP")[0] for name in legend) == sorted(CLASSES)
    table = page.locator("#calibration-classes-1")
    header = table.locator("th", has_text="average precision")
    column = [c["key"] for c in json.loads(page.locator(
        "script[data-target=calibration-classes-1]").text_content())["columns"] if c["kind"] != "hidden"]
    position = column.index("average_precision")

    def read() -> list[float]:
        return [float(r) for r in table.locator(f"tbody tr td:nth-child({position + 1})").all_text_contents()]

    header.click()
    assert read() == sorted(read(), reverse=True) and len(read()) == 3
    header.click()
    assert read() == sorted(read())
    # the coverage curve's hover names the confidence threshold
    page.locator("#calibration-coverage-1").scroll_into_view_if_needed()
    hover = page.evaluate("""() => {
        const gd = document.getElementById('calibration-coverage-1');
        Plotly.Fx.hover(gd, [{curveNumber: 0, pointNumber: 0}]);
        return gd.querySelector('.hoverlayer').textContent;
    }""")
    assert "keep confidence >=" in hover and "accuracy" in hover
    assert errors == []
    page.close()


def test_a_second_splits_fold_draws_its_figures_and_table_when_opened(browser, tmp_path):
    collected = drawn_from_softmax(400, 25, scale=2.0, seed=5, splits=("val", "test"))
    sections = run_all(collected, {"seed": 0}, modules=[calibration], quiet=True).sections
    html = tmp_path / "page.html"
    html.write_text(render_html(sections, title="t", samples=sample_payload(collected), meta={"version": "test"}),
                    encoding="utf-8")
    page, errors = open_report(browser, html)
    assert page.locator("#calibration h3").first.inner_text() == "test"  # the evaluation split opens first
    assert len(draw_figures(page)) == 5
    page.locator("#calibration details.rg-lazy summary").first.click()
    # the fold fills itself on its "toggle" event, which fires after the click returns
    page.wait_for_function("document.querySelectorAll('#calibration script.rg-figure').length >= 10", timeout=10000)
    assert len(draw_figures(page)) == 10
    rows = page.locator("#calibration-classes-0 tbody tr")
    rows.first.wait_for(timeout=5000)
    assert rows.count() == 20  # 25 classes: paged, worst average precision first
    ap = [float(v) for v in page.locator("#calibration-classes-0 tbody tr td:nth-child(3)").all_text_contents()]
    assert ap == sorted(ap)
    assert page.locator("#calibration-pr-0 .scatterlayer .trace").count() == 10  # the 10 worst classes' curves
    assert errors == []
    page.close()


# --- --fail-under upper bounds ---


def test_upper_bounds_parse_and_check_and_the_old_forms_still_work():
    report = {"splits": {"train": {}, "val": {}, "test": {}}, "classes": ["cat"],
              "calibration": {"val": {"ece": 0.0812, "nll": 0.3}, "test": {"ece": 0.02, "nll": 0.5}}}
    ece = parse_threshold("ece<=0.05")
    assert (ece.metric, ece.value, ece.upper, ece.split) == ("ece", 0.05, True, None)
    assert parse_threshold("val:classwise_ece<=0.1").split == "val"
    assert not parse_threshold("accuracy=0.9").upper and parse_threshold("recall[cat]=0.8").cls == "cat"
    assert check(report, ["ece<=0.05", "nll<=0.5"]) == []  # no split: the evaluation split, test
    assert [str(f) for f in check(report, ["val:ece<=0.05", "val:nll<=0.3", "brier<=0.1"])] == [
        "val:ece<=0.05: got 0.0812", "brier<=0.1: got n/a"]  # at the bound passes; a missing score fails
    assert [str(f) for f in check({**report, "calibration": {}}, ["ece<=1"])] == ["ece<=1: got n/a"]
    with pytest.raises(ReportgenError, match="no calibration scores for split 'train'"):
        check(report, ["train:ece<=0.1"])
    for spec, message in (("ece=0.05", "write ece<=0.05"), ("accuracy<=0.9", "write accuracy=0.9"),
                          ("ece[cat]<=0.1", "not understood"), ("ecee<=0.1", "not understood"),
                          ("ece<=low", "not understood")):
        with pytest.raises(ReportgenError, match=message):
            parse_threshold(spec)


FAST = ["-q", "--projection", "pca", "--workers", "0", "--saliency-samples", "0"]


def test_upper_bounds_pass_and_fail_through_the_cli(weak_model, image_tree, tmp_path):
    def run(*gate):
        args = [str(weak_model[1]), str(image_tree), "-o", str(tmp_path / "r.html"), *FAST]
        return CliRunner().invoke(cli, args + [a for spec in gate for a in ("--fail-under", spec)])

    passed = run("ece<=1", "val:nll<=100", "accuracy=0.0")
    assert passed.exit_code == 0, passed.output
    failed = run("ece<=0.0", "brier<=100")
    assert failed.exit_code == GATE_FAILED_EXIT_CODE
    ece = json.loads((tmp_path / "r.json").read_text())["calibration"]["val"]["ece"]
    assert failed.stderr.strip().splitlines() == [f"reportgen: quality gate failed: ece<=0.0: got {ece:.4f}"]
