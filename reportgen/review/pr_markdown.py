"""`--markdown PATH`: a short GitHub-flavoured summary of a finished report, to paste into a pull request."""

from __future__ import annotations

from pathlib import Path

TOP_CONFUSIONS = 3


def _cell(text) -> str:
    """Markdown table cell text: pipes and newlines would break the table, backticks the code spans."""
    return str(text).replace("|", "\\|").replace("\n", " ").replace("`", "'")


def _pct(value) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def _delta(value) -> str:
    return "n/a" if value is None else f"{100 * value:+.1f} pp"


def pr_summary(report: dict, *, report_location: str | None = None,
               gate_failures: list | None = None) -> str:
    """Markdown from the report dict that build_report returned (nothing is recomputed)."""
    model = report.get("model", {})
    lines = [f"### {_cell(report.get('title') or 'reportgen report')}", ""]
    baseline = report.get("baseline")
    lines += ["| model | sha256 | accuracy |", "|---|---|---|"]
    if baseline:
        old = baseline.get("model", {})
        lines.append(f"| baseline `{_cell(Path(old.get('path', '?')).name)}` | `{str(old.get('sha256', ''))[:12]}` "
                     f"| {_pct(baseline.get('accuracy'))} |")
    accuracy = _pct(report.get("accuracy"))
    if baseline:
        accuracy += f" ({_delta(baseline.get('accuracy_delta'))})"
    lines += [f"| {'this model ' if baseline else ''}`{_cell(Path(model.get('path', '?')).name)}` "
              f"| `{str(model.get('sha256', ''))[:12]}` | **{accuracy}** |", ""]
    lines.append(f"{report.get('n_samples', 0)} samples analysed, {report.get('n_skipped', 0)} skipped.")
    if baseline:
        lines.append(f"Flipped samples: **{baseline.get('n_fixed', 0)} fixed** (wrong → right), "
                     f"**{baseline.get('n_broken', 0)} broken** (right → wrong).")
    pairs = [p for p in report.get("confusable_classes", {}).get("pairs", []) if p.get("confusions")]
    pairs = sorted(pairs, key=lambda p: -p["confusions"])[:TOP_CONFUSIONS]
    if pairs:
        lines.append("Top confusions: " + ", ".join(
            f"`{_cell(p['a'])}` ↔ `{_cell(p['b'])}` ({p['confusions']})" for p in pairs) + ".")
    lines.append(f"Suspected mislabels: {len(report.get('suspected_mislabels', []))}.")
    if gate_failures:
        lines.append("")
        lines.append("**Quality gate failed:** " + "; ".join(f"`{_cell(f)}`" for f in gate_failures))
    if report_location:
        lines += ["", f"Full report: {report_location}"]
    return "\n".join(lines) + "\n"
