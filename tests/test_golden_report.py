"""The numbers of a whole report stay the same through a refactoring: the tiny tree's report.json, timings and
provenance aside, equals the one stored in tests/golden/ (floats to 1e-6). A change that is meant to change
numbers regenerates it, and the diff of tests/golden/tiny_report.json in the commit shows what changed:

    REPORTGEN_UPDATE_GOLDEN=1 .venv/bin/python -m pytest -q tests/test_golden_report.py
"""

import json
import math
import os
from pathlib import Path

GOLDEN = Path(__file__).with_name("golden") / "tiny_report.json"
VOLATILE = {"timings", "background_seconds", "section_seconds", "section_wait_seconds", "provenance", "report_html",
            "title", "model"}  # the model entry holds this run's temporary path


def comparable(report: dict) -> dict:
    kept = {k: v for k, v in report.items() if k not in VOLATILE}
    kept["raw_vs_model"] = {k: v for k, v in kept["raw_vs_model"].items() if k != "seconds"}
    return kept


def differences(a, b, path="") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out = [f"{path}.{k}: only on one side" for k in set(a) ^ set(b)]
        return out + [d for k in set(a) & set(b) for d in differences(a[k], b[k], f"{path}.{k}")]
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} items vs {len(b)}"]
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in differences(x, y, f"{path}[{i}]")]
    if isinstance(a, float) or isinstance(b, float):
        ok = isinstance(a, (int, float)) and isinstance(b, (int, float)) and math.isclose(a, b, rel_tol=1e-6,
                                                                                            abs_tol=1e-7)
        return [] if ok else [f"{path}: {a!r} vs {b!r}"]
    return [] if a == b else [f"{path}: {str(a)[:80]!r} vs {str(b)[:80]!r}"]


def test_the_tiny_report_has_the_stored_numbers(demo_like_report):
    report = comparable(json.loads(demo_like_report.json_path.read_text()))
    if os.environ.get("REPORTGEN_UPDATE_GOLDEN"):
        GOLDEN.write_text(json.dumps(report, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    found = differences(json.loads(GOLDEN.read_text(encoding="utf-8")), report)
    assert not found, f"{len(found)} numbers changed, e.g.:\n" + "\n".join(found[:20])
