"""Ctrl-C mid-run leaves no half-written report; random and mutated bytes only ever decode or skip with a reason."""

import io
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
from conftest import write_tree
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from reportgen.data.decode import DecodeError, open_image
from reportgen.runtime.deferred_interrupt import deferred_sigint


def test_ctrl_c_leaves_nothing_half_written(model_files, tmp_path):
    data = write_tree(tmp_path / "data")
    originals = sorted((data / "train").glob("*/*.png"))
    for copy in range(40):  # ~1,700 images: the run is still collecting when the signal arrives
        for p in originals:
            (p.parent / f"c{copy}_{p.name}").write_bytes(p.read_bytes())
    out = tmp_path / "out"
    process = subprocess.Popen([sys.executable, "-m", "reportgen", str(model_files["pt2"]), str(data), "-o",
                                str(out / "r.html"), "--batch-size", "4", "--workers", "1"],
                               stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                               # a runner started in the background passes SIGINT on as "ignored"; a user's
                               # terminal doesn't: give the child the default, as Ctrl-C in a terminal sees it
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.time() + 60
    seen = ""
    while "collect" not in seen and time.time() < deadline:
        seen += process.stderr.read(1)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130
    assert "interrupted; no report was written" in stderr and "Traceback" not in stderr
    assert not (out / "r.html").exists() and not (out / "r.json").exists()
    assert not [p for p in out.iterdir() if p.name.startswith(".")] if out.exists() else True


def test_a_ctrl_c_while_workers_fork_is_raised_after_the_fork_not_lost():
    # Python's own handler, as in a terminal: a test runner started in the background inherits SIGINT ignored
    # (the fresh-clone run of .ci/run from a background shell failed here), and an ignored Ctrl-C is left alone
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    reached = []
    try:
        with pytest.raises(KeyboardInterrupt):
            with deferred_sigint():
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(0.05)  # the handler has run by now, and raised nothing inside the block
                reached.append(True)
        assert reached == [True]
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGINT, previous)


def test_an_ignored_ctrl_c_stays_ignored():
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with deferred_sigint():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)


def _png(seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    buffer = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (12, 9, 3), dtype=np.uint8)).save(buffer, "PNG")
    return buffer.getvalue()


def _jpeg(seed: int) -> bytes:
    buffer = io.BytesIO()
    Image.open(io.BytesIO(_png(seed))).save(buffer, "JPEG")
    return buffer.getvalue()


VALID = [_png(0), _jpeg(1)]


@st.composite
def image_bytes(draw):
    kind = draw(st.sampled_from(["random", "mutated", "truncated"]))
    if kind == "random":
        return draw(st.binary(max_size=3000))
    base = bytearray(draw(st.sampled_from(VALID)))
    if kind == "truncated":
        return bytes(base[: draw(st.integers(0, len(base)))])
    for _ in range(draw(st.integers(1, 20))):
        base[draw(st.integers(0, len(base) - 1))] = draw(st.integers(0, 255))
    return bytes(base)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=image_bytes(), channels=st.sampled_from([1, 3]))
def test_loader_only_decodes_or_skips_with_reason(tmp_path, payload, channels):
    path = tmp_path / "fuzz.png"
    path.write_bytes(payload)
    try:
        image = open_image(path, channels)
    except DecodeError as exc:
        assert str(exc)
        return
    assert image.mode == ("L" if channels == 1 else "RGB") and image.width > 0 and image.height > 0


def test_an_interrupted_collect_pass_stops_its_workers_before_it_returns(model_files, image_tree):
    # On Ctrl-C the console command leaves with os._exit from inside its `except KeyboardInterrupt`, while the
    # exception's frames still hold the DataLoader: a worker that outlived it blocked for ever in its own exit,
    # joining its queue's feeder thread, and kept the terminal's (or a test's) pipes open.
    import multiprocessing

    from reportgen.collect.batched_pass import collect_outputs
    from reportgen.data.discover import discover
    from reportgen.model.input_spec import InputSpec

    calls = []

    def interrupted_tap(x):
        calls.append(len(x))
        if len(calls) == 2:
            raise KeyboardInterrupt
        return torch.zeros(len(x), 3), torch.zeros(len(x), 4)

    source = discover(image_tree)
    spec = InputSpec(channels=3, size=(16, 16), mean=(0.0,) * 3, std=(1.0,) * 3, source="test")
    alive = None
    try:
        collect_outputs(interrupted_tap, source, spec, device=torch.device("cpu"), batch_size=2, workers=2, quiet=True)
    except KeyboardInterrupt:
        alive = multiprocessing.active_children()  # where cli.main calls os._exit
    assert len(calls) == 2 and alive == []
