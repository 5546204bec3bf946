"""Real headless Chromium: templates/analysis_views.js draws every analysis figure, colours a class the same in
the raw and the model projection, shows the hover card, opens the sample panel on click, and escapes names."""


FIGURE_TARGETS = ("loss-vs-pixel-plot", "loss-vs-embedding-plot", "raw-vs-model-raw-plot", "raw-vs-model-model-plot",
                  "train-vs-val-accuracy-plot", "train-vs-val-loss-plot", "train-vs-val-projection-plot")


def open_report(browser, html_path):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(html_path.as_uri())
    page.wait_for_selector("body[data-ready=true]")
    # report.html inlines analysis_views.js: the figures' script must be in the page itself
    assert page.evaluate("[...document.scripts].some((s) => (s.textContent || '').includes('rg-figure') && !s.type)")
    return page, errors


def draw_all(page):
    for target in FIGURE_TARGETS:
        page.locator(f"#{target}").scroll_into_view_if_needed()
        page.wait_for_selector(f"#{target}.js-plotly-plot", timeout=10000)


def point_position(page, target, sample):
    return page.evaluate("""([target, sample]) => {
        const gd = document.getElementById(target);
        for (const trace of gd._fullData) {
            const k = (trace.customdata || []).indexOf(sample);
            if (k < 0) continue;
            const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, box = gd.getBoundingClientRect();
            return [box.left + xa._offset + xa.l2p(trace.x[k]), box.top + ya._offset + ya.l2p(trace.y[k])];
        }
        return null;
    }""", [target, sample])


def test_figures_draw_with_shared_class_colours_hover_and_click(browser, demo_like_report):
    page, errors = open_report(browser, demo_like_report.html_path)
    draw_all(page)
    # one trace per figure; each point's colour is its class's, the same in both pictures
    colours = page.evaluate("""() => ['raw-vs-model-raw-plot', 'raw-vs-model-model-plot'].map((id) => {
        const traces = document.getElementById(id)._fullData;
        return traces.length === 1 ? Object.fromEntries(traces[0].customdata.map((i, k) => [i, traces[0].marker.color[k]])) : null;
    })""")
    labels = page.evaluate("JSON.parse(document.getElementById('sample-data').textContent).label")
    assert colours[0] is not None and colours[0] == colours[1]
    by_class = {}
    for i, colour in colours[0].items():
        by_class.setdefault(labels[int(i)], set()).add(colour)
    assert all(len(c) == 1 for c in by_class.values()) and len({c.pop() for c in by_class.values()}) == 3
    legend = page.locator("#raw-vs-model-raw-plot + .legend .legend-item")
    assert legend.count() == 3
    sample = 5
    page.locator("#raw-vs-model-model-plot").scroll_into_view_if_needed()
    x, y = point_position(page, "raw-vs-model-model-plot", sample)
    page.mouse.move(x, y)
    card = page.locator("#hover-card")
    card.wait_for(state="visible", timeout=5000)
    path = page.evaluate("(i) => JSON.parse(document.getElementById('sample-data').textContent).path[i]", sample)
    assert path in card.inner_text()
    assert page.evaluate("!!(window.reportgen && window.reportgen.showSample)")
    page.mouse.click(x, y)
    page.wait_for_selector("#drawer:not([hidden])", timeout=5000)
    assert path in page.locator("#drawer").inner_text()
    assert errors == []
    page.close()


def test_class_names_reach_plotly_as_text(browser, model_files, image_tree, tmp_path):
    import shutil

    from reportgen import build_report

    xss = "<img src=x onerror=window.pwned=1>"
    tree = tmp_path / "data"
    shutil.copytree(image_tree, tree)
    for split in ("train", "val"):
        (tree / split / "ring").rename(tree / split / xss)
    result = build_report(model_files["pt2"], tree, tmp_path / "r.html", quiet=True, projection="pca", workers=0)
    page, errors = open_report(browser, result.html_path)
    draw_all(page)
    legend = page.locator("#loss-vs-pixel-plot + .legend").inner_text()
    assert xss in legend  # the class legend under the figure: text, not markup
    labels = page.locator("#loss-vs-pixel-plot .textpoint").all_text_contents()
    assert xss in labels  # the class averages' labels inside Plotly: escaped, shown as text
    assert page.evaluate("window.pwned === undefined")
    assert page.locator("#loss-vs-pixel-plot img, #train-vs-val-accuracy-plot img").count() == 0
    assert errors == []
    page.close()


def test_show_all_opens_a_whole_mode_in_the_selection_gallery(browser, tmp_path):
    from test_subpopulations import two_mode_collected

    from reportgen.analyses import sample_explorer, subpopulations
    from reportgen.compute.neighbours import nearest_neighbours
    from reportgen.compute.projection import project
    from reportgen.render.page import render_html
    from reportgen.render.sample_payload import sample_payload

    collected = two_mode_collected()
    from reportgen.analyses.runner import run_all

    inputs = {"projection": project(collected.embeddings, "pca"), "seed": 0,
              "neighbours": nearest_neighbours(collected.embeddings, 15)}
    sections = run_all(collected, inputs, modules=[sample_explorer, subpopulations], quiet=True).sections
    html = tmp_path / "page.html"
    html.write_text(render_html(sections, title="t", samples=sample_payload(collected), meta={"version": "test"}),
                    encoding="utf-8")
    page, errors = open_report(browser, html)
    assert page.evaluate("!!(window.reportgen && window.reportgen.showSelection)")
    mode = sections[1].result.modes[0]
    page.locator("#subpopulations button.rg-show-selection").first.click()
    page.wait_for_selector("#drawer:not([hidden])", timeout=5000)
    assert f"{mode.size} samples" in page.locator("#drawer").inner_text()
    assert errors == []
    page.close()
