"""The page reads well in a real browser: every nav link lands its heading below the sticky header, and a clicked
dot is marked and stays in view beside the drawer that describes it."""

import pytest


@pytest.fixture()
def page(browser, demo_like_report):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.goto(demo_like_report.html_path.as_uri())
    page.wait_for_selector("body[data-ready=true]")
    yield page
    assert page.errors == []
    page.close()


def test_every_nav_link_lands_its_heading_below_the_header(page):
    links = page.locator("header nav a")
    assert links.count() >= 10
    for n in range(links.count()):
        target = links.nth(n).get_attribute("href")
        links.nth(n).click()
        page.wait_for_timeout(50)
        header = page.evaluate("document.querySelector('header.top').getBoundingClientRect().bottom")
        heading = page.evaluate(f"document.querySelector('{target} h2').getBoundingClientRect().top")
        assert header <= heading < 900, (target, header, heading)


def dot_on_screen(page, index):
    return page.evaluate("""(i) => {
        const gd = document.getElementById('projection-plot'), box = gd.getBoundingClientRect();
        const t = gd._fullData.find((d) => d.name === 'samples'), k = t.customdata.indexOf(i);
        return [box.left + gd._fullLayout.xaxis._offset + gd._fullLayout.xaxis.l2p(t.x[k]),
                box.top + gd._fullLayout.yaxis._offset + gd._fullLayout.yaxis.l2p(t.y[k])];
    }""", index)


def test_a_clicked_dot_is_marked_and_the_drawer_does_not_cover_it(page):
    page.locator("#projection-plot").scroll_into_view_if_needed()
    points = page.evaluate("""() => {
        const gd = document.getElementById('projection-plot'), t = gd._fullData.find((d) => d.name === 'samples');
        return t.customdata;
    }""")
    # the dot farthest to the right: the one a right-hand drawer would cover
    index = max(points, key=lambda i: dot_on_screen(page, i)[0])
    x, y = dot_on_screen(page, index)
    page.mouse.click(x, y)
    page.locator("#sample-panel").wait_for(state="visible")
    page.wait_for_timeout(300)  # the plot re-lays itself out beside the drawer
    marked = page.evaluate("document.getElementById('projection-plot')._fullData"
                           ".find((d) => d.name === 'highlighted').customdata")
    assert marked == [index]
    drawer = page.locator("#drawer").bounding_box()
    x, y = dot_on_screen(page, index)
    assert x < drawer["x"] - 5, (x, drawer)  # the dot is left of the drawer, not under it
    plot = page.locator("#projection-plot").bounding_box()
    assert plot["x"] + plot["width"] <= drawer["x"] + 1  # and so is the whole plot
