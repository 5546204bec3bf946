"""`--markdown PATH`: a GitHub-flavoured summary of a finished report, to post as a pull-request comment.

From report.json's dict alone (nothing is recomputed): both models, a table of every split (accuracy and mean
loss; with --baseline the baseline's accuracy and the delta), the top findings, the classes that got worse beyond
noise, the flipped samples, a failed gate, a collapsed per-class table and where the full report is. GitHub takes
65,536 characters per comment; the summary keeps to LIMIT_CHARS at any class count by cutting the per-class table
(the last thing in it) with a note.
"""

from __future__ import annotations

from pathlib import Path

from reportgen.review.class_regressions import ALPHA, baseline_class_changes, worse_classes

TOP_FINDINGS = 5
WORSE_SHOWN = 20
FLIPS_SHOWN = 5
LIMIT_CHARS = 60_000  # under GitHub's 65,536: room for the comment's marker line, and for non-BMP characters
CELL_CHARS = 300  # a user-made name or sentence longer than this is cut, so no one cell eats the comment


def _cell(text, limit: int = CELL_CHARS) -> str:
    """Plain markdown text from user data, safe in a table cell: pipes and newlines would break the table, raw
    HTML would render (an <img> is a tracking pixel), and an @name would notify someone."""
    text = str(text)
    text = text if len(text) <= limit else text[:limit - 1] + "…"
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("|", "\\|").replace("\n", " ").replace("`", "'").replace("@", "@\u200b")


def _code(text, limit: int = 120) -> str:
    """User data as an inline code span (class names, paths): nothing inside renders or mentions anyone."""
    text = str(text)
    text = text if len(text) <= limit else text[:limit - 1] + "…"
    return "`" + text.replace("`", "'").replace("\n", " ").replace("|", "\\|") + "`"


def _pct(value) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def _delta(value) -> str:
    return "n/a" if value is None else f"{100 * value:+.1f} pp"


def _num(value, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _p(value: float) -> str:
    return f"{value:.2g}" if value >= 1e-4 else f"{value:.1e}"


def _evaluation_split(report: dict) -> str:
    return (report.get("headline") or {}).get("split", "all")


def _models(report: dict) -> list[str]:
    model, baseline = report.get("model", {}), report.get("baseline")
    name = lambda m: _code(Path(m.get("path", "?")).name)  # noqa: E731
    sha = lambda m: _code(str(m.get("sha256", ""))[:12])  # noqa: E731
    if not baseline:
        return [f"Model {name(model)} ({sha(model)})."]
    old = baseline.get("model", {})
    return ["| | model | sha256 |", "|---|---|---|", f"| baseline | {name(old)} | {sha(old)} |",
            f"| this model | {name(model)} | {sha(model)} |"]


def split_table(report: dict) -> list[str]:
    """Every split, the evaluation split first and in bold; with a baseline, its accuracy and the delta."""
    splits, head = report.get("splits", {}), _evaluation_split(report)
    compared = (report.get("baseline") or {}).get("splits", {})
    order = sorted(splits, key=lambda name: name != head)
    if report.get("labelled") is False:  # a predictions-only report: no accuracy or loss to show
        lines = ["| split | samples | mean confidence (no labels: predictions only) |", "|---|--:|--:|"]
        for name in order:
            label = f"**{_cell(name)}** (evaluation)" if name == head else _cell(name)
            lines.append(f"| {label} | {splits[name].get('n_samples', '')} | {_pct(splits[name].get('mean_confidence'))} |")
        return lines
    if compared:
        lines = ["| split | samples | baseline accuracy | accuracy | Δ | mean loss |", "|---|--:|--:|--:|--:|--:|"]
    else:
        lines = ["| split | samples | accuracy | mean loss |", "|---|--:|--:|--:|"]
    for name in order:
        s, bold = splits[name], (lambda t: f"**{t}**") if name == head else (lambda t: t)
        label = f"**{_cell(name)}** (evaluation)" if name == head else _cell(name)
        row = [label, str(s.get("n_samples", ""))]
        if compared:
            acc = compared.get(name, {}).get("accuracy", {})
            row += [_pct(acc.get("baseline")), bold(_pct(s.get("accuracy"))), bold(_delta(acc.get("delta")))]
        else:
            row.append(bold(_pct(s.get("accuracy"))))
        lines.append("| " + " | ".join(row + [_num(s.get("mean_loss"))]) + " |")
    return lines


def _findings(report: dict) -> list[str]:
    findings = report.get("findings", [])[:TOP_FINDINGS]
    if not findings:
        return []
    return ["**What to look at first**", ""] + [f"{n}. **{_cell(f['severity'])}**: {_cell(f['text'])}"
                                                for n, f in enumerate(findings, 1)]


def _worse(report: dict) -> list[str]:
    changes = baseline_class_changes(report)
    if changes is None:
        return []
    split, rows = changes
    if not rows:
        return []
    worse = worse_classes(rows)
    how = (f"exact McNemar test on each class's flipped samples, p < {ALPHA}; q: Benjamini–Hochberg over the "
           f"{len(rows):,} classes tested")
    if not worse:
        return [f"No class got worse beyond noise on {_cell(split)} ({how})."]
    lines = [f"**Classes worse beyond noise** on {_cell(split)}: {len(worse)} ({how})", "",
             "| class | right before → now | broken | fixed | p | q |", "|---|--:|--:|--:|--:|--:|"]
    lines += [f"| {_code(r['class'])} | {r['right_baseline']}/{r['support']} → {r['right_new']}/{r['support']} "
              f"| {r['broken']} | {r['fixed']} | {_p(r['p'])} | {_p(r['q'])} |" for r in worse[:WORSE_SHOWN]]
    if len(worse) > WORSE_SHOWN:
        lines += ["", f"*{len(worse) - WORSE_SHOWN} more: the report's comparison section lists every class.*"]
    return lines


def _flips(report: dict, report_location: str | None) -> list[str]:
    baseline = report.get("baseline")
    if not baseline:
        return []
    lines = [f"Flipped samples, all splits: **{baseline.get('n_fixed', 0)} fixed** (wrong → right), "
             f"**{baseline.get('n_broken', 0)} broken** (right → wrong)."]
    split = _evaluation_split(report)
    for kind, title in (("broken", "broken (right → wrong)"), ("fixed", "fixed (wrong → right)")):
        # the evaluation split's first, each kind still largest loss change first
        rows = sorted(baseline.get(kind, []), key=lambda r: r.get("split") != split)[:FLIPS_SHOWN]
        if rows:
            lines += ["", f"| {title} | label | baseline → now |", "|---|---|---|"]
            lines += [f"| {_code(r['path'])} | {_code(r['label'])} | {_code(r['baseline_prediction'])} → "
                      f"{_code(r['prediction'])} |" for r in rows]
    where = "the report's comparison section"
    if report_location and report_location.startswith(("https://", "http://")) and "#" not in report_location:
        where = f"[{where}]({report_location}#baseline)"
    # A comment can only show images by URL; the report holds its thumbnails inline, so they stay there.
    lines += ["", f"Thumbnails of these and every other flipped sample: {where}."]
    return lines


def per_class_rows(report: dict) -> tuple[str, str, list[str]]:
    """(split, order, table): the evaluation split's per-class table, header then one markdown row per class,
    worst first: by F1 change with a baseline, else by F1."""
    split = _evaluation_split(report)
    per_class = report.get("splits", {}).get(split, {}).get("per_class", {})
    deltas = (report.get("baseline") or {}).get("splits", {}).get(split, {}).get("per_class", {})
    header = ["| class | support | precision | recall | F1 |" + (" recall Δ | F1 Δ |" if deltas else ""),
              "|---|--:|--:|--:|--:|" + ("--:|--:|" if deltas else "")]

    def key(item):
        name, s = item
        score = deltas.get(name, {}).get("f1", {}).get("delta") if deltas else s.get("f1")
        return (score is None, score if score is not None else 0.0, name)

    rows = []
    for name, s in sorted(per_class.items(), key=key):
        row = f"| {_code(name)} | {s.get('support', '')} | {_num(s.get('precision'))} | {_num(s.get('recall'))} " \
              f"| {_num(s.get('f1'))} |"
        if deltas:
            d = deltas.get(name, {})
            row += f" {_num(d.get('recall', {}).get('delta'), 3)} | {_num(d.get('f1', {}).get('delta'), 3)} |"
        rows.append(row)
    return split, "worst F1 change first" if deltas else "worst F1 first", header + rows


def _details(report: dict, budget: int) -> list[str]:
    """The collapsed per-class table, cut to `budget` characters with a note saying how much is shown."""
    split, order, table = per_class_rows(report)
    header, rows = table[:2], table[2:]
    if not rows:
        return []
    summary = f"<details><summary>Per-class scores on {_cell(split)}: {len(rows):,} classes, {order}</summary>"
    note = (f"*Truncated to fit one comment: {{shown:,}} of {len(rows):,} classes shown, {order}; report.json "
            "and the report have every class.*")
    fixed = len(summary) + sum(len(h) + 1 for h in header) + len(note) + len("\n\n\n\n</details>\n") + 16
    kept, used = [], fixed
    for row in rows:
        if used + len(row) + 1 > budget:
            break
        kept.append(row)
        used += len(row) + 1
    lines = [summary, "", *header, *kept]
    if len(kept) < len(rows):
        lines += ["", note.format(shown=len(kept))]
    return lines + ["", "</details>"]


def pr_summary(report: dict, *, report_location: str | None = None, gate_failures: list | None = None,
               limit: int = LIMIT_CHARS) -> str:
    """Markdown from the report dict that build_report returned (nothing is recomputed), at most `limit`
    characters whatever the number of classes."""
    blocks = [[f"### {_cell(report.get('title') or 'reportgen report')}"], _models(report), split_table(report),
              [f"{report.get('n_samples', 0)} samples analysed, {report.get('n_skipped', 0)} skipped."],
              _findings(report), _worse(report), _flips(report, report_location)]
    if gate_failures:
        blocks.append(["**Quality gate failed:** " + "; ".join(_code(f) for f in gate_failures)])
    tail = [f"Full report: {report_location}"] if report_location else []
    text = "\n\n".join("\n".join(b) for b in blocks if b)
    details = _details(report, limit - len(text) - sum(len(t) + 2 for t in tail) - 2)
    return "\n\n".join(filter(None, [text, "\n".join(details), *tail])) + "\n"
