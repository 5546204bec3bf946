"""Bad, hostile and odd input: each case ends in a report that lists the problem, or in ONE clear error line
(which file, what is wrong, what to do) with a non-zero exit; never a traceback, never a hang."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import tiny_models
import torch
from click.testing import CliRunner
from PIL import Image

from reportgen.cli import cli


def invoke(*args):
    return CliRunner().invoke(cli, [*map(str, args), "-q", "--projection", "pca", "--workers", "0",
                                    "--saliency-samples", "8"])


def assert_one_clear_line(result, *needles):
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("reportgen: error: "), result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def save_pickle(model_cls, path, tiny_model):
    model = model_cls()
    model.load_state_dict(tiny_model.state_dict())
    torch.save(model.eval(), path)
    return path


# --- model side ------------------------------------------------------------------------------------------------

def _truncated(files, tmp):
    data = files["pt2"].read_bytes()
    (tmp / "cut.pt2").write_bytes(data[: len(data) // 2])
    return tmp / "cut.pt2"


MODEL_CASES = {
    "missing file": (lambda f, t: t / "nope.pt2", [], ["nope.pt2", "no such model file"]),
    "random bytes": (lambda f, t: (t / "rand.pt").write_bytes(os.urandom(4000)) and t / "rand.pt", [],
                     ["rand.pt", "cannot be read as a PyTorch model"]),
    "truncated file": (_truncated, [], ["cut.pt2", "is the file complete"]),
    "pickle without trust": (lambda f, t: f["pickle"], [], ["--trust-model", "torch.export.save"]),
    "state_dict without arch": (lambda f, t: f["state_dict"], [], ["state_dict", "--arch"]),
    "arch does not fit": (lambda f, t: f["state_dict"], ["--arch", "resnet18"], ["missing", "conv1.weight"]),
    "unknown arch": (lambda f, t: f["state_dict"], ["--arch", "nonet99"], ["nonet99", "not a torchvision model"]),
    "cuda without cuda": (lambda f, t: f["pt2"], ["--device", "cuda"], ["no CUDA device"]),
    "bad device name": (lambda f, t: f["pt2"], ["--device", "tpu9"], ["tpu9"]),
}


@pytest.mark.parametrize("case", MODEL_CASES)
def test_model_side_errors(case, model_files, image_tree, tmp_path):
    if case == "cuda without cuda" and torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    make, extra, needles = MODEL_CASES[case]
    result = invoke(make(model_files, tmp_path), image_tree, "-o", tmp_path / "r.html", *extra)
    assert_one_clear_line(result, *needles)
    assert not (tmp_path / "r.html").exists()


def test_model_raising_in_forward(tiny_model, image_tree, tmp_path, monkeypatch):
    path = save_pickle(tiny_models.RaisingNet, tmp_path / "raise.pt", tiny_model)
    result = invoke(path, image_tree, "-o", tmp_path / "r.html", "--trust-model")
    assert_one_clear_line(result, "raised RuntimeError in forward", "shapes cannot be multiplied")


def test_output_count_differs(model_files, image_tree, tmp_path):
    result = invoke(model_files["pt2"], image_tree, "-o", tmp_path / "r.html", "--classes", "bar,dot")
    # the file the line names is the model; what to do: pass --classes in its output order, or check the model
    assert_one_clear_line(result, "outputs (3,) values per image but the data has 2 classes", "--classes")


@pytest.mark.parametrize("cls", [tiny_models.TupleNet, tiny_models.DictNet])
def test_tuple_and_dict_outputs_use_the_logits(cls, tiny_model, image_tree, tmp_path):
    reference = invoke(save_pickle(tiny_models.TinyNet, tmp_path / "plain.pt", tiny_model), image_tree,
                       "-o", tmp_path / "a.html", "--trust-model")
    other = invoke(save_pickle(cls, tmp_path / "odd.pt", tiny_model), image_tree, "-o", tmp_path / "b.html",
                   "--trust-model")
    assert reference.exit_code == 0 and other.exit_code == 0, other.output
    a, b = (json.loads((tmp_path / n).read_text()) for n in ("a.json", "b.json"))
    assert a["splits"]["val"]["confusion_matrix"] == b["splits"]["val"]["confusion_matrix"]


def test_nan_logits_are_flagged_and_numbers_stay_honest(tiny_model, image_tree, tmp_path):
    result = invoke(save_pickle(tiny_models.NaNNet, tmp_path / "nan.pt", tiny_model), image_tree,
                    "-o", tmp_path / "r.html", "--trust-model")
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "r.json").read_text())
    bad = report["n_nonfinite_logits"]
    assert 0 < bad < report["n_samples"]
    for split in report["splits"].values():
        matrix = np.array(split["confusion_matrix"])
        assert matrix.sum() == split["n_samples"] - split["n_nonfinite_logits"]
        assert split["accuracy"] <= np.trace(matrix) / split["n_samples"] + 1e-9
    assert "NaN or infinite logits" in (tmp_path / "r.html").read_text()


# --- data side -------------------------------------------------------------------------------------------------

DATA_ERRORS = {
    "missing path": (lambda t, tree: t / "nowhere", ["nowhere", "no such file or folder"]),
    "file instead of folder": (lambda t, tree: next(tree.rglob("*.png")), ["is a file", "image folder"]),
    "empty folder": (lambda t, tree: (t / "empty").mkdir() or t / "empty", ["no class folders"]),
    "class folders without images": (lambda t, tree: [(t / "e" / c).mkdir(parents=True) for c in "ab"] and t / "e",
                                     ["no image files"]),
}


@pytest.mark.parametrize("case", DATA_ERRORS)
def test_data_side_errors(case, model_files, image_tree, tmp_path):
    make, needles = DATA_ERRORS[case]
    result = invoke(model_files["pt2"], make(tmp_path, image_tree), "-o", tmp_path / "r.html")
    assert_one_clear_line(result, *needles)


def write_manifest(path: Path, rows, header=("path", "label")):
    path.write_text("\n".join([",".join(header), *(",".join(r) for r in rows)]) + "\n")
    return path


def test_manifest_with_missing_files_and_unknown_labels_lists_them(model_files, image_tree, tmp_path):
    images = sorted((image_tree / "val").glob("*/*.png"))
    rows = [(str(p), p.parent.name) for p in images]
    rows += [("gone.png", "dot"), (str(images[0]), "unicorn")]
    write_manifest(tmp_path / "m.csv", rows)
    result = invoke(model_files["pt2"], tmp_path / "m.csv", "-o", tmp_path / "r.html", "--classes", "bar,dot,ring")
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "r.json").read_text())
    reasons = {s["path"]: s["reason"] for s in report["skipped"]}
    assert "file not found" in reasons["gone.png"] and "unicorn" in reasons[str(images[0])]
    assert report["n_samples"] == len(images) and report["n_skipped"] == 2


def test_manifest_missing_column(model_files, tmp_path):
    write_manifest(tmp_path / "m.csv", [("a.png", "dot")], header=("file", "label"))
    assert_one_clear_line(invoke(model_files["pt2"], tmp_path / "m.csv", "-o", tmp_path / "r.html"),
                          "m.csv", "needs a path column")


def test_unlabelled_manifest_whose_files_are_gone(model_files, tmp_path):
    # no label column: an unlabelled manifest (a predictions-only report), but it must still name real images
    write_manifest(tmp_path / "m.csv", [("a.png",)], header=("path",))
    assert_one_clear_line(invoke(model_files["pt2"], tmp_path / "m.csv", "-o", tmp_path / "r.html"),
                          "m.csv", "none of its 1 rows names an existing image")


@pytest.fixture()
def messy_tree(image_tree, tmp_path):
    """The val tree plus every kind of odd file a real folder holds."""
    root = tmp_path / "messy"
    shutil.copytree(image_tree / "val", root)
    dot, ring, bar = root / "dot", root / "ring", root / "bar"
    (dot / "zero.png").write_bytes(b"")
    good = (dot / "dot_00.png").read_bytes()
    (dot / "truncated.png").write_bytes(good[: len(good) // 2])
    (dot / "notes.jpg").write_text("this is text, not a JPEG")
    (dot / "README.txt").write_text("not an image at all")
    rgb = np.stack([np.asarray(Image.open(dot / "dot_01.png"))] * 3, axis=-1)
    Image.fromarray(rgb).convert("CMYK").save(ring / "cmyk.jpg")
    Image.fromarray((np.asarray(Image.open(ring / "ring_00.png"), dtype=np.uint16) * 257)).save(ring / "sixteen.png")
    pal = Image.open(bar / "bar_00.png").convert("P")
    pal.save(bar / "palette.png", transparency=0)
    Image.open(bar / "bar_01.png").convert("LA").save(bar / "la.png")
    Image.open(bar / "bar_02.png").save(bar / "webp.webp")
    tall = Image.open(bar / "bar_03.png").convert("RGB").resize((32, 16))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 on display
    tall.save(bar / "exif_rotated.jpg", exif=exif)
    Image.new("L", (6000, 6000), 40).save(ring / "huge.jpg", quality=50)
    os.symlink(dot, dot / "loop")  # a folder that contains itself
    (root / "bar" / "name with spaces & <b onclick=x>.png").write_bytes((bar / "bar_04.png").read_bytes())
    with open(os.fsencode(root / "bar") + b"/caf\xe9-latin1.png", "wb") as handle:
        handle.write((bar / "bar_05.png").read_bytes())
    (root / "empty_class").mkdir()
    return root


def test_messy_folder_is_analysed_and_every_file_accounted_for(model_files, messy_tree, tmp_path):
    result = invoke(model_files["pt2"], messy_tree, "-o", tmp_path / "r.html", "--classes", "bar,dot,ring,empty_class")
    # the model has 3 outputs: a 4th (empty) class is refused, in one line saying what to pass ...
    assert_one_clear_line(result, "data has 4 classes", "--classes")
    result = invoke(model_files["pt2"], messy_tree, "-o", tmp_path / "r.html", "--classes", "bar,dot,ring")
    assert result.exit_code == 0, result.output  # ... and without it, the folder is reported as not in --classes
    report = json.loads((tmp_path / "r.json").read_text())
    reasons = {Path(s["path"]).name: s["reason"] for s in report["skipped"]}
    assert set(reasons) == {"zero.png", "truncated.png", "notes.jpg", "README.txt"}
    assert "empty" in reasons["zero.png"] and "extension" in reasons["README.txt"]
    analysed = {Path(s["path"]).name for s in report["samples"]}
    for name in ("cmyk.jpg", "sixteen.png", "palette.png", "la.png", "webp.webp", "exif_rotated.jpg", "huge.jpg",
                 "name with spaces & <b onclick=x>.png", "caf\\xe9-latin1.png"):
        assert name in analysed, name
    # files found = analysed + skipped, per split and class, and overall
    found_on_disk = sum(1 for p in messy_tree.rglob("*") if p.is_file() and "loop" not in p.parts)
    assert report["n_samples"] + report["n_skipped"] == found_on_disk
    for classes in report["splits"][messy_tree.name]["file_counts"].values():
        assert classes["found"] == classes["analysed"] + classes["skipped"]


def test_decoded_modes_are_right(messy_tree):
    from reportgen.data.decode import open_image

    assert open_image(messy_tree / "bar" / "exif_rotated.jpg", 1).size == (16, 32)  # upright: taller than wide
    sixteen = np.asarray(open_image(messy_tree / "ring" / "sixteen.png", 1))
    original = np.asarray(open_image(messy_tree / "ring" / "ring_00.png", 1))
    assert np.abs(sixteen.astype(int) - original).max() <= 1  # scaled from 16 bits, not clipped at 255
    assert open_image(messy_tree / "ring" / "cmyk.jpg", 3).mode == "RGB"
    palette = np.asarray(open_image(messy_tree / "bar" / "palette.png", 1))
    assert palette.max() == 255  # transparent pixels composited on white


def test_unwritable_output(model_files, image_tree, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):
            blocker = tmp_path / "afile"
            blocker.write_text("x")
            target = blocker / "r.html"  # a path under a file can't be created, even as root
        else:
            target = locked / "r.html"
        assert_one_clear_line(invoke(model_files["pt2"], image_tree, "-o", target), "cannot write there")
    finally:
        locked.chmod(0o700)
