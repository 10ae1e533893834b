"""Each consistency check finds its planted defect; a clean sample gives no findings."""

from __future__ import annotations

import numpy as np
import pytest

from napari_labelsuite.core.annotation import Box, ImageAnnotation, ObjectInfo
from napari_labelsuite.core.boxes import boxes_from_instances
from napari_labelsuite.core.errors import QCError
from napari_labelsuite.core.qc import check, check_dataset, class_summary, findings_frame


@pytest.fixture
def clean(small_cells):
    inst = np.array(small_cells.instances)
    objects = {int(i): ObjectInfo(1) for i in np.unique(inst) if i}
    return ImageAnnotation(
        "cells.tif",
        inst.shape,
        semantic=np.array(small_cells.semantic),
        instances=inst,
        objects=objects,
        boxes=boxes_from_instances(inst, objects),
    )


def _free_spot(ann, size=6):
    """Top-left corner of an empty size x size square in the instance mask."""
    inst = ann.instances
    for r in range(0, inst.shape[0] - size, size):
        for c in range(0, inst.shape[1] - size, size):
            if (
                not inst[r : r + size, c : c + size].any()
                and not ann.semantic[r : r + size, c : c + size].any()
            ):
                return r, c
    raise AssertionError("no free spot")


def _only(findings, kind):
    return [f for f in findings if f.check == kind]


def test_clean_sample_has_no_findings(clean, cells_taxonomy):
    assert check(clean, cells_taxonomy) == []


def test_instance_without_class(clean, cells_taxonomy):
    victim = min(clean.objects)
    del clean.objects[victim]
    clean.boxes = [b for b in clean.boxes if b.instance_id != victim]
    [f] = check(clean, cells_taxonomy)
    assert (f.check, f.instance_id, f.severity) == ("unclassified", victim, "error")
    rows, cols = np.nonzero(clean.instances == victim)
    assert f.bbox == ((rows.min(), rows.max() + 1), (cols.min(), cols.max() + 1))


def test_class_id_missing_from_taxonomy(clean, cells_taxonomy):
    victim = max(clean.objects)
    clean.objects[victim].class_id = 9
    found = _only(check(clean, cells_taxonomy), "unknown_class")
    assert [(f.instance_id, f.value) for f in found] == [(victim, 9)]


def test_semantic_value_missing_from_taxonomy(clean, cells_taxonomy):
    r, c = _free_spot(clean)
    clean.semantic[r : r + 2, c : c + 3] = 7
    [f] = check(clean, cells_taxonomy)
    assert (f.check, f.class_id, f.value, f.bbox) == (
        "unknown_class", 7, 6, ((r, r + 2), (c, c + 3))
    )  # fmt: skip


def test_tiny_object(clean, cells_taxonomy):
    r, c = _free_spot(clean)
    clean.instances[r : r + 2, c : c + 2] = 500
    clean.objects[500] = ObjectInfo(1)
    [f] = check(clean, cells_taxonomy, min_area=5)
    assert (f.check, f.instance_id, f.value) == ("tiny", 500, 4)


def test_object_with_hole(clean, cells_taxonomy):
    r, c = _free_spot(clean)
    clean.instances[r : r + 5, c : c + 5] = 600
    clean.instances[r + 2, c + 2] = 0
    clean.objects[600] = ObjectInfo(1)
    [f] = check(clean, cells_taxonomy)
    assert (f.check, f.instance_id, f.value) == ("holes", 600, 1)


def test_object_in_disconnected_parts(clean, cells_taxonomy):
    victim = min(clean.objects)
    r, c = _free_spot(clean)
    clean.instances[r : r + 4, c : c + 4] = victim
    found = check(clean, cells_taxonomy, checks=["split"])
    assert [(f.instance_id, f.value) for f in found] == [(victim, 2)]


def test_duplicate_boxes_of_one_class(clean, cells_taxonomy):
    b = clean.boxes[3]
    clean.boxes.append(Box(b.x0 + 1, b.y0, b.x1 + 1, b.y1, class_id=b.class_id))
    [f] = check(clean, cells_taxonomy, box_iou_threshold=0.5)
    assert (f.check, f.box_index, f.extra["other_box"]) == (
        "duplicate_boxes", len(clean.boxes) - 1, 3
    )  # fmt: skip


def test_same_boxes_of_different_classes_are_not_duplicates(clean, cells_taxonomy):
    b = clean.boxes[3]
    clean.boxes.append(Box(*b.xyxy, class_id=2))
    assert check(clean, cells_taxonomy) == []


def test_box_outside_the_image(clean, cells_taxonomy):
    clean.boxes.append(Box(250, 10, 260, 20, class_id=1))
    [f] = check(clean, cells_taxonomy)
    assert (f.check, f.box_index) == ("box_outside", len(clean.boxes) - 1)


def test_box_disagreeing_with_its_instance(clean, cells_taxonomy):
    i = next(k for k, b in enumerate(clean.boxes) if b.x1 + 3 * b.width <= 256)
    b = clean.boxes[i]
    b.x1 = b.x1 + 3 * b.width  # four times as wide: IoU 0.25
    found = check(clean, cells_taxonomy)
    assert [(f.check, f.box_index, f.instance_id) for f in found] == [
        ("box_mask_mismatch", i, b.instance_id)
    ]
    assert found[0].value == pytest.approx(0.25)


def test_3d_box_on_plane_without_its_instance():
    inst = np.zeros((3, 10, 10), np.int32)
    inst[0, 2:5, 2:5] = 1
    ann = ImageAnnotation(
        "vol", inst.shape, instances=inst, objects={1: ObjectInfo(1)},
        boxes=[Box(2, 2, 5, 5, class_id=1, plane=(0,), instance_id=1),
               Box(2, 2, 5, 5, class_id=1, plane=(2,), instance_id=1)],
    )  # fmt: skip
    found = check(ann, min_area=1)
    assert [(f.check, f.box_index) for f in found] == [("box_mask_mismatch", 1)]
    assert found[0].bbox == ((2, 3), (2, 5), (2, 5))


def test_unknown_check_name_raises(clean):
    with pytest.raises(QCError, match="checks"):
        check(clean, checks=["nonsense"])


def test_unlabeled_images_in_a_dataset(clean):
    empty = ImageAnnotation("empty.tif", (8, 8), instances=np.zeros((8, 8), np.uint8))
    found = check_dataset([clean, empty], image_names=["cells.tif", "empty.tif", "new.tif"])
    assert [f.image for f in found] == ["empty.tif", "new.tif"]


def test_class_imbalance_summary(clean, cells_taxonomy):
    cells_taxonomy.add("mitosis")
    extra = ImageAnnotation("b.tif", (8, 8), boxes=[Box(0, 0, 2, 2, class_id=2)])
    table, found = class_summary([clean, extra], cells_taxonomy)
    n = len(clean.objects)
    assert table.set_index("class")["total"].to_dict() == {
        "nucleus": 2 * n, "cytoplasm": 1, "mitosis": 0
    }  # fmt: skip
    assert [f.class_id for f in found] == [cells_taxonomy.by_name("mitosis").id]


def test_findings_table_has_one_row_per_finding(clean, cells_taxonomy):
    clean.boxes.append(Box(250, 10, 260, 20, class_id=5))
    df = findings_frame(check(clean, cells_taxonomy))
    assert df["check"].tolist() == ["unknown_class", "box_outside"]


def test_checks_on_a_zarr_mask_read_in_blocks(clean, cells_taxonomy, tmp_path, monkeypatch):
    import zarr

    from napari_labelsuite.core import qc_pairs

    victim = min(clean.objects)
    del clean.objects[victim]
    clean.boxes = [b for b in clean.boxes if b.instance_id != victim]
    expected = [f.to_dict() for f in check(clean, cells_taxonomy)]
    z = zarr.create_array(tmp_path / "m.zarr", shape=clean.instances.shape, chunks=(32, 32),
                          dtype=clean.instances.dtype)  # fmt: skip
    z[:] = clean.instances
    clean.instances = z
    monkeypatch.setattr(qc_pairs, "BLOCK_ELEMS", 2000)  # rows split across blocks
    assert [f.to_dict() for f in check(clean, cells_taxonomy)] == expected
