"""Sections -> report.json: every section's JSON merged, written one line per key and per row, strict (no NaN)."""

from __future__ import annotations

import json
import math
from functools import partial


def report_json(sections, *, base: dict) -> dict:
    report = dict(base)
    for section in sections:
        _deep_merge(report, section.json())
    report["section_errors"] = {s.id: s.error for s in sections if s.error}
    return report


def _deep_merge(into: dict, extra: dict) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _deep_merge(into[key], value)
        else:
            into[key] = value


def dumps_json(report: dict) -> str:
    """Strict JSON with one line per top-level key and per row of a top-level list, so a diff of two reports
    shows which sample or finding changed. Each line comes from json's C encoder (its indent= runs in Python:
    0.36 s for a 10,000-sample report, against 0.1 s). A NaN or inf that slipped through an analysis becomes
    null rather than invalid JSON."""
    try:
        return _json_lines(report)
    except ValueError:
        return _json_lines(_finite_or_none(report))


def _json_lines(report: dict) -> str:
    encode = partial(json.dumps, allow_nan=False, ensure_ascii=False)
    fields = []
    for key, value in report.items():
        if isinstance(value, list) and value:
            value_text = "[\n  " + ",\n  ".join(encode(row) for row in value) + "\n ]"
        else:
            value_text = encode(value)
        fields.append(f" {encode(str(key))}: {value_text}")
    return "{\n" + ",\n".join(fields) + "\n}\n"


def _finite_or_none(value):
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite_or_none(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite_or_none(v) for v in value]
    return value
