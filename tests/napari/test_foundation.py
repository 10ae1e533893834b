"""The plugin as napari sees it: manifest, sample data, demo viewer, console."""

from __future__ import annotations

import numpy as np
import pytest
from npe2 import PluginManifest

from napari_labelsuite import LabelSession
from napari_labelsuite._sample_data import sample_cells_2d, sample_cells_3d, sample_coins


def test_manifest_is_valid_and_imports():
    pm = PluginManifest.from_distribution("napari-labelsuite")
    assert pm.name == "napari-labelsuite"
    pm.validate_imports()
    keys = {s.key for s in pm.contributions.sample_data}
    assert keys == {"cells_2d", "cells_3d", "coins"}


def test_sample_cells_2d_layer_tuples():
    (img, img_kw, img_type), (lab, lab_kw, lab_type) = sample_cells_2d()
    assert img_type == "image" and lab_type == "labels"
    assert img.shape == (2, 1024, 1024) and img.dtype == np.uint16
    assert img_kw["channel_axis"] == 0 and img_kw["name"] == ["nuclei", "cytoplasm"]
    assert lab.shape == (1024, 1024) and lab.dtype.kind in "ui"
    assert set(np.unique(lab)) == {0, 1, 2}
    assert lab_kw["colormap"][1] is not None


def test_sample_cells_3d_layer_tuples():
    (img, img_kw, _), (lab, lab_kw, _), (keys, keys_kw, kind) = sample_cells_3d()
    assert img.shape == (2, 32, 256, 256) and img.dtype == np.uint16
    assert lab.shape == (32, 256, 256)
    assert img_kw["scale"] == lab_kw["scale"] == keys_kw["scale"] == (2.0, 1.0, 1.0)
    # an empty instance layer to paint keyframes into
    assert kind == "labels" and keys.shape == lab.shape and not keys.any()
    assert keys_kw["metadata"]["labelsuite"]["role"] == "instances"


def test_sample_coins():
    [(data, kw, kind)] = sample_coins()
    assert kind == "image" and data.shape == (303, 384) and kw["name"] == "coins"


def test_demo_viewer_builds(make_napari_viewer):
    from napari_labelsuite._demo import build_demo

    viewer = make_napari_viewer()
    session = build_demo(viewer)
    names = [layer.name for layer in viewer.layers]
    assert names == ["nuclei", "cytoplasm", "classes"]
    assert session is LabelSession.attach(viewer)
    assert session.taxonomy.by_name("nucleus").id == 1
    assert len(viewer.window.dock_widgets) >= 6


def test_attach_returns_one_session_per_viewer(make_napari_viewer):
    v = make_napari_viewer()
    assert LabelSession.attach(v) is LabelSession.attach(v)
    assert LabelSession.attach(v).viewer is v


@pytest.mark.enable_console
def test_session_is_in_console_namespace(make_napari_viewer):
    viewer = make_napari_viewer()
    _dock, widget = viewer.window.add_plugin_dock_widget("napari-labelsuite", "Class taxonomy")
    console = viewer.window._qt_viewer.console
    assert console.shell.user_ns["labelsuite"] is LabelSession.attach(viewer)
    assert widget.session is console.shell.user_ns["labelsuite"]
