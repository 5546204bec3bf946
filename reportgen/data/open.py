"""Whatever the user points reportgen at, as one DataSource: a path (image folders, a train/val tree, a CSV
manifest, Parquet shards, a `datasets.save_to_disk` folder, a folder of unlabelled images) or data in memory."""

from __future__ import annotations

from pathlib import Path

from reportgen.data.discover import discover
from reportgen.data.in_memory import from_memory, is_in_memory
from reportgen.data.parquet import from_parquet, is_parquet
from reportgen.data.source import DataSource, set_aside_unlabelled
from reportgen.errors import DataError


def open_data(data, *, classes: list[str] | None = None) -> DataSource:
    return set_aside_unlabelled(_open(data, classes))


def _open(data, classes: list[str] | None) -> DataSource:
    if is_in_memory(data):
        return from_memory(data, classes=classes)
    path = Path(data)
    if path.exists() and is_parquet(path):
        return from_parquet(path, classes=classes)
    if path.is_dir() and ((path / "dataset_dict.json").exists() or (path / "state.json").exists()):
        return from_memory(_load_from_disk(path), classes=classes)
    return discover(path, classes=classes)


def _load_from_disk(path: Path):
    try:
        from datasets import load_from_disk
    except ImportError as exc:
        raise DataError(f"{path}: is a Hugging Face save_to_disk folder; reading it needs the datasets package "
                        "(pip install datasets), or export it to Parquet") from exc
    return load_from_disk(str(path))
