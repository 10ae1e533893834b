"""Polygon -> mask follows pycocotools' rule pixel for pixel (COCO, labelme, YOLO, ...)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO

from napari_labelsuite.core.formats import coco, rle
from napari_labelsuite.core.formats._common import polygons_to_mask

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:pycocotools")


def _ref(polys: list[list[float]], h: int, w: int) -> np.ndarray:
    return mask_utils.decode(mask_utils.merge(mask_utils.frPyObjects(polys, h, w))).astype(bool)


def _ours(polys: list[list[float]], h: int, w: int) -> np.ndarray:
    out = np.zeros((h, w), bool)
    res = polygons_to_mask(polys, h, w)
    if res is not None:
        crop, sl = res
        out[sl] = crop
    return out


def _blob(rng: np.random.Generator, cx: float, cy: float, r: float, k: int) -> list[float]:
    """A star-shaped outline with ``k`` float vertices, like COCO's hand-drawn polygons."""
    a = np.sort(rng.uniform(0, 2 * np.pi, k))
    rad = r * rng.uniform(0.6, 1.0, k)
    xy = np.c_[cx + rad * np.cos(a), cy + rad * np.sin(a)]
    return [round(float(v), 2) for v in xy.ravel()]


@pytest.mark.parametrize("seed", range(6))
def test_many_vertex_float_polygons_equal_pycocotools(seed):
    rng = np.random.default_rng(seed)
    h, w = 97, 131
    for _ in range(40):
        poly = _blob(rng, *rng.uniform(0, [w, h]), rng.uniform(2, 40), int(rng.integers(3, 120)))
        np.testing.assert_array_equal(_ours([poly], h, w), _ref([poly], h, w))


def test_polygons_touching_and_crossing_the_border_equal_pycocotools():
    h, w = 20, 30
    cases = [
        [0, 0, 30, 0, 30, 20, 0, 20],  # the whole image, edges on the border
        [-3.2, -1.7, 12.4, -0.4, 6.1, 9.9],  # starts outside the top-left corner
        [25.5, 5.25, 33.0, 7.0, 31.7, 24.8, 22.1, 19.95],  # leaves right and bottom
        [0.0, 0.0, 0.4, 0.0, 0.4, 0.4],  # smaller than a pixel
        [29.6, 19.6, 30.0, 19.6, 30.0, 20.0],  # sub-pixel in the last pixel
        [5, 5, 5, 5, 5, 5],  # degenerate: all vertices equal
        [-0.2, 3, 4, 3, 4, 8, -0.2, 8],  # x slightly negative (C truncation toward zero)
    ]
    for poly in cases:
        np.testing.assert_array_equal(_ours([poly], h, w), _ref([poly], h, w), err_msg=str(poly))


def test_several_polygons_per_object_are_a_union():
    rng = np.random.default_rng(3)
    h, w = 64, 64
    polys = [_blob(rng, 20, 20, 15, 30), _blob(rng, 28, 24, 12, 25), _blob(rng, 50, 50, 8, 9)]
    np.testing.assert_array_equal(_ours(polys, h, w), _ref(polys, h, w))


def test_self_intersecting_polygon_uses_even_odd_like_pycocotools():
    bowtie = [2, 2, 18, 18, 18, 2, 2, 18]
    star = [10, 0, 13, 19, 0, 7, 20, 7, 7, 19]
    for poly in (bowtie, star):
        np.testing.assert_array_equal(_ours([poly], 20, 21), _ref([poly], 20, 21))


def test_runs_hand_checked_square():
    # the 2x3 pixel block rows 1-3, columns 1-2 (pycocotools' own doc example)
    owner, col, r0, r1 = rle.polygon_runs([[1, 1, 3, 1, 3, 4, 1, 4]], 6, 5)
    assert owner.tolist() == [0, 0]
    assert col.tolist() == [1, 2]
    assert r0.tolist() == [1, 1] and r1.tolist() == [4, 4]


def test_coco_reader_equals_annToMask_on_coco2017_shaped_records(tmp_path):
    """Records shaped like instances_val2017.json: float polygons, several parts, crowd RLE."""
    rng = np.random.default_rng(7)
    h, w = 120, 160
    anns = []
    for i in range(12):
        parts = [_blob(rng, *rng.uniform(-10, [w + 10, h + 10]), rng.uniform(3, 35), 60)]
        if i % 3 == 0:
            parts.append(_blob(rng, *rng.uniform(0, [w, h]), rng.uniform(3, 10), 14))
        xs = np.concatenate([np.asarray(p[0::2]) for p in parts])
        ys = np.concatenate([np.asarray(p[1::2]) for p in parts])
        x0, y0 = max(xs.min(), 0), max(ys.min(), 0)
        bbox = [x0, y0, min(xs.max(), w) - x0, min(ys.max(), h) - y0]
        anns.append(
            {
                "id": 100 + i,
                "image_id": 397133,
                "category_id": 1 + i % 2,
                "iscrowd": 0,
                "segmentation": parts,
                "area": 1.0,
                "bbox": [round(v, 2) for v in bbox],
            }
        )
    crowd = np.zeros((h, w), np.uint8)
    crowd[90:110, 10:60] = 1
    enc = mask_utils.encode(np.asfortranarray(crowd))
    anns.append(
        {
            "id": 999,
            "image_id": 397133,
            "category_id": 1,
            "iscrowd": 1,
            "area": 1000.0,
            "bbox": [10.0, 90.0, 50.0, 20.0],
            "segmentation": {"size": [h, w], "counts": enc["counts"].decode()},
        }
    )
    doc = {
        "info": {"year": 2017},
        "licenses": [],
        "images": [
            {
                "id": 397133,
                "file_name": "000000397133.jpg",
                "height": h,
                "width": w,
                "license": 4,
                "coco_url": "",
                "date_captured": "2013-11-14 17:02:52",
            }
        ],
        "annotations": anns,
        "categories": [
            {"supercategory": "person", "id": 1, "name": "person"},
            {"supercategory": "vehicle", "id": 2, "name": "bicycle"},
        ],
    }
    f = tmp_path / "instances_val2017.json"
    f.write_text(json.dumps(doc))
    (ann,), _tax = coco.read(f)
    api = COCO(str(f))
    expected = np.zeros((h, w), np.int64)
    for k, rec in enumerate(doc["annotations"], start=1):
        expected[api.annToMask(rec).astype(bool)] = k
    np.testing.assert_array_equal(np.asarray(ann.instances), expected)


def test_overlapping_polygon_objects_later_wins_like_painting_annToMask(tmp_path):
    """Only polygons (no RLE): the whole image is painted in one pass, in file order."""
    rng = np.random.default_rng(11)
    h, w = 50, 70
    anns = [
        {
            "id": i + 1,
            "image_id": 1,
            "category_id": 1,
            "iscrowd": 0,
            "area": 1.0,
            "bbox": [0, 0, 1, 1],
            "segmentation": [_blob(rng, 35 + 4 * (i % 3), 25, 20, 40)],
        }
        for i in range(9)
    ]
    doc = {
        "images": [{"id": 1, "file_name": "a.jpg", "height": h, "width": w}],
        "annotations": anns,
        "categories": [{"id": 1, "name": "thing"}],
    }
    f = tmp_path / "a.json"
    f.write_text(json.dumps(doc))
    (ann,), _ = coco.read(f)
    api = COCO(str(f))
    expected = np.zeros((h, w), np.int64)
    for k, rec in enumerate(doc["annotations"], start=1):
        expected[api.annToMask(rec).astype(bool)] = k
    np.testing.assert_array_equal(np.asarray(ann.instances), expected)
