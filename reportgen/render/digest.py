"""The findings digest as the page shows it: each ranked finding's sentence, severity, the section it links to,
and thumbnails of the samples behind it."""

from __future__ import annotations

from reportgen.analyses.findings import PAGE_LIMIT
from reportgen.collect.thumbnails import data_uri

EVIDENCE_SHOWN = 6


def headline(report: dict) -> dict:
    """The evaluation split's accuracy first, the other splits apart, and what was (not) analysed."""
    head = report["headline"]
    return {"split": head["split"], "accuracy": head["accuracy"], "n": head["n_samples"],
            "labelled": head.get("labelled", True), "mean_confidence": head.get("mean_confidence"),
            "others": [(name, s["accuracy"]) for name, s in report["splits"].items() if name != head["split"]],
            "n_samples": report["n_samples"], "n_files": report["n_files"], "n_skipped": report["n_skipped"]}


def digest_view(findings, collected, titles: dict[str, str], limit: int = PAGE_LIMIT) -> list[dict]:
    """findings: ranked analyses.section.Finding; titles: section id -> title (for the link)."""
    def card(i: int) -> dict:
        return {"index": int(i), "path": collected.paths[i],
                "label": collected.classes[collected.labels[i]] if collected.labels[i] >= 0 else None,
                "prediction": collected.classes[collected.preds[i]], "thumbnail": data_uri(collected.thumbnails[i])}

    return [{"severity": f.severity, "text": f.text, "section": f.section, "title": titles.get(f.section, f.section),
             "evidence": [card(i) for i in f.evidence[:EVIDENCE_SHOWN]]} for f in findings[:limit]]
