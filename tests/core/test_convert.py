"""Conversions between semantic masks, instance masks and boxes; block-wise class counts."""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest
import zarr

from napari_labelsuite.core.annotation import ObjectInfo
from napari_labelsuite.core.convert import (
    class_counts,
    contains_value,
    instances_to_boxes,
    instances_to_semantic,
    replace_values,
    semantic_to_instances,
)
from napari_labelsuite.core.errors import AnnotationError


def _reference_counts(arr):
    vals, cnt = np.unique(np.asarray(arr), return_counts=True)
    return dict(zip(vals.tolist(), cnt.tolist()))


def test_class_counts_match_unique_on_cells(small_cells):
    assert class_counts(small_cells.semantic, block_rows=37) == _reference_counts(
        small_cells.semantic
    )


def test_class_counts_on_zarr_and_dask(small_cells):
    z = zarr.create_array(
        store=zarr.storage.MemoryStore(), shape=(256, 256), chunks=(64, 64), dtype="int32"
    )
    z[:] = small_cells.instances
    expected = _reference_counts(small_cells.instances)
    assert class_counts(z) == expected
    assert class_counts(da.from_array(small_cells.instances, chunks=100)) == expected


def test_class_counts_reports_progress_per_block():
    seen = []
    class_counts(
        np.ones((10, 4), np.uint8), block_rows=3, progress=lambda k, n: seen.append((k, n))
    )
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]


def test_class_counts_huge_ids_fall_back_to_unique():
    arr = np.array([[0, 2**30], [2**30, 5]], dtype=np.int64)
    assert class_counts(arr) == {0: 1, 5: 1, 2**30: 2}


def test_class_counts_rejects_negative_and_float():
    with pytest.raises(AnnotationError, match=">= 0"):
        class_counts(np.array([[-1, 2]]))
    with pytest.raises(AnnotationError, match="integer") as info:
        class_counts(np.zeros((2, 2)))
    assert info.value.field == "labels"


def test_instances_to_semantic_through_table():
    inst = np.array([[0, 1, 1], [2, 2, 3], [4, 0, 0]], dtype=np.int32)
    objects = {1: ObjectInfo(7), 2: ObjectInfo(3), 3: ObjectInfo(7)}
    sem = instances_to_semantic(inst, objects)
    np.testing.assert_array_equal(sem, [[0, 7, 7], [3, 3, 7], [0, 0, 0]])
    assert sem.dtype == np.uint8


def test_instances_to_semantic_on_cells_equals_ground_truth(small_cells):
    inst = small_cells.instances
    nuclei = np.unique(inst[small_cells.semantic == 1])
    objects = {int(i): ObjectInfo(1) for i in nuclei if i}
    sem = instances_to_semantic(inst, objects)
    np.testing.assert_array_equal(sem == 1, np.isin(inst, list(objects)))


def test_instances_to_semantic_stays_lazy_for_dask():
    inst = da.from_array(np.array([[1, 2], [2, 0]], dtype=np.uint16), chunks=1)
    sem = instances_to_semantic(inst, {2: ObjectInfo(4)})
    assert isinstance(sem, da.Array)
    np.testing.assert_array_equal(sem.compute(), [[0, 4], [4, 0]])


def test_semantic_to_instances_labels_components_per_class():
    sem = np.array(
        [
            [1, 1, 0, 2],
            [0, 0, 0, 2],
            [1, 0, 2, 0],
        ],
        dtype=np.uint8,
    )
    inst, objects = semantic_to_instances(sem)
    # class 1 has two components, class 2 has two (no diagonal connection)
    assert {k: o.class_id for k, o in objects.items()} == {1: 1, 2: 1, 3: 2, 4: 2}
    np.testing.assert_array_equal(inst, [[1, 1, 0, 3], [0, 0, 0, 3], [2, 0, 4, 0]])


def test_semantic_to_instances_corner_connectivity():
    sem = np.array([[1, 0], [0, 1]], dtype=np.uint8)
    _, faces = semantic_to_instances(sem, connectivity=1)
    _, corners = semantic_to_instances(sem, connectivity=2)
    assert (len(faces), len(corners)) == (2, 1)


def test_semantic_to_instances_per_plane_in_3d():
    sem = np.zeros((2, 3, 3), np.uint8)
    sem[:, 1, 1] = 1
    _, in_3d = semantic_to_instances(sem)
    _, per_plane = semantic_to_instances(sem, per_plane=True)
    assert (len(in_3d), len(per_plane)) == (1, 2)


def test_round_trip_instances_semantic_instances(small_cells):
    inst, objects = semantic_to_instances(small_cells.semantic)
    np.testing.assert_array_equal(instances_to_semantic(inst, objects), small_cells.semantic)


def test_instances_to_boxes_carry_class():
    inst = np.zeros((6, 8), np.int32)
    inst[1:3, 2:5] = 1
    inst[4:6, 0:1] = 2
    boxes = instances_to_boxes(inst, {1: ObjectInfo(3), 2: ObjectInfo(4)})
    assert [(b.xyxy, b.class_id, b.instance_id) for b in boxes] == [
        ((2.0, 1.0, 5.0, 3.0), 3, 1),
        ((0.0, 4.0, 1.0, 6.0), 4, 2),
    ]


def test_replace_values_in_zarr_and_contains():
    z = zarr.create_array(
        store=zarr.storage.MemoryStore(), shape=(6, 4), chunks=(2, 4), dtype="uint8"
    )
    data = np.array([[0, 1, 2, 3]] * 6, dtype=np.uint8)
    z[:] = data
    assert replace_values(z, {1: 3, 3: 1}) == 12
    np.testing.assert_array_equal(z[:], np.array([[0, 3, 2, 1]] * 6))
    assert contains_value(z, 2) and not contains_value(z, 5)


def _per_class_reference(sem, classes, per_plane):
    """Components of each class in turn (plane by plane), numbered in that order."""
    from scipy import ndimage as ndi

    out = np.zeros(sem.shape, np.int32)
    classes_of, n = {}, 0
    for cid in classes:
        for plane in np.ndindex(*sem.shape[:-2]) if per_plane else [()]:
            lab, k = ndi.label(sem[plane] == cid)
            out[plane][lab > 0] = lab[lab > 0] + n
            classes_of.update(dict.fromkeys(range(n + 1, n + k + 1), cid))
            n += k
    return out, classes_of


@pytest.mark.parametrize("per_plane", [False, True])
@pytest.mark.parametrize("classes", [None, [3, 1]])
def test_semantic_to_instances_numbers_class_by_class(classes, per_plane):
    sem = np.random.default_rng(7).integers(0, 4, (3, 20, 24)).astype(np.uint8)
    inst, objects = semantic_to_instances(sem, classes, per_plane=per_plane)
    ref, ref_classes = _per_class_reference(sem, classes or [1, 2, 3], per_plane)
    np.testing.assert_array_equal(inst, ref)
    assert {k: o.class_id for k, o in objects.items()} == ref_classes
