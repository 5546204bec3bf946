"""A model that gives one answer whatever it sees (inputs unlike its training data, the wrong checkpoint) is said
first, in the page, report.json and the PR comment, and the confusion pairs it explains are not said again; a
healthy or merely imbalanced model, or a binary one, gets no such finding."""

import copy
import json

import numpy as np
import torch
from bs4 import BeautifulSoup
from collected_factory import make_collected
from conftest import CLASSES

from reportgen import build_report, pr_markdown
from reportgen.analyses import summary


def _findings(collected):
    return summary.run(collected, provenance={}, timings={}, model_info={}).findings()


def _predicting(collected, k: int, share: float):
    """The same samples, `share` of them predicted as class k (the rest as labelled)."""
    collected = copy.deepcopy(collected)
    rng = np.random.default_rng(0)
    collected.preds = np.where(rng.random(collected.n) < share, k, collected.labels)
    return collected


def test_one_class_for_most_images_is_a_high_finding_with_the_misread_samples_as_evidence():
    base = make_collected(n=100, k=5)
    found = [f for f in _findings(_predicting(base, 2, 0.9)) if f.id == "summary/collapse"]
    assert len(found) == 1
    finding = found[0]
    assert finding.severity == "high" and finding.score == 1.0
    collapsed = _predicting(base, 2, 0.9)
    share, others = (collapsed.preds == 2).mean(), (collapsed.preds[collapsed.labels != 2] == 2).mean()
    assert f"predicts c2 for {share:.0%} of the images, and for {others:.0%} of those labelled as another class" \
        in finding.text
    assert "--mean/--std" in finding.text
    assert finding.rows and all(collapsed.preds[r] == 2 and collapsed.labels[r] != 2 for r in finding.rows)
    assert len(finding.rows) == int(((collapsed.preds == 2) & (collapsed.labels != 2)).sum())


def test_few_classes_collapse_too():
    """3 balanced classes, 90% of the predictions on one: under 3x its label share, but most images of the other
    two classes are called it."""
    found = [f for f in _findings(_predicting(make_collected(n=90, k=3), 0, 0.85)) if f.id == "summary/collapse"]
    assert found and found[0].severity == "high"


def test_no_finding_for_a_healthy_an_imbalanced_or_a_binary_model():
    healthy = make_collected(n=100, k=5)
    assert not [f for f in _findings(healthy) if f.id == "summary/collapse"]
    # class 0 is 70% of the labels and 80% of the predictions: the data, not a collapse
    imbalanced = make_collected(n=100, k=5)
    imbalanced.labels = np.where(np.arange(100) < 70, 0, imbalanced.labels)
    imbalanced = _predicting(imbalanced, 0, 0.35)
    assert (imbalanced.preds == 0).mean() >= 0.75
    assert not [f for f in _findings(imbalanced) if f.id == "summary/collapse"]
    binary = _predicting(make_collected(n=100, k=2), 1, 0.95)
    assert not [f for f in _findings(binary) if f.id == "summary/collapse"]


def test_without_labels_only_nearly_every_prediction_on_one_class_counts():
    unlabelled = make_collected(n=100, k=5)
    unlabelled.labelled = False
    assert not [f for f in _findings(_predicting(unlabelled, 1, 0.6)) if f.id == "summary/collapse"]
    found = [f for f in _findings(_predicting(unlabelled, 1, 0.97)) if f.id == "summary/collapse"]
    assert found and "labelled" not in found[0].text


def test_a_model_stuck_on_one_class_leads_the_digest_and_its_pairs_are_not_repeated(image_tree, tiny_model, tmp_path):
    stuck = copy.deepcopy(tiny_model)
    with torch.no_grad():
        stuck.fc.bias[1] += 1000.0  # whatever it sees, the second class
    result = build_report(stuck, image_tree, tmp_path / "r.html", json_path=tmp_path / "r.json", projection="pca",
                          workers=0, saliency_samples=0, quiet=True)
    report = json.loads(result.json_path.read_text())
    first = report["findings"][0]
    assert first["id"] == "summary/collapse" and f"predicts {CLASSES[1]} for 100% of the images, and for 100% of " \
        "those labelled as another class" in first["text"]
    assert report["splits"]["val"]["top_prediction"]["share"] == 1.0
    # the confusion pairs are the same samples: said once; and the labels it disputes are not label errors
    assert not [f for f in report["findings"] if f["id"].startswith("confusion/") and "|" in f["id"]]
    assert not [f for f in report["findings"] if f["id"].startswith("mislabels/")]
    assert report["suspected_mislabels_method"]["model_collapsed"] == CLASSES[1]
    soup = BeautifulSoup(result.html_path.read_text(encoding="utf-8"), "html.parser")
    item = soup.select("#findings ol.findings > li")[0]
    assert item.p.get_text(" ", strip=True).startswith(first["text"][:60])
    assert item.select("figure[data-index]")  # the misread samples, as evidence ...
    assert {path.split("/")[1] for path in first["evidence"][:2]} == {CLASSES[0], CLASSES[2]}  # each class in turn
    assert f"1. **high**: {first['text'][:40]}" in pr_markdown(report)
    assert report["suspected_mislabels"]  # the section still lists them, and says why they are not findings
    assert "no witness to the labels" in soup.select_one("#mislabels .rg-collapsed-witness").get_text(" ")


def test_a_collapsed_model_is_no_witness_to_the_labels():
    """Its disputed labels stay listed in the mislabel section, with a note, but the digest does not put them
    forward as label errors; the same labels beside a working model are a finding."""
    from reportgen.analyses import mislabels
    from reportgen.compute.neighbours import nearest_neighbours

    working = make_collected(n=150, k=5, seed=1)
    working.labels[:10] = (working.labels[:10] + 1) % 5  # ten wrong labels that model and neighbours dispute
    graph = nearest_neighbours(working.embeddings, 15)
    result = mislabels.run(working, neighbours=graph, top_k=5)
    assert result.model_collapsed is None and [f.id for f in result.findings()] == ["mislabels/suspects"]

    stuck = copy.deepcopy(working)
    stuck.probs = np.full_like(working.probs, 0.02)
    stuck.probs[:, 2] = 0.92  # whatever it sees, c2
    stuck.preds = stuck.probs.argmax(1)
    result = mislabels.run(stuck, neighbours=graph, top_k=5)
    assert result.model_collapsed == "c2" and result.rows
    assert result.findings() == []
    assert result.json()["suspected_mislabels_method"]["model_collapsed"] == "c2"
