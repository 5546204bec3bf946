"""The static page as an explorer, driven in real headless Chromium: panel, neighbours, box select, CSV, cells."""

import csv
import io
import json

import pytest


@pytest.fixture()
def page(browser, demo_like_report):
    page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page.requests, page.errors = [], []
    page.on("request", lambda r: page.requests.append(r.url)
            if not r.url.startswith(("file:", "data:", "blob:")) else None)
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.goto(demo_like_report.html_path.as_uri())
    page.wait_for_selector("body[data-ready=true]")
    yield page
    assert page.requests == [] and page.errors == []
    page.close()


@pytest.fixture()
def report(demo_like_report):
    return json.loads(demo_like_report.json_path.read_text())


PIXELS = """() => {
    const gd = document.getElementById('projection-plot'), box = gd.getBoundingClientRect();
    const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, out = [];
    for (const t of gd._fullData) {
        if (t.name === 'highlighted') continue;
        t.customdata.forEach((i, k) => out.push([i, box.left + xa._offset + xa.l2p(t.x[k]),
                                                 box.top + ya._offset + ya.l2p(t.y[k])]));
    }
    return out;
}"""


def isolated_point(points):
    """The sample whose nearest other dot is farthest away, so a click can only mean that one."""
    def gap(p):
        return min((p[1] - q[1]) ** 2 + (p[2] - q[2]) ** 2 for q in points if q is not p)
    return max(points, key=gap)


def test_click_opens_panel_with_neighbours_matching_json(page, report):
    page.locator("#projection-plot").scroll_into_view_if_needed()
    sample, x, y = isolated_point(page.evaluate(PIXELS))
    page.mouse.move(x, y)
    page.locator("#hover-card").wait_for(state="visible")
    page.mouse.click(x, y)
    page.locator("#sample-panel").wait_for(state="visible")
    row = report["samples"][sample]
    assert page.locator("#panel-facts dd[data-fact=path]").inner_text() == row["path"]
    thumbs = page.locator("#panel-neighbours figure")
    assert thumbs.count() == 8
    indices = [int(thumbs.nth(n).get_attribute("data-index")) for n in range(8)]
    assert indices == row["neighbours"]
    captions = [thumbs.nth(n).locator("figcaption").inner_text().split(" · ")[0] for n in range(8)]
    assert captions == [f"{report['samples'][j]['label']} → {report['samples'][j]['prediction']}" for j in indices]
    # clicking a neighbour opens its panel
    thumbs.nth(0).click()
    assert page.locator("#panel-facts dd[data-fact=path]").inner_text() == report["samples"][indices[0]]["path"]
    # the label's and the prediction's centroid and the nearest others: at most 5 + 2 rows, never one per class
    bars = page.locator("#panel-centroids .bar span:first-child").all_inner_texts()
    shown = report["samples"][indices[0]]
    assert shown["label"] in bars and shown["prediction"] in bars and len(bars) == len(set(bars)) <= 7


def edge_in_gap(values, near):
    """A box edge midway in the widest gap between sorted pixel positions near index `near`: no dot sits on it."""
    window = range(max(1, near - 5), min(len(values), near + 6))
    k = max(window, key=lambda k: values[k] - values[k - 1])
    assert values[k] - values[k - 1] > 4
    return (values[k] + values[k - 1]) / 2


def test_box_selection_gallery_and_csv_equal_the_points_inside(page, report):
    page.locator("#projection-plot").scroll_into_view_if_needed()
    page.evaluate("Plotly.relayout('projection-plot', {dragmode: 'select'})")
    points = page.evaluate(PIXELS)
    xs, ys = sorted(p[1] for p in points), sorted(p[2] for p in points)
    x0, x1 = edge_in_gap(xs, len(xs) // 4), edge_in_gap(xs, 3 * len(xs) // 4)
    y0, y1 = edge_in_gap(ys, len(ys) // 5), edge_in_gap(ys, 4 * len(ys) // 5)
    inside = sorted(i for i, x, y in points if x0 < x < x1 and y0 < y < y1)
    assert 0 < len(inside) < len(points)
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move((x0 + x1) / 2, (y0 + y1) / 2, steps=5)
    page.mouse.move(x1, y1, steps=5)
    page.mouse.up()
    page.locator("#selection-panel").wait_for(state="visible")
    count = int(page.locator("#selection-summary [data-count]").get_attribute("data-count"))
    assert count == len(inside)
    shown = sorted(int(f.get_attribute("data-index")) for f in page.locator("#selection-gallery figure").all())
    assert shown == inside
    with page.expect_download() as download:
        page.locator("#selection-csv").click()
    rows = list(csv.DictReader(io.StringIO(open(download.value.path()).read())))
    assert list(rows[0]) == ["path", "x", "y", "label", "prediction", "loss"]
    by_path = {r["path"]: r for r in report["samples"]}
    assert sorted(r["path"] for r in rows) == sorted(report["samples"][i]["path"] for i in inside)
    for r in rows:
        assert float(r["x"]) == pytest.approx(by_path[r["path"]]["x"], abs=1e-3)
        assert r["label"] == by_path[r["path"]]["label"]


def test_confusion_cell_opens_exactly_that_cells_samples(page, report):
    matrix = report["splits"]["val"]["confusion_matrix"]
    t, p = max(((t, p) for t in range(3) for p in range(3)), key=lambda tp: matrix[tp[0]][tp[1]])
    page.locator(f"table.confusion[data-split=val] td[data-true='{t}'][data-pred='{p}']").click()
    page.locator("#selection-panel").wait_for(state="visible")
    shown = sorted(int(f.get_attribute("data-index")) for f in page.locator("#selection-gallery figure").all())
    expected = sorted(i for i, s in enumerate(report["samples"]) if s["split"] == "val"
                      and s["label"] == report["classes"][t] and s["prediction"] == report["classes"][p])
    assert shown == expected and len(shown) == matrix[t][p]


def test_search_finds_and_highlights_a_file(page, report):
    target = report["samples"][30]["path"]
    page.fill("#sample-search", target)
    page.press("#sample-search", "Enter")
    assert page.locator("#panel-facts dd[data-fact=path]").inner_text() == target
    highlighted = page.evaluate("document.getElementById('projection-plot')._fullData"
                                ".find(t => t.name === 'highlighted').customdata")
    assert highlighted == [30]


SAMPLE_COLOURS = """() => {
    const t = document.getElementById('projection-plot')._fullData.find((t) => t.name === 'samples');
    return {rows: t.customdata, colours: t.marker.color};
}"""


def test_colour_modes_legend_and_class_picker(page, report):
    labels = [report["classes"].index(s["label"]) for s in report["samples"]]
    correct = [s["label"] == s["prediction"] for s in report["samples"]]
    for mode, key in (("pred", None), ("correct", correct), ("loss", None), ("label", labels)):
        page.select_option("#projection-colour", mode)
        names = page.evaluate("document.getElementById('projection-plot')._fullData.map(t => t.name)")
        assert names == ["samples", "highlighted"]  # one trace of every sample, whatever the colouring
        if key is not None:
            drawn = page.evaluate(SAMPLE_COLOURS)
            by_key = {}
            for i, colour in zip(drawn["rows"], drawn["colours"]):
                by_key.setdefault(key[i], set()).add(colour)
            assert all(len(c) == 1 for c in by_key.values()) and len(by_key) == len(set(key))
    # a legend entry hides its class's points
    assert page.locator("#projection-legend .legend-item").count() == len(report["classes"])
    page.locator("#projection-legend .legend-item").first.click()
    rows = page.evaluate(SAMPLE_COLOURS)["rows"]
    assert sorted(rows) == [i for i, k in enumerate(labels) if k != 0]
    page.locator("#projection-legend .legend-item").first.click()
    # picking a class by name draws its samples on top in their colour and dims the rest
    page.fill("#class-picker", report["classes"][2])
    page.press("#class-picker", "Enter")
    picked = page.evaluate("document.getElementById('projection-plot')._fullData.find(t => t.name === 'picked').customdata")
    assert sorted(picked) == [i for i, k in enumerate(labels) if k == 2]
    assert page.evaluate(SAMPLE_COLOURS)["colours"] == "#d3d7de"
    page.locator("#class-picked button.picked").click()
    assert page.evaluate("document.getElementById('projection-plot')._fullData.map(t => t.name)") == ["samples", "highlighted"]


def test_panel_shows_the_samples_saliency_maps(page, report):
    chosen = report["saliency"]["samples"][0]["index"]
    page.evaluate("i => window.reportgen.showSample(i)", chosen)
    copy = page.locator("#panel-extra .saliency-sample")
    assert copy.count() == 1
    images = copy.locator("img")
    assert images.count() >= 5 and all(images.nth(k).get_attribute("src").startswith("data:image/")
                                       for k in range(images.count()))
    unchosen = next(i for i in range(report["n_samples"])
                    if i not in {s["index"] for s in report["saliency"]["samples"]})
    page.evaluate("i => window.reportgen.showSample(i)", unchosen)
    assert page.locator("#panel-extra .saliency-sample").count() == 0
