"""Data in memory: a torch Dataset of (image, label), a DataLoader (its dataset is read, in reportgen's batches),
a dict {split: dataset}, or a Hugging Face `datasets.Dataset` / `DatasetDict` with an image and a label column.

An item's image may be a PIL image, an HWC uint8 array (both resized and normalised as files are), or a CHW float
tensor the user's own transform already made (used as it is; its thumbnail is un-normalised with mean/std).
Class names come from `classes`, else from the data (`.classes` of torchvision datasets, a ClassLabel feature).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from reportgen.data.source import UNLABELLED, DataSource, Read, Sample
from reportgen.errors import DataError

IMAGE_COLUMNS = ("image", "img", "pixel_values", "picture", "images")
LABEL_COLUMNS = ("label", "labels", "fine_label", "class", "target", "targets")


def is_in_memory(data) -> bool:
    """True for the objects this module reads (anything that is not a path)."""
    import os

    return not isinstance(data, (str, bytes, os.PathLike))


def as_image(value, channels: int):
    """An item's image: a PIL image in the model's mode, or a float tensor used as it is."""
    import torch
    from PIL import Image

    from reportgen.data.decode import to_mode

    if isinstance(value, Image.Image):
        return to_mode(value, channels)
    if isinstance(value, torch.Tensor):
        if value.is_floating_point():
            return value.detach().cpu().float()  # prepared by the user's transform
        value = value.cpu().numpy()
    if isinstance(value, np.ndarray):
        if value.ndim == 3 and value.shape[0] in (1, 3) and value.shape[2] not in (1, 3):
            value = value.transpose(1, 2, 0)  # CHW uint8 -> HWC
        if value.ndim == 3 and value.shape[2] == 1:
            value = value[:, :, 0]
        if value.dtype != np.uint8:
            raise DataError(f"an image array of dtype {value.dtype}: give uint8 HWC arrays, PIL images, or float "
                            "CHW tensors already transformed")
        return to_mode(Image.fromarray(value), channels)
    raise DataError(f"an item's image is a {type(value).__module__}.{type(value).__name__}; give PIL images, uint8 "
                    "HWC arrays or float CHW tensors")


class DatasetReader:
    """Items of map-style datasets, one per split: `dataset[i]` is (image, label, ...) or a dict of columns."""

    kind = "dataset"

    def __init__(self, datasets: list, columns: list[tuple[str | None, str | None]]):
        self.datasets = datasets  # one per split
        self.columns = columns  # (image column, label column) per split, for dict items

    def read(self, sample: Sample, channels: int, target) -> Read:
        split, index = sample.key
        item = self.datasets[split][index]
        image_key, label_key = self.columns[split]
        if isinstance(item, dict):
            image_key = image_key or next((c for c in IMAGE_COLUMNS if c in item), None)
            label_key = label_key or next((c for c in LABEL_COLUMNS if c in item), None)
            if image_key is None:
                raise DataError(f"an item with keys {', '.join(map(str, item))}: no image key ({', '.join(IMAGE_COLUMNS)})")
            image, label = item[image_key], item.get(label_key) if label_key else None
        elif isinstance(item, (tuple, list)):
            image, label = item[0], item[1] if len(item) > 1 else None
        else:
            image, label = item, None
        return Read(as_image(image, channels), _class_index(label))


def _class_index(label) -> int | None:
    """An item's label as a class index: an int, or a one-element tensor/array (a one-hot or soft label is not
    one: DataError)."""
    if label is None or isinstance(label, int):
        return label
    values = np.asarray(label.detach().cpu() if hasattr(label, "detach") else label).reshape(-1)
    if values.size != 1:
        raise DataError(f"an item's label has {values.size} values; give the class index (an int)")
    return int(values[0])


def _hf_columns(dataset) -> tuple[str, str | None, list[str] | None]:
    """(image column, label column, ClassLabel names) of a Hugging Face dataset."""
    features = dataset.features
    image = next((name for name, f in features.items() if type(f).__name__ == "Image"), None) \
        or next((c for c in IMAGE_COLUMNS if c in features), None)
    if image is None:
        raise DataError(f"a Hugging Face dataset with columns {', '.join(features)}: no image column (an Image "
                        "feature, or a column named image)")
    label = next((name for name, f in features.items() if type(f).__name__ == "ClassLabel"), None) \
        or next((c for c in LABEL_COLUMNS if c in features), None)
    names = list(features[label].names) if label and type(features[label]).__name__ == "ClassLabel" else None
    return image, label, names


def _splits(data) -> list[tuple[str, Any]]:
    """(split name, dataset) pairs."""
    if isinstance(data, dict) or type(data).__name__ == "DatasetDict":
        return [(str(name), dataset) for name, dataset in data.items()]
    return [("data", data)]


def _unwrap(dataset):
    """A DataLoader's dataset (reportgen batches it itself); an iterable dataset can't be indexed: refused."""
    from torch.utils.data import DataLoader, IterableDataset

    if isinstance(dataset, DataLoader):
        dataset = dataset.dataset
    if isinstance(dataset, IterableDataset):
        raise DataError("an IterableDataset can't be indexed; pass a map-style dataset (one with __getitem__ and "
                        "__len__), or write the images to a folder")
    if not hasattr(dataset, "__getitem__") or not hasattr(dataset, "__len__"):
        raise DataError(f"{type(dataset).__name__} is not data reportgen reads: pass a path, a torch Dataset, a "
                        "DataLoader, a dict of them per split, or a Hugging Face Dataset/DatasetDict")
    return dataset


def _known_labels(dataset, label_column: str | None) -> list[int] | None:
    """Labels without decoding images, where the data lists them (torchvision .targets, a Hugging Face column)."""
    if type(dataset).__module__.startswith("datasets") and label_column:
        return [int(v) for v in dataset[label_column]]
    targets = getattr(dataset, "targets", None)
    if targets is not None and len(targets) == len(dataset):
        return [int(v) for v in np.asarray(targets).reshape(-1)]
    return None


def _items_carry_labels(dataset) -> bool:
    """Whether a plain dataset's items are (image, label, ...) pairs or label-keyed dicts, judged on item 0 (the
    one item read before the pass): a dataset of bare images is unlabelled."""
    try:
        item = dataset[0]
    except Exception as exc:  # noqa: BLE001 - user code; its own error names the problem
        raise DataError(f"{type(dataset).__name__}[0] raised {type(exc).__name__}: {str(exc)[:200]}") from exc
    if isinstance(item, dict):
        return any(key in item for key in LABEL_COLUMNS)
    return isinstance(item, (tuple, list)) and len(item) > 1


def from_memory(data, *, classes: list[str] | None = None) -> DataSource:
    """A DataSource over data in memory; labels the data lists are read now, the others during the pass."""
    splits = [(name, _unwrap(dataset)) for name, dataset in _splits(data)]
    datasets, columns, samples, found_names = [], [], [], None
    labelled = True
    for s, (name, dataset) in enumerate(splits):
        if type(dataset).__module__.startswith("datasets"):
            image, label, names = _hf_columns(dataset)
            columns.append((image, label))
            found_names = found_names or names
            labelled = labelled and label is not None
        else:
            columns.append((None, None))
            found_names = found_names or (list(dataset.classes) if hasattr(dataset, "classes") else None)
        datasets.append(dataset)
        labels = _known_labels(dataset, columns[-1][1])
        if labels is None and columns[-1] == (None, None) and len(dataset) and not _items_carry_labels(dataset):
            labelled = False
        samples += [Sample(None, labels[i] if labels is not None else None, s, key=(s, i), name=f"{name}[{i}]")
                    for i in range(len(dataset))]
    if not labelled:
        samples = [Sample(None, UNLABELLED, x.split, x.key, x.name) for x in samples]
    if not samples:
        raise DataError("the dataset is empty: nothing to analyse")
    names = [str(c) for c in (classes or found_names or [])]
    kind = type(splits[0][1]).__name__
    from reportgen.model.input_spec import normalize_of

    found = [normalize_of(t) for t in (getattr(d, "transform", None) for d in datasets) if t is not None]
    return DataSource(root=None, layout="dataset", classes=names, split_names=[n for n, _ in splits], samples=samples,
                      reader=DatasetReader(datasets, columns), labelled=labelled, described=f"{kind} (in memory)",
                      normalize=next((n for n in found if n), None))
