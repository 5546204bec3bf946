"""The archive index over 30 report.json files in real headless Chromium: the trend chart holds every report in
creation order, the filters narrow rows and points together, and two ticked reports compare."""

import random

import pytest
from synthetic_reports import synthetic_report, write_report

from reportgen.review.archive_index import write_index

N = 30
MODELS = ["1" * 64, "2" * 64, "3" * 64]
DATA = ["fp-one", "fp-two"]


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    """30 reports: creation times a day apart, written in shuffled order, with three models and two data sets;
    accuracy rises with time so the chart's order is visible in its values. One title is hostile markup."""
    root = tmp_path_factory.mktemp("archive")
    order = list(range(N))
    random.Random(0).shuffle(order)
    reports = {}
    for i in order:
        report = synthetic_report(seed=i, created=f"2025-06-{i + 1:02d}T09:00:00+02:00", model_sha=MODELS[i % 3],
                                  fingerprint=DATA[i % 2], accuracy=0.4 + 0.015 * i, per_class=6,
                                  title="<img src=x onerror=alert(1)>" if i == 7 else f"experiment {i:02d}",
                                  findings=[{"id": f"f{j}", "subject": f"s{j}", "severity": "high", "text": "x"}
                                            for j in range(i % 4)])
        write_report(report, root / f"exp-{i:02d}", html_body=b"<html></html>")
        reports[i] = report
    rows = write_index(root, root / "index.html")
    return root, reports, rows


def open_index(browser, root):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
    page.on("request", lambda r: problems.append(f"request: {r.url}") if not r.url.startswith(("file:", "data:")) else None)
    page.goto((root / "index.html").as_uri())
    page.wait_for_selector("body[data-ready=true]")
    page.wait_for_selector("#chart-accuracy.js-plotly-plot")
    return page, problems


def trace(page, chart, n=0):
    return page.evaluate(f"(() => {{ const t = document.getElementById('chart-{chart}').data[{n}]; "
                         "return {x: t.x, y: t.y, ids: t.customdata, name: t.name}; })()")


def visible_rows(page):
    return page.eval_on_selector_all("#report-index tbody tr:not([hidden])", "rows => rows.map((r) => r.dataset.id)")


def test_trend_chart_holds_every_report_in_creation_order(browser, archive):
    root, reports, rows = archive
    page, problems = open_index(browser, root)
    by_time = [reports[i] for i in range(N)]
    accuracy = trace(page, "accuracy")
    assert accuracy["name"] == "evaluation split" and len(accuracy["y"]) == N
    assert accuracy["y"] == pytest.approx([r["headline"]["accuracy"] for r in by_time])
    assert accuracy["x"] == [f"2025-06-{i + 1:02d} 07:00:00" for i in range(N)]  # UTC
    assert page.evaluate("document.getElementById('chart-accuracy')._fullLayout.xaxis.type") == "date"
    train = trace(page, "accuracy", 1)
    assert train["name"] == "train" and train["y"] == pytest.approx([r["splits"]["train"]["accuracy"] for r in by_time])
    assert trace(page, "mean_loss")["y"] == pytest.approx([r["headline"]["mean_loss"] for r in by_time])
    assert trace(page, "findings")["y"] == [i % 4 for i in range(N)]
    assert page.locator("#chart-accuracy .scatterlayer .point").count() == 2 * N  # drawn, not just data
    # another order: reports by title, plotted 1..N
    page.select_option("#order", "title")
    titled = trace(page, "accuracy")
    assert titled["x"] == list(range(1, N + 1))
    order = sorted(range(N), key=lambda i: reports[i]["title"])
    assert titled["y"] == pytest.approx([reports[i]["headline"]["accuracy"] for i in order])
    # a hostile title stays text: in the table and in hover text
    assert page.locator("#report-index td", has_text="<img src=x onerror=alert(1)>").count() == 1
    hover = page.evaluate("document.getElementById('chart-accuracy').data[0].hovertext")
    assert "&lt;img src=x onerror=alert(1)&gt;<br>" in "".join(hover)
    assert problems == []
    page.close()


def test_filters_narrow_rows_and_points_together(browser, archive):
    root, reports, rows = archive
    page, problems = open_index(browser, root)
    assert len(visible_rows(page)) == N
    page.select_option("#filter-data", DATA[1])
    odd = [i for i in range(N) if i % 2]
    assert len(visible_rows(page)) == len(odd) == 15
    assert page.inner_text("#shown-count") == "15"
    assert trace(page, "accuracy")["y"] == pytest.approx([reports[i]["headline"]["accuracy"] for i in odd])
    page.select_option("#filter-model", MODELS[0])
    both = [i for i in odd if i % 3 == 0]
    ids = {r["title"]: r["id"] for r in rows}
    assert sorted(visible_rows(page)) == sorted(ids[reports[i]["title"]] for i in both)
    assert trace(page, "accuracy")["ids"] == [ids[reports[i]["title"]] for i in both]
    page.select_option("#filter-data", "")
    page.select_option("#filter-model", "")
    assert len(visible_rows(page)) == N and len(trace(page, "accuracy")["y"]) == N
    # a chart switched off is hidden; on again, drawn
    page.uncheck(".metric-toggle[value=mean_loss]")
    assert page.is_hidden("#chart-mean_loss")
    page.check(".metric-toggle[value=n_samples]")
    assert len(trace(page, "n_samples")["y"]) == N
    assert problems == []
    page.close()


def test_two_picks_compare_with_the_diff_page_or_the_command(browser, archive):
    root, reports, rows = archive
    page, problems = open_index(browser, root)
    ids = {r["title"]: r for r in rows}
    newer, older = ids["experiment 12"], ids["experiment 10"]  # consecutive on the same data: a diff page exists
    page.check(f".compare-pick[value='{newer['id']}']")
    assert page.is_hidden("#compare-panel")
    page.check(f".compare-pick[value='{older['id']}']")
    cells = page.eval_on_selector_all("#compare-table tr", "rows => rows.map((r) => r.innerText.split('\\t'))")
    assert cells[1][1:3] == ["experiment 10", "experiment 12"]  # A is the older
    a, b = reports[10]["headline"]["accuracy"], reports[12]["headline"]["accuracy"]
    assert cells[3][3] == f"{100 * (b - a):+.1f} pp"
    link = page.get_attribute("#compare-diff-link", "href")
    assert link == newer["diff_previous"] and (root / link).is_file()
    # a third pick replaces the oldest; a pair with no diff page gets the command
    page.check(f".compare-pick[value='{ids['experiment 03']['id']}']")
    assert not page.is_checked(f".compare-pick[value='{newer['id']}']")
    command = page.inner_text("#compare-command")
    assert command == "reportgen diff exp-03/report.json exp-10/report.json -o diff.html"
    assert "different data" in page.inner_text("#compare-panel")
    page.goto((root / link).as_uri())
    assert page.inner_text("h1") == "reportgen diff: experiment 10 → experiment 12"
    assert problems == []
    page.close()
