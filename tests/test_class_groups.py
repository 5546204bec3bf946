"""--class-groups: the CSV is read and checked, accuracy per group and the group confusion matrix equal a direct
computation, the page colours by group, and a bad file is one line naming it."""

import json

import numpy as np
import pytest
from collected_factory import make_collected
from sklearn.metrics import confusion_matrix
from synthetic_page import render_collected

from reportgen import build_report
from reportgen.cli import main
from reportgen.data.class_groups import NO_GROUP, load_class_groups
from reportgen.errors import ReportgenError


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_groups_are_read_in_file_order_and_unlisted_classes_are_named(tmp_path):
    csv = write(tmp_path / "g.csv", "class,group\nc1,odd\nc0,even\nc2,even\nzebra,animals\n")
    groups = load_class_groups(csv, ["c0", "c1", "c2", "c3"])
    assert groups.names == ["odd", "even", NO_GROUP]
    assert groups.of_class.tolist() == [1, 0, 1, 2]
    assert groups.ungrouped == ["c3"] and groups.unknown == ["zebra"]


@pytest.mark.parametrize("text, message", [
    ("name,superclass\nc0,a\n", "columns class,group"),
    ("class,group\nc0,a\nc0,b\n", "line 3 puts class 'c0' in 'b'"),
    ("class,group\nc0,\n", "line 2 has an empty class or group"),
    ("class,group\nnope,a\n", "names none of the data's classes"),
])
def test_bad_files_say_what_is_wrong(tmp_path, text, message):
    with pytest.raises(ReportgenError, match=message.replace("(", r"\(")):
        load_class_groups(write(tmp_path / "g.csv", text), ["c0", "c1"])


def test_section_numbers_equal_a_direct_computation(tmp_path):
    collected = make_collected(600, 30, seed=4, splits=("train", "val"))
    of_class = np.arange(30) // 5  # six groups of five classes
    csv = write(tmp_path / "g.csv", "class,group\n" + "".join(f"c{c},g{g}\n" for c, g in enumerate(of_class)))
    groups = load_class_groups(csv, collected.classes)
    report = render_collected(collected, tmp_path / "page.html", groups=groups)
    section = report["class_groups"]
    val = collected.split == 1
    true_g, pred_g = of_class[collected.labels[val]], of_class[collected.preds[val]]
    got = section["splits"]["val"]
    assert got["confusion_matrix"] == confusion_matrix(true_g, pred_g, labels=range(6)).tolist()
    for g in range(6):
        rows = true_g == g
        right = collected.labels[val][rows] == collected.preds[val][rows]
        entry = got["per_group"][f"g{g}"]
        assert entry["n"] == rows.sum() and entry["accuracy"] == pytest.approx(right.mean())
        assert entry["group_accuracy"] == pytest.approx((pred_g[rows] == g).mean())
        wrong = ~right
        assert entry["errors_within_group"] == pytest.approx((pred_g[rows][wrong] == g).mean())
    assert section["groups"]["g0"] == ["c0", "c1", "c2", "c3", "c4"]
    # 30 classes, 6 groups: the projection opens coloured by group, with a legend of the groups
    payload = json.loads((tmp_path / "page.html").read_text().split('id="sample-data">')[1].split("</script>")[0])
    assert payload["default_colour"] == "group" and payload["groups"]["of_class"] == of_class.tolist()


def test_cli_takes_class_groups_and_a_bad_file_is_one_line(model_files, image_tree, tmp_path, capsys):
    csv = write(tmp_path / "g.csv", "class,group\nbar,lines\ndot,round\nring,round\n")
    result = build_report(model_files["pt2"], image_tree, tmp_path / "r.html", json_path=tmp_path / "r.json",
                          quiet=True, projection="pca", workers=0, class_groups=csv, saliency_samples=0)
    assert set(result.report["class_groups"]["groups"]) == {"lines", "round"}
    bad = write(tmp_path / "bad.csv", "klass,group\n")
    with pytest.raises(SystemExit) as exit_:
        main([str(model_files["pt2"]), str(image_tree), "-o", str(tmp_path / "x.html"), "--class-groups", str(bad),
              "-q", "--projection", "pca"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(bad) in err[0] and "class,group" in err[0]
