"""The projection's choice of UMAP epochs, and what the report says about it."""

import numpy as np
import pytest

from reportgen.compute import projection
from reportgen.compute.neighbours import Neighbours
from reportgen.compute.pixel_projection import project_pixels


@pytest.fixture
def epochs_asked(monkeypatch):
    """The n_epochs each UMAP fit is asked for (the fit itself replaced: this is about the policy)."""
    asked = []

    def fake_umap(data, seed, neighbours, n_epochs):
        asked.append(n_epochs)
        return np.zeros((data.shape[0], 2), np.float32)

    monkeypatch.setattr(projection, "_umap", fake_umap)
    return asked


@pytest.mark.parametrize("n, epochs", [(4999, None), (5000, projection.SHORT_UMAP_EPOCHS),
                                       (60_000, projection.SHORT_UMAP_EPOCHS)])
def test_umap_runs_fewer_epochs_from_5000_samples_and_the_page_says_so(epochs_asked, n, epochs):
    result = projection.project(np.ones((n, 4), np.float32), "umap")
    assert epochs_asked == [epochs]
    if epochs is None:  # UMAP's own setting, nothing to explain
        assert result.note is None
    else:
        assert f"UMAP with {epochs} epochs" in result.note and "bench/bench_umap_epochs.py" in result.note


def test_an_explicit_epoch_count_wins_and_the_raw_pixels_keep_theirs(epochs_asked):
    projection.project(np.ones((8000, 4), np.float32), "umap", n_epochs=40)
    graph = Neighbours(np.zeros((8000, 16), np.int64), np.zeros((8000, 16), np.float32))
    raw = project_pixels(np.ones((8000, 4), np.float32), "umap", 0, graph)
    assert epochs_asked == [40, 100]
    assert "raw UMAP with 100 epochs" in raw.note
