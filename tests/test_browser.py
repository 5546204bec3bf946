"""Real headless Chromium: the page opens offline and the projection's hover shows the sample's thumbnail."""

import json


def point_position(page, sample):
    """Client (x, y) of sample `sample` in the projection, from plotly's own axis mapping."""
    return page.evaluate("""(sample) => {
        const gd = document.getElementById('projection-plot');
        for (const trace of gd._fullData) {
            const k = trace.customdata.indexOf(sample);
            if (k < 0) continue;
            const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, box = gd.getBoundingClientRect();
            return [box.left + xa._offset + xa.l2p(trace.x[k]), box.top + ya._offset + ya.l2p(trace.y[k])];
        }
        return null;
    }""", sample)


def test_hover_shows_thumbnail_and_no_network(browser, demo_like_report):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    requests, errors = [], []
    page.on("request", lambda r: requests.append(r.url) if not r.url.startswith(("file:", "data:", "blob:")) else None)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(demo_like_report.html_path.as_uri())
    page.wait_for_selector("body[data-ready=true]")
    page.locator("#projection-plot").scroll_into_view_if_needed()
    report = json.loads(demo_like_report.json_path.read_text())
    sample = 7
    x, y = point_position(page, sample)
    page.mouse.move(x, y)
    card = page.locator("#hover-card")
    card.wait_for(state="visible", timeout=5000)
    src = card.locator("img").get_attribute("src")
    blob = json.loads(page.locator("#sample-data").text_content())
    assert src == f"data:{blob['thumb_mime']};base64,{blob['thumb'][sample]}"
    assert blob["path"][sample] in card.inner_text()
    assert report["n_samples"] == len(blob["thumb"])
    assert requests == [] and errors == []
    page.close()
