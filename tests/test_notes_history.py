"""--notes (markdown, rendered without raw HTML) and --history (training curves from CSV, JSON, TensorBoard)."""

import json
import struct

import pytest
from bs4 import BeautifulSoup

from reportgen import build_report
from reportgen.errors import ReportgenError
from reportgen.training_history import load_history

NOTES = """# What I think

The **ring** class is <script>window.pwned = 1</script> under-sampled.
<img src=x onerror=alert(1)>

[bad link](javascript:alert(1)) and [good link](#confusion).
"""
HISTORY = "epoch,train_loss,val_loss,val_accuracy\n1,2.0,2.2,0.40\n2,1.1,1.3,0.70\n3,0.6,0.9,0.85\n"


@pytest.fixture(scope="module")
def noted_report(tmp_path_factory, model_files, image_tree):
    folder = tmp_path_factory.mktemp("noted")
    (folder / "notes.md").write_text(NOTES)
    (folder / "history.csv").write_text(HISTORY)
    return build_report(model_files["pt2"], image_tree / "val", folder / "r.html", json_path=folder / "r.json",
                        quiet=True, projection="pca", workers=0, saliency_samples=0,
                        notes=folder / "notes.md", history=folder / "history.csv")


def test_notes_render_markdown_and_never_raw_html(noted_report):
    soup = BeautifulSoup(noted_report.html_path.read_text(), "html.parser")
    notes = soup.find("section", id="notes")
    assert notes.find("h1").get_text() == "What I think" and notes.find("strong").get_text() == "ring"
    assert notes.find("script") is None and notes.find("img") is None
    assert not notes.find_all(attrs={"onerror": True})
    assert "<script>window.pwned = 1</script>" in notes.get_text()  # shown as text
    hrefs = [a["href"] for a in notes.find_all("a")]
    assert hrefs == ["#confusion"]  # the javascript: link is left as text
    assert noted_report.report["notes"]["markdown"] == NOTES


def test_history_csv_plots_loss_and_accuracy_per_epoch(noted_report):
    soup = BeautifulSoup(noted_report.html_path.read_text(), "html.parser")
    section = soup.find("section", id="training-curves")
    figures = {s["data-target"]: json.loads(s.string) for s in section.find_all("script", class_="rg-figure")}
    loss, accuracy = figures["history-loss-plot"], figures["history-accuracy-plot"]
    assert [t["name"] for t in loss["data"]] == ["train_loss", "val_loss"]
    assert loss["data"][1]["x"] == [1, 2, 3] and loss["data"][1]["y"] == [2.2, 1.3, 0.9]
    assert [t["name"] for t in accuracy["data"]] == ["val_accuracy"]
    assert noted_report.report["training_history"]["epochs"] == [1, 2, 3]


def test_absent_inputs_say_so_briefly(demo_like_report):
    soup = BeautifulSoup(demo_like_report.html_path.read_text(), "html.parser")
    for section_id, option in (("notes", "--notes"), ("training-curves", "--history"), ("baseline", "--baseline")):
        section = soup.find("section", id=section_id)
        assert option in section.get_text() and section.find(class_="error-box") is None


def test_history_json_rows_and_columns(tmp_path):
    rows = tmp_path / "rows.json"
    rows.write_text(json.dumps([{"epoch": 1, "loss": 1.5, "acc": 0.5}, {"epoch": 2, "loss": 0.5, "acc": 0.9}]))
    columns = tmp_path / "columns.json"
    columns.write_text(json.dumps({"loss": [1.5, 0.5], "acc": [0.5, 0.9]}))
    assert load_history(rows) == load_history(columns) == {"epochs": [1, 2], "metrics": {"loss": [1.5, 0.5],
                                                                                         "acc": [0.5, 0.9]}}
    bad = tmp_path / "bad.csv"
    bad.write_text("epoch,comment\n1,fine\n")
    with pytest.raises(ReportgenError, match="no numeric metric"):
        load_history(bad)


def _varint(value):
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _field(number, wire, payload):
    key = _varint(number << 3 | wire)
    return key + (_varint(len(payload)) + payload if wire == 2 else payload)


def _event(step, tag, value, as_tensor=False):
    if as_tensor:  # TF2 style: Value.tensor = TensorProto{dtype: DT_FLOAT, float_val: [value]}
        tensor = _field(1, 0, _varint(1)) + _field(5, 5, struct.pack("<f", value))
        summary_value = _field(1, 2, tag.encode()) + _field(8, 2, tensor)
    else:  # PyTorch SummaryWriter style: Value.simple_value
        summary_value = _field(1, 2, tag.encode()) + _field(2, 5, struct.pack("<f", value))
    summary = _field(1, 2, summary_value)
    return _field(1, 1, struct.pack("<d", 1.7e9)) + _field(2, 0, _varint(step)) + _field(5, 2, summary)


def _record(payload):
    # TFRecord framing; reportgen does not check the CRCs, so zeros stand in for them here.
    return struct.pack("<Q", len(payload)) + b"\0" * 4 + payload + b"\0" * 4


def test_tensorboard_event_folder(tmp_path):
    run = tmp_path / "runs" / "a"
    run.mkdir(parents=True)
    events = [_event(s, "loss/train", 1.0 / s) for s in (1, 2, 3)] + \
             [_event(s, "accuracy/val", 0.25 * s, as_tensor=True) for s in (1, 2, 3)]
    (run / "events.out.tfevents.1700000000.host").write_bytes(b"".join(_record(e) for e in events))
    history = load_history(tmp_path / "runs")
    assert history["epochs"] == [1, 2, 3]
    assert history["metrics"]["loss/train"] == pytest.approx([1.0, 0.5, 1 / 3])
    assert history["metrics"]["accuracy/val"] == pytest.approx([0.25, 0.5, 0.75])
