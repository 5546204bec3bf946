"""What happens with a finished report: the CI gate, the pull-request summary and the Bulk CSV. Each is a library
function (reportgen.check_gate, write_markdown, export_csv); `write_follow_ups` runs the ones the CLI was asked
for."""

from __future__ import annotations

from pathlib import Path

from reportgen.errors import ReportgenError
from reportgen.render.files import check_writable
from reportgen.review.exports import write_bulk_csv
from reportgen.review.pr_markdown import pr_summary
from reportgen.review.quality_gate import GateFailure, Threshold, check


def check_gate(report: dict, thresholds) -> list[GateFailure]:
    """`--fail-under` as a function: the thresholds ("accuracy=0.95", "val:recall[cat]=0.8", "ece<=0.05", ...)
    the report falls below, or above for an upper bound; empty when it passes."""
    return check(report, list(thresholds))


def pr_markdown(report: dict, *, report_url: str | None = None, gate_failures=None) -> str:
    """`--markdown` as a function: the pull-request summary of a finished report (report.json's dict)."""
    return pr_summary(report, report_location=report_url, gate_failures=gate_failures)


def write_markdown(report: dict, path: str | Path, *, report_url: str | None = None, gate_failures=None) -> Path:
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(pr_markdown(report, report_url=report_url, gate_failures=gate_failures), encoding="utf-8")
    except OSError as exc:
        raise ReportgenError(f"{path}: could not be written ({exc.strerror or exc}); "
                             "choose another --markdown path") from exc
    return path


def export_csv(report: dict, path: str | Path) -> Path:
    """`--export-csv` as a function: path,x,y,split,label,prediction,confidence,loss for every sample."""
    write_bulk_csv(report, Path(path))
    return Path(path)


def check_follow_up_paths(*, markdown_path: Path | None = None, export_csv: Path | None = None, **_) -> None:
    """Fail before the long run, not after it, when --markdown or --export-csv can't be written."""
    for option, path in (("--markdown", markdown_path), ("--export-csv", export_csv)):
        if path is not None:
            check_writable(path, option)


def write_follow_ups(result, *, fail_under: list[Threshold] = (), markdown_path: Path | None = None,
                     report_url: str | None = None, export_csv: Path | None = None) -> list[GateFailure]:
    """Write the optional files from result.report; return the gate's failures (empty: passed)."""
    failures = check_gate(result.report, fail_under)
    if markdown_path is not None:
        write_markdown(result.report, markdown_path, report_url=report_url or str(result.html_path),
                       gate_failures=failures)
    if export_csv is not None:
        write_bulk_csv(result.report, export_csv)
    return failures
