"""Headless LabelSession store workflow: create, paint, undo, regions, save, reopen."""

from __future__ import annotations

import numpy as np
import pytest

from napari_labelsuite import LabelSession
from napari_labelsuite.core.annotation import Box, ObjectInfo
from napari_labelsuite.core.errors import SessionError
from napari_labelsuite.core.store import MaskStore


@pytest.fixture
def big_store(tmp_path, cells_taxonomy):
    """A 1024 x 1024 instance store that the session treats as larger than RAM."""
    path = tmp_path / "big.ome.zarr"
    with MaskStore.create(path, shape=(1024, 1024), chunks=(128, 128)) as st:
        st.taxonomy = cells_taxonomy
        lab = st.create_labels("instances", dtype="uint32", role="instances")
        lab[0:10, 0:10] = 1
        st.set_objects("instances", {1: ObjectInfo(1)})
        st.save()
    return path


def test_create_store_from_layers_and_reopen(tmp_path, small_cells, cells_taxonomy):
    s = LabelSession(taxonomy=cells_taxonomy)
    objects = {int(i): ObjectInfo(2) for i in np.unique(small_cells.instances) if i}
    s.add_instance_layer(np.array(small_cells.instances), objects=objects)
    s.add_boxes_layer([Box(1, 2, 30, 40, class_id=1)])
    s.create_store(str(tmp_path / "c.ome.zarr"))
    s.close_store()
    t = LabelSession()
    t.open_store(str(tmp_path / "c.ome.zarr"), mode="r")
    np.testing.assert_array_equal(t.instances.data, small_cells.instances)
    assert t.objects() == objects
    assert [b.xyxy for b in t.boxes_list()] == [(1.0, 2.0, 30.0, 40.0)]
    assert t.taxonomy == cells_taxonomy


def test_painting_marks_only_touched_chunks(big_store):
    s = LabelSession()
    s.open_store(str(big_store), max_in_memory=1, region=(256, 256))
    layer = s.instances
    assert layer.name == "instances [edit]"
    oy, ox = (int(v) for v in layer.translate)
    layer.paint((50, 60), 2, refresh=False)  # data coordinates of the region
    assert s.store.labels("instances")[oy + 50, ox + 60] == 2
    assert s.store.labels("instances").dirty_chunks == {((oy + 50) // 128, (ox + 60) // 128)}
    s.close_store()


def test_undo_after_paint_is_saved(big_store):
    s = LabelSession()
    s.open_store(str(big_store), max_in_memory=1, region=(256, 256))
    layer = s.instances
    oy, ox = (int(v) for v in layer.translate)
    layer.brush_size = 6
    layer.paint((oy + 50, ox + 50), 3, refresh=False)
    layer.undo()  # napari emits no paint event for undo
    s.save_store()
    assert not s.store_has_unsaved_edits()
    assert s.store.labels("instances")[oy + 50, ox + 50] == 0
    s.close_store()


def test_moving_the_region_saves_the_previous_one(big_store):
    s = LabelSession()
    s.open_store(str(big_store), max_in_memory=1, region=(256, 256))
    layer = s.instances
    oy, ox = (int(v) for v in layer.translate)
    layer.data[10:20, 10:20] = 4  # an edit napari never announced
    new = s.edit_region("instances", center=(100, 100), size=(200, 200))
    assert tuple(new.translate) == (0, 0)
    assert new.data.shape == (200, 200)
    assert layer not in s.layers
    assert not s.store.is_dirty
    back = MaskStore.open(big_store)
    assert (back.labels("instances")[oy + 10 : oy + 20, ox + 10 : ox + 20] == 4).all()
    s.close_store()


def test_save_without_store_is_an_error():
    with pytest.raises(SessionError, match="no mask store is open"):
        LabelSession().save_store()


@pytest.fixture
def stack_store(tmp_path):
    """A 9 x 256 x 256 stack that the session treats as larger than RAM."""
    path = tmp_path / "stack.ome.zarr"
    vol = np.zeros((9, 256, 256), np.uint32)
    vol[np.arange(9), 100, 100] = np.arange(1, 10)  # plane k holds label k + 1 at (100, 100)
    with MaskStore.create(path, shape=vol.shape, chunks=(1, 64, 64)) as st:
        st.create_labels("cells", dtype="uint32", role="instances")[...] = vol
        st.save()
    return path


def test_stack_region_covers_only_the_middle_plane_headless(stack_store):
    s = LabelSession()
    s.open_store(str(stack_store), max_in_memory=1, region=(128, 128))
    layer = s.instances
    assert layer.data.shape == (1, 128, 128)
    assert tuple(layer.translate) == (4, 64, 64)
    assert layer.data[0, 100 - 64, 100 - 64] == 5
    s.close_store()


def test_stack_region_at_a_point_with_z_margin(stack_store):
    s = LabelSession()
    s.open_store(str(stack_store), max_in_memory=1, region=(128, 128))
    layer = s.edit_region("cells", center=(2, 100, 100), size=(64, 64), z_margin=1)
    assert layer.data.shape == (3, 64, 64)
    assert tuple(layer.translate) == (1, 68, 68)
    assert layer.data[:, 32, 32].tolist() == [2, 3, 4]
    s.close_store()


def test_stack_region_margin_is_clipped_at_the_first_plane(stack_store):
    s = LabelSession()
    s.open_store(str(stack_store), max_in_memory=1, region=(128, 128))
    layer = s.edit_region("cells", center=(0, 100, 100), size=(64, 64), z_margin=2)
    assert layer.data.shape == (3, 64, 64)
    assert tuple(layer.translate)[0] == 0
    s.close_store()


def test_painting_a_stack_region_marks_one_plane_chunk(stack_store):
    s = LabelSession()
    s.open_store(str(stack_store), max_in_memory=1, region=(128, 128))
    layer = s.edit_region("cells", center=(6, 100, 100), size=(128, 128), z_margin=1)
    layer.paint((1, 10, 20), 42, refresh=False)  # region coordinates: plane 6
    la = s.store.labels("cells")
    assert la[6, 36 + 10, 36 + 20] == 42
    assert la.dirty_chunks == {(6, (36 + 10) // 64, (36 + 20) // 64)}
    s.save_store()
    s.close_store()
    assert MaskStore.open(stack_store).labels("cells")[6, 46, 56] == 42
