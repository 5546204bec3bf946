"""Real headless Chromium: the comparison and training-curve figures draw, and the archive index sorts."""

from reportgen import build_report
from reportgen.review.archive_index import write_index

HISTORY = "epoch,train_loss,val_loss,val_accuracy\n1,2.0,2.2,0.40\n2,1.1,1.3,0.70\n3,0.6,0.9,0.85\n"
TARGETS = ("history-loss-plot", "history-accuracy-plot", "baseline-projection-baseline", "baseline-projection-new")


def test_review_figures_draw_and_the_index_sorts(browser, model_files, image_tree, tmp_path):
    (tmp_path / "history.csv").write_text(HISTORY)
    result = build_report(model_files["pt2"], image_tree / "val", tmp_path / "a" / "r.html", quiet=True,
                          projection="pca", workers=0, saliency_samples=0, history=tmp_path / "history.csv",
                          baseline=model_files["script"])
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(result.html_path.as_uri())
    page.wait_for_selector("body[data-ready=true]")
    for target in TARGETS:
        page.locator(f"#{target}").scroll_into_view_if_needed()
        page.wait_for_selector(f"#{target}.js-plotly-plot", timeout=10000)
    assert page.evaluate("document.getElementById('history-loss-plot')._fullData.length") == 2
    assert errors == []

    build_report(model_files["pt2"], image_tree / "train", tmp_path / "b" / "r.html", quiet=True,
                 projection="pca", workers=0, saliency_samples=0)
    write_index(tmp_path, tmp_path / "index.html")
    page.goto((tmp_path / "index.html").as_uri())
    accuracy = "#report-index thead th:nth-child(6)"
    samples = "#report-index tbody td:nth-child(5)"
    page.click("#report-index thead th:nth-child(5)")
    ascending = page.eval_on_selector_all(samples, "cells => cells.map((c) => Number(c.dataset.value))")
    assert ascending == sorted(ascending) and len(ascending) == 2
    page.click("#report-index thead th:nth-child(5)")
    assert page.eval_on_selector_all(samples, "cells => cells.map((c) => Number(c.dataset.value))") == ascending[::-1]
    assert page.get_attribute(accuracy, "aria-sort") is None
    page.close()
    assert errors == []
