"""What the CLI does with a finished report: the CI gate, the pull-request summary and the Bulk CSV."""

from __future__ import annotations

from pathlib import Path

from reportgen.errors import ReportgenError
from reportgen.exports import write_bulk_csv
from reportgen.pr_markdown import pr_summary
from reportgen.render import check_writable
from reportgen.quality_gate import GateFailure, Threshold, check


def check_follow_up_paths(*, markdown_path: Path | None = None, export_csv: Path | None = None, **_) -> None:
    """Fail before the long run, not after it, when --markdown or --export-csv can't be written."""
    for option, path in (("--markdown", markdown_path), ("--export-csv", export_csv)):
        if path is not None:
            check_writable(path, option)


def write_follow_ups(result, *, fail_under: list[Threshold] = (), markdown_path: Path | None = None,
                     report_url: str | None = None, export_csv: Path | None = None) -> list[GateFailure]:
    """Write the optional files from result.report; return the gate's failures (empty: passed)."""
    failures = check(result.report, list(fail_under))
    if markdown_path is not None:
        text = pr_summary(result.report, report_location=report_url or str(result.html_path),
                          gate_failures=failures)
        try:
            markdown_path.parent.mkdir(parents=True, exist_ok=True)
            markdown_path.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise ReportgenError(f"{markdown_path}: could not be written ({exc.strerror or exc}); "
                                 "choose another --markdown path") from exc
    if export_csv is not None:
        write_bulk_csv(result.report, export_csv)
    return failures
