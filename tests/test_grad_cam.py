"""Grad-CAM: against a hand computation and pytorch-grad-cam; the layer is found (or explained) in every format."""

import copy
import warnings

import numpy as np
import pytest
import torch
from gradient_context import MLP, InplaceVGG, ReversedRegistration, TinyViT, export
from pytorch_grad_cam import GradCAM
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

from reportgen.explain.grad_cam import NO_CONV, SCRIPT, TRANSFORMER, cam_to_input_size, find_cam_layer, grad_cam
from reportgen.explain.saliency import target_gradients
from reportgen.model.adapter import NoHooks
from reportgen.model.formats import adapter_for

PROBE = torch.zeros(1, 1, 16, 16)


@pytest.fixture(scope="module")
def batch(image_tree):
    from conftest import load_tensors

    x, y = load_tensors(image_tree)
    return x[::6][:8], y[::6][:8]  # real images of every class, so the trained net's maps mean something


def our_cam(model, layer, inputs, targets):
    with adapter_for(model) as adapter, adapter.capture([layer]) as layers:
        result = target_gradients(model, inputs, targets, layers=layers, layer_name=layer)
    return grad_cam(result.layer, result.layer_grad)


def hand_cam(net, inputs, targets):
    """Grad-CAM on conv2 of TinyNet written out step by step, independent of the capture machinery."""
    with torch.enable_grad():
        activations = net.conv2(torch.max_pool2d(torch.relu(net.conv1(inputs)), 2)).detach().requires_grad_(True)
        hidden = torch.relu(net.hidden(net.pool(torch.relu(activations)).flatten(1)))
        logits = net.fc(hidden)
        grads, = torch.autograd.grad(logits[torch.arange(len(targets)), targets].sum(), activations)
    weights = grads.mean(dim=(2, 3))  # alpha_k^c: global-average-pooled gradients
    return torch.relu(torch.einsum("bk,bkhw->bhw", weights, activations.detach()))


def test_grad_cam_equals_a_hand_computation(tiny_model, batch):
    inputs, targets = batch
    ours = our_cam(tiny_model, "conv2", inputs, targets)
    assert ours.shape == (len(inputs), 8, 8) and ours.max() > 0
    torch.testing.assert_close(ours, hand_cam(tiny_model, inputs, targets), atol=1e-6, rtol=1e-5)


def test_grad_cam_agrees_with_pytorch_grad_cam(tiny_model, batch):
    inputs, targets = batch
    ours = cam_to_input_size(our_cam(tiny_model, "conv2", inputs, targets), (16, 16)).numpy()
    with GradCAM(model=tiny_model, target_layers=[tiny_model.conv2]) as reference:
        theirs = reference(input_tensor=inputs, targets=[ClassifierOutputTarget(int(t)) for t in targets])
    assert ours.shape == theirs.shape == (len(inputs), 16, 16)
    # both: ReLU, bilinear upsampling, then each map scaled to [0, 1]
    np.testing.assert_allclose(ours, theirs, atol=1e-4)


def test_exported_program_gives_the_same_grad_cam_as_the_eager_model(tiny_model, batch):
    inputs, targets = batch
    graph = export(tiny_model, PROBE.expand(2, -1, -1, -1))
    layer = find_cam_layer(adapter_for(graph), PROBE)
    assert layer.name == "conv2"
    torch.testing.assert_close(our_cam(graph, layer.name, inputs, targets),
                               our_cam(tiny_model, "conv2", inputs, targets), atol=1e-6, rtol=1e-5)


def test_capture_leaves_the_exported_graph_as_it_was(tiny_model):
    graph = export(tiny_model, PROBE.expand(2, -1, -1, -1))
    before = [n.name for n in graph.graph.nodes]
    with adapter_for(graph) as adapter:  # the embedding tap inserts a node too ...
        assert len(graph.graph.nodes) == len(before) + 1
        with adapter.capture(["conv1", "conv2"]) as store:
            graph(PROBE)
        assert set(store) == {"conv1", "conv2"}
    assert [n.name for n in graph.graph.nodes] == before  # ... and every inserted node is gone again


def test_eager_hooks_are_removed(tiny_model):
    with adapter_for(tiny_model) as adapter:
        assert tiny_model.fc._forward_pre_hooks  # the embedding tap
        with adapter.capture(["conv2"]):
            assert tiny_model.conv2._forward_hooks
        assert not tiny_model.conv2._forward_hooks
    assert not tiny_model.fc._forward_pre_hooks and not tiny_model.conv2._forward_hooks


def test_the_last_convolution_is_found_by_execution_order():
    model = ReversedRegistration().eval()
    assert [layer.name for layer in adapter_for(model).conv_layers(PROBE)] == ["early", "late"]
    assert find_cam_layer(adapter_for(model), PROBE).name == "late"


def test_torchscript_explains_why_grad_cam_is_absent(tiny_model):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for program in (torch.jit.script(tiny_model), torch.jit.trace(tiny_model, PROBE)):
            layer = find_cam_layer(adapter_for(program), PROBE)
            assert layer.name is None and layer.note == SCRIPT
            with pytest.raises(NoHooks):
                with adapter_for(program).capture(["conv2"]):
                    pass


@pytest.mark.parametrize("exported", [False, True])
def test_models_without_a_useful_convolution_get_a_sentence(exported):
    for model, note in ((MLP(), NO_CONV), (TinyViT(), TRANSFORMER)):
        model = export(model, PROBE.expand(2, -1, -1, -1)) if exported else model.eval()
        layer = find_cam_layer(adapter_for(model), PROBE)
        assert layer.name is None and layer.note == note, type(model).__name__


def test_cam_layer_override(tiny_model, batch):
    with adapter_for(tiny_model) as adapter:
        assert find_cam_layer(adapter, PROBE, "conv1").name == "conv1"
        missing = find_cam_layer(adapter, PROBE, "layer9")
    assert missing.name is None and "--cam-layer layer9" in missing.note
    inputs, targets = batch
    assert our_cam(tiny_model, "conv1", inputs, targets).shape == (len(inputs), 16, 16)


def test_inplace_relu_after_the_convolution_keeps_gradients_right():
    """VGG's Conv -> ReLU(inplace=True) overwrites the conv's output; our capture must still see the conv's own
    output and its gradient: the same Grad-CAM as the very same network with out-of-place ReLUs."""
    torch.manual_seed(0)
    inplace = InplaceVGG().eval()
    plain = copy.deepcopy(inplace)
    for module in plain.modules():
        if isinstance(module, torch.nn.ReLU):
            module.inplace = False
    inputs, targets = torch.rand(4, 1, 16, 16), torch.tensor([0, 1, 2, 0])
    layer = find_cam_layer(adapter_for(inplace), PROBE).name
    assert layer == "features.2"
    ours = our_cam(inplace, layer, inputs, targets)
    assert ours.abs().max() > 0
    torch.testing.assert_close(ours, our_cam(plain, layer, inputs, targets))
