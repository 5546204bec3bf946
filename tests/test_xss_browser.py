"""File and class names carrying HTML or script never execute: real Chromium, listening for dialogs."""

import shutil

from reportgen import build_report

XSS_CLASS = "<img src=x onerror=alert(1)>"
XSS_FILE = "<svg onload=alert(2)>\"'&.png"


def test_hostile_names_never_execute(browser, model_files, image_tree, tmp_path):
    tree = tmp_path / "data"
    shutil.copytree(image_tree / "val", tree)
    (tree / "ring").rename(tree / XSS_CLASS)
    for p in sorted((tree / "dot").iterdir())[:3]:
        p.rename(p.with_name(f"{p.stem}{XSS_FILE}"))
    result = build_report(model_files["pt2"], tree, tmp_path / "r.html", json_path=tmp_path / "r.json", quiet=True,
                          projection="pca", workers=0, saliency_samples=10)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    dialogs, errors = [], []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("console", lambda m: errors.append(m.text) if m.type in ("error", "warning") and "GPU stall" not in m.text
            and "GL Driver" not in m.text else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(result.html_path.as_uri())
    page.wait_for_selector("body[data-ready=true]")
    n = result.report["n_samples"]
    hostile = [i for i, s in enumerate(result.report["samples"]) if "<" in s["path"]]
    assert len(hostile) == 3 + 8  # 3 renamed files + every file of the renamed class
    for i in hostile[:6]:
        page.evaluate("i => window.reportgen.showSample(i)", i)
        assert page.locator("#panel-facts dd[data-fact=path]").inner_text() == result.report["samples"][i]["path"]
    page.evaluate("n => window.reportgen.showSelection('all', [...Array(n).keys()])", n)
    page.locator("#projection-plot").scroll_into_view_if_needed()
    box = page.locator("#projection-plot").bounding_box()
    for fx in (0.3, 0.5, 0.7):  # hover across the plot so hover cards render hostile names
        page.mouse.move(box["x"] + box["width"] * fx, box["y"] + box["height"] * 0.5, steps=8)
    page.fill("#sample-search", "svg")
    page.press("#sample-search", "Enter")
    page.locator("table.confusion td[data-true]").first.click()
    page.wait_for_timeout(300)
    assert dialogs == [] and errors == []
    assert page.evaluate("document.querySelectorAll('svg[onload], img[onerror]').length") == 0
    page.close()
