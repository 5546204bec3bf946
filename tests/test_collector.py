"""The garbage collector kept off the report's long-lived objects (runtime/collector.py): frozen for a report's run
and before each fork, paused while imports run, and everything handed back as it was found."""

import gc
import subprocess
import sys

import pytest
from torch.utils.data import DataLoader

from reportgen.collect.batched_pass import started
from reportgen.runtime.collector import freeze_now, frozen, long_lived


@pytest.fixture(autouse=True)
def collector_as_found():
    assert gc.get_freeze_count() == 0 and gc.isenabled()
    yield
    gc.unfreeze()
    gc.enable()


def test_a_frozen_scope_freezes_what_exists_and_only_the_outermost_exit_unfreezes():
    with frozen():
        first = gc.get_freeze_count()
        assert first > 0
        made = [[i] for i in range(1000)]  # containers the collector tracks, made after the freeze
        with frozen():  # a nested scope (the command's, then build_report's): what was made since joins
            assert gc.get_freeze_count() >= first + len(made)
        assert gc.get_freeze_count() >= first + len(made)
    assert gc.get_freeze_count() == 0


def test_a_programs_own_freeze_is_left_as_it_was():
    gc.freeze()
    theirs = gc.get_freeze_count()
    with frozen():
        made = [[i] for i in range(1000)]
        freeze_now()
        with long_lived():
            more = [[i] for i in range(1000)]
        assert gc.get_freeze_count() == theirs  # nothing of ours frozen, so nothing of theirs unfrozen later
    assert gc.get_freeze_count() == theirs and len(made) == len(more)


def test_long_lived_pauses_the_collector_and_freezes_what_it_made_inside_a_report():
    with frozen():
        before = gc.get_freeze_count()
        with long_lived():
            assert not gc.isenabled()
            made = [[i] for i in range(1000)]
        assert gc.isenabled() and gc.get_freeze_count() >= before + len(made)
    assert gc.get_freeze_count() == 0


def test_long_lived_outside_a_report_only_pauses_and_keeps_a_disabled_collector_disabled():
    with long_lived():
        assert not gc.isenabled()
    assert gc.isenabled() and gc.get_freeze_count() == 0
    gc.disable()
    with long_lived():
        pass
    assert not gc.isenabled()


def test_the_pass_freezes_the_heap_its_workers_share_before_they_fork():
    loader = DataLoader(list(range(8)), batch_size=4, num_workers=1)
    with frozen():
        before = gc.get_freeze_count()
        made = [[i] for i in range(1000)]
        with started(loader) as batches:
            assert gc.get_freeze_count() >= before + len(made)
            assert [b.tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7]]


def test_a_report_hands_the_collector_back_as_it_found_it(model_files, image_tree, tmp_path):
    from reportgen.pipeline import build_report

    build_report(model_files["pt2"], image_tree, tmp_path / "r.html", quiet=True, projection="pca", workers=1,
                 saliency_samples=0)
    assert gc.get_freeze_count() == 0 and gc.isenabled()


def test_the_command_line_imports_no_torch_until_a_report_runs():
    """`reportgen --help` stays quick, and torch's import falls inside the collector's pause (cli/report.py)."""
    code = "import sys, reportgen.cli; print('torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False"]
