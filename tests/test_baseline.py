"""--baseline OLD: both checkpoints on the same data; deltas, flips and galleries checked against plain torch."""

import json

import numpy as np
import pytest
import torch
from bs4 import BeautifulSoup
from click.testing import CliRunner
from conftest import CLASSES, load_tensors
from sklearn.metrics import confusion_matrix
from tiny_models import TinyNet

from reportgen.cli import cli


@pytest.fixture(scope="module")
def untrained_pt2(tmp_path_factory):
    torch.manual_seed(1)
    model = TinyNet().eval()
    path = tmp_path_factory.mktemp("untrained") / "untrained.pt2"
    program = torch.export.export(model, (torch.zeros(2, 1, 16, 16),),
                                  dynamic_shapes=({0: torch.export.Dim("batch")},))
    torch.export.save(program, str(path))
    return path, model


@pytest.fixture(scope="module")
def compared(tmp_path_factory, model_files, image_tree, untrained_pt2):
    """New = the untrained net, baseline = the trained one: many samples break, few or none get fixed."""
    folder = tmp_path_factory.mktemp("compared")
    result = CliRunner().invoke(cli, [str(untrained_pt2[0]), str(image_tree), "-o", str(folder / "r.html"), "-q",
                                      "--projection", "pca", "--workers", "0", "--saliency-samples", "0",
                                      "--baseline", str(model_files["pt2"]), "--markdown", str(folder / "pr.md")])
    assert result.exit_code == 0, result.output
    return folder, json.loads((folder / "r.json").read_text())


def test_flips_and_deltas_match_both_models_run_directly(compared, tiny_model, untrained_pt2, image_tree):
    _, report = compared
    x, y = load_tensors(image_tree)  # the same sorted train/ then val/ order as the report's rows
    with torch.no_grad():
        old, new = tiny_model(x).argmax(1).numpy(), untrained_pt2[1](x).argmax(1).numpy()
    y = y.numpy()
    paths = [s["path"] for s in report["samples"]]
    fixed = {paths[i] for i in np.flatnonzero((old != y) & (new == y))}
    broken = {paths[i] for i in np.flatnonzero((old == y) & (new != y))}
    b = report["baseline"]
    assert {r["path"] for r in b["fixed"]} == fixed and {r["path"] for r in b["broken"]} == broken
    assert b["n_broken"] == len(broken) > 0 and b["n_fixed"] == len(fixed)
    assert b["accuracy"] == pytest.approx((old == y).mean())
    assert b["accuracy_delta"] == pytest.approx((new == y).mean() - (old == y).mean())
    assert b["confusion_matrix_delta"] == (confusion_matrix(y, new, labels=range(3))
                                           - confusion_matrix(y, old, labels=range(3))).tolist()
    first = b["broken"][0]
    assert first["baseline_prediction"] == first["label"] != first["prediction"]
    assert set(b["per_class"]) == set(CLASSES) and b["model"]["sha256"]
    assert len(b["projection"]["coordinates"]) == report["n_samples"]


def test_page_shows_galleries_saliency_and_both_projections(compared):
    folder, report = compared
    soup = BeautifulSoup((folder / "r.html").read_text(), "html.parser")
    section = soup.find("section", id="baseline")
    assert section.find(class_="error-box") is None
    gallery = section.find(id="baseline-broken").find_all("figure")
    assert len(gallery) == min(25, report["baseline"]["n_broken"])
    assert "before" in gallery[0].get_text() and "now" in gallery[0].get_text()
    pairs = section.find_all(class_="saliency-pair")
    assert pairs and all(len(p.find_all("img")) == 3 for p in pairs)
    targets = {s["data-target"] for s in section.find_all("script", class_="rg-figure")}
    assert targets == {"baseline-projection-baseline", "baseline-projection-new"}


def test_markdown_names_both_models_and_flip_counts(compared):
    folder, report = compared
    text = (folder / "pr.md").read_text()
    b = report["baseline"]
    assert f"**{b['n_fixed']} fixed**" in text and f"**{b['n_broken']} broken**" in text
    assert "| baseline | `tiny.pt2` |" in text and "| this model | `untrained.pt2` |" in text
    # the evaluation split's classes were tested for a drop beyond noise, whatever the verdict
    assert "**Classes worse beyond noise** on val" in text or "No class got worse beyond noise on val" in text
    assert "<details><summary>Per-class scores on val" in text
    # the evaluation split's flips are listed first
    assert "| `val/" in text.split("| broken (right → wrong) |")[1].splitlines()[2]


def test_baseline_with_other_classes_is_one_line(tmp_path, model_files, image_tree):
    program = torch.export.export(TinyNet(num_classes=4).eval(), (torch.zeros(2, 1, 16, 16),),
                                  dynamic_shapes=({0: torch.export.Dim("batch")},))
    torch.export.save(program, str(tmp_path / "four.pt2"))
    result = CliRunner().invoke(cli, [str(model_files["pt2"]), str(image_tree / "val"), "-o", str(tmp_path / "r.html"),
                                      "-q", "--projection", "pca", "--workers", "0", "--baseline",
                                      str(tmp_path / "four.pt2")])
    assert result.exit_code == 2 and result.output.startswith("reportgen: error: --baseline")
    assert len(result.output.strip().splitlines()) == 1 and not (tmp_path / "r.html").exists()
