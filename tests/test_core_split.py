"""The split of a CPU's cores between the decoding workers and the forward: chosen from the batches' measured
costs (given here, made up), checked again when they change, used by the pass and written in the provenance."""

import time

import pytest
import torch

from reportgen.collect.batched_pass import collect_outputs
from reportgen.collect.core_split import LAST_RECHECK, RECHECK, TRIALS, BatchCost, CoreSplit, image_seconds
from reportgen.data.discover import discover
from reportgen.model.input_spec import InputSpec


def run(split: CoreSplit, forward_ms: dict[int, float], decode_ms: float, batches: int, images: int = 32) -> list:
    """Feed `split` batches whose costs follow the given per-image milliseconds; the thread count of each."""
    used = []
    for _ in range(batches):
        threads = split.threads()
        used.append(threads)
        split.record(BatchCost(images, decode_ms * images / 1e3, forward_ms[threads] * images / 1e3, threads))
    return used


def test_the_candidates_are_the_cores_the_workers_leave_and_all_of_them():
    assert CoreSplit(2, 2, 2).candidates == [1, 2]
    assert CoreSplit(16, 4, 16).candidates == [12, 16]
    assert CoreSplit(16, 4, 4).candidates == [4]  # OMP_NUM_THREADS=4: never more than torch has
    assert CoreSplit(2, 0, 2).candidates == [2]  # no workers: decoding and the forward take turns
    assert CoreSplit(2, 4, 2).candidates == [1, 2]
    assert CoreSplit(2, 2, 2).shares_cores and not CoreSplit(16, 4, 12).shares_cores


def test_a_model_bound_pass_takes_every_core():
    """ResNet-18 at 224 px: decoding 5 ms an image, the forward 40 ms on one thread and 24 on two."""
    split = CoreSplit(2, 2, 2)
    used = run(split, {1: 40.0, 2: 24.0}, 5.0, 10)
    assert split.threads() == 2 and used[3:].count(1) == 0  # the warm-up, the trials; no early check of 1 thread
    assert len(used) - used.count(2) <= TRIALS  # the trials at one thread are all it spent there
    summary = split.summary()
    assert summary["chosen"] == 2 and summary["decode_ms_per_image"] == 5.0
    assert summary["forward_ms_per_image"] == {"1": 40.0, "2": 24.0}


def test_a_decoding_bound_pass_leaves_the_workers_their_cores():
    """A small CNN on 28-px digits: decoding 0.3 ms an image, the forward 0.1 (one thread) or 0.07 (two)."""
    split = CoreSplit(2, 2, 2)
    run(split, {1: 0.1, 2: 0.07}, 0.3, 10)
    assert split.threads() == 1
    predicted = split.predicted()
    assert predicted[1] <= predicted[2] * 1.1  # a near tie goes to fewer threads


def test_the_choice_follows_the_measured_times_not_a_rule():
    # the same machine, a forward that gains nothing from a second thread: one thread, whatever the model
    split = CoreSplit(2, 2, 2)
    run(split, {1: 40.0, 2: 40.0}, 5.0, 6)
    assert split.threads() == 1
    assert image_seconds(2, 0.024, 0.005, 2) < image_seconds(1, 0.040, 0.005, 2)


def test_a_decisive_first_batch_each_ends_the_trials_early():
    split = CoreSplit(2, 2, 2)
    used = run(split, {1: 80.0, 2: 20.0}, 1.0, 5)
    assert used == [2, 2, 1, 2, 2]  # the warm-up, one trial each, the choice


def test_the_first_batch_warms_up_and_times_neither_count():
    """The pass's first forward builds the kernels for the batch's shape: at 3x its later time, it must not make
    every core look slower than one."""
    split = CoreSplit(2, 2, 2)
    split.record(BatchCost(32, 9.0 * 32 / 1e3, 60.0 * 32 / 1e3, 2))
    used = run(split, {1: 34.0, 2: 19.0}, 6.0, 20)
    assert used[:2] == [2, 1] and used[2:].count(1) == 0 and split.settled() == 2
    assert split.summary()["batches_at"] == {"2": 20, "1": 1} and split.forward(2) == pytest.approx(19e-3)


def test_a_change_in_the_balance_is_checked_and_followed():
    split = CoreSplit(2, 2, 2)
    run(split, {1: 40.0, 2: 24.0}, 5.0, 8)
    assert split.threads() == 2
    # other processes take a core: two threads now wait at their barriers
    used = run(split, {1: 42.0, 2: 60.0}, 5.0, 12)
    assert 1 in used and split.settled() == 1 and split.rechecks >= 1


def test_a_choice_of_every_core_is_checked_at_doubling_gaps():
    split = CoreSplit(2, 2, 2)
    used = run(split, {1: 40.0, 2: 24.0}, 5.0, 4000)
    # one trial batch at 1 thread (the first of each decided it), then checks after RECHECK, 2 RECHECK, 4 RECHECK...
    # batches, up to LAST_RECHECK: the start-up only ever makes every core look slower, so a choice of them needs
    # no early check, and a long pass spends ever less of its time on checks
    checks = [i for i, t in enumerate(used) if t == 1][1:]
    assert used[:3] == [2, 2, 1] and checks[0] == 3 + RECHECK
    gaps = [b - a - 1 for a, b in zip(checks, checks[1:])]
    assert gaps[:4] == [2 * RECHECK, 4 * RECHECK, 8 * RECHECK, 16 * RECHECK] and set(gaps[4:]) == {LAST_RECHECK}
    assert split.threads() == 2 and used.count(1) <= 1 + 4 + 4000 // LAST_RECHECK


def test_a_choice_of_fewer_threads_is_checked_soon_then_at_doubling_gaps():
    """Decoding-bound (20 ms an image): 1 thread beside the workers; every core is timed again after 4, 8, 16, 32,
    32, ... batches, since the start-up may have made it look slower than it is."""
    split = CoreSplit(2, 2, 2)
    used = run(split, {1: 10.0, 2: 9.5}, 20.0, 200)
    checks = [i for i, t in enumerate(used) if t == 2][3:]  # after the warm-up and the two trials at 2 threads
    assert used[:5] == [2, 2, 1, 2, 1]
    assert checks[:4] == [5 + 4, 5 + 4 + 1 + 8, 5 + 4 + 1 + 8 + 1 + 16, 5 + 4 + 1 + 8 + 1 + 16 + 1 + 32]
    assert all(b - a == RECHECK + 1 for a, b in zip(checks[3:], checks[4:]))
    assert split.settled() == 1


def test_a_choice_the_start_up_misled_is_put_right_within_a_few_batches():
    """While the workers fill their queues, two threads look slow; once they're full, two are much faster."""
    split = CoreSplit(2, 2, 2)
    used = []
    for batch in range(40):
        threads = split.threads()
        used.append(threads)
        forward = {1: 40.0, 2: 70.0 if batch < 4 else 20.0}[threads]
        split.record(BatchCost(32, 5.0 * 32 / 1e3, forward * 32 / 1e3, threads))
    assert used[:5] == [2, 2, 1, 2, 1] or used[:3] == [2, 2, 1]
    assert used.index(2, 5) <= 11 and used[11:].count(1) <= 3  # back at 2 within a few batches, and it stays


class FakeTap:
    embedding_layer, embedding_note = "test", None

    def __init__(self):
        self.threads = []

    def __call__(self, x):
        self.threads.append(torch.get_num_threads())
        return torch.zeros(len(x), 3), torch.zeros(len(x), 4)


class ScriptedSplit(CoreSplit):
    """Asks for a thread count per batch from a script, and keeps what the pass measured."""

    def __init__(self, script):
        super().__init__(2, 1, 2)
        self.script, self.seen = list(script), []

    def threads(self) -> int:
        return self.script[min(len(self.seen), len(self.script) - 1)]

    def at_choice(self) -> bool:
        return False  # every batch a scripted one: the forward's chunk is not timed (one call per batch)

    def record(self, cost: BatchCost) -> None:
        self.seen.append(cost)
        super().record(cost)


def test_the_pass_runs_each_batch_at_the_splits_count_and_times_decoding_and_forward(image_tree):
    source = discover(image_tree)
    spec = InputSpec(channels=3, size=(16, 16), mean=(0.0,) * 3, std=(1.0,) * 3, source="test")
    split, tap = ScriptedSplit([2, 1, 2, 1, 1]), FakeTap()
    before = torch.get_num_threads()
    collected = collect_outputs(tap, source, spec, device=torch.device("cpu"), batch_size=8, workers=1, quiet=True,
                                split=split)
    assert tap.threads == [c.threads for c in split.seen] == [2, 1, 2, 1] + [1] * (len(split.seen) - 4)
    assert sum(c.images for c in split.seen) == len(source.samples)
    assert all(c.decode_seconds > 0 and c.forward_seconds > 0 for c in split.seen)  # measured, in the workers too
    assert collected.core_split == split.summary() | {"forward_chunk": {"chosen": 8, "ms_per_image": {}}}
    assert collected.forward_threads == split.settled()
    assert torch.get_num_threads() == before


def test_the_report_records_the_split_it_measured(model_files, image_tree, tmp_path):
    from reportgen.pipeline import build_report

    report = build_report(model_files["pt2"], image_tree, tmp_path / "r.html", quiet=True, projection="pca",
                          workers=1, saliency_samples=0).report
    provenance = report["provenance"]
    split = provenance["core_split"]
    assert split["workers"] == 1 and split["chosen"] == provenance["forward_threads"] in split["candidates"]
    assert sum(split["batches_at"].values()) >= 1 and split["decode_ms_per_image"] > 0
    assert set(split["forward_ms_per_image"]) <= {str(t) for t in split["candidates"]}
    assert provenance["forward_form"]["memory_format"] in ("contiguous", "channels_last")


def test_the_default_worker_count_is_decided_once_for_the_batch_size_and_the_pass(model_files, image_tree, tmp_path,
                                                                                   monkeypatch):
    from reportgen import pipeline

    asked = []
    monkeypatch.setattr(pipeline, "default_workers", lambda device: asked.append(device) or 1)
    sized = []
    choose = pipeline.choose_batch_size
    monkeypatch.setattr(pipeline, "choose_batch_size", lambda *a, **k: sized.append(k["workers"]) or choose(*a, **k))
    report = pipeline.build_report(model_files["pt2"], image_tree, tmp_path / "r.html", quiet=True,
                                   projection="pca", saliency_samples=0).report
    assert len(asked) == 1 and sized == [1] and report["provenance"]["core_split"]["workers"] == 1


def test_default_workers_leave_the_forward_its_cores_on_cpu_and_feed_a_gpu_from_every_core(monkeypatch):
    from reportgen.collect import core_split

    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    for cores, on_cpu, on_cuda in [(1, 1, 1), (2, 2, 1), (16, 4, 12), (64, 4, 12), (8, 4, 7)]:
        monkeypatch.setattr(core_split, "available_cores", lambda n=cores: n)
        assert core_split.default_workers(cpu) == on_cpu, cores
        assert core_split.default_workers(cuda) == on_cuda, cores


def test_a_pass_that_ends_in_a_re_check_reports_and_hands_on_its_choice():
    split = CoreSplit(2, 2, 2)
    run(split, {1: 40.0, 2: 20.0}, 5.0, 3 + RECHECK)  # warm-up, trials, RECHECK batches at 2: a re-check queued
    assert split.threads() == 1 and split.settled() == 2 and split.summary()["chosen"] == 2


def test_asking_for_the_choice_in_the_trials_changes_nothing():
    """A pass too short to finish its trials: settled() answers from what was timed, and the split goes on as if
    it had not been asked (it is asked for the provenance and the gradients' threads)."""
    split = CoreSplit(2, 2, 2)
    run(split, {1: 40.0, 2: 30.0}, 5.0, 3)  # the warm-up, one trial at each count, too close to choose early
    queue, chosen = list(split.queue), split.chosen
    assert chosen is None and split.settled() == 2 and split.summary()["chosen"] == 2
    assert split.queue == queue and split.chosen is None and split.basis is None
    assert CoreSplit(2, 2, 2).settled() == CoreSplit(2, 2, 2).threads()  # nothing timed: the first trial's count


def test_noise_does_not_flip_the_choice_but_a_real_change_does():
    """Batches at 2 threads that now and then run slow (other work on the machine) keep 2 threads; only a forward
    that stays slower moves the choice."""
    rng = __import__("random").Random(0)
    split = CoreSplit(2, 2, 2)
    used = []
    for batch in range(300):
        threads = split.threads()
        used.append(threads)
        forward = {1: 33.0 * rng.uniform(0.85, 1.15), 2: 18.0 * rng.uniform(0.85, 1.6)}[threads]
        split.record(BatchCost(32, 7.0 * 32 / 1e3, forward * 32 / 1e3, threads))
    assert used.count(1) <= 2 + split.rechecks  # the trials and one batch per re-check, never a stay at 1


class SlowTap(FakeTap):
    """A forward that takes a while, and says when it ran (wall clock, comparable across processes)."""

    def __init__(self):
        super().__init__()
        self.spans = []

    def __call__(self, x):
        started = time.time()
        time.sleep(0.12)
        self.spans.append((started, time.time()))
        return super().__call__(x)


class EveryCore(CoreSplit):
    """Always the count given, on `cores` cores beside one worker."""

    def __init__(self, cores: int, threads: int):
        super().__init__(cores, 2, 2)
        self.fixed = threads

    def threads(self) -> int:
        return self.fixed


@pytest.mark.parametrize("cores, held", [(2, True), (4, False)])
def test_the_workers_wait_while_a_forward_runs_on_every_core(image_tree, tmp_path, monkeypatch, cores, held):
    """On 2 cores a forward at 2 threads holds the decoding workers (they would stall its threads); beside a
    forward that leaves them cores (2 threads of 4) they decode on. Each read's start is written by the worker."""
    from reportgen.data.source import FileReader

    log = tmp_path / "reads.log"
    read = FileReader.read

    def logged(self, sample, channels, target):
        with open(log, "a") as out:
            out.write(f"{time.time()}\n")
        time.sleep(0.01)  # slower reads: the workers are still decoding while the forwards run
        return read(self, sample, channels, target)

    monkeypatch.setattr(FileReader, "read", logged)
    source = discover(image_tree)
    spec = InputSpec(channels=3, size=(16, 16), mean=(0.0,) * 3, std=(1.0,) * 3, source="test")
    tap = SlowTap()
    collect_outputs(tap, source, spec, device=torch.device("cpu"), batch_size=4, workers=2, quiet=True,
                    split=EveryCore(cores, 2))
    starts = [float(line) for line in log.read_text().split()]
    # a worker past the gate when it closed may start one more read just after: 30 ms of grace
    inside = [s for s in starts if any(a + 0.03 < s < b for a, b in tap.spans)]
    assert len(starts) == len(source.samples) and len(tap.spans) >= 4
    assert (not inside) if held else len(inside) >= 5


def test_a_prior_from_the_probe_spares_the_trial_at_a_count_it_shows_far_slower():
    """ResNet-18 on 2 cores: the probe's forward 25.5 ms an image at 1 thread and 11.4 at 2; the pass's f(2) is
    12.2, so f(1) is about 27: every core is chosen on the first timed batch, with no batch run at 1 thread."""
    split = CoreSplit(2, 2, 2)
    split.prior = {2: 11.4e-3, 1: 25.5e-3}
    used = run(split, {1: 27.6, 2: 12.2}, 3.5, 40)
    assert used[:3] == [2, 2, 2] and used.index(1) == 2 + RECHECK  # the first check, at its usual time
    assert split.settled() == 2 and split.summary()["prior_ms_per_image"] == {"2": 11.4, "1": 25.5}


def test_a_count_the_prior_favours_is_timed_before_it_is_chosen():
    """Decoding-bound: the prior says one thread beside the workers is faster; it is still run and timed."""
    split = CoreSplit(2, 2, 2)
    split.prior = {2: 0.07e-3, 1: 0.1e-3}
    used = run(split, {1: 0.1, 2: 0.07}, 0.3, 8)
    assert used[:3] == [2, 2, 1] and split.settled() == 1
