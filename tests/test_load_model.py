import pickle

import numpy as np
import pytest
import torch

from reportgen.errors import ModelFormatError
from reportgen.model.formats import adapter_for
from reportgen.model.load import load_model, sniff_format


@pytest.mark.parametrize("kind, fmt", [("pt2", "torch.export"), ("script", "torchscript"),
                                       ("trace", "torchscript"), ("pickle", "pickle")])
def test_every_format_gives_the_same_logits_and_embedding(model_files, tiny_model, kind, fmt, monkeypatch):
    monkeypatch.chdir(model_files["pt2"].parent)
    loaded = load_model(model_files[kind], trust_model=kind == "pickle")
    assert loaded.format == fmt
    x = torch.rand(5, 1, 16, 16)
    tap = adapter_for(loaded.module)
    with torch.inference_mode():
        logits, emb = tap(x)
        expected_logits = tiny_model(x)
        expected_emb = torch.relu(tiny_model.hidden(
            tiny_model.pool(torch.relu(tiny_model.conv2(torch.max_pool2d(torch.relu(tiny_model.conv1(x)), 2))))
            .flatten(1)))
    torch.testing.assert_close(logits, expected_logits, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(emb, expected_emb, rtol=1e-4, atol=1e-5)
    assert tap.embedding_layer == "fc" and tap.embedding_note is None


def test_state_dict_with_factory_arch(model_files, monkeypatch):
    monkeypatch.chdir(model_files["pt2"].parent)
    loaded = load_model(model_files["state_dict"], arch="tiny_models:make_tiny_net")
    assert loaded.format == "state_dict" and len(loaded.sha256) == 64


def test_state_dict_without_arch_says_what_to_pass(model_files):
    with pytest.raises(ModelFormatError, match="--arch"):
        load_model(model_files["state_dict"])


def test_wrong_arch_names_the_keys_that_differ(model_files):
    with pytest.raises(ModelFormatError, match=r"do not fit --arch resnet18: missing .*conv1.weight"):
        load_model(model_files["state_dict"], arch="resnet18")


def test_torchvision_arch_round_trip(tmp_path):
    import torchvision

    net = torchvision.models.get_model("mobilenet_v3_small", weights=None, num_classes=4)
    torch.save(net.state_dict(), tmp_path / "w.pt")
    loaded = load_model(tmp_path / "w.pt", arch="mobilenet_v3_small")
    tap = adapter_for(loaded.module)
    with torch.inference_mode():
        logits, emb = tap(torch.rand(2, 3, 64, 64))
    assert logits.shape == (2, 4) and emb.shape == (2, 1024) and tap.embedding_layer == "classifier.3"


class _Evil:
    def __reduce__(self):
        return (open, ("/tmp/reportgen_pwned_marker", "w"))


def test_pickle_is_refused_and_never_executed(tmp_path):
    marker = "/tmp/reportgen_pwned_marker"
    import os

    if os.path.exists(marker):
        os.unlink(marker)
    path = tmp_path / "evil.pt"
    torch.save({"weights": _Evil()}, path)
    with pytest.raises(ModelFormatError, match="--trust-model"):
        load_model(path)
    assert not os.path.exists(marker)


def test_pickled_module_refused_without_trust(model_files):
    with pytest.raises(ModelFormatError, match="torch.export.save"):
        load_model(model_files["pickle"])


def test_sniffing_looks_inside_not_at_the_extension(model_files, tmp_path):
    renamed = tmp_path / "model.bin"
    renamed.write_bytes(model_files["pt2"].read_bytes())
    assert sniff_format(renamed) == "export"
    assert sniff_format(model_files["script"]) == "torchscript"


@pytest.mark.parametrize("content", [b"", b"\x00garbage" * 10, pickle.dumps([1, 2])[:3]])
def test_unreadable_files_give_one_clear_error(tmp_path, content):
    path = tmp_path / "broken.pt"
    path.write_bytes(content)
    with pytest.raises(ModelFormatError, match="broken.pt"):
        load_model(path)


def test_missing_file(tmp_path):
    with pytest.raises(ModelFormatError, match="no such model file"):
        load_model(tmp_path / "nope.pt2")


@pytest.mark.parametrize("kind", ["pt2", "pickle"])
def test_layer_option_takes_that_modules_output(model_files, tiny_model, kind, monkeypatch):
    monkeypatch.chdir(model_files["pt2"].parent)
    loaded = load_model(model_files[kind], trust_model=True)
    tap = adapter_for(loaded.module, "hidden")
    x = torch.rand(3, 1, 16, 16)
    with torch.inference_mode():
        _, emb = tap(x)
        pooled = tiny_model.pool(torch.relu(tiny_model.conv2(torch.max_pool2d(torch.relu(tiny_model.conv1(x)), 2))))
        expected = tiny_model.hidden(pooled.flatten(1))  # the module's output, before the ReLU that follows
    torch.testing.assert_close(emb, expected, rtol=1e-4, atol=1e-5)
    assert tap.embedding_layer == "hidden"


def test_unknown_layer_falls_back_to_logits_and_says_so(model_files):
    tap = adapter_for(load_model(model_files["pt2"]).module, "nope")
    assert tap.embedding_layer is None and "--layer nope" in tap.embedding_note


def test_many_random_blobs_all_give_the_one_clear_error(tmp_path):
    rng = np.random.default_rng(7)
    for k in range(40):
        path = tmp_path / f"blob{k}.pt"
        path.write_bytes(rng.integers(0, 256, int(rng.integers(1, 5000)), dtype=np.uint8).tobytes())
        with pytest.raises(ModelFormatError, match=f"blob{k}.pt"):
            load_model(path)
