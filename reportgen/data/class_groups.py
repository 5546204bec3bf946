"""`--class-groups FILE`: a CSV of `class,group` (e.g. CIFAR-100's 20 superclasses), read and checked against
the data's classes. Classes the file does not name go to one group, "(no group)", and the report says which."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from reportgen.errors import ReportgenError

NO_GROUP = "(no group)"


@dataclass
class ClassGroups:
    path: str
    names: list[str]  # group names, in first-seen order of the file ("(no group)" last, if used)
    of_class: np.ndarray  # (K,) int, the group index of each class
    ungrouped: list[str] = field(default_factory=list)  # data classes the file does not name
    unknown: list[str] = field(default_factory=list)  # classes the file names that the data does not have

    def members(self, classes: list[str]) -> dict[str, list[str]]:
        return {name: [c for c, g in zip(classes, self.of_class) if g == i] for i, name in enumerate(self.names)}


def load_class_groups(path: str | Path, classes: list[str]) -> ClassGroups:
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ReportgenError(f"{path}: cannot read the --class-groups file "
                             f"({getattr(exc, 'strerror', None) or exc}); give a CSV with columns class,group") from exc
    columns = {c.strip().lower(): c for c in (rows[0].keys() if rows else []) if c}
    if not {"class", "group"} <= set(columns):
        raise ReportgenError(f"{path}: --class-groups needs a header row with columns class,group "
                             "(one row per class, e.g. 'maple_tree,trees')")
    group_of: dict[str, str] = {}
    for line, row in enumerate(rows, start=2):
        name, group = (row[columns["class"]] or "").strip(), (row[columns["group"]] or "").strip()
        if not name or not group:
            raise ReportgenError(f"{path}: line {line} has an empty class or group; every row needs both")
        if group_of.get(name, group) != group:
            raise ReportgenError(f"{path}: line {line} puts class {name!r} in {group!r}, an earlier line in "
                                 f"{group_of[name]!r}; give each class one group")
        group_of[name] = group
    known = set(classes)
    names = list(dict.fromkeys(g for c, g in group_of.items() if c in known))
    if not names:
        raise ReportgenError(f"{path}: names none of the data's classes (e.g. {', '.join(classes[:3])}); check "
                             "the class column against the class folder names")
    ungrouped = [c for c in classes if c not in group_of]
    if ungrouped:
        names.append(NO_GROUP)
    index = {g: i for i, g in enumerate(names)}
    of_class = np.array([index[group_of.get(c, NO_GROUP)] for c in classes], dtype=np.int64)
    return ClassGroups(str(path), names, of_class, ungrouped, sorted(set(group_of) - known))
