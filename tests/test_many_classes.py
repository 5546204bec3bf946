"""Many classes: the page and report.json grow with samples x k and classes x D, never samples x classes or
classes^2; the confusion heatmap drills down; a 1,000-class matrix equals scikit-learn's; 10,000 outputs work."""

import json
import re

import numpy as np
import pytest
import torch
from collected_factory import make_collected
from PIL import Image
from sklearn.metrics import confusion_matrix
from synthetic_page import render_collected

from reportgen import build_report
from reportgen.analyses.sample_explorer import top_classes
from reportgen.render.page import plotly_js

# The design: a sample costs its thumbnail plus a few hundred bytes (k neighbours, top-5, 2-D positions in a
# few figures); a class a few hundred (its name, its rows in per-class tables).
BYTES_PER_SAMPLE = 600  # measured: ~400 (N = 2,000 vs 20,000 at K = 10)
BYTES_PER_CLASS = 1200  # measured: ~930 (K = 10 vs 1,000 at N = 20,000)
FIXED_BYTES = 400_000


def page_bytes_without_thumbnails(html, collected) -> int:
    text = html.read_text(encoding="utf-8")
    thumbs = sum(len(t) for t in json.loads(re.search(r'id="sample-data">(.*?)</script>', text).group(1))["thumb"])
    return len(text.encode()) - len(plotly_js().encode()) - thumbs


def test_page_budget_grows_with_samples_and_classes_not_their_product(tmp_path):
    big = make_collected(20_000, 1000, d=32, seed=0)
    report = render_collected(big, tmp_path / "big.html")
    size = page_bytes_without_thumbnails(tmp_path / "big.html", big)
    assert size <= FIXED_BYTES + BYTES_PER_SAMPLE * 20_000 + BYTES_PER_CLASS * 1000, size
    # the same samples with 10 classes: the 990 extra classes cost at most BYTES_PER_CLASS each
    few = make_collected(20_000, 10, d=32, seed=0)
    render_collected(few, tmp_path / "few.html")
    assert size - page_bytes_without_thumbnails(tmp_path / "few.html", few) <= BYTES_PER_CLASS * 990
    # report.json: no K-wide array in any sample row
    widths = {key: len(value) for row in report["samples"][:50] for key, value in row.items()
              if isinstance(value, list)}
    assert max(widths.values()) <= 8, widths
    assert len(report["splits"]["val"]["confusion_matrix"]) == 1000  # the whole matrix stays in the JSON


def test_top_classes_match_a_stable_argsort_with_ties():
    rng = np.random.default_rng(0)
    probs = rng.integers(0, 4, (300, 40)).astype(np.float32)  # many ties
    top, top_p = top_classes(probs)
    expected = np.argsort(-probs, axis=1, kind="stable")[:, :5]
    np.testing.assert_array_equal(top, expected)
    np.testing.assert_array_equal(top_p, np.take_along_axis(probs, expected, axis=1))


def test_sample_rows_carry_the_label_and_prediction_centroids_and_the_nearest_five(tmp_path):
    collected = make_collected(400, 50, d=8, seed=1)
    report = render_collected(collected, tmp_path / "page.html")
    means = np.stack([collected.embeddings[collected.labels == c].mean(0) for c in range(50)])
    for i in (0, 17, 399):
        row = report["samples"][i]
        d = np.linalg.norm(means - collected.embeddings[i], axis=1)
        assert row["centroid_distance_label"] == pytest.approx(d[collected.labels[i]], abs=2e-3)
        assert row["centroid_distance_prediction"] == pytest.approx(d[collected.preds[i]], abs=2e-3)
        assert row["nearest_centroids"] == [f"c{k}" for k in np.argsort(d)[:5]]
        assert row["top_classes"][0] == row["prediction"] and len(row["top_probs"]) == 5


def heatmap_collected():
    """300 classes, 1,500 samples; class 7 is taken for class 250 twice in val, 60 other errors at random."""
    collected = make_collected(1500, 300, d=16, seed=2, splits=("train", "val"))
    collected.preds = collected.labels.copy()
    val7 = np.flatnonzero((collected.labels == 7) & (collected.split == 1))
    collected.preds[val7[:2]] = 250
    rng = np.random.default_rng(0)
    others = rng.choice(np.flatnonzero(~np.isin(collected.labels, (7, 250))), 60, replace=False)
    collected.preds[others] = rng.choice(np.setdiff1d(np.arange(300), (7, 250)), 60)
    return collected


def test_heatmap_cell_click_opens_exactly_that_cells_samples(browser, tmp_path):
    collected = heatmap_collected()
    report = render_collected(collected, tmp_path / "page.html")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto((tmp_path / "page.html").as_uri())
    page.wait_for_selector("body[data-ready=true]")
    assert page.locator("table.confusion[data-split]").count() == 0  # no K x K HTML table
    page.locator("#confusion-heatmap-1").scroll_into_view_if_needed()
    page.wait_for_selector("#confusion-heatmap-1[data-drawn=true]", timeout=10000)
    matrix = np.array(report["splits"]["val"]["confusion_matrix"])
    t, p = 7, 250
    assert matrix[t, p] >= 2
    x, y = page.evaluate("""([t, p]) => {
        const gd = document.getElementById('confusion-heatmap-1'), box = gd.getBoundingClientRect();
        const trace = gd._fullData.find((d) => d.name === 'confused');
        const k = trace.customdata.findIndex((c) => c[0] === t && c[1] === p);
        const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
        return [box.left + xa._offset + xa.l2p(trace.x[k]), box.top + ya._offset + ya.l2p(trace.y[k])];
    }""", [t, p])
    page.mouse.move(x, y)
    page.mouse.click(x, y)
    page.locator("#selection-panel").wait_for(state="visible")
    shown = sorted(int(f.get_attribute("data-index")) for f in page.locator("#selection-gallery figure").all())
    expected = [i for i in range(collected.n) if collected.split[i] == 1 and collected.labels[i] == t
                and collected.preds[i] == p]
    assert shown == expected and len(shown) == matrix[t, p]
    assert "class_" not in page.locator("#drawer-title").inner_text() and "c7" in page.locator("#drawer-title").inner_text()
    # the per-class table opens on the worst classes and finds one by name
    table = page.locator("#per-class-table-1")
    assert table.locator("tbody tr").count() == 20
    table.locator("input[type=search]").fill("c250")
    assert table.locator("tbody tr").count() == 1
    # the other order puts the confused pair side by side on both axes
    order = page.evaluate("JSON.parse(document.getElementById('confusion-heatmap').textContent).orders.confusion")
    assert abs(order.index(7) - order.index(250)) == 1 and sorted(order) == list(range(300))
    assert errors == []
    page.close()


def test_max_of_a_200k_array_does_not_throw(browser, tmp_path):
    """Math.max(...array) throws a RangeError above ~125,000 values; the page reduces instead."""
    render_collected(make_collected(60, 3), tmp_path / "page.html")
    page = browser.new_page()
    page.goto((tmp_path / "page.html").as_uri())
    page.wait_for_selector("body[data-ready=true]")
    assert page.evaluate("window.reportgen.maxOf(Array.from({length: 200000}, (_, i) => i % 977))") == 976
    page.close()


class ManyClassNet(torch.nn.Module):
    def __init__(self, k):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 8, 3, padding=1)
        self.fc = torch.nn.Linear(8, k)

    def forward(self, x):
        return self.fc(torch.relu(self.conv(x)).mean((2, 3)))


def write_classes(root, k, per_class, rng):
    for c in range(k):
        folder = root / f"class{c:04d}"
        folder.mkdir(parents=True)
        for j in range(per_class):
            Image.fromarray(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8), "RGB").save(folder / f"{j}.png")


def test_a_1000_class_matrix_equals_scikit_learn_on_an_independent_forward_pass(tmp_path):
    rng = np.random.default_rng(0)
    write_classes(tmp_path / "data", 1000, 2, rng)
    torch.manual_seed(0)
    model = ManyClassNet(1000).eval()
    torch.save(model.state_dict(), tmp_path / "w.pt")
    result = build_report(tmp_path / "w.pt", tmp_path / "data", tmp_path / "r.html", json_path=tmp_path / "r.json",
                          arch="test_many_classes:make_net", quiet=True, projection="pca", workers=0,
                          saliency_samples=8)
    report = json.loads(result.json_path.read_text())
    paths = sorted((tmp_path / "data").glob("*/*.png"))
    x = torch.stack([torch.from_numpy(np.asarray(Image.open(p), dtype=np.float32) / 255).permute(2, 0, 1)
                     for p in paths])
    with torch.no_grad():
        preds = model(x).argmax(1).numpy()
    labels = [int(p.parent.name.removeprefix("class")) for p in paths]
    (split,) = report["splits"].values()
    assert split["confusion_matrix"] == confusion_matrix(labels, preds, labels=range(1000)).tolist()
    assert result.html_path.stat().st_size < 8_000_000 and report["schema_version"] == 2


def make_net():
    """`--arch test_many_classes:make_net` for the 1,000-class test."""
    return ManyClassNet(1000)


def test_a_model_with_10000_outputs_still_writes_a_report(tmp_path):
    rng = np.random.default_rng(1)
    write_classes(tmp_path / "data", 40, 3, rng)
    names = [f"class{c:04d}" for c in range(10_000)]
    torch.manual_seed(0)
    model = ManyClassNet(10_000).eval()
    program = torch.export.export(model, (torch.zeros(2, 3, 8, 8),), dynamic_shapes=({0: torch.export.Dim("batch")},))
    torch.export.save(program, str(tmp_path / "m.pt2"))
    result = build_report(tmp_path / "m.pt2", tmp_path / "data", tmp_path / "r.html", json_path=tmp_path / "r.json",
                          classes=names, quiet=True, projection="pca", workers=0, saliency_samples=4)
    report = json.loads(result.json_path.read_text())
    (split,) = report["splits"].values()
    sparse = split["confusion_matrix_sparse"]
    assert sparse["shape"] == [10_000, 10_000] and sum(c for _, _, c in sparse["cells"]) == 120
    assert not report["section_errors"], report["section_errors"]
    assert result.html_path.stat().st_size < 6_000_000
