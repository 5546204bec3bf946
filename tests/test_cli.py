import csv
import json
import shutil

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from conftest import CLASSES
from PIL import Image
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from reportgen.cli import cli


def run(args, cwd=None):
    result = CliRunner().invoke(cli, [*args, "-q", "--projection", "pca", "--workers", "0"])
    return result


def expected_predictions(model, root, split):
    paths = sorted((root / split).glob("*/*.png"))
    x = torch.stack([torch.from_numpy(np.asarray(Image.open(p), dtype=np.float32) / 255.0)[None] for p in paths])
    with torch.no_grad():
        preds = model(x).argmax(1).numpy()
    labels = np.array([CLASSES.index(p.parent.name) for p in paths])
    return labels, preds


@pytest.mark.parametrize("kind, extra", [("pt2", []), ("script", []), ("trace", []),
                                         ("state_dict", ["--arch", "tiny_models:make_tiny_net"]),
                                         ("pickle", ["--trust-model"])])
def test_every_format_over_train_and_val_equals_sklearn(model_files, image_tree, tiny_model, tmp_path,
                                                        monkeypatch, kind, extra):
    monkeypatch.chdir(model_files["pt2"].parent)  # --arch module:factory imports from the current folder
    out = tmp_path / "r.html"
    result = run([str(model_files[kind]), str(image_tree), "-o", str(out), *extra])
    assert result.exit_code == 0, result.output
    report = json.loads(out.with_suffix(".json").read_text())
    assert list(report["splits"]) == ["train", "val"]
    for split in ("train", "val"):
        labels, preds = expected_predictions(tiny_model, image_tree, split)
        got = report["splits"][split]
        assert got["confusion_matrix"] == confusion_matrix(labels, preds, labels=range(3)).tolist()
        assert got["accuracy"] == pytest.approx((labels == preds).mean())
        precision, recall, f1, support = precision_recall_fscore_support(labels, preds, labels=range(3),
                                                                         zero_division=0)
        for i, name in enumerate(CLASSES):
            row = got["per_class"][name]
            assert row["precision"] == pytest.approx(precision[i])
            assert row["recall"] == pytest.approx(recall[i])
            assert row["f1"] == pytest.approx(f1[i])
            assert row["support"] == support[i]
    assert report["embedding"]["layer"] == "fc"
    assert report["model"]["sha256"] and report["provenance"]["data_fingerprint"]


def test_flat_imagefolder_and_csv_manifest_agree(model_files, image_tree, tmp_path):
    val = image_tree / "val"
    manifest = tmp_path / "manifest.csv"
    with open(manifest, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["path", "label"])
        for p in sorted(val.glob("*/*.png")):
            writer.writerow([str(p), p.parent.name])
    a = run([str(model_files["pt2"]), str(val), "-o", str(tmp_path / "a.html")])
    b = run([str(model_files["pt2"]), str(manifest), "-o", str(tmp_path / "b.html")])
    assert a.exit_code == 0 and b.exit_code == 0, a.output + b.output
    ja = json.loads((tmp_path / "a.json").read_text())
    jb = json.loads((tmp_path / "b.json").read_text())
    (sa,), (sb,) = ja["splits"].values(), jb["splits"].values()
    assert sa["confusion_matrix"] == sb["confusion_matrix"] and sa["n_samples"] == 24


def test_classes_option_reorders_indices(model_files, image_tree, tmp_path):
    result = run([str(model_files["pt2"]), str(image_tree / "val"), "-o", str(tmp_path / "r.html"),
                  "--classes", "ring,dot,bar"])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["classes"] == ["ring", "dot", "bar"]


def test_output_count_mismatch_is_one_clear_line(model_files, image_tree, tmp_path):
    tree = tmp_path / "four"
    shutil.copytree(image_tree / "val", tree)
    shutil.copytree(tree / "dot", tree / "extra")
    result = run([str(model_files["pt2"]), str(tree), "-o", str(tmp_path / "r.html")])
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1
    assert "outputs (3,) values per image but the data has 4 classes" in result.output
    assert "pass --classes in the model's output order" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "r.html").exists()


def test_untrusted_pickle_exit_code_and_message(model_files, image_tree, tmp_path):
    result = run([str(model_files["pickle"]), str(image_tree), "-o", str(tmp_path / "r.html")])
    assert result.exit_code == 2
    assert result.output.startswith("reportgen: error:") and "--trust-model" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_every_command_has_help():
    for name, command in cli.commands.items():
        result = CliRunner().invoke(cli, [name, "--help"])
        assert result.exit_code == 0 and command.help and "Usage" in result.output
    top = CliRunner().invoke(cli, ["--help"])
    assert "demo" in top.output and "report" in top.output


def test_progress_bars_go_to_stderr_and_quiet_silences_them(model_files, image_tree, tmp_path):
    runner = CliRunner()
    noisy = runner.invoke(cli, [str(model_files["pt2"]), str(image_tree), "-o", str(tmp_path / "a.html"),
                                "--projection", "pca", "--workers", "0"])
    quiet = runner.invoke(cli, [str(model_files["pt2"]), str(image_tree), "-o", str(tmp_path / "b.html"),
                                "--projection", "pca", "--workers", "0", "-q"])
    assert "collect" in noisy.stderr and "collect" not in quiet.stderr
    assert "wrote" in quiet.stdout


def test_batch_size_auto_and_amp(model_files, image_tree, tmp_path):
    exact = run([str(model_files["pt2"]), str(image_tree), "-o", str(tmp_path / "a.html")])
    amp = run([str(model_files["pt2"]), str(image_tree), "-o", str(tmp_path / "b.html"), "--amp", "--batch-size", "16"])
    assert exact.exit_code == 0 and amp.exit_code == 0, amp.output
    a, b = (json.loads((tmp_path / n).read_text()) for n in ("a.json", "b.json"))
    assert a["provenance"]["batch_size"] == 128 and a["provenance"]["amp"] is False  # auto on CPU
    assert b["provenance"]["batch_size"] == 16 and b["provenance"]["amp"] is True
    # bfloat16 moves the losses a little, not the predictions of this well-separated toy set
    assert a["splits"]["val"]["confusion_matrix"] == b["splits"]["val"]["confusion_matrix"]
    la = np.array([s["loss"] for s in a["samples"]])
    lb = np.array([s["loss"] for s in b["samples"]])
    assert np.abs(la - lb).max() < 0.1
    bad = run([str(model_files["pt2"]), str(image_tree), "-o", str(tmp_path / "c.html"), "--batch-size", "many"])
    assert bad.exit_code == 2 and "whole number or auto" in bad.output


def test_the_command_hides_third_party_deprecation_notices_and_keeps_real_warnings():
    import warnings

    from reportgen.runtime.third_party_warnings import hide_third_party_notices

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        hide_third_party_notices()
        warnings.warn_explicit("old API", FutureWarning, "x.py", 1, module="torch.jit._script")
        warnings.warn_explicit("Detected pickle protocol 4 in the checkpoint", UserWarning, "x.py", 1, module="torch")
        warnings.warn_explicit("the model returned NaN", UserWarning, "x.py", 1, module="torch.nn")
        warnings.warn_explicit("ours", FutureWarning, "x.py", 1, module="reportgen.pipeline")
    assert [str(w.message) for w in seen] == ["the model returned NaN", "ours"]
