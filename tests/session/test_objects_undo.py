"""Undo of the session's edits of rotated-box Shapes and keypoint Points layers."""

from __future__ import annotations

import numpy as np

from napari_labelsuite import LabelSession
from napari_labelsuite.core.annotation import ObjectInfo
from napari_labelsuite.core.objects import Keypoints, RotatedBox

TAX = {
    "classes": [
        {"id": 1, "name": "ship"},
        {"id": 2, "name": "person", "keypoints": {"names": ["head", "left_hand", "right_hand"]}},
    ]
}


# session: tests/session/conftest.py (a LabelSession with TAX)


def test_undo_keypoint_visibility(session: LabelSession) -> None:
    xyv = np.array([[10, 10, 2], [5, 20, 2], [15, 20, 1]], float)
    layer = session.add_keypoints_layer([Keypoints(xyv, 2)])
    data = np.array(layer.data, copy=True)
    session.set_keypoint_visibility(0, 1)
    session.set_keypoint_visibility(2, 2)
    assert layer.features["visibility"].tolist() == [1, 2, 2]
    assert session.undo_objects(layer) is True
    assert layer.features["visibility"].tolist() == [1, 2, 1]
    assert session.undo_objects(layer) is True
    assert layer.features["visibility"].tolist() == [2, 2, 1]
    np.testing.assert_array_equal(layer.data, data)
    assert session.keypoints_list(layer)[0].xyv.tolist() == xyv.tolist()
    assert session.undo_objects(layer) is False
    assert session._history[-1]["action"] == "undo_objects"


def test_undo_rotated_boxes_recomputed_into_a_layer(session: LabelSession) -> None:
    lab = np.zeros((30, 40), np.int32)
    lab[3:8, 2:12] = 1
    session.add_instance_layer(lab, objects={1: ObjectInfo(1)})
    drawn = [
        RotatedBox(30, 20, 6, 4, 30, class_id=1, instance_id=7),
        RotatedBox(10, 20, 3, 3, -10, class_id=1),
    ]
    layer = session.add_rotated_boxes_layer(drawn)
    before = [np.array(d, copy=True) for d in layer.data]
    session.rotated_boxes_from_instances(layer=layer)
    assert len(layer.data) == 1 and layer.features["instance_id"].tolist() == [1]
    assert session.undo_objects(layer) is True
    assert len(layer.data) == 2 and list(layer.shape_type) == ["rectangle"] * 2
    for got, want in zip(layer.data, before, strict=True):
        np.testing.assert_array_equal(got, want)
    assert layer.features["instance_id"].tolist() == [7, 0]
    back = session.rotated_boxes_list(layer)
    for got, want in zip(back, drawn, strict=True):
        np.testing.assert_allclose(got.corners(), want.corners(), atol=1e-9)
    assert session.undo_objects(layer) is False


def test_undo_gives_polygons_their_ids_from_before_painting(session: LabelSession) -> None:
    lab = np.zeros((24, 30), np.int32)
    lab[2:8, 3:9] = 4
    session.add_instance_layer(lab, objects={4: ObjectInfo(1)})
    layer = session.polygons_from_instances()
    tri = np.array([[10.0, 12.0], [20.0, 12.0], [20.0, 24.0]])
    layer.add_polygons([tri])
    assert layer.features["instance_id"].tolist() == [4, 0]
    session.polygons_to_instances(layer)
    assert layer.features["instance_id"].tolist() == [4, 5]
    session.instances.undo()  # pixels and table, in napari's history
    assert session.undo_objects(layer) is True  # the polygon rows, in the session's
    assert layer.features["instance_id"].tolist() == [4, 0]
    assert len(layer.data) == 2
    np.testing.assert_array_equal(session.instances.data, lab)
