"""`--markdown PATH`: a short GitHub-flavoured summary of a finished report, to paste into a pull request."""

from __future__ import annotations

from pathlib import Path

TOP_FINDINGS = 5


def _cell(text) -> str:
    """Markdown table cell text: pipes and newlines would break the table, backticks the code spans."""
    return str(text).replace("|", "\\|").replace("\n", " ").replace("`", "'")


def _pct(value) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def _delta(value) -> str:
    return "n/a" if value is None else f"{100 * value:+.1f} pp"


def _headline(report: dict) -> tuple[str, float | None, dict]:
    """The evaluation split's name and accuracy (report.json's headline), and the other splits' accuracies."""
    head = report.get("headline") or {"split": "all", "accuracy": report.get("accuracy")}
    others = {name: s.get("accuracy") for name, s in report.get("splits", {}).items() if name != head["split"]}
    return head["split"], head["accuracy"], others


def pr_summary(report: dict, *, report_location: str | None = None,
               gate_failures: list | None = None) -> str:
    """Markdown from the report dict that build_report returned (nothing is recomputed)."""
    model = report.get("model", {})
    lines = [f"### {_cell(report.get('title') or 'reportgen report')}", ""]
    baseline = report.get("baseline")
    split, accuracy, others = _headline(report)
    lines += [f"| model | sha256 | {_cell(split)} accuracy |", "|---|---|---|"]
    if baseline:
        old = baseline.get("model", {})
        old_split = baseline.get("splits", {}).get(split, {}).get("accuracy", {})
        lines.append(f"| baseline `{_cell(Path(old.get('path', '?')).name)}` | `{str(old.get('sha256', ''))[:12]}` "
                     f"| {_pct(old_split.get('baseline'))} |")
    shown = _pct(accuracy)
    if baseline:
        shown += f" ({_delta(baseline.get('splits', {}).get(split, {}).get('accuracy', {}).get('delta'))})"
    lines += [f"| {'this model ' if baseline else ''}`{_cell(Path(model.get('path', '?')).name)}` "
              f"| `{str(model.get('sha256', ''))[:12]}` | **{shown}** |", ""]
    if others:
        lines.append("Other splits: " + ", ".join(f"{_cell(n)} {_pct(a)}" for n, a in others.items()) + ".")
    lines.append(f"{report.get('n_samples', 0)} samples analysed, {report.get('n_skipped', 0)} skipped.")
    if baseline:
        lines.append(f"Flipped samples: **{baseline.get('n_fixed', 0)} fixed** (wrong → right), "
                     f"**{baseline.get('n_broken', 0)} broken** (right → wrong).")
    findings = report.get("findings", [])[:TOP_FINDINGS]
    if findings:
        lines += ["", "**What to look at first**", ""]
        lines += [f"{n}. **{f['severity']}**: {_cell(f['text'])}" for n, f in enumerate(findings, 1)]
    if gate_failures:
        lines.append("")
        lines.append("**Quality gate failed:** " + "; ".join(f"`{_cell(f)}`" for f in gate_failures))
    if report_location:
        lines += ["", f"Full report: {report_location}"]
    return "\n".join(lines) + "\n"
