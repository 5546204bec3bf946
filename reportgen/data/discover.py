"""Find image files: an ImageFolder tree, a tree of named splits (train/ val/ test/), a CSV manifest, or a flat
folder of unlabelled images.

Nothing is decoded here: this lists files, assigns class indices the way torchvision's ImageFolder does
(sorted class-folder names) unless `classes` is given, and records every file it passes over with a reason.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

from reportgen.data.source import UNLABELLED, DataSource, Sample, Skipped, display_name
from reportgen.errors import DataError

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp", ".gif")
SPLIT_NAMES = ("train", "training", "val", "valid", "validation", "test", "testing")


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
    if not _subdirs(root) and any(p.suffix.lower() in IMAGE_EXTENSIONS for p in _files(root)):
        return _unlabelled_folder(root, classes)
    return _from_folders(root, [(root.name or "data", root)], classes, "imagefolder")


def _files(folder: Path) -> list[Path]:
    try:
        return sorted((p for p in folder.iterdir() if p.is_file()), key=lambda p: p.name)
    except OSError:
        return []


def _unlabelled_folder(root: Path, classes: list[str] | None) -> DataSource:
    """Images with no class folders: a predictions-only report (class names from `classes` or the model)."""
    source = DataSource(root=root, layout="unlabelled folder", classes=list(classes or []),
                        split_names=[display_name(root.name or "images")], samples=[], labelled=False)
    for path in _files(root):
        if path.suffix.lower() in IMAGE_EXTENSIONS:
            source.samples.append(Sample(path, UNLABELLED, 0))
        else:
            source.skipped.append(Skipped(source.display_path(path), "not an image file extension", source.split_names[0]))
    return source


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
    if "path" not in columns:
        raise DataError(f"{manifest}: the manifest needs a path column (and label, unless the images are unlabelled)")
    labelled = "label" in columns
    split_column = "split" in columns
    split_names = sorted({row["split"] for row in rows}) if split_column else [manifest.stem]
    class_names = list(classes or sorted({row["label"] for row in rows} if labelled else []))
    index = {name: i for i, name in enumerate(class_names)}
    source = DataSource(root=base, layout="csv" if labelled else "csv, unlabelled", classes=class_names,
                        split_names=split_names, samples=[], labelled=labelled)
    for line, row in enumerate(rows, start=2):
        split = row["split"] if split_column else manifest.stem
        path = base / row["path"]
        if not labelled:
            if path.is_file():
                source.samples.append(Sample(path, UNLABELLED, split_names.index(split)))
            else:
                source.skipped.append(Skipped(row["path"], f"line {line}: file not found", split))
        elif row["label"] not in index:
            source.skipped.append(Skipped(row["path"], f"line {line}: label {row['label']!r} is not a known class",
                                          split, row["label"]))
        elif not path.is_file():
            source.skipped.append(Skipped(row["path"], f"line {line}: file not found", split, row["label"]))
        else:
            source.samples.append(Sample(path, index[row["label"]], split_names.index(split)))
    if not source.samples:
        raise DataError(f"{manifest}: none of its {len(rows)} rows names an existing image"
                        + (" with a known label" if labelled else ""))
    return source
