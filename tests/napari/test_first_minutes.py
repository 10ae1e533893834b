"""The first minutes of a new user, driven through the real GUI paths.

Every test opens the sample through the plugin's sample contribution and the docks through
``add_plugin_dock_widget``, presses the widgets' real callbacks and checks layers, texts
and notifications.
"""

from __future__ import annotations

import numpy as np
import pytest
from skimage.draw import disk
from skimage.measure import label as sk_label

from napari_labelsuite.core.synthetic import NUCLEI_CLASSES, make_cells_2d

PLUGIN = "napari-labelsuite"


@pytest.fixture(autouse=True)
def small_sample(monkeypatch):
    """The Cells 2D sample at 384 x 384 (same generator, same classes): faster tests."""
    from napari_labelsuite import _sample_data

    monkeypatch.setattr(_sample_data, "make_cells_2d", lambda: make_cells_2d((384, 384), seed=3))


@pytest.fixture
def notes(monkeypatch):
    """Notifications shown by the widgets, as (level, text)."""
    from napari_labelsuite._widgets import _base

    shown: list[tuple[str, str]] = []
    for level in ("info", "warning", "error"):
        monkeypatch.setattr(_base, f"show_{level}", lambda m, lv=level: shown.append((lv, m)))
    return shown


def _dock(viewer, name):
    return viewer.window.add_plugin_dock_widget(PLUGIN, name)[1]


def _tree_names(widget):
    from qtpy.QtWidgets import QTreeWidgetItemIterator

    names, it = [], QTreeWidgetItemIterator(widget.tree)
    while it.value():
        names.append(it.value().text(2))
        it += 1
    return names


# -- 1. the sample's classes ----------------------------------------------------------------
@pytest.mark.parametrize("dock_first", [False, True], ids=["sample-first", "dock-first"])
def test_sample_classes_fill_the_taxonomy_tree(make_napari_viewer, dock_first):
    viewer = make_napari_viewer()
    if dock_first:
        widget = _dock(viewer, "Class taxonomy")
    viewer.open_sample(PLUGIN, "cells_2d")
    if not dock_first:
        widget = _dock(viewer, "Class taxonomy")
    assert _tree_names(widget) == [c["name"] for c in NUCLEI_CLASSES]
    assert widget.guideline.text().startswith("nucleus: A cell nucleus")
    classes = viewer.layers["classes"]
    assert widget.session.semantic is classes
    assert classes.get_color(2).tolist() == pytest.approx(list(widget.session.taxonomy[2].color))


# -- 2. label components on the sample -------------------------------------------------------
def test_label_components_on_the_sample(make_napari_viewer, notes):
    viewer = make_napari_viewer()
    viewer.open_sample(PLUGIN, "cells_2d")
    widget = _dock(viewer, "Instances")
    widget.buttons["Label components"].click()
    semantic = np.asarray(viewer.layers["classes"].data)
    inst = viewer.layers["instances"]
    expected = sum(int(sk_label(semantic == c, connectivity=1).max()) for c in (1, 2))
    assert len(np.unique(inst.data)) - 1 == expected
    objects = widget.session.objects(inst)
    assert len(objects) == expected
    assert widget.result.text() == f"labelled {expected} objects into 'instances'"
    assert not [n for n in notes if n[0] == "error"]


@pytest.mark.parametrize("accept", [True, False])
def test_unknown_class_in_the_mask_is_offered_as_new_class(
    make_napari_viewer, notes, monkeypatch, accept
):
    viewer = make_napari_viewer()
    viewer.open_sample(PLUGIN, "cells_2d")
    widget = _dock(viewer, "Instances")
    classes = viewer.layers["classes"]
    classes.data[:20, :20] = 5  # a class the taxonomy does not have
    asked = []
    monkeypatch.setattr(widget, "ask_add_classes", lambda ids: asked.append(ids) or accept)
    widget.buttons["Label components"].click()
    assert asked == [[5]]
    session = widget.session
    if accept:
        assert session.taxonomy[5].name == "class 5"
        inst = viewer.layers["instances"]
        iid = int(inst.data[5, 5])
        assert session.objects(inst)[iid].class_id == 5
        added = "added class(es) 5 to the taxonomy; rename them in Class taxonomy"
        assert ("info", added) in notes
    else:
        assert 5 not in session.taxonomy
        assert "instances" not in viewer.layers
        assert notes[-1][0] == "warning" and "5" in notes[-1][1]


# -- 5. split touching says what it did -------------------------------------------------------
def test_split_touching_reports_counts(make_napari_viewer, notes):
    viewer = make_napari_viewer()
    viewer.open_sample(PLUGIN, "cells_2d")
    widget = _dock(viewer, "Instances")
    widget.label_components()
    inst = viewer.layers["instances"]
    before = set(np.unique(inst.data)) - {0}
    widget.scope.setCurrentText("whole volume")
    widget.split_touching()
    after = set(np.unique(inst.data)) - {0}
    new = after - before
    parents = {iid for iid in before if (inst.data == iid).any()}
    assert parents == before  # a split keeps every original id as one of the parts
    text = widget.result.text()
    n_split = int(text.split()[1])
    assert text == f"split {n_split} objects into {n_split + len(new)}"
    # on the default (auto) min distance the cell rings are not cut into wedges
    assert notes[-1] == ("info", text)
    truth = make_cells_2d((384, 384), seed=3)  # the sample's generator and its ground truth
    assert len(after) <= len(np.unique(truth.instances)) - 1 + len(np.unique(truth.cells)) - 1


def test_split_touching_warns_when_objects_multiply(make_napari_viewer, notes):
    viewer = make_napari_viewer()
    widget = _dock(viewer, "Instances")
    chain = np.zeros((60, 200), np.int32)
    for k in range(6):  # six touching disks as one object
        chain[disk((30, 20 + 30 * k), 17, shape=chain.shape)] = 1
    widget.session.add_instance_layer(chain)
    widget.scope.setCurrentText("whole volume")
    widget.min_distance.setValue(10)
    widget.split_touching()
    assert widget.result.text().startswith("split 1 objects into 6")
    assert notes[-1][0] == "warning"
    assert "raise the min distance" in notes[-1][1]


# -- 6. every layer a workflow needs has a control ----------------------------------------------
def test_layer_controls_create_managed_layers(make_napari_viewer, notes):
    from napari_labelsuite._session.layers import role_of

    viewer = make_napari_viewer()
    viewer.open_sample(PLUGIN, "cells_2d")
    widget = _dock(viewer, "Instances")
    widget.buttons["Instances from semantic"].click()
    inst = viewer.layers["instances"]
    n = len(np.unique(inst.data)) - 1
    assert widget.result.text() == f"{n} objects in 'instances'"
    widget.buttons["Boxes from instances"].click()
    boxes = viewer.layers["boxes"]
    assert len(boxes.data) == n
    assert widget.result.text() == f"{n} boxes from the instances in 'boxes'"
    widget.buttons["Semantic from instances"].click()
    np.testing.assert_array_equal(viewer.layers["semantic"].data, viewer.layers["classes"].data)
    widget.buttons["New semantic layer"].click()
    widget.buttons["New instance layer"].click()
    widget.buttons["New boxes layer"].click()
    roles = [role_of(x) for x in viewer.layers[-3:]]
    assert roles == ["semantic", "instances", "boxes"]
    shape = viewer.layers["classes"].data.shape
    assert viewer.layers[-2].data.shape == shape and not viewer.layers[-2].data.any()
    assert len(viewer.layers[-1].data) == 0
    assert not [x for x in notes if x[0] == "error"]


# -- 3 and 4. a store reopened with File > Open ---------------------------------------------------
@pytest.fixture
def quiet_settings(monkeypatch):
    """napari's settings, kept in memory (the reader preference is not written to disk)."""
    from napari.settings import get_settings

    settings = get_settings()
    monkeypatch.setattr(type(settings), "save", lambda self, *a, **k: None)
    before = dict(settings.plugins.extension2reader)
    yield settings
    settings.plugins.extension2reader = before


def _make_store(viewer, path):
    """Sample -> instances -> "Create for image" in the Mask store dock; then closed."""
    viewer.open_sample(PLUGIN, "cells_2d")
    _dock(viewer, "Instances").label_components()
    store = _dock(viewer, "Mask store")
    store.path_edit.setText(str(path))
    store.create_btn.click()
    store.session.close_store()
    return store.session


def test_store_reopened_with_file_open(
    make_napari_viewer, tmp_path, quiet_settings, monkeypatch, notes
):
    from napari._qt import qt_viewer as qv

    from napari_labelsuite.core.store import MaskStore

    path = tmp_path / "cells.ome.zarr"
    first = _make_store(make_napari_viewer(), path)
    # a notification names the store, not its long path (which napari's toast would cut)
    assert ("info", "created cells.ome.zarr") in notes
    truth = {x.name: np.asarray(x.data).copy() for x in first.layers if x.name != "classes"}
    asked = []
    monkeypatch.setattr(qv, "handle_gui_reading", lambda *a, **k: asked.append(a))

    viewer = make_napari_viewer()
    store_widget = _dock(viewer, "Mask store")
    assert store_widget.status.text() == "no store open"
    viewer.window._qt_viewer._qt_open([str(path)], stack=False)  # File > Open
    assert asked == []  # no "which reader?" question
    names = [x.name for x in viewer.layers]
    assert names == ["cells [0]", "cells [1]", "classes", "instances"]
    for name, channel in (("cells [0]", "nuclei"), ("cells [1]", "cytoplasm")):
        image = viewer.layers[name]
        level0 = image.data[0] if image.multiscale else image.data
        np.testing.assert_array_equal(level0, truth[channel])
    session = store_widget.session
    assert session.taxonomy.names() == ["nucleus", "cytoplasm"]
    inst = viewer.layers["instances"]
    np.testing.assert_array_equal(inst.data, truth["instances"])
    # drawn: visible, opaque class colours, a thumbnail that is not black, one value
    y, x = np.argwhere(inst.data > 0)[0]
    value = inst.get_value((y, x))
    assert value == truth["instances"][y, x]
    assert inst.visible and inst.get_color(value)[3] == 1.0
    assert inst.thumbnail[..., :3].max() > 0
    assert f"{value};" in inst.get_status((y, x), world=True)["value"].split(" ")[0] + ";"
    # the store is the session's: status, then painting makes it unsaved, then Save writes
    store_widget.refresh_status()
    assert store_widget.status.text().startswith("cells.ome.zarr [r+]\nsaved")
    assert store_widget.status.toolTip() == session.store.path
    inst.paint((5, 5), 77, refresh=True)
    store_widget.refresh_status()
    assert "unsaved edits" in store_widget.status.text()
    store_widget.save_btn.click()
    session.close_store()
    assert int(MaskStore.open(path).labels("instances")[5, 5]) == 77


def test_foreign_ome_zarr_still_opens(make_napari_viewer, tmp_path, quiet_settings):
    import zarr
    from napari.plugins.utils import get_preferred_reader
    from ome_zarr.writer import write_image

    from napari_labelsuite._reader import get_reader

    path = tmp_path / "foreign.ome.zarr"
    write_image(np.arange(64 * 64, dtype=np.uint16).reshape(64, 64),
                zarr.open_group(str(path), mode="w"), axes="yx", scale_factors=())  # fmt: skip
    assert get_reader(str(path)) is None
    assert get_preferred_reader(str(path)) is None
    viewer = make_napari_viewer()
    viewer.open(str(path), plugin="napari-ome-zarr")
    layer = viewer.layers[0]
    data = layer.data[0] if layer.multiscale else layer.data
    np.testing.assert_array_equal(data, np.arange(64 * 64).reshape(64, 64))


# -- 10. quality control says what it did -------------------------------------------------------
def test_run_checks_without_findings_says_so(make_napari_viewer, qtbot):
    from napari_labelsuite.core.qc import CHECKS

    viewer = make_napari_viewer()
    viewer.open_sample(PLUGIN, "cells_2d")
    widget = _dock(viewer, "Quality control")
    widget.run_button.click()
    qtbot.waitUntil(lambda: "Checked:" in widget.result_label.text(), timeout=20000)
    text = widget.result_label.text()
    assert text.startswith("0 findings in semantic 'classes'. Checked: unclassified,")
    assert "tiny (< 16 px)" in text
    assert all(name.replace("_", " ") in text for name in CHECKS)
    assert widget.findings_list.count() == 0


def test_run_checks_counts_findings_and_agreement_is_readable(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    viewer.open_sample(PLUGIN, "cells_2d")
    _dock(viewer, "Instances").label_components()
    widget = _dock(viewer, "Quality control")
    widget.min_area.setValue(2000)  # many objects are smaller
    widget.run_button.click()
    qtbot.waitUntil(lambda: "Checked:" in widget.result_label.text(), timeout=20000)
    n = len(widget.session.findings)
    assert n > 0 and widget.findings_list.count() == n
    assert widget.result_label.text().startswith(
        f"{n} findings in semantic 'classes', instances 'instances'."
    )
    widget.layer_a.setCurrentText("classes")
    widget.layer_b.setCurrentText("instances")
    widget.compare_button.click()
    assert widget.agreement_label.text() == "comparing 'classes' with 'instances'…"
    qtbot.waitUntil(lambda: "vs" in widget.agreement_label.text(), timeout=20000)
    assert widget.agreement_label.text().startswith("classes vs instances: ")
    assert widget.agreement_label.toolTip() == widget.agreement_label.text()


# -- 7. box names only when they can be read -------------------------------------------------
def test_box_names_show_only_when_zoomed_in(make_napari_viewer):
    viewer = make_napari_viewer()
    viewer.open_sample(PLUGIN, "cells_2d")
    _dock(viewer, "Instances").instances_from_semantic()
    taxonomy = _dock(viewer, "Class taxonomy")
    boxes = taxonomy.session.instances_to_boxes()
    median_h = np.median([np.ptp(d[:, 0]) for d in boxes.data])
    camera = viewer.scene.camera
    camera.zoom = 20 / median_h  # the median box is 20 px high: names would overlap
    assert boxes.text.visible is False
    camera.zoom = 30 / median_h
    assert boxes.text.visible is True
    assert taxonomy.box_text_combo.currentText() == "auto (when zoomed in)"
    taxonomy.box_text_combo.setCurrentText("always")
    camera.zoom = 1 / median_h
    assert boxes.text.visible is True and taxonomy.session.box_text_mode == "always"
    taxonomy.box_text_combo.setCurrentText("never")
    camera.zoom = 100 / median_h
    assert boxes.text.visible is False


# -- 11. the class tree shows every column -------------------------------------------------------
def test_class_tree_columns_fit_their_content(make_napari_viewer):
    viewer = make_napari_viewer()
    viewer.open_sample(PLUGIN, "cells_2d")
    widget = _dock(viewer, "Class taxonomy")
    tree = widget.tree
    for col in range(tree.columnCount()):
        needed = max(tree.sizeHintForColumn(col), tree.header().sectionSizeHint(col))
        assert tree.columnWidth(col) >= needed, col


# -- 9. the augmentation preview -----------------------------------------------------------------
def test_augmentation_preview_is_brought_into_view(make_napari_viewer):
    from napari_labelsuite._session.augment import is_preview_layer

    viewer = make_napari_viewer()
    viewer.open_sample(PLUGIN, "cells_2d")
    widget = _dock(viewer, "Augmentation preview")
    widget.new_type.value = "Affine"
    widget.add_button.changed.emit(True)
    affine = widget.session.augment_pipeline.transforms[-1]
    assert type(affine).__name__ == "Affine"
    assert affine.rotate == (-15.0, 15.0) and affine.scale == (0.9, 1.1)
    widget.transform_list.setCurrentRow(len(widget.session.augment_pipeline.transforms) - 1)
    labels = [w.label for w in widget.editor]
    assert "translate px x" in labels and "translate px y" in labels
    assert len(set(labels)) == len(labels)
    widget.n.value = 4
    widget.preview(block=True)
    grid = [x for x in viewer.layers if is_preview_layer(x)]
    assert grid
    lo = np.min([x.extent.world[0, -2:] for x in grid], axis=0)
    hi = np.max([x.extent.world[1, -2:] for x in grid], axis=0)
    center = np.array(viewer.scene.camera.center[-2:])
    assert np.all(center >= lo) and np.all(center <= hi)
    source = viewer.layers["classes"].extent.world[1, -1]
    assert center[1] > source  # the camera left the original image for the grid


# -- 11. importing says whether existing layers were replaced, and asks -----------------------
@pytest.mark.parametrize("answer", ["replace", "keep", "cancel"])
def test_import_over_existing_boxes_asks_and_says_what_happened(
    make_napari_viewer, qtbot, tmp_path, notes, monkeypatch, answer
):
    from napari_labelsuite._session.layers import role_of

    viewer = make_napari_viewer()
    viewer.open_sample(PLUGIN, "cells_2d")
    _dock(viewer, "Instances").instances_from_semantic()
    session = _dock(viewer, "Class taxonomy").session
    boxes = session.instances_to_boxes()
    n = len(boxes.data)
    session.export_annotations(tmp_path / "yolo", "yolo", task="detect")
    widget = _dock(viewer, "Import / export")
    asked = []
    monkeypatch.setattr(widget, "ask_replace", lambda names: asked.append(names) or answer)
    widget.format_combo.setCurrentText("yolo")
    widget.path_edit.setText(str(tmp_path / "yolo"))
    widget.import_()
    qtbot.waitUntil(lambda: bool(notes) and notes[-1][1].startswith("Im"), timeout=20000)
    assert asked == [["boxes"]]
    box_layers = [x for x in viewer.layers if role_of(x) == "boxes"]
    message = notes[-1][1]
    if answer == "replace":
        assert boxes not in viewer.layers and len(box_layers) == 1
        assert "from yolo; it replaced 'boxes'" in message
    elif answer == "keep":
        assert boxes in viewer.layers and len(box_layers) == 2
        assert "from yolo next to the existing layers" in message
    else:
        assert box_layers == [boxes]
        assert message == "Import of yolo cancelled; nothing changed"
    assert all(len(x.data) == n for x in box_layers)


# -- 12. the 3D sample: paint a few slices, interpolate in one click ----------------------------
def test_3d_sample_interpolation_is_one_click_away(make_napari_viewer):
    viewer = make_napari_viewer()
    viewer.open_sample(PLUGIN, "cells_2d")
    widget = _dock(viewer, "Instances")
    assert widget.interpolate_button.isHidden()  # nothing to interpolate in 2D
    viewer.layers.clear()
    viewer.open_sample(PLUGIN, "cells_3d")
    assert not widget.interpolate_button.isHidden()
    keyframes = viewer.layers["keyframes"]
    assert widget.session.instances is keyframes
    for z in (10, 14):  # an object painted on two slices
        rr, cc = disk((128, 128), 20, shape=keyframes.data.shape[1:])
        keyframes.data_setitem((np.full(rr.shape, z), rr, cc), 1)
    keyframes.selected_label = 1
    interp = widget.open_interpolation()
    interp.buttons["Interpolate masks"].click()
    filled = [int((keyframes.data[z] == 1).sum()) for z in range(9, 16)]
    assert filled[0] == filled[-1] == 0
    assert all(n > 0 for n in filled[1:-1])  # slices 11-13 were filled between the keyframes


# -- 11. a hand-drawn box has the same empty fields as the others --------------------------------
def test_hand_drawn_box_has_no_nan_fields(make_napari_viewer):
    viewer = make_napari_viewer()
    viewer.open_sample(PLUGIN, "cells_2d")
    widget = _dock(viewer, "Instances")
    widget.new_boxes_layer()
    boxes = viewer.layers["boxes"]
    boxes.add_rectangles(np.array([[5, 5], [20, 30]]))  # what drawing a rectangle does
    boxes.add_rectangles(np.array([[40, 40], [60, 70]]))
    assert boxes.features["class"].tolist() == ["nucleus", "nucleus"]
    for col in ("reviewer", "reviewed_at"):  # None, as converted and imported boxes have
        assert [v is None for v in boxes.features[col]] == [True, True]
