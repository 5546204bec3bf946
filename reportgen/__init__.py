"""reportgen: criticise a trained PyTorch image classifier in one self-contained HTML report.

Everything the command does is a function here (imported on first use, so `import reportgen` stays light):

    result = reportgen.build_report("model.pt2", "data/", "report.html", json_path="report.json")
    failures = reportgen.check_gate(result.report, ["accuracy=0.95", "val:recall[cat]=0.8"])
    reportgen.write_markdown(result.report, "pr.md", report_url="https://ci/artifact", gate_failures=failures)
    reportgen.export_csv(result.report, "samples.csv")
    reportgen.write_index("reports/", "index.html")
    diff = reportgen.write_diff("old/report.json", "new/report.json", "diff.html")   # or diff_reports(a, b) on dicts
"""

__version__ = "0.1.0"

_EXPORTS = {
    "build_report": "reportgen.pipeline",
    "ReportResult": "reportgen.pipeline",
    "ReportOptions": "reportgen.options",
    "ReportgenError": "reportgen.errors",
    "check_gate": "reportgen.review.follow_ups",
    "pr_markdown": "reportgen.review.follow_ups",
    "write_markdown": "reportgen.review.follow_ups",
    "export_csv": "reportgen.review.follow_ups",
    "write_index": "reportgen.review.archive_index",
    "diff_reports": "reportgen.review.report_diff",
    "write_diff": "reportgen.review.diff_page",
    "post_comment": "reportgen.review.pr_comment",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name):
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'reportgen' has no attribute {name!r}")
