"""Parquet in the Hugging Face layout: a .parquet file, or a folder of shards (`train-00000-of-00002.parquet`,
`data/validation-00000-of-00001.parquet`, ...), read with pyarrow.

Each row has an image column (a struct {bytes, path}, or plain bytes) and, usually, an integer label column.
Class names come from the ClassLabel feature recorded in the file's `huggingface` schema metadata; splits from
the shards' names. Rows are read a row group at a time (the pass reads them in order), never a whole file.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

from reportgen.data.decode import DecodeError, open_image
from reportgen.data.source import UNLABELLED, DataSource, Read, Sample, Skipped
from reportgen.errors import DataError

SHARD = re.compile(r"^(?P<split>[A-Za-z0-9_.]+?)(?:-\d{5}-of-\d{5})?$")
IMAGE_COLUMNS = ("image", "img", "images", "picture")
LABEL_COLUMNS = ("label", "labels", "fine_label", "class", "target")


def is_parquet(path: Path) -> bool:
    if path.is_file():
        return path.suffix.lower() == ".parquet"
    return path.is_dir() and any(path.rglob("*.parquet"))


def split_of(shard: Path) -> str:
    match = SHARD.match(shard.stem)
    return match["split"] if match else shard.stem


def _features(schema) -> dict:
    meta = (schema.metadata or {}).get(b"huggingface")
    if not meta:
        return {}
    try:
        info = json.loads(meta)
    except ValueError:
        return {}
    return info.get("info", {}).get("features", {}) or {}


def _columns(schema, shard: Path) -> tuple[str, str | None, list[str] | None]:
    names = schema.names
    features = _features(schema)
    image = next((n for n, f in features.items() if isinstance(f, dict) and f.get("_type") == "Image"), None) \
        or next((c for c in IMAGE_COLUMNS if c in names), None)
    if image is None:
        raise DataError(f"{shard}: no image column among {', '.join(names)}; expected an Image feature or a column "
                        "named image")
    label = next((n for n, f in features.items() if isinstance(f, dict) and f.get("_type") == "ClassLabel"), None) \
        or next((c for c in LABEL_COLUMNS if c in names), None)
    class_names = features.get(label, {}).get("names") if label else None
    return image, label, class_names


class ParquetReader:
    """Rows of Parquet shards; each worker keeps the row group it is reading."""

    kind = "parquet"

    def __init__(self, shards: list[Path], image_column: str):
        self.shards = shards
        self.image_column = image_column
        self._group = None  # (shard, group) -> list of image cells

    def read(self, sample: Sample, channels: int, target) -> Read:
        import pyarrow.parquet as pq

        shard, group, row = sample.key
        if self._group is None or self._group[0] != (shard, group):
            table = pq.ParquetFile(self.shards[shard]).read_row_group(group, columns=[self.image_column])
            self._group = ((shard, group), table.column(self.image_column).to_pylist())
        cell = self._group[1][row]
        data = cell.get("bytes") if isinstance(cell, dict) else cell
        if not data:
            raise DecodeError("the row holds no image bytes")
        return Read(open_image(io.BytesIO(data), channels, target))


def from_parquet(path: Path, *, classes: list[str] | None = None) -> DataSource:
    try:
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise DataError(f"{path}: reading Parquet needs pyarrow; pip install pyarrow") from exc
    shards = [path] if path.is_file() else sorted(path.rglob("*.parquet"))
    split_names = list(dict.fromkeys(split_of(s) for s in shards))
    samples, skipped, image_column, label_column, found = [], [], None, None, None
    for s, shard in enumerate(shards):
        try:
            meta = pq.ParquetFile(shard)
        except Exception as exc:  # noqa: BLE001 - pyarrow raises several types for a damaged file
            skipped.append(Skipped(str(shard.relative_to(path) if path.is_dir() else shard.name),
                                   f"not a readable Parquet file ({str(exc).splitlines()[0][:120]})"))
            continue
        image, label, names = _columns(meta.schema_arrow, shard)
        image_column, label_column, found = image_column or image, label_column or label, found or names
        labels = meta.read(columns=[label]).column(label).to_pylist() if label else None
        split = split_names.index(split_of(shard))
        shown = shard.relative_to(path).as_posix() if path.is_dir() else shard.name
        row = 0
        for g in range(meta.num_row_groups):
            for r in range(meta.metadata.row_group(g).num_rows):
                value = labels[row] if labels is not None else UNLABELLED
                sample = Sample(None, UNLABELLED if value is None else int(value), split, key=(s, g, r),
                                name=f"{shown}#{row}")
                samples.append(sample)
                row += 1
    if not samples:
        raise DataError(f"{path}: no rows in its Parquet files")
    labelled = label_column is not None
    return DataSource(root=path if path.is_dir() else path.parent, layout="parquet", samples=samples,
                      classes=[str(c) for c in (classes or found or [])], split_names=split_names, skipped=skipped,
                      reader=ParquetReader(shards, image_column), labelled=labelled, described=path.name)
