"""A user's own Shapes / Points layers adopted as polygons, rotated boxes or keypoints, and
keypoints placed by hand named from the skeleton (object, keypoint, class, visibility 2)."""

from __future__ import annotations

import numpy as np
import pytest
from napari.layers import Points, Shapes

from napari_labelsuite.core.errors import ObjectKindError, SessionError
from napari_labelsuite.core.objects import Keypoints, rbox_to_corners
from object_kinds_data import ship_person_tax

TAX = ship_person_tax({"id": 3, "name": "cat", "keypoints": {"names": ["nose", "tail"]}})


# session: tests/session/conftest.py (a LabelSession with TAX)


# -- manage_layer: polygons, rotated boxes, keypoints ---------------------------------------
def test_own_shapes_layer_adopted_as_polygons_paints_into_the_mask(session) -> None:
    session.add_instance_layer(np.zeros((20, 30), np.int32))
    tri = np.array([[2.0, 3.0], [12.0, 3.0], [12.0, 20.0]])  # napari (row, col)
    own = Shapes([tri], shape_type="polygon", name="my outlines")
    session.set_active_class(1)
    session.manage_layer(own, "polygons")
    assert session.layers_of_role("polygons") == [own]
    (p,) = session.polygons_list(own)
    assert (p["class_id"], p["instance_id"], p["ring"].hole, p["status"]) == (1, 0, False, "todo")
    np.testing.assert_array_equal(p["ring"].xy, tri[:, ::-1] + 0.5)
    edit = session.polygons_to_instances(own)
    assert list(edit.parents) == [1]
    assert session.objects()[1].class_id == 1
    assert (session.instances.data == 1).sum() > 0


def test_own_rectangles_adopted_as_rotated_boxes_measure_their_angle(session) -> None:
    corners = rbox_to_corners(np.array([[15.0, 10.0, 12.0, 4.0, 30.0]]))[0]  # x, y
    own = Shapes([corners[:, ::-1] - 0.5], shape_type="polygon", name="mine")
    session.set_active_class(1)
    session.manage_layer(own, "rotated_boxes")
    assert session.layers_of_role("rotated") == [own]
    assert own.features["angle"].iloc[0] == pytest.approx(30.0, abs=1e-4)
    (rb,) = session.rotated_boxes_list(own)
    assert (rb.class_id, rb.cx, rb.cy, rb.w, rb.h) == pytest.approx((1, 15, 10, 12, 4), abs=1e-4)


def test_bad_shapes_are_refused_before_the_layer_changes(session) -> None:
    ell = Shapes([np.array([[0.0, 0.0], [5.0, 5.0]])], shape_type="ellipse", name="e")
    with pytest.raises(ObjectKindError, match="shape 0.*polygon or rectangle"):
        session.manage_layer(ell, "polygons")
    bow = Shapes([np.array([[0.0, 0.0], [10.0, 10.0], [0.0, 10.0], [12.0, 0.0]])],
                 shape_type="polygon", name="bow")  # fmt: skip
    with pytest.raises(ObjectKindError, match="self-intersecting"):
        session.manage_layer(bow, "polygons")
    pts = Points(np.zeros((1, 2)), name="p")
    with pytest.raises(SessionError, match="must be a Shapes layer"):
        session.manage_layer(pts, "rotated")
    for layer in (ell, bow):
        assert "class_id" not in layer.features.columns
        assert layer not in session.layers


def test_own_points_adopted_as_keypoints_become_one_object_per_skeleton(session) -> None:
    session.set_active_class(2)  # person: head, left_hand, right_hand
    yx = np.array([[5.0, 5.0], [8.0, 3.0], [8.0, 7.0], [20.0, 20.0]])
    own = Points(yx, name="clicks")
    session.manage_layer(own, "keypoints")
    f = own.features
    assert f["keypoint"].tolist() == ["head", "left_hand", "right_hand", "head"]
    assert f["object"].tolist() == [0, 0, 0, 1]
    assert f["class_id"].tolist() == [2, 2, 2, 2]
    assert f["visibility"].tolist() == [2, 2, 2, 2]
    sets = session.keypoints_list(own)
    np.testing.assert_allclose(sets[0].xyv[:, :2], yx[:3, ::-1] + 0.5)
    assert sets[1].xyv[1:, 2].tolist() == [0, 0]  # hands not labelled yet


# -- keypoints placed by hand ---------------------------------------------------------------
def _person_layer(session):
    kp = Keypoints(np.array([[10.0, 10.0, 2], [0, 0, 0], [14.0, 12.0, 1]]), 2,
                   box=(5.0, 5.0, 20.0, 25.0))  # fmt: skip
    return session.add_keypoints_layer([kp])


def test_point_added_in_an_objects_box_takes_its_next_missing_name(session) -> None:
    layer = _person_layer(session)
    session.set_active_class(2)
    layer.add(np.array([[15.5, 8.5]]))  # napari (row, col): x 9, y 16 inside the box
    row = layer.features.iloc[-1]
    assert (row["object"], row["keypoint"], row["class_id"], row["visibility"]) == (
        0, "left_hand", 2, 2)  # fmt: skip
    assert [row[c] for c in ("box_x0", "box_y0", "box_x1", "box_y1")] == [5, 5, 20, 25]
    (kp,) = session.keypoints_list(layer)
    np.testing.assert_allclose(kp.xyv[1], [9.0, 16.0, 2])
    np.testing.assert_allclose(layer.face_color[-1], [0.2, 1, 0.2, 1])


def test_points_outside_any_box_start_a_new_object_of_the_active_class(session) -> None:
    layer = _person_layer(session)
    session.set_active_class(3)  # cat: nose, tail
    layer.add(np.array([[40.0, 40.0]]))
    layer.add(np.array([[42.0, 45.0]]))  # the current object (the cat) still misses its tail
    layer.add(np.array([[44.0, 50.0]]))  # the cat is complete: a second cat
    f = layer.features.iloc[-3:]
    assert f["object"].tolist() == [1, 1, 2]
    assert f["keypoint"].tolist() == ["nose", "tail", "nose"]
    assert f["class_id"].tolist() == [3, 3, 3]
    assert [k.class_id for k in session.keypoints_list(layer)] == [2, 3, 3]


def test_point_added_while_a_point_is_selected_joins_that_object(session) -> None:
    layer = _person_layer(session)
    session.set_active_class(2)
    layer.add(np.array([[60.0, 60.0]]))  # far from the box: a new person (object 1)
    layer.selected_data = {0}  # the first person's head
    layer.add(np.array([[70.0, 70.0]]))  # outside every box, but object 0 is selected
    row = layer.features.iloc[-1]
    assert (row["object"], row["keypoint"]) == (0, "left_hand")


def test_keypoint_clicked_in_add_mode_is_logged_with_its_object_and_class(session) -> None:
    layer = _person_layer(session)
    session.set_active_class(2)
    layer.mode = "add"  # napari's point tool: the effort log counts the click
    layer.add(np.array([[60.0, 60.0]]))  # outside the box: a new person, object 1
    rec = session.effort_records()[-1]
    assert (rec.route, rec.action, rec.object_id, rec.class_id) == ("keypoints", "point", 1, 2)
