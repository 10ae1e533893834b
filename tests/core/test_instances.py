"""Instance tools on small hand-made arrays, on the synthetic nuclei and on zarr arrays."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from scipy import ndimage as ndi
from scipy import sparse

from napari_labelsuite.core import instances as inst
from napari_labelsuite.core.annotation import ObjectInfo
from napari_labelsuite.core.errors import InstanceError


def dumbbell() -> np.ndarray:
    """Two 7x7 squares (rows 2-8) joined by a one-pixel bridge at row 5, id 1."""
    lab = np.zeros((11, 20), np.int32)
    lab[2:9, 1:8] = 1
    lab[2:9, 12:19] = 1
    lab[5, 8:12] = 1
    return lab


def f1_at_iou(gt: np.ndarray, pred: np.ndarray, thr: float = 0.5) -> float:
    """F1 of matched objects (IoU > thr is a one-to-one match)."""
    n = gt.size
    m = sparse.coo_matrix((np.ones(n), (gt.ravel(), pred.ravel()))).tocsr().toarray()
    inter = m[1:, 1:]
    iou = inter / (m[1:].sum(1)[:, None] + m[:, 1:].sum(0)[None, :] - inter)
    tp = int((iou > thr).sum())
    fp = len(np.unique(pred[pred > 0])) - tp
    fn = len(np.unique(gt[gt > 0])) - tp
    return 2 * tp / (2 * tp + fp + fn)


# -- label_components --------------------------------------------------------------------
def test_label_components_connectivity():
    mask = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 0]], bool)
    assert inst.label_components(mask, connectivity=1).max() == 2
    assert inst.label_components(mask, connectivity=2).max() == 1


def test_label_components_semantic_keeps_classes_apart():
    sem = np.array([[1, 1, 2, 2], [0, 0, 0, 0], [2, 0, 1, 1]], np.uint8)
    lab = inst.label_components(sem)
    assert lab.dtype == np.int32 and lab.max() == 4
    assert lab[0, 0] == lab[0, 1] != lab[0, 2] == lab[0, 3]
    classes = inst.component_classes(lab, sem)
    assert classes == {int(lab[0, 0]): 1, int(lab[0, 2]): 2, int(lab[2, 0]): 2, int(lab[2, 2]): 1}


def test_component_classes_rejects_mismatched_shapes():
    with pytest.raises(InstanceError, match="semantic") as err:
        inst.component_classes(np.zeros((3, 3), np.int32), np.zeros((3, 4), np.uint8))
    assert err.value.field == "semantic"


# -- split_touching ----------------------------------------------------------------------
def test_split_touching_dumbbell_into_its_squares():
    lab = dumbbell()
    edit = inst.split_touching(lab, min_distance=2)
    out = edit.apply(lab)
    left, right = np.unique(out[2:9, 1:8]), np.unique(out[2:9, 12:19])
    assert left.size == 1 and right.size == 1 and left[0] != right[0]
    assert set(np.unique(out)) == {0, 1, 2}
    assert edit.parents == {2: 1}
    assert np.array_equal(out > 0, lab > 0)


def test_split_touching_does_not_modify_input():
    lab = dumbbell()
    before = lab.copy()
    inst.split_touching(lab, min_distance=2).apply(lab)
    assert np.array_equal(lab, before)


def test_split_touching_with_seeds_splits_at_the_seeds():
    lab = np.zeros((7, 22), np.uint16)
    lab[1:6, 1:21] = 5
    edit = inst.split_touching(lab, seeds=[[3, 3], [3, 18]])
    out = edit.apply(lab)
    assert np.unique(out[1:6, 1:8]).size == 1 and np.unique(out[1:6, 14:21]).size == 1
    assert out[3, 3] != out[3, 18] and set(np.unique(out)) == {0, 5, 6}
    assert edit.parents == {6: 5}


def test_split_touching_one_seed_leaves_object_whole():
    lab = dumbbell()
    assert inst.split_touching(lab, seeds=[[5, 3]]).empty


def test_split_touching_only_the_chosen_ids():
    lab = dumbbell()
    other = dumbbell() * 3
    both = np.concatenate([lab, other])
    out = inst.split_touching(both, ids=[3], min_distance=2).apply(both)
    assert np.array_equal(out[:11], lab)
    assert np.unique(out[11:][out[11:] > 0]).size == 2


def test_split_touching_3d_balls():
    zz, yy, xx = np.ogrid[:20, :20, :36]
    a = (zz - 10) ** 2 + (yy - 10) ** 2 + (xx - 10) ** 2 <= 64
    b = (zz - 10) ** 2 + (yy - 10) ** 2 + (xx - 24) ** 2 <= 64
    lab = (a | b).astype(np.int32)
    out = inst.split_touching(lab, min_distance=4).apply(lab)
    assert out[10, 10, 10] != out[10, 10, 24]
    assert np.unique(out[out > 0]).size == 2


def test_split_touching_recovers_sample_nuclei(cells_2d):
    """The merged foreground of the touching nuclei splits back with F1 >= 0.9 at IoU 0.5."""
    merged = inst.label_components(cells_2d.instances > 0)
    assert merged.max() < 0.6 * cells_2d.n_instances  # the input really is merged
    out = inst.split_touching(merged).apply(merged)
    assert f1_at_iou(cells_2d.instances, out) >= 0.9


# -- split_by_line -----------------------------------------------------------------------
def test_split_by_line_cuts_square_in_two():
    lab = np.zeros((12, 12), np.int32)
    lab[1:11, 1:11] = 3
    lab[0, 0] = 7
    edit = inst.split_by_line(lab, 3, [[0, 6], [11, 6]])
    out = edit.apply(lab)
    assert set(np.unique(out[1:11, 1:6])) == {3}  # the larger part keeps the id
    assert set(np.unique(out[1:11, 7:11])) == {8}
    assert set(np.unique(out[1:11, 6])) <= {3, 8} and out[0, 0] == 7
    assert edit.parents == {8: 3}


def test_split_by_line_on_a_plane_of_a_volume():
    lab = np.zeros((3, 8, 8), np.int32)
    lab[:, 1:7, 1:7] = 2
    out = inst.split_by_line(lab, 2, [[1, 0, 4], [1, 7, 4]]).apply(lab)
    assert np.array_equal(out[0], lab[0]) and np.array_equal(out[2], lab[2])
    assert set(np.unique(out[1])) == {0, 2, 3}


def test_split_by_line_not_crossing_leaves_object():
    lab = np.zeros((8, 8), np.int32)
    lab[1:7, 1:7] = 1
    assert inst.split_by_line(lab, 1, [[2, 2], [2, 5]]).empty


def test_split_by_line_unknown_id():
    with pytest.raises(InstanceError) as err:
        inst.split_by_line(np.ones((4, 4), np.int32), 9, [[0, 0], [3, 3]])
    assert err.value.field == "id" and err.value.value == [9]


# -- merge / delete / relabel ------------------------------------------------------------
def test_merge_into_smallest_id():
    lab = np.array([[1, 1, 0, 4], [0, 2, 0, 4]], np.int32)
    edit = inst.merge(lab, [4, 2])
    assert np.array_equal(edit.apply(lab), [[1, 1, 0, 2], [0, 2, 0, 2]])
    assert edit.removed == {4} and edit.merged == {4: 2}


def test_merge_needs_two_ids():
    with pytest.raises(InstanceError) as err:
        inst.merge(np.ones((2, 2), np.int32), [1])
    assert err.value.field == "ids"


def test_delete_ids():
    lab = np.array([[1, 2, 3], [3, 2, 1]], np.uint8)
    out = inst.delete(lab, [3, 1]).apply(lab)
    assert np.array_equal(out, [[0, 2, 0], [0, 2, 0]])


def test_delete_unknown_ids_names_them():
    with pytest.raises(InstanceError, match="unknown") as err:
        inst.delete(np.array([[1, 2]], np.int32), [2, 5, 6])
    assert err.value.field == "ids" and err.value.value == [5, 6]


def test_relabel_sequential():
    lab = np.array([[0, 5, 5], [9, 0, 2]], np.int32)
    edit = inst.relabel_sequential(lab)
    assert np.array_equal(edit.apply(lab), [[0, 2, 2], [3, 0, 1]])
    assert edit.relabel == {2: 1, 5: 2, 9: 3}


# -- cleaning ----------------------------------------------------------------------------
def test_fill_holes_keeps_other_objects():
    lab = np.zeros((7, 7), np.int32)
    lab[1:6, 1:6] = 4
    lab[2:5, 2:5] = 0
    lab[3, 3] = 9
    out = inst.fill_holes(lab).apply(lab)
    expected = np.zeros((7, 7), np.int32)
    expected[1:6, 1:6] = 4
    expected[3, 3] = 9
    assert np.array_equal(out, expected)


def test_remove_small():
    # objects of max_size pixels or fewer go (scikit-image's max_size meaning)
    lab = np.array([[1, 1, 1, 0], [2, 2, 0, 3]], np.int32)
    assert np.array_equal(inst.remove_small(lab, 1).apply(lab), [[1, 1, 1, 0], [2, 2, 0, 0]])
    assert np.array_equal(inst.remove_small(lab, 2).apply(lab), [[1, 1, 1, 0], [0, 0, 0, 0]])


def test_remove_border_objects():
    lab = np.zeros((6, 6), np.int32)
    lab[0, 1] = 1
    lab[2:4, 2:4] = 2
    lab[4:6, 4] = 3
    out = inst.remove_border_objects(lab).apply(lab)
    assert set(np.unique(out)) == {0, 2} and np.array_equal(out == 2, lab == 2)


def test_split_disconnected_largest_keeps_id():
    lab = np.array([[4, 0, 4, 4], [0, 0, 0, 0], [4, 0, 1, 0]], np.int32)
    edit = inst.split_disconnected(lab)
    out = edit.apply(lab)
    assert np.array_equal(out, [[5, 0, 4, 4], [0, 0, 0, 0], [6, 0, 1, 0]])
    assert edit.parents == {5: 4, 6: 4}


def test_region_limits_the_operation_to_a_plane():
    lab = np.zeros((2, 4, 4), np.int32)
    lab[:, 0, 0] = 1
    lab[:, 3, 3] = 1
    out = inst.split_disconnected(lab, region=(slice(1, 2),)).apply(lab)
    assert np.array_equal(out[0], lab[0])
    assert out[1, 0, 0] != out[1, 3, 3] and out.max() == 2


# -- bad input ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "bad, field",
    [(np.ones((3, 3), float), "labels"), (-np.ones((3, 3), np.int32), "labels")],
)
def test_bad_labels_rejected(bad, field):
    with pytest.raises(InstanceError) as err:
        inst.remove_small(bad, 2)
    assert err.value.field == field


def test_seeds_of_wrong_dimension_rejected():
    with pytest.raises(InstanceError) as err:
        inst.split_touching(dumbbell(), seeds=[[1, 2, 3]])
    assert err.value.field == "seeds"


# -- the class table ---------------------------------------------------------------------
def test_split_parts_inherit_class():
    lab = dumbbell()
    edit = inst.split_touching(lab, min_distance=2)
    objs = inst.apply_to_objects({1: ObjectInfo(2, {"dividing": True}, status="approved")}, edit)
    assert objs[2].class_id == 2 and objs[2].attributes == {"dividing": True}
    assert objs[2].status == "todo" and objs[1].status == "approved"


def test_merge_of_different_classes_needs_a_class():
    edit = inst.merge(np.array([[1, 2]], np.int32), [1, 2])
    objects = {1: ObjectInfo(1), 2: ObjectInfo(2)}
    with pytest.raises(InstanceError) as err:
        inst.apply_to_objects(objects, edit)
    assert err.value.field == "class"
    assert inst.apply_to_objects(objects, edit, merge_class=2) == {1: ObjectInfo(2)}


def test_relabel_moves_table_rows():
    lab = np.array([[0, 5, 9]], np.int32)
    edit = inst.relabel_sequential(lab)
    objs = inst.apply_to_objects({5: ObjectInfo(1), 9: ObjectInfo(2)}, edit)
    assert objs == {1: ObjectInfo(1), 2: ObjectInfo(2)}


def test_label_components_matches_scipy_up_to_renumbering():
    rng = np.random.default_rng(1)
    mask = ndi.binary_opening(rng.random((64, 64)) > 0.5)
    ours = inst.label_components(mask)
    ref, n = ndi.label(mask)
    assert ours.max() == n
    pairs = np.unique(np.stack([ours.ravel(), ref.ravel()]), axis=1)
    assert pairs.shape[1] == n + 1  # a one-to-one correspondence of ids


# -- chunked (zarr) variants -------------------------------------------------------------
@pytest.fixture
def zarr_pair():
    zarr = pytest.importorskip("zarr")

    def make(data, dtype=np.uint32, chunks=(64, 50)):
        src = zarr.create_array(
            zarr.storage.MemoryStore(), shape=data.shape, chunks=chunks, dtype=data.dtype
        )
        src[:] = data
        out = zarr.create_array(
            zarr.storage.MemoryStore(), shape=data.shape, chunks=chunks, dtype=dtype
        )
        return src, out

    return make


def test_chunked_label_components_equals_scipy_label(zarr_pair):
    from napari_labelsuite.core.instances_chunked import label_components_chunked

    rng = np.random.default_rng(0)
    mask = ndi.binary_opening(rng.random((300, 257)) > 0.45)
    src, out = zarr_pair(mask)
    n = label_components_chunked(src, out)
    ref, k = ndi.label(mask)
    ours = out[:]
    assert n == k
    pairs = np.unique(np.stack([ours.ravel(), ref.ravel()]), axis=1)
    assert pairs.shape[1] == k + 1  # one-to-one: equal up to renumbering


def test_chunked_label_components_semantic_equals_in_memory(zarr_pair):
    from napari_labelsuite.core.instances_chunked import label_components_chunked

    sem = np.random.default_rng(2).integers(0, 3, (130, 120)).astype(np.uint8)
    src, out = zarr_pair(sem, np.int32, chunks=(32, 40))
    label_components_chunked(src, out)
    ref = inst.label_components(sem)
    pairs = np.unique(np.stack([out[:].ravel(), ref.ravel()]), axis=1)
    assert pairs.shape[1] == ref.max() + 1


def test_chunked_remove_small_and_relabel_equal_in_memory(zarr_pair):
    from napari_labelsuite.core import instances_chunked as ch

    sem = np.random.default_rng(3).integers(0, 3, (130, 120)).astype(np.uint8)
    lab = np.where(inst.label_components(sem) % 3 == 0, 0, inst.label_components(sem) * 7)
    src, out = zarr_pair(lab.astype(np.int32), np.int32, chunks=(32, 40))
    ch.remove_small_chunked(src, out, 3)
    assert np.array_equal(out[:], inst.remove_small(lab, 3).apply(lab))
    src, out = zarr_pair(lab.astype(np.int32), np.int32, chunks=(32, 40))
    ch.relabel_sequential_chunked(src, out)
    assert np.array_equal(out[:], inst.relabel_sequential(lab).apply(lab))


def test_chunked_generator_yields_one_step_per_block_and_pass(zarr_pair):
    from napari_labelsuite.core.instances_chunked import count_steps, iter_label_components

    src, out = zarr_pair(np.ones((100, 100), bool), chunks=(50, 50))
    steps = list(iter_label_components(src, out))
    assert len(steps) == count_steps((100, 100), (50, 50)) == 8
    assert set(np.unique(out[:])) == {1}


def test_chunked_out_shape_mismatch_rejected(zarr_pair):
    from napari_labelsuite.core.instances_chunked import label_components_chunked

    with pytest.raises(InstanceError) as err:
        label_components_chunked(np.ones((10, 10), bool), np.zeros((10, 11), np.int32))
    assert err.value.field == "out"


def test_fill_holes_in_one_plane_of_a_volume():
    lab = np.zeros((2, 5, 5), np.int32)
    lab[:, 1:4, 1:4] = 6
    lab[:, 2, 2] = 0
    assert inst.fill_holes(lab).empty  # in 3D the tube is open at both ends
    out = inst.fill_holes(lab, region=(slice(0, 1),)).apply(lab)
    assert out[0, 2, 2] == 6 and out[1, 2, 2] == 0


def test_scipy_fallback_equals_fast_path(monkeypatch):
    sem = np.random.default_rng(5).integers(0, 3, (60, 70)).astype(np.uint8)
    lab = inst.label_components(sem) * 3
    fast_cc, fast_rel = inst.label_components(sem), inst.relabel_sequential(lab).apply(lab)
    monkeypatch.setitem(sys.modules, "cc3d", None)  # import now fails
    monkeypatch.setitem(sys.modules, "fastremap", None)
    slow_cc = inst.label_components(sem)
    pairs = np.unique(np.stack([fast_cc.ravel(), slow_cc.ravel()]), axis=1)
    assert slow_cc.max() == fast_cc.max() and pairs.shape[1] == fast_cc.max() + 1
    assert np.array_equal(inst.relabel_sequential(lab).apply(lab), fast_rel)


# -- chunked split of touching objects ----------------------------------------------------
@pytest.fixture(scope="module")
def merged_nuclei():
    """The 512 x 512 synthetic nuclei with their foreground merged into components."""
    from napari_labelsuite.core.synthetic import make_cells_2d

    cells = make_cells_2d((512, 512))
    return inst.label_components(cells.instances > 0)


def test_chunked_split_touching_equals_in_memory_exactly(zarr_pair, merged_nuclei):
    from napari_labelsuite.core.instances_chunked import split_touching_chunked

    src, out = zarr_pair(merged_nuclei, np.int32, chunks=(64, 64))
    edit = split_touching_chunked(src, out, min_distance=7, batch_pixels=64 * 64)
    ref = inst.split_touching(merged_nuclei, min_distance=7)
    assert ref.parents  # the merged nuclei really split
    assert edit.parents == ref.parents
    assert np.array_equal(out[:], ref.apply(merged_nuclei))
    assert np.array_equal(src[:], merged_nuclei)  # the input is unchanged


def test_chunked_split_touching_in_place_of_dask_ids_equals_in_memory(merged_nuclei):
    da = pytest.importorskip("dask.array")
    from napari_labelsuite.core.instances_chunked import split_touching_chunked

    chosen = [int(i) for i in np.unique(merged_nuclei)[1:][::5]]
    lazy = da.from_array(merged_nuclei, chunks=(100, 128))
    out = np.zeros_like(merged_nuclei)
    split_touching_chunked(lazy, out, ids=chosen[::-1], min_distance=5)
    ref = inst.split_touching(merged_nuclei, ids=chosen[::-1], min_distance=5)
    assert np.array_equal(out, ref.apply(merged_nuclei))
    inplace = merged_nuclei.copy()
    split_touching_chunked(inplace, inplace, ids=chosen[::-1], min_distance=5, chunks=96)
    assert np.array_equal(inplace, out)


def test_chunked_split_touching_with_seeds():
    from napari_labelsuite.core.instances_chunked import split_touching_chunked

    lab = np.zeros((11, 20), np.int32)
    lab[2:9, 1:8] = 1
    lab[2:9, 12:19] = 1
    lab[5, 8:12] = 1
    out = lab.copy()
    edit = split_touching_chunked(lab, out, seeds=[[5, 3], [5, 16]], chunks=(4, 6))
    assert edit.parents == {2: 1}
    assert np.array_equal(out, inst.split_touching(lab, seeds=[[5, 3], [5, 16]]).apply(lab))


def test_chunked_split_touching_steps_and_cancel(zarr_pair, merged_nuclei):
    from napari_labelsuite.core.instances import InstanceEdit
    from napari_labelsuite.core.instances_chunked import count_steps, iter_split_touching_chunked

    src, out = zarr_pair(merged_nuclei, np.int32, chunks=(128, 128))
    assert len(list(iter_split_touching_chunked(src, out))) == count_steps((512, 512), 128)
    src, out = zarr_pair(merged_nuclei, np.int32, chunks=(128, 128))
    partial = InstanceEdit()
    gen = iter_split_touching_chunked(src, out, edit=partial, batch_pixels=1)
    for _ in range(16 + 4):  # the first pass and a quarter of the objects
        next(gen)
    gen.close()
    full = inst.split_touching(merged_nuclei)
    assert 0 < len(partial.parents) < len(full.parents)
    done = out[:]
    # every object is either split as in memory or untouched
    ref = full.apply(merged_nuclei)
    for iid in np.unique(merged_nuclei)[1:]:
        where = merged_nuclei == iid
        assert np.array_equal(done[where], ref[where]) or (done[where] == iid).all()


def test_chunked_split_touching_unknown_ids_and_small_dtype_rejected(merged_nuclei):
    from napari_labelsuite.core.instances_chunked import split_touching_chunked

    with pytest.raises(InstanceError) as err:
        split_touching_chunked(merged_nuclei, merged_nuclei.copy(), ids=[1, 10**6])
    assert err.value.field == "ids" and err.value.value == [10**6]
    lab = np.zeros((11, 20), np.uint8)
    lab[2:9, 1:8] = lab[2:9, 12:19] = lab[5, 8:12] = 255
    with pytest.raises(InstanceError) as err:
        split_touching_chunked(lab, lab.copy(), min_distance=2)
    assert err.value.field == "out"


# -- regressions -------------------------------------------------------------------------
def test_split_raises_when_new_ids_overflow_the_dtype():
    lab = np.zeros((10, 10), np.uint8)
    lab[0, 0] = 255
    lab[5, 1:4] = 7
    lab[5, 6:9] = 7
    with pytest.raises(InstanceError) as err:
        inst.split_disconnected(lab, [7])
    assert err.value.field == "labels" and err.value.value == "uint8"


def test_split_uses_the_last_id_the_dtype_holds():
    lab = np.zeros((10, 10), np.uint8)
    lab[0, 0] = 254
    lab[5, 1:4] = 7
    lab[5, 6:8] = 7
    edit = inst.split_disconnected(lab, [7])
    out = edit.apply(lab)
    assert edit.parents == {255: 7}
    assert np.array_equal(out[5], [0, 7, 7, 7, 0, 0, 255, 255, 0, 0])


def test_fill_holes_of_nested_objects_use_the_innermost_id():
    lab = np.zeros((9, 9), np.int32)
    lab[1:8, 1:8] = 2  # ring A around ring B
    lab[2:7, 2:7] = 0
    lab[3:6, 3:6] = 1
    lab[4, 4] = 0
    expected = np.zeros((9, 9), np.int32)
    expected[1:8, 1:8] = 2
    expected[3:6, 3:6] = 1
    assert np.array_equal(inst.fill_holes(lab).apply(lab), expected)
    only_outer = inst.fill_holes(lab, [2]).apply(lab)
    assert only_outer[4, 4] == 0 and only_outer[2, 2] == 2


def test_find_bboxes_huge_ids_without_background():
    lab = np.full((4, 4), 5_000_000, np.int64)
    lab[0, 0] = 9_000_000
    assert inst.find_bboxes(lab) == {
        5_000_000: (slice(0, 4), slice(0, 4)),
        9_000_000: (slice(0, 1), slice(0, 1)),
    }


def test_chunked_labelling_never_wraps_temporary_ids():
    from napari_labelsuite.core.instances_chunked import label_components_chunked

    out = np.zeros((64, 64), np.uint8)  # 256 blocks of one component each
    with pytest.raises(InstanceError) as err:
        label_components_chunked(np.ones((64, 64), bool), out, chunks=(4, 4))
    assert err.value.field == "out" and err.value.value == "uint8"
    wide = np.zeros((64, 64), np.uint16)
    assert label_components_chunked(np.ones((64, 64), bool), wide, chunks=(4, 4)) == 1
    assert (wide == 1).all()


def test_split_touching_keeps_rings_whole_and_splits_touching_disks():
    from skimage.draw import disk

    lab = np.zeros((120, 240), np.int32)
    yy, xx = np.mgrid[:120, :120]
    r = np.hypot(yy - 60, xx - 60)
    lab[:, :120][(r >= 30) & (r < 42)] = 1  # a ring: its distance ridge is flat
    for cx in (150, 178):  # two touching disks: a deep neck between their peaks
        lab[disk((60, cx), 16, shape=lab.shape)] = 2
    edit = inst.split_touching(lab, min_distance=3)
    out = edit.apply(lab)
    assert set(np.unique(out[:, :120])) == {0, 1}  # the ring stays one object
    assert sorted(edit.parents.values()) == [2]  # the disks split into two
    left, right = out[60, 150], out[60, 178]
    assert left != right and {int(left), int(right)} == {2, *edit.parents}
    # without the depth criterion the ring is cut into wedges
    assert 1 in inst.split_touching(lab, ids=[1], min_distance=3, min_depth=0).parents.values()


def test_split_touching_default_min_distance_follows_object_size():
    from napari_labelsuite.core.instances.edits import suggest_min_distance

    lab = np.zeros((100, 100), np.int32)
    lab[10:30, 10:30] = 1  # 400 px: equivalent radius 11.3
    lab[50:90, 50:90] = 2  # 1600 px
    lab[40:45, 40:45] = 3  # 25 px
    assert suggest_min_distance(lab) == round(np.sqrt(400 / np.pi) / 2)
    assert suggest_min_distance(np.zeros((4, 4), np.int32)) == 2


def test_chunked_split_touching_picks_min_distance_like_in_memory(zarr_pair, merged_nuclei):
    """Without ``min_distance`` both choose it from all objects' sizes: the same result."""
    from napari_labelsuite.core.instances_chunked import split_touching_chunked

    chosen = inst.suggest_min_distance(merged_nuclei)
    assert chosen != 7  # the old fixed default of the chunked split would differ
    src, out = zarr_pair(merged_nuclei, np.int32, chunks=(64, 64))
    edit = split_touching_chunked(src, out, batch_pixels=64 * 64)
    ref = inst.split_touching(merged_nuclei)
    assert ref.parents and edit.parents == ref.parents
    assert np.array_equal(out[:], ref.apply(merged_nuclei))
