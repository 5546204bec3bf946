"""`--history PATH`: per-epoch training metrics from a CSV, a JSON file or a TensorBoard event folder.

Returns {"epochs": [...], "metrics": {name: [value or None, ...]}}: one list per metric, aligned with epochs.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from pathlib import Path

from reportgen.errors import ReportgenError
from reportgen.review.tensorboard_events import read_scalars

EPOCH_KEYS = ("epoch", "epochs", "step")


def _number(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _from_rows(rows: list[dict], path: Path) -> dict:
    if not rows:
        raise ReportgenError(f"{path}: holds no epochs; write one row per epoch, e.g. epoch,train_loss,val_accuracy")
    keys = list(dict.fromkeys(k for row in rows for k in row))
    epoch_key = next((k for k in keys if k.strip().lower() in EPOCH_KEYS), None)
    epochs = [_number(row.get(epoch_key)) if epoch_key else i + 1 for i, row in enumerate(rows)]
    epochs = [int(e) if e is not None and float(e).is_integer() else e for e in epochs]
    metrics = {k: [_number(row.get(k)) for row in rows] for k in keys if k != epoch_key}
    metrics = {k: v for k, v in metrics.items() if any(x is not None for x in v)}
    if not metrics:
        raise ReportgenError(f"{path}: no numeric metric column; expected e.g. epoch,train_loss,val_accuracy")
    return {"epochs": epochs, "metrics": metrics}


def _from_columns(columns: dict, path: Path) -> dict:
    lengths = {len(v) for v in columns.values() if isinstance(v, list)}
    if len(lengths) != 1:
        raise ReportgenError(f"{path}: {{metric: [values]}} lists must all have the same length")
    (n,) = lengths
    return _from_rows([{k: v[i] for k, v in columns.items() if isinstance(v, list)} for i in range(n)], path)


def load_history(path: str | Path) -> dict:
    path = Path(path)
    if path.is_dir():
        scalars = read_scalars(path)
        if not scalars:
            raise ReportgenError(f"{path}: no TensorBoard scalars found in events.out.tfevents.* files")
        steps = sorted({step for series in scalars.values() for step in series})
        return {"epochs": steps, "metrics": {tag: [series.get(s) for s in steps] for tag, series in scalars.items()}}
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ReportgenError(f"{path}: cannot read the --history file ({exc.strerror or exc})") from exc
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ReportgenError(f"{path}: not valid JSON ({exc})") from exc
        if isinstance(data, dict) and isinstance(data.get("history"), (list, dict)):
            data = data["history"]
        if isinstance(data, list) and all(isinstance(r, dict) for r in data):
            return _from_rows(data, path)
        if isinstance(data, dict):
            return _from_columns(data, path)
        raise ReportgenError(f"{path}: expected a list of per-epoch objects or {{metric: [values]}}")
    rows = list(csv.DictReader(text.splitlines()))
    return _from_rows(rows, path)


@dataclass
class History:
    path: str
    series: dict  # {"epochs": [...], "metrics": {name: [value or None, ...]}}


def read_history(path: str | Path) -> History:
    return History(str(path), load_history(path))
