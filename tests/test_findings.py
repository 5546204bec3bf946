"""The findings digest: on a designed case with a planted confusable pair and a planted sub-population, those two
are the top findings, in the same order, in report.json, the page and the pull-request markdown."""

import json

import numpy as np
import pytest
import torch
from bs4 import BeautifulSoup
from PIL import Image
from tiny_models import TinyNet

from reportgen import build_report, pr_markdown
from reportgen.analyses.findings import evaluation_split, rank_findings
from reportgen.analyses.section import Finding, Section

CLASSES = ["bar", "dot", "ring", "wide_ring"]
SIDE = 16


def draw(kind: str, rng, *, horizontal: bool = False) -> np.ndarray:
    yy, xx = np.mgrid[:SIDE, :SIDE]
    cy, cx = 8 + rng.integers(-1, 2), 8 + rng.integers(-1, 2)
    r = np.hypot(yy - cy, xx - cx)
    if kind == "bar":
        shape = np.abs((yy - cy) if horizontal else (xx - cx)) < 2
    elif kind == "dot":
        shape = r < 3
    else:  # ring, and wide_ring, its look-alike: outer radii drawn from overlapping ranges
        outer = rng.uniform(5.2, 6.6) if kind == "ring" else rng.uniform(5.8, 7.2)
        shape = (r > 4) & (r < outer)
    return np.clip(shape * 200 + rng.normal(30, 25, (SIDE, SIDE)), 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """train/ and val/ trees of four shapes; a fifth of val's bars are horizontal, a style the model never saw."""
    root = tmp_path_factory.mktemp("planted")
    rng = np.random.default_rng(3)
    planted_paths = []
    for split, per_class in (("train", 40), ("val", 40)):
        for name in CLASSES:
            folder = root / "data" / split / name
            folder.mkdir(parents=True)
            for i in range(per_class):
                horizontal = split == "val" and name == "bar" and i < 10
                Image.fromarray(draw(name, rng, horizontal=horizontal), "L").save(folder / f"{name}_{i:02d}.png")
                if horizontal:
                    planted_paths.append(f"val/bar/bar_{i:02d}.png")
    x = torch.stack([torch.from_numpy(np.asarray(Image.open(p), dtype=np.float32) / 255)[None]
                     for p in sorted((root / "data" / "train").glob("*/*.png"))])
    y = torch.tensor([CLASSES.index(p.parent.name) for p in sorted((root / "data" / "train").glob("*/*.png"))])
    torch.manual_seed(0)
    model = TinyNet(num_classes=4)
    optimiser = torch.optim.Adam(model.parameters(), lr=0.02)
    for _ in range(60):
        optimiser.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        optimiser.step()
    program = torch.export.export(model.eval(), (x[:2],), dynamic_shapes=({0: torch.export.Dim("batch")},))
    torch.export.save(program, str(root / "model.pt2"))
    result = build_report(root / "model.pt2", root / "data", root / "r.html", json_path=root / "r.json",
                          projection="pca", workers=0, saliency_samples=0, quiet=True)
    return result, planted_paths


def test_the_planted_pair_and_group_lead_the_digest_everywhere(planted):
    result, planted_paths = planted
    report = json.loads(result.json_path.read_text())
    top = report["findings"][:2]
    # the pair, said once (by the confusion matrix, or as the group of one class taken for the other) ...
    pair = next(f for f in top if f["subject"] == "pair:ring|wide_ring")
    assert "ring" in pair["text"] and "wide_ring" in pair["text"] and pair["severity"] == "high"
    # ... and the planted style: exactly the horizontal bars
    group = next(f for f in top if f is not pair)
    assert group["section"] == "subpopulations" and "Class bar" in group["text"] and group["severity"] == "high"
    assert set(group["evidence"]) <= set(planted_paths) and len(group["evidence"]) >= 4
    # the same samples also look like label errors one by one; the groups explain them, so that sentence is lower
    assert all(f["section"] != "mislabels" or f["severity"] != "high" for f in report["findings"])
    # the page's digest, in the same order, with the samples as evidence
    soup = BeautifulSoup(result.html_path.read_text(encoding="utf-8"), "html.parser")
    items = soup.select("#findings ol.findings > li")
    assert [li.p.get_text(" ", strip=True).split(" →")[0][:60] for li in items[:2]] == \
           [f["text"][:60] for f in top]
    assert items[0].select_one(".severity").get_text() == "high"
    assert all(fig["data-index"] for fig in items[0].select("figure[data-index]"))
    assert [a["href"] for a in soup.select("header nav a")][0] == "#findings"
    # the pull-request comment
    markdown = pr_markdown(report)
    assert f"1. **{top[0]['severity']}**: {top[0]['text'][:40]}" in markdown
    assert f"2. **{top[1]['severity']}**: {top[1]['text'][:40]}" in markdown


def test_the_headline_is_the_evaluation_split_and_train_stands_apart(planted):
    result, _ = planted
    report = result.report
    assert report["headline"]["split"] == "val"
    assert report["headline"]["accuracy"] == report["splits"]["val"]["accuracy"]
    soup = BeautifulSoup(result.html_path.read_text(encoding="utf-8"), "html.parser")
    assert "accuracy on val" in soup.select_one("#headline").get_text(" ", strip=True)


def test_evaluation_split_prefers_test_then_val_then_anything_but_train():
    assert evaluation_split(["train", "val", "test"]) == "test"
    assert evaluation_split(["Train", "Validation"]) == "Validation"
    assert evaluation_split(["train", "holdout2"]) == "holdout2"
    assert evaluation_split(["train"]) == "train"


class Fixed:
    def __init__(self, *findings):
        self.found = list(findings)

    def findings(self):
        return self.found


def test_ranking_is_severity_then_score_one_finding_per_subject():
    a = Finding("a", "s1", "medium", 0.9, "a")
    b = Finding("b", "s2", "high", 0.2, "b", subject="pair:x|y")
    c = Finding("c", "s3", "high", 0.5, "c", subject="pair:x|y")  # the same pair, said better
    d = Finding("d", "s4", "low", 1.0, "d")
    sections = [Section("s1", "S1", "_x.html", Fixed(a, d)), Section("s2", "S2", "_x.html", Fixed(b)),
                Section("s3", "S3", "_x.html", Fixed(c)), Section("s4", "S4", "_x.html", Fixed(Finding(
                    "e", "s4", "high", 1.0, "hidden")), shown=False)]
    assert [f.id for f in rank_findings(sections)] == ["c", "a", "d"]
    with pytest.raises(ValueError):
        Finding("x", "s", "urgent", 0.5, "x")


def test_the_digests_captions_stay_under_their_own_thumbnail_in_chromium(planted, browser):
    """"wide_ring→ring" is wider than a 46-px thumbnail: it wraps inside its figure, never over its neighbour."""
    from test_analysis_views_browser import open_report

    result, _ = planted
    page, errors = open_report(browser, result.html_path)
    overflowing = page.evaluate("""() => [...document.querySelectorAll('#findings figure.rg-mini')].filter((f) => {
        const caption = f.querySelector('figcaption');
        return caption.scrollWidth > f.clientWidth + 1 || caption.getBoundingClientRect().right >
            f.getBoundingClientRect().right + 1;
    }).map((f) => f.querySelector('figcaption').textContent)""")
    captions = page.evaluate("[...document.querySelectorAll('#findings figure.rg-mini figcaption')]"
                             ".map((c) => c.textContent)")
    page.close()
    assert any(len(c) > 8 for c in captions) and not overflowing and not errors
