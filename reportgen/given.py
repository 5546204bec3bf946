"""What the caller gave, opened and checked before the long run: the model (a file or a module in memory), the
baseline, the data (paths or objects), the class groups, the input spec, the notes and the history. Every
problem here is a one-line ReportgenError, raised before a single image is decoded."""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import torch

from reportgen.analyses.notes import read_notes
from reportgen.collect.batched_pass import first_image_size
from reportgen.data.class_groups import load_class_groups
from reportgen.data.open import open_data
from reportgen.data.source import DataSource
from reportgen.errors import DataError
from reportgen.model.in_memory import lent, module_device
from reportgen.model.input_spec import InputSpec, infer_input_spec
from reportgen.model.load import LoadedModel, load_model
from reportgen.options import ReportOptions
from reportgen.review.training_history import read_history
from reportgen.runtime.collector import long_lived
from reportgen.runtime.progress import say


@dataclass
class Given:
    model: LoadedModel
    baseline: LoadedModel | None
    source: DataSource
    reference: DataSource | None  # labelled data the (unlabelled) images are placed against
    spec: InputSpec
    groups: Any  # data.class_groups.ClassGroups or None
    notes: Any
    history: Any


def open_given(model, data, opts: ReportOptions, device: torch.device, stack: ExitStack) -> Given:
    """Open everything; a module in memory is lent to the report (eval mode, `device`) until `stack` closes."""
    notes = read_notes(opts.notes) if opts.notes else None
    history = read_history(opts.history) if opts.history else None
    with long_lived():  # torchvision's or timm's import, and the model's modules, with the collector paused
        loaded = load_model(model, arch=opts.arch, trust_model=opts.trust_model, device=device)
        old = load_model(opts.baseline, arch=opts.arch, trust_model=opts.trust_model, device=device) \
            if opts.baseline is not None else None
    if loaded.format == "in memory":
        stack.enter_context(lent(loaded.module, device))
    if old is not None and old.format == "in memory":
        stack.enter_context(lent(old.module, device))
    source = open_data(data, classes=opts.classes)
    reference = open_reference(opts.reference, source, opts)
    if reference is not None and not source.classes:
        source.classes = list(reference.classes)  # the reference's class names are the model's, in its order
    groups = load_class_groups(opts.class_groups, source.classes) if opts.class_groups and source.classes else None
    spec = infer_input_spec(loaded.module, image_size=opts.image_size, mean=opts.mean, std=opts.std,
                            channels=opts.channels, normalize=opts.normalize, arch=opts.arch,
                            transform=opts.transform, data_normalize=source.normalize)
    if spec.size is None:
        spec.size = first_image_size(source, spec.channels)
        spec.source += "; size of the first image"
    return Given(loaded, old, source, reference, spec, groups, notes, history)


def open_reference(data, source: DataSource, opts: ReportOptions) -> DataSource | None:
    """Labelled data the unlabelled images are placed against; with labelled DATA it has no role (said, not run)."""
    if data is None:
        return None
    if source.labelled:
        say(f"--reference {data}: DATA is labelled, so the report scores it against its own labels; the reference "
            "is for unlabelled images and is not read", quiet=opts.quiet)
        return None
    reference = open_data(data, classes=opts.classes or source.classes or None)
    if not reference.labelled:
        raise DataError(f"--reference {data}: holds no labels; give labelled images (class folders, a CSV with a "
                        "label column, a dataset with labels)")
    return reference


def report_device(model, requested: torch.device, asked: str) -> torch.device:
    """`--device auto` runs a module in memory where it already is; otherwise the device asked for."""
    if asked == "auto" and isinstance(model, torch.nn.Module):
        return module_device(model)
    return requested
