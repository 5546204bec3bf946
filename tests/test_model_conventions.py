"""Models as the big libraries make them: a timm model carries its preprocessing (input size, crop, mean/std) and
reportgen uses it; a torchvision architecture's state_dict gets its default weights' transforms; a Hugging
Face-style forward that returns a ModelOutput is read for its logits; a whole pickled model finds its class in
the folder it is run from. Nothing here downloads weights: every model is built with pretrained=False."""

from __future__ import annotations

import json
import os
from collections import OrderedDict

import pytest
import torch
from click.testing import CliRunner
from conftest import CLASSES
from tiny_models import TinyNet

from reportgen import build_report
from reportgen.cli import cli
from reportgen.errors import ReportgenError
from reportgen.model.input_spec import IMAGENET_MEAN, infer_input_spec

FAST = {"quiet": True, "projection": "pca", "workers": 0, "saliency_samples": 4}


def test_timm_model_brings_its_own_preprocessing(image_tree, tmp_path):
    timm = pytest.importorskip("timm")
    model = timm.create_model("test_resnet", pretrained=False, num_classes=3).eval()  # 160 px, crop 0.95, mean .5
    spec = infer_input_spec(model)
    assert spec.size == (160, 160) and spec.resize == round(160 / 0.95) and spec.channels == 3
    assert spec.mean == (0.5, 0.5, 0.5) and "timm's pretrained_cfg" in spec.source
    report = build_report(model, image_tree / "val", tmp_path / "r.html", json_path=tmp_path / "r.json",
                          **FAST).report
    assert "3x160x160 (resized to 168, centre-cropped)" in report["model"]["input"]
    assert report["n_samples"] == 24
    # the user's word wins over the convention
    assert infer_input_spec(model, normalize="imagenet", image_size=(96, 128)).mean == IMAGENET_MEAN
    assert infer_input_spec(model, image_size=(96, 128)).size == (96, 128)


def test_timm_state_dict_by_name(image_tree, tmp_path):
    timm = pytest.importorskip("timm")
    torch.manual_seed(0)
    model = timm.create_model("test_resnet", pretrained=False, num_classes=3).eval()
    torch.save(model.state_dict(), tmp_path / "weights.pt")
    result = CliRunner().invoke(cli, [str(tmp_path / "weights.pt"), str(image_tree / "val"), "--arch", "timm:test_resnet",
                                      "-o", str(tmp_path / "t.html"), "-q", "--projection", "pca", "--workers", "0",
                                      "--saliency-samples", "2"])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "t.json").read_text())
    assert "timm's pretrained_cfg" in report["model"]["input"] and report["model"]["arch"] == "timm:test_resnet"
    memory = build_report(model, image_tree / "val", tmp_path / "m.html", json_path=tmp_path / "m.json", **FAST).report
    assert memory["splits"]["val"]["accuracy"] == report["splits"]["val"]["accuracy"]
    bad = CliRunner().invoke(cli, [str(tmp_path / "weights.pt"), str(image_tree / "val"), "--arch", "timm:no_such_net",
                                   "-o", str(tmp_path / "x.html"), "-q"])
    assert bad.exit_code == 2 and "not a timm model name" in bad.stderr


def test_torchvision_architecture_uses_its_weights_transforms():
    import torchvision

    spec = infer_input_spec(torchvision.models.resnet18(weights=None), arch="resnet18")
    assert spec.size == (224, 224) and spec.resize == 256 and spec.mean == IMAGENET_MEAN
    assert "torchvision's resnet18 default weights' transforms" in spec.source


def test_normalize_and_mean_are_exclusive():
    with pytest.raises(ReportgenError, match="not both"):
        infer_input_spec(TinyNet(), normalize="imagenet", mean=(0.5,))


class ModelOutputNet(TinyNet):
    """The Hugging Face way: forward returns a ModelOutput (an OrderedDict with a logits field) and a loss of None."""

    def forward(self, x):
        out = OrderedDict(loss=None, logits=super().forward(x), hidden_states=None)
        return out


def test_hugging_face_style_output_and_a_forward_that_returns_no_logits(tiny_model, image_tree, tmp_path):
    model = ModelOutputNet()
    model.load_state_dict(tiny_model.state_dict())
    report = build_report(model.eval(), image_tree / "val", tmp_path / "r.html", json_path=tmp_path / "r.json",
                          **FAST).report
    plain = build_report(tiny_model, image_tree / "val", tmp_path / "p.html", json_path=tmp_path / "p.json",
                         **FAST).report
    assert report["splits"]["val"]["accuracy"] == plain["splits"]["val"]["accuracy"]

    class Strings(TinyNet):
        def forward(self, x):
            return "no tensor here"

    with pytest.raises(ReportgenError, match="returned builtins.str, not logits"):
        build_report(Strings().eval(), image_tree / "val", tmp_path / "s.html", **FAST)


def test_trusted_pickle_finds_its_class_in_the_working_folder(tiny_model, image_tree, tmp_path, monkeypatch):
    """torch.save(model) stores the class by module name: run from the folder that holds the module, as users do."""
    source = (os.path.dirname(__file__) + "/tiny_models.py")
    (tmp_path / "my_nets.py").write_text(open(source).read())
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    import my_nets

    model = my_nets.TinyNet()
    model.load_state_dict(tiny_model.state_dict())
    torch.save(model.eval(), tmp_path / "whole.pt")
    monkeypatch.delitem(__import__("sys").modules, "my_nets")
    args = ["whole.pt", str(image_tree / "val"), "--trust-model", "-o", "r.html", "-q", "--projection", "pca",
            "--workers", "0", "--saliency-samples", "2"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    os.rename(tmp_path / "my_nets.py", tmp_path / "elsewhere.py")
    __import__("sys").modules.pop("my_nets", None)
    gone = CliRunner().invoke(cli, args[:3] + ["-o", "r2.html", "-q"])
    assert gone.exit_code == 2 and "needs 'my_nets.TinyNet'" in gone.stderr and "run reportgen from the folder" in gone.stderr


def test_image_size_flag_takes_height_and_width(model_files, image_tree, tmp_path):
    result = CliRunner().invoke(cli, [str(model_files["script"]), str(image_tree / "val"), "--image-size", "16,20",
                                      "--normalize", "none", "-o", str(tmp_path / "r.html"), "-q", "--projection",
                                      "pca", "--workers", "0", "--saliency-samples", "2"])
    assert result.exit_code == 0, result.output
    assert "1x16x20" in json.loads((tmp_path / "r.json").read_text())["model"]["input"]
    bad = CliRunner().invoke(cli, [str(model_files["script"]), str(image_tree / "val"), "--image-size", "16,x"])
    assert bad.exit_code == 2 and "height,width" in bad.output


def test_class_names_follow_the_classes_option(tiny_model, image_tree, tmp_path):
    report = build_report(tiny_model, image_tree / "val", tmp_path / "r.html", json_path=tmp_path / "r.json",
                          classes=CLASSES, **FAST).report
    assert report["classes"] == CLASSES
