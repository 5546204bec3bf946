"""Every file that was found but not analysed, with its reason: nothing is dropped silently."""

from __future__ import annotations

from collections import Counter

from reportgen.section import Section

ID = "skipped"
TITLE = "Skipped files"


def run(collected, ctx) -> Section:
    rows = [{"path": s.path, "reason": s.reason, "split": s.split, "label": s.label} for s in collected.skipped]
    by_reason = Counter(r["reason"].split(" (")[0] for r in rows)
    data = {"files": rows, "by_reason": sorted(by_reason.items(), key=lambda kv: -kv[1])}
    return Section(ID, TITLE, "_skipped.html", data, {"n_skipped": len(rows), "skipped": rows})
