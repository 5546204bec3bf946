"""How the model runs: channels_last only where it was faster (and gives the same logits), --amp's bfloat16 on CPU
only where it was faster (said when not), the same form for the gradients, and the weights handed back as they
came. Timings are made up here; no test depends on this machine's speed."""

import numpy as np
import pytest
import torch
from torch import nn

from reportgen.collect.batched_pass import collect_outputs
from reportgen.data.discover import discover
from reportgen.model.formats import adapter_for
from reportgen.model.input_spec import InputSpec
from reportgen.runtime import forward_form
from reportgen.runtime.forward_form import CHANNELS_LAST, CONTIGUOUS, ForwardForm, choose_form

CL, PLAIN = CHANNELS_LAST, CONTIGUOUS


def test_channels_last_only_where_it_is_faster_by_the_margin():
    assert choose_form({(PLAIN, "float32"): 1.0, (CL, "float32"): 0.7}, low=None) == (CL, "float32", None)
    assert choose_form({(PLAIN, "float32"): 1.0, (CL, "float32"): 0.97}, low=None) == (PLAIN, "float32", None)
    assert choose_form({(PLAIN, "float32"): 1.0, (CL, "float32"): 1.4}, low=None) == (PLAIN, "float32", None)
    assert choose_form({(PLAIN, "float32"): 1.0}, low=None) == (PLAIN, "float32", None)


def test_amp_keeps_bfloat16_only_where_it_is_faster_and_says_so_otherwise():
    times = {(PLAIN, "float32"): 1.0, (CL, "float32"): 0.8, (PLAIN, "bfloat16"): 0.6, (CL, "bfloat16"): 0.3}
    assert choose_form(times, low="bfloat16") == (CL, "bfloat16", None)
    slower = {(PLAIN, "float32"): 1.0, (CL, "float32"): 0.8, (PLAIN, "bfloat16"): 2.0, (CL, "bfloat16"): 1.6}
    fmt, precision, note = choose_form(slower, low="bfloat16")
    assert (fmt, precision) == (CL, "float32") and "bfloat16 ran at 0.50x float32's speed" in note


class ColourNet(nn.Module):
    """Two 3-channel convolutions, so channels_last and contiguous are different layouts."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1)
        self.fc = nn.Linear(8, 3)
        self.seen: list[bool] = []  # per forward: did conv1 get a channels_last input?
        self.conv1.register_forward_pre_hook(lambda _m, args: self.seen.append(
            not args[0].is_contiguous() and args[0].is_contiguous(memory_format=torch.channels_last)))

    def forward(self, x):
        x = torch.relu(self.conv2(torch.relu(self.conv1(x))))
        return self.fc(x.mean(dim=(2, 3)))


class TimedForm(ForwardForm):
    """Times each form as the test says (seconds per forward), running the model for real."""

    def __init__(self, *args, seconds, **kwargs):
        super().__init__(*args, **kwargs)
        self.seconds, self.tried = seconds, []

    def _run(self, probe, fmt, precision):
        logits, _ = super()._run(probe, fmt, precision)
        self.tried.append((fmt, precision))
        return logits, self.seconds[(fmt, precision)]

    def decide(self, batch):
        super().decide(batch)
        getattr(self.module, "seen", []).clear()  # what the pass's own forwards get, from here


@pytest.fixture()
def colour():
    torch.manual_seed(0)
    return ColourNet().eval()


@pytest.fixture()
def spec():
    return InputSpec(channels=3, size=(16, 16), mean=(0.5,) * 3, std=(0.25,) * 3, source="test")


def collect(model, image_tree, spec, form=None, **options):
    with adapter_for(model) as adapter:
        return collect_outputs(adapter, discover(image_tree), spec, device=torch.device("cpu"), batch_size=16,
                               workers=0, form=form, **{"quiet": True} | options)


def test_on_cpu_the_forms_are_timed_before_the_workers_start_on_noise_in_the_inputs_shape(colour, image_tree, spec,
                                                                                          monkeypatch):
    """Timed beside the workers filling their queues, the forms' times were 2-5x slower and once chose wrongly."""
    from reportgen.collect import batched_pass

    monkeypatch.setattr(forward_form, "MEASURE_FROM", 0)  # time even this tiny model
    events = []
    started = batched_pass.started
    monkeypatch.setattr(batched_pass, "started", lambda loader: events.append("workers") or started(loader))

    class Watched(TimedForm):
        def decide(self, batch):
            events.append(("decide", tuple(batch.shape)))
            super().decide(batch)

    with Watched(colour, torch.device("cpu"), seconds={(PLAIN, "float32"): 1.0, (CL, "float32"): 0.5}) as form:
        collect(colour, image_tree, spec, form)
    assert events == [("decide", (forward_form.PROBE_IMAGES, 3, 16, 16)), "workers"]
    assert form.memory_format == CL and all(colour.seen)  # the pass ran in the form the probe chose


def test_a_close_call_between_forms_is_timed_again(colour, monkeypatch):
    """Forms within CLOSE_CALL of each other after REPEATS rounds get as many rounds again (noise could swing the
    choice); a clear winner does not. Each run here: its warm-up, then the timed rounds."""
    monkeypatch.setattr(forward_form, "MEASURE_FROM", 0)
    runs = {}
    for name, cl_seconds in (("close", 0.9), ("clear", 0.5)):
        form = TimedForm(colour, torch.device("cpu"), seconds={(PLAIN, "float32"): 1.0, (CL, "float32"): cl_seconds})
        with form:
            form.decide(torch.randn(4, 3, 16, 16))
        runs[name] = len(form.tried)
        assert form.memory_format == CL
    repeats = forward_form.REPEATS
    assert runs == {"close": 2 + 2 * 2 * repeats, "clear": 2 + 2 * repeats}
    assert forward_form.close_call({(PLAIN, "float32"): [1.0, 1.2], (CL, "float32"): [0.9]})
    assert not forward_form.close_call({(PLAIN, "float32"): [1.0], (CL, "float32"): [0.8, 0.7]})
    assert not forward_form.close_call({(PLAIN, "float32"): [1.0]})


def test_a_heavy_models_probe_times_fewer_images(colour, monkeypatch):
    """On CPU the probe holds PROBE_FLOPS of work, within 2 and PROBE_IMAGES images: a heavy forward times 2 (each
    form, the fold's check and the split's prior alike), a light one all 4 it is given."""
    from reportgen.runtime.forward_form import PROBE_FLOPS, PROBE_IMAGES, probe_images

    assert probe_images(int(3.6e9)) == 2  # ResNet-18 at 224 px
    assert probe_images(int(PROBE_FLOPS / 3)) == 3
    assert probe_images(int(1e6)) == PROBE_IMAGES == 4
    noise = torch.randn(PROBE_IMAGES, 3, 16, 16)
    real_run = ForwardForm._run
    for flops, images in ((int(PROBE_FLOPS), 2), (int(1e6), 4)):
        monkeypatch.setattr(forward_form, "forward_flops", lambda _module, _image, flops=flops: flops)
        monkeypatch.setattr(forward_form, "MEASURE_FROM", 0)
        shapes = []
        form = ForwardForm(colour, torch.device("cpu"))
        monkeypatch.setattr(ForwardForm, "_run", lambda self, probe, *a, shapes=shapes: shapes.append(len(probe))
                            or real_run(self, probe, *a))
        with form:
            form.decide(noise)
            form.seconds_at(1)
        assert len(shapes) >= 6 and set(shapes) == {images}, shapes


def test_data_in_memory_times_the_forms_on_its_first_batch(colour, image_tree, spec, monkeypatch):
    """Items in memory may be tensors their own transform made, of any size: the probe's shape is not known."""
    from reportgen.collect import batched_pass

    monkeypatch.setattr(forward_form, "MEASURE_FROM", 0)
    events = []
    started = batched_pass.started
    monkeypatch.setattr(batched_pass, "started", lambda loader: events.append("workers") or started(loader))

    class Watched(TimedForm):
        def decide(self, batch):
            events.append(("decide", tuple(batch.shape[1:])))
            super().decide(batch)

    source = discover(image_tree)
    source.root = None  # as data in memory has
    with adapter_for(colour) as adapter, Watched(colour, torch.device("cpu"),
                                                 seconds={(PLAIN, "float32"): 1.0, (CL, "float32"): 0.5}) as form:
        collect_outputs(adapter, source, spec, device=torch.device("cpu"), batch_size=16, workers=0, form=form,
                        quiet=True)
    assert events == ["workers", ("decide", (3, 16, 16))]


def test_a_model_too_small_to_matter_is_not_timed(colour, image_tree, spec):
    with TimedForm(colour, torch.device("cpu"), seconds={(PLAIN, "float32"): 1.0, (CL, "float32"): 0.1}) as form:
        collect(colour, image_tree, spec, form)
    assert form.flops < forward_form.MEASURE_FROM and form.memory_format == PLAIN
    assert form.tried == [(PLAIN, "float32")]  # the one forward that is run anyway (its warm-up), not timed
    assert not any(colour.seen)


def test_a_faster_channels_last_is_used_and_gives_the_plain_forms_predictions(colour, image_tree, spec, monkeypatch):
    plain = collect(colour, image_tree, spec)  # the default: too small a model to time, so contiguous
    monkeypatch.setattr(forward_form, "MEASURE_FROM", 0)
    fast = {(PLAIN, "float32"): 1.0, (CL, "float32"): 0.5}
    with TimedForm(colour, torch.device("cpu"), seconds=fast) as form:
        cl = collect(colour, image_tree, spec, form)
        assert form.memory_format == CL and form.tried and all(colour.seen)
        assert colour.conv1.weight.is_contiguous(memory_format=torch.channels_last)
    assert colour.conv1.weight.is_contiguous()  # handed back in its own format
    np.testing.assert_allclose(cl.logits, plain.logits, rtol=1e-4, atol=1e-5)
    assert (cl.preds == plain.preds).all()


@pytest.fixture()
def timed(monkeypatch):
    """Time even these tiny models."""
    monkeypatch.setattr(forward_form, "MEASURE_FROM", 0)


def test_a_slower_channels_last_is_not_used(colour, image_tree, spec, timed):
    with TimedForm(colour, torch.device("cpu"), seconds={(PLAIN, "float32"): 1.0, (CL, "float32"): 1.3}) as form:
        collect(colour, image_tree, spec, form)
        assert form.memory_format == PLAIN and form.provenance()["images_per_second"]


def test_models_without_convolutions_are_never_tried_in_channels_last(image_tree, timed):
    mlp = nn.Sequential(nn.Flatten(), nn.Linear(3 * 16 * 16, 3)).eval()
    spec = InputSpec(channels=3, size=(16, 16), mean=(0.0,) * 3, std=(1.0,) * 3, source="test")
    with TimedForm(mlp, torch.device("cpu"), seconds={(PLAIN, "float32"): 1.0, (CL, "float32"): 0.1}) as form:
        collect(mlp, image_tree, spec, form)
    assert form.memory_format == PLAIN and all(fmt == PLAIN for fmt, _ in form.tried)


def test_a_model_that_breaks_in_channels_last_runs_contiguous(image_tree, spec, timed):
    class Viewing(ColourNet):
        def __init__(self):
            super().__init__()
            self.head = nn.Linear(8 * 16 * 16, 3)

        def forward(self, x):  # .view across channels and positions: only a contiguous map allows it
            return self.head(torch.relu(self.conv2(self.conv1(x))).view(len(x), -1))

    model = Viewing().eval()
    with TimedForm(model, torch.device("cpu"), seconds={(PLAIN, "float32"): 1.0, (CL, "float32"): 0.1}) as form:
        collect(model, image_tree, spec, form)  # .view of a channels_last map raises: that form is dropped
    assert form.memory_format == PLAIN


@pytest.mark.skipif(not forward_form.cpu_has_bfloat16(), reason="this CPU has no native bfloat16")
def test_amp_on_cpu_runs_bfloat16_where_faster(colour, image_tree, spec):
    plain = collect(colour, image_tree, spec)
    seconds = {(PLAIN, "float32"): 1.0, (CL, "float32"): 0.9, (PLAIN, "bfloat16"): 0.5, (CL, "bfloat16"): 0.4}
    with TimedForm(colour, torch.device("cpu"), amp=True, seconds=seconds) as form:
        low = collect(colour, image_tree, spec, form, amp=True)
    assert (form.memory_format, form.precision) == (CL, "bfloat16")
    assert not np.array_equal(low.logits, plain.logits)  # bfloat16 did run
    np.testing.assert_allclose(low.logits, plain.logits, rtol=0.05, atol=0.05)


def test_amp_without_bfloat16_says_so_and_runs_float32(colour, image_tree, spec, monkeypatch, capsys):
    monkeypatch.setattr(forward_form, "cpu_has_bfloat16", lambda: False)
    plain = collect(colour, image_tree, spec)
    amp = collect(colour, image_tree, spec, amp=True, quiet=False)
    assert "--amp: this CPU has no native bfloat16" in capsys.readouterr().err
    np.testing.assert_array_equal(amp.logits, plain.logits)


def test_amp_slower_than_float32_says_so(colour, image_tree, spec, monkeypatch, capsys):
    monkeypatch.setattr(forward_form, "cpu_has_bfloat16", lambda: True)
    seconds = {(PLAIN, "float32"): 1.0, (CL, "float32"): 1.0, (PLAIN, "bfloat16"): 3.0, (CL, "bfloat16"): 3.0}
    with TimedForm(colour, torch.device("cpu"), amp=True, seconds=seconds) as form:
        collect(colour, image_tree, spec, form, amp=True)
    assert form.precision == "float32" and "so the pass runs in float32" in form.note


def test_the_gradients_run_in_the_passs_form_and_threads(colour, image_tree, spec, timed):
    """Saliency and the insides get channels_last inputs from the kept ones, at the pass's thread count, and
    their maps equal the contiguous run's."""
    from reportgen.analyses import insides, saliency_maps
    from reportgen.collect.dataset import input_loader
    from reportgen.collect.kept_inputs import KeptInputs
    from reportgen.explain.model_access import ModelAccess

    def sections(form):
        keep = KeptInputs(top_k=3, per_class=2)
        with adapter_for(colour) as adapter:
            source = discover(image_tree)
            collected = collect_outputs(adapter, source, spec, device=torch.device("cpu"), batch_size=16, workers=0,
                                        quiet=True, form=form, keep=keep)
            access = ModelAccess(adapter, input_loader(source, spec, collected, torch.device("cpu"), kept=keep,
                                                       form=form), spec.mean, spec.std, threads=1)
            threads = []
            hook = colour.conv2.register_forward_pre_hook(lambda *_: threads.append(torch.get_num_threads()))
            colour.seen.clear()
            result = saliency_maps.run(collected, model_access=access, saliency_samples=8, top_k=3).json()
            inside = insides.run(collected, model_access=access).json()
            hook.remove()
            return result, inside, list(colour.seen), threads

    plain, plain_inside, _, _ = sections(ForwardForm(colour, torch.device("cpu")))
    with TimedForm(colour, torch.device("cpu"), seconds={(PLAIN, "float32"): 1.0, (CL, "float32"): 0.5}) as form:
        cl, cl_inside, seen, threads = sections(form)
    assert seen and all(seen) and set(threads) == {1}
    a, b = cl_inside["network_insides"], plain_inside["network_insides"]
    for key in ("samples", "first_conv", "feature_map_layers", "notes"):
        assert a.get(key) == b.get(key)
    for role, logits in a["final_layer"].items():
        assert logits == pytest.approx(b["final_layer"][role], rel=1e-4, abs=1e-5)
    assert [s["path"] for s in cl["saliency"]["samples"]] == [s["path"] for s in plain["saliency"]["samples"]]
    for a, b in zip(cl["saliency"]["samples"], plain["saliency"]["samples"]):
        for key in ("saliency_mean_abs", "delta_mean_abs", "baseline_mean_abs"):
            assert a[key] == pytest.approx(b[key], rel=1e-4, abs=1e-7)


def test_a_lent_module_gets_its_weights_back_in_their_own_format(colour, image_tree, tmp_path, monkeypatch):
    from reportgen import build_report

    monkeypatch.setattr(forward_form, "MEASURE_FROM", 0)  # time even this tiny model
    monkeypatch.setattr(forward_form, "choose_form", lambda seconds, low: (CL, "float32", None))
    colour.conv2.weight.data = colour.conv2.weight.data.contiguous(memory_format=torch.channels_last)
    report = build_report(colour, image_tree, tmp_path / "r.html", quiet=True, projection="pca", workers=0,
                          saliency_samples=4).report
    assert report["provenance"]["forward_form"]["memory_format"] == CL
    assert colour.conv1.weight.is_contiguous()
    assert colour.conv2.weight.is_contiguous(memory_format=torch.channels_last) and not colour.conv2.weight.is_contiguous()
    assert report["saliency"]["samples"] and "error" not in str(report.get("section_errors", {}))
