"""Rotated boxes and keypoints through the session: layers, read-back, edits, provenance."""

from __future__ import annotations

import numpy as np
import pytest

from napari_labelsuite import LabelSession
from napari_labelsuite.core.annotation import ObjectInfo
from napari_labelsuite.core.errors import ObjectKindError
from napari_labelsuite.core.objects import Keypoints, RotatedBox, rbox_to_corners
from object_kinds_data import ship_person_tax

TAX = ship_person_tax()


# session: tests/session/conftest.py (a LabelSession with TAX)


def test_rotated_boxes_layer_round_trips_and_records(session: LabelSession) -> None:
    boxes = [
        RotatedBox(20, 10, 12, 4, 30, class_id=1, plane=(2,)),
        RotatedBox(5, 6, 3, 2, -80, class_id=1, plane=(0,), difficult=True),
    ]
    layer = session.add_rotated_boxes_layer(boxes)
    assert layer.ndim == 3 and len(layer.data) == 2
    assert layer.features["angle"].tolist() == [30.0, -80.0]
    assert layer.features["class"].tolist() == ["ship", "ship"]
    back = session.rotated_boxes_list()
    for got, want in zip(back, boxes, strict=True):
        assert got.plane == want.plane and got.class_id == 1
        assert got.difficult == want.difficult
        np.testing.assert_allclose(got.corners(), want.corners(), atol=1e-9)
    assert session._history[-1]["action"] == "add_rotated_boxes_layer"


def test_rotated_boxes_from_instances(session: LabelSession) -> None:
    lab = np.zeros((2, 30, 40), np.int32)
    lab[0, 3:8, 2:12] = 1  # an axis-aligned block on plane 0
    lab[1, 10:20, 10:14] = 2
    session.add_instance_layer(lab, objects={1: ObjectInfo(1), 2: ObjectInfo(1)})
    layer = session.rotated_boxes_from_instances()
    got = session.rotated_boxes_list(layer)
    assert [(b.plane, b.instance_id) for b in got] == [((0,), 1), ((1,), 2)]
    np.testing.assert_allclose(got[0].xywha, (7, 5.5, 10, 5, 0), atol=1e-9)
    np.testing.assert_allclose(
        np.sort(rbox_to_corners([got[1].xywha])[0], axis=0),
        np.sort(np.array([[10, 10], [14, 10], [14, 20], [10, 20]], float), axis=0),
        atol=1e-9,
    )
    assert session._history[-1]["action"] == "rotated_boxes_from_instances"


def test_keypoints_layer_round_trip_and_visibility(session: LabelSession) -> None:
    kp = Keypoints(np.array([[10.5, 4.5, 2], [0, 0, 0], [14.5, 9.5, 1]]), 2, box=(8, 3, 16, 12))
    layer = session.add_keypoints_layer([kp])
    assert len(layer.data) == 2  # the unlabelled keypoint has no point
    assert layer.features["keypoint"].tolist() == ["head", "right_hand"]
    (back,) = session.keypoints_list()
    np.testing.assert_allclose(back.xyv, kp.xyv)
    assert back.box == (8, 3, 16, 12)
    session.set_keypoint_visibility(1, 2)
    assert session.keypoints_list()[0].xyv[2, 2] == 2
    assert session._history[-1]["action"] == "set_keypoint_visibility"
    with pytest.raises(ObjectKindError, match="1 or 2"):
        session.set_keypoint_visibility(1, 3)


def test_keypoints_must_fit_their_class(session: LabelSession) -> None:
    with pytest.raises(ObjectKindError, match="defines 3 keypoints, got 2"):
        session.add_keypoints_layer([Keypoints(np.zeros((2, 3)), 2)])
    with pytest.raises(ObjectKindError, match="defines no keypoints"):
        session.add_keypoints_layer([Keypoints(np.zeros((3, 3)), 1)])
    assert not [lay for lay in session.layers if lay.name == "keypoints"]


def test_polygons_from_instances_keep_holes_and_round_trip(session: LabelSession) -> None:
    from napari_labelsuite.core.objects.polygons import rings_to_mask

    lab = np.zeros((2, 20, 20), np.int32)
    lab[1, 2:15, 3:17] = 4
    lab[1, 6:9, 7:10] = 0  # a hole
    lab[0, 1:4, 1:4] = 5
    session.add_instance_layer(lab, objects={4: ObjectInfo(1), 5: ObjectInfo(1)})
    layer = session.polygons_from_instances()
    assert layer.ndim == 3
    polys = session.polygons_list()
    assert sorted((p["plane"], p["instance_id"], p["ring"].hole) for p in polys) == [
        ((0,), 5, False), ((1,), 4, False), ((1,), 4, True)
    ]  # fmt: skip
    rings4 = [p["ring"] for p in polys if p["instance_id"] == 4]
    np.testing.assert_array_equal(rings_to_mask(rings4, 20, 20), lab[1] == 4)
    assert session._history[-1]["action"] == "polygons_from_instances"


def test_self_intersecting_polygon_on_the_layer_is_a_named_error(session: LabelSession) -> None:
    lab = np.zeros((10, 10), np.int32)
    lab[2:6, 2:6] = 1
    session.add_instance_layer(lab, objects={1: ObjectInfo(1)})
    layer = session.polygons_from_instances()
    layer.data = [np.array([[0, 0], [4, 4], [0, 4], [6, 0]], float)]
    with pytest.raises(ObjectKindError, match="self-intersecting") as exc:
        session.polygons_list()
    assert exc.value.where == "polygons: shape 0"
