"""Assisted labeling on a headless LabelSession: one object = one instance, one undo step,
one provenance entry, one effort entry; bad prompts change nothing."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi
from skimage.draw import disk

from napari_labelsuite import LabelSession
from napari_labelsuite.core.annotation import ObjectInfo
from napari_labelsuite.core.assist import segment, wand
from napari_labelsuite.core.errors import AssistError, SessionError


def _image(shape=(80, 100)):
    img = np.full(shape, 20.0, np.float32)
    img[disk((40, 30), 12, shape=shape)] = 200
    img[disk((40, 70), 10, shape=shape)] = 140
    img = ndi.gaussian_filter(img, 1.0)
    return (img + np.random.default_rng(0).normal(0, 3, shape)).astype(np.float32)


@pytest.fixture
def session(cells_taxonomy):
    s = LabelSession(taxonomy=cells_taxonomy, user="ana")
    s.layers.append(__import__("napari").layers.Image(_image(), name="img"))
    s.add_instance_layer(np.zeros((80, 100), np.int32))
    s.set_active_class("nucleus")
    return s


@pytest.fixture
def effort(session, monkeypatch):
    calls = []
    monkeypatch.setattr(session, "_log_effort", lambda *a, **k: calls.append((a, k)))
    return calls


def test_segment_object_adds_one_instance_of_the_active_class(session, effort):
    layer = session.instances
    n_hist = len(session.history())
    iid = session.segment_object([[40, 30]], [1])
    expected = segment(_image(), [[40, 30]], [1])
    np.testing.assert_array_equal(layer.data == iid, expected)
    assert session.objects(layer)[iid].class_id == 1
    entries = session.history()[n_hist:]
    assert [e["action"] for e in entries] == ["segment_object"]
    assert entries[0]["params"]["instance_id"] == iid
    assert effort == [
        (
            ("click-assist", "click"),
            {
                "count": 1,
                "layer": layer,
                "object_id": iid,
                "class_id": 1,
                "finished": True,
            },
        )
    ]


def test_one_undo_removes_the_object_and_its_row(session):
    layer = session.instances
    iid = session.segment_object([[40, 30], [40, 70]], [1, 0])
    assert (layer.data == iid).any() and iid in session.objects(layer)
    layer.undo()
    assert not layer.data.any()
    assert iid not in session.objects(layer)
    layer.redo()
    assert (layer.data == iid).any() and session.objects(layer)[iid].class_id == 1


def test_existing_instances_are_kept(session):
    layer = session.instances
    data = layer.data.copy()
    data[38:43, 25:35] = 7
    layer.data = data
    session.set_objects({7: ObjectInfo(2)})
    iid = session.segment_object([[30, 30]], [1])
    assert iid == 8
    assert (layer.data[38:43, 25:35] == 7).all()
    assert (layer.data == 8).sum() > 200


def test_wand_adds_the_flood_region_on_route_wand(session, effort):
    layer = session.instances
    iid = session.wand((40, 30), tolerance=60.0, class_name="cytoplasm")
    np.testing.assert_array_equal(layer.data == iid, wand(_image(), (40, 30), 60.0))
    assert session.objects(layer)[iid].class_id == 2
    assert effort[0][0] == ("wand", "click")
    assert session.history()[-1]["action"] == "wand"


def test_bad_prompt_leaves_layers_and_log_unchanged(session, effort):
    layer = session.instances
    n_hist = len(session.history())
    for kwargs in (
        {"points": [[40, 300]], "point_labels": [1]},
        {"points": [[40, 30]], "point_labels": [3]},
        {"points": [[40, 30]], "point_labels": [1], "box": (50, 10, 20, 60)},
        {"points": [[np.inf, 3]], "point_labels": [1]},
    ):
        with pytest.raises(AssistError):
            session.segment_object(**kwargs)
    assert not layer.data.any()
    assert len(session.history()) == n_hist
    assert effort == []
    assert len(layer._undo_history) == 0


def test_no_class_chosen_is_refused(cells_taxonomy):
    s = LabelSession(taxonomy=cells_taxonomy)
    s.layers.append(__import__("napari").layers.Image(_image(), name="img"))
    s.add_instance_layer(np.zeros((80, 100), np.int32))
    with pytest.raises(SessionError) as info:
        s.segment_object([[40, 30]], [1])
    assert info.value.field == "class_name"


def test_candidate_clicks_accept_and_discard(session, effort):
    layer = session.instances
    cand = session.assist_click((40, 30))
    first = cand.mask.copy()
    assert cand.points == [[40.0, 30.0]] and cand.latency_ms > 0
    cand = session.assist_click((40, 40), positive=False)
    assert not cand.mask[40 - cand.window[0].start, 40 - cand.window[1].start]
    assert not layer.data.any()  # a preview changes no layer
    session.discard_candidate()
    assert session.candidate is None and not layer.data.any()
    session.assist_click((40, 30))
    iid = session.accept_candidate()
    assert session.candidate is None
    assert (layer.data == iid).sum() == first.sum()
    assert effort[-1][1]["count"] == 1


def test_boxes_layer_gets_the_object_box(session):
    boxes = session.add_boxes_layer([])
    session._select(session.instances)
    iid = session.segment_object([[40, 30]], [1])
    (box,) = session.boxes_list(boxes)
    rows, cols = np.nonzero(session.instances.data == iid)
    assert box.instance_id == iid and box.class_id == 1
    assert box.xyxy == (cols.min(), rows.min(), cols.max() + 1, rows.max() + 1)


def test_box_object_and_snap_box(session):
    iid = session.box_object((55, 25, 85, 55))
    rows, cols = np.nonzero(session.instances.data == iid)
    assert abs(cols.mean() - 70) < 2 and abs(rows.mean() - 40) < 2
    boxes = session.add_boxes_layer([])
    boxes.add_rectangles([[[22, 52], [58, 88]]])
    session.set_box_class("nucleus", [0])
    x0, y0, x1, y1 = session.snap_box(0)
    assert x0 >= 58 and x1 <= 82 and y0 >= 28 and y1 <= 52
    assert session.boxes_list(boxes)[0].xyxy == (x0, y0, x1, y1)


def test_plane_of_a_stack(cells_taxonomy):
    s = LabelSession(taxonomy=cells_taxonomy)
    stack = np.stack([_image(), np.zeros((80, 100), np.float32) + 5, _image()])
    s.layers.append(__import__("napari").layers.Image(stack, name="img"))
    s.add_instance_layer(np.zeros(stack.shape, np.int32))
    s.set_active_class("nucleus")
    iid = s.segment_object([[2, 40, 30]], [1])
    planes = np.flatnonzero((s.instances.data == iid).any(axis=(1, 2)))
    assert planes.tolist() == [2]
    np.testing.assert_array_equal(s.instances.data[2] == iid, segment(_image(), [[40, 30]], [1]))
