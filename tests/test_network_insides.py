"""Filters and feature maps read from every model format that allows it; colour helpers for the page."""

import io
import warnings

import numpy as np
import pytest
import torch
from gradient_context import MLP, ReversedRegistration, export
from PIL import Image

from reportgen.explain.heatmap_png import DIVERGING, signed_map_png, symmetric_scale, tile_grid_png
from reportgen.explain.network_insides import (
    feature_map_tiles,
    feature_maps,
    filter_tiles,
    first_and_middle_convs,
    first_conv_filters,
)
from reportgen.model.adapter import NoHooks
from reportgen.model.formats import adapter_for

PROBE = torch.zeros(1, 1, 16, 16)


def all_formats(model):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        modules = {"eager": model, "torch.export": export(model, PROBE.expand(2, -1, -1, -1)),
                   "script": torch.jit.script(model), "trace": torch.jit.trace(model, PROBE)}
    return modules


def test_first_conv_filters_in_every_format(tiny_model):
    expected = tiny_model.conv1.weight.detach().numpy()
    for fmt, model in all_formats(tiny_model).items():
        with adapter_for(model) as adapter:
            filters = first_conv_filters(adapter, PROBE)
        assert filters.layer == "conv1", fmt
        np.testing.assert_array_equal(filters.weights, expected)
        assert (filters.note is not None) == (fmt in ("script", "trace"))  # declared order, said so


def test_feature_maps_are_the_layers_outputs(tiny_model):
    inputs = torch.rand(2, 1, 16, 16, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        conv1 = tiny_model.conv1(inputs)
        conv2 = tiny_model.conv2(torch.max_pool2d(torch.relu(conv1), 2))
    for fmt in ("eager", "torch.export"):
        with adapter_for(all_formats(tiny_model)[fmt]) as adapter:
            names = first_and_middle_convs(adapter, PROBE)
            assert names == ["conv1", "conv2"]
            maps = feature_maps(adapter, inputs, names)
        np.testing.assert_allclose(maps["conv1"], conv1.numpy(), atol=1e-6)
        np.testing.assert_allclose(maps["conv2"], conv2.numpy(), atol=1e-6)


def test_torchscript_feature_maps_raise_no_hooks(tiny_model):
    with pytest.raises(NoHooks):
        first_and_middle_convs(adapter_for(all_formats(tiny_model)["script"]), PROBE)


def test_first_conv_is_the_one_that_runs_first():
    model = ReversedRegistration().eval()
    assert first_conv_filters(adapter_for(model), PROBE).layer == "early"
    assert first_and_middle_convs(adapter_for(model), PROBE) == ["early", "late"]
    mlp = first_conv_filters(adapter_for(MLP().eval()), PROBE)
    assert mlp.weights is None and "no convolution" in mlp.note


def test_filter_tiles_put_zero_at_mid_grey_and_keep_colour_filters_in_colour():
    weights = np.zeros((4, 3, 3, 3), np.float32)
    weights[0, 0, 1, 1] = 2.0
    weights[1, 2, 0, 0] = -0.5
    tiles = filter_tiles(weights)
    assert tiles.shape == (4, 3, 3, 3)
    assert tiles[0, 1, 1, 0] == 1.0 and tiles[1, 0, 0, 2] == 0.0 and tiles[2].max() == tiles[2].min() == 0.5
    assert filter_tiles(np.ones((70, 1, 5, 5))).shape == (64, 5, 5)


def test_feature_map_tiles_share_a_channels_scale_across_samples():
    maps = np.stack([np.full((3, 4, 4), 1.0), np.full((3, 4, 4), 3.0)])
    maps[0, 0, 0, 0] = 5.0
    tiles = feature_map_tiles(maps)
    assert tiles.min() >= 0 and tiles.max() <= 1
    assert tiles[0, 0, 0, 0] == 1.0 and tiles[0, 0, 1, 1] == 0.0 and tiles[1, 0, 1, 1] == 0.5


def test_signed_map_png_is_white_at_zero_and_shrinks_large_maps():
    values = np.zeros((200, 100), np.float32)
    values[:, :50] = -1
    image = Image.open(io.BytesIO(signed_map_png(values, symmetric_scale(values))))
    assert image.format == "PNG" and image.size == (32, 64)
    rgb = np.asarray(image.convert("RGB"))
    np.testing.assert_array_equal(rgb[0, -1], DIVERGING[len(DIVERGING) // 2])  # zero -> the white middle
    np.testing.assert_array_equal(rgb[0, 0], DIVERGING[0])  # -limit -> darkest blue


def test_tile_grid_png_lays_out_rows_of_tiles():
    image = Image.open(io.BytesIO(tile_grid_png(np.random.default_rng(0).random((10, 3, 3)), tile_side=12,
                                                columns=4)))
    assert image.size == (4 * 12 + 3 * 3, 3 * 12 + 2 * 3)
