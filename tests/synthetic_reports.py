"""report.json dicts made up in the tests, shaped as build_report writes them (the keys the index, the diff and
the PR comment read), with every per-split and per-class number computed from the sample rows."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from sklearn.metrics import precision_recall_fscore_support

CLASSES = ["bird", "cat", "dog"]


def _split_numbers(rows: list[dict], classes: list[str]) -> dict:
    labels = [r["label"] for r in rows]
    preds = [r["prediction"] for r in rows]
    p, r, f, s = precision_recall_fscore_support(labels, preds, labels=classes, zero_division=0)
    return {"n_samples": len(rows), "accuracy": float(np.mean([a == b for a, b in zip(labels, preds)])),
            "mean_loss": float(np.mean([row["loss"] for row in rows])),
            "per_class": {c: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]),
                              "support": int(s[i])} for i, c in enumerate(classes)}}


def synthetic_report(*, seed: int, created: str, model_sha: str = "a" * 64, fingerprint: str = "f" * 16,
                     accuracy: float = 0.8, per_class: int = 12, title: str | None = None, drop: int = 0,
                     extra: int = 0, findings: list[dict] | None = None, classes=CLASSES) -> dict:
    """Samples train/<c>/<c>_NNN.png and val/...: each right with probability `accuracy` (seeded); `drop` leaves
    out the first val samples of each class and `extra` adds new ones, to make reports over different data."""
    rng = np.random.default_rng(seed)
    samples = []
    for split in ("train", "val"):
        for c in classes:
            first = drop if split == "val" else 0
            for i in range(first, per_class + (extra if split == "val" else 0)):
                right = rng.random() < accuracy
                others = [o for o in classes if o != c]
                prediction = c if right else others[int(rng.integers(len(others)))]
                samples.append({"path": f"{split}/{c}/{c}_{i:03d}.png", "split": split, "label": c,
                                "prediction": prediction, "confidence": round(float(rng.uniform(0.4, 1)), 5),
                                "loss": round(float(rng.uniform(0.01, 0.5) if right else rng.uniform(0.7, 3)), 5)})
    splits = {name: _split_numbers([r for r in samples if r["split"] == name], classes) for name in ("train", "val")}
    val = splits["val"]
    return {
        "schema_version": 2, "title": title or f"run {seed}", "report_html": "report.html",
        "n_samples": len(samples), "n_skipped": 0, "classes": list(classes),
        "accuracy": float(np.mean([r["label"] == r["prediction"] for r in samples])),
        "model": {"path": f"/models/{model_sha[:6]}.pt2", "sha256": model_sha},
        "provenance": {"created": created, "data_fingerprint": fingerprint},
        "headline": {"split": "val", "accuracy": val["accuracy"], "mean_loss": val["mean_loss"],
                     "n_samples": val["n_samples"]},
        "findings": findings if findings is not None else [],
        "splits": splits, "samples": samples,
    }


def write_report(report: dict, folder: Path, *, html_body: bytes | None = None) -> Path:
    """report.json (as build_report writes it) and, if `html_body`, a report.html beside it; returns the JSON."""
    from reportgen.render.report_json import dumps_json

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.json").write_text(dumps_json(report), encoding="utf-8")
    if html_body is not None:
        (folder / "report.html").write_bytes(html_body)
    return folder / "report.json"


def meta_page(entry: dict, body_bytes: int) -> bytes:
    """A page whose <head> carries a report-meta block, then `body_bytes` of a body that is not valid UTF-8."""
    head = ('<!DOCTYPE html><html><head><meta name="generator" content="reportgen test"><title>t</title>'
            f'<script type="application/json" id="report-meta">{json.dumps({"index": entry})}</script></head><body>')
    return head.encode() + b"\xff\xfe<p>" * (body_bytes // 5)
