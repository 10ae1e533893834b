"""labelme JSON: every shape type, groups, flags, embedded image data, round trip."""

from __future__ import annotations

import base64
import io
import json

import numpy as np
import pytest
from PIL import Image
from pycocotools import mask as mask_utils
from skimage.draw import disk

from napari_labelsuite.core.errors import FormatError
from napari_labelsuite.core.formats import labelme

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:pycocotools")

H, W = 40, 60
POLY = [[5.3, 4.1], [20.7, 6.2], [18.25, 19.9], [7.0, 16.4]]
PART2 = [[40.0, 30.0], [50.5, 31.0], [45.0, 38.6]]


def _b64_png(arr: np.ndarray) -> str:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode()


def _shape(label, points, kind, group_id=None, **kw):
    rec = {
        "label": label,
        "points": points,
        "group_id": group_id,
        "description": "",
        "shape_type": kind,
        "flags": {},
        "mask": None,
    }
    rec.update(kw)
    return rec


def _mask_block() -> np.ndarray:
    m = np.zeros((6, 8), bool)  # rows 22..27, columns 2..9 (inclusive box)
    m[1:5, 1:7] = True
    m[2:4, 3:5] = False  # a hole
    return m


def _doc(**top) -> dict:
    doc = {
        "version": "5.4.1",
        "flags": {"blurry": False, "night": True},
        "shapes": [
            _shape("cat", POLY, "polygon", 1, flags={"occluded": True}),
            _shape("cat", PART2, "polygon", 1),
            _shape("cat", [[5, 4], [21, 20]], "rectangle", 1),
            _shape("dog", [[30, 5], [44.5, 12]], "rectangle"),
            _shape("ball", [[10.0, 30.0], [13.2, 30.0]], "circle"),
            _shape("nose", [[33.5, 20.25]], "point"),
            _shape("edge", [[1, 1], [10, 2]], "line"),
            _shape("edge", [[2, 35], [8, 36], [12, 39]], "linestrip"),
            _shape("blob", [[2, 22], [9, 27]], "mask", mask=_b64_png(_mask_block())),
        ],
        "imagePath": "..\\images\\street_001.jpg",
        "imageData": None,
        "imageHeight": H,
        "imageWidth": W,
    }
    doc.update(top)
    return doc


def _coco_poly(*polys) -> np.ndarray:
    flat = [[v for p in poly for v in p] for poly in polys]
    return mask_utils.decode(mask_utils.merge(mask_utils.frPyObjects(flat, H, W))).astype(bool)


def test_every_shape_type_reads_to_the_writers_geometry(tmp_path):
    f = tmp_path / "street_001.json"
    f.write_text(json.dumps(_doc()))
    (ann,), tax = labelme.read(f)
    assert tax.names() == ["cat", "dog", "ball", "nose", "edge", "blob"]
    assert ann.image_name == "street_001.jpg" and ann.shape == (H, W)
    labels = np.asarray(ann.instances)
    # group 1: two polygons of one cat instance, as labelme2coco + annToMask give it
    np.testing.assert_array_equal(labels == 1, _coco_poly(POLY, PART2))
    assert ann.objects[1].class_id == tax.by_name("cat").id
    assert ann.objects[1].attributes == {"occluded": True}
    # circle: pixel centres within the radius
    rr, cc = disk((30.0 - 0.5, 10.0 - 0.5), 3.2, shape=(H, W))
    ref = np.zeros((H, W), bool)
    ref[rr, cc] = True
    np.testing.assert_array_equal(labels == 2, ref)
    # mask: the PNG placed at the inclusive box's top-left corner
    ref = np.zeros((H, W), bool)
    ref[22:28, 2:10] = _mask_block()
    np.testing.assert_array_equal(labels == 3, ref)
    boxes = [(b.class_id, b.xyxy, b.instance_id) for b in ann.boxes]
    assert boxes == [
        (tax.by_name("cat").id, (5.0, 4.0, 21.0, 20.0), 1),
        (tax.by_name("dog").id, (30.0, 5.0, 44.5, 12.0), 0),
    ]
    assert ann.metadata["flags"] == {"blurry": False, "night": True}
    assert ann.metadata["points"] == [
        {"xy": [33.5, 20.25], "class_id": tax.by_name("nose").id, "attributes": {}}
    ]
    assert [ln["kind"] for ln in ann.metadata["polylines"]] == ["line", "linestrip"]


def test_size_from_embedded_image_data(tmp_path):
    img = _b64_png(np.zeros((H, W, 3), np.uint8))
    f = tmp_path / "a.json"
    f.write_text(json.dumps(_doc(imageHeight=None, imageWidth=None, imageData=img)))
    (ann,), _ = labelme.read(f)
    assert ann.shape == (H, W)


def test_unknown_size_is_an_error(tmp_path):
    f = tmp_path / "a.json"
    f.write_text(json.dumps(_doc(imageHeight=None, imageWidth=None)))
    with pytest.raises(FormatError, match="image size unknown"):
        labelme.read(f)


def test_bad_shape_names_file_shape_and_field(tmp_path):
    doc = _doc()
    doc["shapes"][3]["points"] = [[1, 2]]
    f = tmp_path / "a.json"
    f.write_text(json.dumps(doc))
    with pytest.raises(FormatError) as info:
        labelme.read(f)
    assert (info.value.where, info.value.field) == ("shapes[3]", "points")
    doc["shapes"][3]["points"] = [[1, 2], [3, 4]]
    doc["shapes"][3]["shape_type"] = "cuboid"
    f.write_text(json.dumps(doc))
    with pytest.raises(FormatError, match="shape_type"):
        labelme.read(f)


def test_round_trip_through_our_export(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    (src / "street_001.json").write_text(json.dumps(_doc()))
    (ann,), tax = labelme.read(src)
    out = tmp_path / "out"
    files = labelme.write(out, [ann], tax)
    assert {f.name for f in files} == {"street_001.json", "taxonomy.yaml"}
    written = json.loads((out / "street_001.json").read_text())
    kinds = sorted({s["shape_type"] for s in written["shapes"]})
    assert kinds == ["line", "linestrip", "mask", "point", "polygon", "rectangle"]
    (again,), tax2 = labelme.read(out)
    assert tax2 == tax
    np.testing.assert_array_equal(np.asarray(again.instances), np.asarray(ann.instances))
    assert [(b.class_id, b.xyxy, b.instance_id) for b in again.boxes] == [
        (b.class_id, b.xyxy, b.instance_id) for b in ann.boxes
    ]
    assert again.metadata == ann.metadata
    assert {k: o.attributes for k, o in again.objects.items()} == {
        k: o.attributes for k, o in ann.objects.items()
    }
