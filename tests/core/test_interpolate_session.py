"""Interpolation, propagation and tracking on a headless LabelSession: undo, provenance, effort."""

from __future__ import annotations

import numpy as np
import pytest
from skimage.draw import disk

from napari_labelsuite import LabelSession
from napari_labelsuite.core.annotation import Box, ObjectInfo
from napari_labelsuite.core.errors import InterpolateError


@pytest.fixture
def session(cells_taxonomy, monkeypatch):
    s = LabelSession(taxonomy=cells_taxonomy, user="ana")
    s.effort_calls = []
    monkeypatch.setattr(
        s, "_log_effort", lambda route, action, **kw: s.effort_calls.append((route, action, kw))
    )
    return s


def stack():
    lab = np.zeros((7, 32, 32), np.int32)
    m = np.zeros((32, 32), bool)
    m[disk((16, 16), 6)] = True
    lab[0][m] = 1
    lab[6][m] = 1
    lab[3, 0:4, 0:4] = 2
    lab[0, 25:30, 25:30] = 3  # one keyframe only
    return lab, m


def test_interpolate_is_one_undo_step_with_provenance_and_effort(session):
    lab, m = stack()
    layer = session.add_instance_layer(lab.copy(), objects={1: ObjectInfo(1), 2: ObjectInfo(2)})
    n_hist = len(session.history())
    session.interpolate_slices(1)
    assert all(np.array_equal(layer.data[z] == 1, m) for z in range(7))
    assert np.array_equal(layer.data[3] == 2, lab[3] == 2)
    entries = session.history()[n_hist:]
    assert [e["action"] for e in entries] == ["interpolate_slices"]
    assert entries[0]["params"]["label_id"] == 1 and entries[0]["params"]["axis"] == 0
    assert session.effort_calls == [
        (
            "interpolation",
            "interpolate",
            {
                "count": 1,
                "pixels": 5 * int(m.sum()),
                "layer": layer,
                "object_id": 1,
                "class_id": 1,
            },
        )
    ]
    layer.undo()
    assert np.array_equal(layer.data, lab)
    layer.redo()
    assert (layer.data[3] == 1).sum() == m.sum()


def test_interpolate_all_and_bad_input_leaves_the_layer(session):
    lab, m = stack()
    layer = session.add_instance_layer(lab.copy())
    with pytest.raises(InterpolateError) as info:
        session.interpolate_slices(3)
    assert info.value.field == "label_id" and info.value.value == 3
    with pytest.raises(InterpolateError):
        session.interpolate_slices(1, axis=5)
    with pytest.raises(InterpolateError) as info:
        session.interpolate_slices(1, image=np.zeros((3, 3, 3)))
    assert info.value.field == "image"
    assert np.array_equal(layer.data, lab) and not layer._undo_history
    session.interpolate_slices(None)
    assert all((layer.data[z] == 1).sum() == m.sum() for z in range(7))
    assert (layer.data == 3).sum() == 25  # single keyframe: left alone


def test_interpolate_with_an_image_layer(session):
    lab, m = stack()
    img = np.zeros(lab.shape, np.float32)
    img[:, m] = 1.0
    image = session.layers.append(__import__("napari").layers.Image(img, name="img"))
    image = session.layers["img"]
    layer = session.add_instance_layer(lab.copy())
    session.interpolate_slices(1, image=image)
    assert all(np.array_equal(layer.data[z] == 1, m & (lab[z] != 2)) for z in range(7))
    assert session.history()[-1]["params"]["image"] == "img"


def test_propagate_one_undo_step(session):
    lab, m = stack()
    lab[6] = 0
    layer = session.add_instance_layer(lab.copy(), objects={1: ObjectInfo(1)})
    layer.selected_label = 1
    session.propagate(from_plane=0, limit=2)
    assert np.array_equal(layer.data[1] == 1, m) and np.array_equal(layer.data[2] == 1, m)
    assert not (layer.data[3] == 1).any()
    assert session.history()[-1]["action"] == "propagate"
    assert session.effort_calls[-1][:2] == ("propagation", "propagate")
    layer.undo()
    assert np.array_equal(layer.data, lab)
    with pytest.raises(InterpolateError):
        session.propagate(1, from_plane=4)  # not on that plane


def test_interpolate_boxes_undo_and_keyframe_on_edit(session):
    boxes = [
        Box(0, 0, 10, 10, class_id=1, plane=(0,), instance_id=1),
        Box(8, 0, 18, 10, class_id=1, plane=(4,), instance_id=1),
    ]
    layer = session.add_boxes_layer(boxes, ndim=3)
    out = session.interpolate_boxes()
    assert len(layer.data) == 5
    got = session.boxes_list(layer)
    assert [(b.plane, b.xyxy) for b in got] == [(b.plane, b.xyxy) for b in out]
    assert [b.xyxy for b in got][2] == (4, 0, 14, 10)
    assert layer.features["keyframe"].tolist() == [True, False, False, False, True]
    assert session.history()[-1]["action"] == "interpolate_boxes"
    # a person drags interpolated box 2 (what napari's move binding does on release)
    layer._data_view.shift(2, np.array([0.0, -4.0]))  # in the displayed plane
    layer.events.data(value=layer.data, action="changed", data_indices=(2,), vertex_indices=())
    assert layer.features["keyframe"].tolist()[2] is True
    again = session.interpolate_boxes()
    assert [b.xyxy for b in again if b.plane == (1,)] == [(0, 0, 10, 10)]
    assert session.undo_boxes() and session.undo_boxes()
    assert [b.xyxy for b in session.boxes_list(layer)] == [b.xyxy for b in boxes]
    assert not session.undo_boxes()


def test_set_box_track(session):
    layer = session.add_boxes_layer([Box(0, 0, 4, 4, class_id=1, plane=(0,))], ndim=3)
    session.set_box_track(7, [0])
    assert session.boxes_list(layer)[0].instance_id == 7


def test_track_relabels_records_divisions_and_undoes(session):
    lab = np.zeros((3, 20, 20), np.int32)
    lab[0, 2:10, 2:10] = 4
    lab[1, 2:5, 2:10] = 1  # divided
    lab[1, 6:10, 2:10] = 2
    lab[2, 2:5, 2:10] = 6
    lab[2, 6:10, 2:10] = 5
    layer = session.add_instance_layer(lab.copy(), objects={4: ObjectInfo(2)})
    before = session.objects(layer)
    res = session.track_instances()
    assert res.divisions() == {1: [2, 3]}
    assert np.array_equal(np.unique(layer.data[2]), [0, 2, 3])
    table = session.objects(layer)
    assert table[1].class_id == 2 and table[1].attributes["children"] == "2 3"
    assert table[2].attributes["parent"] == 1 and table[3].class_id == 1  # active/first class
    assert session.history()[-1]["action"] == "track_instances"
    assert session.effort_calls[-1][:2] == ("tracking", "track")
    layer.undo()
    assert np.array_equal(layer.data, lab) and session.objects(layer) == before


def test_ctc_export_and_import(session, tmp_path):
    lab = np.zeros((3, 20, 20), np.int32)
    lab[0, 2:10, 2:10] = 4
    lab[1, 2:5, 2:10] = 1
    lab[1, 6:10, 2:10] = 2
    lab[2, 2:5, 2:10] = 6
    lab[2, 6:10, 2:10] = 5
    session.add_instance_layer(lab.copy())
    session.track_instances()
    files = session.export_ctc(tmp_path / "TRA")
    assert (tmp_path / "TRA" / "man_track.txt").read_text() == "1 0 0 0\n2 1 2 1\n3 1 2 1\n"
    assert len(files) == 4
    layer = session.import_ctc(tmp_path / "TRA", name="ctc")
    assert layer.name == "ctc" and np.array_equal(np.unique(layer.data[1]), [0, 2, 3])
    assert session.objects(layer)[2].attributes == {"track_start": 1, "track_end": 2, "parent": 1}
    assert session.history()[-1]["action"] == "import_ctc"


def test_interpolate_on_a_zarr_backed_layer(session, tmp_path):
    import zarr

    lab, m = stack()
    z = zarr.create_array(
        str(tmp_path / "l.zarr"), shape=lab.shape, chunks=(2, 16, 16), dtype=lab.dtype
    )
    z[:] = lab
    layer = session.add_instance_layer(z)
    session.interpolate_slices(1)
    assert all(np.array_equal(np.asarray(z[k]) == 1, m) for k in range(7))  # in the store
    layer.undo()
    assert np.array_equal(np.asarray(z[:]), lab)
