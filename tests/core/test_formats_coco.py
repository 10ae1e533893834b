"""COCO export/import: RLE bytes against pycocotools, masks pixel for pixel, bad input."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO

from napari_labelsuite.core.annotation import Box, ImageAnnotation, ObjectInfo
from napari_labelsuite.core.errors import FormatError
from napari_labelsuite.core.formats import coco, rle
from napari_labelsuite.core.taxonomy import Taxonomy

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:pycocotools")

HYP = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _tax() -> Taxonomy:
    return Taxonomy(
        [
            {"id": 1, "name": "animal"},
            {"id": 3, "name": "cat", "parent": 1, "attributes": [{"name": "occluded"}]},
            {"id": 7, "name": "dog", "parent": 1},
        ]
    )


def _ann(labels: np.ndarray, name: str = "img.png", **kw) -> ImageAnnotation:
    ids = [int(k) for k in np.unique(labels) if k]
    objects = {k: ObjectInfo(3 if k % 2 else 7, {"occluded": k % 3 == 0}) for k in ids}
    return ImageAnnotation(name, labels.shape, instances=labels, objects=objects, **kw)


def _holed_labels() -> np.ndarray:
    labels = np.zeros((40, 50), np.int32)
    labels[5:20, 5:25] = 1
    labels[9:14, 10:15] = 0  # a hole in object 1
    labels[25:35, 30:45] = 2
    labels[0:3, 47:50] = 3  # touches the image corner
    labels[30:40, 0:2] = 4  # touches the bottom-left corner, spans rows to the end
    return labels


# -- RLE bytes --------------------------------------------------------------------------
@HYP
@given(arrays(np.bool_, st.tuples(st.integers(1, 12), st.integers(1, 12))))
def test_rle_string_equals_pycocotools(mask):
    ref = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    assert rle.encode(mask)["counts"] == ref["counts"].decode("ascii")


@HYP
@given(arrays(np.bool_, st.tuples(st.integers(1, 12), st.integers(1, 12))))
def test_rle_decode_reads_pycocotools_strings(mask):
    ref = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    np.testing.assert_array_equal(rle.decode(ref), mask)


def test_rle_full_height_object_merges_runs_across_columns():
    mask = np.zeros((4, 5), bool)
    mask[:, 1:3] = True  # one run of 8 in column-major order
    crop_counts = rle.counts_from_crop(mask[:, 1:3], 0, 1, 4, 5)
    assert crop_counts.tolist() == [4, 8, 8]


# -- pycocotools reads our files ------------------------------------------------------
@pytest.mark.parametrize("segmentation", ["rle", "polygon"])
def test_pycocotools_annToMask_equals_our_masks(tmp_path, segmentation):
    labels = _holed_labels()
    out = tmp_path / "a.json"
    coco.write(out, [_ann(labels)], _tax(), segmentation=segmentation)
    api = COCO(str(out))
    seen = set()
    for rec in api.anns.values():
        k = rec["instance_id"]
        np.testing.assert_array_equal(api.annToMask(rec).astype(bool), labels == k)
        seen.add(k)
    assert seen == {1, 2, 3, 4}


def test_pycocotools_matches_on_synthetic_cells(tmp_path, small_cells, cells_taxonomy):
    labels = small_cells.instances
    objects = {int(k): ObjectInfo(1) for k in np.unique(labels) if k}
    ann = ImageAnnotation("cells.png", labels.shape, instances=labels, objects=objects)
    out = tmp_path / "cells.json"
    coco.write(out, [ann], cells_taxonomy)
    api = COCO(str(out))
    painted = np.zeros_like(labels)
    for rec in api.anns.values():
        painted[api.annToMask(rec).astype(bool)] = rec["instance_id"]
    np.testing.assert_array_equal(painted, labels)
    assert len(api.anns) == len(objects)


def test_area_and_bbox_agree_with_pycocotools(tmp_path):
    labels = _holed_labels()
    doc = coco.to_dict([_ann(labels)], _tax())
    for rec in doc["annotations"]:
        seg = dict(rec["segmentation"], counts=rec["segmentation"]["counts"].encode())
        assert rec["area"] == int(mask_utils.area(seg))
        assert rec["bbox"] == mask_utils.toBbox(seg).tolist()


def test_polygon_mode_keeps_objects_with_holes_as_rle():
    doc = coco.to_dict([_ann(_holed_labels())], _tax(), segmentation="polygon")
    kinds = {r["instance_id"]: type(r["segmentation"]).__name__ for r in doc["annotations"]}
    assert kinds == {1: "dict", 2: "list", 3: "list", 4: "list"}


# -- document content -------------------------------------------------------------------
def test_categories_carry_supercategory_from_taxonomy():
    doc = coco.to_dict([], _tax())
    sup = {c["name"]: c["supercategory"] for c in doc["categories"]}
    assert sup == {"animal": "animal", "cat": "animal", "dog": "animal"}


def test_attributes_and_iscrowd_are_written():
    labels = np.zeros((8, 8), np.int32)
    labels[1:4, 1:4] = 1
    ann = ImageAnnotation(
        "a.png",
        (8, 8),
        instances=labels,
        objects={1: ObjectInfo(3, {"occluded": True, "iscrowd": True})},
    )
    (rec,) = coco.to_dict([ann], _tax())["annotations"]
    assert rec["iscrowd"] == 1
    assert rec["attributes"] == {"occluded": True, "iscrowd": True}
    assert rec["category_id"] == 3


def test_stack_is_written_one_image_per_plane_with_plane_index():
    vol = np.zeros((3, 10, 12), np.int32)
    vol[0, 2:5, 2:5] = 1
    vol[2, 6:9, 1:4] = 1
    doc = coco.to_dict([_ann(vol, "stack.tif")], _tax())
    assert [(i["file_name"], i["plane"]) for i in doc["images"]] == [
        ("stack_z0.tif", [0]),
        ("stack_z1.tif", [1]),
        ("stack_z2.tif", [2]),
    ]
    assert {i["source_image"] for i in doc["images"]} == {"stack.tif"}
    assert [a["image_id"] for a in doc["annotations"]] == [1, 3]


def test_boxes_without_masks_are_bbox_only_annotations():
    ann = ImageAnnotation("a.png", (20, 30), boxes=[Box(2, 3, 12, 9, class_id=7)])
    (rec,) = coco.to_dict([ann], _tax())["annotations"]
    assert "segmentation" not in rec
    assert rec["bbox"] == [2, 3, 10, 6]
    assert rec["area"] == 60


def test_box_linked_to_instance_becomes_its_bbox():
    labels = np.zeros((20, 20), np.int32)
    labels[4:8, 4:8] = 1
    ann = _ann(labels, boxes=[Box(3, 3, 9, 9, class_id=3, instance_id=1, status="approved")])
    (rec,) = coco.to_dict([ann], _tax())["annotations"]
    assert rec["bbox"] == [3, 3, 6, 6]
    assert rec["box"]["status"] == "approved"


# -- round trips ------------------------------------------------------------------------
label_arrays = arrays(
    np.int32,
    st.tuples(st.integers(1, 3), st.integers(1, 14), st.integers(1, 14)),
    elements=st.integers(0, 5),
)


@HYP
@given(labels=label_arrays, seg=st.sampled_from(["rle", "polygon"]), flat=st.booleans())
def test_round_trip_random_masks(tmp_path_factory, labels, seg, flat):
    if flat:
        labels = labels[0]
    ann = _ann(labels)
    out = tmp_path_factory.mktemp("coco") / "a.json"
    coco.write(out, [ann], _tax(), segmentation=seg)
    (back,), tax = coco.read(out)
    np.testing.assert_array_equal(back.instances, labels)
    assert back.objects == ann.objects
    assert back.shape == labels.shape
    assert tax == _tax()


@st.composite
def boxes_on(draw, shape):
    h, w = shape[-2:]
    out = []
    for _ in range(draw(st.integers(0, 5))):
        x0 = draw(st.integers(0, w - 1))
        y0 = draw(st.integers(0, h - 1))
        x1 = draw(st.integers(x0 + 1, w))
        y1 = draw(st.integers(y0 + 1, h))
        plane = tuple(draw(st.integers(0, n - 1)) for n in shape[:-2])
        cid = draw(st.sampled_from([1, 3, 7]))
        status = draw(st.sampled_from(["todo", "approved", "needs-fix"]))
        out.append(
            Box(
                x0,
                y0,
                x1,
                y1,
                class_id=cid,
                plane=plane,
                status=status,
                attributes={"occluded": draw(st.booleans())},
            )
        )
    return out


@HYP
@given(data=st.data(), shape=st.sampled_from([(9, 13), (2, 9, 13)]))
def test_round_trip_random_boxes(tmp_path_factory, data, shape):
    boxes = data.draw(boxes_on(shape))
    ann = ImageAnnotation("b.png", shape, boxes=boxes)
    out = tmp_path_factory.mktemp("coco") / "b.json"
    coco.write(out, [ann], _tax())
    (back,), _ = coco.read(out)
    # COCO groups annotations by image (plane), so compare in plane order
    assert back.boxes == sorted(boxes, key=lambda b: b.plane)


def test_round_trip_keeps_many_images_and_metadata(tmp_path):
    a = _ann(_holed_labels(), "a.png", metadata={"scope": "x1"}, image_path="/data/a.png")
    b = ImageAnnotation("b.png", (5, 6), boxes=[Box(0, 0, 6, 5, class_id=1)])
    coco.write(tmp_path / "x.json", [a, b], _tax())
    back, _ = coco.read(tmp_path / "x.json")
    assert [x.image_name for x in back] == ["a.png", "b.png"]
    assert back[0].metadata == {"scope": "x1"} and back[0].image_path == "/data/a.png"
    assert back[1].instances is None


def test_reads_foreign_file_without_labelsuite_fields(tmp_path):
    poly = [1, 1, 5, 1, 5, 4, 1, 4]  # pixels rows 1..3, cols 1..4
    doc = {
        "images": [{"id": 10, "file_name": "x.jpg", "width": 8, "height": 6}],
        "annotations": [
            {
                "id": 1,
                "image_id": 10,
                "category_id": 2,
                "bbox": [1, 1, 4, 3],
                "segmentation": [poly],
                "area": 12,
                "iscrowd": 0,
            },
        ],
        "categories": [{"id": 2, "name": "car", "supercategory": "vehicle"}],
    }
    (tmp_path / "f.json").write_text(json.dumps(doc))
    (ann,), tax = coco.read(tmp_path / "f.json")
    expected = np.zeros((6, 8), np.int32)
    expected[1:4, 1:5] = 1
    np.testing.assert_array_equal(ann.instances, expected)
    assert tax.by_name("car").parent == tax.by_name("vehicle").id
    assert ann.objects[1].class_id == 2


# -- bad input --------------------------------------------------------------------------
def _good_doc() -> dict:
    labels = np.zeros((6, 8), np.int32)
    labels[1:3, 2:5] = 1
    ann = _ann(labels, boxes=[Box(0, 0, 2, 2, class_id=7)])
    return coco.to_dict([ann], _tax())


def _break(doc, case):
    a0 = doc["annotations"][0]
    if case == "missing_key":
        del doc["images"]
    elif case == "wrong_type":
        a0["category_id"] = "cat"
    elif case == "unknown_category":
        a0["category_id"] = 99
    elif case == "unknown_image":
        a0["image_id"] = 42
    elif case == "box_outside":
        doc["annotations"][1]["bbox"] = [5, 0, 4, 2]
    elif case == "polygon_two_points":
        a0["segmentation"] = [[1, 1, 3, 1]]
    elif case == "rle_size_mismatch":
        a0["segmentation"]["size"] = [8, 6]
    elif case == "rle_bad_counts":
        a0["segmentation"]["counts"] = "0"
    elif case == "bad_status":
        a0["status"] = "done"
    return doc


@pytest.mark.parametrize(
    ("case", "where", "field"),
    [
        ("missing_key", "top level", "images"),
        ("wrong_type", "annotations[0]", "category_id"),
        ("unknown_category", "annotations[0]", "category_id"),
        ("unknown_image", "annotations[0]", "image_id"),
        ("box_outside", "annotations[1]", "bbox"),
        ("polygon_two_points", "annotations[0]", "segmentation[0]"),
        ("rle_size_mismatch", "annotations[0]", "segmentation.size"),
        ("rle_bad_counts", "annotations[0]", "segmentation.counts"),
        ("bad_status", "annotations[0]", "status"),
    ],
)
def test_bad_input_raises_format_error_naming_record_and_field(tmp_path, case, where, field):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(_break(_good_doc(), case)))
    with pytest.raises(FormatError) as info:
        coco.read(path)
    err = info.value
    assert (err.path, err.where, err.field) == (str(path), where, field)


def _one_rle_doc(instance_id: int) -> dict:
    m = np.zeros((4, 4), bool)
    m[1:3, 1:3] = True
    return {
        "images": [{"id": 1, "width": 4, "height": 4, "file_name": "a.png"}],
        "categories": [{"id": 1, "name": "cell"}],
        "annotations": [
            {
                "id": 1,
                "image_id": 1,
                "category_id": 1,
                "bbox": [1, 1, 2, 2],
                "segmentation": rle.encode(m),
                "instance_id": instance_id,
            }
        ],
    }


def test_instance_id_above_int32_is_read_into_int64_mask():
    (ann,), _ = coco.from_dict(_one_rle_doc(3_000_000_000))
    expected = np.zeros((4, 4), np.int64)
    expected[1:3, 1:3] = 3_000_000_000
    assert ann.instances.dtype == np.int64
    np.testing.assert_array_equal(ann.instances, expected)
    assert list(ann.objects) == [3_000_000_000]


def test_instance_id_above_int64_is_format_error(tmp_path):
    path = tmp_path / "big.json"
    path.write_text(json.dumps(_one_rle_doc(2**63)))
    with pytest.raises(FormatError) as info:
        coco.read(path)
    assert (info.value.where, info.value.field) == ("annotations[0]", "instance_id")


def test_huge_uint64_instance_id_is_written_and_read_back():
    labels = np.zeros((6, 8), np.uint64)
    labels[1:3, 2:5] = 2**40
    ann = ImageAnnotation("a.png", (6, 8), instances=labels, objects={2**40: ObjectInfo(3)})
    doc = coco.to_dict([ann], _tax())
    assert [(a["instance_id"], a["bbox"]) for a in doc["annotations"]] == [(2**40, [2, 1, 3, 2])]
    (back,), _ = coco.from_dict(doc)
    np.testing.assert_array_equal(back.instances, labels.astype(np.int64))


def test_invalid_json_names_the_line(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"images": [],\n "annotations": [,]}')
    with pytest.raises(FormatError, match="line 2"):
        coco.read(path)


def test_good_doc_reads(tmp_path):
    path = tmp_path / "good.json"
    path.write_text(json.dumps(_good_doc()))
    (ann,), _ = coco.read(path)
    assert len(ann.boxes) == 1 and set(ann.objects) == {1}


def test_failed_write_leaves_existing_file_untouched(tmp_path):
    path = tmp_path / "a.json"
    path.write_text("previous")
    bad = ImageAnnotation("a.png", (4, 4), boxes=[Box(0, 0, 2, 2, class_id=99)])
    with pytest.raises(FormatError, match="class id is not in the taxonomy"):
        coco.write(path, [bad], _tax())
    assert path.read_text() == "previous"
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_document_is_not_modified_by_reading(tmp_path):
    doc = _good_doc()
    before = copy.deepcopy(doc)
    coco.from_dict(doc)
    assert doc == before
