"""Sub-populations: a two-mode class is found, a single (even elongated) blob is not; mixed and one-source
clusters are flagged; data sources are guessed from paths."""

import numpy as np
from collected_factory import make_collected

from reportgen.analyses import subpopulations
from reportgen.compute.neighbours import nearest_neighbours
from reportgen.compute.subclusters import class_modes
from reportgen.data.sources import guess_sources, source_key
from reportgen.render.report_json import dumps_json


def blobs(sizes, centres, seed=0, scale=None):
    rng = np.random.default_rng(seed)
    scale = np.ones(len(centres[0])) if scale is None else np.asarray(scale)
    return np.concatenate([np.asarray(c) + rng.normal(0, 1, (n, len(c))) * scale
                           for n, c in zip(sizes, centres)]).astype(np.float32)


def test_two_separated_modes_are_found_with_their_sizes():
    emb = blobs([70, 30], [np.zeros(8), np.r_[12.0, np.zeros(7)]])
    members = np.arange(100)
    modes = class_modes(emb, members, nearest_neighbours(emb, 15).indices)
    assert modes is not None
    assert sorted(np.bincount(modes.assignment)) == [30, 70]
    assert modes.cut_ratio < 0.05 and modes.silhouette > 0.5


def test_one_blob_is_one_mode_even_when_elongated():
    for scale in (None, [6, 3, 1, 1, 1, 1, 1, 1]):
        emb = blobs([150], [np.zeros(8)], seed=1, scale=scale)
        assert class_modes(emb, np.arange(150), nearest_neighbours(emb, 15).indices) is None


def test_source_guessing_from_paths():
    ignore = {"train", "val", "cow", "nocow"}
    assert source_key("train/cow/IMG_2041.jpg", ignore) == "img"
    assert source_key("cow/kaggle/cow (13).jpg", ignore) == "kaggle"  # "cow" is the class, not a source
    assert source_key("nocow/web-17.png", ignore) == "web"
    assert guess_sources([f"a/{i:04x}{i * 7919:x}.png" for i in range(40)], ["a"], ["val"]) is None  # one per file
    assert guess_sources([f"a/img_{i}.png" for i in range(40)], ["a"], ["val"]) is None  # one source
    index, names = guess_sources([f"a/{'img' if i % 4 else 'web'}_{i}.png" for i in range(40)], ["a"], ["val"])
    assert names == ["img", "web"] and np.bincount(index).tolist() == [30, 10]
    # file names that repeat the class, or sources that coincide with the classes, tell nothing new
    assert guess_sources([f"{c}/{c}_{i}.png" for i in range(20) for c in "ab"], ["a", "b"], ["val"]) is None
    paths = [f"{c}/{'cam' if c == 'a' else 'web'}_{i}.png" for i in range(20) for c in "ab"]
    assert guess_sources(paths, ["a", "b"], ["val"], np.array([0, 1] * 20)) is None


def two_mode_collected():
    """200 samples, 2 classes; c0 has a second mode of 25 (8 mispredicted) that 20 c1 samples share, all of
    them from the "web" source."""
    n = 200
    collected = make_collected(n, 2, d=8, seed=4)
    labels = np.arange(n) % 2
    collected.labels, collected.preds = labels, labels.copy()
    rng = np.random.default_rng(4)
    emb = np.where(labels[:, None] == 0, 0.0, 10.0) + rng.normal(0, 1, (n, 8))
    small = np.flatnonzero(labels == 0)[:25]  # class c0 has a second, separate mode ...
    emb[small, 1] += 14
    odd = np.flatnonzero(labels == 1)[:20]  # ... and 20 c1 samples from one source sit in it too
    emb[odd] = emb[small[:20]] + rng.normal(0, 0.3, (20, 8))
    collected.embeddings = emb.astype(np.float32)
    collected.preds[small[:8]] = 1
    web = set(odd) | set(small)  # the whole second mode comes from one source, rare elsewhere
    collected.paths = [f"{collected.classes[labels[i]]}/{'web' if i in web else 'cam'}_{i}.png" for i in range(n)]
    return collected


def test_section_reports_a_two_mode_class_and_a_mixed_one_source_cluster():
    collected = two_mode_collected()
    small = np.flatnonzero(collected.labels == 0)[:25]
    result = subpopulations.run(collected, neighbours=nearest_neighbours(collected.embeddings, 15), seed=0)
    report = result.json()["subpopulations"]
    by_class = {c["class"]: c for c in report["multi_mode_classes"]}
    assert "c0" in by_class
    sizes = [m["size"] for m in by_class["c0"]["modes"]]
    assert sizes == sorted(sizes, reverse=True) and 25 in sizes
    small_mode = next(m for m in by_class["c0"]["modes"] if m["size"] == 25)
    assert np.isclose(small_mode["error_rate"], 8 / 25) and len(small_mode["representatives"]) == 6
    assert sorted(small_mode["members"]) == sorted(collected.paths[i] for i in small)
    flagged = [c for c in report["clusters"] if c["reasons"] == ["mixed labels", "one source"]]
    assert len(flagged) == 1 and flagged[0]["size"] == 45 and flagged[0]["source"]["name"] == "web"
    assert {c["class"]: round(c["share"], 2) for c in flagged[0]["labels"]} == {"c0": 0.56, "c1": 0.44}
    assert report["sources"] == ["cam", "web"]
    dumps_json(result.json())
