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
    """A decoded PIL image -> the model's input, the way the spec says: the user's transform's tensor as it is; else
    the image resized (and centre-cropped) to the spec's size as (H, W, C) uint8 pixels, "raw", normalised a whole
    batch at a time where the batch goes (`normalised`, on the model's device). Raw pixels are a quarter of the
    float input's bytes to send from a decoding worker, pin and keep, and the normalisation, 0.6 ms of a worker's
    ~4 ms per 224-px photo, costs ~0.2 ms an image in one batched pass; its float32 operations are numpy's and
    torchvision's (ToTensor, Normalize): x / 255, minus the mean, over the std, so the numbers do not move. A
    tensor the user's own transform made is used as it is, and its picture for the page is it un-normalised."""

    def __init__(self, spec: InputSpec):
        self.spec = spec
        self.mean = np.asarray(spec.mean, dtype=np.float32).reshape(-1, 1, 1)
        self.std = np.asarray(spec.std, dtype=np.float32).reshape(-1, 1, 1)
        self._scales: dict[torch.device, tuple[torch.Tensor, torch.Tensor]] = {}

    def prepared(self, image) -> tuple[torch.Tensor, bool]:
        """(the model's input before any batch is made, raw): raw=True for (H, W, C) uint8 pixels."""
        if isinstance(image, torch.Tensor):
            return image, False
        if self.spec.transform is not None:
            out = self.spec.transform(image)
            return (out if isinstance(out, torch.Tensor) else torch.as_tensor(np.asarray(out))), False
        height, width = self.spec.size
        if self.spec.resize:  # torchvision/timm evaluation: shorter side to `resize`, then the centre crop
            scale = self.spec.resize / min(image.size)
            image = image.resize((max(width, round(image.width * scale)), max(height, round(image.height * scale))),
                                 Image.BILINEAR)
            left, top = (image.width - width) // 2, (image.height - height) // 2
            image = image.crop((left, top, left + width, top + height))
        elif image.size != (width, height):
            image = image.resize((width, height), Image.BILINEAR)
        pixels = np.array(image, dtype=np.uint8)  # a copy torch may own (asarray's is read-only)
        return torch.from_numpy(pixels[..., None] if pixels.ndim == 2 else pixels), True

    def normalised(self, pixels: torch.Tensor, memory_format=torch.contiguous_format) -> torch.Tensor:
        """(B, H, W, C) uint8 raw pixels -> the model's (B, C, H, W) float32 input, on their device, in
        `memory_format` (the layout change rides on the one conversion copy)."""
        batch, height, width, channels = pixels.shape
        x = torch.empty((batch, channels, height, width), dtype=torch.float32, device=pixels.device,
                        memory_format=memory_format)
        x.copy_(pixels.permute(0, 3, 1, 2))
        mean, std = self._scale(x.device)
        return x.div_(255.0).sub_(mean).div_(std)

    def _scale(self, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        """The spec's mean and std as (1, C, 1, 1) tensors on `device`, made once per device (not a host-to-device
        copy per batch)."""
        if device not in self._scales:
            self._scales[device] = tuple(torch.tensor(v, dtype=torch.float32, device=device).view(1, -1, 1, 1)
                                         for v in (self.spec.mean, self.spec.std))
        return self._scales[device]

    def stacked(self, items: list[tuple[torch.Tensor, bool]]) -> tuple[torch.Tensor, bool]:
        """Prepared inputs as one batch, raw where every one of them is (data that mixes pictures and tensors has
        its pictures normalised one by one)."""
        if all(raw for _t, raw in items):
            return torch.stack([t for t, _raw in items]), True
        return torch.stack([self.normalised(t[None])[0] if raw else t for t, raw in items]), False

    def model_batch(self, batch: torch.Tensor, raw: bool, device: torch.device,
                    memory_format=torch.contiguous_format) -> torch.Tensor:
        """A stacked() batch as the model's float input on `device` (non-blocking from pinned memory)."""
        batch = batch.to(device, non_blocking=True)
        return self.normalised(batch, memory_format) if raw else batch

    def tensor(self, image) -> torch.Tensor:
        """One image as the model's (C, H, W) input."""
        return self.model_batch(*self.stacked([self.prepared(image)]), torch.device("cpu"))[0]

    def picture(self, tensor: torch.Tensor) -> Image.Image:
        """A prepared tensor as the image it shows (un-normalised with the spec's mean/std)."""
        array = np.clip(tensor.numpy() * self.std + self.mean, 0, 1)
        array = (array * 255).astype(np.uint8)
        return Image.fromarray(array[0] if array.shape[0] == 1 else array[:3].transpose(1, 2, 0))

    def __call__(self, image) -> tuple[torch.Tensor, bool, Image.Image]:
        """(the prepared input, raw, the picture the page shows)."""
        tensor, raw = self.prepared(image)
        return tensor, raw, image if not isinstance(image, torch.Tensor) else self.picture(image)


class ImageDataset(Dataset):
    """index -> (index, (input, raw) as Preprocess.prepared makes them, (thumbnail, small pixels, properties, label,
    pixel hash), seconds), or (index, None, reason, seconds); seconds: the CPU time it took (the collect pass
    splits the cores by it)."""

    def __init__(self, source: DataSource, spec: InputSpec, gate=None):
        self.source = source
        self.spec = spec
        self.prepare = Preprocess(spec)
        self.gate = gate  # a multiprocessing Event each item waits for (batched_pass.paused)

    def __len__(self) -> int:
        return len(self.source.samples)

    def __getitem__(self, index: int):
        if self.gate is not None:
            self.gate.wait()
        started = time.thread_time()
        return (*self._item(index), time.thread_time() - started)

    def model_input(self, index: int) -> tuple[torch.Tensor, bool]:
        """Only the prepared input, (input, raw) (a sample the pass already read once)."""
        sample = self.source.samples[index]
        return self.prepare.prepared(self.source.reader.read(sample, self.spec.channels, self.spec.size).image)

    def _item(self, index: int):
        sample = self.source.samples[index]
        try:
            read = self.source.reader.read(sample, self.spec.channels, self.spec.size)
            tensor, raw, picture = self.prepare(read.image)
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
        return index, (tensor, raw), (encode_thumbnail(reduced), small.reshape(-1), image_properties(picture, reduced),
                                      label, pixel_hash(picture))


def input_loader(source: DataSource, spec: InputSpec, collected: Collected, device: torch.device, *, kept=None,
                 form=None):
    """Chosen samples (collected row indices) as one model-ready batch on `device`: each input the pass kept
    (`kept`, a KeptInputs), else read again; in the form the pass ran the model in (`form`, a ForwardForm)."""
    dataset = ImageDataset(source, spec)

    def load(rows) -> torch.Tensor:
        indices = [int(collected.source_index[r]) for r in rows]
        items = [(kept.entry(i) if kept is not None else None) or dataset.model_input(i) for i in indices]
        batch, raw = dataset.prepare.stacked(items)
        if form is None:
            return dataset.prepare.model_batch(batch, raw, device)
        return form.inputs(dataset.prepare.model_batch(batch, raw, form.device, form.layout))

    return load
