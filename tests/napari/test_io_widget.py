"""The "Import / export" dock widget: export and import through the session, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from napari_labelsuite._widgets.io import ImportExportWidget
from napari_labelsuite.core.annotation import Box, ObjectInfo
from napari_labelsuite.core.synthetic import NUCLEI_CLASSES
from napari_labelsuite.core.taxonomy import Taxonomy


@pytest.fixture
def widget(make_napari_viewer):
    viewer = make_napari_viewer()
    w = ImportExportWidget(viewer)
    w.session.taxonomy = Taxonomy(NUCLEI_CLASSES)
    return w


@pytest.fixture
def errors(monkeypatch):
    seen: list[str] = []
    monkeypatch.setattr("napari_labelsuite._widgets._base.show_error", seen.append)
    return seen


def _annotate(session):
    labels = np.zeros((40, 50), np.int32)
    labels[5:15, 5:20] = 1
    labels[20:30, 25:45] = 2
    session.add_instance_layer(labels, objects={1: ObjectInfo(1), 2: ObjectInfo(2)})
    session.add_boxes_layer([Box(1, 2, 10, 12, class_id=2)])
    return labels


def _wait(qtbot, widget):
    qtbot.waitUntil(lambda: not widget._workers, timeout=20000)


def test_export_writes_coco_with_chosen_option(qtbot, widget, tmp_path):
    _annotate(widget.session)
    widget.format_combo.setCurrentText("coco")
    widget.option_combo.setCurrentText("polygon")
    widget.path_edit.setText(str(tmp_path / "out.json"))
    widget.export()
    _wait(qtbot, widget)
    doc = json.loads((tmp_path / "out.json").read_text())
    kinds = sorted(type(a.get("segmentation")).__name__ for a in doc["annotations"])
    assert kinds == ["NoneType", "list", "list"]


def test_options_follow_the_format(widget):
    widget.format_combo.setCurrentText("yolo")
    assert widget.options() == {"task": "detect"}
    widget.format_combo.setCurrentText("voc")
    assert widget.options() == {}


def test_import_adds_layers_and_taxonomy(qtbot, widget, tmp_path):
    labels = _annotate(widget.session)
    widget.session.export_annotations(tmp_path / "m", "masks")
    widget.viewer.layers.clear()
    widget.session.taxonomy = Taxonomy()
    widget.path_edit.setText(str(tmp_path / "m"))
    widget.import_()
    _wait(qtbot, widget)
    qtbot.waitUntil(lambda: len(widget.viewer.layers) == 2, timeout=5000)
    np.testing.assert_array_equal(widget.session.instances.data, labels)
    assert widget.session.taxonomy.names() == ["nucleus", "cytoplasm"]


def test_bad_file_shows_error_and_leaves_viewer_unchanged(qtbot, widget, tmp_path, errors):
    _annotate(widget.session)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"images": [], "annotations": [], "categories": "x"}))
    before = list(widget.viewer.layers)
    tax = widget.session.taxonomy
    widget.path_edit.setText(str(bad))
    widget.import_()
    _wait(qtbot, widget)
    qtbot.waitUntil(lambda: bool(errors), timeout=5000)
    assert "bad.json" in errors[0]
    assert list(widget.viewer.layers) == before
    assert widget.session.taxonomy is tax


def test_failed_export_shows_error_and_writes_nothing(qtbot, widget, tmp_path, errors):
    _annotate(widget.session)
    widget.session.instances.data[0, 0] = 7  # an instance missing from the object table
    widget.format_combo.setCurrentText("yolo")
    widget.option_combo.setCurrentText("segment")
    widget.path_edit.setText(str(tmp_path / "ds"))
    widget.export()
    _wait(qtbot, widget)
    qtbot.waitUntil(lambda: bool(errors), timeout=5000)
    assert "instance 7" in errors[0]
    assert not (tmp_path / "ds").exists()


def test_empty_path_warns(widget, monkeypatch):
    seen: list[str] = []
    monkeypatch.setattr(widget, "warn", seen.append)
    widget.path_edit.setText("  ")
    assert widget.export() is None
    assert seen
