"""Find the samples: an ImageFolder tree, a tree of named splits (train/ val/ test/), or a CSV manifest.

Nothing is decoded here: this lists files, assigns class indices the way torchvision's ImageFolder does
(sorted class-folder names) unless `classes` is given, and records every file it passes over with a reason.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field
from pathlib import Path

from reportgen.errors import DataError

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp", ".gif")
SPLIT_NAMES = ("train", "training", "val", "valid", "validation", "test", "testing")


@dataclass
class Sample:
    path: Path
    label: int
    split: int


@dataclass
class Skipped:
    path: str  # display form, relative to the data root
    reason: str
    split: str | None = None
    label: str | None = None


@dataclass
class DataSource:
    root: Path
    layout: str  # "imagefolder" | "splits" | "csv"
    classes: list[str]
    split_names: list[str]
    samples: list[Sample]
    skipped: list[Skipped] = field(default_factory=list)
    empty_classes: list[tuple[str, str]] = field(default_factory=list)  # (split, class) folders with no images

    def display_path(self, path: Path) -> str:
        return display_path(path, self.root)


def display_name(name: str) -> str:
    """A file or folder name as printable, JSON-safe text (undecodable bytes become \\x escapes)."""
    return os.fsencode(name).decode("utf-8", "backslashreplace")


def display_path(path: Path, root: Path) -> str:
    """A printable, JSON-safe relative path: undecodable bytes in names become \\x escapes."""
    try:
        rel = os.path.relpath(path, root)
    except ValueError:
        rel = str(path)
    return os.fsencode(rel).decode("utf-8", "backslashreplace")


def discover(data: str | Path, *, classes: list[str] | None = None) -> DataSource:
    root = Path(data)
    if not root.exists():
        raise DataError(f"{root}: no such file or folder; pass an image folder, a train/val tree or a CSV manifest")
    if root.is_file():
        if root.suffix.lower() == ".csv":
            return _from_manifest(root, classes)
        raise DataError(f"{root}: is a file; expected an image folder (data/<class>/*.png) or a .csv manifest")
    split_dirs = [d for d in _subdirs(root) if d.name.lower() in SPLIT_NAMES and _subdirs(d)]
    if split_dirs:
        split_dirs.sort(key=lambda d: SPLIT_NAMES.index(d.name.lower()))
        return _from_folders(root, [(d.name, d) for d in split_dirs], classes, "splits")
    return _from_folders(root, [(root.name or "data", root)], classes, "imagefolder")


def _subdirs(path: Path) -> list[Path]:
    try:
        return sorted((p for p in path.iterdir() if p.is_dir()), key=lambda p: p.name)
    except OSError:
        return []


def _from_folders(root: Path, splits: list[tuple[str, Path]], classes: list[str] | None, layout: str) -> DataSource:
    # Folder names may hold bytes that are not UTF-8: index by the raw name, show the escaped one.
    found_classes = sorted({d.name for _, split_dir in splits for d in _subdirs(split_dir)})
    if not found_classes:
        raise DataError(f"{root}: holds no class folders; expected {root}/<class>/<image files>")
    raw_names = classes or found_classes
    index = {name: i for i, name in enumerate(raw_names)}
    source = DataSource(root=root, layout=layout, classes=[display_name(c) for c in raw_names],
                        split_names=[display_name(s) for s, _ in splits], samples=[])
    for split_index, (split_name, split_dir) in enumerate(splits):
        split_name = display_name(split_name)
        for class_dir in _subdirs(split_dir):
            shown = display_name(class_dir.name)
            files = _walk_files(class_dir)
            if class_dir.name not in index:
                source.skipped.extend(Skipped(source.display_path(path), f"class folder {shown!r} is not in --classes",
                                              split_name, shown) for path in files)
                continue
            images = 0
            for path in files:
                if path.suffix.lower() in IMAGE_EXTENSIONS:
                    source.samples.append(Sample(path, index[class_dir.name], split_index))
                    images += 1
                else:
                    source.skipped.append(Skipped(source.display_path(path), "not an image file extension",
                                                  split_name, shown))
            if not images:
                source.empty_classes.append((split_name, shown))
    if not source.samples:
        raise DataError(f"{root}: no image files under the class folders ({', '.join(IMAGE_EXTENSIONS)})")
    return source


def _walk_files(folder: Path) -> list[Path]:
    """Every file below `folder`, following links but never entering the same directory twice (no loops)."""
    seen: set[tuple[int, int]] = set()
    files: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=True):
        try:
            stat = os.stat(dirpath)
        except OSError:
            continue
        key = (stat.st_dev, stat.st_ino)
        if key in seen:
            dirnames[:] = []
            continue
        seen.add(key)
        dirnames.sort()
        files.extend(Path(dirpath) / name for name in sorted(filenames))
    return files


def _from_manifest(manifest: Path, classes: list[str] | None) -> DataSource:
    base = manifest.parent
    try:
        with open(manifest, newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.DictReader(handle))
            columns = rows[0].keys() if rows else []
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"{manifest}: cannot be read as a CSV manifest ({exc})") from exc
    missing = {"path", "label"} - set(columns)
    if missing:
        raise DataError(f"{manifest}: the manifest needs columns path,label; missing {', '.join(sorted(missing))}")
    split_column = "split" in columns
    split_names = sorted({row["split"] for row in rows}) if split_column else [manifest.stem]
    class_names = classes or sorted({row["label"] for row in rows})
    index = {name: i for i, name in enumerate(class_names)}
    source = DataSource(root=base, layout="csv", classes=class_names, split_names=split_names, samples=[])
    for line, row in enumerate(rows, start=2):
        split = row["split"] if split_column else manifest.stem
        path = base / row["path"]
        if row["label"] not in index:
            source.skipped.append(Skipped(row["path"], f"line {line}: label {row['label']!r} is not a known class",
                                          split, row["label"]))
        elif not path.is_file():
            source.skipped.append(Skipped(row["path"], f"line {line}: file not found", split, row["label"]))
        else:
            source.samples.append(Sample(path, index[row["label"]], split_names.index(split)))
    if not source.samples:
        raise DataError(f"{manifest}: none of its {len(rows)} rows names an existing image with a known label")
    return source
