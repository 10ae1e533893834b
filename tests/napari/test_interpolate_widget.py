"""The "Interpolate / track" widget: its callbacks drive the session; results land in layers."""

from __future__ import annotations

import numpy as np
import pytest
from skimage.draw import disk

from napari_labelsuite.core.annotation import Box, ObjectInfo
from napari_labelsuite.core.synthetic import NUCLEI_CLASSES
from napari_labelsuite.core.taxonomy import Taxonomy


def disk_mask(shape=(40, 40), center=(20, 20), radius=8):
    m = np.zeros(shape, bool)
    m[disk(center, radius, shape=shape)] = True
    return m


@pytest.fixture
def widget(make_napari_viewer, monkeypatch):
    from napari_labelsuite._widgets import _base
    from napari_labelsuite._widgets.interpolate import InterpolateWidget

    viewer = make_napari_viewer()
    w = InterpolateWidget(viewer)
    w.session.taxonomy = Taxonomy(NUCLEI_CLASSES, name="cells")
    w.errors = []
    monkeypatch.setattr(_base, "show_error", w.errors.append)
    return w


def test_interpolate_selected_object_is_one_undo_step(widget):
    lab = np.zeros((9, 40, 40), np.int32)
    m = disk_mask()
    lab[0][m] = 1
    lab[8][m] = 1
    lab[4, 0:5, 0:5] = 2
    layer = widget.session.add_instance_layer(lab.copy(), objects={1: ObjectInfo(1)})
    layer.selected_label = 1
    widget.interpolate()
    assert all(np.array_equal(layer.data[z] == 1, m) for z in range(9))
    assert np.array_equal(layer.data[4] == 2, lab[4] == 2)
    assert "1: " in widget.status.text() and str(7 * int(m.sum())) in widget.status.text()
    layer.undo()
    assert np.array_equal(layer.data, lab)


def test_interpolate_all_objects_in_a_worker_with_image(widget, qtbot):
    lab = np.zeros((7, 40, 60), np.int32)
    a, b = disk_mask((40, 60), (20, 15), 7), disk_mask((40, 60), (20, 45), 7)
    for z in (0, 6):
        lab[z][a] = 1
        lab[z][b] = 2
    img = np.zeros(lab.shape, np.float32)
    img[:, a | b] = 1.0
    widget.viewer.add_image(img, name="raw")
    assert widget.image.findText("raw") >= 0
    widget.image.setCurrentText("raw")
    layer = widget.session.add_instance_layer(lab.copy())
    widget.scope.setCurrentText("all objects")
    widget.interpolate()
    qtbot.waitUntil(lambda: "all objects" in widget.status.text(), timeout=30000)
    assert all(np.array_equal(layer.data[z], lab[0]) for z in range(7))
    assert widget.session.history()[-1]["params"]["image"] == "raw"
    layer.undo()
    assert np.array_equal(layer.data, lab)


def test_propagate_buttons_follow_the_current_plane(widget, qtbot):
    lab = np.zeros((6, 30, 30), np.int32)
    m = disk_mask((30, 30), (15, 15), 6)
    lab[2][m] = 3
    layer = widget.session.add_instance_layer(lab.copy())
    layer.selected_label = 3
    widget.viewer.dims.set_point(0, 2)
    widget.propagate("forward", 1)
    assert np.array_equal(layer.data[3] == 3, m) and not (layer.data[4] == 3).any()
    widget.propagate("backward", None)  # to the end, in a worker
    qtbot.waitUntil(lambda: (layer.data[0] == 3).any(), timeout=30000)
    assert all(np.array_equal(layer.data[z] == 3, m) for z in range(4))
    assert [e["action"] for e in widget.session.history()[-2:]] == ["propagate", "propagate"]


def test_boxes_interpolate_track_id_and_undo(widget):
    layer = widget.session.add_boxes_layer(
        [
            Box(0, 0, 10, 10, class_id=1, plane=(0,), instance_id=1),
            Box(10, 0, 20, 10, class_id=1, plane=(2,)),
        ],
        ndim=3,
    )
    widget.set_box_track()  # nothing selected: a notification, nothing changed
    assert widget.errors and "no box selected" in widget.errors[-1]
    layer.selected_data = {1}
    widget.track_id.setValue(1)
    widget.set_box_track()
    widget.interpolate_boxes()
    assert len(layer.data) == 3
    assert [b.xyxy for b in widget.session.boxes_list(layer)][1] == (5, 0, 15, 10)
    assert widget.status.text() == "1 boxes interpolated"
    widget.undo_boxes()
    assert len(layer.data) == 2


def test_track_in_worker_and_ctc_round_trip(widget, qtbot, tmp_path):
    lab = np.zeros((3, 20, 20), np.int32)
    lab[0, 2:10, 2:10] = 4
    lab[1, 2:10, 3:11] = 9
    lab[2, 2:5, 3:11] = 1
    lab[2, 6:10, 3:11] = 2
    layer = widget.session.add_instance_layer(lab.copy())
    widget.track()
    qtbot.waitUntil(lambda: "tracks" in widget.status.text(), timeout=30000)
    assert widget.status.text() == "3 tracks, 1 divisions"
    assert layer.data[1, 5, 5] == 1 and set(np.unique(layer.data[2])) == {0, 2, 3}
    files = widget.export_ctc(tmp_path / "TRA")
    assert len(files) == 4
    new = widget.import_ctc(tmp_path / "TRA")
    assert np.array_equal(new.data, layer.data)
    widget.import_ctc(tmp_path / "missing")
    assert "not a Cell Tracking Challenge folder" in widget.errors[-1]


def test_errors_become_notifications_and_change_nothing(widget):
    lab = np.zeros((4, 10, 10), np.int32)
    lab[0, 2:5, 2:5] = 1
    layer = widget.session.add_instance_layer(lab.copy())
    layer.selected_label = 1
    widget.interpolate()  # one keyframe only
    assert "annotated on one plane only" in widget.errors[-1]
    widget.axis.setValue(5)
    widget.interpolate()
    assert "axis" in widget.errors[-1]
    assert np.array_equal(layer.data, lab)
