"""Class keys pressed on the real canvas, and the taxonomy widget following the session.

Keys go through Qt -> vispy -> napari's KeymapHandler, which looks in the active layer's
keymap before the viewer's; Labels and Shapes bind 1-7 to their modes there.
"""

from __future__ import annotations

import numpy as np
import pytest
from napari.layers import Labels

from napari_labelsuite import Box, LabelSession, Taxonomy
from napari_labelsuite._widgets.taxonomy import TaxonomyWidget

# ids differ from list positions, so "2" (the 2nd class) is told apart from label value 2
CLASSES = [
    {"id": 5, "name": "nucleus", "hotkey": "n", "description": "A nucleus."},
    {"id": 9, "name": "cytoplasm", "hotkey": "c", "description": "Around a nucleus."},
    {"id": 12, "name": "debris", "description": "Anything else."},
]


@pytest.fixture
def viewer_session(make_napari_viewer):
    viewer = make_napari_viewer()
    session = LabelSession.attach(viewer)
    session.taxonomy = Taxonomy(CLASSES, name="keys")
    return viewer, session


@pytest.fixture
def sem(viewer_session):
    viewer, session = viewer_session
    layer = session.add_semantic_layer(np.zeros((8, 8), np.uint8))
    viewer.layers.selection.active = layer
    return layer


@pytest.fixture
def widget(viewer_session):
    widget = TaxonomyWidget(viewer_session[0])
    yield widget
    widget.close_bindings()


def press(viewer, qtbot, key: str) -> None:
    qtbot.keyClick(viewer.window._qt_viewer.canvas.native, key)


def test_without_widget_digit_switches_labels_mode(viewer_session, sem, qtbot):
    viewer, session = viewer_session
    press(viewer, qtbot, "2")
    assert sem.mode == "paint"
    assert session.active_class is None


def test_digit_selects_nth_class_on_semantic_layer(viewer_session, sem, widget, qtbot):
    viewer, session = viewer_session
    press(viewer, qtbot, "2")
    assert sem.selected_label == 9
    assert session.active_class == 9
    assert sem.mode == "pan_zoom"


def test_digit_three_beats_polygon_mode(viewer_session, sem, widget, qtbot):
    viewer, _ = viewer_session
    press(viewer, qtbot, "3")
    assert sem.selected_label == 12
    assert sem.mode == "pan_zoom"


def test_class_hotkey_selects_class(viewer_session, sem, widget, qtbot):
    viewer, session = viewer_session
    session.set_active_class("debris")
    press(viewer, qtbot, "c")
    assert sem.selected_label == 9


def test_digit_on_boxes_layer_sets_next_box_class(viewer_session, widget, qtbot):
    viewer, session = viewer_session
    boxes = session.add_boxes_layer([Box(0, 0, 2, 2, 5)])
    viewer.layers.selection.active = boxes
    press(viewer, qtbot, "2")
    assert boxes.feature_defaults["class_id"].tolist() == [9]
    assert boxes.feature_defaults["class"].tolist() == ["cytoplasm"]
    assert boxes.mode == "pan_zoom"


def test_layer_added_after_widget_gets_keys(viewer_session, widget, qtbot):
    viewer, session = viewer_session
    inst = session.add_instance_layer(np.zeros((8, 8), np.int32))
    viewer.layers.selection.active = inst
    press(viewer, qtbot, "3")
    assert session.active_class == 12
    assert inst.mode == "pan_zoom"


def test_layer_managed_while_selected_gets_keys(viewer_session, widget, qtbot):
    viewer, session = viewer_session
    plain = viewer.add_labels(np.zeros((8, 8), np.uint8))
    viewer.layers.selection.active = plain
    session.manage_layer(plain, "semantic")
    press(viewer, qtbot, "2")
    assert plain.selected_label == 9
    assert plain.mode == "pan_zoom"


def test_unmanaged_labels_layer_keeps_napari_keys(viewer_session, sem, widget, qtbot):
    viewer, session = viewer_session
    plain = viewer.add_labels(np.zeros((8, 8), np.uint8))
    viewer.layers.selection.active = plain
    press(viewer, qtbot, "2")
    assert plain.mode == "paint"
    assert session.active_class is None


def test_closing_widget_restores_napari_binding(viewer_session, sem, widget, qtbot):
    viewer, session = viewer_session
    widget.close_bindings()
    press(viewer, qtbot, "2")
    assert sem.mode == "paint"
    assert session.active_class is None
    assert sem.keymap == {}


def test_closing_widget_restores_earlier_layer_binding(viewer_session, sem, qtbot):
    viewer, _ = viewer_session
    calls = []

    def own(layer):
        calls.append(layer)

    sem.bind_key("c", own)
    widget = TaxonomyWidget(viewer)
    widget.close_bindings()
    press(viewer, qtbot, "c")
    assert calls == [sem]


def test_taxonomy_hotkey_change_rebinds(viewer_session, sem, widget, qtbot):
    viewer, session = viewer_session
    session.update_class("debris", hotkey="d")
    press(viewer, qtbot, "d")
    assert sem.selected_label == 12


# -- the widget follows the session's active class ---------------------------------------
def test_console_change_selects_tree_row_and_guideline(viewer_session, sem, widget):
    _, session = viewer_session
    session.set_active_class("cytoplasm")
    assert widget.tree.currentItem().text(2) == "cytoplasm"
    assert widget.guideline.text() == "cytoplasm: Around a nucleus."
    assert widget.name_edit.text() == "cytoplasm"


def test_closed_widget_stops_following(viewer_session, sem, widget):
    _, session = viewer_session
    session.set_active_class("nucleus")
    widget.close_bindings()
    session.set_active_class("debris")
    assert widget.tree.currentItem().text(2) == "nucleus"


def test_listener_gets_new_active_class(viewer_session):
    _, session = viewer_session
    seen = []
    session.on_active_class_changed(seen.append)
    session.set_active_class("debris")
    session.set_active_class(5)
    assert seen == [12, 5]


def test_disconnected_listener_is_not_called(viewer_session):
    _, session = viewer_session
    seen = []
    session.on_active_class_changed(seen.append)
    session.disconnect_active_class(seen.append)
    session.set_active_class("debris")
    assert seen == []


def test_merge_moves_active_class_and_notifies(viewer_session):
    _, session = viewer_session
    session.set_active_class("debris")
    seen = []
    session.on_active_class_changed(seen.append)
    session.merge_classes("debris", "nucleus")
    assert session.active_class == 5
    assert seen == [5]


def test_new_taxonomy_without_active_class_notifies_none(viewer_session):
    _, session = viewer_session
    session.set_active_class("debris")
    seen = []
    session.on_active_class_changed(seen.append)
    session.taxonomy = Taxonomy([{"id": 1, "name": "cell"}])
    assert session.active_class is None
    assert seen == [None]


def test_headless_session_notifies_listener():
    session = LabelSession(taxonomy=Taxonomy(CLASSES))
    layer = session.add_semantic_layer(shape=(4, 4))
    seen = []
    session.on_active_class_changed(seen.append)
    session.set_active_class("cytoplasm")
    assert seen == [9]
    assert isinstance(layer, Labels) and layer.selected_label == 9
