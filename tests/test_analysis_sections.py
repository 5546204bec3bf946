"""The model-vs-data sections in a real report (the tiny fixture tree, train/ and val/): parsed HTML, JSON
keys, figures that parse and point at real samples, and thumbnails whose data-index is the right sample."""

import json

import pytest
from bs4 import BeautifulSoup

SECTIONS = ("mislabels", "confusable-classes", "loss-vs-distance", "subpopulations", "slices", "properties",
            "raw-vs-model", "train-vs-val")
JSON_KEYS = ("suspected_mislabels", "confusable_classes", "loss_vs_distance", "subpopulations", "slices",
             "image_properties", "raw_vs_model", "train_vs_val")


@pytest.fixture(scope="module")
def page(demo_like_report):
    soup = BeautifulSoup(demo_like_report.html_path.read_text(encoding="utf-8"), "html.parser")
    report = json.loads(demo_like_report.json_path.read_text())
    samples = json.loads(soup.find("script", id="sample-data").string)
    return soup, report, samples


def test_sections_render_without_errors_and_json_has_their_keys(page):
    soup, report, _ = page
    for section_id in SECTIONS:
        section = soup.find("section", id=section_id)
        assert section is not None, section_id
        assert section.find(class_="error-box") is None, section.get_text()[:300]
    assert not set(SECTIONS) & set(report["section_errors"])
    for key in JSON_KEYS:
        assert key in report, key
    assert isinstance(report["suspected_mislabels"], list)
    assert set(report["train_vs_val"]["splits"]) == {"train", "val"}
    assert len(report["raw_vs_model"]["raw_coordinates"]) == report["n_samples"]


def test_figures_parse_and_their_points_are_samples(page):
    soup, report, _ = page
    figures = soup.select("script.rg-figure")
    assert {f.find_parent("section")["id"] for f in figures} == {"calibration", "loss-vs-distance", "properties",
                                                                 "raw-vs-model", "train-vs-val"}
    for script in figures:
        assert soup.find(id=script["data-target"]) is not None, script["data-target"]
        figure = json.loads(script.string)
        assert figure["data"] and "layout" in figure
        for trace in figure["data"]:
            if trace.get("meta", {}).get("samples"):
                assert len(trace["customdata"]) == len(trace["x"]) == len(trace["y"])
                assert all(0 <= i < report["n_samples"] for i in trace["customdata"])


def test_every_thumbnail_in_the_sections_opens_the_sample_it_shows(page):
    soup, report, samples = page
    checked = 0
    for section_id in SECTIONS:
        for figure in soup.find("section", id=section_id).select("figure[data-index]"):
            index = int(figure["data-index"])
            assert figure.img["alt"] == samples["path"][index]
            assert figure.img["src"].startswith("data:image/")
            checked += 1
    assert checked > 0


def test_files_moved_to_the_wrong_class_folder_top_the_suspects(model_files, image_tree, tmp_path):
    import shutil

    from reportgen import build_report

    tree = tmp_path / "data"
    shutil.copytree(image_tree, tree)
    moved = {}
    for source, target, name in (("ring", "dot", "ring_01.png"), ("ring", "bar", "ring_02.png"),
                                 ("bar", "dot", "bar_03.png")):
        (tree / "val" / source / name).rename(tree / "val" / target / name)
        moved[f"val/{target}/{name}"] = (target, source)
    result = build_report(model_files["pt2"], tree, tmp_path / "r.html", json_path=tmp_path / "r.json",
                          quiet=True, projection="pca", workers=0)
    suspects = result.report["suspected_mislabels"]
    top = {s["path"]: (s["label"], s["suggested"]) for s in suspects[:len(moved)]}
    assert top == moved
    soup = BeautifulSoup(result.html_path.read_text(encoding="utf-8"), "html.parser")
    shown = [p.get_text() for p in soup.select("#mislabels table.rg-mislabels .path")]
    assert shown[:len(moved)] == [s["path"] for s in suspects[:len(moved)]]
