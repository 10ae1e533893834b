"""A COCO file with masks, boxes and keypoints on the same records (COCO's person_keypoints
files): the masks come from the COCO reader, the keypoints are kept beside them."""

from __future__ import annotations

import json

import numpy as np
from pycocotools import mask as mask_utils

from napari_labelsuite.core import formats


def _person_keypoints(path):
    names = ["nose", "left_eye", "right_eye"]
    doc = {
        "images": [{"id": 7, "file_name": "000000000007.jpg", "width": 40, "height": 30}],
        "categories": [
            {
                "id": 1,
                "name": "person",
                "supercategory": "person",
                "keypoints": names,
                "skeleton": [[1, 2], [1, 3]],
            }
        ],
        "annotations": [
            {
                "id": 101,
                "image_id": 7,
                "category_id": 1,
                "iscrowd": 0,
                "segmentation": [[5.0, 5.0, 20.5, 5.0, 20.5, 25.0, 5.0, 25.0]],
                "area": 309.5,
                "bbox": [5.0, 5.0, 15.5, 20.0],
                "num_keypoints": 2,
                "keypoints": [12, 8, 2, 10, 7, 1, 0, 0, 0],
            }
        ],
    }
    path.write_text(json.dumps(doc))
    return doc


def test_masks_and_keypoints_are_both_read(tmp_path):
    f = tmp_path / "person_keypoints_val2017.json"
    doc = _person_keypoints(f)
    report = formats.ReadReport()
    anns, tax = formats.read(f, report=report)
    assert report.format == "coco"
    (ann,) = anns
    # the mask is pycocotools' own decoding of the polygon
    rles = mask_utils.frPyObjects(doc["annotations"][0]["segmentation"], 30, 40)
    expected = mask_utils.decode(mask_utils.merge(rles)).astype(bool)
    assert np.array_equal(np.asarray(ann.instances) > 0, expected)
    # and the keypoints are there, with the class's skeleton
    (kp,) = ann.keypoints
    assert kp.class_id == tax.by_name("person").id
    assert np.asarray(kp.xyv)[:, 2].tolist() == [2, 1, 0]
    skeleton = tax.by_name("person").skeleton
    assert skeleton is not None and list(skeleton.names) == ["nose", "left_eye", "right_eye"]
    assert any("keypoint" in note for note in report.notes)


def test_keypoints_only_file_still_reads_as_coco_keypoints(tmp_path):
    f = tmp_path / "kp.json"
    doc = _person_keypoints(f)
    for a in doc["annotations"]:
        del a["segmentation"]
    f.write_text(json.dumps(doc))
    report = formats.ReadReport()
    anns, _ = formats.read(f, report=report)
    assert report.format == "coco_keypoints"
    assert len(anns[0].keypoints) == 1
