"""What runs beside the collect pass: the libraries imported once the workers are forked, on the main thread
before the first batch on CPU, on a thread on CUDA or while umap-learn's kernels are still to be compiled. (The
forward's share of the cores: tests/test_core_split.py.)"""

import multiprocessing
import sys
import threading

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
    warm = WarmImports(with_umap=False, on_thread=True)
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


def test_a_cpu_pass_imports_on_the_main_thread_and_a_cuda_pass_or_a_first_umap_compile_on_a_thread(monkeypatch):
    from reportgen.runtime import warm_imports

    monkeypatch.setattr(warm_imports, "compiled_before", lambda name: True)
    assert not WarmImports.for_device(torch.device("cpu"), with_umap=True).on_thread
    assert WarmImports.for_device(torch.device("cuda"), with_umap=True).on_thread
    monkeypatch.setattr(warm_imports, "compiled_before", lambda name: False)
    assert WarmImports.for_device(torch.device("cpu"), with_umap=True).on_thread  # ~30 s: not in the pass's way
    assert not WarmImports.for_device(torch.device("cpu"), with_umap=False).on_thread


def test_on_cpu_the_libraries_are_imported_before_the_first_forward_with_no_thread(monkeypatch, image_tree):
    """The main thread imports at once (an import thread beside a forward on every core stalls its OpenMP threads
    at their barriers), so every library is there by the first forward, the switch interval is untouched and no
    thread is left behind."""
    from reportgen.runtime import warm_imports

    imported = []
    monkeypatch.setattr(warm_imports, "import_all", lambda with_umap: imported.append(threading.current_thread()))
    seen_at_first_forward = []

    class Tap(FakeTap):
        def __call__(self, x):
            seen_at_first_forward.append(list(imported))
            return super().__call__(x)

    before = sys.getswitchinterval()
    warm = WarmImports.for_device(torch.device("cpu"), with_umap=False)
    source = discover(image_tree)
    spec = InputSpec(channels=3, size=(16, 16), mean=(0.0,) * 3, std=(1.0,) * 3, source="test")
    collect_outputs(Tap(), source, spec, device=torch.device("cpu"), batch_size=4, workers=2, quiet=True,
                    after_fork=warm.start)
    warm.done()
    assert seen_at_first_forward[0] == [threading.main_thread()]
    assert warm.thread is None and sys.getswitchinterval() == before


def test_the_workers_decode_ahead_by_bytes_within_the_shared_memory(monkeypatch, image_tree):
    """Small batches get the most prefetch and a 224-px photo's batches of 32 get 8 (the workers keep decoding
    while the main thread imports); a container's small /dev/shm lowers it, to torch's 2 at the least; the loader
    is given it."""
    from reportgen.collect import batched_pass
    from reportgen.collect.batched_pass import PREFETCH_BATCHES, prefetch_batches

    def spec(channels, side, transform=None):
        return InputSpec(channels=channels, size=(side, side), mean=(0.0,) * channels, std=(1.0,) * channels,
                         source="test", transform=transform)

    low, high = PREFETCH_BATCHES
    mib = 2 ** 20
    assert prefetch_batches(spec(1, 28), 128, 2) == high  # digits: 100 KB a batch
    assert prefetch_batches(spec(3, 64), 128, 2) == high  # 1.5 MB a batch
    assert prefetch_batches(spec(3, 224), 32, 2) == 8  # photos: 4.8 MB a batch, 77 MB in all
    assert prefetch_batches(spec(3, 64, transform=lambda image: image), 128, 2) == 6  # float tensors: 4x the bytes
    unsized = InputSpec(channels=3, size=None, mean=(0.0,) * 3, std=(1.0,) * 3, source="test")
    assert prefetch_batches(unsized, 32, 2) == 4
    # Docker's default /dev/shm of 64 MB: half of it, 3 photo batches a worker; a nearly full one: torch's 2
    assert prefetch_batches(spec(3, 224), 32, 2, shm_free=64 * mib) == 3
    assert prefetch_batches(spec(3, 224), 32, 2, shm_free=8 * mib) == low == 2
    assert prefetch_batches(unsized, 32, 2, shm_free=8 * mib) == low
    assert prefetch_batches(spec(3, 224), 32, 2, shm_free=10 ** 12) == 8  # a big one: the byte budget
    assert batched_pass.shared_memory_free("/no/such/place") is None

    given = []
    real = batched_pass.DataLoader

    def loader(*args, **kwargs):
        given.append(kwargs["prefetch_factor"])
        return real(*args, **kwargs)

    monkeypatch.setattr(batched_pass, "DataLoader", loader)
    source = discover(image_tree)
    collect_outputs(FakeTap(), source, spec(3, 16), device=torch.device("cpu"), batch_size=4, workers=2, quiet=True)
    # a /dev/shm with room for 20 of these 3 KB batches: half of it is 10, 5 a worker
    monkeypatch.setattr(batched_pass, "shared_memory_free", lambda: 10 * 4 * 3 * 16 * 16 * 2)
    collect_outputs(FakeTap(), source, spec(3, 16), device=torch.device("cpu"), batch_size=4, workers=2, quiet=True)
    assert given == [high, 5]
