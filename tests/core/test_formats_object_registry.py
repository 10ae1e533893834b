"""DOTA, YOLO-OBB, COCO keypoints and YOLO-pose through the registry and the CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from napari_labelsuite.cli import main
from napari_labelsuite.core import formats
from napari_labelsuite.core.annotation import ImageAnnotation
from napari_labelsuite.core.errors import FormatError
from napari_labelsuite.core.objects import Keypoints, RotatedBox
from napari_labelsuite.core.taxonomy import Taxonomy

H, W = 60, 80
SK = {"names": ["nose", "left_eye", "right_eye"], "edges": [[0, 1], [0, 2]],
      "flip_pairs": [[1, 2]]}  # fmt: skip
TAX_RB = Taxonomy([{"id": 1, "name": "ship"}, {"id": 2, "name": "small-vehicle"}])
TAX_KP = Taxonomy([{"id": 1, "name": "person", "keypoints": SK}])
BOXES = [
    RotatedBox(30, 20, 16, 6, 30, class_id=1),
    RotatedBox(50, 40, 10, 8, -60, class_id=2, difficult=True),
]
KPS = [
    Keypoints(np.array([[20.5, 10.5, 2], [0, 0, 0], [28.25, 14.5, 1]]), 1, box=(18, 8, 32, 20)),
    Keypoints(np.array([[50, 30, 2], [46, 28, 2], [54, 28, 2]]), 1, box=(44, 26, 56, 36)),
]


def _images(root: Path, *sub: str) -> None:
    folder = root.joinpath(*sub)
    folder.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.zeros((H, W), np.uint8)).save(folder / "a.png")


def _same_boxes(got: list[RotatedBox], want: list[RotatedBox]) -> None:
    assert [b.class_id for b in got] == [b.class_id for b in want]
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(
            np.sort(g.corners(), axis=0), np.sort(w.corners(), axis=0), atol=1e-5
        )


def test_the_object_formats_are_registered() -> None:
    assert {"dota", "coco_keypoints", "yolo_obb", "yolo_pose"} <= set(formats.FORMATS)
    from napari_labelsuite.core.batch import ANNOTATION_FORMATS

    assert {"dota", "coco_keypoints", "yolo_obb", "yolo_pose"} <= set(ANNOTATION_FORMATS)


def test_dota_is_sniffed_and_round_trips_through_the_registry(tmp_path: Path) -> None:
    _images(tmp_path, "images")
    ann = ImageAnnotation("a.png", (H, W), rotated=BOXES)
    files = formats.write(tmp_path, [ann], TAX_RB, fmt="dota")
    assert files == [tmp_path / "labelTxt" / "a.txt"]
    assert formats.sniff(tmp_path) == ("dota", tmp_path)
    rep = formats.ReadReport()
    (back,), tax = formats.read(tmp_path, report=rep)
    assert rep.format == "dota" and [c.name for c in tax] == ["ship", "small-vehicle"]
    _same_boxes(back.rotated, BOXES)
    assert [b.difficult for b in back.rotated] == [False, True]


def test_coco_keypoints_is_sniffed_and_round_trips(tmp_path: Path) -> None:
    out = tmp_path / "kp.json"
    ann = ImageAnnotation("a.png", (H, W), keypoints=KPS)
    assert formats.write(out, [ann], TAX_KP, fmt="coco_keypoints") == [out]
    assert formats.sniff(out) == ("coco_keypoints", out)
    (back,), tax = formats.read(out)
    assert tax[1].skeleton is not None and tax[1].skeleton.names == SK["names"]
    for g, w in zip(back.keypoints, KPS, strict=True):
        np.testing.assert_allclose(g.xyv, w.xyv)


def test_yolo_obb_and_pose_by_name(tmp_path: Path) -> None:
    obb, pose = tmp_path / "obb", tmp_path / "pose"
    for root in (obb, pose):
        _images(root, "images", "train")
    formats.write(obb, [ImageAnnotation("a.png", (H, W), rotated=BOXES)], TAX_RB, fmt="yolo_obb")
    formats.write(pose, [ImageAnnotation("a.png", (H, W), keypoints=KPS)], TAX_KP, fmt="yolo_pose")
    (a,), _ = formats.read(obb, "yolo_obb")
    _same_boxes(a.rotated, BOXES)
    (b,), _ = formats.read(pose, "yolo_pose")
    for g, w in zip(b.keypoints, KPS, strict=True):
        np.testing.assert_allclose(g.xyv, w.xyv, atol=1e-6)
    with pytest.raises(FormatError, match="not a YOLO-pose dataset"):
        formats.read(obb, "yolo_pose")
    with pytest.raises(FormatError, match="needs a class with keypoints"):
        formats.write(tmp_path / "x", [ImageAnnotation("a.png", (H, W))], TAX_RB, fmt="yolo_pose")


def test_cli_validate_and_convert_dota_to_yolo_obb_and_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src, obb, back = tmp_path / "dota", tmp_path / "obb", tmp_path / "back"
    _images(src, "images")
    formats.write(src, [ImageAnnotation("a.png", (H, W), rotated=BOXES)], TAX_RB, fmt="dota")
    assert main(["validate", str(src)]) == 0
    assert "read as dota" in capsys.readouterr().out
    _images(obb, "images", "train")
    assert main(["convert", str(src), str(obb), "--to", "yolo_obb"]) == 0
    assert main(["convert", str(obb), str(back), "--from", "yolo_obb", "--to", "dota"]) == 0
    (ann,), _ = formats.read(back, "dota", image_size=(H, W))
    _same_boxes(ann.rotated, BOXES)


def test_cli_converts_coco_keypoints_to_yolo_pose(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src, pose = tmp_path / "kp.json", tmp_path / "pose"
    formats.write(
        src, [ImageAnnotation("a.png", (H, W), keypoints=KPS)], TAX_KP, fmt="coco_keypoints"
    )
    assert main(["validate", str(src)]) == 0
    assert "read as coco_keypoints" in capsys.readouterr().out
    _images(pose, "images", "train")
    assert main(["convert", str(src), str(pose), "--to", "yolo_pose"]) == 0
    (ann,), _ = formats.read(pose, "yolo_pose")
    for g, w in zip(ann.keypoints, KPS, strict=True):
        np.testing.assert_allclose(g.xyv, w.xyv, atol=1e-6)
