"""The digest: every section's candidate findings, ranked into one list of what to look at first.

A section proposes findings with a severity ("high": act before merging; "medium": worth a look; "low": good to
know) and a score in [0, 1] that orders findings of the same severity across sections (each section documents
how it scores). One ranking decides what the reader sees first: severity, then score; findings about the same
thing (the same class pair, say) keep only their best-ranked sentence.

A group explains its samples better than they explain themselves: ten unseen-style samples the model gets wrong
also look like ten label errors, one by one. So a finding about samples one by one (suspected mislabels) whose
samples lie mostly (OVERLAP or more) inside the groups other findings describe (a sub-population, a confused
pair) drops one severity level and keeps (1 - overlap) of its score. And a group whose samples are nearly all
(SAME or more) in groups already ranked above it says the same thing again (the horizontal bars, as a
sub-population and as the bars taken for rings): it is left out.
"""

from __future__ import annotations

from reportgen.analyses.section import SEVERITIES, Finding

PAGE_LIMIT = 8  # sentences at the top of the page; report.json keeps up to JSON_LIMIT
JSON_LIMIT = 50
EVALUATION_SPLITS = ("test", "testing", "val", "valid", "validation", "eval", "evaluation", "holdout")
TRAINING_SPLITS = ("train", "training")


def evaluation_split(names: list[str]) -> str:
    """The split a headline number should describe: test, then val, then any split not named train."""
    lowered = {name.lower(): name for name in names}
    for wanted in EVALUATION_SPLITS:
        if wanted in lowered:
            return lowered[wanted]
    others = [n for n in names if n.lower() not in TRAINING_SPLITS]
    return others[0] if others else names[0]


OVERLAP = 0.5
SAME = 0.8


def explained_by_groups(candidates: list[Finding]) -> None:
    grouped = {row for f in candidates if f.kind == "group" for row in f.rows}
    for finding in candidates:
        if finding.kind != "samples" or not finding.rows:
            continue
        overlap = len(grouped.intersection(finding.rows)) / len(finding.rows)
        if overlap >= OVERLAP:
            finding.severity = SEVERITIES[min(len(SEVERITIES) - 1, SEVERITIES.index(finding.severity) + 1)]
            finding.score *= 1 - overlap


def rank_findings(sections) -> list[Finding]:
    """Every shown section's findings, best first, one per subject."""
    candidates = [f for s in sections if s.shown for f in s.findings()]
    explained_by_groups(candidates)
    candidates.sort(key=lambda f: (SEVERITIES.index(f.severity), not f.first, -f.score, f.id))
    ranked, subjects, covered = [], set(), set()
    for finding in candidates:
        if finding.subject and finding.subject in subjects:
            continue
        if finding.kind == "group" and finding.rows and \
                len(covered.intersection(finding.rows)) >= SAME * len(set(finding.rows)):
            continue
        subjects.add(finding.subject)
        if finding.kind == "group":
            covered.update(finding.rows)
        ranked.append(finding)
    return ranked[:JSON_LIMIT]
