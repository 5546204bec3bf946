"""`reportgen index DIR`: every report under DIR in one page, read from its JSON twin or its page's embedded entry
(never an HTML body), with the diff of each report against the previous one on the same data."""

import builtins
import io
import json
import os
import shutil
from pathlib import Path

from bs4 import BeautifulSoup
from click.testing import CliRunner
from synthetic_reports import meta_page, synthetic_report, write_report

import reportgen
from reportgen.cli import cli
from reportgen.review.archive_index import index_entry, write_index
from reportgen.review.archive_reading import HEAD_BYTES, JSON_PEEK_BYTES, created_utc


def test_index_lists_every_report_with_its_numbers(demo_like_report, tmp_path):
    archive = tmp_path / "archive"
    for name in ("run-a", "nested/run-b"):
        (archive / name).mkdir(parents=True)
        shutil.copy(demo_like_report.html_path, archive / name / "report.html")
    (archive / "notes.html").write_text("<html><body>not a report</body></html>")
    result = CliRunner().invoke(cli, ["index", str(archive), "-o", str(archive / "index.html")])
    assert result.exit_code == 0, result.output
    assert "2 reports" in result.output
    report = json.loads(demo_like_report.json_path.read_text())
    soup = BeautifulSoup((archive / "index.html").read_text(), "html.parser")
    rows = soup.find("table", id="report-index").tbody.find_all("tr")
    assert sorted(r.find("a")["href"] for r in rows) == ["./nested/run-b/report.html", "./run-a/report.html"]
    cells = rows[0].find_all("td")
    assert cells[2]["data-value"] == report["model"]["sha256"]
    assert cells[3]["data-value"] == report["provenance"]["data_fingerprint"]
    assert float(cells[5]["data-value"]) == report["accuracy"]
    assert cells[0]["data-value"] == created_utc(report["provenance"]["created"])  # sorts across time zones
    # a second run over the same folder skips the index itself
    again = CliRunner().invoke(cli, ["index", str(archive), "-o", str(archive / "index.html")])
    assert "2 reports" in again.output


def test_index_of_a_missing_folder_is_one_line(tmp_path):
    result = CliRunner().invoke(cli, ["index", str(tmp_path / "nope"), "-o", str(tmp_path / "i.html")])
    assert result.exit_code == 2 and result.output.startswith("reportgen: error:")


class ReadCounter:
    """Counts the characters or bytes read from each file under `root` through open() (and pathlib, which uses
    io.open)."""

    def __init__(self, root: Path, monkeypatch):
        self.root, self.read, self.opened = str(root), {}, set()
        real = io.open

        def spy(file, *args, **kwargs):
            handle = real(file, *args, **kwargs)
            name = os.fspath(file) if isinstance(file, (str, os.PathLike)) else ""
            if not name.startswith(self.root):
                return handle
            self.opened.add(name)
            counter = self

            class Counted:
                def read(self, *a):
                    data = handle.read(*a)
                    counter.read[name] = counter.read.get(name, 0) + len(data)
                    return data

                def __enter__(self):
                    return self

                def __exit__(self, *exc):
                    handle.close()

                def __getattr__(self, attr):
                    return getattr(handle, attr)

            return Counted()

        monkeypatch.setattr(builtins, "open", spy)
        monkeypatch.setattr(io, "open", spy)


def test_index_reads_json_twins_and_never_an_html_body(tmp_path, monkeypatch):
    archive = tmp_path / "archive"
    stale = {"title": "stale, from the page", "created": "2020-01-01T00:00:00"}
    for i in range(3):
        report = synthetic_report(seed=i, created=f"2025-03-0{i + 1}T12:00:00+02:00", title=f"json {i}")
        write_report(report, archive / f"run-{i}", html_body=meta_page(stale, 1_000_000))
    only_page = index_entry(synthetic_report(seed=7, created="2025-04-01T00:00:00+00:00", title="page only"))
    (archive / "old").mkdir()
    (archive / "old" / "r.html").write_bytes(meta_page(only_page, 2_000_000))
    (archive / "annotations.json").write_text(json.dumps([{"box": [1, 2, 3, 4]}] * 50_000))
    (archive / "not-a-report.html").write_bytes(b"<html><body>" + b"x" * 500_000)
    counter = ReadCounter(archive, monkeypatch)
    rows = write_index(archive, tmp_path / "index.html")
    monkeypatch.undo()
    assert [r["title"] for r in rows] == ["page only", "json 2", "json 1", "json 0"]  # newest first
    assert rows[1]["created_utc"] == "2025-03-03 10:00:00" and rows[1]["json_href"] == "./archive/run-2/report.json"
    assert rows[1]["href"] == "./archive/run-2/report.html" and rows[0]["json_href"] is None
    for i in range(3):  # a page with its JSON twin is not opened at all
        assert str(archive / f"run-{i}" / "report.html") not in counter.opened
    assert 0 < counter.read[str(archive / "old" / "r.html")] <= HEAD_BYTES
    assert counter.read[str(archive / "not-a-report.html")] <= HEAD_BYTES
    assert counter.read[str(archive / "annotations.json")] <= JSON_PEEK_BYTES


def test_index_writes_the_diff_of_each_report_with_the_previous_on_the_same_data(tmp_path):
    archive = tmp_path / "archive"
    reports = [synthetic_report(seed=i, created=f"2025-05-{i + 1:02d}T00:00:00+00:00",
                                fingerprint="d1" if i % 2 else "d2") for i in range(5)]
    for i, report in enumerate(reports):
        write_report(report, archive / f"r{i}", html_body=b"<html></html>")
    result = CliRunner().invoke(cli, ["index", str(archive), "-o", str(archive / "index.html")])
    assert result.exit_code == 0 and "5 reports, 3 diffs" in result.output, result.output
    rows = {r["title"]: r for r in write_index(archive, archive / "index.html")}
    pairs = [(0, 2), (2, 4), (1, 3)]
    assert sorted(t for t, r in rows.items() if r["diff_previous"]) == ["run 2", "run 3", "run 4"]
    for a, b in pairs:
        href = rows[f"run {b}"]["diff_previous"]
        page = BeautifulSoup((archive / href).read_text(), "html.parser")
        expected = reportgen.diff_reports(reports[a], reports[b])["flips"]
        counts = " ".join(page.find(id="flip-counts").text.split())
        assert counts.startswith(f"{expected['n_fixed']} fixed (wrong in A, right in B), {expected['n_broken']} broken")
        assert [x["href"] for x in page.find(id="which").find_all("a")] == [f"./../r{a}/report.html",
                                                                           f"./../r{b}/report.html"]
    # the diffs folder and the index are the index's own: a rerun lists the same five reports
    assert len(write_index(archive, archive / "index.html")) == 5
    shutil.rmtree(archive / "index-diffs")
    assert not any(r["diff_previous"] for r in write_index(archive, archive / "index.html", diffs=False))
    assert not (archive / "index-diffs").exists()
