"""The "Class taxonomy" dock widget in a real viewer (callbacks driven directly)."""

from __future__ import annotations

import numpy as np
import pytest
from napari.utils.colormaps.standardize_color import transform_color

from napari_labelsuite import Box, LabelSession, Taxonomy
from napari_labelsuite._widgets.taxonomy import TaxonomyWidget


@pytest.fixture
def setup(make_napari_viewer, cells_taxonomy):
    viewer = make_napari_viewer()
    session = LabelSession.attach(viewer)
    session.taxonomy = cells_taxonomy
    sem = session.add_semantic_layer(np.array([[0, 1, 1], [2, 2, 0]], np.uint8))
    boxes = session.add_boxes_layer([Box(0, 0, 2, 1, 1), Box(1, 1, 3, 2, 2)])
    widget = TaxonomyWidget(viewer)
    yield viewer, session, widget, sem, boxes
    widget.close_bindings()


def _errors(monkeypatch):
    shown = []
    monkeypatch.setattr(
        "napari_labelsuite._widgets._base.show_error", lambda msg: shown.append(msg)
    )
    return shown


def test_tree_lists_classes_with_tooltips(setup):
    _, session, widget, *_ = setup
    items = [widget.tree.topLevelItem(i) for i in range(widget.tree.topLevelItemCount())]
    assert [(it.text(1), it.text(2), it.text(3)) for it in items] == [
        ("1", "nucleus", "n"),
        ("2", "cytoplasm", session.taxonomy[2].hotkey or ""),
    ]
    assert items[0].toolTip(2) == session.taxonomy[1].description


def test_selecting_a_class_sets_label_box_defaults_and_guideline(setup):
    _, session, widget, sem, boxes = setup
    widget.select_class(2)
    assert sem.selected_label == 2
    assert boxes.feature_defaults["class"].tolist() == ["cytoplasm"]
    assert boxes.feature_defaults["class_id"].tolist() == [2]
    np.testing.assert_allclose(
        transform_color(boxes.current_edge_color)[0], session.taxonomy[2].color
    )
    assert widget.guideline.text().startswith("cytoplasm:")


def test_digit_and_class_hotkeys_are_bound_and_unbound(setup):
    viewer, session, widget, sem, _ = setup
    keymap = viewer.keymap
    bound = {str(k) for k in keymap}
    assert {"1", "2", "N"} <= bound
    [action] = [f for k, f in keymap.items() if str(k) == "1"]
    action(viewer)
    assert session.active_class == 1 and sem.selected_label == 1
    [action] = [f for k, f in keymap.items() if str(k) == "2"]
    action(viewer)
    assert sem.selected_label == 2
    widget.close_bindings()
    assert not {"1", "2", "N"} & {str(k) for k in viewer.keymap}


def test_rename_updates_features_and_box_text(setup):
    _, session, widget, sem, boxes = setup
    widget.select_class(1)
    widget.name_edit.setText("nucleolus")
    widget.apply_form()
    assert session.taxonomy[1].name == "nucleolus"
    assert sem.features["class"].tolist() == ["background", "nucleolus", "cytoplasm"]
    assert list(boxes.text.values) == ["nucleolus", "cytoplasm"]
    assert widget.tree.topLevelItem(0).text(2) == "nucleolus"


def test_recolor_changes_layer_colormap_and_box_edges(setup):
    _, _, widget, sem, boxes = setup
    widget.select_class(2)
    widget.recolor_selected("#00ff00")
    np.testing.assert_allclose(sem.colormap.color_dict[2], [0, 1, 0, 1])
    np.testing.assert_allclose(sem.get_color(2), [0, 1, 0, 1])
    np.testing.assert_allclose(boxes.edge_color[1], [0, 1, 0, 1])


def test_delete_in_use_without_remap_is_refused(setup, monkeypatch):
    _, session, widget, sem, boxes = setup
    shown = _errors(monkeypatch)
    widget.select_class(2)
    widget.target_combo.setCurrentIndex(0)
    widget.delete_selected()
    assert len(shown) == 1 and "in use" in shown[0]
    assert session.taxonomy.ids() == [1, 2]
    np.testing.assert_array_equal(sem.data, [[0, 1, 1], [2, 2, 0]])
    assert boxes.features["class_id"].tolist() == [1, 2]


def test_merge_relabels_mask_and_boxes(setup):
    _, session, widget, sem, boxes = setup
    widget.select_class("cytoplasm")
    widget.target_combo.setCurrentIndex(widget.target_combo.findData(1))
    widget.merge_selected()
    assert session.taxonomy.ids() == [1]
    np.testing.assert_array_equal(sem.data, [[0, 1, 1], [1, 1, 0]])
    assert boxes.features["class_id"].tolist() == [1, 1]
    assert list(boxes.text.values) == ["nucleus", "nucleus"]


def test_add_reparent_and_reorder(setup):
    _, session, widget, *_ = setup
    widget.name_edit.setText("nucleolus")
    widget.hotkey_edit.setText("o")
    widget.parent_combo.setCurrentIndex(widget.parent_combo.findData(1))
    widget.description_edit.setPlainText("Dense body inside a nucleus.")
    widget.add_from_form()
    new = session.taxonomy.by_name("nucleolus")
    assert (new.id, new.parent, new.hotkey) == (3, 1, "o")
    assert widget.tree.topLevelItem(0).child(0).text(2) == "nucleolus"
    widget.select_class(2)
    widget.move_selected(-1)
    assert session.taxonomy.ids() == [2, 1, 3]


def test_bad_taxonomy_file_becomes_notification(setup, tmp_path, monkeypatch):
    _, session, widget, *_ = setup
    shown = _errors(monkeypatch)
    bad = tmp_path / "bad.yaml"
    bad.write_text("classes:\n  - {id: 1, name: a}\n  - {id: 1, name: b}\n")
    assert widget.load_taxonomy(str(bad)) is None
    assert len(shown) == 1 and "bad.yaml" in shown[0] and "class 'b'" in shown[0]
    assert session.taxonomy.names() == ["nucleus", "cytoplasm"]
    good = tmp_path / "good.json"
    Taxonomy([*session.taxonomy.to_dict()["classes"], {"id": 4, "name": "cell"}]).save(good)
    widget.load_taxonomy(str(good))
    assert widget.tree.topLevelItem(2).text(2) == "cell"


def test_taxonomy_file_dropping_classes_in_use_becomes_notification(setup, tmp_path, monkeypatch):
    _, session, widget, *_ = setup
    shown = _errors(monkeypatch)
    other = tmp_path / "other.json"
    Taxonomy([{"id": 4, "name": "cell"}]).save(other)
    assert widget.load_taxonomy(str(other)) is None
    assert len(shown) == 1 and "1 'nucleus' is missing" in shown[0]
    assert session.taxonomy.names() == ["nucleus", "cytoplasm"]


def test_save_taxonomy_writes_the_session_taxonomy(setup, tmp_path):
    _, session, widget, *_ = setup
    widget.save_taxonomy(str(tmp_path / "out.yaml"))
    assert Taxonomy.load(tmp_path / "out.yaml") == session.taxonomy


def test_counts_are_computed_in_a_worker(setup, qtbot):
    _, _, widget, *_ = setup
    assert widget.counts == {}
    widget.refresh_counts()
    # the worker may finish before a signal spy could be attached: wait on the result instead
    qtbot.waitUntil(lambda: bool(widget.counts), timeout=30000)
    item = widget.tree.topLevelItem(1)
    assert (item.text(4), item.text(5), item.text(6)) == ("2", "0", "1")


def test_class_to_selected_boxes_and_attribute(setup):
    _, session, widget, _, boxes = setup
    boxes.selected_data = {0}
    widget.select_class(2)
    widget.apply_class_to_boxes()
    assert boxes.features["class_id"].tolist() == [2, 2]
    widget.select_class(1)
    widget.apply_class_to_boxes()
    widget.attr_combo.setCurrentText("truncated")
    widget.attr_value.setText("true")
    widget.apply_attribute()
    assert session.boxes_list()[0].attributes == {"truncated": True}
    assert session.boxes_list()[1].class_id == 2


def test_class_to_instance(setup):
    _, session, widget, *_ = setup
    inst = session.add_instance_layer(np.array([[0, 4, 4], [0, 0, 0]], np.int32))
    widget.select_class("cytoplasm")
    widget.instance_spin.setValue(4)
    widget.apply_class_to_instance()
    assert session.objects(inst)[4].class_id == 2
