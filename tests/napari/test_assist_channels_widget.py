"""The Assist dock's Channels control on a (z, c, y, x) stack, and napari's split channels."""

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

SHAPE = (60, 90)
ONLY_IN_1 = (30, 60)  # an object visible only in channel 1


def _zc() -> np.ndarray:
    """A (z=3, c=2, y, x) stack: both leading axes are short, the axis is ambiguous."""
    img = np.full((3, 2, *SHAPE), 20.0, np.float32)
    img[1, 0][disk((30, 20), 10, shape=SHAPE)] = 200
    img[1, 1][disk(ONLY_IN_1, 9, shape=SHAPE)] = 180
    return ndi.gaussian_filter(img, (0, 0, 1, 1))


def _shown(widget) -> np.ndarray:
    """The preview layer's mask placed in the instance layer's grid."""
    preview = widget.preview_layer()
    out = np.zeros(widget.session.instances.data.shape, bool)
    origin = [int(t) for t in preview.translate]
    out[tuple(slice(o, o + n) for o, n in zip(origin, preview.data.shape))] = preview.data > 0
    return out


def _widget(viewer, shape) -> AssistWidget:
    session = LabelSession.attach(viewer)
    session.taxonomy = Taxonomy(NUCLEI_CLASSES, name="cells")
    session.add_instance_layer(np.zeros(shape, np.int32))
    session.set_active_class("nucleus")
    return AssistWidget(viewer)


@pytest.fixture
def errors(monkeypatch):
    shown: list[str] = []
    monkeypatch.setattr("napari_labelsuite._widgets._base.show_error", shown.append)
    return shown


def test_ambiguous_stack_names_the_control_then_the_combo_fixes_the_click(
    make_napari_viewer, errors
):
    viewer = make_napari_viewer()
    zc = _zc()
    viewer.add_image(zc, name="zc")
    w = _widget(viewer, (3, *SHAPE))
    try:
        box = w.channel_box
        items = [box.itemText(i) for i in range(box.count())]
        assert items == ["auto", "none", "axis 0", "axis 1", "axis 2", "axis 3"]
        assert box.currentText() == "auto" and "which axis" in w.channel_info.text()

        w._on_click(np.array([1.0, *ONLY_IN_1]))
        assert len(errors) == 1 and "'Channels' control" in errors[0]
        assert "(3, 2, 60, 90)" in errors[0]
        assert w.preview_layer() is None and not w.session.instances.data.any()

        box.setCurrentText("axis 1")
        box.activated.emit(box.currentIndex())  # what a user's choice sends
        assert w.session.assist_channel_axis == 1
        assert w.channel_info.text() == "axis 1: 2 channels of 'zc'"
        w._on_click(np.array([1.0, *ONLY_IN_1]))
        assert len(errors) == 1
        expected = np.zeros((3, *SHAPE), bool)
        expected[1] = segment(zc[1], [ONLY_IN_1], [1], channel_axis=0)
        assert expected.sum() > 200
        np.testing.assert_array_equal(_shown(w), expected)
        w._key_accept()
        iid = int(w.session.instances.data.max())
        np.testing.assert_array_equal(w.session.instances.data == iid, expected)
    finally:
        w.close_bindings()


def test_console_setting_shows_in_the_combo_and_new_images_rebuild_it(make_napari_viewer):
    viewer = make_napari_viewer()
    viewer.add_image(_zc(), name="zc")
    w = _widget(viewer, (3, *SHAPE))
    try:
        w.session.set_assist_channel_axis(0)
        assert w.channel_box.currentText() == "axis 0"
        w.session.set_assist_channel_axis(None)
        assert w.channel_box.currentText() == "none"
        viewer.layers.remove("zc")
        viewer.add_image(np.zeros(SHAPE, np.float32), name="flat")
        box = w.channel_box
        assert [box.itemText(i) for i in range(box.count())] == [
            "auto",
            "none",
            "axis 0",
            "axis 1",
        ]
        assert box.currentText() == "none"
    finally:
        w.close_bindings()


def test_click_on_split_channel_layers_uses_the_second_channel(make_napari_viewer, errors):
    viewer = make_napari_viewer()
    stack = _zc()[1]  # (c=2, y, x)
    viewer.add_image(stack, channel_axis=0, name="img")  # layers img, img [1]
    w = _widget(viewer, SHAPE)
    try:
        assert w.channel_info.text() == "2 channel layers: img, img [1]"
        w._on_click(np.array(ONLY_IN_1, float))
        assert errors == []
        expected = segment(stack, [ONLY_IN_1], [1], channel_axis=0)
        assert expected.sum() > 200
        np.testing.assert_array_equal(_shown(w), expected)
    finally:
        w.close_bindings()
