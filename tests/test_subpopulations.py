"""Sub-populations, the section: the groups class_modes finds, ranked, with their evidence and findings; a
region of one data source across classes; data sources guessed from paths. (The mode finder itself is tested
in test_class_modes.py.)"""

import numpy as np
from collected_factory import make_collected

from reportgen.analyses import subpopulations
from reportgen.compute.neighbours import nearest_neighbours
from reportgen.data.sources import guess_sources, source_key
from reportgen.render.report_json import dumps_json


def blobs(sizes, centres, seed=0, scale=None):
    rng = np.random.default_rng(seed)
    scale = np.ones(len(centres[0])) if scale is None else np.asarray(scale)
    return np.concatenate([np.asarray(c) + rng.normal(0, 1, (n, len(c))) * scale
                           for n, c in zip(sizes, centres)]).astype(np.float32)


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


def test_section_reports_the_error_prone_mode_first_and_a_one_source_region():
    collected = two_mode_collected()
    small = np.flatnonzero(collected.labels == 0)[:25]
    result = subpopulations.run(collected, neighbours=nearest_neighbours(collected.embeddings, 15), seed=0)
    report = result.json()["subpopulations"]
    by_class = {m["class"]: m for m in report["modes"]}
    # c0's second mode, a quarter of it wrong; and the 20 c1 samples sitting inside it, whose neighbours are c0s
    assert set(by_class) == {"c0", "c1"} and by_class["c1"]["size"] == 20
    mode = by_class["c0"]
    assert sorted(mode["members"]) == sorted(collected.paths[i] for i in small)
    assert np.isclose(mode["error_rate"], 8 / 25) and len(mode["representatives"]) <= 8
    assert any("error 32% against 0%" in r for r in mode["reasons"])
    assert any(c["kind"] == "one source" and c["source"] == "web" for c in report["clusters"])
    findings = result.findings()
    assert [f.section for f in findings] == ["subpopulations"] * len(findings)
    assert any("c0" in f.text and "25 samples" in f.text and "32%" in f.text for f in findings)
    dumps_json(result.json())
