"""The page, parsed (not grepped): structure, self-containment, escaping."""

import json
import shutil

from bs4 import BeautifulSoup

from reportgen import build_report
from reportgen.analyses import REGISTRY
from reportgen.render.page import template_dir

XSS = "<img src=x onerror=alert(1)>"


def parse(path):
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def test_one_plotly_library_and_no_external_urls(demo_like_report):
    soup = parse(demo_like_report.html_path)
    scripts = soup.find_all("script")
    assert sum("plotly.js (gl2d - minified) v" in (s.string or "")[:2000] for s in scripts) == 1
    assert all(not s.get("src") for s in scripts)
    for tag in soup.find_all(True):
        for attr in ("src", "href", "action", "data", "poster"):
            value = tag.get(attr)
            if value:
                assert not value.lower().startswith(("http:", "https:", "//")), (tag.name, value[:80])
    csp = soup.find("meta", attrs={"http-equiv": "Content-Security-Policy"})["content"]
    assert "default-src 'none'" in csp and "connect-src 'none'" in csp and "http" not in csp


def test_every_registered_section_has_its_partial_and_every_shown_one_rendered(demo_like_report):
    soup = parse(demo_like_report.html_path)
    optional = {"notes", "training-curves", "baseline", "class-groups"}  # only with --notes, --history, ...
    for module in REGISTRY:
        assert (template_dir() / module.TEMPLATE).exists(), module.ID  # a missing partial fails here, not for a user
        section = soup.find("section", id=module.ID)
        assert (section is None) == (module.ID in optional), module.ID
        if section is not None:
            assert section.find(class_="error-box") is None, section.get_text()[:500]


def test_confusion_table_rows_are_true_class(demo_like_report):
    soup = parse(demo_like_report.html_path)
    report = json.loads(demo_like_report.json_path.read_text())
    table = soup.find("table", class_="confusion", attrs={"data-split": "val"})
    assert "rows: true class" in table.caption.get_text()
    rows = [[int(td.get_text()) for td in tr.find_all("td")] for tr in table.tbody.find_all("tr")]
    assert rows == report["splits"]["val"]["confusion_matrix"]


def test_hardest_gallery_matches_json(demo_like_report):
    soup = parse(demo_like_report.html_path)
    report = json.loads(demo_like_report.json_path.read_text())
    # the evaluation split (val) open first; train waits in a fold
    assert soup.select_one("#hardest h3").get_text() == "val"
    figures = soup.select("#hardest .gallery")[0].find_all("figure")
    assert [f.find(class_="path").get_text() for f in figures] == [h["path"] for h in report["splits"]["val"]["hardest"]]
    assert all(f.img["src"].startswith("data:image/") for f in figures)
    assert all(" → pred " in f.figcaption.get_text() and f["title"] for f in figures)
    assert "train" in soup.select_one("#hardest details > summary").get_text()


def test_html_in_class_and_file_names_is_escaped(model_files, image_tree, tmp_path):
    tree = tmp_path / "data"
    shutil.copytree(image_tree / "val", tree)
    (tree / "ring").rename(tree / XSS)
    first = min((tree / "dot").iterdir())
    first.rename(first.with_name(f"{XSS}.png"))
    result = build_report(model_files["pt2"], tree, tmp_path / "r.html", json_path=tmp_path / "r.json",
                          quiet=True, projection="pca", workers=0)
    soup = parse(result.html_path)
    assert soup.find("img", src="x") is None and not soup.find_all(attrs={"onerror": True})
    assert XSS in soup.find(id="summary").get_text()
    # the sample data blob is JSON inside a script tag: '<' is escaped so it can't close the tag
    raw = result.html_path.read_text()
    assert "<img src=x" not in raw
    blob = json.loads(soup.find("script", id="sample-data").string)
    assert XSS in blob["classes"] and any(XSS in p for p in blob["path"])


def test_provenance_reads_as_words_not_python_reprs(demo_like_report):
    """Nested settings (the forward's form, the core split) show as "key value" pairs, not dict reprs with quotes
    and braces; None and empty ones read "none"."""
    from reportgen.render.page import plain_value

    cells = {row.th.get_text(): row.td.get_text() for row in parse(demo_like_report.html_path).select("#provenance tr")}
    assert "forward form" in cells and "seed" in cells
    for key, text in cells.items():
        assert not any(mark in text for mark in ("{", "'", "None")), (key, text)
    assert plain_value({"chosen": 8, "ms_per_image": {"4": 12.2, "8": 11.4}, "note": None, "sizes": [1, 2],
                        "empty": {}}) == "chosen 8, ms_per_image (4 12.2, 8 11.4), note none, sizes [1, 2], empty none"
    assert plain_value([1, 2]) == "1, 2" and plain_value(None) == "none" and plain_value(0.5) == "0.5"
