"""Each sample decoded into what the model takes and what the page keeps: a normalised tensor, a thumbnail and a
small pixel copy. The collect pass maps it over every sample; `input_loader` re-decodes a chosen few for the
gradient analyses."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset

from reportgen.collect.collected import PIXEL_SIDE, Collected
from reportgen.collect.thumbnails import encode_thumbnail
from reportgen.data.decode import DecodeError, open_image
from reportgen.data.discover import DataSource
from reportgen.model.input_spec import InputSpec


class ImageDataset(Dataset):
    def __init__(self, source: DataSource, spec: InputSpec):
        self.samples = source.samples
        self.spec = spec
        self.mean = np.asarray(spec.mean, dtype=np.float32).reshape(-1, 1, 1)
        self.std = np.asarray(spec.std, dtype=np.float32).reshape(-1, 1, 1)

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int):
        sample = self.samples[index]
        try:
            image = open_image(sample.path, self.spec.channels, self.spec.size)
        except DecodeError as exc:
            return index, None, str(exc)
        except OSError as exc:
            return index, None, f"cannot read file ({exc.strerror or exc})"
        height, width = self.spec.size
        resized = image.resize((width, height), Image.BILINEAR) if image.size != (width, height) else image
        array = np.asarray(resized, dtype=np.float32) / 255.0
        array = array[None] if array.ndim == 2 else array.transpose(2, 0, 1)
        tensor = torch.from_numpy((array - self.mean) / self.std)
        small = np.asarray(image.resize((PIXEL_SIDE, PIXEL_SIDE), Image.BILINEAR), dtype=np.uint8)
        return index, tensor, (encode_thumbnail(image), small.reshape(-1))


def input_loader(source: DataSource, spec: InputSpec, collected: Collected, device: torch.device):
    """Re-decode chosen samples (collected row indices) into one model-ready batch on `device`."""
    dataset = ImageDataset(source, spec)

    def load(rows) -> torch.Tensor:
        tensors = [dataset[int(collected.source_index[r])][1] for r in rows]
        return torch.stack(tensors).to(device)

    return load
