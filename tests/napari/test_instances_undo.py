"""Undo and redo of instance tools restore the instance -> class table with the pixels."""

from __future__ import annotations

import numpy as np
import pytest
from napari.layers.labels._labels_key_bindings import redo as ctrl_shift_z
from napari.layers.labels._labels_key_bindings import undo as ctrl_z

from napari_labelsuite import LabelSession
from napari_labelsuite.core.annotation import ObjectInfo
from napari_labelsuite.core.synthetic import NUCLEI_CLASSES
from napari_labelsuite.core.taxonomy import Taxonomy

NUC, CYTO = 1, 2


@pytest.fixture
def session(make_napari_viewer):
    return LabelSession(make_napari_viewer(), taxonomy=Taxonomy(NUCLEI_CLASSES, name="cells"))


def classes(session, layer) -> dict[int, int]:
    return {i: o.class_id for i, o in session.objects(layer).items()}


def dumbbell(value: int = 1) -> np.ndarray:
    lab = np.zeros((11, 20), np.int32)
    lab[2:9, 1:8] = value
    lab[2:9, 12:19] = value
    lab[5, 8:12] = value
    return lab


def two_blobs() -> np.ndarray:
    data = np.zeros((8, 12), np.int32)
    data[1:6, 1:5] = 3
    data[1:6, 6:11] = 7
    data[7, 0] = 5  # a one-pixel object
    return data


def test_merge_with_class_is_undone_and_redone(session):
    data = np.array([[1, 1, 2, 2]], np.int32)
    layer = session.add_instance_layer(
        data.copy(), objects={1: ObjectInfo(NUC), 2: ObjectInfo(CYTO)}
    )
    session.merge_instances([1, 2], cls="cytoplasm")
    assert classes(session, layer) == {1: CYTO}
    layer.undo()
    assert np.array_equal(layer.data, data)
    assert classes(session, layer) == {1: NUC, 2: CYTO}
    layer.redo()
    assert np.array_equal(layer.data, [[1, 1, 1, 1]])
    assert classes(session, layer) == {1: CYTO}


def test_undo_of_merge_brings_back_features_and_colours(session):
    data = np.array([[1, 1, 2, 2]], np.int32)
    layer = session.add_instance_layer(
        data.copy(), objects={1: ObjectInfo(NUC), 2: ObjectInfo(CYTO)}
    )
    colour_before = layer.colormap.map(2).copy()
    session.merge_instances([1, 2], cls="cytoplasm")
    assert sorted(layer.features["index"]) == [0, 1]  # 0: the background row
    layer.undo()
    assert sorted(layer.features["index"]) == [0, 1, 2]
    rows = layer.features.set_index("index")
    assert rows.loc[1, "class"] == "nucleus" and rows.loc[2, "class"] == "cytoplasm"
    assert np.allclose(layer.colormap.map(2), colour_before)


def test_split_parts_leave_the_table_on_undo_and_return_on_redo(session):
    layer = session.add_instance_layer(
        dumbbell(), objects={1: ObjectInfo(CYTO, status="approved")}
    )
    session.split_touching(min_distance=2)
    after = session.objects(layer)
    assert set(after) == {1, 2} and after[2].class_id == CYTO and after[2].status == "todo"
    layer.undo()
    assert session.objects(layer) == {1: ObjectInfo(CYTO, status="approved")}
    layer.redo()
    assert session.objects(layer) == after


def test_split_by_line_is_undone(session):
    layer = session.add_instance_layer(dumbbell(4), objects={4: ObjectInfo(NUC)})
    session.split_by_line(4, [[0, 10], [10, 10]])
    assert classes(session, layer) == {4: NUC, 5: NUC}
    layer.undo()
    assert classes(session, layer) == {4: NUC}


def test_delete_removes_the_row_and_undo_restores_it(session):
    objects = {3: ObjectInfo(NUC, attributes={"dividing": True}), 7: ObjectInfo(CYTO)}
    layer = session.add_instance_layer(two_blobs(), objects=objects)
    session.delete_instances([3])
    assert classes(session, layer) == {7: CYTO}
    layer.undo()
    assert session.objects(layer) == objects
    layer.redo()
    assert classes(session, layer) == {7: CYTO}


def test_relabel_renumbers_rows_and_undo_restores_the_old_numbers(session):
    objects = {3: ObjectInfo(NUC), 5: ObjectInfo(NUC), 7: ObjectInfo(CYTO)}
    layer = session.add_instance_layer(two_blobs(), objects=objects)
    session.relabel_sequential()
    assert classes(session, layer) == {1: NUC, 2: NUC, 3: CYTO}
    layer.undo()
    assert np.array_equal(layer.data, two_blobs())
    assert classes(session, layer) == {3: NUC, 5: NUC, 7: CYTO}
    layer.redo()
    assert classes(session, layer) == {1: NUC, 2: NUC, 3: CYTO}


def test_remove_small_is_undone_with_its_rows(session):
    objects = {3: ObjectInfo(NUC), 5: ObjectInfo(CYTO), 7: ObjectInfo(CYTO)}
    layer = session.add_instance_layer(two_blobs(), objects=objects)
    session.remove_small(2)
    assert classes(session, layer) == {3: NUC, 7: CYTO}
    layer.undo()
    assert classes(session, layer) == {3: NUC, 5: CYTO, 7: CYTO}
    layer.redo()
    assert classes(session, layer) == {3: NUC, 7: CYTO}


def test_fill_holes_adds_no_row_for_the_selected_label_and_undoes(session):
    data = np.zeros((6, 6), np.int32)
    data[1:5, 1:5] = 2
    data[2, 2] = 0
    layer = session.add_instance_layer(data.copy(), objects={2: ObjectInfo(NUC)})
    session.set_active_class("cytoplasm")
    layer.selected_label = 9  # painting would make 9 a cytoplasm; filling holes must not
    session.fill_holes()
    assert layer.data[2, 2] == 2
    assert classes(session, layer) == {2: NUC}
    layer.undo()
    assert np.array_equal(layer.data, data)
    assert classes(session, layer) == {2: NUC}


def test_3d_split_disconnected_follows_ctrl_z_and_ctrl_shift_z(session):
    data = np.zeros((3, 8, 8), np.int32)
    data[:, 1:3, 1:3] = 6
    data[:, 5:7, 5:7] = 6
    layer = session.add_instance_layer(data.copy(), objects={6: ObjectInfo(CYTO)})
    session.split_disconnected()
    assert classes(session, layer) == {6: CYTO, 7: CYTO}
    ctrl_z(layer)
    assert np.array_equal(layer.data, data)
    assert classes(session, layer) == {6: CYTO}
    ctrl_shift_z(layer)
    assert layer.data[0, 1, 1] != layer.data[2, 6, 6]
    assert classes(session, layer) == {6: CYTO, 7: CYTO}


def test_plane_limited_delete_keeps_the_row_of_an_object_alive_elsewhere(session):
    data = np.zeros((3, 4, 4), np.int32)
    data[:, 1:3, 1:3] = 4
    layer = session.add_instance_layer(data.copy(), objects={4: ObjectInfo(NUC)})
    session.delete_instances([4], region=(slice(1, 2),))
    assert not (layer.data[1] == 4).any() and (layer.data[0] == 4).any()
    assert classes(session, layer) == {4: NUC}


def test_two_steps_undo_and_redo_in_order(session):
    objects = {3: ObjectInfo(NUC), 5: ObjectInfo(CYTO), 7: ObjectInfo(CYTO)}
    layer = session.add_instance_layer(two_blobs(), objects=objects)
    session.delete_instances([5])
    session.merge_instances([3, 7], cls="nucleus")
    assert classes(session, layer) == {3: NUC}
    layer.undo()
    assert classes(session, layer) == {3: NUC, 7: CYTO}
    layer.undo()
    assert classes(session, layer) == {3: NUC, 5: CYTO, 7: CYTO}
    layer.redo()
    assert classes(session, layer) == {3: NUC, 7: CYTO}
    layer.redo()
    assert classes(session, layer) == {3: NUC}


def test_hand_paint_after_an_undo_keeps_the_table(session):
    data = np.array([[1, 1, 2, 2, 0, 0]], np.int32)
    layer = session.add_instance_layer(
        data.copy(), objects={1: ObjectInfo(NUC), 2: ObjectInfo(CYTO)}
    )
    session.merge_instances([1, 2], cls="nucleus")
    layer.undo()
    session.set_active_class("cytoplasm")
    layer.selected_label = 9
    layer.brush_size = 1
    layer.paint((0, 5), 9)
    assert classes(session, layer) == {1: NUC, 2: CYTO, 9: CYTO}
    layer.redo()  # the paint cleared napari's redo: the merge is gone, pixels and table alike
    assert np.array_equal(layer.data, [[1, 1, 2, 2, 0, 9]])
    assert classes(session, layer) == {1: NUC, 2: CYTO, 9: CYTO}
    layer.undo()  # undoes the paint: no table step of ours
    assert np.array_equal(layer.data, data)
    assert classes(session, layer) == {1: NUC, 2: CYTO, 9: CYTO}


def test_undo_of_an_operation_under_a_hand_paint_keeps_the_painted_row(session):
    data = np.array([[1, 1, 2, 2, 0, 0]], np.int32)
    layer = session.add_instance_layer(
        data.copy(), objects={1: ObjectInfo(NUC), 2: ObjectInfo(CYTO)}
    )
    session.merge_instances([1, 2], cls="cytoplasm")
    session.set_active_class("nucleus")
    layer.selected_label = 9
    layer.brush_size = 1
    layer.paint((0, 5), 9)
    layer.undo()  # the paint
    layer.undo()  # the merge
    assert np.array_equal(layer.data, data)
    assert classes(session, layer) == {1: NUC, 2: CYTO, 9: NUC}
    layer.redo()
    layer.redo()
    assert np.array_equal(layer.data, [[1, 1, 1, 1, 0, 9]])
    assert classes(session, layer) == {1: CYTO, 9: NUC}


def test_widget_delete_then_ctrl_z_restores_the_row(make_napari_viewer):
    from napari_labelsuite._widgets.instances import InstancesWidget

    viewer = make_napari_viewer()
    widget = InstancesWidget(viewer)
    s = widget.session
    s.taxonomy = Taxonomy(NUCLEI_CLASSES)
    layer = s.add_instance_layer(two_blobs(), objects={3: ObjectInfo(NUC), 7: ObjectInfo(CYTO)})
    widget.scope.setCurrentText("selected objects")
    layer.selected_label = 7
    widget.delete()
    assert classes(s, layer) == {3: NUC}
    ctrl_z(layer)
    assert np.array_equal(layer.data, two_blobs())
    assert classes(s, layer) == {3: NUC, 7: CYTO}
