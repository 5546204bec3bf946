"""The pass's forward on a CPU runs each batch in the chunk size its own batches measured fastest per image."""

import numpy as np
import pytest
import torch

from reportgen.collect.batched_pass import collect_outputs
from reportgen.collect.core_split import CoreSplit
from reportgen.collect.forward_chunks import ForwardChunks, chunked_forward
from reportgen.data.discover import discover
from reportgen.model.input_spec import InputSpec
from reportgen.runtime.forward_form import ForwardForm


def test_each_size_is_timed_at_the_chosen_thread_count_the_two_fastest_again_where_close_then_the_fastest_kept():
    chunks = ForwardChunks(32, measure=True)
    assert chunks.candidates == [32, 16, 8, 4]
    assert chunks.size(timing=False) == 32  # the split's trials run whole batches
    per_image = {32: 14.2e-3, 16: 14.3e-3, 8: 12.8e-3, 4: 12.1e-3}
    used = []
    for _ in range(8):
        size = chunks.size(timing=True)
        used.append(size)
        chunks.record(size, 32, per_image[size] * 32, timing=True)
    assert used == [32, 16, 8, 4, 8, 4, 4, 4] and chunks.chosen == 4  # 8 and 4 within RETRY_WITHIN: again
    assert chunks.summary() == {"chosen": 4, "ms_per_image": {"4": 12.1, "8": 12.8, "16": 14.3, "32": 14.2}}
    # far apart: one batch each decides
    chunks = ForwardChunks(32, measure=True)
    for size, ms in [(32, 14.0), (16, 12.0), (8, 10.0), (4, 13.0)]:
        assert chunks.size(timing=True) == size
        chunks.record(size, 32, ms * 32 / 1e3, timing=True)
    assert chunks.chosen == 8


def test_a_noisy_first_trial_is_timed_again_and_the_faster_count_of_each_size_decides():
    """A pass's single trials timed ResNet-18's chunks of 16 at 11.0 ms an image and 8 at 11.9 (on quiet cores 8
    runs ~5% faster): the two are timed once more, each keeps its faster count, and 8 wins."""
    chunks = ForwardChunks(32, measure=True)
    for size, ms in [(32, 12.6), (16, 11.0), (8, 11.9), (4, 12.4), (8, 10.6), (16, 11.6)]:
        assert chunks.size(timing=True) == size and chunks.chosen is None
        chunks.record(size, 32, ms * 32 / 1e3, timing=True)
    assert chunks.chosen == 8 and chunks.seconds[8] == pytest.approx(10.6e-3)
    assert chunks.seconds[16] == pytest.approx(11.0e-3)


def test_a_near_tie_keeps_the_larger_chunk_and_short_or_trial_batches_time_nothing():
    chunks = ForwardChunks(16, measure=True)
    chunks.record(16, 5, 1.0, timing=True)  # the short last batch
    chunks.record(16, 16, 1.0, timing=False)  # a trial of the split's
    assert chunks.seconds == {}
    for size, seconds in [(16, 10.0), (8, 9.9), (4, 9.8), (8, 9.9), (4, 9.8)]:
        assert chunks.size(timing=True) == size
        chunks.record(size, 16, seconds * 16 / 1e3, timing=True)
    assert chunks.chosen == 16  # within 3% of the fastest: fewer calls
    assert ForwardChunks(64, measure=False).candidates == [64]  # on a GPU, under torchrun: the whole batch
    assert ForwardChunks(4, measure=True).candidates == [4]


def test_a_chunked_forward_gives_the_whole_batchs_outputs():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(1),
                                torch.nn.Flatten(), torch.nn.Linear(4, 5))
    calls = []

    def tap(x):
        calls.append(len(x))
        return model(x), model[:4](x)

    x = torch.randn(11, 3, 8, 8)
    logits, emb = chunked_forward(tap, x, 4)
    assert calls == [4, 4, 3]
    torch.testing.assert_close(logits, model(x)) and torch.testing.assert_close(emb, model[:4](x))
    assert chunked_forward(tap, x, 16)[0].shape == (11, 5) and calls[-1] == 11


class SizedTap:
    embedding_layer, embedding_note = "test", None

    def __init__(self):
        self.sizes = []

    def __call__(self, x):
        self.sizes.append(len(x))
        return torch.zeros(len(x), 3), torch.zeros(len(x), 4)


class CountedForm(ForwardForm):
    """A form decided already, for a model whose FLOPs make its forward worth timing."""

    worth_timing = True

    def __init__(self):
        super().__init__(None, torch.device("cpu"))
        self.decided = True


@pytest.mark.parametrize("launch", ["alone", "torchrun", "small model"])
def test_the_pass_tries_the_sizes_after_the_split_has_chosen_and_records_them(image_tree, launch, monkeypatch):
    from reportgen.collect import batched_pass
    from reportgen.collect.distributed import World

    source = discover(image_tree)
    spec = InputSpec(channels=3, size=(16, 16), mean=(0.0,) * 3, std=(1.0,) * 3, source="test")
    tap, split = SizedTap(), CoreSplit(2, 1, 1)  # one candidate: chosen from the start
    world = None
    if launch == "torchrun":  # one rank of one, its gathering left out
        world = World(0, 1)
        monkeypatch.setattr(batched_pass, "merge_ranks", lambda ok, skipped, arrays, thumbs: (ok, skipped, arrays))
    collected = collect_outputs(tap, source, spec, device=torch.device("cpu"), batch_size=16, workers=0,
                                quiet=True, split=split, world=world,
                                form=None if launch == "small model" else CountedForm())
    if launch == "alone":
        assert tap.sizes[:1 + 2 + 4] == [16, 8, 8, 4, 4, 4, 4]  # a batch of 16, then 8 and 4 in chunks
        chosen = collected.core_split["forward_chunk"]["chosen"]
        assert chosen in (16, 8, 4) and set(collected.core_split["forward_chunk"]["ms_per_image"]) == {"16", "8", "4"}
        # at most the two fastest once more each (8 and 4: 6 calls), then the choice
        assert all(s <= chosen for s in tap.sizes[7 + 16 // 8 + 16 // 4:])
    else:  # ranks compute alike; a forward under MEASURE_FROM FLOPs an image costs less than its calls would
        assert set(tap.sizes[:-1]) == {16} and collected.core_split["forward_chunk"] == {"chosen": 16,
                                                                                         "ms_per_image": {}}
    assert np.isfinite(collected.loss).all() and len(collected.paths) == len(source.samples)


class BatchShapedTap(SizedTap):
    """A model that takes only the pass's batch shapes (as one traced or exported for them would)."""

    def __init__(self, sizes):
        super().__init__()
        self.allowed = sizes

    def __call__(self, x):
        if len(x) not in self.allowed:
            raise RuntimeError(f"shape mismatch: expected 16, got {len(x)}")
        return super().__call__(x)


def test_a_model_that_takes_only_its_batchs_shape_runs_whole_batches(image_tree):
    source = discover(image_tree)
    spec = InputSpec(channels=3, size=(16, 16), mean=(0.0,) * 3, std=(1.0,) * 3, source="test")
    tap = BatchShapedTap({16, len(source.samples) % 16})
    collected = collect_outputs(tap, source, spec, device=torch.device("cpu"), batch_size=16, workers=0,
                                quiet=True, split=CoreSplit(2, 1, 1), form=CountedForm())
    assert collected.core_split["forward_chunk"] == {"chosen": 16, "ms_per_image": {}}
    assert len(collected.paths) == len(source.samples) and set(tap.sizes[:-1]) == {16}
