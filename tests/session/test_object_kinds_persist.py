"""Polygons, rotated boxes and keypoint sets are saved with the image and shown again."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import tifffile

from napari_labelsuite import LabelSession
from napari_labelsuite.core.errors import FormatError, StoreError
from napari_labelsuite.core.objects import Keypoints, RotatedBox
from napari_labelsuite.core.store import MaskStore
from napari_labelsuite.core.taxonomy import Taxonomy

TAX = {
    "classes": [
        {"id": 1, "name": "ship", "attributes": [{"name": "occluded", "kind": "bool"}]},
        {"id": 2, "name": "person", "keypoints": {
            "names": ["head", "left_hand", "right_hand"], "edges": [[0, 1], [0, 2]],
            "flip_pairs": [[1, 2]]}},
    ]
}  # fmt: skip

POLY = np.array([[2.25, 3.5], [14.0, 3.5], [9.1, 11.7]])  # 9.1, 11.7: not float32-exact


@pytest.fixture
def folder(tmp_path):
    rng = np.random.default_rng(1)
    for name in ("a.tif", "b.tif"):
        tifffile.imwrite(tmp_path / name, rng.integers(0, 255, (24, 30), dtype=np.uint8))
    return tmp_path


@pytest.fixture
def session(folder) -> LabelSession:
    s = LabelSession()
    s.taxonomy = Taxonomy.from_dict(TAX)
    s.open_dataset(folder)
    return s


def _draw(s: LabelSession) -> None:
    """Objects of each kind as a person leaves them: reviewed, with attributes."""
    poly = s.add_polygons_layer([{"xy": POLY, "class_id": 1, "instance_id": 4}])
    feats = poly.features.copy()
    feats["occluded"] = [True]
    poly.features = feats
    s.set_object_review_status("needs-fix", 0, poly)
    s.add_rotated_boxes_layer([RotatedBox(15.5, 10.25, 8.0, 3.5, 35.0, 1, difficult=True)])
    kps = s.add_keypoints_layer([
        Keypoints(np.array([[5.5, 6.5, 2], [0, 0, 0], [8.5, 9.5, 1]]), 2, box=(2, 3, 12, 14)),
        Keypoints(np.array([[20.5, 6.5, 1], [22.5, 8.5, 2], [18.5, 8.5, 2]]), 2),
    ])  # fmt: skip
    s.set_object_review_status("approved", 1, kps)


def _objects(s: LabelSession) -> tuple:
    ann = s._object_kinds_into(s.to_annotation())
    polys = [(p.ring.xy.tolist(), p.ring.hole, p.class_id, p.instance_id, p.status,
              p.attributes) for p in ann.polygons]  # fmt: skip
    rot = [(rb.class_id, rb.difficult, rb.status, rb.plane) for rb in ann.rotated]
    corners = [rb.corners() for rb in ann.rotated]
    kps = [(kp.xyv.tolist(), kp.class_id, kp.status, kp.box) for kp in ann.keypoints]
    return polys, rot, corners, kps


def test_objects_drawn_come_back_after_next_and_prev(session: LabelSession) -> None:
    _draw(session)
    before = _objects(session)
    assert before[0] == [(POLY.tolist(), False, 1, 4, "needs-fix", {"occluded": True})]
    assert before[3][1][2] == "approved"
    session.next()
    assert session.index == 1
    # the next image shows none of the first image's objects
    assert not any(session.layers_of_role(r) for r in ("polygons", "rotated", "keypoints"))
    session.prev()
    assert session.index == 0
    after = _objects(session)
    assert after[0] == before[0] and after[1] == before[1] and after[3] == before[3]
    np.testing.assert_allclose(after[2][0], before[2][0], rtol=0, atol=1e-9)
    # the reopened layers are the session's managed ones: editing them still works
    rot = session.layers_of_role("rotated")[0]
    assert rot.features["class"].tolist() == ["ship"]


def test_the_sidecar_json_holds_every_kind(session: LabelSession) -> None:
    _draw(session)
    path = session.save_current()
    with open(path) as fh:
        doc = json.load(fh)["annotation"]
    assert [
        (p["xy"], p["instance_id"], p["status"], p["attributes"]) for p in doc["polygons"]
    ] == [(POLY.tolist(), 4, "needs-fix", {"occluded": True})]
    (rb,) = doc["rotated"]
    assert (rb["class_id"], rb["difficult"], rb["status"]) == (1, True, "todo")
    np.testing.assert_allclose(rb["xywha"], [15.5, 10.25, 8.0, 3.5, 35.0], atol=1e-4)
    assert [(k["xyv"], k["status"], k["box"]) for k in doc["keypoints"]] == [
        ([[5.5, 6.5, 2.0], [0.0, 0.0, 0.0], [8.5, 9.5, 1.0]], "todo", [2.0, 3.0, 12.0, 14.0]),
        ([[20.5, 6.5, 1.0], [22.5, 8.5, 2.0], [18.5, 8.5, 2.0]], "approved", None),
    ]


def test_an_image_with_only_keypoints_is_saved_when_leaving_it(session: LabelSession) -> None:
    ds = session.dataset
    session.add_keypoints_layer([Keypoints(np.array([[5.5, 6.5, 2], [0, 0, 0], [0, 0, 0]]), 2)])
    session.next()
    assert ds.has_annotation(0) and not ds.has_annotation(1)
    (kp,) = ds.load_annotation(0).keypoints
    assert kp.xyv.tolist() == [[5.5, 6.5, 2.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]


def test_a_malformed_saved_object_leaves_the_shown_image_as_it_was(session) -> None:
    _draw(session)
    session.next()
    path = session.dataset.sidecar_path(0)
    doc = json.loads(path.read_text())
    doc["annotation"]["keypoints"][0]["xyv"][0][2] = 7
    path.write_text(json.dumps(doc))
    shown = [ly.name for ly in session.layers]
    with pytest.raises(FormatError, match="visibility"):
        session.prev()
    assert session.index == 1 and [ly.name for ly in session.layers] == shown


# -- mask stores --------------------------------------------------------------------------
def _store(tmp_path, name: str = "s.ome.zarr") -> str:
    s = LabelSession()
    s.taxonomy = Taxonomy.from_dict(TAX)
    s.add_instance_layer(np.zeros((24, 30), np.int32))
    path = str(tmp_path / name)
    s.create_store(path)
    s.close_store()
    return path


def test_store_saves_the_objects_and_shows_them_when_reopened(tmp_path) -> None:
    path = _store(tmp_path)
    s = LabelSession()
    s.open_store(path)
    assert not s.layers_of_role("polygons")
    _draw(s)
    before = _objects(s)
    assert s.store_has_unsaved_edits()  # objects alone are edits to save
    s.save_store()
    assert not s.store_has_unsaved_edits()
    s.close_store()
    meta = MaskStore.open(path, "r").annotation_meta
    assert [p["status"] for p in meta["polygons"]] == ["needs-fix"]
    assert [k["status"] for k in meta["keypoints"]] == ["todo", "approved"]
    t = LabelSession()
    t.open_store(path)
    after = _objects(t)
    assert after[0] == before[0] and after[1] == before[1] and after[3] == before[3]
    np.testing.assert_allclose(after[2][0], before[2][0], rtol=0, atol=1e-9)


def test_objects_in_a_dataset_of_stores_survive_next_and_prev(tmp_path) -> None:
    _store(tmp_path, "a.ome.zarr")
    _store(tmp_path, "b.ome.zarr")
    s = LabelSession()
    s.open_dataset([tmp_path / "a.ome.zarr", tmp_path / "b.ome.zarr"])
    _draw(s)
    before = _objects(s)
    s.next()
    assert not any(s.layers_of_role(r) for r in ("polygons", "rotated", "keypoints"))
    s.prev()
    after = _objects(s)
    assert after[0] == before[0] and after[1] == before[1] and after[3] == before[3]


def test_a_malformed_object_in_a_store_is_a_store_error_and_adds_no_layer(tmp_path) -> None:
    path = _store(tmp_path)
    with MaskStore.open(path, "r+") as st:
        meta = st.annotation_meta
        meta["rotated"] = [{"xywha": [1, 2, 0, 3, 0], "class_id": 1}]
        st.set_annotation_meta(meta)
        st.save()
    s = LabelSession()
    with pytest.raises(StoreError, match="degenerate") as err:
        s.open_store(path)
    assert (err.value.where, err.value.field) == ("rotated[0]", "xywha")
    assert len(s.layers) == 0 and s.store is None


# -- review fixes ----------------------------------------------------------------------------
def test_the_first_keypoint_set_is_object_0_in_the_layer_and_in_the_effort_log(session) -> None:
    layer = session.add_keypoints_layer()
    session.set_active_class(2)
    layer.mode = "add"  # napari's point tool: the effort log counts the click
    layer.add(np.array([[6.0, 5.0]]))
    layer.add(np.array([[7.0, 9.0]]))  # the same person's next keypoint
    assert layer.features["object"].tolist() == [0, 0]
    recs = [r for r in session.effort_records() if r.route == "keypoints"]
    assert [(r.action, r.object_id, r.class_id) for r in recs] == [("point", 0, 2)] * 2


def test_export_dataset_writes_the_saved_rotated_boxes(session, tmp_path) -> None:
    session.add_rotated_boxes_layer([RotatedBox(15.5, 10.5, 8.0, 4.0, 0.0, 1, difficult=True)])
    session.next()  # saved on leaving the image
    files = session.export_dataset(tmp_path / "out", "dota")
    (txt,) = [f for f in files if f.name == "a.txt"]
    assert txt.read_text().split() == ["11.5", "8.5", "19.5", "8.5", "19.5", "12.5", "11.5",
                                       "12.5", "ship", "1"]  # fmt: skip


def test_a_keypoint_set_started_by_hand_after_reopening_is_todo_and_unlinked(session) -> None:
    xyv = np.array([[5.5, 6.5, 2], [0, 0, 0], [0, 0, 0]])
    session.add_keypoints_layer([Keypoints(xyv, 2, instance_id=7)])
    kps = session.layers_of_role("keypoints")[0]
    session.set_object_review_status("approved", 0, kps)
    session.next()
    session.prev()
    kps = session.layers_of_role("keypoints")[0]
    session.set_active_class(2)
    kps.add(np.array([[20.0, 25.0]]))  # outside every box: a new person
    first, new = session._object_kinds_into(session.to_annotation()).keypoints
    assert (first.instance_id, first.status) == (7, "approved")
    assert (new.instance_id, new.status, new.attributes) == (0, "todo", {})
    assert new.xyv.tolist() == [[25.5, 20.5, 2.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]


def test_objects_on_planes_of_a_stack_come_back_on_their_planes(tmp_path) -> None:
    rng = np.random.default_rng(2)
    for name in ("a.tif", "b.tif"):
        stack = rng.integers(0, 255, (3, 24, 30), dtype=np.uint8)
        tifffile.imwrite(tmp_path / name, stack, photometric="minisblack")
    s = LabelSession()
    s.taxonomy = Taxonomy.from_dict(TAX)
    s.open_dataset(tmp_path)
    s.add_polygons_layer([{"xy": POLY, "class_id": 1, "instance_id": 2, "plane": (2,)}], ndim=3)
    s.add_rotated_boxes_layer([RotatedBox(15.5, 10.25, 8.0, 3.5, 35.0, 1, plane=(1,))], ndim=3)
    xyv = np.array([[5.5, 6.5, 2], [7.5, 8.5, 1], [0, 0, 0]])
    s.add_keypoints_layer([Keypoints(xyv, 2, plane=(0,)), Keypoints(xyv, 2, plane=(2,))], ndim=3)
    s.next()
    s.prev()
    ann = s._object_kinds_into(s.to_annotation())
    assert [(p.plane, p.ring.xy.tolist()) for p in ann.polygons] == [((2,), POLY.tolist())]
    assert [rb.plane for rb in ann.rotated] == [(1,)]
    assert [(k.plane, k.xyv.tolist()) for k in ann.keypoints] == [
        ((0,), xyv.tolist()), ((2,), xyv.tolist())]  # fmt: skip


def test_a_rotated_box_keeps_the_corners_it_was_read_with_after_reopening(session) -> None:
    # as a DOTA file gives them: rounded corners the (cx, cy, w, h, angle) box matches to 1e-4
    src = np.array([[10.0, 5.0], [18.0, 5.0], [18.0, 9.00004], [10.0, 9.00004]])
    rb = RotatedBox(14.0, 7.00002, 8.0, 4.00004, 0.0, 1, source_corners=src)
    assert np.array_equal(rb.corners(), src)
    session.add_rotated_boxes_layer([rb, RotatedBox(20.5, 15.5, 6.0, 3.0, 10.0, 1)])
    session.next()
    session.prev()
    a, b = session._object_kinds_into(session.to_annotation()).rotated
    assert np.array_equal(a.corners(), src)  # written back unchanged
    assert b.source_corners is None


def test_keypoint_and_rotated_attributes_survive_and_a_bad_saved_polygon_is_left_out(
    session,
) -> None:
    xyv = np.array([[5.5, 6.5, 2], [0, 0, 0], [0, 0, 0]])
    session.add_keypoints_layer([Keypoints(xyv, 2)])
    session.add_rotated_boxes_layer([RotatedBox(15.5, 10.5, 8.0, 4.0, 20.0, 1)])
    for role in ("keypoints", "rotated"):
        layer = session.layers_of_role(role)[0]
        feats = layer.features.copy()
        feats["occluded"] = pd.Series([True] * len(feats), dtype=object)
        layer.features = feats
    session.next()
    path = session.dataset.sidecar_path(0)
    doc = json.loads(path.read_text())
    bow = [[0.0, 0.0], [12.0, 10.0], [12.0, 0.0], [0.0, 4.0]]  # edges cross
    good = {"xy": POLY.tolist(), "class_id": 1, "instance_id": 2, "status": "approved"}
    doc["annotation"]["polygons"] = [{"xy": bow, "class_id": 1, "instance_id": 1}, good]
    path.write_text(json.dumps(doc))
    with pytest.warns(UserWarning, match=r"polygons\[0\].*self-intersecting.*not shown"):
        session.prev()
    ann = session._object_kinds_into(session.to_annotation())
    assert [k.attributes for k in ann.keypoints] == [{"occluded": True}]
    assert [rb.attributes for rb in ann.rotated] == [{"occluded": True}]
    assert [(p.instance_id, p.status) for p in ann.polygons] == [(2, "approved")]


def test_viewing_a_store_with_objects_is_no_edit(tmp_path) -> None:
    path = _store(tmp_path)
    s = LabelSession()
    s.open_store(path)
    _draw(s)
    s.save_store()
    s.close_store()
    t = LabelSession()
    t.open_store(path)
    assert not t.store_has_unsaved_edits()  # shown as saved: nothing to write
    t.layers_of_role("rotated")[0].data = [t.layers_of_role("rotated")[0].data[0] + 1.0]
    assert t.store_has_unsaved_edits()  # a moved box is
