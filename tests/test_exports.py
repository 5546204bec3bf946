"""--export-csv (Bulk's path,x,y table) and --export-projector (TensorBoard Embedding Projector files)."""

import csv
import json
import math

import numpy as np
from click.testing import CliRunner
from PIL import Image

from reportgen.cli import cli


def test_csv_and_projector_files_match_the_report(model_files, image_tree, tmp_path):
    out, table, folder = tmp_path / "r.html", tmp_path / "bulk.csv", tmp_path / "projector"
    result = CliRunner().invoke(cli, [str(model_files["pt2"]), str(image_tree), "-o", str(out), "-q",
                                      "--projection", "pca", "--workers", "0", "--saliency-samples", "0",
                                      "--export-csv", str(table), "--export-projector", str(folder)])
    assert result.exit_code == 0, result.output
    report = json.loads(out.with_suffix(".json").read_text())
    n = report["n_samples"]

    with open(table, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0])[:3] == ["path", "x", "y"] and len(rows) == n
    for row, sample in zip(rows, report["samples"]):
        assert row["path"].endswith(sample["path"]) and (image_tree / sample["path"]).samefile(row["path"])
        assert float(row["x"]) == sample["x"] and float(row["y"]) == sample["y"]
        assert row["label"] == sample["label"] and row["prediction"] == sample["prediction"]

    tensors = np.loadtxt(folder / "tensors.tsv", delimiter="\t")
    assert tensors.shape == (n, report["embedding"]["dim"])
    metadata = (folder / "metadata.tsv").read_text().splitlines()
    assert metadata[0].split("\t")[:3] == ["path", "split", "label"] and len(metadata) == n + 1
    assert [line.split("\t")[0] for line in metadata[1:]] == [s["path"] for s in report["samples"]]
    config = (folder / "projector_config.pbtxt").read_text()
    assert 'tensor_path: "tensors.tsv"' in config and 'metadata_path: "metadata.tsv"' in config
    assert 'image_path: "sprite.png"' in config
    cell = int(config.split("single_image_dim: ")[1].split()[0])
    per_row = math.ceil(math.sqrt(n))
    with Image.open(folder / "sprite.png") as sprite:
        assert sprite.size == (per_row * cell, per_row * cell) and max(sprite.size) <= 8192
