"""The "Object kinds" widget: its callbacks drive the session; results land in layers."""

from __future__ import annotations

import numpy as np
import pytest

from napari_labelsuite.core.annotation import ObjectInfo
from napari_labelsuite.core.objects import Keypoints
from object_kinds_data import ship_hand_tax

TAX = ship_hand_tax()


@pytest.fixture
def widget(objects_widget):
    return objects_widget  # tests/napari/conftest.py


def test_rotated_boxes_button_adds_one_box_per_instance(widget):
    lab = np.zeros((30, 40), np.int32)
    lab[3:8, 2:12] = 1
    lab[15:25, 20:24] = 2
    widget.session.add_instance_layer(lab, objects={1: ObjectInfo(1), 2: ObjectInfo(1)})
    widget._rotated_from_instances()
    layer = widget.viewer.layers["rotated boxes"]
    assert len(layer.data) == 2
    assert layer.features["instance_id"].tolist() == [1, 2]
    np.testing.assert_allclose(widget.session.rotated_boxes_list()[0].xywha, (7, 5.5, 10, 5, 0))
    assert widget.status.text() == "2 rotated boxes on 'rotated boxes'"
    assert widget.errors == []


def test_rotated_boxes_without_instances_is_a_notification(widget):
    widget._rotated_from_instances()
    assert len(widget.errors) == 1 and "instances" in widget.errors[0]
    assert "rotated boxes" not in widget.viewer.layers


def test_visibility_buttons_change_the_selected_keypoints(widget):
    kp = Keypoints(np.array([[5.5, 5.5, 2], [9.5, 7.5, 2]]), 2, box=(3, 3, 12, 10))
    layer = widget.session.add_keypoints_layer([kp])
    widget._set_visibility(1)
    assert widget.warnings == ["select keypoints on the keypoints layer first"]
    layer.selected_data = {1}
    widget._set_visibility(1)
    assert layer.features["visibility"].tolist() == [2, 1]
    assert widget.session.keypoints_list()[0].xyv[:, 2].tolist() == [2, 1]
    assert widget.status.text() == "1 keypoints set to visibility 1"
