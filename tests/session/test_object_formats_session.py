"""Import and export of rotated boxes, keypoints and polygons through the session."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image
from pycocotools import mask as mask_utils

from napari_labelsuite import LabelSession
from napari_labelsuite.core import formats
from napari_labelsuite.core.annotation import ImageAnnotation
from napari_labelsuite.core.objects import Keypoints, RotatedBox
from napari_labelsuite.core.taxonomy import Taxonomy

H, W = 40, 50
SK = {"names": ["nose", "left_eye", "right_eye"], "edges": [[0, 1], [0, 2]],
      "flip_pairs": [[1, 2]]}  # fmt: skip


def _images(root: Path, *sub: str) -> None:
    folder = root.joinpath(*sub)
    folder.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.zeros((H, W), np.uint8)).save(folder / "a.png")


def test_dota_import_shows_rotated_boxes_and_exports_them_as_yolo_obb(tmp_path: Path) -> None:
    tax = Taxonomy([{"id": 1, "name": "ship"}])
    boxes = [RotatedBox(20, 15, 12, 5, 25, class_id=1), RotatedBox(35, 28, 6, 4, -40, class_id=1)]
    src = tmp_path / "dota"
    _images(src, "images")
    formats.write(src, [ImageAnnotation("a.png", (H, W), rotated=boxes)], tax, fmt="dota")
    s = LabelSession()
    layers = s.import_annotations(src)
    (rot,) = s.layers_of_role("rotated")
    assert rot in layers and len(rot.data) == 2
    out = tmp_path / "obb"
    _images(out, "images", "train")
    s.export_annotations(out, "yolo_obb")
    (back,), _ = formats.read(out, "yolo_obb")
    for g, w in zip(back.rotated, boxes, strict=True):
        np.testing.assert_allclose(
            np.sort(g.corners(), axis=0), np.sort(w.corners(), axis=0), atol=1e-5
        )


def test_coco_keypoints_import_shows_a_keypoints_layer(tmp_path: Path) -> None:
    tax = Taxonomy([{"id": 1, "name": "person", "keypoints": SK}])
    kp = Keypoints(np.array([[10.5, 8.5, 2], [0, 0, 0], [14.5, 9.5, 1]]), 1, box=(8, 6, 18, 14))
    src = tmp_path / "kp.json"
    formats.write(
        src, [ImageAnnotation("a.png", (H, W), keypoints=[kp])], tax, fmt="coco_keypoints"
    )
    s = LabelSession()
    s.import_annotations(src)
    (layer,) = s.layers_of_role("keypoints")
    assert layer.features["keypoint"].tolist() == ["nose", "right_eye"]
    np.testing.assert_allclose(s.keypoints_list()[0].xyv, kp.xyv)


def test_labelme_polygons_import_as_polygons_and_export_from_the_polygon_layer(
    tmp_path: Path,
) -> None:
    doc = {
        "version": "5.4.1", "flags": {}, "imagePath": "a.png", "imageData": None,
        "imageHeight": H, "imageWidth": W,
        "shapes": [
            {"label": "cell", "points": [[3, 4], [20, 5], [18, 22], [5, 19]],
             "group_id": None, "shape_type": "polygon", "flags": {}},
            {"label": "cell", "points": [[30, 10], [45, 12], [38, 30]],
             "group_id": None, "shape_type": "polygon", "flags": {}},
        ],
    }  # fmt: skip
    (tmp_path / "a.json").write_text(json.dumps(doc))
    s = LabelSession()
    s.import_annotations(tmp_path / "a.json", as_polygons=True)
    (poly,) = s.layers_of_role("polygons")
    assert sorted(poly.features["instance_id"].tolist()) == [1, 2]
    assert set(poly.features["class"]) == {"cell"}
    want = np.asarray(s.instances.data).copy()
    # the instance layer goes: export writes what the polygon layer outlines
    s.layers.remove(s.instances)
    out = tmp_path / "coco.json"
    s.export_annotations(out, "coco", segmentation="polygon")
    coco = json.loads(out.read_text())
    got = []
    for a in coco["annotations"]:
        rle = mask_utils.frPyObjects(a["segmentation"], H, W)
        got.append(mask_utils.decode(mask_utils.merge(rle)).astype(bool).tobytes())
    # pycocotools' decoding of what we wrote equals the imported raster, object by object
    objects = [(want == k).tobytes() for k in np.unique(want) if k]
    assert len(objects) == 2 and sorted(got) == sorted(objects)
