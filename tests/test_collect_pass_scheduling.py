"""What runs beside the collect pass: the libraries imported on a thread once the workers are forked. (The
forward's share of the cores: tests/test_core_split.py.)"""

import multiprocessing
import sys

import torch

from reportgen.collect.batched_pass import collect_outputs
from reportgen.data.discover import discover
from reportgen.model.input_spec import InputSpec
from reportgen.runtime.warm_imports import LIBRARIES, SWITCH_INTERVAL, WarmImports


class FakeTap:
    embedding_layer, embedding_note = "test", None

    def __call__(self, x):
        return torch.zeros(len(x), 3), torch.zeros(len(x), 4)


def test_after_fork_runs_once_with_the_workers_already_started(image_tree):
    workers_seen = []
    source = discover(image_tree)
    spec = InputSpec(channels=3, size=(16, 16), mean=(0.0,) * 3, std=(1.0,) * 3, source="test")
    tap = FakeTap()
    collected = collect_outputs(tap, source, spec, device=torch.device("cpu"), batch_size=4, workers=2, quiet=True,
                                after_fork=lambda: workers_seen.append(len(multiprocessing.active_children())))
    assert workers_seen == [2] and collected.n == len(source.samples)


def test_warm_imports_import_the_libraries_and_give_the_switch_interval_back():
    before = sys.getswitchinterval()
    warm = WarmImports(with_umap=False)
    warm.start()
    assert abs(sys.getswitchinterval() - SWITCH_INTERVAL) < 1e-6  # stored in microseconds
    warm.thread.join(timeout=300)
    warm.done()
    assert sys.getswitchinterval() == before
    assert all(name in sys.modules for name in LIBRARIES)


def test_a_report_restores_the_switch_interval(model_files, image_tree, tmp_path):
    from reportgen.pipeline import build_report

    before = sys.getswitchinterval()
    build_report(model_files["pt2"], image_tree, tmp_path / "r.html", quiet=True, projection="pca", workers=1,
                 saliency_samples=0)
    assert sys.getswitchinterval() == before
