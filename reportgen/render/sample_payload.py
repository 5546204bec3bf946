"""Per-sample columns the page's JavaScript shares across sections (hover, galleries, panel)."""

from __future__ import annotations

import numpy as np

from reportgen.collect.thumbnails import THUMB_MIME, base64_strings
from reportgen.render.display_sampling import THUMBNAIL_CAP, thumbnail_mask

LEGEND_MAX_CLASSES = 20  # beyond this many, colour by class is a rainbow no one can read


def default_colour(num_classes: int, groups, labelled: bool = True) -> str:
    """What the projection is coloured by when the page opens."""
    if num_classes <= LEGEND_MAX_CLASSES:
        return "label" if labelled else "pred"
    if groups is not None and len(groups.names) <= LEGEND_MAX_CLASSES:
        return "group"
    return "correct" if labelled else "confidence"


def section_columns(sections) -> dict:
    """Per-sample data that sections add for the page's scripts (a result's `sample_columns()`, e.g. the outlier
    score the projection can be coloured by), from the sections shown without an error."""
    columns = {}
    for section in sections:
        if section.shown and section.error is None and hasattr(section.result, "sample_columns"):
            columns |= section.result.sample_columns()
    return columns


def sample_payload(collected, *, seed: int = 0, thumbnail_cap: int = THUMBNAIL_CAP, groups=None,
                   sections=()) -> dict:
    """groups: class_groups.ClassGroups or None; sections: the analyses' Sections (their sample_columns)."""
    loss = np.where(np.isfinite(collected.loss), np.round(collected.loss.astype(np.float64), 5), -1.0)
    return {
        "default_colour": default_colour(len(collected.classes), groups, collected.labelled),
        "labelled": collected.labelled,
        "groups": {"names": groups.names, "of_class": groups.of_class.tolist()} if groups is not None else None,
        "classes": collected.classes,
        "splits": collected.split_names,
        "path": collected.paths,
        "label": collected.labels.tolist(),
        "pred": collected.preds.tolist(),
        "split": collected.split.tolist(),
        "loss": loss.tolist(),  # -1 marks a non-finite loss
        "confidence": np.round(collected.confidence.astype(np.float64), 5).tolist(),
        "thumb_mime": THUMB_MIME,
        # "" = no preview embedded for this sample (see display_sampling)
        "thumb": [t if keep else "" for t, keep in zip(base64_strings(collected.thumbnails),
                                                       thumbnail_mask(collected.n, seed=seed, cap=thumbnail_cap))],
        **section_columns(sections),
    }
