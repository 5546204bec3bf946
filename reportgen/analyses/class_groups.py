"""Class groups (--class-groups FILE): accuracy per group of classes and the group-level confusion matrix.

With many fine classes (CIFAR-100's 100 in 20 superclasses) the question is often whether the model's errors
stay inside a group (a maple taken for an oak) or cross groups (a maple taken for a truck)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reportgen.analyses.section import Result
from reportgen.compute.classification_metrics import confusion_matrix
from reportgen.data.class_groups import ClassGroups
from reportgen.render.table_data import column, table

ID = "class-groups"
TITLE = "Class groups"
TEMPLATE = "_class_groups.html"


def group_rows(matrix: np.ndarray, correct_by_group: np.ndarray, names: list[str]) -> list[dict]:
    """Per group: samples, class-level accuracy, group-level accuracy (prediction in the right group), and the
    share of the class-level errors that stayed inside the group. matrix: (G, G) group confusion, rows true."""
    rows = []
    for g, name in enumerate(names):
        n = int(matrix[g].sum())
        errors = n - int(correct_by_group[g])
        within = errors - int(matrix[g].sum() - matrix[g, g])  # wrong class, right group
        rows.append({"group": name, "index": g, "n": n,
                     "accuracy": correct_by_group[g] / n if n else None,
                     "group_accuracy": float(matrix[g, g] / n) if n else None,
                     "errors": errors, "errors_within_group": within / errors if errors else None})
    return rows


@dataclass
class ClassGroupsResult(Result):
    path: str | None = None
    names: list[str] | None = None
    members: dict | None = None  # group -> [classes]
    splits: list[dict] | None = None  # {name, index, rows, matrix, table}
    ungrouped: list[str] | None = None
    unknown: list[str] | None = None

    @property
    def shown(self) -> bool:
        return self.path is not None

    @property
    def matrix_table(self) -> bool:
        return len(self.names) <= 30

    def json(self) -> dict:
        if not self.shown:
            return {}
        keys = ("n", "accuracy", "group_accuracy", "errors", "errors_within_group")
        return {"class_groups": {
            "file": self.path, "groups": self.members, "ungrouped": self.ungrouped, "unknown_classes": self.unknown,
            "splits": {s["name"]: {"per_group": {r["group"]: {k: r[k] for k in keys} for r in s["rows"]},
                                   "confusion_matrix": s["matrix"]} for s in self.splits},
        }}


def run(collected, *, class_groups: ClassGroups | None = None) -> ClassGroupsResult:
    groups = class_groups
    if groups is None:
        return ClassGroupsResult()
    names, of_class = groups.names, groups.of_class
    finite = ~collected.nonfinite if collected.nonfinite is not None else np.ones(collected.n, bool)
    splits = []
    for s, split in enumerate(collected.split_names):
        mask = (collected.split == s) & finite
        true_group, pred_group = of_class[collected.labels[mask]], of_class[collected.preds[mask]]
        matrix = confusion_matrix(true_group, pred_group, len(names))
        correct = np.bincount(true_group, weights=collected.correct[mask], minlength=len(names))
        rows = group_rows(matrix, correct, names)
        columns = [column("group", "group"), column("n", "samples", "int"), column("accuracy", "accuracy", "pct"),
                   column("group_accuracy", "right group", "pct"), column("errors", "errors", "int"),
                   column("errors_within_group", "errors inside the group", "pct")]
        splits.append({"name": split, "index": s, "rows": rows, "matrix": matrix.tolist(),
                       "table": table(columns, rows, sort=("accuracy", "asc"), page=len(rows), search=len(rows) > 20)})
    return ClassGroupsResult(groups.path, names, groups.members(collected.classes), splits, groups.ungrouped,
                             groups.unknown)
