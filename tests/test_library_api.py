"""Everything the command does is a library function: the README's Python calls, run as written."""

import csv

import reportgen


def test_the_readme_review_calls_work_as_written(model_files, image_tree, tmp_path):
    result = reportgen.build_report(model_files["pt2"], image_tree, tmp_path / "r.html", baseline=model_files["pt2"],
                                    projection="pca", workers=0, saliency_samples=0, quiet=True)
    assert reportgen.check_gate(result.report, ["accuracy=0.0"]) == []
    failures = reportgen.check_gate(result.report, ["accuracy=1.01", "val:recall[dot]=1.01"])
    assert [str(f).split(":")[0] for f in failures] == ["accuracy=1.01", "val"]
    markdown = reportgen.write_markdown(result.report, tmp_path / "pr.md", gate_failures=failures)
    assert "Quality gate failed" in markdown.read_text() and "accuracy=1.01" in markdown.read_text()
    rows = list(csv.DictReader(open(reportgen.export_csv(result.report, tmp_path / "s.csv"))))
    assert len(rows) == result.report["n_samples"] and rows[0]["path"].endswith(".png")
    rows = reportgen.write_index(tmp_path, tmp_path / "index.html")
    assert [r["title"] for r in rows] == [result.report["title"]]
    assert reportgen.pr_markdown(result.report).startswith("### ")


def test_import_reportgen_stays_light():
    import subprocess
    import sys

    code = "import sys, reportgen; print('torch' in sys.modules, 'sklearn' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "False"]


def test_the_readme_diff_calls_work_as_written(tmp_path, monkeypatch):
    from synthetic_reports import synthetic_report, write_report

    old_report = synthetic_report(seed=1, created="2025-01-01T00:00:00+00:00")
    new_report = synthetic_report(seed=2, created="2025-01-02T00:00:00+00:00")
    write_report(old_report, tmp_path / "old")
    write_report(new_report, tmp_path / "new")
    monkeypatch.chdir(tmp_path)
    diff = reportgen.write_diff("old/report.json", "new/report.json", "diff.html", json_path="diff.json")
    assert diff == reportgen.diff_reports(old_report, new_report)
    assert (tmp_path / "diff.html").is_file() and (tmp_path / "diff.json").is_file()
