"""The saliency and network-insides sections: which samples, every model format, and the page itself."""

import base64
import io
import json

import numpy as np
import pytest
from bs4 import BeautifulSoup
from collected_factory import make_collected
from gradient_context import analyse, collected_and_inputs
from PIL import Image

from reportgen.analyses import insides, saliency_maps
from reportgen.explain.grad_cam import SCRIPT
from reportgen.explain.saliency_samples import choose_saliency_samples
from reportgen.render.report_json import dumps_json

FORMATS = ["pt2", "script", "trace", "state_dict", "pickle"]


# --- which samples ------------------------------------------------------------------------------------------
def test_choice_respects_the_budget_and_covers_every_class():
    collected = make_collected(n=90, k=3, accuracy=0.7, seed=3)
    chosen = choose_saliency_samples(collected, 20, top_k=25)
    assert len(chosen) == 20
    hardest = [r for r, why in chosen.items() if why == "hardest"]
    assert len(hardest) == 10  # at most half the budget
    assert min(collected.loss[hardest]) >= np.sort(collected.loss)[-10]  # the ten highest losses
    for k in range(3):
        reasons = {why for r, why in chosen.items() if collected.labels[r] == k and why != "hardest"}
        assert reasons == {"wrong", "correct"}, k


def test_per_class_picks_are_the_worst_wrong_and_the_surest_correct():
    collected = make_collected(n=60, k=3, accuracy=0.6, seed=1)
    chosen = choose_saliency_samples(collected, 200, top_k=0)
    for k in range(3):
        in_class = collected.labels == k
        correct = np.flatnonzero(in_class & collected.correct)
        wrong = np.flatnonzero(in_class & ~collected.correct)
        assert {r for r, why in chosen.items() if why == "correct" and collected.labels[r] == k} == \
            set(correct[np.argsort(-collected.confidence[correct])][:2])
        assert {r for r, why in chosen.items() if why == "wrong" and collected.labels[r] == k} == \
            set(wrong[np.argsort(-collected.loss[wrong])][:2])
    # with hardest samples taken first, a class's wrong picks are its worst ones not already shown as hardest
    chosen = choose_saliency_samples(collected, 200, top_k=3)
    hardest = {r for r, why in chosen.items() if why == "hardest"}
    assert len(hardest) == 3
    for k in range(3):
        wrong = np.flatnonzero((collected.labels == k) & ~collected.correct)
        rest = [r for r in wrong[np.argsort(-collected.loss[wrong])] if r not in hardest]
        assert {r for r, why in chosen.items() if why == "wrong" and collected.labels[r] == k} == set(rest[:2])


def test_small_and_zero_budgets():
    collected = make_collected(n=30, k=5)
    assert choose_saliency_samples(collected, 0, top_k=5) == {}
    assert len(choose_saliency_samples(collected, 3, top_k=5)) == 3


def test_without_a_model_the_sections_say_so():
    collected = make_collected(n=12, k=3)
    result = saliency_maps.run(collected)
    assert result.note and result.json()["saliency"]["samples"] == []
    assert "No model" in insides.run(collected).filters_note


# --- every model format -------------------------------------------------------------------------------------
@pytest.fixture(scope="module", params=FORMATS)
def format_sections(request, model_files, image_tree):
    collected, inputs = collected_and_inputs(model_files[request.param], image_tree, request.param,
                                             saliency_samples=6)
    return (request.param, collected, analyse(saliency_maps, collected, **inputs).result,
            analyse(insides, collected, **inputs).result)


def test_each_format_gives_maps_or_a_sentence(format_sections):
    fmt, collected, saliency, inside = format_sections
    samples = [s for c in saliency.classes for s in c["samples"]]
    assert len(samples) == 6 and len(saliency.json()["saliency"]["samples"]) == 6
    for sample in samples:
        assert [p["caption"] for p in sample["strip"]] == ["source", "baseline", "saliency", "delta", "overlay"]
        assert len(sample["class_maps"]) == 3  # 3 classes: all are in the top 5
        assert sample["class_maps"][0]["role"].startswith("pred")
    scripted = fmt in ("script", "trace")
    if scripted:
        assert saliency.cam_layer is None and saliency.cam_note == SCRIPT
        assert all(not s["cams"] for s in samples)
        assert "TorchScript" in inside.maps_note and not inside.layers
    else:
        assert saliency.cam_layer == "conv2"
        assert all(1 <= len(s["cams"]) <= 2 for s in samples)
        assert [layer["name"] for layer in inside.layers] == ["conv1", "conv2"]
    assert inside.filters["layer"] == "conv1"
    json.loads(dumps_json({**saliency.json(), **inside.json()}))  # serialisable, no NaN


def test_formats_agree_on_the_numbers(model_files, image_tree):
    def totals(fmt):
        collected, inputs = collected_and_inputs(model_files[fmt], image_tree, fmt, saliency_samples=4)
        samples = analyse(saliency_maps, collected, **inputs).json()["saliency"]["samples"]
        return {s["path"]: s["overlay_sum"] for s in samples}

    reference = totals("state_dict")
    for fmt in ("pt2", "script"):
        for path, per_class in totals(fmt).items():
            for name, value in per_class.items():
                assert value == pytest.approx(reference[path][name], rel=1e-4, abs=1e-5), (fmt, path, name)


@pytest.mark.parametrize("layer, shown", [("conv1", True), ("hidden", False), ("nope", False)])
def test_cam_layer_option(model_files, image_tree, layer, shown):
    collected, inputs = collected_and_inputs(model_files["pt2"], image_tree, "pt2", saliency_samples=2,
                                             cam_layer=layer)
    result = analyse(saliency_maps, collected, **inputs).result
    samples = [s for c in result.classes for s in c["samples"]]
    assert all(bool(s["cams"]) == shown for s in samples)
    assert result.json()["saliency"]["grad_cam"]["layer"] == (layer if shown else None)
    assert layer in result.cam_note


# --- the page -----------------------------------------------------------------------------------------------
def decode_image(uri: str) -> Image.Image:
    """A data URI's image, checked to be the format its MIME type says (PNG maps, a WebP source panel)."""
    mime = uri.split(";", 1)[0].removeprefix("data:")
    assert mime in ("image/png", "image/webp") and ";base64," in uri
    image = Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])))
    assert image.format == mime.split("/")[1].upper()
    return image


def test_report_page_shows_saliency_and_insides(demo_like_report):
    soup = BeautifulSoup(demo_like_report.html_path.read_text(encoding="utf-8"), "html.parser")
    report = json.loads(demo_like_report.json_path.read_text())
    saliency = soup.find("section", id="saliency")
    folds = saliency.select("details.rg-lazy")
    # one fold per class, the first open; each class's samples wait in an inert <template> until it opens
    assert len(folds) == 3 and folds[0].has_attr("open") and not folds[1].has_attr("open")
    assert saliency.select("div.saliency-sample") == []
    # what opening every fold does in the page (bs4 keeps a template's text apart: parse the markup again)
    saliency = BeautifulSoup(str(saliency).replace("<template>", "").replace("</template>", ""), "html.parser")
    samples = saliency.select("div.saliency-sample")
    assert len(samples) == len(report["saliency"]["samples"]) > 0
    assert {int(s["data-index"]) for s in samples} == {s["index"] for s in report["saliency"]["samples"]}
    for sample in samples[:10]:
        strip = sample.select(".saliency-row.strip figure")
        assert [f.figcaption.get_text() for f in strip] == ["source", "baseline", "saliency", "delta", "overlay"]
        assert len(sample.select(".saliency-row.classes img")) == 3  # the tiny tree has 3 classes
        assert 1 <= len(sample.select(".saliency-row.cams img")) <= 2
        for img in sample.find_all("img"):
            decode_image(img["src"])
    assert report["saliency"]["grad_cam"]["layer"] == "conv2"
    insides = soup.find("section", id="insides")
    decode_image(insides.select_one("img.filter-grid")["src"])
    assert len(insides.select("img.feature-grid")) == 4  # 2 layers x 2 samples
    assert report["network_insides"]["feature_map_layers"] == ["conv1", "conv2"]
    logits = insides.select("#insides-logits tbody tr")
    assert len(logits) == 3 and set(report["network_insides"]["final_layer"]) == {"most confident", "least confident"}
