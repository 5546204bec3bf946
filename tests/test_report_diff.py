"""`reportgen diff A.json B.json`: every number equals a direct computation on the two files, different data
is said and narrowed to the shared samples, and the page escapes what the reports hold."""

import copy
import json

import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner
from scipy.stats import binomtest
from synthetic_reports import synthetic_report, write_report

import reportgen
from reportgen.cli import cli
from reportgen.compute.paired_tests import mcnemar_exact

FINDINGS_A = [{"id": "confusion/val/cat-dog", "subject": "pair:cat|dog", "severity": "high", "text": "cat and dog"},
              {"id": "recall/val/bird", "subject": "class:bird", "severity": "medium", "text": "bird recall low"},
              {"id": "shift/train", "subject": None, "severity": "low", "text": "train keeps to itself"}]
FINDINGS_B = [{"id": "confusion/val/cat-dog-2", "subject": "pair:cat|dog", "severity": "medium", "text": "still"},
              {"id": "shift/train", "subject": None, "severity": "low", "text": "train keeps to itself"},
              {"id": "mislabels/val", "subject": "mislabels", "severity": "high", "text": "<b>4</b> labels look wrong"}]


def pair(**b_changes):
    a = synthetic_report(seed=1, created="2025-01-01T10:00:00+00:00", accuracy=0.7, findings=FINDINGS_A)
    b = synthetic_report(seed=2, created="2025-01-02T10:00:00+00:00", accuracy=0.85, model_sha="b" * 64,
                         findings=FINDINGS_B, **b_changes)
    return a, b


def by_path(report):
    return {r["path"]: r for r in report["samples"]}


def test_diff_equals_a_direct_computation_on_the_two_files():
    a, b = pair()
    diff = reportgen.diff_reports(a, b)
    assert diff["same_data"] and diff["warnings"] == []
    for name in ("train", "val"):
        sa, sb = a["splits"][name], b["splits"][name]
        got = diff["splits"][name]
        assert got["accuracy"] == {"a": sa["accuracy"], "b": sb["accuracy"], "delta": sb["accuracy"] - sa["accuracy"]}
        assert got["mean_loss"]["delta"] == pytest.approx(sb["mean_loss"] - sa["mean_loss"])
        for c in a["classes"]:
            for m in ("precision", "recall", "f1"):
                assert diff["per_class"][name][c][m]["delta"] == pytest.approx(
                    sb["per_class"][c][m] - sa["per_class"][c][m])
    assert diff["headline"]["accuracy"]["delta"] == b["headline"]["accuracy"] - a["headline"]["accuracy"]

    ra, rb = by_path(a), by_path(b)
    fixed = {p for p in rb if ra[p]["label"] != ra[p]["prediction"] and rb[p]["label"] == rb[p]["prediction"]}
    broken = {p for p in rb if ra[p]["label"] == ra[p]["prediction"] and rb[p]["label"] != rb[p]["prediction"]}
    changed = {p for p in rb if ra[p]["label"] != ra[p]["prediction"] != rb[p]["prediction"] != rb[p]["label"]}
    assert {r["path"] for r in diff["flips"]["fixed"]} == fixed and diff["flips"]["n_fixed"] == len(fixed)
    assert {r["path"] for r in diff["flips"]["broken"]} == broken and diff["flips"]["n_broken"] == len(broken)
    assert {r["path"] for r in diff["flips"]["changed"]} == changed
    row = diff["flips"]["broken"][0]
    assert (row["prediction_a"], row["prediction_b"], row["loss_b"]) == (
        ra[row["path"]]["prediction"], rb[row["path"]]["prediction"], rb[row["path"]]["loss"])
    # broken samples come largest loss rise first
    rises = [r["loss_b"] - r["loss_a"] for r in diff["flips"]["broken"]]
    assert rises == sorted(rises, reverse=True)
    right_a = sum(r["label"] == r["prediction"] for r in a["samples"])
    assert diff["shared_accuracy"]["all"]["delta"] == pytest.approx(
        (right_a + len(fixed) - len(broken)) / len(rb) - right_a / len(ra))

    # findings: the cat/dog pair is the same subject under another id; shift matches by id
    assert [f["id"] for f in diff["findings"]["new"]] == ["mislabels/val"]
    assert [f["id"] for f in diff["findings"]["resolved"]] == ["recall/val/bird"]
    assert [(k["a"]["id"], k["b"]["id"]) for k in diff["findings"]["kept"]] == [
        ("confusion/val/cat-dog", "confusion/val/cat-dog-2"), ("shift/train", "shift/train")]

    # classes worse beyond noise, on val's shared samples: McNemar on each class's flips
    for r in diff["worse_classes"]["rows"]:
        nb = sum(1 for p in broken if rb[p]["split"] == "val" and rb[p]["label"] == r["class"])
        nf = sum(1 for p in fixed if rb[p]["split"] == "val" and rb[p]["label"] == r["class"])
        assert (r["broken"], r["fixed"], r["p"]) == (nb, nf, mcnemar_exact(nb, nf)) and r["p"] < 0.05


def test_a_class_broken_eight_times_is_worse_beyond_noise():
    a, _ = pair()
    c = copy.deepcopy(a)
    right_cats = [r for r in c["samples"] if r["split"] == "val" and r["label"] == r["prediction"] == "cat"][:8]
    for row in right_cats:
        row["prediction"] = "dog"
    worse = reportgen.diff_reports(a, c)["worse_classes"]
    assert len(right_cats) == 8 and worse["split"] == "val" and worse["tested"] == 3
    [row] = worse["rows"]
    n_cat = sum(r["split"] == "val" and r["label"] == "cat" for r in a["samples"])
    right = sum(r["split"] == "val" and r["label"] == r["prediction"] == "cat" for r in a["samples"])
    assert row == {"class": "cat", "support": n_cat, "right_baseline": right, "right_new": right - 8, "broken": 8,
                   "fixed": 0, "p": binomtest(8, 8).pvalue, "q": pytest.approx(min(1, 3 * binomtest(8, 8).pvalue))}


def test_diff_over_different_data_compares_only_the_shared_samples():
    a, b = pair(fingerprint="e" * 16, drop=3, extra=2)
    diff = reportgen.diff_reports(a, b)
    shared = set(by_path(a)) & set(by_path(b))
    assert diff["samples"] == {"a": 72, "b": 69, "shared": len(shared), "only_a": 72 - len(shared),
                               "only_b": 69 - len(shared), "duplicate_paths": {"a": 0, "b": 0}, "relabelled": 0}
    assert len(shared) == 72 - 9 and not diff["same_data"]
    assert "different data" in diff["warnings"][0] and f"{len(shared)} samples both hold" in diff["warnings"][0]
    flipped = {r["path"] for kind in ("fixed", "broken", "changed") for r in diff["flips"][kind]}
    assert flipped <= shared
    val = [p for p in shared if p.startswith("val/")]
    ra, rb = by_path(a), by_path(b)
    assert diff["shared_accuracy"]["val"]["n"] == len(val)
    for side, rows in (("a", ra), ("b", rb)):
        assert diff["shared_accuracy"]["val"][side] == pytest.approx(
            sum(rows[p]["label"] == rows[p]["prediction"] for p in val) / len(val))

    # B breaks every shared val cat that A got right, and gets its own new cats right: the class test counts
    # only the shared ones
    cats = [p for p in val if rb[p]["label"] == "cat"]
    for p in cats:
        rb[p]["prediction"] = "dog" if ra[p]["label"] == ra[p]["prediction"] else ra[p]["prediction"]
    for row in b["samples"]:
        if row["split"] == "val" and row["label"] == "cat" and row["path"] not in ra:
            row["prediction"] = "cat"
    [row] = [r for r in reportgen.diff_reports(a, b)["worse_classes"]["rows"] if r["class"] == "cat"]
    right_a = sum(ra[p]["label"] == ra[p]["prediction"] for p in cats)
    assert (row["support"], row["right_baseline"], row["right_new"], row["broken"], row["fixed"]) == (
        len(cats), right_a, 0, right_a, 0)


def test_diff_command_writes_the_page_and_json(tmp_path):
    a, b = pair()
    b["title"] = "<script>alert(1)</script>"
    b["classes"] = a["classes"]
    write_report(a, tmp_path / "a", html_body=b"<html></html>")
    write_report(b, tmp_path / "b")
    out, js = tmp_path / "out" / "diff.html", tmp_path / "out" / "diff.json"
    result = CliRunner().invoke(cli, ["diff", str(tmp_path / "a" / "report.html"), str(tmp_path / "b" / "report.json"),
                                      "-o", str(out), "--json", str(js)])
    assert result.exit_code == 0, result.output
    saved = json.loads(js.read_text())
    assert saved == json.loads(json.dumps(reportgen.diff_reports(a, b)))
    assert f"{saved['flips']['n_fixed']} fixed" in result.output
    soup = BeautifulSoup(out.read_text(), "html.parser")
    assert soup.find("meta", attrs={"http-equiv": "Content-Security-Policy"})["content"].startswith("default-src 'none'")
    assert not soup.find_all("script", src=True) and not soup.find_all("link")
    assert [s.string for s in soup.find_all("script") if "alert(1)" in (s.string or "")] == []
    assert "<script>alert(1)</script>" in soup.title.string  # shown as text
    links = [a["href"] for a in soup.find("table", id="which").find_all("a")]
    assert links == ["./../a/report.html", "./../b/report.json"]
    rows = soup.find("table", id="split-changes").tbody.find_all("tr")
    assert [r["data-split"] for r in rows] == ["val", "train"]
    assert len(soup.select("#flips-broken tbody tr")) == saved["flips"]["n_broken"]
    assert soup.select_one("#findings-new td:nth-of-type(2)").text == "<b>4</b> labels look wrong"
    # a second run replaces its own files; a file that isn't ours is refused
    again = CliRunner().invoke(cli, ["diff", str(tmp_path / "a" / "report.json"), str(tmp_path / "b" / "report.json"),
                                     "-o", str(out), "--json", str(js)])
    assert again.exit_code == 0, again.output
    (tmp_path / "mine.html").write_text("<p>my notes</p>")
    refused = CliRunner().invoke(cli, ["diff", str(tmp_path / "a" / "report.json"), str(tmp_path / "b" / "report.json"),
                                       "-o", str(tmp_path / "mine.html")])
    assert refused.exit_code == 2 and "not overwritten" in refused.output
    assert (tmp_path / "mine.html").read_text() == "<p>my notes</p>"


def test_diff_of_a_file_that_is_not_a_report_is_one_line(tmp_path):
    (tmp_path / "x.json").write_text('{"hello": 1}')
    result = CliRunner().invoke(cli, ["diff", str(tmp_path / "x.json"), str(tmp_path / "x.json"), "-o",
                                      str(tmp_path / "d.html")])
    assert result.exit_code == 2 and result.output.startswith("reportgen: error:") and "not a reportgen" in result.output
