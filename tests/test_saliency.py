"""Gradient saliency and exigo's baseline subtraction, cross-checked against captum and against a loop."""

import warnings

import numpy as np
import pytest
import torch
from captum.attr import Saliency
from gradient_context import export
from tiny_models import TinyNet

from reportgen.explain.attribution_pass import (
    MAX_ROWS,
    attribute_samples,
    explained_classes,
    rows_per_chunk,
    saved_bytes_per_row,
)
from reportgen.explain.saliency import baseline_subtracted, blank_input, gradient_saliency, target_gradients
from reportgen.model.formats import adapter_for


@pytest.fixture(scope="module")
def batch():
    generator = torch.Generator().manual_seed(0)
    return torch.rand(7, 1, 16, 16, generator=generator), torch.tensor([0, 1, 2, 2, 1, 0, 1])


def formats(model):
    example = torch.zeros(2, 1, 16, 16)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {"eager": model, "torch.export": export(model, example), "script": torch.jit.script(model),
                "trace": torch.jit.trace(model, example)}


def captum_saliency(model, inputs, targets):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Input Tensor 0 did not already require gradients"
        return Saliency(model).attribute(inputs.clone(), target=targets, abs=False)


@pytest.mark.parametrize("fmt", ["eager", "torch.export", "script", "trace"])
def test_raw_gradient_equals_captum_saliency(tiny_model, batch, fmt):
    model = formats(tiny_model)[fmt]
    inputs, targets = batch
    ours = gradient_saliency(model, inputs, targets)
    theirs = captum_saliency(tiny_model, inputs, targets)
    assert ours.shape == inputs.shape
    assert ours.abs().max() > 1e-4  # a real gradient, not zeros on both sides
    torch.testing.assert_close(ours, theirs, atol=1e-5, rtol=0)


def test_batched_saliency_equals_a_loop_over_samples(tiny_model, batch):
    inputs, targets = batch
    batched = baseline_subtracted(tiny_model, inputs, targets)
    for i in range(len(inputs)):
        one = baseline_subtracted(tiny_model, inputs[i:i + 1], targets[i:i + 1])
        for name in ("baseline", "saliency", "delta", "overlay"):
            torch.testing.assert_close(getattr(batched, name)[i:i + 1], getattr(one, name), atol=1e-6, rtol=1e-5)


def test_baseline_subtraction_follows_exigo(tiny_model, batch):
    inputs, targets = batch
    maps = baseline_subtracted(tiny_model, inputs, targets)
    blank = torch.zeros_like(inputs)
    torch.testing.assert_close(maps.saliency, captum_saliency(tiny_model, inputs, targets), atol=1e-5, rtol=0)
    torch.testing.assert_close(maps.baseline, captum_saliency(tiny_model, blank, targets), atol=1e-5, rtol=0)
    torch.testing.assert_close(maps.delta, maps.saliency - maps.baseline)
    torch.testing.assert_close(maps.overlay, maps.delta * inputs)  # unnormalised: delta times the input
    torch.testing.assert_close(maps.source, inputs)


def test_blank_is_a_black_image_after_normalisation():
    like = torch.ones(4, 3, 5, 5)
    blank = blank_input(like, mean=(0.5, 0.4, 0.3), std=(0.25, 0.2, 0.1))
    assert blank.shape == (1, 3, 5, 5)
    torch.testing.assert_close(blank[0, :, 0, 0], torch.tensor([-2.0, -2.0, -3.0]))
    assert blank_input(like).abs().max() == 0


class CountingModel(torch.nn.Module):
    def __init__(self, inner):
        super().__init__()
        self.inner, self.calls, self.batch_sizes = inner, 0, []

    def forward(self, x):
        self.calls += 1
        self.batch_sizes.append(len(x))
        return self.inner(x)


def test_one_forward_and_backward_per_batch_and_no_parameter_grads(tiny_model, batch):
    inputs, targets = batch
    model = TinyNet().eval()
    counting = CountingModel(model)
    gradient_saliency(counting, inputs, targets)
    assert counting.calls == 1 and counting.batch_sizes == [7]
    assert all(p.grad is None for p in model.parameters())  # autograd.grad: nothing accumulates on the weights


def test_gradients_work_inside_inference_mode(tiny_model, batch):
    inputs, targets = batch
    expected = gradient_saliency(tiny_model, inputs, targets)
    with torch.inference_mode():
        frozen = inputs.clone()  # an inference tensor, as a loader called in inference mode would return
        got = gradient_saliency(tiny_model, frozen, targets)
    torch.testing.assert_close(got, expected)


def test_tuple_and_dict_outputs_are_understood(tiny_model, batch):
    inputs, targets = batch

    class Wrapped(torch.nn.Module):
        def __init__(self, as_dict):
            super().__init__()
            self.inner, self.as_dict = tiny_model, as_dict

        def forward(self, x):
            logits = self.inner(x)
            return {"logits": logits, "aux": logits * 0} if self.as_dict else (logits, logits * 0)

    expected = gradient_saliency(tiny_model, inputs, targets)
    for as_dict in (True, False):
        torch.testing.assert_close(gradient_saliency(Wrapped(as_dict), inputs, targets), expected)


def test_attribution_pass_runs_each_sample_forward_once_and_matches_direct_computation(tiny_model, batch):
    inputs, targets = batch
    rows = list(range(7))
    labels = targets.tolist()
    probs = torch.softmax(tiny_model(inputs), 1).detach().numpy()
    wanted = [explained_classes(probs[i], labels[i], top=2) for i in rows]
    counting = CountingModel(tiny_model)
    with adapter_for(counting) as adapter:
        results = list(attribute_samples(adapter, lambda r: inputs[list(r)], rows, wanted, labels, chunk=16))
    # one forward for the blank (every class needed) and one for the samples, each sample once however many
    # classes it is explained toward (a backward per class position): no per-sample or per-pair repeats
    assert counting.batch_sizes == [len({k for w in wanted for k in w}), len(rows)]
    direct = baseline_subtracted(tiny_model, inputs, targets)
    for i, result in enumerate(results):
        assert result.row == i and list(result.class_maps) == wanted[i]
        torch.testing.assert_close(torch.from_numpy(result.label_maps["delta"]), direct.delta[i].sum(0))
        torch.testing.assert_close(torch.from_numpy(result.class_maps[labels[i]]), direct.overlay[i].sum(0))
        for k in wanted[i]:  # every class's map, not only the label's: each from its own backward
            other = baseline_subtracted(tiny_model, inputs[i:i + 1], torch.tensor([k]))
            torch.testing.assert_close(torch.from_numpy(result.class_maps[k]), other.overlay[0].sum(0))


def test_chunks_are_sized_by_the_activations_a_row_keeps_for_the_backward(tiny_model, batch):
    inputs, targets = batch
    per_row = saved_bytes_per_row(tiny_model, inputs)
    assert 0 < per_row < 1e6  # a 16x16 input: kilobytes, and the weights (the same for any batch) not counted
    assert rows_per_chunk(tiny_model, inputs, budget=3 * per_row) == 3
    assert rows_per_chunk(tiny_model, inputs, budget=10 ** 12) == MAX_ROWS
    labels = targets.tolist()
    counting = CountingModel(tiny_model)
    with adapter_for(tiny_model) as adapter:
        whole = list(attribute_samples(adapter, lambda r: inputs[list(r)], list(range(7)), [[k] for k in labels],
                                       labels))
    with adapter_for(counting) as adapter:
        chunked = list(attribute_samples(adapter, lambda r: inputs[list(r)], list(range(7)), [[k] for k in labels],
                                         labels, chunk=3))
    assert counting.batch_sizes[-3:] == [3, 3, 1]
    for a, b in zip(whole, chunked):
        assert a.row == b.row
        np.testing.assert_allclose(a.label_maps["overlay"], b.label_maps["overlay"], rtol=1e-5, atol=1e-7)


def test_explained_classes_adds_the_label_when_outside_the_top():
    probs = torch.tensor([0.05, 0.3, 0.2, 0.15, 0.1, 0.12, 0.08]).numpy()
    assert explained_classes(probs, 1) == [1, 2, 3, 5, 4]
    assert explained_classes(probs, 0) == [1, 2, 3, 5, 4, 0]


def test_layer_gradient_comes_from_the_same_backward(tiny_model, batch):
    inputs, targets = batch
    with adapter_for(tiny_model) as adapter, adapter.capture(["conv2"]) as layers:
        result = target_gradients(tiny_model, inputs, targets, layers=layers, layer_name="conv2")
    assert result.layer.shape == (7, 8, 8, 8) and result.layer_grad.shape == (7, 8, 8, 8)
    torch.testing.assert_close(result.inputs, gradient_saliency(tiny_model, inputs, targets))


def test_a_linear_model_looks_at_nothing_beyond_the_baseline(batch):
    """Its gradient is the same everywhere, so exigo's delta (and the overlay) vanish: the subtraction removes
    what the network does regardless of the input."""
    inputs, targets = batch
    linear = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(256, 3))
    maps = baseline_subtracted(linear, inputs, targets)
    assert maps.saliency.abs().max() > 0
    assert maps.delta.abs().max() == 0 and maps.overlay.abs().max() == 0
