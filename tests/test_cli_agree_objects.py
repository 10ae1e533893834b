"""The agree command compares rotated boxes (DOTA folders) by rotated IoU."""

from __future__ import annotations

import json

import imageio.v3 as iio
import numpy as np
from shapely.geometry import Polygon

from napari_labelsuite.cli import main
from napari_labelsuite.core.annotation import ImageAnnotation
from napari_labelsuite.core.formats import dota
from napari_labelsuite.core.objects import RotatedBox
from napari_labelsuite.core.taxonomy import Taxonomy


def test_agree_on_dota_folders_matches_rotated_boxes(tmp_path, capsys) -> None:
    tax = Taxonomy.from_dict({"classes": [{"id": 1, "name": "ship"}]})
    box = RotatedBox(20, 20, 16, 6, 30, class_id=1)
    turned = RotatedBox(20, 20, 16, 6, 45, class_id=1)  # rotated IoU ~0.5-0.6
    pa, pb = Polygon(box.corners()), Polygon(turned.corners())
    iou = pa.intersection(pb).area / pa.union(pb).area
    assert 0.5 < iou < 0.75  # an axis-aligned IoU of these boxes would differ
    extra = RotatedBox(40, 40, 4, 4, 0, class_id=1)
    for name, boxes in (("a", [box]), ("b", [turned, extra])):
        dota.write(tmp_path / name, [ImageAnnotation("img1.png", (50, 50), rotated=boxes)], tax)
        (tmp_path / name / "images").mkdir()
        iio.imwrite(tmp_path / name / "images" / "img1.png", np.zeros((50, 50), np.uint8))
    assert main(["agree", str(tmp_path / "a"), str(tmp_path / "b"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    (row,) = out["images"]
    assert row["image"] == "img1"
    assert row["rotated_f1@0.5"] == 2 / 3
