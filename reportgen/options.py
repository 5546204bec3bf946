"""How a report is made: every option of `build_report` (and of the command, which maps its flags onto these),
checked once, here. An options object is frozen: `with_changes` returns a new one, so a caller's object is never
altered, and an unknown name is a TypeError that lists the valid ones."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from reportgen.errors import ReportgenError

PROJECTIONS = ("umap", "tsne", "pca")


class OptionError(ReportgenError, ValueError):
    """An option has a value reportgen can't use; the message names the option and what it accepts."""


@dataclass(frozen=True)
class ReportOptions:
    arch: str | None = None  # for a state_dict: torchvision name or package.module:factory
    trust_model: bool = False  # allow a whole pickled model (runs code from the file)
    classes: tuple[str, ...] | None = None  # class names in the model's output order
    image_size: int | tuple[int, int] | None = None  # a side, or (height, width)
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None
    normalize: str | None = None  # "imagenet" (or "none"): mean/std by name
    channels: int | None = None  # 1 or 3: for a model whose first layer doesn't say (a flattening MLP)
    transform: object = None  # a torchvision transform reproducing the evaluation transform (path data)
    reference: object = None  # labelled data the unlabelled images are placed against (a path or a dataset)
    device: str = "auto"  # auto | cpu | cuda[:N]
    batch_size: int | None = None  # None = auto (collect.batch_size)
    amp: bool = False
    workers: int | None = None
    layer: str | None = None  # module whose output is the embedding
    projection: str = "umap"
    seed: int = 0
    top_k: int = 25
    neighbours: int = 8  # shown in the sample panel
    saliency_samples: int = 200
    cam_layer: str | None = None
    quiet: bool = False
    title: str | None = None
    command: tuple[str, ...] | None = None  # the command line, for the provenance
    notes: str | Path | None = None  # a markdown file shown in the Notes section
    history: str | Path | None = None  # per-epoch metrics: CSV, JSON or a TensorBoard event folder
    baseline: str | Path | None = None  # an older checkpoint compared with this one on the same data
    export_projector: str | Path | None = None  # folder for TensorBoard Embedding Projector files
    class_groups: str | Path | None = None  # CSV class,group

    def __post_init__(self) -> None:
        for name in ("classes", "mean", "std", "command", "image_size"):  # lists in, tuples kept
            value = getattr(self, name)
            if isinstance(value, list):
                object.__setattr__(self, name, tuple(value))
        if self.projection not in PROJECTIONS:
            raise OptionError(f"projection={self.projection!r}: choose one of {', '.join(PROJECTIONS)}")
        for name, low in (("top_k", 1), ("neighbours", 1), ("saliency_samples", 0), ("batch_size", 1),
                          ("workers", 0)):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < low):
                raise OptionError(f"{name}={value!r}: give a whole number of at least {low}")
        if self.neighbours > 50:
            raise OptionError(f"neighbours={self.neighbours}: at most 50 are kept per sample")
        if not isinstance(self.seed, int):
            raise OptionError(f"seed={self.seed!r}: give a whole number")
        if self.channels not in (None, 1, 3):
            raise OptionError(f"channels={self.channels!r}: 1 (grey) or 3 (colour)")
        size = self.image_size
        if size is not None and not (isinstance(size, int) and size > 0 or isinstance(size, tuple) and len(size) == 2
                                     and all(isinstance(v, int) and v > 0 for v in size)):
            raise OptionError(f"image_size={size!r}: a side in pixels, or (height, width)")

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls)]

    def with_changes(self, **changes) -> "ReportOptions":
        unknown = sorted(set(changes) - set(self.names()))
        if unknown:
            raise TypeError(f"unknown option{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}; "
                            f"valid options: {', '.join(self.names())}")
        return dataclasses.replace(self, **changes)


def resolve_options(options: ReportOptions | None, changes: dict) -> ReportOptions:
    """`options` (or the defaults) with `changes` applied: a new object, the caller's left as it was."""
    return (options or ReportOptions()).with_changes(**changes)
