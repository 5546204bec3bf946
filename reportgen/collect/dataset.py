"""Each sample read into what the model takes and what the report keeps: the model's tensor, a thumbnail, a small
pixel copy, the image's properties and, where the data carries it, the label. The collect pass maps it over every
sample; `input_loader` hands the gradient analyses a chosen few, from the inputs the pass kept or read again."""

from __future__ import annotations

import time

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset

from reportgen.collect.collected import PIXEL_SIDE, Collected
from reportgen.collect.thumbnails import encode_thumbnail
from reportgen.compute.image_hashes import pixel_hash
from reportgen.compute.image_properties import image_properties, shrunk
from reportgen.data.decode import DecodeError
from reportgen.data.source import NO_LABEL, DataSource
from reportgen.errors import ReportgenError
from reportgen.model.input_spec import InputSpec


class Preprocess:
    """A decoded PIL image -> the model's (C, H, W) float tensor, the way the spec says (the user's transform, or
    resize (and centre-crop) and normalise); a tensor the user's own transform made is used as it is, and its
    picture for the page is it un-normalised."""

    def __init__(self, spec: InputSpec):
        self.spec = spec
        self.mean = np.asarray(spec.mean, dtype=np.float32).reshape(-1, 1, 1)
        self.std = np.asarray(spec.std, dtype=np.float32).reshape(-1, 1, 1)

    def tensor(self, image: Image.Image) -> torch.Tensor:
        if self.spec.transform is not None:
            out = self.spec.transform(image)
            return out if isinstance(out, torch.Tensor) else torch.as_tensor(np.asarray(out))
        height, width = self.spec.size
        if self.spec.resize:  # torchvision/timm evaluation: shorter side to `resize`, then the centre crop
            scale = self.spec.resize / min(image.size)
            image = image.resize((max(width, round(image.width * scale)), max(height, round(image.height * scale))),
                                 Image.BILINEAR)
            left, top = (image.width - width) // 2, (image.height - height) // 2
            image = image.crop((left, top, left + width, top + height))
        elif image.size != (width, height):
            image = image.resize((width, height), Image.BILINEAR)
        array = np.asarray(image, dtype=np.float32) / 255.0
        array = array[None] if array.ndim == 2 else array.transpose(2, 0, 1)
        return torch.from_numpy((array - self.mean) / self.std)

    def picture(self, tensor: torch.Tensor) -> Image.Image:
        """A prepared tensor as the image it shows (un-normalised with the spec's mean/std)."""
        array = np.clip(tensor.numpy() * self.std + self.mean, 0, 1)
        array = (array * 255).astype(np.uint8)
        return Image.fromarray(array[0] if array.shape[0] == 1 else array[:3].transpose(1, 2, 0))

    def __call__(self, image) -> tuple[torch.Tensor, Image.Image]:
        """(model tensor, the picture the page shows)."""
        if isinstance(image, torch.Tensor):
            return image, self.picture(image)
        return self.tensor(image), image


class ImageDataset(Dataset):
    """index -> (index, tensor, (thumbnail, small pixels, properties, label, pixel hash), seconds), or (index, None, reason,
    seconds); seconds: the CPU time it took (the collect pass splits the cores by it)."""

    def __init__(self, source: DataSource, spec: InputSpec):
        self.source = source
        self.spec = spec
        self.prepare = Preprocess(spec)

    def __len__(self) -> int:
        return len(self.source.samples)

    def __getitem__(self, index: int):
        started = time.thread_time()
        return (*self._item(index), time.thread_time() - started)

    def model_input(self, index: int) -> torch.Tensor:
        """Only the model's tensor (a sample the pass already read once)."""
        sample = self.source.samples[index]
        return self.prepare(self.source.reader.read(sample, self.spec.channels, self.spec.size).image)[0]

    def _item(self, index: int):
        sample = self.source.samples[index]
        try:
            read = self.source.reader.read(sample, self.spec.channels, self.spec.size)
            tensor, picture = self.prepare(read.image)
        except (DecodeError, ReportgenError) as exc:  # ReportgenError: an item reportgen can't read (its type)
            return index, None, str(exc)
        except OSError as exc:
            return index, None, f"cannot read file ({exc.strerror or exc})"
        label = read.label if sample.label is None else sample.label
        if self.source.labelled and (label is None or label < 0):
            return index, None, NO_LABEL
        reduced = shrunk(picture)  # one shrink of a large photo for the three small copies: ~1 ms of ~6 an image
        small = np.asarray(reduced.convert("L" if self.spec.channels == 1 else "RGB")
                           .resize((PIXEL_SIDE, PIXEL_SIDE), Image.BILINEAR), dtype=np.uint8)
        return index, tensor, (encode_thumbnail(reduced), small.reshape(-1), image_properties(picture, reduced), label,
                               pixel_hash(picture))


def input_loader(source: DataSource, spec: InputSpec, collected: Collected, device: torch.device, *, kept=None,
                 form=None):
    """Chosen samples (collected row indices) as one model-ready batch on `device`: each input the pass kept
    (`kept`, a KeptInputs), else read again; in the form the pass ran the model in (`form`, a ForwardForm)."""
    dataset = ImageDataset(source, spec)

    def load(rows) -> torch.Tensor:
        indices = [int(collected.source_index[r]) for r in rows]
        tensors = [kept.get(i) if kept is not None and kept.get(i) is not None else dataset.model_input(i)
                   for i in indices]
        batch = torch.stack(tensors)
        return form.inputs(batch) if form is not None else batch.to(device)

    return load
