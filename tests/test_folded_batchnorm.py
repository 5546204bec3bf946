"""BatchNorm folded into the convolution before it: the same logits and gradients, the user's module untouched,
and no fold where the hooks saw wrongly (a conv's output read twice, an in-place op between) or where a caller
reads a folded layer's own output (Grad-CAM's layer, --layer)."""

import numpy as np
import pytest
import torch
from torch import nn

from reportgen.collect.batched_pass import collect_outputs
from reportgen.data.discover import discover
from reportgen.model.formats import adapter_for
from reportgen.model.input_spec import InputSpec
from reportgen.runtime import forward_form
from reportgen.runtime.folded_batchnorm import FoldedBatchNorm
from reportgen.runtime.forward_form import ForwardForm


def _random_statistics(model: nn.Module) -> nn.Module:
    """Trained-looking BatchNorms (fresh ones are nearly the identity, and folding them would prove nothing)."""
    generator = torch.Generator().manual_seed(1)
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            n = module.num_features
            module.running_mean.copy_(torch.randn(n, generator=generator))
            module.running_var.copy_(torch.rand(n, generator=generator) * 2 + 0.1)
            module.weight.data.copy_(torch.randn(n, generator=generator))
            module.bias.data.copy_(torch.randn(n, generator=generator))
    return model.eval()


class BnNet(nn.Module):
    """conv (no bias) -> BN -> ReLU, twice, then a classifier; `mode` plants what folding must not touch."""

    def __init__(self, mode: str = "plain"):
        super().__init__()
        self.mode = mode
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1, bias=True)
        self.bn2 = nn.BatchNorm2d(8)
        self.fc = nn.Linear(8, 3)

    def forward(self, x):
        x = torch.relu(self.bn1(self.conv1(x)))
        y = self.conv2(x)
        if self.mode == "read_twice":  # the conv's output also feeds a residual sum
            x = torch.relu(self.bn2(y)) + y
        elif self.mode == "in_place":  # an in-place op between the conv and its BN
            x = self.bn2(y.mul_(-1.5))
        else:
            x = torch.relu(self.bn2(y))
        return self.fc(x.mean(dim=(2, 3)))


def _net(mode="plain"):
    torch.manual_seed(0)
    return _random_statistics(BnNet(mode))


def test_folded_forward_and_input_gradients_equal_the_plain_ones_and_the_module_is_left_as_it_was():
    model = _net()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    x = torch.randn(4, 3, 16, 16)
    with torch.no_grad(), FoldedBatchNorm.watching(model) as fold:
        plain = model(x)
    assert [(p.conv_name, p.bn_name) for p in fold.pairs] == [("conv1", "bn1"), ("conv2", "bn2")]
    fold.prepare()
    with fold.applied():
        calls = []
        hook = model.bn1.register_forward_hook(lambda *_: calls.append(1))  # hooks on a folded BN still fire
        folded = model(x.clone().requires_grad_(True))
        hook.remove()
        xg = x.clone().requires_grad_(True)
        folded_grad, = torch.autograd.grad(model(xg)[:, 1].sum(), xg)
    assert calls
    assert not torch.equal(folded, plain)  # really another computation, not the plain one
    np.testing.assert_allclose(folded.detach().numpy(), plain.numpy(), rtol=1e-5, atol=1e-5)
    xg = x.clone().requires_grad_(True)
    plain_grad, = torch.autograd.grad(model(xg)[:, 1].sum(), xg)
    np.testing.assert_allclose(folded_grad.numpy(), plain_grad.numpy(), rtol=1e-4, atol=1e-6)
    for module in model.modules():
        assert "forward" not in module.__dict__
    for key, value in model.state_dict().items():
        assert torch.equal(value, state[key]), key


def test_a_kept_layer_is_not_folded_so_its_own_output_stays_the_convolutions():
    model = _net()
    x = torch.randn(2, 3, 16, 16)
    with torch.no_grad(), FoldedBatchNorm.watching(model) as fold:
        model(x)
    fold.prepare()
    seen = {}
    hook = model.conv2.register_forward_hook(lambda _m, _i, out: seen.setdefault("out", out))
    with torch.no_grad():
        model(x)
        plain_out = seen.pop("out")
        with fold.applied(keep={"conv2"}):
            model(x)
        assert torch.allclose(seen.pop("out"), plain_out, atol=1e-5)  # (conv1 before it is folded)
        with fold.applied():
            model(x)
        assert not torch.allclose(seen.pop("out"), plain_out, atol=1e-2)  # folded, conv2's output is bn2's
    hook.remove()


@pytest.mark.parametrize("mode", ["read_twice", "in_place"])
def test_no_fold_where_the_folded_logits_would_differ(mode, monkeypatch):
    monkeypatch.setattr(forward_form, "MEASURE_FROM", 0)  # fold even this tiny model
    model = _net(mode)
    form = ForwardForm(model, torch.device("cpu"))
    form.decide(torch.randn(4, 3, 16, 16))
    assert form.fold is None and form.provenance()["batchnorms_folded"] == 0
    assert all("forward" not in m.__dict__ for m in model.modules())


def test_shared_or_subclassed_layers_are_not_paired():
    class Shared(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 3, 1)
            self.bn = nn.BatchNorm2d(3)

        def forward(self, x):
            return self.bn(self.conv(self.bn(self.conv(x))))  # each called twice

    class ActNorm(nn.BatchNorm2d):  # like timm's BatchNormAct2d: an activation inside the norm
        def forward(self, x):
            return torch.relu(super().forward(x))

    for model in (Shared(), nn.Sequential(nn.Conv2d(3, 3, 1), ActNorm(3))):
        with torch.no_grad(), FoldedBatchNorm.watching(_random_statistics(model)) as fold:
            model(torch.randn(1, 3, 4, 4))
        assert len(fold) == 0


def test_the_pass_runs_folded_where_it_agrees_and_gives_the_plain_logits(image_tree, monkeypatch):
    monkeypatch.setattr(forward_form, "MEASURE_FROM", 0)
    spec = InputSpec(channels=3, size=(16, 16), mean=(0.5,) * 3, std=(0.25,) * 3, source="test")

    def run(form):
        with adapter_for(model) as adapter:
            return collect_outputs(adapter, discover(image_tree), spec, device=torch.device("cpu"), batch_size=16,
                                   workers=0, form=form, quiet=True)

    model = _net()
    plain = run(ForwardForm(model, torch.device("cpu"), measure=False))
    forwards = []  # per forward of bn2: was it folded (passing its input through)?
    model.bn2.register_forward_pre_hook(lambda *_: forwards.append("forward" in model.bn2.__dict__))
    with ForwardForm(model, torch.device("cpu")) as form:
        folded = run(form)
    assert form.provenance()["batchnorms_folded"] == 2
    batches = -(-len(plain.labels) // 16)
    assert forwards[-batches:] == [True] * batches  # every batch of the pass ran folded
    np.testing.assert_allclose(folded.logits, plain.logits, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(folded.embeddings, plain.embeddings, rtol=1e-4, atol=1e-5)
    assert all("forward" not in m.__dict__ for m in model.modules())


def test_saliency_runs_folded_but_not_at_its_grad_cam_layer_and_its_maps_are_the_plain_ones(image_tree, monkeypatch):
    from reportgen.analyses import saliency_maps
    from reportgen.collect.dataset import input_loader
    from reportgen.explain.model_access import ModelAccess

    monkeypatch.setattr(forward_form, "MEASURE_FROM", 0)
    spec = InputSpec(channels=3, size=(16, 16), mean=(0.5,) * 3, std=(0.25,) * 3, source="test")
    model = _net()
    folded_at = {"bn1": [], "bn2": []}  # per forward of each BN inside the saliency: was it folded?
    for name, seen in folded_at.items():
        bn = getattr(model, name)
        bn.register_forward_pre_hook(lambda *_, bn=bn, seen=seen: seen.append("forward" in bn.__dict__))

    def saliency(form):
        with adapter_for(model) as adapter:
            source = discover(image_tree)
            collected = collect_outputs(adapter, source, spec, device=torch.device("cpu"), batch_size=16, workers=0,
                                        quiet=True, form=form)
            access = ModelAccess(adapter, input_loader(source, spec, collected, torch.device("cpu"), form=form),
                                 spec.mean, spec.std, form=form)
            for seen in folded_at.values():
                seen.clear()
            return saliency_maps.run(collected, model_access=access, saliency_samples=6, top_k=3).json()["saliency"]

    plain = saliency(ForwardForm(model, torch.device("cpu"), measure=False))
    with ForwardForm(model, torch.device("cpu")) as form:
        folded = saliency(form)
    assert form.fold is not None and folded["grad_cam"]["layer"] == "conv2"
    # the first forward finds the Grad-CAM layer; the gradients' forwards run folded, but not at conv2 -> bn2
    assert len(folded_at["bn1"]) > 1 and all(folded_at["bn1"][1:]) and not any(folded_at["bn2"])
    assert [s["path"] for s in folded["samples"]] == [s["path"] for s in plain["samples"]]
    for a, b in zip(folded["samples"], plain["samples"]):
        for key in ("saliency_mean_abs", "delta_mean_abs", "baseline_mean_abs"):
            assert a[key] == pytest.approx(b[key], rel=1e-4, abs=1e-7)


def test_a_layer_given_for_the_embedding_keeps_its_own_output(image_tree, monkeypatch):
    """--layer conv2: the embedding is conv2's output, not bn2's, though the pass folds every other pair."""
    monkeypatch.setattr(forward_form, "MEASURE_FROM", 0)
    spec = InputSpec(channels=3, size=(16, 16), mean=(0.5,) * 3, std=(0.25,) * 3, source="test")
    model = _net()

    def run(form):
        with adapter_for(model, "conv2") as adapter:
            return collect_outputs(adapter, discover(image_tree), spec, device=torch.device("cpu"), batch_size=16,
                                   workers=0, form=form, quiet=True)

    plain = run(ForwardForm(model, torch.device("cpu"), measure=False))
    with ForwardForm(model, torch.device("cpu")) as form:
        folded = run(form)
    assert form.provenance()["batchnorms_folded"] == 2
    np.testing.assert_allclose(folded.embeddings, plain.embeddings, rtol=1e-4, atol=1e-5)


def test_a_compiled_model_is_not_folded():
    """Setting a layer's forward inside a torch.compile'd model would only make it compile again."""
    model = torch.compile(_net(), backend="eager")
    with torch.no_grad(), FoldedBatchNorm.watching(model) as fold:
        model(torch.randn(1, 3, 8, 8))
    assert len(fold) == 0


@pytest.mark.parametrize(("arch", "side", "folds"), [("resnet18", 64, 20), ("mobilenet_v3_small", 160, 34)])
def test_torchvision_models_fold_every_batchnorm_and_keep_their_logits(arch, side, folds):
    import torchvision

    torch.manual_seed(0)
    model = _random_statistics(torchvision.models.get_model(arch, weights=None, num_classes=7))
    x = torch.randn(4, 3, side, side)
    with torch.no_grad():
        plain = model(x)
    form = ForwardForm(model, torch.device("cpu"))
    form.decide(x)  # at sizes over MEASURE_FROM's FLOPs: no threshold lowered
    assert form.provenance()["batchnorms_folded"] == folds
    with torch.no_grad(), form.folded():
        folded = model(x.contiguous(memory_format=form.layout))
    np.testing.assert_allclose(folded.numpy(), plain.numpy(), rtol=1e-4, atol=1e-4)
    form.restore()


@pytest.mark.parametrize(("name", "folds"), [("efficientnet_b0", 49), ("mobilenetv3_small_100", 34)])
def test_timms_norm_then_activation_folds_and_keeps_its_activation(name, folds):
    """timm's BatchNormAct2d (the norm, then dropout and an activation): folded, only the activation remains."""
    timm = pytest.importorskip("timm")

    torch.manual_seed(0)
    model = _random_statistics(timm.create_model(name, pretrained=False, num_classes=5))
    assert any(type(m).__name__ == "BatchNormAct2d" for m in model.modules())
    x = torch.randn(4, 3, 160, 160)
    with torch.no_grad():
        plain = model(x)
    form = ForwardForm(model, torch.device("cpu"))
    form.decide(x)
    assert form.provenance()["batchnorms_folded"] == folds
    with torch.no_grad(), form.folded():
        folded = model(x.contiguous(memory_format=form.layout))
    # 49 layers of random statistics amplify float32 rounding (logits in the hundreds): the form's own criterion
    assert forward_form.agrees(folded, plain)
    form.restore()
