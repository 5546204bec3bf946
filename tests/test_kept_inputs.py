"""The gradient analyses' inputs come from the pass, not from a second decode: the pass keeps the rows the
saliency choice and the insides can pick, within a memory budget."""

import numpy as np
import pytest
import torch
from collected_factory import make_collected

from reportgen.analyses.insides import extreme_samples
from reportgen.collect.kept_inputs import KeptInputs
from reportgen.explain.saliency_samples import PER_CLASS, choose_saliency_samples


def offered(collected, keep: KeptInputs, batch: int = 16, image_bytes: int = 3 * 8 * 8 * 4) -> KeptInputs:
    """The collected rows offered in batches, as the pass offers them; row i's input is filled with i."""
    side = int(np.sqrt(image_bytes // 12))
    for start in range(0, collected.n, batch):
        rows = np.arange(start, min(start + batch, collected.n))
        images = torch.stack([torch.full((3, side, side), float(r)) for r in rows])
        keep.offer(rows, images, split=collected.split[rows], labels=collected.labels[rows],
                   loss=collected.loss[rows], right=collected.correct[rows],
                   confidence=collected.confidence[rows], num_classes=len(collected.classes),
                   num_splits=len(collected.split_names))
    return keep


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("budget", [8, 30, 200])
def test_every_row_the_choices_pick_was_kept_with_one_split(seed, budget):
    collected = make_collected(n=300, k=7, seed=seed, accuracy=0.6)
    collected.loss[seed * 7] = np.nan  # a non-finite loss ranks first among the hardest
    top_k = 10
    keep = offered(collected, KeptInputs(top_k=top_k, per_class=PER_CLASS))
    wanted = set(choose_saliency_samples(collected, budget, top_k=top_k)) | {s["index"] for s in
                                                                             extreme_samples(collected)}
    assert wanted <= set(keep.inputs)
    assert len(keep) <= top_k + 2 * 7 * PER_CLASS + 2  # the hardest, the classes' lists, the two extremes
    for row in wanted:  # the very inputs of those rows
        assert float(keep.get(row).flatten()[0]) == row


def test_with_several_splits_most_are_kept_and_the_rest_read_again():
    collected = make_collected(n=400, k=5, seed=3, splits=("train", "val"), accuracy=0.7)
    keep = offered(collected, KeptInputs(top_k=25, per_class=PER_CLASS))
    wanted = set(choose_saliency_samples(collected, 200, top_k=25))
    assert len(wanted & set(keep.inputs)) >= 0.9 * len(wanted)


def test_the_memory_budget_is_kept_by_dropping_the_class_lists_first():
    collected = make_collected(n=300, k=50, seed=1, accuracy=0.5)
    image_bytes = 3 * 8 * 8 * 4
    keep = offered(collected, KeptInputs(top_k=10, per_class=PER_CLASS, budget_bytes=40 * image_bytes),
                   image_bytes=image_bytes)
    assert keep.classes_size == 0 and len(keep) <= 10 + 2
    hardest = set(choose_saliency_samples(collected, 20, top_k=10))
    assert {r for r in hardest if r in keep.inputs}  # the hardest are still there


def test_a_kept_input_holds_no_reference_to_its_batch():
    keep = KeptInputs(top_k=1, per_class=0)
    images = torch.arange(4 * 3 * 2 * 2, dtype=torch.float32).reshape(4, 3, 2, 2)
    keep.offer(np.arange(4), images, split=np.zeros(4, int), labels=np.zeros(4, int),
               loss=np.array([0.1, 3.0, 0.2, 0.3]), right=np.ones(4, bool),
               confidence=np.array([0.5, 0.2, 0.9, 0.6]), num_classes=1, num_splits=1)
    assert set(keep.inputs) == {1, 2}  # the hardest, the most confident (also the least: 1)
    assert all(t.untyped_storage().nbytes() == t.nelement() * 4 for t in keep.inputs.values())


def test_a_report_decodes_every_image_once(model_files, image_tree, tmp_path, monkeypatch):
    """Saliency (every row the choice can make here) and the insides read no image a second time."""
    from reportgen import build_report
    from reportgen.data.source import FileReader

    reads: dict[str, int] = {}
    read = FileReader.read

    def counting(self, sample, channels, target):
        reads[str(sample.path)] = reads.get(str(sample.path), 0) + 1
        return read(self, sample, channels, target)

    monkeypatch.setattr(FileReader, "read", counting)
    report = build_report(model_files["pt2"], image_tree, tmp_path / "r.html", quiet=True, projection="pca",
                          workers=0, image_size=16, saliency_samples=12, top_k=3).report
    assert len(report["saliency"]["samples"]) == 12 and report["network_insides"]["feature_map_layers"]
    assert len(reads) == report["n_samples"] and set(reads.values()) == {1}
