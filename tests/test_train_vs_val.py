"""Train vs validation: per-class, per-split accuracy/loss, and the same-split neighbour rate that shows shift."""

import numpy as np
from collected_factory import make_collected

from reportgen.analyses import train_vs_val
from reportgen.compute.neighbours import nearest_neighbours
from reportgen.compute.projection import project
from reportgen.render.report_json import dumps_json


def analyse(collected):
    return train_vs_val.run(collected, projection=project(collected.embeddings, "pca"),
                            neighbours=nearest_neighbours(collected.embeddings, 15))


def test_one_split_gives_a_note_not_an_error():
    collected = make_collected(40, 2)
    result = analyse(collected)
    assert "only one split" in result.json()["train_vs_val"]["note"].lower()
    assert not result.shown  # nothing to compare: the section leaves the page


def test_per_class_accuracy_per_split_matches_a_direct_count():
    collected = make_collected(120, 3, splits=("train", "val"), seed=6)
    result = analyse(collected)
    report = result.json()["train_vs_val"]
    assert report["splits"] == ["train", "val"] and report["reference"] == "train"
    for c, name in enumerate(collected.classes):
        for s, split in enumerate(("train", "val")):
            mask = (collected.labels == c) & (collected.split == s)
            cell = report["per_class"][name]["splits"][split]
            assert cell["n"] == mask.sum()
            assert np.isclose(cell["accuracy"], (collected.preds[mask] == c).mean())
        gap = report["per_class"][name]["accuracy_gap"]["val"]
        cells = report["per_class"][name]["splits"]
        assert np.isclose(gap, cells["train"]["accuracy"] - cells["val"]["accuracy"])
    dumps_json(result.json())


def test_a_shifted_split_keeps_to_itself_among_the_neighbours():
    collected = make_collected(120, 3, splits=("train", "val"), seed=7)
    mixed = analyse(collected).json()["train_vs_val"]["same_split_neighbours"]
    assert abs(mixed["val"]["ratio"] - 1) < 0.35
    collected.embeddings[collected.split == 1] += 30.0  # val moved away: a distribution shift
    shifted = analyse(collected).json()["train_vs_val"]["same_split_neighbours"]
    assert shifted["val"]["observed"] > 0.95 and shifted["val"]["ratio"] > 1.8
