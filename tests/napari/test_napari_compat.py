"""Canary tests: one per assumption ``_napari_compat`` makes about napari internals.

When one of these fails after a napari upgrade, the function named in the test is the one
place to adapt.
"""

from __future__ import annotations

import numpy as np
import pytest
from napari.layers import Labels

from napari_labelsuite import _napari_compat as compat


def test_proxy_wraps_the_viewer(make_napari_viewer):
    from napari.utils._proxies import PublicOnlyProxy

    viewer = make_napari_viewer()
    proxy = PublicOnlyProxy(viewer)
    assert compat.unwrap_viewer(proxy) is viewer
    assert compat.unwrap_viewer(viewer) is viewer


def test_main_window_is_a_qmainwindow(make_napari_viewer):
    from napari.utils._proxies import PublicOnlyProxy
    from qtpy.QtWidgets import QMainWindow

    viewer = make_napari_viewer()
    window = compat.main_window(PublicOnlyProxy(viewer))
    assert isinstance(window, QMainWindow)
    assert compat.main_window(object()) is None


def test_labels_history_is_two_deques_of_atom_lists():
    layer = Labels(np.zeros((10, 10), np.int32))
    undo, redo = compat.undo_redo_deques(layer)
    assert len(undo) == len(redo) == 0
    layer.paint((5, 5), 3, refresh=False)
    assert len(undo) == 1 and isinstance(undo[-1], list)
    step = undo[-1]
    layer.undo()
    assert len(undo) == 0 and redo[-1][0] is step[0]  # the same atoms move between deques
    layer.redo()
    assert undo[-1][0] is step[0] and len(redo) == 0


def test_paint_atoms_carry_a_box_mask_and_value():
    layer = Labels(np.zeros((10, 10), np.int32))
    layer.brush_size = 3
    events = []
    layer.events.paint.connect(events.append)
    layer.paint((5, 5), 3, refresh=False)
    [atom] = compat.paint_atoms(events[-1])
    assert all(isinstance(s, slice) for s in atom.slice_key) and len(atom.slice_key) == 2
    assert atom.new_value == 3
    box = layer.data[atom.slice_key]
    painted = box == 3 if atom.mask is None else atom.mask
    assert atom.mask is None or atom.mask.dtype == bool
    assert np.count_nonzero(layer.data == 3) == np.count_nonzero(painted) > 0

    layer.data_setitem((np.array([0]), np.array([0])), 7)
    [last] = layer._undo_history[-1]
    assert not compat.is_masked_paint_atom(last)  # data_setitem: (indices, old, new)
    indices, old, new = last
    assert np.atleast_1d(new).tolist() == [7] and isinstance(old, np.ndarray)


def test_camera_canvas_and_window_size_use_public_api(make_napari_viewer):
    viewer = make_napari_viewer()
    assert compat.camera(viewer) is viewer.scene.camera
    h, w = compat.canvas_size(viewer)
    assert h > 0 and w > 0
    assert compat.canvas_size(viewer, default=(1, 1)) == (h, w)
    compat.resize_window(viewer, 900, 700)
    size = compat.main_window(viewer).size()
    assert (size.width(), size.height()) == (900, 700)


def test_polygon_overlay_holds_the_vertices_during_the_fill():
    from napari_labelsuite import _simulate as sim

    layer = Labels(np.zeros((20, 20), np.int32))
    seen = []
    layer.events.paint.connect(lambda e: seen.append(compat.polygon_vertices_being_filled(layer)))
    layer.selected_label = 1
    sim.labels_polygon(layer, [(2.5, 2.5), (2.5, 12.5), (12.5, 12.5), (12.5, 2.5)])
    assert seen == [4]  # during the fill
    assert compat.polygon_vertices_being_filled(layer) == 0  # cleared after it
    assert np.count_nonzero(layer.data == 1) > 0
    assert compat.polygon_overlay(layer) is not None
    from napari.layers import Shapes

    assert compat.polygon_overlay(Shapes(ndim=2)) is None  # only Labels has the mode


def test_shapes_added_by_drawing_tools_are_marked():
    from napari.layers import Shapes

    from napari_labelsuite import _simulate as sim

    layer = Shapes(ndim=2)
    seen = []
    layer.events.data.connect(
        lambda e: seen.append((str(e.action), compat.shape_drawn_by_hand(layer)))
    )
    sim.draw_rectangle(layer, (1, 1), (8, 9))  # napari's rectangle tool
    layer.add_rectangles(np.array([[0, 0], [3, 3]]))  # code
    assert seen == [("adding", True), ("added", True), ("adding", False), ("added", False)]
    assert not compat.shape_drawn_by_hand(layer)


def test_points_added_by_the_point_tool_are_marked():
    from napari.layers import Points

    from napari_labelsuite import _simulate as sim

    layer = Points(ndim=2)
    seen = []
    layer.events.data.connect(
        lambda e: seen.append((str(e.action), compat.point_placed_by_hand(layer)))
    )
    sim.place_points(layer, [(3, 4)])  # napari's point tool
    layer.add(np.array([[5.0, 6.0]]))  # code, after leaving the tool
    assert seen == [("adding", True), ("added", True), ("adding", False), ("added", False)]
    np.testing.assert_allclose(layer.data, [[3, 4], [5, 6]])


def test_points_dragged_by_the_select_tool_are_marked():
    from napari.layers import Points

    from napari_labelsuite import _simulate as sim

    layer = Points(np.array([[10.0, 10.0], [30.0, 30.0]]))
    seen = []
    layer.events.data.connect(
        lambda e: seen.append((str(e.action), compat.points_dragged_by_hand(layer)))
    )
    layer.mode = "select"
    layer.selected_data = {1}
    sim.drag(layer, [(30, 30), (32, 33), (35, 36)])  # napari's select tool
    np.testing.assert_allclose(layer.data, [[10, 10], [35, 36]])
    layer.data = np.array([[1.0, 1.0], [2.0, 2.0]])  # code
    assert seen == [
        ("changing", True),  # at the first move of the drag
        ("changed", True),  # once, on release
        ("changing", False),
        ("changed", False),
    ]
    assert not compat.points_dragged_by_hand(layer)


def test_canvas_size_of_a_viewer_without_canvas_takes_the_default():
    from types import SimpleNamespace

    from napari.components import ViewerModel

    model = ViewerModel()  # headless: the canvas model has a size of its own
    model.canvas.size = (300, 200)
    assert compat.canvas_size(model, default=(1, 1)) == (300, 200)
    bare = SimpleNamespace(layers=[])
    assert compat.canvas_size(bare, default=(800, 600)) == (800, 600)
    with pytest.raises(AttributeError, match="SimpleNamespace has no canvas"):
        compat.canvas_size(bare)


def test_mouse_callbacks_get_read_only_events():
    from types import SimpleNamespace

    from napari.utils.interactions import mouse_press_callbacks

    event = compat.read_only_event(SimpleNamespace(type="mouse_press", handled=False))
    event.handled = True  # the one field a callback may set
    with pytest.raises(TypeError):
        event.type = "mouse_move"
    layer = Labels(np.zeros((4, 4), np.int32))
    layer.mode = "pan_zoom"
    seen = []
    layer.mouse_drag_callbacks.append(lambda lyr, ev: seen.append((lyr, ev.type)))
    mouse_press_callbacks(layer, event)
    assert seen == [(layer, "mouse_press")]


def _twin_edits(layer: Labels) -> None:
    """Three undo steps: a brush stroke, a data_setitem write, a fill (masked atoms)."""
    layer.brush_size = 5
    layer.paint((2, 10, 12), 3)
    layer.data_setitem((np.array([2, 2, 3]), np.array([30, 31, 30]), np.array([5, 5, 6])), 4)
    layer.fill((2, 10, 12), 7)


@pytest.mark.parametrize("order", [(0, 1, 2), (0, 2, 1)])
def test_replay_labels_history_matches_napari_undo(order):
    data = np.zeros((4, 40, 50), np.uint32)
    data[2, 20:25, 20:30] = 9
    ours, theirs = Labels(data.copy()), Labels(data.copy())
    for layer in (ours, theirs):
        layer._slice_dims(_dims_at_plane(layer, 2, order))
        _twin_edits(layer)
    reslices = []
    real = ours.set_view_slice
    ours.set_view_slice = lambda *a, **k: (reslices.append(1), real(*a, **k))[1]
    for undoing in (True, True, False, True, True, False, False, False):
        compat.replay_labels_history(ours, undoing)
        (theirs.undo if undoing else theirs.redo)()
        np.testing.assert_array_equal(ours.data, theirs.data)
        np.testing.assert_array_equal(ours._slice.image.view, theirs._slice.image.view)
        np.testing.assert_array_equal(
            ours._slice.image.view, ours.colormap._data_to_texture(ours._slice.image.raw)
        )
        for a, b in zip(compat.undo_redo_deques(ours), compat.undo_redo_deques(theirs)):
            assert [len(item) for item in a] == [len(item) for item in b]
    assert reslices == []  # napari's undo re-slices the layer every time
    # a step in another plane changes the data only; the view reads it when it gets there
    ours.data_setitem((np.array([0]), np.array([1]), np.array([1])), 5)
    view = np.array(ours._slice.image.view, copy=True)
    compat.replay_labels_history(ours, True)
    assert ours.data[0, 1, 1] == 0 and reslices == []
    np.testing.assert_array_equal(ours._slice.image.view, view)


def _dims_at_plane(layer: Labels, plane: int, order: tuple[int, ...]):
    from napari.components import Dims

    dims = Dims(ndim=3, ndisplay=2, order=order)
    dims.point = (plane, 0, 0)
    return dims


def test_recolor_labels_skips_the_refresh_and_keeps_the_view():
    from napari.utils import DirectLabelColormap

    data = np.zeros((40, 50), np.uint32)
    data[5:10, 5:10] = 3
    # background first, as the session's instance colormaps have it: appended labels then
    # leave the texture values of the known ones as they were
    old = {None: "gray", 0: "transparent", 3: "red"}
    layer = Labels(data, colormap=DirectLabelColormap(color_dict=old))
    view_before = np.array(layer._slice.image.view, copy=True)
    reslices = []
    real = layer.set_view_slice
    layer.set_view_slice = lambda *a, **k: (reslices.append(1), real(*a, **k))[1]
    cmap = DirectLabelColormap(color_dict={**old, 4: "blue"})

    def set_cmap():
        layer.colormap = cmap

    assert compat.recolor_labels(layer, set_cmap) is True
    assert layer.colormap is layer._direct_colormap and reslices == []
    np.testing.assert_array_equal(layer._slice.image.view, view_before)
    layer.data_setitem((np.array([20]), np.array([20])), 4)  # maps the new label only
    np.testing.assert_array_equal(
        layer._slice.image.view, layer.colormap._data_to_texture(layer.data)
    )
    # a colormap that gives label 3 another texture value needs the full refresh
    swap = DirectLabelColormap(color_dict={None: "gray", 0: "transparent", 4: "blue", 3: "green"})
    assert compat.recolor_labels(layer, lambda: setattr(layer, "colormap", swap)) is False
    assert reslices == [1]
    np.testing.assert_array_equal(
        layer._slice.image.view, layer.colormap._data_to_texture(layer.data)
    )


def test_fit_partial_label_updates_writes_the_strided_patch(
    make_napari_viewer, monkeypatch, qtbot
):
    # a GPU whose largest 2D texture is 128 pixels: napari shows 300 x 300 labels through
    # a texture strided by 3 (the real case: 20000^2 with 16384 under Mesa)
    monkeypatch.setattr("napari._vispy.layers.base.get_max_texture_sizes", lambda: (128, 2048))
    viewer = make_napari_viewer(show=True)  # the texture gets its shape when drawn
    layer = viewer.add_labels(np.zeros((300, 300), np.uint32))
    visual = viewer.window._qt_viewer.canvas.layer_to_visual[layer]
    qtbot.waitUntil(lambda: visual.node._texture.shape[:2] == (100, 100))  # drawn
    assert list(layer._transforms["tile2data"].scale) == [3, 3]
    reslices, writes = [], []
    real_slice, real_set = layer.set_view_slice, visual.node._texture.scale_and_set_data
    layer.set_view_slice = lambda *a, **k: (reslices.append(1), real_slice(*a, **k))[1]

    def spy(data, **kw):  # partial writes carry an offset; redraws of the whole do not
        if "offset" in kw:
            writes.append((np.array(data), tuple(kw["offset"])))
        return real_set(data, **kw)

    monkeypatch.setattr(visual.node._texture, "scale_and_set_data", spy)
    rows, cols = np.mgrid[40:71, 100:131]
    layer.data_setitem((rows.ravel(), cols.ravel()), 5)  # napari alone: a full re-slice
    assert reslices == [1] and writes == []
    reslices.clear()
    assert compat.fit_partial_label_updates(viewer, layer) is True
    assert compat.fit_partial_label_updates(viewer, layer) is True  # once only
    rows, cols = np.mgrid[152:184, 61:95]
    layer.data_setitem((rows.ravel(), cols.ravel()), 7)
    assert reslices == []
    [(patch, offset)] = writes
    # texture pixel (i, j) shows view pixel (3i, 3j): rows 153..183, cols 63..93
    assert offset == (51, 21) and patch.shape == (11, 11)
    view = layer._slice.image.view
    np.testing.assert_array_equal(patch, view[153:184:3, 63:95:3])
    assert (patch == layer.colormap._data_to_texture(np.uint32(7))).all()
    assert compat.fit_partial_label_updates(object(), layer) is False  # no canvas


def test_vectors_thumbnail_draws_at_most_max_vectors(monkeypatch):
    from napari.layers import Vectors

    calls = []
    real = np.linspace

    def counting(*args, **kw):
        calls.append(1)
        return real(*args, **kw)

    start = np.random.default_rng(0).uniform(0, 50, (2000, 2))
    layer = Vectors(np.stack([start, np.ones((2000, 2))], axis=1))
    compat.small_vectors_thumbnail(layer, 50)
    monkeypatch.setattr(np, "linspace", counting)
    layer.data = layer.data + 1  # a data change redraws the thumbnail
    assert 0 < len(calls) <= 2 * 50 + 2
