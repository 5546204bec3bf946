"""Same inputs and seed, same numbers and coordinates; a failed run leaves no half-written report."""

import json

import pytest

from reportgen import build_report
from reportgen.errors import ReportgenError


def _run(model, data, out, **kwargs):
    return build_report(model, data, out / "r.html", json_path=out / "r.json", quiet=True, workers=0, **kwargs)


@pytest.mark.parametrize("method", ["umap", "tsne", "pca"])
def test_same_seed_same_coordinates(model_files, image_tree, tmp_path, method):
    a = _run(model_files["pt2"], image_tree, tmp_path / "a", projection=method, seed=3).report
    b = _run(model_files["pt2"], image_tree, tmp_path / "b", projection=method, seed=3).report
    assert a["projection"]["coordinates"] == b["projection"]["coordinates"]
    assert a["projection"]["method"] == method
    for key in ("accuracy", "mean_loss", "splits"):
        assert a[key] == b[key]


def test_failed_run_leaves_no_report_and_no_temp_files(model_files, tmp_path):
    out = tmp_path / "out"
    with pytest.raises(ReportgenError):
        _run(model_files["pt2"], tmp_path / "missing", out)
    assert not list(out.glob("*")) if out.exists() else True


def test_output_folder_is_created_and_json_is_strict(model_files, image_tree, tmp_path):
    result = _run(model_files["pt2"], image_tree, tmp_path / "new" / "deeper", projection="pca")
    assert result.html_path.exists()
    json.loads(result.json_path.read_text(), parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}"))
    assert not [p for p in result.html_path.parent.iterdir() if p.name.startswith(".")]


def test_report_json_has_a_line_per_top_level_key_and_per_sample_row(model_files, image_tree, tmp_path):
    result = _run(model_files["pt2"], image_tree, tmp_path, projection="pca")
    text = result.json_path.read_text()
    report = json.loads(text)
    lines = [line.strip() for line in text.splitlines()]
    for i, row in enumerate(report["samples"]):  # one row per line: a diff of two reports names the sample
        assert json.dumps(row, ensure_ascii=False) + ("," if i + 1 < len(report["samples"]) else "") in lines
    assert sum(line.startswith(' "') for line in text.splitlines()) == len(report)


def test_a_nan_that_slipped_through_becomes_null():
    from reportgen.render.report_json import dumps_json

    assert json.loads(dumps_json({"a": [1.0, float("nan")], "b": {"c": float("inf")}, "d": []})) == \
        {"a": [1.0, None], "b": {"c": None}, "d": []}
