"""The CI gate (--fail-under) and the pull-request summary (--markdown), through the CLI and on hand-made reports."""

import json

import numpy as np
import pytest
from click.testing import CliRunner
from sklearn.metrics import recall_score

from reportgen.cli import cli
from reportgen.errors import ReportgenError
from reportgen.review.pr_markdown import pr_summary
from reportgen.review.quality_gate import GATE_FAILED_EXIT_CODE, check, measure, parse_threshold

FAST = ["-q", "--projection", "pca", "--workers", "0", "--saliency-samples", "0"]


def run(model, data, out, *extra):
    return CliRunner().invoke(cli, [str(model), str(data), "-o", str(out), *FAST, *extra])


def test_failed_gate_writes_the_report_and_exits_3_with_one_line(model_files, image_tree, tmp_path):
    out = tmp_path / "r.html"
    result = run(model_files["pt2"], image_tree, out, "--fail-under", "accuracy=1.01",
                 "--fail-under", "recall[dot]=0.0", "--markdown", str(tmp_path / "pr.md"))
    assert result.exit_code == GATE_FAILED_EXIT_CODE not in (0, 1, 2, 130)
    accuracy = json.loads(out.with_suffix(".json").read_text())["accuracy"]
    assert result.stderr.strip().splitlines() == [f"reportgen: quality gate failed: accuracy=1.01: got {accuracy:.4f}"]
    assert out.exists() and out.with_suffix(".json").exists()
    assert "Quality gate failed" in (tmp_path / "pr.md").read_text()


def test_passed_gate_exits_0(model_files, image_tree, tmp_path):
    result = run(model_files["pt2"], image_tree, tmp_path / "r.html", "--fail-under", "val:accuracy=0.0",
                 "--fail-under", "recall[ring]=0.0")
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("spec", ["acc=0.9", "recall=0.8", "accuracy[cat]=0.8", "recall[cat]=high", "accuracy"])
def test_malformed_threshold_is_a_user_error_before_the_run(spec, model_files, image_tree, tmp_path):
    result = run(model_files["pt2"], image_tree, tmp_path / "r.html", "--fail-under", spec)
    assert result.exit_code == 2 and result.output.startswith("reportgen: error: --fail-under")
    assert not (tmp_path / "r.html").exists()


def hand_made_report():
    matrices = {"train": [[5, 1], [2, 2]], "val": [[3, 0], [1, 4]]}
    return {
        "title": "run | 7", "classes": ["cat", "dog"], "accuracy": 14 / 18, "n_samples": 18, "n_skipped": 1,
        "model": {"path": "/ckpt/new.pt2", "sha256": "ab" * 32},
        "splits": {name: {"accuracy": float(np.trace(m)) / np.sum(m), "confusion_matrix": m,
                          "per_class": {"cat": {"recall": m[0][0] / sum(m[0])}, "dog": {"recall": m[1][1] / sum(m[1])}}}
                   for name, m in matrices.items()},
        "headline": {"split": "val", "accuracy": 7 / 8},
        "findings": [{"severity": "high", "text": "val: cat and dog are the pair confused most | 4 of them"},
                     {"severity": "low", "text": "2 labels look wrong"}],
    }


def test_threshold_values_agree_with_sklearn():
    report = hand_made_report()
    labels = np.repeat([0, 0, 1, 1, 0, 1, 1], [5, 1, 2, 2, 3, 1, 4])
    preds = np.repeat([0, 1, 0, 1, 0, 0, 1], [5, 1, 2, 2, 3, 1, 4])
    assert measure(report, parse_threshold("recall[dog]=0.5")) == pytest.approx(
        recall_score(labels, preds, labels=[0, 1], average=None)[1])
    assert measure(report, parse_threshold("val:recall[cat]=1")) == 1.0
    failures = check(report, [parse_threshold("accuracy=0.8"), parse_threshold("recall[cat]=0.5")])
    assert [str(f) for f in failures] == ["accuracy=0.8: got 0.7778"]
    with pytest.raises(ReportgenError, match="no class 'cow'"):
        measure(report, parse_threshold("f1[cow]=0.5"))


def test_markdown_reads_as_a_pr_comment_with_baseline():
    report = hand_made_report()
    report["baseline"] = {"model": {"path": "/ckpt/old.pt2", "sha256": "cd" * 32}, "accuracy": 0.5,
                          "accuracy_delta": 14 / 18 - 0.5, "n_fixed": 7, "n_broken": 2,
                          "splits": {"val": {"accuracy": {"baseline": 0.5, "new": 7 / 8, "delta": 7 / 8 - 0.5}}}}
    text = pr_summary(report, report_location="https://ci.example/artifacts/report.html")
    lines = text.splitlines()
    assert lines[0] == "### run \\| 7"  # a pipe in the title can't break the heading into a table
    assert "| baseline | `old.pt2` | `cdcdcdcdcdcd` |" in lines
    assert "| this model | `new.pt2` | `abababababab` |" in lines
    # every split, the evaluation split first and in bold; train stands apart
    assert "| **val** (evaluation) |  | 50.0% | **87.5%** | **+37.5 pp** | n/a |" in lines
    assert lines.index("| **val** (evaluation) |  | 50.0% | **87.5%** | **+37.5 pp** | n/a |") + 1 == \
        lines.index("| train |  | n/a | 70.0% | n/a | n/a |")
    assert "**7 fixed** (wrong → right), **2 broken** (right → wrong)" in text
    assert "1. **high**: val: cat and dog are the pair confused most \\| 4 of them" in lines
    assert "2. **low**: 2 labels look wrong" in lines
    assert lines[-1] == "Full report: https://ci.example/artifacts/report.html"


def test_unwritable_markdown_path_fails_before_the_run(model_files, image_tree, tmp_path):
    (tmp_path / "folder.md").mkdir()
    result = run(model_files["pt2"], image_tree, tmp_path / "r.html", "--markdown", str(tmp_path / "folder.md"))
    assert result.exit_code == 2 and "--markdown" in result.output and not (tmp_path / "r.html").exists()
