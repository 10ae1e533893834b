"""Dataset listing, image reading and annotation sidecars (no napari)."""

from __future__ import annotations

import json

import imageio.v3 as iio
import numpy as np
import pytest
import tifffile

from napari_labelsuite.core.annotation import Box, ImageAnnotation, ObjectInfo
from napari_labelsuite.core.dataset import (
    Dataset,
    list_images,
    load_sidecar,
    read_image,
    save_sidecar,
    summarize,
)
from napari_labelsuite.core.errors import FormatError, SessionError


@pytest.fixture
def folder(tmp_path):
    rng = np.random.default_rng(0)
    d = tmp_path / "imgs"
    d.mkdir()
    for name in ("img10.tif", "img2.tif", "img1.tif"):
        tifffile.imwrite(d / name, rng.integers(0, 255, (16, 20), dtype=np.uint8))
    iio.imwrite(d / "photo.png", rng.integers(0, 255, (12, 14, 3), dtype=np.uint8))
    (d / "notes.txt").write_text("not an image")
    (d / "labelsuite").mkdir()
    tifffile.imwrite(d / "labelsuite" / "ignored.tif", np.zeros((4, 4), np.uint8))
    return d


def _annotation(name="img1", shape=(16, 20)) -> ImageAnnotation:
    inst = np.zeros(shape, np.int32)
    inst[2:6, 3:8] = 1
    inst[9:12, 10:15] = 2
    sem = (inst > 0).astype(np.uint8)
    return ImageAnnotation(
        name,
        shape,
        semantic=sem,
        instances=inst,
        objects={1: ObjectInfo(1, status="approved"), 2: ObjectInfo(2, {"dividing": True})},
        boxes=[Box(3, 2, 8, 6, class_id=1, instance_id=1, status="needs-fix")],
    )


def test_folder_listing_is_natural_order_and_skips_annotation_dir(folder):
    names = [p.name for p in list_images(folder)]
    assert names == ["img1.tif", "img2.tif", "img10.tif", "photo.png"]


def test_dataset_from_folder_keys_by_stem(folder):
    ds = Dataset.open(folder)
    assert ds.keys() == ["img1", "img2", "img10", "photo"]
    assert ds.annotation_dir == folder.resolve() / "labelsuite"


def test_dataset_from_file_list_keeps_given_order(folder):
    ds = Dataset.open([folder / "photo.png", folder / "img2.tif"])
    assert ds.keys() == ["photo", "img2"]


def test_dataset_rejects_non_image_file(folder):
    with pytest.raises(SessionError, match="notes.txt.*not an image"):
        Dataset.open([folder / "img1.tif", folder / "notes.txt"])


def test_dataset_rejects_empty_folder(tmp_path):
    with pytest.raises(SessionError, match="no images"):
        Dataset.open(tmp_path)


def test_index_out_of_range_names_the_index(folder):
    ds = Dataset.open(folder)
    with pytest.raises(SessionError, match="field 'index'.*got 4"):
        ds[4]


def test_same_stem_with_two_suffixes_gets_distinct_keys(tmp_path):
    tifffile.imwrite(tmp_path / "a.tif", np.zeros((4, 4), np.uint8))
    iio.imwrite(tmp_path / "a.png", np.zeros((4, 4), np.uint8))
    assert sorted(Dataset.open(tmp_path).keys()) == ["a.png", "a.tif"]


def test_read_image_tiff_and_png_give_pixels(folder):
    tif = read_image(folder / "img2.tif")
    assert np.array_equal(np.asarray(tif), tifffile.imread(folder / "img2.tif"))
    png = read_image(folder / "photo.png")
    assert png.shape == (12, 14, 3)


def test_read_image_corrupt_file_raises_format_error(tmp_path):
    p = tmp_path / "bad.png"
    p.write_bytes(b"\x89PNG not really")
    with pytest.raises(FormatError, match="bad.png.*cannot read image"):
        read_image(p)


def test_sidecar_round_trip_keeps_masks_and_tables(tmp_path):
    ann = _annotation()
    save_sidecar(ann, tmp_path / "img1.json")
    back = load_sidecar(tmp_path / "img1.json")
    assert np.array_equal(back.instances, ann.instances)
    assert np.array_equal(back.semantic, ann.semantic)
    assert back.tables_to_dict() == ann.tables_to_dict()


def test_sidecar_of_foreign_json_is_refused(tmp_path):
    p = tmp_path / "x.json"
    p.write_text(json.dumps({"images": []}))
    with pytest.raises(FormatError, match="field 'format'"):
        load_sidecar(p)


def test_summary_counts_statuses_and_classes():
    s = summarize(_annotation())
    assert (s["n_objects"], s["n_boxes"]) == (2, 1)
    assert (s["todo"], s["approved"], s["needs-fix"]) == (1, 1, 1)
    assert s["objects_per_class"] == {"1": 1, "2": 1}
    assert s["semantic_pixels"] == {"1": 20 + 15}
    assert s["labeled"] and not s["reviewed"]


def test_summary_all_approved_is_reviewed():
    ann = _annotation()
    for o in ann.objects.values():
        o.status = "approved"
    ann.boxes[0].status = "approved"
    assert summarize(ann)["reviewed"]


def test_summary_of_empty_masks_is_unlabeled():
    ann = ImageAnnotation("e", (8, 8), semantic=np.zeros((8, 8), np.uint8))
    s = summarize(ann)
    assert not s["labeled"] and not s["reviewed"]


def test_summary_counts_huge_semantic_values():
    sem = np.zeros((4, 4), np.int64)
    sem[0, 0] = 2**40
    s = summarize(ImageAnnotation("a.png", (4, 4), semantic=sem))
    assert s["semantic_pixels"] == {str(2**40): 1}
    assert s["labeled"]


class _RowsOnly:
    """An instance mask that can be sliced but refuses to be loaded whole."""

    def __init__(self, arr):
        self._arr = arr
        self.shape, self.dtype, self.ndim = arr.shape, arr.dtype, arr.ndim
        self.rows_read = 0

    def __getitem__(self, key):
        out = self._arr[key]
        self.rows_read += out.shape[0]
        return out

    def __array__(self, dtype=None, copy=None):
        raise AssertionError("the whole mask was loaded")


def test_summary_scans_unlisted_instances_block_wise():
    arr = np.zeros((4096, 4096), np.uint8)
    arr[3, 5] = 1
    lazy = _RowsOnly(arr)
    s = summarize(ImageAnnotation("a.png", arr.shape, instances=lazy))
    assert s["labeled"]
    assert lazy.rows_read < arr.shape[0]


def test_dataset_saves_and_loads_per_item(folder):
    ds = Dataset.open(folder)
    assert ds.load_annotation(0) is None
    ds.save_annotation(0, _annotation())
    back = ds.load_annotation(0)
    assert back.image_path == str(ds[0].path)
    assert ds.saved_summary(0)["n_objects"] == 2
    assert ds.load_annotation(1) is None


def test_find_matches_key_file_name_and_relative_path(folder):
    ds = Dataset.open(folder)
    assert ds.find("img2") == 1
    assert ds.find("photo.png") == 3
    assert ds.find("sub/img10.tif") == 2
    assert ds.find("missing.tif") is None
