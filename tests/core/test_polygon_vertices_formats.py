"""Polygon readers keep the file's own vertices (``ann.polygons``) and polygon writers write
them back, for COCO, labelme, CVAT, YOLO-seg and Label Studio files shaped like the tools
write them (the builders of each format's own tests)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from pycocotools import mask as mask_utils

sys.path.insert(0, str(Path(__file__).resolve().parent))
import test_formats_cvat as cvat_files  # noqa: E402
import test_formats_labelme as labelme_files  # noqa: E402
import test_formats_labelstudio as ls_files  # noqa: E402
import test_formats_polygons as coco_files  # noqa: E402
import test_formats_yolo_layouts as yolo_files  # noqa: E402

from napari_labelsuite.core.formats import coco, cvat, labelme, labelstudio, yolo  # noqa: E402
from napari_labelsuite.core.formats._common import kept_outline  # noqa: E402
from napari_labelsuite.core.objects import Polygon, Ring  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:pycocotools")


def _rings(ann) -> list[tuple[int, list[list[float]]]]:
    """(instance id, vertices) of every polygon, in file order."""
    return [(p.instance_id, p.ring.xy.tolist()) for p in ann.polygons]


def _coco_doc() -> dict:
    rng = np.random.default_rng(11)
    h, w = 90, 120
    anns = []
    centres = [(25, 25), (80, 30), (40, 65), (95, 70)]
    for i, (cx, cy) in enumerate(centres):
        parts = [coco_files._blob(rng, cx, cy, 14, 40)]
        if i == 1:  # a second part, as COCO has for objects cut by an occluder
            parts.append(coco_files._blob(rng, 110, 10, 4, 9))
        xy = np.concatenate([np.reshape(p, (-1, 2)) for p in parts])
        x0, y0 = xy.min(0)
        x1, y1 = xy.max(0)
        # fmt: off
        anns.append({"id": 500 + i, "image_id": 42, "category_id": 1 + i % 2, "iscrowd": 0,
                     "segmentation": parts, "area": 1.0,
                     "bbox": [round(float(v), 2) for v in (x0, y0, x1 - x0, y1 - y0)]})
        # fmt: on
    return {
        "info": {"year": 2017},
        "licenses": [],
        "images": [{"id": 42, "file_name": "000000000042.jpg", "height": h, "width": w}],
        "annotations": anns,
        "categories": [{"supercategory": "person", "id": 1, "name": "person"},
                       {"supercategory": "vehicle", "id": 2, "name": "bicycle"}],
    }  # fmt: skip


def test_coco_polygons_keep_the_files_vertices_and_write_them_back(tmp_path):
    doc = _coco_doc()
    f = tmp_path / "instances.json"
    f.write_text(json.dumps(doc))
    (ann,), tax = coco.read(f)
    want = [
        (k, np.reshape(part, (-1, 2)).tolist())
        for k, a in enumerate(doc["annotations"], start=1)
        for part in a["segmentation"]
    ]
    assert _rings(ann) == want
    assert [p.class_id for p in ann.polygons] == [1, 2, 2, 1, 2]
    out = tmp_path / "out.json"
    coco.write(out, [ann], tax)  # default "auto": the objects' own vertices
    written = json.loads(out.read_text())
    assert [a["segmentation"] for a in written["annotations"]] == [
        a["segmentation"] for a in doc["annotations"]
    ]
    # pycocotools decodes the written polygons to exactly our raster of the instances
    h, w = ann.plane_shape
    for a in written["annotations"]:
        rle = mask_utils.merge(mask_utils.frPyObjects(a["segmentation"], h, w))
        ref = mask_utils.decode(rle).astype(bool)
        np.testing.assert_array_equal(ref, np.asarray(ann.instances) == a["instance_id"])
    # RLE only when asked
    coco.write(out, [ann], tax, segmentation="rle")
    assert all(isinstance(a["segmentation"], dict)
               for a in json.loads(out.read_text())["annotations"])  # fmt: skip


def test_coco_object_edited_after_reading_is_traced_not_written_stale(tmp_path):
    f = tmp_path / "instances.json"
    f.write_text(json.dumps(_coco_doc()))
    (ann,), tax = coco.read(f)
    inst = np.array(ann.instances)
    inst[inst == 3] = 0  # object 3 erased from the mask
    inst[0:5, 0:5] = 3  # ... and painted elsewhere
    ann.instances = inst
    out = tmp_path / "out.json"
    coco.write(out, [ann], tax)
    by_id = {a["instance_id"]: a for a in json.loads(out.read_text())["annotations"]}
    assert isinstance(by_id[3]["segmentation"], dict)  # RLE of the new pixels
    assert by_id[1]["segmentation"] == _coco_doc()["annotations"][0]["segmentation"]


def test_labelme_polygons_keep_the_files_vertices_and_write_them_back(tmp_path):
    f = tmp_path / "street_001.json"
    f.write_text(json.dumps(labelme_files._doc()))
    (ann,), tax = labelme.read(f)
    # POLY and PART2 share group 1: one instance of two rings
    assert _rings(ann) == [(1, labelme_files.POLY), (1, labelme_files.PART2)]
    assert ann.polygons[0].attributes == {"occluded": True}
    out = tmp_path / "out"
    labelme.write(out, [ann], tax)
    doc = json.loads((out / "street_001.json").read_text())
    polys = [s for s in doc["shapes"] if s["shape_type"] == "polygon" and s["label"] == "cat"]
    assert [s["points"] for s in polys] == [labelme_files.POLY, labelme_files.PART2]
    assert {s["group_id"] for s in polys} == {1}
    (again,), _ = labelme.read(out / "street_001.json")
    assert _rings(again)[:2] == _rings(ann)  # the circle comes back as a traced polygon
    np.testing.assert_array_equal(np.asarray(again.instances), np.asarray(ann.instances))


def test_cvat_polygons_keep_the_files_vertices_and_write_them_back(tmp_path):
    f = tmp_path / "annotations.xml"
    f.write_text(cvat_files.CVAT_IMAGES)
    (ann,), tax = cvat.read(f)

    def pairs(text: str) -> list[list[float]]:
        return [[float(v) for v in p.split(",")] for p in text.split(";")]

    assert _rings(ann) == [(1, pairs(cvat_files.UNDER)), (2, pairs(cvat_files.POLY))]
    assert [tax[p.class_id].name for p in ann.polygons] == ["road", "person"]
    out = tmp_path / "out.xml"
    cvat.write(out, [ann], tax)
    (again,), _ = cvat.read(out)
    person = [p.ring.xy.tolist() for p in again.polygons if tax[p.class_id].name == "person"]
    assert person == [pairs(cvat_files.POLY)]
    # the road polygon lies under the person (z_order): its visible pixels are not its
    # polygon's raster any more, so it is traced from the mask rather than written stale
    road = [p for p in again.polygons if tax[p.class_id].name == "road"]
    assert road and road[0].ring.xy.tolist() != pairs(cvat_files.UNDER)
    np.testing.assert_array_equal(np.asarray(again.instances) > 0, np.asarray(ann.instances) > 0)


def test_yolo_seg_rows_keep_their_vertices_and_write_them_back(tmp_path):
    src = tmp_path / "src"
    yolo_files._txt(src / "data.yaml", "path: .\ntrain: images/train\nval: images/train\n"
                                       "names:\n  0: person\n  1: bicycle\n")  # fmt: skip
    yolo_files._img(src / "images/train/000000000009.jpg", 40, 30)
    rows = [[0.1, 0.1, 0.6, 0.12, 0.55, 0.8, 0.2, 0.7, 0.05, 0.4],
            [0.7, 0.1, 0.95, 0.2, 0.9, 0.6, 0.75, 0.5]]  # fmt: skip
    yolo_files._txt(src / "labels/train/000000000009.txt",
                    "".join(f"{i} " + " ".join(f"{v:.6f}" for v in r) + "\n"
                            for i, r in enumerate(rows)))  # fmt: skip
    (ann,), tax = yolo.read(src)
    want = [(k, (np.reshape(r, (-1, 2)) * [40, 30]).tolist()) for k, r in enumerate(rows, 1)]
    got = _rings(ann)
    assert [k for k, _ in got] == [1, 2]
    for (_, g), (_, w) in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=0, atol=1e-12)
    out = tmp_path / "out"
    yolo.write(out, [ann], tax, task="segment")
    text = (out / "labels/train/000000000009.txt").read_text().splitlines()
    vals = [np.array([float(v) for v in line.split()[1:]]) for line in text]
    for v, r in zip(vals, rows, strict=True):
        np.testing.assert_allclose(v, r, rtol=0, atol=1e-12)
    (again,), _ = yolo.read(out)
    np.testing.assert_array_equal(np.asarray(again.instances), np.asarray(ann.instances))


def test_label_studio_polygonlabels_keep_their_vertices_in_pixels(tmp_path):
    f = tmp_path / "export.json"
    f.write_text(json.dumps(ls_files._export()))
    anns, tax = labelstudio.read(f)
    ann = anns[0]
    pts = np.array([[2.5, 3.3], [40.1, 5.0], [30.0, 60.7], [5.0, 50.0]])
    (poly,) = ann.polygons
    np.testing.assert_allclose(poly.ring.xy, pts * [ls_files.W / 100, ls_files.H / 100],
                               rtol=0, atol=1e-12)  # fmt: skip
    assert tax[poly.class_id].name == "Person"
    assert poly.attributes == {"region_id": "Pk2"}
    assert ann.objects[poly.instance_id].class_id == poly.class_id


def test_kept_outline_needs_the_rings_raster_to_equal_the_mask():
    sq = np.array([[2.0, 2.0], [8.0, 2.0], [8.0, 8.0], [2.0, 8.0]])
    hole = np.array([[4.0, 4.0], [6.0, 4.0], [6.0, 6.0], [4.0, 6.0]])
    polys = [Polygon(Ring(sq), 1, 1), Polygon(Ring(hole, hole=True), 1, 1)]
    mask = np.zeros((10, 10), bool)
    mask[2:8, 2:8] = True
    mask[4:6, 4:6] = False
    sl = (slice(2, 8), slice(2, 8))
    assert kept_outline(polys, mask[sl], sl, 10, 10) == polys
    assert kept_outline(polys[:1], mask[sl], sl, 10, 10) is None  # the hole is missing
    mask[7, 7] = False
    assert kept_outline(polys, mask[2:8, 2:8], sl, 10, 10) is None
    assert kept_outline([], mask[sl], sl, 10, 10) is None


def test_label_studio_polygon_regions_are_written_back_as_polygons(tmp_path):
    f = tmp_path / "export.json"
    f.write_text(json.dumps(ls_files._export()))
    anns, tax = labelstudio.read(f)
    out = tmp_path / "out.json"
    labelstudio.write(out, anns, tax)
    result = json.loads(out.read_text())[0]["annotations"][0]["result"]
    kinds = {r["id"]: r["type"] for r in result}
    assert kinds["Pk2"] == "polygonlabels" and kinds["Bk3"] == "brushlabels"
    (poly,) = [r for r in result if r["type"] == "polygonlabels"]
    want = [[2.5, 3.3], [40.1, 5.0], [30.0, 60.7], [5.0, 50.0]]
    np.testing.assert_allclose(poly["value"]["points"], want, rtol=0, atol=1e-12)
    again, _ = labelstudio.read(out)
    np.testing.assert_array_equal(np.asarray(again[0].instances), np.asarray(anns[0].instances))
