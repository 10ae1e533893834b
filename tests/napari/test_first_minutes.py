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

from napari_labelsuite.core.synthetic import NUCLEI_CLASSES

PLUGIN = "napari-labelsuite"


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
    assert text.startswith(f"split {n_split} objects into {n_split + len(new)}")
    assert notes[-1][1] == text


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
    assert viewer.layers[-2].data.shape == (1024, 1024) and not viewer.layers[-2].data.any()
    assert len(viewer.layers[-1].data) == 0
    assert not [x for x in notes if x[0] == "error"]
