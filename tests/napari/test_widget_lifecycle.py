"""Dock widgets let go of the viewer and session when their dock is removed.

napari's ``remove_dock_widget`` (also behind a dock's close button) only takes the widget
out of its dock and sends no close event, so the release must not depend on ``closeEvent``.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from qtpy import sip
from qtpy.QtWidgets import QWidget

from napari_labelsuite import LabelSession
from napari_labelsuite._widgets.qc import KEYS
from napari_labelsuite._widgets.taxonomy import TaxonomyWidget

PLUGIN = "napari-labelsuite"


def _keys(keymap) -> dict[str, object]:
    return {str(k): v for k, v in keymap.items()}


@pytest.fixture
def viewer_session(make_napari_viewer):
    viewer = make_napari_viewer()
    session = LabelSession.attach(viewer)
    session.add_class("cell")
    session.add_class("debris")
    layer = session.add_semantic_layer(np.zeros((8, 8), np.uint8))
    viewer.layers.selection.active = layer
    return viewer, session, layer


def test_docking_keeps_taxonomy_keys_bound(viewer_session):
    viewer, _, layer = viewer_session
    before = _keys(viewer.keymap)
    viewer.window.add_plugin_dock_widget(PLUGIN, "Class taxonomy")
    assert set(_keys(viewer.keymap)) - set(before) == {"1", "2"}
    assert {"1", "2"} <= set(_keys(layer.keymap))


def test_removing_taxonomy_dock_restores_keymaps(viewer_session):
    viewer, _, layer = viewer_session
    viewer_before, layer_before = _keys(viewer.keymap), _keys(layer.keymap)
    dock, _ = viewer.window.add_plugin_dock_widget(PLUGIN, "Class taxonomy")
    viewer.window.remove_dock_widget(dock)
    assert _keys(viewer.keymap) == viewer_before
    assert _keys(layer.keymap) == layer_before


def test_removed_taxonomy_widget_stops_listening(viewer_session):
    viewer, session, layer = viewer_session
    viewer_before, layer_before = _keys(viewer.keymap), _keys(layer.keymap)
    dock, widget = viewer.window.add_plugin_dock_widget(PLUGIN, "Class taxonomy")
    viewer.window.remove_dock_widget(dock)
    session.add_class("third")
    session.set_active_class("debris")
    assert _keys(viewer.keymap) == viewer_before
    assert _keys(layer.keymap) == layer_before
    assert widget._on_taxonomy not in session.taxonomy_changed
    assert widget.tree.topLevelItemCount() == 2


def test_removed_taxonomy_widget_ignores_new_managed_layers(viewer_session):
    viewer, session, _ = viewer_session
    dock, _ = viewer.window.add_plugin_dock_widget(PLUGIN, "Class taxonomy")
    viewer.window.remove_dock_widget(dock)
    other = session.add_semantic_layer(np.zeros((8, 8), np.uint8), name="other")
    assert _keys(other.keymap) == {}


def test_removing_qc_dock_restores_review_keys(viewer_session):
    viewer, session, _ = viewer_session
    before = _keys(viewer.keymap)
    dock, widget = viewer.window.add_plugin_dock_widget(PLUGIN, "Quality control")
    assert len(set(_keys(viewer.keymap)) - set(before)) == len(KEYS)
    viewer.window.remove_dock_widget(dock)
    assert _keys(viewer.keymap) == before
    assert widget._on_findings not in session.findings_changed


def test_removing_store_dock_stops_status_timer(viewer_session):
    viewer, _, _ = viewer_session
    dock, widget = viewer.window.add_plugin_dock_widget(PLUGIN, "Mask store")
    assert widget._timer.isActive()
    viewer.window.remove_dock_widget(dock)
    assert not widget._timer.isActive()


def test_release_runs_once(viewer_session):
    viewer, session, _ = viewer_session
    dock, widget = viewer.window.add_plugin_dock_widget(PLUGIN, "Class taxonomy")
    viewer.window.remove_dock_widget(dock)
    before = _keys(viewer.keymap)
    # a key bound after the release must survive a second release (no stale restore)
    viewer.bind_key("1", lambda v: None, overwrite=True)
    rebound = _keys(viewer.keymap)["1"]
    widget.close()
    widget.close_bindings()
    assert _keys(viewer.keymap)["1"] is rebound
    assert set(_keys(viewer.keymap)) == set(before) | {"1"}


def test_removing_dock_stops_running_worker(viewer_session, qtbot):
    viewer, _, _ = viewer_session
    dock, widget = viewer.window.add_plugin_dock_widget(PLUGIN, "Import / export")

    def endless():
        for _ in range(500):  # bounded, so a failing test does not leave a thread behind
            time.sleep(0.01)
            yield

    worker = widget.run_in_worker(endless)
    with qtbot.waitSignal(worker.finished, timeout=5000):
        viewer.window.remove_dock_widget(dock)
    assert worker.abort_requested


def test_destroying_parent_releases_widget(viewer_session):
    viewer, _, layer = viewer_session
    viewer_before, layer_before = _keys(viewer.keymap), _keys(layer.keymap)
    holder = QWidget()
    TaxonomyWidget(viewer, parent=holder)
    assert _keys(viewer.keymap) != viewer_before
    sip.delete(holder)
    assert _keys(viewer.keymap) == viewer_before
    assert _keys(layer.keymap) == layer_before
