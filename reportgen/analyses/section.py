"""What an analysis returns: one typed result per section, from which the page (its Jinja partial reads the
result's fields) and report.json (`Result.json()`) are both made, so the two cannot drift; and the section's
candidate findings, which one ranking (analyses/findings.py) turns into the digest at the top of the page."""

from __future__ import annotations

from dataclasses import dataclass, field

SEVERITIES = ("high", "medium", "low")


@dataclass
class Finding:
    """One thing a reviewer should look at, as a sentence with its number."""

    id: str  # stable across runs of the same data, e.g. "confusion/val/cat-dog"
    section: str  # the section it links to
    severity: str  # "high" | "medium" | "low"
    score: float  # in [0, 1]: ranks findings across sections
    text: str
    evidence: list[int] = field(default_factory=list)  # sample rows that show it (thumbnails in the page)
    subject: str | None = None  # what it is about ("pair:cat|dog"): the digest keeps one finding per subject
    kind: str = "other"  # "group": a set of samples that belong together; "samples": samples one by one
    rows: list[int] = field(default_factory=list)  # every sample it concerns (for "group" and "samples")
    first: bool = False  # it makes the other numbers moot (the model gives one answer): first of its severity

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity {self.severity!r}: one of {SEVERITIES}")
        self.score = float(min(1.0, max(0.0, self.score)))

    def json(self, paths: list[str]) -> dict:
        return {"id": self.id, "severity": self.severity, "score": round(self.score, 4), "text": self.text,
                "section": self.section, "subject": self.subject, "evidence": [paths[i] for i in self.evidence]}


class Result:
    """Base of every section's result: a dataclass of the section's facts."""

    def json(self) -> dict:
        """This section's part of report.json, made from the fields the page shows."""
        return {}

    def findings(self) -> list[Finding]:
        return []


@dataclass
class Section:
    id: str  # HTML anchor and key of the section's timing
    title: str
    template: str  # the Jinja partial that renders `result`
    result: Result | None = None
    error: str | None = None  # set when the analysis failed: the page shows an error box instead
    trace: str | None = None
    shown: bool = True  # False: an optional section that was not asked for (no --baseline, --notes, ...)

    def json(self) -> dict:
        return self.result.json() if self.result is not None and self.error is None else {}

    def findings(self) -> list[Finding]:
        return self.result.findings() if self.result is not None and self.error is None else []
