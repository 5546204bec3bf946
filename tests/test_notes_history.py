"""--notes (markdown, rendered without raw HTML) and --history (training curves from CSV, JSON, TensorBoard)."""

import json

import pytest
from bs4 import BeautifulSoup

from reportgen import build_report
from reportgen.errors import ReportgenError
from reportgen.review.training_history import load_history

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


def test_sections_not_asked_for_leave_the_page_and_the_nav(demo_like_report):
    soup = BeautifulSoup(demo_like_report.html_path.read_text(), "html.parser")
    links = {a["href"] for a in soup.select("header nav a")}
    for section_id in ("notes", "training-curves", "baseline", "class-groups"):
        assert soup.find("section", id=section_id) is None and f"#{section_id}" not in links
    assert "#summary" in links and soup.find("section", id="summary") is not None


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


def test_tensorboard_event_folders_from_real_writers(tmp_path):
    """Event files as PyTorch's SummaryWriter writes them (Value.simple_value), and as TF2's tf.summary.scalar
    lays them out (Value.tensor, a DT_FLOAT scalar of the "scalars" plugin) written by tensorboard's own event
    writer (CRCs and all); read back without TensorFlow."""
    from tensorboard.compat.proto import types_pb2
    from tensorboard.compat.proto.event_pb2 import Event
    from tensorboard.compat.proto.summary_pb2 import Summary
    from tensorboard.compat.proto.tensor_pb2 import TensorProto
    from tensorboard.summary.writer.event_file_writer import EventFileWriter
    from torch.utils.tensorboard import SummaryWriter

    with SummaryWriter(log_dir=str(tmp_path / "runs" / "torch")) as writer:
        for step in (1, 2, 3):
            writer.add_scalar("loss/train", 1.0 / step, step)
    writer = EventFileWriter(str(tmp_path / "runs" / "tf2"))
    for step in (1, 2, 3):
        value = Summary.Value(tag="accuracy/val", tensor=TensorProto(dtype=types_pb2.DT_FLOAT, tensor_shape={},
                                                                       float_val=[0.25 * step]))
        value.metadata.plugin_data.plugin_name = "scalars"
        writer.add_event(Event(wall_time=1.7e9, step=step, summary=Summary(value=[value])))
    writer.close()
    history = load_history(tmp_path / "runs")
    assert history["epochs"] == [1, 2, 3]
    assert history["metrics"]["loss/train"] == pytest.approx([1.0, 0.5, 1 / 3])
    assert history["metrics"]["accuracy/val"] == pytest.approx([0.25, 0.5, 0.75])
