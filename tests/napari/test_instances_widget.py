"""Instance tools through the session and the "Instances" widget: undo, class table, scope."""

from __future__ import annotations

import numpy as np
import pytest

from napari_labelsuite import LabelSession
from napari_labelsuite.core.annotation import ObjectInfo
from napari_labelsuite.core.errors import InstanceError
from napari_labelsuite.core.synthetic import NUCLEI_CLASSES
from napari_labelsuite.core.taxonomy import Taxonomy


def dumbbell(value: int = 1) -> np.ndarray:
    lab = np.zeros((11, 20), np.int32)
    lab[2:9, 1:8] = value
    lab[2:9, 12:19] = value
    lab[5, 8:12] = value
    return lab


@pytest.fixture
def session():
    return LabelSession(taxonomy=Taxonomy(NUCLEI_CLASSES, name="cells"))


def test_split_is_one_undo_step_and_parts_keep_class(session):
    layer = session.add_instance_layer(dumbbell(), objects={1: ObjectInfo(2)})
    before = layer.data.copy()
    session.split_touching(min_distance=2)
    assert set(np.unique(layer.data)) == {0, 1, 2}
    assert session.objects(layer)[2].class_id == 2
    layer.undo()
    assert np.array_equal(layer.data, before)
    layer.redo()
    assert set(np.unique(layer.data)) == {0, 1, 2}


def test_merge_of_different_classes_changes_nothing_without_class(session):
    data = np.array([[1, 1, 2, 2]], np.int32)
    layer = session.add_instance_layer(data.copy(), objects={1: ObjectInfo(1), 2: ObjectInfo(2)})
    with pytest.raises(InstanceError):
        session.merge_instances([1, 2])
    assert np.array_equal(layer.data, data)
    session.merge_instances([1, 2], cls="cytoplasm")
    assert np.array_equal(layer.data, [[1, 1, 1, 1]])
    assert session.objects(layer)[1].class_id == 2


@pytest.mark.parametrize(
    "op",
    [
        lambda s: s.split_disconnected(),
        lambda s: s.delete_instances([3]),
        lambda s: s.fill_holes(region=(slice(1, 2),)),
        lambda s: s.remove_small(5),
        lambda s: s.remove_border_objects(),
        lambda s: s.relabel_sequential(),
        lambda s: s.merge_instances([3, 7]),
        lambda s: s.split_by_line(7, [[0, 1, 9], [0, 11, 9]]),
    ],
)
def test_every_operation_undoes_exactly_in_3d(session, op):
    data = np.zeros((2, 12, 14), np.int32)
    data[:, 2:10, 2:12] = 7
    data[:, 4:6, 4:6] = 0  # a hole
    data[:, 0, 0] = 3  # a small border object
    data[1, 11, 13] = 7  # a disconnected piece
    layer = session.add_instance_layer(data.copy(), objects={3: ObjectInfo(1), 7: ObjectInfo(1)})
    op(session)
    assert not np.array_equal(layer.data, data)
    layer.undo()
    assert np.array_equal(layer.data, data)


def test_history_records_the_operation(session):
    session.add_instance_layer(dumbbell(), objects={1: ObjectInfo(1)})
    session.split_touching(min_distance=2)
    entry = session.history()[-1]
    assert entry["action"] == "split_touching" and entry["params"]["new_ids"] == [2]


def test_widget_split_with_seeds_from_points_layer(make_napari_viewer):
    from napari_labelsuite._widgets.instances import InstancesWidget

    viewer = make_napari_viewer()
    widget = InstancesWidget(viewer)
    s = widget.session
    s.taxonomy = Taxonomy(NUCLEI_CLASSES)
    layer = s.add_instance_layer(dumbbell(4), objects={4: ObjectInfo(1)})
    viewer.add_points([[5, 3], [5, 16]], name="seeds")
    widget.seeds.setCurrentText("seeds")
    widget.split_touching()
    assert layer.data[5, 3] != layer.data[5, 16]
    assert set(np.unique(layer.data)) == {0, 4, 5}
    layer.undo()
    assert np.array_equal(layer.data, dumbbell(4))


def test_widget_delete_selected_label_and_plane_scope(make_napari_viewer):
    from napari_labelsuite._widgets.instances import InstancesWidget

    viewer = make_napari_viewer()
    widget = InstancesWidget(viewer)
    data = np.zeros((3, 6, 6), np.int32)
    data[:, 1, 1] = 2
    data[:, 4, 4] = 2
    layer = widget.session.add_instance_layer(data.copy())
    viewer.dims.set_current_step(0, 1)
    widget.scope.setCurrentText("current plane")
    widget.split_disconnected()
    assert layer.data[1, 1, 1] != layer.data[1, 4, 4]
    assert np.array_equal(layer.data[0], data[0]) and np.array_equal(layer.data[2], data[2])
    widget.scope.setCurrentText("selected objects")
    layer.selected_label = 2
    widget.delete()
    assert 2 not in np.unique(layer.data)


def test_widget_reports_bad_ids_as_notification(make_napari_viewer, monkeypatch):
    from napari_labelsuite._widgets import _base
    from napari_labelsuite._widgets.instances import InstancesWidget

    shown = []
    monkeypatch.setattr(_base, "show_error", shown.append)
    viewer = make_napari_viewer()
    widget = InstancesWidget(viewer)
    layer = widget.session.add_instance_layer(dumbbell())
    widget.ids.setText("1, 99")
    widget.merge()
    assert shown and "99" in shown[0]
    assert np.array_equal(layer.data, dumbbell())


def test_widget_labels_large_mask_in_worker(make_napari_viewer, qtbot, tmp_path):
    import zarr

    from napari_labelsuite._widgets.instances import InstancesWidget

    viewer = make_napari_viewer()
    widget = InstancesWidget(viewer)
    sem = np.zeros((64, 64), np.uint8)
    sem[5:20, 5:20] = 1
    sem[30:60, 2:62] = 2
    z = zarr.create_array(tmp_path / "sem.zarr", shape=sem.shape, chunks=(16, 16), dtype="u1")
    z[:] = sem
    widget.session.add_semantic_layer(z)
    widget.label_large()
    # wait on the result: the worker may finish before a signal spy could be attached
    qtbot.waitUntil(lambda: len(widget.session.layers_of_role("instances")) == 1, timeout=30000)
    out = np.asarray(widget.session.instances.data)
    assert set(np.unique(out)) == {0, 1, 2}
    assert len(np.unique(out[sem == 2])) == 1


# -- whole-image split of large arrays ----------------------------------------------------
@pytest.fixture(scope="module")
def merged():
    from napari_labelsuite.core import instances as inst
    from napari_labelsuite.core.synthetic import make_cells_2d

    return inst.label_components(make_cells_2d((256, 256), seed=3).instances > 0)


def _zarr(tmp_path, data, chunks=(64, 64)):
    import zarr

    z = zarr.create_array(tmp_path / "lab.zarr", shape=data.shape, chunks=chunks, dtype="i4")
    z[:] = data
    return z


def test_session_large_split_of_zarr_layer_gives_new_layer_with_classes(session, tmp_path, merged):
    from napari_labelsuite.core import instances as inst

    objects = {int(i): ObjectInfo(1 + int(i) % 2) for i in np.unique(merged)[1:]}
    layer = session.add_instance_layer(_zarr(tmp_path, merged), objects=objects)
    new, edit = session.split_touching_large()
    ref = inst.split_touching(merged)
    assert edit.parents == ref.parents and edit.parents
    assert np.array_equal(np.asarray(new.data), ref.apply(merged))
    assert np.array_equal(np.asarray(layer.data), merged)  # the source is unchanged
    table = session.objects(new)
    assert all(table[c].class_id == objects[p].class_id for c, p in edit.parents.items())
    assert session.history()[-2]["action"] == "split_touching_chunked"


def test_session_large_split_rewrites_store_label_behind_edit_region(session, tmp_path, merged):
    from napari_labelsuite.core import instances as inst

    objects = {int(i): ObjectInfo(2) for i in np.unique(merged)[1:]}
    session.add_instance_layer(merged.copy(), objects=objects)
    path = str(tmp_path / "s.ome.zarr")
    session.create_store(path, chunks=(64, 64))
    session.close_store()
    session.open_store(path, max_in_memory=1000, region=(64, 64))
    assert session.large_split_source() == "instances"
    region_layer, edit = session.split_touching_large()
    ref = inst.split_touching(merged)
    assert edit.parents == ref.parents
    assert np.array_equal(np.asarray(session.store.labels("instances")), ref.apply(merged))
    win = tuple(slice(int(t), int(t) + n) for t, n in zip(region_layer.translate, (64, 64)))
    assert np.array_equal(region_layer.data, ref.apply(merged)[win])
    assert session.store.objects("instances")[max(edit.parents)].class_id == 2


def test_widget_whole_image_split_of_zarr_layer_runs_in_worker(
    make_napari_viewer, qtbot, tmp_path, merged
):
    from napari_labelsuite._widgets.instances import InstancesWidget
    from napari_labelsuite.core import instances as inst

    viewer = make_napari_viewer()
    widget = InstancesWidget(viewer)
    widget.session.add_instance_layer(_zarr(tmp_path, merged))
    widget.scope.setCurrentText("whole volume")
    widget.split_touching()
    qtbot.waitUntil(lambda: len(widget.session.layers_of_role("instances")) == 2, timeout=60000)
    out = np.asarray(widget.session.layers_of_role("instances")[-1].data)
    assert np.array_equal(out, inst.split_touching(merged).apply(merged))
