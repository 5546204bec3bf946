"""What the collect pass reads: a list of samples and the reader that turns one into an image.

A sample is a file on disk, an item of a dataset in memory or a row of a Parquet shard; its reader knows which.
Every reader answers the same question, `read(sample, channels, target)`: a decoded PIL image in the model's mode
(the pass resizes and normalises it), or a tensor already prepared by the user's own transform (used as it is),
with the sample's label when the data carries it. A sample whose label is None gets it from `read`; -1 means the
data has no labels at all (a predictions-only report).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

UNLABELLED = -1
NO_LABEL = "no label (-1 or empty) in labelled data: not counted in any number; label it, or analyse these " \
           "images as unlabelled data on their own"


@dataclass
class Sample:
    path: Path | None  # the file, when the sample is one
    label: int | None  # class index; None: the reader says; UNLABELLED: there is none
    split: int
    key: Any = None  # the reader's handle on a sample that is not a file (a dataset index, a Parquet row)
    name: str | None = None  # how the report names a sample that is not a file ("train[12]", "shard#12")


@dataclass
class Skipped:
    path: str  # display form, relative to the data root
    reason: str
    split: str | None = None
    label: str | None = None


@dataclass
class Read:
    image: Any  # a PIL image in the model's mode, or a (C, H, W) float tensor the user's transform prepared
    label: int | None = None


class FileReader:
    """Image files on disk (folders, CSV manifests)."""

    kind = "files"

    def read(self, sample: Sample, channels: int, target) -> Read:
        from reportgen.data.decode import open_image

        return Read(open_image(sample.path, channels, target))


@dataclass
class DataSource:
    root: Path | None  # the folder or file the data came from; None for data in memory
    layout: str  # "imagefolder" | "splits" | "csv" | "parquet" | "dataset" | "unlabelled folder" ...
    classes: list[str]
    split_names: list[str]
    samples: list[Sample]
    skipped: list[Skipped] = field(default_factory=list)
    empty_classes: list[tuple[str, str]] = field(default_factory=list)  # (split, class) folders with no images
    reader: Any = field(default_factory=FileReader)
    labelled: bool = True
    described: str = ""  # what the data is, for titles and the provenance ("data/", "CIFAR10 (in memory)")
    normalize: tuple | None = None  # (mean, std) of the Normalize in a dataset's own transform: its tensors' pictures

    def display(self, sample: Sample) -> str:
        return sample.name if sample.name is not None else display_path(sample.path, self.root)

    def display_path(self, path: Path) -> str:
        return display_path(path, self.root)

    @property
    def name(self) -> str:
        return self.described or (self.root.name if self.root else "data")


def set_aside_unlabelled(source: DataSource) -> DataSource:
    """Labelled data with some unlabelled items (a Hugging Face test split's -1 labels): those items are listed as
    skipped, never scored against a label they don't have. With no labelled item at all, the data is unlabelled."""
    if not source.labelled:
        return source
    missing = [s for s in source.samples if s.label is not None and s.label < 0]
    if not missing:
        return source
    if len(missing) == len(source.samples):
        source.labelled = False
        return source
    source.samples = [s for s in source.samples if s.label is None or s.label >= 0]
    source.skipped += [Skipped(source.display(s), NO_LABEL, source.split_names[s.split]) for s in missing]
    return source


def display_name(name: str) -> str:
    """A file or folder name as printable, JSON-safe text (undecodable bytes become \\x escapes)."""
    return os.fsencode(name).decode("utf-8", "backslashreplace")


def display_path(path: Path, root: Path | None) -> str:
    """A printable, JSON-safe relative path: undecodable bytes in names become \\x escapes."""
    try:
        rel = os.path.relpath(path, root) if root is not None else str(path)
    except ValueError:
        rel = str(path)
    return os.fsencode(rel).decode("utf-8", "backslashreplace")
