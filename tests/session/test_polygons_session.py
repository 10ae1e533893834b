"""Polygons as objects: the managed polygon layer, painted into the instance mask and back."""

from __future__ import annotations

import numpy as np
import pytest
from pycocotools import mask as mask_utils

from napari_labelsuite import LabelSession
from napari_labelsuite.core.annotation import ObjectInfo
from napari_labelsuite.core.errors import ObjectKindError

TAX = {
    "classes": [
        {"id": 1, "name": "cell", "attributes": [{"name": "occluded", "kind": "bool",
                                                  "default": False}]},
        {"id": 2, "name": "nucleus"},
    ]
}  # fmt: skip


# session: tests/session/conftest.py (a LabelSession with TAX)


def _stack_with_objects(session: LabelSession) -> np.ndarray:
    lab = np.zeros((2, 24, 30), np.int32)
    lab[1, 2:15, 3:17] = 4
    lab[1, 6:9, 7:10] = 0  # a hole
    lab[0, 1:4, 1:4] = 5
    session.add_instance_layer(
        lab.copy(), objects={4: ObjectInfo(1, {"occluded": True}), 5: ObjectInfo(2)}
    )
    return lab


def test_polygon_layer_carries_attributes_and_hand_drawn_defaults(session: LabelSession) -> None:
    _stack_with_objects(session)
    layer = session.polygons_from_instances()
    polys = session.polygons_list(layer)
    assert sorted((p["instance_id"], p["ring"].hole, p["attributes"]) for p in polys) == [
        (4, False, {"occluded": True}), (4, True, {"occluded": True}), (5, False, {})
    ]  # fmt: skip
    assert layer.text.string.format == "{class}"  # labelled like the boxes
    session.set_active_class(1)
    layer.add_polygons([np.array([[0, 20, 20], [0, 20, 26], [0, 23, 26]], float)])
    new = layer.features.iloc[-1]
    assert (new["class_id"], new["class"], new["instance_id"], new["status"]) == (
        1, "cell", 0, "todo"
    )  # fmt: skip
    assert not bool(new["hole"]) and bool(new["occluded"]) is False
    # a hand-drawn polygon without class change keeps the class's attribute default
    assert session.polygons_list(layer)[-1]["attributes"] == {"occluded": False}


def test_unchanged_polygons_paint_back_the_same_mask(session: LabelSession) -> None:
    lab = _stack_with_objects(session)
    layer = session.polygons_from_instances()
    session.instances.data = np.zeros_like(lab)
    edit = session.polygons_to_instances(layer)
    np.testing.assert_array_equal(session.instances.data, lab)  # holes stay holes
    assert edit.parents == {}  # both ids were already in the table
    assert session.objects()[4].attributes == {"occluded": True}
    assert session.objects()[5].class_id == 2


def test_hand_drawn_polygon_becomes_a_new_object_in_one_undo_step(
    session: LabelSession,
) -> None:
    lab = _stack_with_objects(session)
    layer = session.polygons_from_instances()
    # napari (row, col) vertices of a triangle on plane 0, pixel-centre coordinates
    tri = np.array([[0, 10.0, 12.0], [0, 20.0, 12.0], [0, 20.0, 24.0]])
    layer.add_polygons([tri])
    n_history = len(session._history)
    n_effort = len(session.effort_records())
    edit = session.polygons_to_instances(layer)
    assert edit.parents == {6: 6}
    assert layer.features["instance_id"].tolist()[-1] == 6
    # independent reference: pycocotools' raster of the same outline in pixel-edge x, y
    xy = tri[:, [2, 1]] + 0.5
    rle = mask_utils.frPyObjects([xy.ravel().tolist()], 24, 30)
    want = mask_utils.decode(mask_utils.merge(rle)).astype(bool)
    assert want.sum() > 40
    np.testing.assert_array_equal(session.instances.data[0] == 6, want)
    np.testing.assert_array_equal(session.instances.data[1], lab[1])  # other plane untouched
    assert session.objects()[6].class_id == 1  # no active class: the first one
    entries = session._history[n_history:]
    # the instance tools record their table update beside the action itself
    assert [e["action"] for e in entries] == ["set_objects", "polygons_to_instances"]
    assert entries[-1]["params"]["new_ids"] == [6]
    records = session.effort_records()[n_effort:]
    assert [(r.route, r.action) for r in records] == [("instance-tools", "polygons_to_instances")]
    session.instances.undo()
    np.testing.assert_array_equal(session.instances.data, lab)
    assert 6 not in session.objects()
    session.instances.redo()
    np.testing.assert_array_equal(session.instances.data[0] == 6, want)
    assert session.objects()[6].class_id == 1


def test_bad_polygon_changes_nothing(session: LabelSession) -> None:
    lab = _stack_with_objects(session)
    layer = session.polygons_from_instances()
    layer.add_polygons([np.array([[0, 0, 0], [0, 4, 4], [0, 0, 4], [0, 6, 0]], float)])
    n_history = len(session._history)
    with pytest.raises(ObjectKindError, match="self-intersecting") as exc:
        session.polygons_to_instances(layer)
    assert exc.value.where == f"polygons: shape {len(layer.data) - 1}"
    np.testing.assert_array_equal(session.instances.data, lab)
    assert len(session._history) == n_history
    feats = layer.features
    feats.loc[len(feats) - 1, "class_id"] = 9
    layer.data = layer.data[:-1] + [np.array([[0, 1, 1], [0, 1, 5], [0, 5, 5]], float)]
    layer.features = feats
    with pytest.raises(ObjectKindError, match="taxonomy"):
        session.polygons_to_instances(layer)
    np.testing.assert_array_equal(session.instances.data, lab)


def test_polygon_drawn_by_hand_is_logged_per_vertex(session: LabelSession) -> None:
    _stack_with_objects(session)
    layer = session.polygons_from_instances()
    n_effort = len(session.effort_records())
    layer._is_creating = True  # what napari's polygon tool sets while it draws
    layer.add_polygons([np.array([[0, 20, 20], [0, 20, 26], [0, 23, 26], [0, 23, 21]], float)])
    layer._is_creating = False
    layer.add_polygons([np.array([[0, 1, 20], [0, 1, 26], [0, 5, 26]], float)])  # from code
    records = session.effort_records()[n_effort:]
    assert [(r.route, r.action, r.count) for r in records] == [("polygon", "vertex", 4)]


def test_add_polygons_layer_keeps_the_given_vertices(session: LabelSession) -> None:
    xy = [[3.0, 4.0], [20.0, 5.0], [18.0, 22.0]]
    layer = session.add_polygons_layer(
        [{"xy": xy, "class_id": 1, "instance_id": 7}],
        objects={7: ObjectInfo(1, {"occluded": True}, status="done")},
    )
    np.testing.assert_allclose(layer.data[0], np.asarray(xy)[:, ::-1] - 0.5)
    (p,) = session.polygons_list(layer)
    assert (p["instance_id"], p["status"], p["attributes"]) == (7, "done", {"occluded": True})
    with pytest.raises(ObjectKindError, match="taxonomy"):
        session.add_polygons_layer([{"xy": xy, "class_id": 9}])
