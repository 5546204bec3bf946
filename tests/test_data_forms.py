"""Data where users hold it: a torchvision dataset (with and without its own transform), a DataLoader, a dict of
splits, a Hugging Face Dataset/DatasetDict in memory or saved to disk, Parquet shards in the Hugging Face
layout, unlabelled images (with labelled data as --reference). Each form must give the numbers the same images
give as files on disk, and say what it could not use."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from conftest import CLASSES
from PIL import Image

from reportgen import build_report
from reportgen.cli import cli
from reportgen.data.open import open_data
from reportgen.data.source import NO_LABEL
from reportgen.errors import ReportgenError

FAST = {"quiet": True, "projection": "pca", "workers": 0, "saliency_samples": 4}


def report_of(model, data, tmp_path, name="r", **options) -> dict:
    result = build_report(model, data, tmp_path / f"{name}.html", json_path=tmp_path / f"{name}.json",
                          **(FAST | options))
    return result.report


def per_sample(report: dict) -> dict[tuple[str, str], float]:
    """(split, label) -> sorted losses: the same images in any form give the same multiset per cell."""
    cells: dict = {}
    for s in report["samples"]:
        cells.setdefault((s["split"], s["label"]), []).append(round(s["loss"], 4))
    return {k: sorted(v) for k, v in cells.items()}


@pytest.fixture(scope="module")
def on_disk(tiny_model, image_tree, tmp_path_factory) -> dict:
    return report_of(tiny_model, image_tree, tmp_path_factory.mktemp("disk"))


def test_torchvision_image_folders_in_memory_match_the_files(tiny_model, image_tree, on_disk, tmp_path):
    from torchvision.datasets import ImageFolder

    splits = {"train": ImageFolder(image_tree / "train"), "val": ImageFolder(image_tree / "val")}
    report = report_of(tiny_model, splits, tmp_path)
    assert report["classes"] == CLASSES  # ImageFolder's .classes
    assert report["n_samples"] == on_disk["n_samples"]
    assert per_sample(report) == per_sample(on_disk)
    assert report["samples"][0]["path"] == "train[0]"
    assert report["model"]["format"] == "in memory"
    assert report["provenance"]["data_fingerprint"] == report_of(tiny_model, splits, tmp_path, "again")[
        "provenance"]["data_fingerprint"]


def test_a_dataset_with_its_own_transform_and_a_dataloader(tiny_model, image_tree, on_disk, tmp_path):
    """ToTensor is the model's own preprocessing (no normalisation): tensors used as they are, same numbers;
    a DataLoader is read through its dataset, in reportgen's batches."""
    from torchvision import transforms
    from torchvision.datasets import ImageFolder

    val = ImageFolder(image_tree / "val", transform=transforms.Compose([transforms.Grayscale(), transforms.ToTensor()]))
    loader = torch.utils.data.DataLoader(val, batch_size=5, shuffle=True)
    report = report_of(tiny_model, loader, tmp_path)
    disk_val = {k[1]: v for k, v in per_sample(on_disk).items() if k[0] == "val"}
    assert {k[1]: v for k, v in per_sample(report).items()} == disk_val
    wrong = ImageFolder(image_tree / "val", transform=transforms.ToTensor())  # ImageFolder's loader gives RGB
    with pytest.raises(ReportgenError, match="makes 3-channel tensors but the model takes 1; add transforms.Grayscale"):
        report_of(tiny_model, wrong, tmp_path, "wrong")


def test_model_in_memory_is_handed_back_as_it_was(tiny_model, image_tree, tmp_path):
    tiny_model.train()
    try:
        report_of(tiny_model, image_tree / "val", tmp_path)
        assert tiny_model.training, "the caller's module was left in eval mode"
        assert all(p.requires_grad for p in tiny_model.parameters())
        hooks = [m for m in tiny_model.modules() if m._forward_hooks or m._forward_pre_hooks or m._backward_hooks
                 or getattr(m, "_full_backward_hooks", None)]
        assert not hooks, f"hooks left on {hooks}"
    finally:
        tiny_model.eval()


def test_in_memory_run_equals_cli_run_on_the_exported_model(tiny_model, model_files, image_tree, tmp_path):
    from torchvision.datasets import ImageFolder

    memory = report_of(tiny_model, {"val": ImageFolder(image_tree / "val")}, tmp_path, "memory")
    result = CliRunner().invoke(cli, [str(model_files["pt2"]), str(image_tree / "val"), "-o", str(tmp_path / "c.html"),
                                       "-q", "--projection", "pca", "--workers", "0"])
    assert result.exit_code == 0, result.output
    command = json.loads((tmp_path / "c.json").read_text())
    assert memory["splits"]["val"]["accuracy"] == command["splits"]["val"]["accuracy"]
    assert {k[1]: v for k, v in per_sample(memory).items()} == {k[1]: v for k, v in per_sample(command).items()}


def test_fake_rgb_data_without_class_names(tmp_path):
    """torchvision's FakeData: RGB, 5 classes, no .classes: names are the model's output indices."""
    from tiny_models import TinyNet
    from torchvision.datasets import FakeData

    torch.manual_seed(0)
    model = TinyNet(num_classes=5, channels=3).eval()
    report = report_of(model, FakeData(size=30, image_size=(3, 24, 24), num_classes=5, random_offset=1), tmp_path)
    assert report["classes"] == ["0", "1", "2", "3", "4"]
    assert report["n_samples"] == 30 and report["n_skipped"] == 0
    assert "3x24x24" in report["model"]["input"]


def hf_dataset(image_tree, split: str, labels=True):
    datasets = pytest.importorskip("datasets")
    paths = sorted((image_tree / split).glob("*/*.png"))
    columns = {"image": [Image.open(p).copy() for p in paths]}
    features = {"image": datasets.Image()}
    if labels:
        columns["label"] = [CLASSES.index(p.parent.name) for p in paths]
        features["label"] = datasets.ClassLabel(names=CLASSES)
    return datasets.Dataset.from_dict(columns, features=datasets.Features(features))


def test_hugging_face_datasetdict_in_memory_and_saved_to_disk(tiny_model, model_files, image_tree, on_disk,
                                                             tmp_path):
    datasets = pytest.importorskip("datasets")
    splits = datasets.DatasetDict({"train": hf_dataset(image_tree, "train"), "val": hf_dataset(image_tree, "val")})
    report = report_of(tiny_model, splits, tmp_path)
    assert report["classes"] == CLASSES  # from the ClassLabel feature
    assert per_sample(report) == per_sample(on_disk)
    splits.save_to_disk(str(tmp_path / "saved"))
    result = CliRunner().invoke(cli, [str(model_files["pt2"]), str(tmp_path / "saved"), "-o", str(tmp_path / "s.html"),
                                       "-q", "--projection", "pca", "--workers", "0"])
    assert result.exit_code == 0, result.output
    assert per_sample(json.loads((tmp_path / "s.json").read_text())) == per_sample(on_disk)


def test_hugging_face_test_split_without_labels_is_listed_not_scored(tiny_model, image_tree, tmp_path):
    datasets = pytest.importorskip("datasets")
    test = hf_dataset(image_tree, "val").map(lambda row: {"label": -1})
    source = open_data(datasets.DatasetDict({"val": hf_dataset(image_tree, "val"), "test": test}))
    assert source.labelled and len(source.samples) == len(test)
    assert len(source.skipped) == len(test) and all(s.reason == NO_LABEL for s in source.skipped)
    report = report_of(tiny_model, datasets.DatasetDict({"val": hf_dataset(image_tree, "val"), "test": test}),
                       tmp_path)
    assert report["n_skipped"] == len(test) and report["splits"]["test"]["n_samples"] == 0
    assert report["skipped"][0]["path"] == "test[0]"


def write_parquet_shards(image_tree, folder, splits=(("train", "train"), ("val", "validation"))):
    """The Hugging Face Hub layout: data/<split>-0000i-of-0000n.parquet with the features in the metadata."""
    for split, name in splits:
        dataset = hf_dataset(image_tree, split)
        half = len(dataset) // 2
        for i, part in enumerate((dataset.select(range(half)), dataset.select(range(half, len(dataset))))):
            part.to_parquet(str(folder / "data" / f"{name}-{i:05d}-of-00002.parquet"))
    return folder


def test_parquet_shards_in_the_hub_layout(model_files, image_tree, on_disk, tmp_path):
    pytest.importorskip("pyarrow")
    root = write_parquet_shards(image_tree, tmp_path / "pq")
    (root / "data" / "validation-00002-of-00003.parquet").write_bytes(b"PAR1 not really")
    result = CliRunner().invoke(cli, [str(model_files["pt2"]), str(root), "-o", str(tmp_path / "p.html"), "-q",
                                       "--projection", "pca", "--workers", "2"])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "p.json").read_text())
    assert report["classes"] == CLASSES and list(report["splits"]) == ["train", "validation"]
    renamed = {("val" if k[0] == "validation" else k[0], k[1]): v for k, v in per_sample(report).items()}
    assert renamed == per_sample(on_disk)
    assert report["samples"][0]["path"] == "data/train-00000-of-00002.parquet#0"
    assert [s["path"] for s in report["skipped"]] == ["data/validation-00002-of-00003.parquet"]
    assert "not a readable Parquet file" in report["skipped"][0]["reason"]


def test_unlabelled_images_with_labelled_reference(model_files, image_tree, tmp_path, browser):
    """A flat folder of images: predictions only (no accuracy anywhere), placed against labelled --reference."""
    flat = tmp_path / "incoming"
    flat.mkdir()
    for path in sorted((image_tree / "val").glob("*/*.png")):
        shutil.copy(path, flat / f"{path.parent.name}_{path.name}")
    Image.fromarray(np.full((16, 16), 255, np.uint8), "L").save(flat / "white.png")  # an over-exposed frame
    (flat / "notes.txt").write_text("not an image")
    result = CliRunner().invoke(cli, [str(model_files["pt2"]), str(flat), "--reference", str(image_tree / "train"),
                                       "--classes", ",".join(CLASSES), "-o", str(tmp_path / "u.html"),
                                       "--projection", "pca", "--workers", "0", "-q"])
    assert result.exit_code == 0, result.output
    assert "no labels: predictions only" in result.output
    report = json.loads((tmp_path / "u.json").read_text())
    assert report["labelled"] is False and report["headline"]["accuracy"] is None
    assert report["n_samples"] == 25 and report["n_skipped"] == 1
    assert sum(report["predictions"]["class_counts"].values()) == 25
    assert "mislabels" not in report and "confusion" not in report
    from reportgen import pr_markdown

    assert "| mean confidence (no labels: predictions only) |" in pr_markdown(report)
    reference = report["reference"]
    assert reference["n_reference"] == len(list((image_tree / "train").glob("*/*.png")))
    assert reference["farthest"][0]["path"] == "white.png" and reference["farthest"][0]["far"]
    page = browser.new_page()
    page.goto((tmp_path / "u.html").as_uri())
    page.wait_for_selector("body[data-ready=true]")
    options = page.eval_on_selector_all("#projection-colour option", "els => els.map(e => e.value)")
    assert "label" not in options and "correct" not in options and options[0] == "pred"
    assert "mean confidence" in page.inner_text("#findings")
    page.close()


def test_an_evaluation_transform_for_files(tiny_model, image_tree, on_disk, tmp_path):
    """transform= prepares files as the user's evaluation does; its Normalize is read so the page's pictures are
    the images, not the normalised tensors."""
    from torchvision import transforms

    same = transforms.Compose([transforms.Grayscale(), transforms.ToTensor()])
    report = report_of(tiny_model, image_tree / "val", tmp_path, transform=same)
    disk_val = {k[1]: v for k, v in per_sample(on_disk).items() if k[0] == "val"}
    assert {k[1]: v for k, v in per_sample(report).items()} == disk_val
    shifted = transforms.Compose([transforms.Grayscale(), transforms.ToTensor(), transforms.Normalize((0.5,), (0.25,))])
    report = report_of(tiny_model, image_tree / "val", tmp_path, "n", transform=shifted)
    assert "mean [0.5], std [0.25]" in report["model"]["input"] and "given transform" in report["model"]["input"]


def test_a_datasets_own_normalize_turns_its_tensors_back_into_pictures(tiny_model, image_tree, tmp_path):
    from torchvision import transforms
    from torchvision.datasets import ImageFolder

    from reportgen.collect.dataset import Preprocess
    from reportgen.model.input_spec import infer_input_spec

    normalise = transforms.Compose([transforms.Grayscale(), transforms.ToTensor(), transforms.Normalize((0.5,), (0.25,))])
    val = ImageFolder(image_tree / "val", transform=normalise)
    source = open_data(val)
    assert source.normalize == ((0.5,), (0.25,))
    spec = infer_input_spec(tiny_model, data_normalize=source.normalize)
    tensor = source.reader.read(source.samples[0], 1, None).image
    picture = np.asarray(Preprocess(spec).picture(tensor), dtype=int)
    original = np.asarray(Image.open(val.samples[0][0]).convert("L"), dtype=int)
    assert np.abs(picture - original).max() <= 1
    report = report_of(tiny_model, val, tmp_path)
    assert "dataset's own transform's Normalize" in report["model"]["input"]


def test_a_flattening_mlp_says_its_channels(image_tree, tmp_path):
    """An MLP's first layer is Linear: nothing to read the channel count from; --channels / channels= says it."""
    torch.manual_seed(0)
    mlp = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(256, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3))
    report = report_of(mlp.eval(), image_tree / "val", tmp_path, channels=1)
    assert report["n_samples"] == 24 and "1 channel from --channels" in report["model"]["input"]
    with pytest.raises(ReportgenError, match="check --image-size, --mean/--std and the channel count"):
        report_of(mlp.eval(), image_tree / "val", tmp_path, "three")  # 3x16x16 = 768 inputs, not 256
