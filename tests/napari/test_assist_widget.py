"""The "Assist" dock driven through its callbacks: preview, accept, discard, wand, errors."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi
from skimage.draw import disk

from napari_labelsuite import LabelSession
from napari_labelsuite._widgets.assist import AssistWidget
from napari_labelsuite.core.assist import segment
from napari_labelsuite.core.synthetic import NUCLEI_CLASSES
from napari_labelsuite.core.taxonomy import Taxonomy


def _image():
    img = np.full((80, 100), 20.0, np.float32)
    img[disk((40, 30), 12, shape=img.shape)] = 200
    img[disk((40, 70), 10, shape=img.shape)] = 140
    return ndi.gaussian_filter(img, 1.0)


@pytest.fixture
def widget(make_napari_viewer):
    viewer = make_napari_viewer()
    viewer.add_image(_image(), name="img")
    session = LabelSession.attach(viewer)
    session.taxonomy = Taxonomy(NUCLEI_CLASSES, name="cells")
    session.add_instance_layer(np.zeros((80, 100), np.int32))
    session.set_active_class("nucleus")
    w = AssistWidget(viewer)
    yield w
    w.close_bindings()


def test_click_shows_preview_and_enter_accepts(widget):
    session = widget.session
    widget._on_click(np.array([40.0, 30.0]))
    preview = widget.preview_layer()
    assert preview is not None
    expected = segment(_image(), [[40, 30]], [1])
    origin = [int(t) for t in preview.translate]
    shown = np.zeros_like(expected)
    h, w = preview.data.shape
    shown[origin[0] : origin[0] + h, origin[1] : origin[1] + w] = preview.data > 0
    np.testing.assert_array_equal(shown, expected)
    assert "1 inside / 0 outside" in widget.status.text() and "ms" in widget.status.text()
    assert not session.instances.data.any()
    widget._key_accept()
    iid = int(session.instances.data.max())
    np.testing.assert_array_equal(session.instances.data == iid, expected)
    assert widget.preview_layer() is None
    assert session.objects()[iid].class_id == 1


def test_shift_click_corrects_and_escape_discards(widget):
    session = widget.session
    widget._on_click(np.array([40.0, 30.0]))
    widget._on_click(np.array([40.0, 38.0]), positive=False)
    cand = session.candidate
    assert cand.labels == [1, 0]
    assert not cand.mask[40 - cand.window[0].start, 38 - cand.window[1].start]
    assert "1 inside / 1 outside" in widget.status.text()
    widget._key_discard()
    assert session.candidate is None and widget.preview_layer() is None
    assert not session.instances.data.any()


def test_drag_box_segments_the_object_in_it(widget):
    widget._on_box(np.array([25.0, 55.0]), np.array([55.0, 85.0]))
    cand = widget.session.candidate
    assert cand.box == (55.0, 25.0, 85.0, 55.0)
    widget._accept()
    rows, cols = np.nonzero(widget.session.instances.data)
    assert abs(rows.mean() - 40) < 2 and abs(cols.mean() - 70) < 2


def test_wand_click_adds_an_instance(widget):
    widget.tolerance.setValue(60.0)
    widget._on_wand(np.array([40.0, 30.0]))
    data = widget.session.instances.data
    assert (data == 1).sum() > 300 and "added instance 1" in widget.status.text()


def test_bad_click_is_a_notification_and_changes_nothing(widget, monkeypatch):
    shown = []
    monkeypatch.setattr("napari_labelsuite._widgets._base.show_error", shown.append)
    widget._on_click(np.array([40.0, 500.0]))
    assert shown and "outside the image" in shown[0]
    assert widget.preview_layer() is None
    assert not widget.session.instances.data.any()


def test_click_mode_binds_and_releases_the_mouse(widget):
    layer = widget.session.instances
    widget.click_mode.setChecked(True)
    assert widget._on_mouse in layer.mouse_drag_callbacks and layer.mode == "pan_zoom"
    widget.click_mode.setChecked(False)
    assert widget._on_mouse not in layer.mouse_drag_callbacks
    widget.wand_mode.setChecked(True)
    widget.close_bindings()
    assert widget._on_mouse not in layer.mouse_drag_callbacks


def test_bad_model_file_is_a_notification(widget, monkeypatch, tmp_path):
    shown = []
    monkeypatch.setattr("napari_labelsuite._widgets._base.show_error", shown.append)
    widget.engine_box.setCurrentText("onnx")
    widget.encoder_edit.setText(str(tmp_path / "missing-encoder.onnx"))
    widget.decoder_edit.setText(str(tmp_path / "missing-decoder.onnx"))
    widget._use_engine()
    assert shown and "missing-encoder.onnx" in shown[0]
    assert widget.session.assist_engine.name == "classical"


def test_one_undo_takes_back_the_object_and_its_box(widget):
    session = widget.session
    layer = session.instances
    boxes = session.add_boxes_layer([])
    session._select(layer)
    session.set_active_class("nucleus")
    logged = []
    session.effort_logged.connect(logged.append)
    widget._on_click(np.array([40.0, 30.0]))
    widget._key_accept()
    iid = int(layer.data.max())
    rows, cols = np.nonzero(layer.data == iid)
    (box,) = session.boxes_list(boxes)
    assert box.instance_id == iid
    assert box.xyxy == (cols.min(), rows.min(), cols.max() + 1, rows.max() + 1)
    assert len(logged) == 1  # the accept
    n_undo = len(layer._undo_history)

    layer.undo()  # what Ctrl-Z on the labels layer calls
    assert not layer.data.any()
    assert iid not in session.objects(layer)
    assert len(boxes.data) == 0 and session.boxes_list(boxes) == []
    assert len(layer._undo_history) == n_undo - 1  # one step for pixels, row and box
    assert len(logged) == 1  # removing the box is not a hand deletion

    layer.redo()
    assert (layer.data == iid).sum() == len(rows)
    (again,) = session.boxes_list(boxes)
    assert again.instance_id == iid and again.class_id == 1 and again.xyxy == box.xyxy


def test_undo_removes_only_the_box_of_the_undone_object(widget):
    session = widget.session
    layer = session.instances
    boxes = session.add_boxes_layer([])
    session._select(layer)
    first = session.segment_object([[40, 30]], [1])
    second = session.segment_object([[40, 70]], [1])
    assert [b.instance_id for b in session.boxes_list(boxes)] == [first, second]
    layer.undo()
    assert [b.instance_id for b in session.boxes_list(boxes)] == [first]
    assert (layer.data == first).any() and not (layer.data == second).any()


def test_encode_runs_in_a_worker_one_step_per_tile(widget, tmp_path, qtbot, monkeypatch):
    pytest.importorskip("onnxruntime")
    from tiny_sam import use_tiny_engine

    infos = []
    monkeypatch.setattr(widget, "info", infos.append)
    session = widget.session
    # the 80 x 100 image in 64-pixel tiles: 2 x 2 tiles
    use_tiny_engine(session, tmp_path)
    steps = []
    import napari.qt.threading as qt_threading

    create = qt_threading.create_worker

    def counting(*args, **kwargs):  # listens before the worker starts: no step is missed
        worker = create(*args, **kwargs)
        worker.yielded.connect(steps.append)
        return worker

    monkeypatch.setattr(qt_threading, "create_worker", counting)
    assert widget._encode() is not None
    # the last progress step and the final message are separate queued signals
    qtbot.waitUntil(lambda: infos == ["encoded 4 tile(s)"] and len(steps) == 4, timeout=30000)
    assert steps == [1, 1, 1, 1] and session.assist_engine.encoder_runs == 4
    assert len(list((tmp_path / "cache").rglob("*.npz"))) == 4
    widget._on_click(np.array([40.0, 30.0]))  # the click finds the encoded tiles
    assert session.assist_engine.encoder_runs == 4 and session.candidate.mask.any()


def test_encode_with_the_classical_engine_says_it_needs_none(widget, monkeypatch):
    infos = []
    monkeypatch.setattr(widget, "info", infos.append)
    assert widget._encode() is None
    assert infos == ["the classical engine needs no encoding"]


def test_snap_button_tightens_the_selected_box(widget):
    session = widget.session
    boxes = session.add_boxes_layer([])
    boxes.add_rectangles([[[22, 52], [58, 88]]])  # loose around the disc at (40, 70)
    session.set_box_class("nucleus", [0])
    boxes.selected_data = {0}
    widget.snap_btn.click()
    mask = segment(_image(), [], [], box=(52, 22, 88, 58))
    rows, cols = np.nonzero(mask)
    expected = (cols.min(), rows.min(), cols.max() + 1, rows.max() + 1)
    assert session.boxes_list(boxes)[0].xyxy == expected
    assert "box snapped" in widget.status.text()


def test_snap_without_a_selected_box_is_a_notification(widget, monkeypatch):
    shown = []
    monkeypatch.setattr("napari_labelsuite._widgets._base.show_error", shown.append)
    session = widget.session
    boxes = session.add_boxes_layer([])
    boxes.add_rectangles([[[22, 52], [58, 88]]])
    boxes.selected_data = set()
    before = np.array(boxes.data[0], copy=True)
    widget.snap_btn.click()
    assert shown and "no box selected" in shown[0]
    np.testing.assert_array_equal(boxes.data[0], before)


def test_accept_on_a_downsampled_texture_does_not_reslice(make_napari_viewer, monkeypatch, qtbot):
    # labels larger than the GPU's largest texture (here 64 pixels): napari strides the
    # texture by 2 and would re-slice the whole layer on every partial update
    monkeypatch.setattr("napari._vispy.layers.base.get_max_texture_sizes", lambda: (64, 2048))
    viewer = make_napari_viewer(show=True)
    viewer.add_image(_image(), name="img")
    session = LabelSession.attach(viewer)
    session.taxonomy = Taxonomy(NUCLEI_CLASSES, name="cells")
    layer = session.add_instance_layer(np.zeros((80, 100), np.uint32))
    session.set_active_class("nucleus")
    visual = viewer.window._qt_viewer.canvas.layer_to_visual[layer]
    qtbot.waitUntil(lambda: visual.node._texture.shape[:2] == (40, 50))
    reslices = []
    real = layer.set_view_slice
    layer.set_view_slice = lambda *a, **k: (reslices.append(1), real(*a, **k))[1]
    session.assist_click((40, 30))
    iid = session.accept_candidate()
    assert reslices == []
    np.testing.assert_array_equal(layer.data == iid, segment(_image(), [[40, 30]], [1]))
    np.testing.assert_array_equal(
        layer._slice.image.view, layer.colormap._data_to_texture(layer.data)
    )
