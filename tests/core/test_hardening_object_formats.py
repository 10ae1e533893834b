"""Regression tests for what fuzzing found in the readers of COCO panoptic, COCO results,
CTC, DOTA, YOLO-OBB / YOLO-pose and COCO keypoints: each input is built here and must end
in a named FormatError (file, record, field), never another exception."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from napari_labelsuite.core import formats
from napari_labelsuite.core.annotation import ImageAnnotation, ObjectInfo
from napari_labelsuite.core.errors import FormatError
from napari_labelsuite.core.formats import coco_keypoints, dota
from napari_labelsuite.core.formats.yolo_objects import write_obb
from napari_labelsuite.core.objects import Keypoints, RotatedBox
from napari_labelsuite.core.taxonomy import Taxonomy
from napari_labelsuite.core.validate import pixel_limit

TAX = Taxonomy([{"id": 1, "name": "cell"}, {"id": 2, "name": "dot"}])


def _edit(f: Path, fn: Any) -> None:
    doc = json.loads(f.read_text())
    fn(doc)
    f.write_text(json.dumps(doc))


def _instances() -> ImageAnnotation:
    inst = np.zeros((12, 16), np.int32)
    inst[2:6, 2:7] = 1
    inst[7:11, 9:14] = 2
    return ImageAnnotation(
        "img1.png", (12, 16), instances=inst, objects={1: ObjectInfo(1), 2: ObjectInfo(2)}
    )


def _tiff_header(width: int, height: int) -> bytes:
    """A little-endian TIFF of a few bytes whose IFD declares ``width`` x ``height``
    8-bit pixels (one strip of 1 byte)."""
    tags = [  # (tag, type, value): type 3 SHORT, 4 LONG
        (256, 4, width), (257, 4, height), (258, 3, 8), (259, 3, 1), (262, 3, 1),
        (273, 4, 0), (277, 3, 1), (278, 4, height), (279, 4, 1),
    ]  # fmt: skip
    ifd_size = 2 + 12 * len(tags) + 4
    data_at = 8 + ifd_size
    body = struct.pack("<H", len(tags))
    for tag, typ, val in tags:
        val = data_at if tag == 273 else val
        pack = "<HHIHH" if typ == 3 else "<HHII"
        body += (
            struct.pack(pack, tag, typ, 1, val, 0)
            if typ == 3
            else struct.pack(pack, tag, typ, 1, val)
        )
    return b"II*\x00" + struct.pack("<I", 8) + body + struct.pack("<I", 0) + b"\x00"


# -- CTC ----------------------------------------------------------------------------------------
def _ctc(tmp_path: Path) -> Path:
    inst = np.zeros((2, 12, 16), np.uint16)
    inst[:, 2:6, 2:7] = 1
    ann = ImageAnnotation("movie", inst.shape, axes="tyx", instances=inst,
                          objects={1: ObjectInfo(1)})  # fmt: skip
    out = tmp_path / "ctc"
    formats.write(out, [ann], Taxonomy([{"id": 1, "name": "cell"}]), fmt="ctc")
    return out


def test_ctc_track_table_not_utf8_names_file_and_line(tmp_path: Path) -> None:
    root = _ctc(tmp_path)
    (root / "man_track.txt").write_bytes(b"1 0 1 0\n\x80 0 1 0\n")
    with pytest.raises(FormatError, match=r"man_track\.txt: line 2.*not valid UTF-8"):
        formats.read(root, "ctc")


def test_ctc_truncated_frame_is_named(tmp_path: Path) -> None:
    root = _ctc(tmp_path)
    f = root / "man_track001.tif"
    f.write_bytes(f.read_bytes()[:20])
    with pytest.raises(FormatError, match=r"man_track001\.tif.*cannot decode mask"):
        formats.read(root, "ctc")


def test_ctc_frame_declaring_too_many_pixels_is_refused_before_decoding(tmp_path: Path) -> None:
    root = _ctc(tmp_path)
    (root / "man_track001.tif").write_bytes(_tiff_header(100_000, 100_000))
    with pytest.raises(FormatError, match=r"man_track001\.tif.*10000000000 pixels"):
        formats.read(root, "ctc")


# -- COCO keypoints -----------------------------------------------------------------------------
def _keypoints(tmp_path: Path) -> Path:
    tax = Taxonomy([{"id": 1, "name": "person", "keypoints": {"names": ["a", "b"]}}])
    kp = Keypoints(np.array([[3.0, 4.0, 2], [5.0, 4.0, 1]]), 1, box=(2, 3, 7, 8))
    f = tmp_path / "kp.json"
    coco_keypoints.write(f, [ImageAnnotation("a.png", (12, 16), keypoints=[kp])], tax)
    return f


@pytest.mark.parametrize(
    ("record", "field", "value"),
    [
        ("annotations", "keypoints", {"x": 1}),
        ("annotations", "keypoints", [1, 2, "2", 3, 4, 1]),
        ("annotations", "bbox", ["2", 3, 5, 5]),
        ("annotations", "num_keypoints", "2"),
        ("annotations", "category_id", None),
        ("annotations", "image_id", {}),
        ("categories", "name", ["person"]),
        ("categories", "skeleton", [[1]]),
        ("categories", "keypoints", [1, 2]),
        ("images", "height", "12"),
        ("images", "file_name", 7),
    ],
)
def test_coco_keypoints_field_of_the_wrong_type_is_named(
    tmp_path: Path, record: str, field: str, value: Any
) -> None:
    f = _keypoints(tmp_path)
    _edit(f, lambda d: d[record][0].__setitem__(field, value))
    with pytest.raises(FormatError, match=rf"{record}\[0\]: field '{field}'"):
        coco_keypoints.read(f)


def test_coco_keypoints_image_size_beyond_the_pixel_limit_is_refused(tmp_path: Path) -> None:
    f = _keypoints(tmp_path)
    _edit(f, lambda d: d["images"][0].update(height=10**9, width=10**9))
    with pytest.raises(FormatError, match=r"images\[0\].*more than the limit"):
        coco_keypoints.read(f)


def test_coco_keypoints_deep_nesting_and_latin1_are_named(tmp_path: Path) -> None:
    f = tmp_path / "deep.json"
    f.write_text('{"images": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(FormatError, match="deep.json"):
        coco_keypoints.read(f)
    g = _keypoints(tmp_path)
    g.write_bytes(g.read_text().replace("person", "caf\u00e9").encode("latin-1"))
    with pytest.raises(FormatError, match="not valid UTF-8"):
        coco_keypoints.read(g)


# -- COCO panoptic, results, categories ---------------------------------------------------------
def _panoptic(tmp_path: Path) -> Path:
    f = tmp_path / "pan" / "panoptic.json"
    formats.write(f, [_instances()], TAX, fmt="coco_panoptic")
    return f


def test_panoptic_image_id_not_an_integer_is_named(tmp_path: Path) -> None:
    f = _panoptic(tmp_path)
    _edit(f, lambda d: d["annotations"][0].__setitem__("image_id", {}))
    with pytest.raises(FormatError, match=r"annotations\[0\]: field 'image_id'"):
        formats.read(f, "coco_panoptic")


def test_panoptic_images_not_a_list_is_named(tmp_path: Path) -> None:
    f = _panoptic(tmp_path)
    _edit(f, lambda d: d.__setitem__("images", 12))
    with pytest.raises(FormatError, match="field 'images': must be a list"):
        formats.read(f, "coco_panoptic")


def test_panoptic_broken_png_is_named(tmp_path: Path) -> None:
    f = _panoptic(tmp_path)
    png = next(f.parent.rglob("*.png"))
    data = bytearray(png.read_bytes())
    assert data[37:41] == b"IDAT"
    (n,) = struct.unpack(">I", data[33:37])
    # a shorter declared IDAT: PIL then reads a chunk type from the middle of the data
    # and raised SyntaxError("broken PNG file")
    data[33:37] = struct.pack(">I", n - 8)
    png.write_bytes(bytes(data))
    with pytest.raises(FormatError, match=rf"{png.name}.*cannot decode panoptic PNG: broken"):
        formats.read(f, "coco_panoptic")


def test_panoptic_png_beyond_the_pixel_limit_is_refused(tmp_path: Path) -> None:
    f = _panoptic(tmp_path)
    with pixel_limit(100), pytest.raises(FormatError, match="192 pixels, more than the limit"):
        formats.read(f, "coco_panoptic")


@pytest.mark.parametrize(
    ("field", "value"), [("name", {"a": 1}), ("supercategory", ["x"])]
)  # fmt: skip
def test_coco_category_name_and_supercategory_must_be_text(
    tmp_path: Path, field: str, value: Any
) -> None:
    f = tmp_path / "coco.json"
    formats.write(f, [_instances()], TAX, fmt="coco")
    _edit(f, lambda d: (d.pop("labelsuite", None), d["categories"][0].__setitem__(field, value)))
    with pytest.raises(FormatError, match=rf"categories\[0\]: field '{field}': must be a string"):
        formats.read(f, "coco")


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda d: d["images"][0].__setitem__("width", "16"), r"images\[0\].*whole numbers"),
        (lambda d: d["images"][0].__setitem__("height", -4), r"images\[0\].*positive"),
        (lambda d: d.pop("categories"), "field 'categories'"),
    ],
)
def test_coco_results_ground_truth_sizes_and_categories_are_checked(
    tmp_path: Path, edit: Any, match: str
) -> None:
    gt = tmp_path / "gt.json"
    formats.write(gt, [_instances()], TAX, fmt="coco")
    res = tmp_path / "res.json"
    formats.write(res, [_instances()], TAX, fmt="coco_results")
    _edit(gt, edit)
    with pytest.raises(FormatError, match=match):
        formats.read(res, images=gt)


# -- DOTA ---------------------------------------------------------------------------------------
def _dota(tmp_path: Path) -> Path:
    root = tmp_path / "dota"
    rb = RotatedBox(8.0, 6.0, 6.0, 3.0, 30.0, class_id=1)
    dota.write(root, [ImageAnnotation("a.png", (12, 16), rotated=[rb])], TAX)
    return root


def test_dota_label_file_not_utf8_names_the_line(tmp_path: Path) -> None:
    root = _dota(tmp_path)
    f = root / "labelTxt" / "a.txt"
    f.write_bytes(f.read_bytes().replace(b"cell", b"caf\xe9"))
    with pytest.raises(FormatError, match=r"a\.txt: line 1.*not valid UTF-8"):
        dota.read(root, image_size=(12, 16))


def test_dota_broken_image_header_is_named(tmp_path: Path) -> None:
    root = _dota(tmp_path)
    (root / "images").mkdir()
    png = root / "images" / "a.png"
    Image.fromarray(np.zeros((12, 16), np.uint8)).save(png)
    data = bytearray(png.read_bytes())
    data[11] = 0x0B  # the IHDR chunk declares 11 bytes instead of 13
    png.write_bytes(bytes(data))
    with pytest.raises(FormatError, match=r"a\.png: cannot read the image size"):
        dota.read(root)


# -- the registry's read report -----------------------------------------------------------------
def test_registry_reads_an_obb_dataset_and_counts_its_rotated_boxes(tmp_path: Path) -> None:
    """Rotated boxes and keypoint sets count as objects: an OBB dataset is not
    'nothing understood'."""
    root = tmp_path / "obb"
    (root / "images" / "train").mkdir(parents=True)
    Image.fromarray(np.zeros((12, 16), np.uint8)).save(root / "images" / "train" / "a.png")
    boxes = [
        RotatedBox(8.0, 6.0, 6.0, 3.0, 30.0, class_id=1),
        RotatedBox(5, 5, 2, 4, 0, class_id=2),
    ]
    write_obb(root, [ImageAnnotation("a.png", (12, 16), rotated=boxes)], TAX)
    report = formats.ReadReport()
    (ann,), _ = formats.read(root, "yolo", report=report)
    assert [r.class_id for r in ann.rotated] == [1, 2]
    assert (report.rotated, report.keypoints, report.objects) == (2, 0, 2)
    assert "2 rotated boxes" in report.summary()


def test_yolo_pose_label_not_utf8_names_the_line(tmp_path: Path) -> None:
    from napari_labelsuite.core.formats.yolo_objects import write_pose
    from napari_labelsuite.core.objects import Skeleton

    root = tmp_path / "pose"
    (root / "images" / "train").mkdir(parents=True)
    Image.fromarray(np.zeros((12, 16), np.uint8)).save(root / "images" / "train" / "a.png")
    skel = Skeleton(["nose", "left", "right"], edges=[(0, 1), (0, 2)], flip_pairs=[(1, 2)])
    kp = Keypoints(np.array([[3.0, 4.0, 2], [5.0, 4.0, 1], [0, 0, 0]]), 1, box=(2, 3, 7, 8))
    write_pose(root, [ImageAnnotation("a.png", (12, 16), keypoints=[kp])], TAX, skel)
    f = root / "labels" / "train" / "a.txt"
    f.write_bytes(f.read_bytes() + b"0 \xe9\n")
    with pytest.raises(FormatError, match=r"a\.txt: line 2: not valid UTF-8"):
        formats.read(root, "yolo")


@pytest.mark.parametrize("fmt", ["cvat", "voc"])
def test_xml_declaring_an_unknown_encoding_is_named(tmp_path: Path, fmt: str) -> None:
    """Found by the token swap of the fuzz test: ``encoding="uAf-8"`` raised LookupError."""
    out = tmp_path / fmt
    formats.write(out, [_instances()], TAX, fmt=fmt)
    f = next(out.rglob("*.xml"))
    text = f.read_text()
    head = '<?xml version="1.0" encoding="uAf-8"?>\n'
    f.write_text(head + (text.split("?>", 1)[1].lstrip() if text.startswith("<?xml") else text))
    with pytest.raises(FormatError, match=r"field 'encoding'.*unknown encoding: uAf-8"):
        formats.read(out, fmt)
