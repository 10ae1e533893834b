"""YOLO datasets in the layouts other tools write: Roboflow, Ultralytics, CVAT/Darknet, Label
Studio; rounding at the border; oriented-box and pose rows read as such, never as polygons."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pycocotools import mask as mask_utils

from napari_labelsuite.core.errors import FormatError
from napari_labelsuite.core.formats import yolo
from napari_labelsuite.core.formats._common import ReadReport

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:pycocotools")


def _img(path: Path, w: int, h: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.zeros((h, w, 3), np.uint8)).save(path)
    return path


def _txt(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _roboflow(root: Path) -> None:
    _txt(
        root / "data.yaml",
        "train: ../train/images\nval: ../valid/images\ntest: ../test/images\n\n"
        "nc: 2\nnames: ['car', 'person']\n\nroboflow:\n  workspace: demo\n  project: street\n"
        "  version: 3\n  license: CC BY 4.0\n  url: https://universe.roboflow.com/demo/street/3\n",
    )
    _img(root / "train/images/a_jpg.rf.1234.jpg", 641, 480)
    _txt(
        root / "train/labels/a_jpg.rf.1234.txt",
        # touches the left and right border; 6-decimal rounding overshoots by 1e-6
        "0 0.027300 0.500000 0.054602 0.200000\n1 0.972700 0.250000 0.054602 0.500000\n",
    )
    _img(root / "valid/images/b_jpg.rf.5678.jpg", 100, 50)
    _txt(root / "valid/labels/b_jpg.rf.5678.txt", "1 0.5 0.5 0.2 0.4\n")


def test_roboflow_layout_reads_every_split_and_clips_border_boxes(tmp_path):
    _roboflow(tmp_path)
    report = ReadReport()
    anns, tax = yolo.read(tmp_path, report=report)
    assert report.layout == "roboflow"
    assert [c.name for c in tax] == ["car", "person"]
    by = {a.image_name: a for a in anns}
    assert set(by) == {"a_jpg.rf.1234.jpg", "b_jpg.rf.5678.jpg"}
    a = by["a_jpg.rf.1234.jpg"]
    assert a.shape == (480, 641)
    (b0, b1) = a.boxes
    assert b0.class_id == 1 and b0.x0 == 0.0
    assert b0.x1 == pytest.approx((0.0273 + 0.027301) * 641, abs=1e-6)
    assert b0.y0 == pytest.approx(0.4 * 480) and b0.y1 == pytest.approx(0.6 * 480)
    assert b1.class_id == 2 and b1.x1 == 641.0
    assert b1.x0 == pytest.approx((0.9727 - 0.027301) * 641, abs=1e-6)
    (bb,) = by["b_jpg.rf.5678.jpg"].boxes
    assert bb.xyxy == pytest.approx((40.0, 15.0, 60.0, 35.0))


def test_roboflow_data_yaml_path_given_directly(tmp_path):
    _roboflow(tmp_path)
    anns, _ = yolo.read(tmp_path / "data.yaml")
    assert len(anns) == 2


def test_ultralytics_layout_with_foreign_path_key_and_segment_rows(tmp_path):
    _txt(
        tmp_path / "coco8-seg.yaml",
        "path: ../datasets/coco8-seg\ntrain: images/train\nval: images/val\n"
        "names:\n  0: person\n  1: bicycle\n",
    )
    _img(tmp_path / "images/train/000000000009.jpg", 40, 30)
    poly = [0.1, 0.1, 0.6, 0.12, 0.55, 0.8, 0.2, 0.7, 0.05, 0.4]
    _txt(
        tmp_path / "labels/train/000000000009.txt",
        "1 " + " ".join(f"{v:.6f}" for v in poly) + "\n0 0.5 0.5 0.25 0.25\n",
    )
    _img(tmp_path / "images/val/000000000036.jpg", 40, 30)
    _txt(tmp_path / "labels/val/000000000036.txt", "0 0.5 0.5 1.0 1.0\n")
    report = ReadReport()
    anns, tax = yolo.read(tmp_path, report=report)
    assert report.layout == "ultralytics"
    seg = next(a for a in anns if a.image_name == "000000000009.jpg")
    xy = (np.asarray(poly).reshape(-1, 2) * [40, 30]).ravel().tolist()
    ref = mask_utils.decode(mask_utils.merge(mask_utils.frPyObjects([xy], 30, 40))).astype(bool)
    np.testing.assert_array_equal(np.asarray(seg.instances) == 1, ref)
    assert seg.objects[1].class_id == tax.by_name("bicycle").id
    assert [b.xyxy for b in seg.boxes] == [(15.0, 11.25, 25.0, 18.75)]


def test_cvat_yolo_1_1_darknet_layout(tmp_path):
    _txt(
        tmp_path / "obj.data",
        "classes = 2\ntrain = data/train.txt\nnames = data/obj.names\nbackup = backup/\n",
    )
    _txt(tmp_path / "obj.names", "cat\ndog\n")
    _txt(tmp_path / "train.txt", "data/obj_train_data/frame_000000.jpg\n")
    _img(tmp_path / "obj_train_data/frame_000000.jpg", 200, 100)
    _txt(tmp_path / "obj_train_data/frame_000000.txt", "1 0.250000 0.500000 0.100000 0.200000\n")
    report = ReadReport()
    anns, tax = yolo.read(tmp_path, report=report)
    assert report.layout == "darknet"
    assert [c.name for c in tax] == ["cat", "dog"]
    (ann,) = anns
    assert ann.image_name == "frame_000000.jpg" and ann.shape == (100, 200)
    assert [(b.class_id, b.xyxy) for b in ann.boxes] == [(2, (40.0, 40.0, 60.0, 60.0))]


def test_label_studio_yolo_export(tmp_path):
    _txt(tmp_path / "classes.txt", "Airplane\nCar\n")
    _txt(
        tmp_path / "notes.json",
        '{"categories": [{"id": 0, "name": "Airplane"}, {"id": 1, "name": "Car"}], '
        '"info": {"year": 2024, "version": "1.0", "contributor": "Label Studio"}}',
    )
    _img(tmp_path / "images/5d3c1e2f-plane.png", 80, 60)
    _txt(tmp_path / "labels/5d3c1e2f-plane.txt", "0 0.5 0.5 0.5 0.5\n")
    report = ReadReport()
    anns, tax = yolo.read(tmp_path, report=report)
    assert report.layout == "labelstudio"
    (ann,) = anns
    assert [(b.class_id, b.xyxy) for b in ann.boxes] == [(1, (20.0, 15.0, 60.0, 45.0))]


def test_obb_rows_are_read_as_rotated_boxes_not_polygons(tmp_path):
    _txt(tmp_path / "data.yaml", "train: images/train\nval: images/train\nnames: [ship]\n")
    _img(tmp_path / "images/train/p1.png", 50, 50)
    _txt(
        tmp_path / "labels/train/p1.txt",
        "0 0.1 0.1 0.5 0.1 0.5 0.3 0.1 0.3\n0 0.6 0.6 0.9 0.6 0.9 0.9 0.6 0.9\n",
    )
    (ann,), _ = yolo.read(tmp_path)
    assert ann.objects == {} and ann.instances is None
    np.testing.assert_allclose(
        [r.xywha for r in ann.rotated], [(15, 10, 20, 10, 0), (37.5, 37.5, 15, 15, 0)]
    )
    assert [r.class_id for r in ann.rotated] == [1, 1]


def test_4_point_polygons_among_longer_ones_are_polygons(tmp_path):
    _txt(tmp_path / "data.yaml", "train: images/train\nval: images/train\nnames: [ship]\n")
    _img(tmp_path / "images/train/p1.png", 50, 50)
    _txt(
        tmp_path / "labels/train/p1.txt",
        "0 0.1 0.1 0.5 0.2 0.4 0.6 0.05 0.5\n0 0.6 0.6 0.9 0.6 0.9 0.9 0.7 0.95 0.6 0.9\n",
    )
    (ann,), _ = yolo.read(tmp_path)
    assert sorted(ann.objects) == [1, 2]


def test_pose_dataset_is_read_as_keypoints_with_their_box(tmp_path):
    _txt(
        tmp_path / "data.yaml",
        "train: images/train\nval: images/train\nkpt_shape: [2, 2]\nnames: [hand]\n",
    )
    _img(tmp_path / "images/train/h.png", 50, 50)
    _txt(tmp_path / "labels/train/h.txt", "0 0.5 0.5 0.4 0.4 0.4 0.4 0.6 0.6\n")
    (ann,), _ = yolo.read(tmp_path)
    (kp,) = ann.keypoints
    assert kp.class_id == 1
    np.testing.assert_allclose(kp.box, (15, 15, 35, 35))
    np.testing.assert_allclose(kp.xyv, [[20, 20, 2], [30, 30, 2]])


def test_images_without_any_label_file_is_an_error(tmp_path):
    _txt(tmp_path / "data.yaml", "train: ../train/images\nval: ../valid/images\nnames: [a]\n")
    _img(tmp_path / "train/images/x.jpg", 10, 10)
    with pytest.raises(FormatError, match="has a label file"):
        yolo.read(tmp_path)


def test_folder_without_a_known_layout_is_an_error(tmp_path):
    _img(tmp_path / "x.jpg", 10, 10)
    with pytest.raises(FormatError, match="not a YOLO dataset"):
        yolo.read(tmp_path)


def test_box_far_outside_is_still_refused(tmp_path):
    _txt(tmp_path / "classes.txt", "a\n")
    _img(tmp_path / "images/x.png", 10, 10)
    _txt(tmp_path / "labels/x.txt", "0 0.02 0.5 0.1 0.1\n")
    with pytest.raises(FormatError, match="outside"):
        yolo.read(tmp_path)


def test_pose_rows_without_kpt_shape_are_refused_and_task_segment_overrides(tmp_path):
    _txt(tmp_path / "data.yaml", "train: images/train\nval: images/train\nnames: [person]\n")
    _img(tmp_path / "images/train/p.png", 50, 50)
    # box + 3 keypoints (x, y): 10 values per row, the same in every row
    rows = [
        "0 0.5 0.5 0.4 0.6 0.45 0.3 0.55 0.3 0.5 0.6",
        "0 0.2 0.3 0.2 0.3 0.15 0.2 0.25 0.2 0.2 0.4",
        "0 0.8 0.7 0.2 0.3 0.75 0.6 0.85 0.6 0.8 0.8",
    ]
    _txt(tmp_path / "labels/train/p.txt", "\n".join(rows) + "\n")
    with pytest.raises(FormatError, match="pose rows"):
        yolo.read(tmp_path)
    (ann,), _ = yolo.read(tmp_path, task="segment")
    assert sorted(ann.objects) == [1, 2, 3]


def test_obb_override_with_task_segment(tmp_path):
    _txt(tmp_path / "data.yaml", "train: images/train\nval: images/train\nnames: [ship]\n")
    _img(tmp_path / "images/train/p1.png", 50, 50)
    _txt(tmp_path / "labels/train/p1.txt", "0 0.1 0.1 0.5 0.1 0.5 0.5 0.1 0.5\n")
    (ann,), _ = yolo.read(tmp_path, task="segment")
    ref = np.zeros((50, 50), bool)
    ref[5:25, 5:25] = True
    np.testing.assert_array_equal(np.asarray(ann.instances) == 1, ref)


def test_cvat_export_without_images_needs_and_takes_an_image_size(tmp_path):
    _txt(tmp_path / "obj.data", "classes = 1\ntrain = data/train.txt\nnames = data/obj.names\n")
    _txt(tmp_path / "obj.names", "car\n")
    _txt(tmp_path / "train.txt", "data/obj_train_data/frame_000000.jpg\n")
    _txt(tmp_path / "obj_train_data/frame_000000.txt", "0 0.5 0.5 0.25 0.5\n")
    with pytest.raises(FormatError, match="image_size"):
        yolo.read(tmp_path)
    report = ReadReport()
    (ann,), _ = yolo.read(tmp_path, image_size=(100, 200), report=report)
    assert ann.shape == (100, 200)
    assert ann.boxes[0].xyxy == (75.0, 25.0, 125.0, 75.0)
    assert any("not found" in n for n in report.notes)
    with pytest.raises(FormatError, match="height, width"):
        yolo.read(tmp_path, image_size=(100,))
