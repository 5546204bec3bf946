"""Options are checked once and never altered behind the caller's back."""

import pytest

from reportgen import build_report
from reportgen.options import OptionError, ReportOptions


def test_an_unknown_option_is_a_type_error_that_names_the_valid_ones(model_files, image_tree, tmp_path):
    with pytest.raises(TypeError, match=r"unknown option 'projeciton'; valid options: .*\bprojection\b"):
        build_report(model_files["pt2"], image_tree, tmp_path / "r.html", projeciton="pca")
    assert not (tmp_path / "r.html").exists()  # refused before any work


@pytest.mark.parametrize("change, message", [
    ({"projection": "tsen"}, "projection='tsen': choose one of umap, tsne, pca"),
    ({"top_k": 0}, "top_k=0: give a whole number of at least 1"),
    ({"neighbours": 99}, "at most 50"),
    ({"batch_size": 2.5}, "batch_size=2.5"),
])
def test_bad_values_say_which_option_and_what_it_takes(change, message):
    with pytest.raises(OptionError, match=message.replace("(", r"\(")):
        ReportOptions().with_changes(**change)


def test_the_callers_options_object_is_left_as_it_was(model_files, image_tree, tmp_path):
    mine = ReportOptions(projection="pca", workers=0, saliency_samples=0, quiet=True)
    result = build_report(model_files["pt2"], image_tree, tmp_path / "r.html", options=mine, top_k=3)
    assert mine == ReportOptions(projection="pca", workers=0, saliency_samples=0, quiet=True)
    assert mine.batch_size is None  # the pass chose a batch size without writing it here
    assert len(result.report["splits"]["val"]["hardest"]) == 3
    with pytest.raises(AttributeError):
        mine.top_k = 5  # frozen
