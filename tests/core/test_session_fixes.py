"""Regression tests of LabelSession fixes: cheap store status, taxonomy swaps, lazy data."""

from __future__ import annotations

import numpy as np
import pytest
import zarr

from napari_labelsuite import LabelSession
from napari_labelsuite.core.annotation import Box, ImageAnnotation, ObjectInfo
from napari_labelsuite.core.errors import SessionError, TaxonomyError
from napari_labelsuite.core.store import MaskStore
from napari_labelsuite.core.taxonomy import Taxonomy


# -- store status reads no pixels ------------------------------------------------------------
@pytest.fixture
def stored(tmp_path):
    s = LabelSession()
    s.add_class("cell")
    s.add_instance_layer(np.zeros((64, 64), np.int32))
    s.create_store(str(tmp_path / "s.ome.zarr"), chunks=(32, 32))
    yield s
    s.close_store()


@pytest.fixture
def zarr_reads(monkeypatch):
    """Every key read from any zarr array while the test runs."""
    reads: list = []
    original = zarr.Array.__getitem__

    def spy(self, key):
        reads.append(key)
        return original(self, key)

    monkeypatch.setattr(zarr.Array, "__getitem__", spy)
    return reads


def test_store_status_of_a_clean_store_reads_nothing(stored, zarr_reads):
    assert stored.store_status()["dirty"] is False
    assert zarr_reads == []


def test_store_status_reports_paint_without_reading_the_store(stored, zarr_reads):
    stored.instances.paint((5, 5), 3, refresh=False)
    zarr_reads.clear()
    assert stored.store_status()["dirty"] is True
    assert zarr_reads == []


def test_store_status_reports_undo_after_save_without_reading(stored, zarr_reads):
    layer = stored.instances
    layer.paint((5, 5), 3, refresh=False)
    stored.save_store()
    assert stored.store_status()["dirty"] is False
    layer.undo()  # napari emits no event for undo
    zarr_reads.clear()
    assert stored.store_status()["dirty"] is True
    assert zarr_reads == []
    assert stored.store_has_unsaved_edits()  # the full compare agrees


# -- replacing the taxonomy keeps the meaning of labels ---------------------------------------
@pytest.fixture
def labelled():
    """cell (1) and nucleus (2) used by a semantic mask, an instance table and a box."""
    s = LabelSession(taxonomy=Taxonomy([{"id": 1, "name": "cell"}, {"id": 2, "name": "nuc"}]))
    sem = np.zeros((8, 8), np.uint8)
    sem[0:2, 0:2] = 1
    sem[4:6, 4:6] = 2
    s.add_semantic_layer(sem)
    inst = np.zeros((8, 8), np.int32)
    inst[0:2, 0:2] = 1
    inst[4:6, 4:6] = 2
    s.add_instance_layer(inst, objects={1: ObjectInfo(1), 2: ObjectInfo(2)})
    s.add_boxes_layer([Box(0, 0, 2, 2, class_id=2)])
    return s


def test_taxonomy_missing_a_class_in_use_is_refused(labelled):
    with pytest.raises(TaxonomyError, match="2 'nuc' is missing") as info:
        labelled.taxonomy = Taxonomy([{"id": 1, "name": "cell"}])
    assert info.value.value == [2]
    assert labelled.taxonomy.names() == ["cell", "nuc"]


def test_taxonomy_renaming_a_class_in_use_is_refused(labelled):
    with pytest.raises(TaxonomyError, match="1 'cell' is now 'other'"):
        labelled.taxonomy = Taxonomy([{"id": 1, "name": "other"}, {"id": 2, "name": "nuc"}])
    assert labelled.objects()[1].class_id == 1
    assert list(labelled.instances.features["class"]) == ["background", "cell", "nuc"]


def test_taxonomy_dropping_an_unused_class_is_accepted(labelled):
    tax = Taxonomy([{"id": 1, "name": "cell"}, {"id": 2, "name": "nuc"}, {"id": 3, "name": "x"}])
    labelled.taxonomy = tax
    labelled.taxonomy = Taxonomy([{"id": 1, "name": "cell"}, {"id": 2, "name": "nuc"}])
    assert labelled.taxonomy.ids() == [1, 2]


def test_fresh_session_accepts_any_taxonomy():
    s = LabelSession(taxonomy=Taxonomy([{"id": 1, "name": "cell"}]))
    s.taxonomy = Taxonomy([{"id": 1, "name": "other"}])
    assert s.taxonomy.names() == ["other"]


def test_set_taxonomy_remap_swaps_ids_in_masks_tables_and_boxes(labelled):
    sem_before = np.array(labelled.semantic.data)
    new = Taxonomy([{"id": 1, "name": "nuc"}, {"id": 2, "name": "cell"}])
    labelled.set_taxonomy(new, remap={1: 2, "nuc": "nuc"})
    expected = np.where(sem_before == 1, 2, np.where(sem_before == 2, 1, 0))
    np.testing.assert_array_equal(labelled.semantic.data, expected)
    assert {k: o.class_id for k, o in labelled.objects().items()} == {1: 2, 2: 1}
    assert list(labelled.boxes.features["class_id"]) == [1]
    assert list(labelled.boxes.features["class"]) == ["nuc"]
    entry = labelled.history()[-1]
    assert entry["action"] == "set_taxonomy"
    assert entry["params"]["remap"] == {"1": 2, "2": 1}


def test_set_taxonomy_remap_to_a_missing_class_is_refused(labelled):
    with pytest.raises(TaxonomyError, match="remap"):
        labelled.set_taxonomy(Taxonomy([{"id": 1, "name": "cell"}]), remap={2: 5})
    assert labelled.taxonomy.ids() == [1, 2]


def test_set_taxonomy_force_keeps_the_ids(labelled):
    labelled.set_taxonomy(Taxonomy([{"id": 1, "name": "cell"}]), force=True)
    assert labelled.objects()[2].class_id == 2
    assert labelled.history()[-1]["params"]["force"] is True


def test_import_replacing_the_layers_may_drop_their_classes(labelled, tmp_path):
    from napari_labelsuite.core import formats

    ann = ImageAnnotation("img", (8, 8), boxes=[Box(1, 1, 3, 3, class_id=7)])
    formats.write(tmp_path / "a.json", [ann], Taxonomy([{"id": 7, "name": "car"}]), "coco")
    for role in ("semantic", "instances"):
        for layer in labelled.layers_of_role(role):
            labelled.layers.remove(layer)
    labelled.import_annotations(tmp_path / "a.json")
    assert labelled.taxonomy.names() == ["car"]
    assert [b.class_id for b in labelled.boxes_list()] == [7]


# -- no whole-array work on the GUI thread ----------------------------------------------------
def test_label_components_of_a_zarr_layer_points_to_the_chunked_method(tmp_path):
    s = LabelSession(taxonomy=Taxonomy([{"id": 1, "name": "cell"}]))
    z = zarr.create_array(tmp_path / "m.zarr", shape=(16, 16), chunks=(8, 8), dtype="u1")
    z[2:5, 2:5] = 1
    s.add_semantic_layer(z)
    with pytest.raises(SessionError, match="iter_label_components_chunked"):
        s.label_components()
    assert s.layers_of_role("instances") == []


def test_label_components_of_a_multiscale_layer_is_refused():
    s = LabelSession(taxonomy=Taxonomy([{"id": 1, "name": "cell"}]))
    full = np.zeros((16, 16), np.uint8)
    full[2:5, 2:5] = 1
    s.add_semantic_layer([full, full[::2, ::2]], multiscale=True)
    with pytest.raises(SessionError, match="multiscale"):
        s.label_components()


def _touching_discs() -> np.ndarray:
    yy, xx = np.mgrid[:64, :64]
    one = ((yy - 32) ** 2 + (xx - 22) ** 2 < 100) | ((yy - 32) ** 2 + (xx - 40) ** 2 < 100)
    return one.astype(np.int32)


def test_store_split_is_written_and_saved_by_the_generator(tmp_path):
    from napari_labelsuite.core import instances as core
    from napari_labelsuite.core.instances_chunked import _drain

    s = LabelSession(taxonomy=Taxonomy([{"id": 1, "name": "cell"}]))
    merged = _touching_discs()
    s.add_instance_layer(merged, objects={1: ObjectInfo(1)})
    path = str(tmp_path / "s.ome.zarr")
    s.create_store(path, chunks=(32, 32))
    s.close_store()
    s.open_store(path, max_in_memory=1000, region=(32, 32))
    labels, out = s.large_split_target("instances")
    edit = _drain(s.iter_split_touching_large(labels, out, min_distance=5))
    expected = core.split_touching(merged, min_distance=5).apply(merged)
    assert len(np.unique(expected)) == 3  # the split did something
    # saved before the GUI-thread step: another reader sees the split already
    assert not s.store.is_dirty
    with MaskStore.open(path, "r") as back:
        np.testing.assert_array_equal(np.asarray(back.labels("instances")), expected)
    layer = s.finish_large_split("instances", out, edit)
    win = tuple(slice(int(t), int(t) + 32) for t in layer.translate)
    np.testing.assert_array_equal(layer.data, expected[win])
    assert s.store_status()["dirty"] is False
    s.close_store()


# -- painting a new instance is recorded -------------------------------------------------------
def test_painting_a_new_instance_records_its_class_once():
    s = LabelSession(taxonomy=Taxonomy([{"id": 1, "name": "cell"}, {"id": 2, "name": "nuc"}]))
    layer = s.add_instance_layer(np.zeros((16, 16), np.int32))
    s.set_active_class("nuc")
    layer.selected_label = 4
    layer.paint((3, 3), 4, refresh=False)
    layer.paint((6, 6), 4, refresh=False)  # the same instance again
    entries = [e for e in s.history() if e["action"] == "new_instance"]
    assert [e["params"] for e in entries] == [
        {"layer": "instances", "instance_id": 4, "class_id": 2}
    ]
    assert s.objects()[4].class_id == 2


# -- public session methods the widgets call ----------------------------------------------------
def test_region_from_shapes_is_the_clipped_box_of_the_last_shape():
    from napari.layers import Shapes

    s = LabelSession()
    s.add_instance_layer(np.zeros((16, 16), np.int32))
    shapes = Shapes([np.array([[2, 3], [2, 9], [7, 9], [7, 3]]), np.array([[10, 12], [20, 20]])])
    assert s.region_from_shapes(shapes) == (slice(10, 16), slice(12, 16))
    shapes.selected_data = {0}
    assert s.region_from_shapes(shapes) == (slice(2, 8), slice(3, 10))


def test_region_from_an_empty_shapes_layer_is_refused():
    from napari.layers import Shapes

    from napari_labelsuite.core.errors import InstanceError

    s = LabelSession()
    s.add_instance_layer(np.zeros((16, 16), np.int32))
    with pytest.raises(InstanceError, match="draw a region"):
        s.region_from_shapes(Shapes())


def test_move_class_moves_one_place_and_stops_at_the_ends():
    s = LabelSession(taxonomy=Taxonomy([{"id": i, "name": f"c{i}"} for i in (1, 2, 3)]))
    assert s.move_class("c3", -1) == [1, 3, 2]
    assert s.move_class(1, -1) == [1, 3, 2]
    assert s.taxonomy.ids() == [1, 3, 2]
    assert [e["params"] for e in s.history() if e["action"] == "move_class"] == [
        {"id": 3, "step": -1}
    ]


def test_build_store_pyramid_without_a_store_raises():
    with pytest.raises(SessionError, match="no mask store is open"):
        LabelSession().build_store_pyramid()
