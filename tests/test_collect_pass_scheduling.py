"""What runs beside the collect pass: the libraries imported on a thread once the workers are forked, and the
forward's share of the cores."""

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


def test_the_forward_gets_the_cores_the_decoding_workers_leave(monkeypatch):
    from reportgen.collect import batched_pass as collect

    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    for cores, torch_has, workers, expected in [(2, 2, 2, 1), (2, 2, 0, 2), (16, 16, 4, 12), (16, 4, 4, 4),
                                                 (2, 2, 4, 1)]:
        monkeypatch.setattr(collect.os, "sched_getaffinity", lambda _pid, n=cores: set(range(n)))
        monkeypatch.setattr(collect.torch, "get_num_threads", lambda n=torch_has: n)
        assert collect.forward_threads(cpu, workers) == expected, (cores, torch_has, workers)
        assert collect.forward_threads(cuda, workers) == torch_has  # the GPU runs the forward


def test_the_pass_runs_with_that_thread_count_records_it_and_gives_torch_its_own_back(image_tree):
    from reportgen.collect.batched_pass import forward_threads

    during = []

    class CountingTap(FakeTap):
        def __call__(self, x):
            during.append(torch.get_num_threads())
            return super().__call__(x)

    before = torch.get_num_threads()
    source = discover(image_tree)
    spec = InputSpec(channels=3, size=(16, 16), mean=(0.0,) * 3, std=(1.0,) * 3, source="test")
    collected = collect_outputs(CountingTap(), source, spec, device=torch.device("cpu"), batch_size=8, workers=1,
                                quiet=True)
    expected = forward_threads(torch.device("cpu"), 1)
    assert set(during) == {expected} and collected.forward_threads == expected
    assert torch.get_num_threads() == before
