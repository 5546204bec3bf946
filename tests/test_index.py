"""`reportgen index DIR`: every report under DIR in one sortable page, read from each page's embedded entry."""

import json
import shutil

from bs4 import BeautifulSoup
from click.testing import CliRunner

from reportgen.cli import cli


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
    assert cells[0]["data-value"] == report["provenance"]["created"]
    # a second run over the same folder skips the index itself
    again = CliRunner().invoke(cli, ["index", str(archive), "-o", str(archive / "index.html")])
    assert "2 reports" in again.output


def test_index_of_a_missing_folder_is_one_line(tmp_path):
    result = CliRunner().invoke(cli, ["index", str(tmp_path / "nope"), "-o", str(tmp_path / "i.html")])
    assert result.exit_code == 2 and result.output.startswith("reportgen: error:")
