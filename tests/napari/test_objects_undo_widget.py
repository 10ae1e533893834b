"""Undo of object edits from the "Object kinds" dock: the Undo button and Ctrl-Z on the
polygons, rotated-boxes and keypoints layers (napari keeps no history for them)."""

from __future__ import annotations

import numpy as np
import pytest
from napari.layers import Shapes
from napari.utils.key_bindings import KeyBinding

from napari_labelsuite.core.annotation import ObjectInfo
from napari_labelsuite.core.objects import Keypoints
from object_kinds_data import ship_hand_tax

TAX = ship_hand_tax()


@pytest.fixture
def widget(objects_widget):
    return objects_widget  # tests/napari/conftest.py


def _ctrl_z(layer):
    """What napari calls when Ctrl-Z is pressed on ``layer`` (its own key map)."""
    return layer.keymap[KeyBinding.from_str("Control-z")](layer)


def test_ctrl_z_on_the_keypoints_layer_undoes_a_visibility_change(widget):
    kp = Keypoints(np.array([[3.0, 4.0, 2], [6.0, 7.0, 2]]), 2)
    layer = widget.session.add_keypoints_layer([kp])
    widget.viewer.layers.selection.active = layer
    layer.selected_data = {1}
    widget._set_visibility(1)
    assert layer.features["visibility"].tolist() == [2, 1]
    _ctrl_z(layer)
    assert layer.features["visibility"].tolist() == [2, 2]
    assert widget.status.text() == "undid the last edit of 'keypoints'"
    _ctrl_z(layer)  # nothing left
    assert widget.status.text() == "nothing to undo on 'keypoints'"


def test_undo_button_restores_rotated_boxes_recomputed_into_the_layer(widget):
    s = widget.session
    lab = np.zeros((30, 40), np.int32)
    lab[3:8, 2:12] = 1
    s.add_instance_layer(lab, objects={1: ObjectInfo(1)})
    layer = s.rotated_boxes_from_instances()
    before = [np.array(d) for d in layer.data]
    s.instances.data[15:25, 20:24] = 2
    s.set_objects({1: ObjectInfo(1), 2: ObjectInfo(1)})
    s.rotated_boxes_from_instances(layer=layer)
    assert len(layer.data) == 2
    widget.viewer.layers.selection.active = layer
    widget.undo_button.click()
    assert len(layer.data) == 1
    np.testing.assert_allclose(layer.data[0], before[0])
    assert widget.errors == []


def test_ctrl_z_gives_painted_polygons_back_their_ids(widget):
    s = widget.session
    s.add_instance_layer(np.zeros((20, 30), np.int32))
    s.set_active_class(1)
    layer = Shapes([np.array([[2.0, 3.0], [12.0, 3.0], [12.0, 20.0]])], shape_type="polygon")
    s.manage_layer(layer, "polygons")  # a user's own layer, adopted: Ctrl-Z follows
    s.polygons_to_instances(layer)
    assert layer.features["instance_id"].tolist() == [1]
    _ctrl_z(layer)
    assert layer.features["instance_id"].tolist() == [0]


def test_undo_needs_an_object_layer_and_the_dock_gives_ctrl_z_back(widget):
    s = widget.session
    s.add_instance_layer(np.zeros((10, 10), np.int32))
    widget.viewer.layers.selection.active = s.instances
    widget.undo_button.click()
    assert widget.warnings == ["select a polygons, rotated boxes or keypoints layer to undo on"]
    layer = s.add_rotated_boxes_layer([])
    assert KeyBinding.from_str("Control-z") in layer.keymap
    widget.close_bindings()
    assert KeyBinding.from_str("Control-z") not in layer.keymap
