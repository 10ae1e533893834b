"""COCO panoptic (PNG segments + JSON) and COCO results lists (predictions with scores)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO

from napari_labelsuite.core.errors import FormatError
from napari_labelsuite.core.formats import coco_panoptic, coco_results

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:pycocotools")


# -- panoptic -------------------------------------------------------------------------------
def _panoptic(tmp_path):
    h, w = 12, 16
    ids = np.zeros((h, w), np.int64)
    ids[:6, :] = 2200139  # sky (stuff): a large id using all three channels
    ids[6:, :] = 3  # road (stuff)
    ids[2:5, 2:6] = 70000  # person 1
    ids[7:11, 8:14] = 70001  # person 2
    ids[0, 15] = 0  # void
    rgb = np.stack([ids % 256, ids // 256 % 256, ids // 65536], -1).astype(np.uint8)
    folder = tmp_path / "panoptic_val2017"
    folder.mkdir()
    Image.fromarray(rgb).save(folder / "000000000139.png")
    doc = {
        "info": {},
        "licenses": [],
        "images": [{"id": 139, "file_name": "000000000139.jpg", "height": h, "width": w}],
        "annotations": [
            {
                "image_id": 139,
                "file_name": "000000000139.png",
                "segments_info": [
                    {
                        "id": 2200139,
                        "category_id": 187,
                        "iscrowd": 0,
                        "bbox": [0, 0, 16, 6],
                        "area": 1,
                    },
                    {"id": 3, "category_id": 149, "iscrowd": 0, "bbox": [0, 6, 16, 6], "area": 1},
                    {
                        "id": 70000,
                        "category_id": 1,
                        "iscrowd": 0,
                        "bbox": [2, 2, 4, 3],
                        "area": 12,
                    },
                    {
                        "id": 70001,
                        "category_id": 1,
                        "iscrowd": 1,
                        "bbox": [8, 7, 6, 4],
                        "area": 24,
                    },
                ],
            }
        ],
        "categories": [
            {
                "supercategory": "person",
                "isthing": 1,
                "id": 1,
                "name": "person",
                "color": [220, 20, 60],
            },
            {
                "supercategory": "road",
                "isthing": 0,
                "id": 149,
                "name": "road",
                "color": [128, 64, 128],
            },
            {
                "supercategory": "sky",
                "isthing": 0,
                "id": 187,
                "name": "sky-other-merged",
                "color": [70, 130, 180],
            },
        ],
    }
    f = tmp_path / "panoptic_val2017.json"
    f.write_text(json.dumps(doc))
    return f, ids


def test_panoptic_reads_semantic_and_thing_instances(tmp_path):
    f, ids = _panoptic(tmp_path)
    (ann,), tax = coco_panoptic.read(f)
    assert ann.image_name == "000000000139.jpg"
    sem = np.asarray(ann.semantic)
    expected = np.select([ids == 2200139, ids == 3, ids >= 70000], [187, 149, 1], 0)
    np.testing.assert_array_equal(sem, expected)
    ins = np.asarray(ann.instances)
    np.testing.assert_array_equal(ins, np.select([ids == 70000, ids == 70001], [1, 2], 0))
    assert ann.objects[2].attributes == {"segment_id": 70001, "iscrowd": True}
    assert tax.by_name("person").id == 1


def test_panoptic_round_trip(tmp_path):
    f, _ = _panoptic(tmp_path)
    (ann,), tax = coco_panoptic.read(f)
    out = tmp_path / "out" / "panoptic_export.json"
    files = coco_panoptic.write(out, [ann], tax)
    assert {x.name for x in files} == {"panoptic_export.json", "000000000139.png"}
    (again,), _ = coco_panoptic.read(out)
    np.testing.assert_array_equal(np.asarray(again.semantic), np.asarray(ann.semantic))
    np.testing.assert_array_equal(np.asarray(again.instances), np.asarray(ann.instances))


def test_panoptic_png_with_unlisted_segment_is_refused(tmp_path):
    f, _ = _panoptic(tmp_path)
    doc = json.loads(f.read_text())
    del doc["annotations"][0]["segments_info"][1]
    f.write_text(json.dumps(doc))
    with pytest.raises(FormatError, match="missing from segments_info"):
        coco_panoptic.read(f)


# -- results --------------------------------------------------------------------------------
def _gt(tmp_path):
    gt = {
        "images": [{"id": 42, "file_name": "a.jpg", "height": 20, "width": 30}],
        "annotations": [
            {
                "id": 1,
                "image_id": 42,
                "category_id": 0,
                "bbox": [1, 1, 5, 5],
                "area": 25,
                "iscrowd": 0,
                "segmentation": [[1, 1, 6, 1, 6, 6, 1, 6]],
            }
        ],
        "categories": [{"id": 0, "name": "cell"}, {"id": 1, "name": "debris"}],
    }
    f = tmp_path / "gt.json"
    f.write_text(json.dumps(gt))
    return f


def test_results_read_as_scored_predictions(tmp_path):
    gt = _gt(tmp_path)
    m1 = np.zeros((20, 30), np.uint8)
    m1[2:8, 3:9] = 1
    m2 = np.zeros((20, 30), np.uint8)
    m2[5:10, 5:12] = 1
    enc = [mask_utils.encode(np.asfortranarray(m)) for m in (m1, m2)]
    res = [
        {
            "image_id": 42,
            "category_id": 0,
            "score": 0.91,
            "bbox": [3, 2, 6, 6],
            "segmentation": {"size": [20, 30], "counts": enc[0]["counts"].decode()},
        },
        {
            "image_id": 42,
            "category_id": 0,
            "score": 0.45,
            "bbox": [5, 5, 7, 5],
            "segmentation": {"size": [20, 30], "counts": enc[1]["counts"].decode()},
        },
        {"image_id": 42, "category_id": 1, "score": 0.3, "bbox": [20.5, 3.25, 4, 6]},
    ]
    f = tmp_path / "detections_val2017_results.json"
    f.write_text(json.dumps(res))
    (ann,), tax = coco_results.read(f, images=gt)
    assert ann.image_name == "a.jpg" and ann.metadata["predictions"] is True
    assert tax.names() == ["cell", "debris"]
    ins = np.asarray(ann.instances)
    # the confident detection wins the overlap
    by_score = {o.attributes["score"]: k for k, o in ann.objects.items()}
    np.testing.assert_array_equal(ins == by_score[0.91], m1.astype(bool))
    np.testing.assert_array_equal(ins == by_score[0.45], m2.astype(bool) & ~m1.astype(bool))
    (box,) = ann.boxes
    assert box.xyxy == (20.5, 3.25, 24.5, 9.25) and box.attributes == {"score": 0.3}
    assert box.class_id == tax.by_name("debris").id


def test_box_only_results_need_the_ground_truth(tmp_path):
    f = tmp_path / "r.json"
    f.write_text(
        json.dumps([{"image_id": 1, "category_id": 1, "score": 0.5, "bbox": [0, 0, 1, 1]}])
    )
    with pytest.raises(FormatError, match="images="):
        coco_results.read(f)


def test_written_results_load_in_pycocotools(tmp_path):
    gt = _gt(tmp_path)
    m1 = np.zeros((20, 30), np.uint8)
    m1[2:8, 3:9] = 1
    enc = mask_utils.encode(np.asfortranarray(m1))
    f = tmp_path / "r.json"
    f.write_text(
        json.dumps(
            [
                {
                    "image_id": 42,
                    "category_id": 0,
                    "score": 0.8,
                    "bbox": [3, 2, 6, 6],
                    "segmentation": {"size": [20, 30], "counts": enc["counts"].decode()},
                }
            ]
        )
    )
    anns, tax = coco_results.read(f, images=gt)
    out = tmp_path / "back.json"
    coco_results.write(out, anns, tax)
    api = COCO(str(gt))
    back = json.loads(out.read_text())
    for r in back:
        r["category_id"] -= 1  # our ids are the file's + 1 (the file numbers from 0)
    res = api.loadRes(back)
    (rec,) = res.anns.values()
    np.testing.assert_array_equal(res.annToMask(rec), m1)
    assert rec["score"] == 0.8


def test_results_compare_in_qc_like_cocoeval(tmp_path):
    """Predictions read from a results list give the AP pycocotools' COCOeval gives."""
    import contextlib
    import io

    from pycocotools.cocoeval import COCOeval

    from napari_labelsuite.core import formats
    from napari_labelsuite.core.qc.matching import average_precision

    gt_doc = {
        "images": [{"id": 7, "file_name": "a.jpg", "height": 60, "width": 80}],
        "annotations": [
            {
                "id": i + 1,
                "image_id": 7,
                "category_id": 1,
                "bbox": b,
                "area": b[2] * b[3],
                "iscrowd": 0,
            }
            for i, b in enumerate([[2, 3, 20, 15], [40, 10, 25, 30], [10, 35, 18, 20]])
        ],
        "categories": [{"id": 1, "name": "cell"}],
    }
    gt_path = tmp_path / "gt.json"
    gt_path.write_text(json.dumps(gt_doc))
    res = [
        {"image_id": 7, "category_id": 1, "bbox": [3, 3, 19, 15], "score": 0.9},
        {"image_id": 7, "category_id": 1, "bbox": [41, 12, 20, 28], "score": 0.8},
        {"image_id": 7, "category_id": 1, "bbox": [60, 45, 10, 10], "score": 0.7},
        {"image_id": 7, "category_id": 1, "bbox": [12, 38, 18, 15], "score": 0.3},
    ]
    res_path = tmp_path / "res.json"
    res_path.write_text(json.dumps(res))
    (pred,), _ = formats.read(res_path, "coco_results", images=gt_path)
    (gt,), _ = formats.read(gt_path)
    ours = average_precision(
        gt.boxes, pred.boxes, scores=[b.attributes["score"] for b in pred.boxes]
    )
    with contextlib.redirect_stdout(io.StringIO()):
        api = COCO(str(gt_path))
        ev = COCOeval(api, api.loadRes(str(res_path)), "bbox")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    assert ours["ap"] == pytest.approx(ev.stats[0], abs=1e-9)
