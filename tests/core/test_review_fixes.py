"""Regression tests for bugs found in the code-health review (headless side)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

from napari_labelsuite.core.annotation import ObjectInfo
from napari_labelsuite.core.instances import split_touching
from napari_labelsuite.core.store import LabelArray, MaskStore
from napari_labelsuite.core.synthetic import make_cells_2d


# -- `split` on a store works chunk by chunk ---------------------------------------------------
@pytest.fixture
def merged_store(tmp_path):
    """A store whose instance image holds touching cells merged into single objects."""
    merged, n = ndi.label(make_cells_2d((128, 128), seed=0).instances > 0)
    merged = merged.astype(np.int32)
    path = tmp_path / "s.ome.zarr"
    st = MaskStore.create(path, shape=merged.shape, chunks=(32, 32))
    st.create_labels("inst", dtype=merged.dtype, role="instances").write_all(merged)
    st.set_objects("inst", {i: ObjectInfo(1) for i in range(1, n + 1)})
    st.save()
    st.close()
    return path, merged


def _spy_reads(monkeypatch) -> list[int]:
    """Pixels of every read of a store label image (slices and np.asarray)."""
    sizes: list[int] = []
    getitem, array = LabelArray.__getitem__, LabelArray.__array__

    def spy_getitem(self, key):
        out = getitem(self, key)
        sizes.append(int(np.asarray(out).size))
        return out

    def spy_array(self, *a, **kw):
        out = array(self, *a, **kw)
        sizes.append(int(out.size))
        return out

    monkeypatch.setattr(LabelArray, "__getitem__", spy_getitem)
    monkeypatch.setattr(LabelArray, "__array__", spy_array)
    return sizes


def test_cli_split_of_a_store_reads_it_chunk_by_chunk(merged_store, monkeypatch):
    from napari_labelsuite.cli import split_store

    path, merged = merged_store
    expected = split_touching(merged, min_distance=7)
    sizes = _spy_reads(monkeypatch)

    _, _, _, n_new = split_store((str(path), 7, False))

    assert n_new == len(expected.parents) > 0
    assert sizes and max(sizes) < merged.size  # never the whole image at once
    monkeypatch.undo()
    with MaskStore.open(path, "r") as st:
        np.testing.assert_array_equal(np.asarray(st.labels("inst")), expected.apply(merged))
        assert set(st.objects("inst")) == set(np.unique(expected.apply(merged))) - {0}


def test_cli_split_dry_run_leaves_the_store_unchanged(merged_store):
    from napari_labelsuite.cli import split_store

    path, merged = merged_store
    _, _, _, n_new = split_store((str(path), 7, True))
    assert n_new == len(split_touching(merged, min_distance=7).parents)
    with MaskStore.open(path, "r") as st:
        np.testing.assert_array_equal(np.asarray(st.labels("inst")), merged)


def test_apply_instance_edit_writes_patches_and_the_table(merged_store):
    from napari_labelsuite.core.store import apply_instance_edit

    path, merged = merged_store
    edit = split_touching(merged, min_distance=7)
    with MaskStore.open(path, "r+") as st:
        apply_instance_edit(st, "inst", edit)
    with MaskStore.open(path, "r") as st:
        np.testing.assert_array_equal(np.asarray(st.labels("inst")), edit.apply(merged))
        new = set(edit.parents)
        assert new <= set(st.objects("inst"))
        assert all(st.objects("inst")[i].class_id == 1 for i in new)


# -- the holes check counts enclosed background only ------------------------------------------
def _holes(instances):
    from napari_labelsuite.core.annotation import ImageAnnotation
    from napari_labelsuite.core.qc import check

    objects = {int(i): ObjectInfo(1) for i in np.unique(instances) if i}
    ann = ImageAnnotation("x", instances.shape, instances=instances, objects=objects)
    return {f.instance_id: f.value for f in check(ann, checks=["holes"])}


def test_an_object_inside_a_ring_is_not_a_hole():
    inst = np.zeros((12, 12), np.int32)
    inst[1:10, 1:10] = 2  # cytoplasm ring ...
    inst[3:8, 3:8] = 1  # ... around its nucleus, touching it
    assert _holes(inst) == {}


def test_only_the_enclosed_background_of_a_ring_counts():
    inst = np.zeros((12, 12), np.int32)
    inst[1:10, 1:10] = 2
    inst[3:8, 3:8] = 0  # 25 enclosed pixels ...
    inst[4:7, 4:7] = 1  # ... 9 of them an object: 16 pixels of hole
    assert _holes(inst) == {2: 16}


def test_cytoplasm_rings_of_the_demo_data_have_no_holes():
    cells = make_cells_2d((256, 256), seed=0)
    nuclei = np.asarray(cells.instances)
    whole = np.asarray(cells.cells)
    n = int(nuclei.max())
    # each cell's cytoplasm ring as its own object, around its nucleus
    inst = np.where(nuclei > 0, nuclei, np.where(whole > 0, whole + n, 0)).astype(np.int32)
    rings = [int(i) for i in np.unique(inst) if i > n]
    enclosing = [i for i in rings if ndi.binary_fill_holes(inst == i).sum() > (inst == i).sum()]
    assert len(enclosing) >= 3  # rings closed around their nuclei, no background inside
    assert not set(_holes(inst)) & set(enclosing)


# -- remove_small(n) drops objects of n pixels or fewer ----------------------------------------
def _sized_objects():
    """Objects of 1..6 pixels, one per row (id = size)."""
    lab = np.zeros((6, 8), np.int32)
    for size in range(1, 7):
        lab[size - 1, :size] = size
    return lab


def test_remove_small_drops_objects_of_that_size_or_fewer_like_scikit_image():
    from skimage.morphology import remove_small_objects

    lab = _sized_objects()
    from napari_labelsuite.core.instances import remove_small

    kept = np.unique(remove_small(lab, 3).apply(lab))
    assert kept.tolist() == [0, 4, 5, 6]
    try:
        ref = remove_small_objects(lab, max_size=3)
    except TypeError:  # scikit-image < 0.26: min_size removes strictly smaller objects
        ref = remove_small_objects(lab, min_size=4)
    assert np.unique(ref).tolist() == kept.tolist()


def test_chunked_remove_small_and_the_old_keyword_agree(tmp_path):
    import zarr

    from napari_labelsuite.core.instances import remove_small, remove_small_chunked

    lab = _sized_objects()
    src = zarr.create_array(tmp_path / "a", shape=lab.shape, chunks=(2, 4), dtype=lab.dtype)
    src[:] = lab
    out = zarr.create_array(tmp_path / "b", shape=lab.shape, chunks=(2, 4), dtype=lab.dtype)
    remove_small_chunked(src, out, 3)
    expected = remove_small(lab, 3).apply(lab)
    np.testing.assert_array_equal(out[:], expected)
    np.testing.assert_array_equal(remove_small(lab, min_size=3).apply(lab), expected)


def test_session_remove_small_records_max_size():
    from napari_labelsuite import LabelSession
    from napari_labelsuite.core.taxonomy import Taxonomy

    s = LabelSession(taxonomy=Taxonomy([{"id": 1, "name": "cell"}]))
    layer = s.add_instance_layer(_sized_objects(), objects={i: ObjectInfo(1) for i in range(1, 7)})
    s.remove_small(2)
    assert np.unique(layer.data).tolist() == [0, 3, 4, 5, 6]
    assert s.history()[-1]["params"]["max_size"] == 2


# -- only set_review_status sets a review status ----------------------------------------------
def test_set_box_attributes_refuses_status_and_changes_nothing():
    from napari_labelsuite import LabelSession
    from napari_labelsuite.core.annotation import Box
    from napari_labelsuite.core.errors import SessionError
    from napari_labelsuite.core.taxonomy import Taxonomy

    s = LabelSession(taxonomy=Taxonomy([{"id": 1, "name": "cell"}]), user="ana")
    s.add_boxes_layer([Box(0, 0, 2, 2, 1)])
    n = len(s.history())
    with pytest.raises(SessionError, match="set_review_status") as info:
        s.set_box_attributes([0], status="approved")
    assert info.value.field == "status" and info.value.value == "approved"
    assert s.boxes_list()[0].status == "todo" and len(s.history()) == n

    s.set_review_status("approved", box_index=0)
    box = s.boxes_list()[0]
    assert (box.status, box.reviewer) == ("approved", "ana") and box.reviewed_at


# -- re-raised errors keep a missing value missing ---------------------------------------------
def test_replace_keeps_a_missing_value_missing():
    from napari_labelsuite.core.errors import FormatError, TaxonomyError

    exc = TaxonomyError("a choice attribute needs choices", where="class 'cat'", field="kind")
    again = exc.replace(FormatError, path="x.json")
    assert type(again) is FormatError and not again.has_value
    assert str(again) == "x.json: class 'cat': field 'kind': a choice attribute needs choices"


def test_replace_keeps_a_given_value_even_none():
    from napari_labelsuite.core.errors import FormatError, InstanceError

    again = InstanceError("bad id", field="ids", value=None).replace(FormatError, where="row 3")
    assert again.has_value and again.value is None
    assert str(again) == "row 3: field 'ids': bad id (got None)"


def test_a_reader_reraising_a_valueless_error_does_not_say_got_none(monkeypatch):
    from napari_labelsuite.core.annotation import ImageAnnotation
    from napari_labelsuite.core.errors import AnnotationError, FormatError
    from napari_labelsuite.core.formats._common import validate_read

    def invalid(self, taxonomy=None):
        raise AnnotationError("labels and image disagree", where=self.image_name, field="shape")

    monkeypatch.setattr(ImageAnnotation, "validate", invalid)
    with pytest.raises(FormatError) as info:
        validate_read([ImageAnnotation("a.png", (4, 4))], None, "ann.json")
    assert "got" not in str(info.value)
    assert str(info.value) == "ann.json: a.png: field 'shape': labels and image disagree"
