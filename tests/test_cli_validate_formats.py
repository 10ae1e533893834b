"""``validate`` names the format it took a path for and what it read; never "ok" on nothing."""

from __future__ import annotations

import json

import numpy as np
from PIL import Image

from napari_labelsuite.cli import main


def _labelme(path, shapes):
    path.write_text(
        json.dumps(
            {
                "version": "5.4.1",
                "flags": {},
                "shapes": shapes,
                "imagePath": "a.jpg",
                "imageData": None,
                "imageHeight": 20,
                "imageWidth": 30,
            }
        )
    )


def test_validate_names_format_and_counts(tmp_path, capsys):
    _labelme(
        tmp_path / "a.json",
        [
            {
                "label": "cat",
                "points": [[1, 1], [10, 1], [10, 9]],
                "group_id": None,
                "shape_type": "polygon",
                "flags": {},
            },
            {
                "label": "dog",
                "points": [[12, 2], [20, 8]],
                "group_id": None,
                "shape_type": "rectangle",
                "flags": {},
            },
        ],
    )
    assert main(["validate", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "read as labelme: 1 images, 1 instances, 1 boxes; 2 classes" in out


def test_validate_names_the_yolo_layout(tmp_path, capsys):
    (tmp_path / "data.yaml").write_text(
        "train: ../train/images\nval: ../valid/images\nnc: 1\nnames: ['car']\n"
        "roboflow:\n  workspace: w\n  project: p\n  version: 1\n"
    )
    (tmp_path / "train/images").mkdir(parents=True)
    (tmp_path / "train/labels").mkdir(parents=True)
    Image.fromarray(np.zeros((10, 10, 3), np.uint8)).save(tmp_path / "train/images/x.jpg")
    (tmp_path / "train/labels/x.txt").write_text("0 0.5 0.5 0.2 0.2\n")
    assert main(["validate", str(tmp_path)]) == 0
    assert "read as yolo (roboflow): 1 images, 0 instances, 1 boxes" in capsys.readouterr().out


def test_validate_fails_on_zero_objects(tmp_path, capsys):
    doc = {
        "images": [{"id": 1, "file_name": "a.jpg", "width": 4, "height": 4}],
        "annotations": [],
        "categories": [{"id": 1, "name": "a"}],
    }
    (tmp_path / "coco.json").write_text(json.dumps(doc))
    assert main(["validate", str(tmp_path / "coco.json")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("INVALID") and "read 0 objects as coco" in err


def test_validate_fails_on_a_layout_it_does_not_understand(tmp_path, capsys):
    (tmp_path / "data.yaml").write_text("train: ../train/images\nnames: ['car']\n")
    (tmp_path / "train/images").mkdir(parents=True)
    Image.fromarray(np.zeros((10, 10, 3), np.uint8)).save(tmp_path / "train/images/x.jpg")
    assert main(["validate", str(tmp_path)]) == 1
    assert "has a label file" in capsys.readouterr().err


def test_validate_cvat_xml_by_its_root(tmp_path, capsys):
    (tmp_path / "task.xml").write_text(
        '<annotations><version>1.1</version><image id="0" name="a.png" width="8" height="6">'
        '<box label="car" occluded="0" xtl="1" ytl="1" xbr="4" ybr="5" z_order="0"/></image>'
        "</annotations>"
    )
    assert main(["validate", str(tmp_path / "task.xml")]) == 0
    assert "read as cvat: 1 images, 0 instances, 1 boxes" in capsys.readouterr().out


def test_validate_takes_every_format_by_name(tmp_path, capsys):
    """``--kind`` offers the formats added after the first ones (here DOTA)."""
    (tmp_path / "labelTxt").mkdir()
    (tmp_path / "images").mkdir()
    Image.fromarray(np.zeros((30, 40), np.uint8)).save(tmp_path / "images" / "P0001.png")
    (tmp_path / "labelTxt" / "P0001.txt").write_text(
        "imagesource:GoogleEarth\ngsd:0.146\n10 5 20 5 20 10 10 10 plane 0\n"
    )
    assert main(["validate", str(tmp_path), "--kind", "dota"]) == 0
    assert "dota" in capsys.readouterr().out
