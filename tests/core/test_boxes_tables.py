import numpy as np
import pytest

from napari_labelsuite.core.annotation import Box, ImageAnnotation, ObjectInfo
from napari_labelsuite.core.boxes import (
    box_iou,
    boxes_from_instances,
    convert,
    napari_to_xyxy,
    object_slices,
    xyxy_to_napari,
)
from napari_labelsuite.core.errors import AnnotationError
from napari_labelsuite.core.tables import (
    box_meta_from_frame,
    boxes_frame,
    frame_to_objects,
    objects_to_frame,
)


def test_convert_round_trips():
    xyxy = np.array([[1.0, 2.0, 5.0, 10.0], [0, 0, 3, 3]])
    for fmt in ("xywh", "cxcywh"):
        np.testing.assert_allclose(convert(convert(xyxy, "xyxy", fmt), fmt, "xyxy"), xyxy)
    np.testing.assert_allclose(convert(xyxy, "xyxy", "xywh")[0], [1, 2, 4, 8])
    np.testing.assert_allclose(convert(xyxy, "xyxy", "cxcywh")[0], [3, 6, 4, 8])


def test_napari_corners_round_trip_with_plane():
    verts = xyxy_to_napari((2, 3, 7, 9), plane=(4,))
    assert verts.shape == (4, 3)
    assert np.all(verts[:, 0] == 4)
    assert napari_to_xyxy(verts) == ((2.0, 3.0, 7.0, 9.0), (4,))


def test_box_on_two_planes_is_rejected():
    verts = xyxy_to_napari((0, 0, 2, 2), plane=(1,))
    verts[0, 0] = 2
    with pytest.raises(AnnotationError, match="one plane"):
        napari_to_xyxy(verts)


def test_boxes_from_instances_3d():
    lab = np.zeros((2, 6, 8), np.uint16)
    lab[0, 1:3, 2:5] = 1
    lab[1, 4:6, 0:2] = 1
    lab[1, 0:1, 7:8] = 3
    boxes = boxes_from_instances(lab, {1: ObjectInfo(5)}, default_class=9)
    got = {(b.instance_id, b.plane, b.xyxy, b.class_id) for b in boxes}
    assert got == {
        (1, (0,), (2, 1, 5, 3), 5),
        (1, (1,), (0, 4, 2, 6), 5),
        (3, (1,), (7, 0, 8, 1), 9),
    }


def test_boxes_from_instances_huge_ids_use_sparse_path():
    lab = np.zeros((8, 8), np.uint64)
    lab[2:4, 2:5] = 2**40
    lab[6, 6] = 7
    boxes = boxes_from_instances(lab, {2**40: ObjectInfo(4)}, default_class=9)
    got = [(b.instance_id, b.xyxy, b.class_id) for b in boxes]
    assert got == [(7, (6, 6, 7, 7), 9), (2**40, (2, 2, 5, 4), 4)]


def test_object_slices_sparse_without_background_keeps_every_id():
    lab = np.full((4, 4), 5_000_000, np.int64)
    lab[0, 0] = 9_000_000
    assert object_slices(lab) == {
        5_000_000: (slice(0, 4), slice(0, 4)),
        9_000_000: (slice(0, 1), slice(0, 1)),
    }


def test_object_slices_dense_skips_absent_ids():
    lab = np.zeros((3, 5), np.uint8)
    lab[1, 1:4] = 2
    lab[2, 4] = 5
    assert object_slices(lab) == {2: (slice(1, 2), slice(1, 4)), 5: (slice(2, 3), slice(4, 5))}


def test_box_iou_known_values():
    iou = box_iou([[0, 0, 2, 2]], [[1, 1, 3, 3], [0, 0, 2, 2], [5, 5, 6, 6]])
    np.testing.assert_allclose(iou, [[1 / 7, 1.0, 0.0]])


def test_objects_frame_round_trip():
    objs = {
        3: ObjectInfo(2, {"occluded": True}, status="approved", reviewer="ann"),
        7: ObjectInfo(1),
    }
    df = objects_to_frame(objs)
    assert list(df["index"]) == [0, 3, 7]
    assert frame_to_objects(df) == objs


def test_boxes_frame_round_trip():
    boxes = [
        Box(0, 0, 4, 4, class_id=2, attributes={"difficult": True}),
        Box(1, 1, 2, 2, class_id=1, instance_id=4, status="needs-fix"),
    ]
    meta = box_meta_from_frame(boxes_frame(boxes), 2)
    assert [Box(*b.xyxy, **m) for b, m in zip(boxes, meta)] == boxes


def test_annotation_validate_names_offending_box():
    ann = ImageAnnotation("img.png", (10, 20), boxes=[Box(0, 0, 25, 5, class_id=1)])
    with pytest.raises(AnnotationError, match=r"img.png boxes\[0\].*xyxy"):
        ann.validate()


def test_annotation_tables_round_trip():
    ann = ImageAnnotation(
        "a",
        (3, 10, 20),
        objects={1: ObjectInfo(2)},
        boxes=[Box(1, 1, 3, 4, class_id=2, plane=(2,), instance_id=1)],
    )
    back = ImageAnnotation.from_tables_dict(ann.tables_to_dict())
    assert back == ann and back.axes == "zyx"
