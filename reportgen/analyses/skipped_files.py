"""Every file that was found but not analysed, with its reason: nothing is dropped silently."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from reportgen.analyses.section import Result

ID = "skipped"
TITLE = "Skipped files"
TEMPLATE = "_skipped.html"


@dataclass
class SkippedResult(Result):
    files: list[dict]  # {path, reason, split, label}

    @property
    def by_reason(self) -> list[tuple[str, int]]:
        counts = Counter(r["reason"].split(" (")[0] for r in self.files)
        return sorted(counts.items(), key=lambda kv: -kv[1])

    def json(self) -> dict:
        return {"n_skipped": len(self.files), "skipped": self.files}


def run(collected) -> SkippedResult:
    return SkippedResult([{"path": s.path, "reason": s.reason, "split": s.split, "label": s.label}
                          for s in collected.skipped])
