"""The pass sends and keeps each picture's input as raw uint8 pixels and normalises a batch at a time where the
batch goes: the numbers must be the ones a per-image float pipeline (torchvision's ToTensor and Normalize) makes,
in either memory format, for the pass, the kept inputs and the ones read again."""

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision import transforms

from reportgen.collect.dataset import Preprocess
from reportgen.collect.kept_inputs import KeptInputs
from reportgen.model.input_spec import InputSpec

MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def photo(width: int, height: int, mode: str = "RGB", seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    array = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    return Image.fromarray(array).convert(mode)


@pytest.mark.parametrize("size", [(300, 257), (224, 500), (640, 480)])
def test_raw_pixels_normalised_in_a_batch_equal_torchvisions_per_image_tensor(size):
    spec = InputSpec(channels=3, size=(224, 224), mean=MEAN, std=STD, source="test", resize=256)
    prepare = Preprocess(spec)
    images = [photo(*size, seed=s) for s in range(3)]
    items = [prepare.prepared(image) for image in images]
    assert all(raw and t.dtype == torch.uint8 and t.shape == (224, 224, 3) for t, raw in items)
    batch, raw = prepare.stacked(items)
    to_tensor = transforms.Compose([transforms.ToTensor(), transforms.Normalize(MEAN, STD)])
    expected = torch.stack([to_tensor(Image.fromarray(t.numpy())) for t, _ in items])  # the same crops
    for layout in (torch.contiguous_format, torch.channels_last):
        x = prepare.model_batch(batch, raw, torch.device("cpu"), layout)
        assert x.dtype == torch.float32 and x.is_contiguous(memory_format=layout)
        assert torch.equal(x, expected)  # bit for bit: the same float32 operations
    assert torch.equal(prepare.tensor(images[1]), expected[1])


def test_a_grey_model_gets_one_channel_and_a_transforms_tensor_is_not_touched():
    spec = InputSpec(channels=1, size=(16, 16), mean=(0.5,), std=(0.25,), source="test")
    prepare = Preprocess(spec)
    image = photo(40, 30, "L")
    pixels, raw = prepare.prepared(image)
    assert raw and pixels.shape == (16, 16, 1)
    expected = transforms.Compose([transforms.Resize((16, 16)), transforms.ToTensor(),
                                   transforms.Normalize((0.5,), (0.25,))])(image)
    assert torch.allclose(prepare.tensor(image), expected, atol=1e-6)
    given = torch.rand(1, 16, 16)
    assert prepare.prepared(given) == (given, False)
    # data that mixes pictures and tensors: its pictures are normalised one by one, the batch is not raw
    batch, raw = prepare.stacked([(pixels, True), (given, False)])
    assert not raw and torch.equal(batch[0], prepare.tensor(image)) and torch.equal(batch[1], given)


def test_kept_raw_inputs_cost_a_quarter_and_come_back_as_the_model_input():
    spec = InputSpec(channels=3, size=(32, 32), mean=MEAN, std=STD, source="test")
    prepare = Preprocess(spec)
    images = [photo(48, 40, seed=s) for s in range(6)]
    batch, raw = prepare.stacked([prepare.prepared(image) for image in images])
    image_bytes = 32 * 32 * 3
    keep = KeptInputs(top_k=6, per_class=1, budget_bytes=20 * image_bytes)
    keep.offer(np.arange(6), batch, split=np.zeros(6, int), labels=np.zeros(6, int), loss=np.arange(6.0),
               right=np.ones(6, bool), confidence=np.linspace(0.5, 0.9, 6), num_classes=1, num_splits=1, raw=raw)
    assert keep.classes_size == 1  # 20 uint8 inputs fit: room for the class lists (5 float32 ones would not)
    for index in range(6):
        tensor, kept_raw = keep.entry(index)
        assert kept_raw and tensor.dtype == torch.uint8
        stacked, raw_again = prepare.stacked([keep.entry(index)])
        model_input = prepare.model_batch(stacked, raw_again, torch.device("cpu"))[0]
        assert torch.equal(model_input, prepare.tensor(images[index]))
    assert keep.entry(99) is None
