"""The agree command compares the polygons of two labelme folders by polygon IoU."""

from __future__ import annotations

import json

import numpy as np
import pytest

from napari_labelsuite.cli import main

shapely = pytest.importorskip("shapely")

SQUARE = [[10.0, 10.0], [40.0, 10.0], [40.0, 40.0], [10.0, 40.0]]
TRIANGLE = [[60.0, 10.0], [80.0, 10.0], [70.0, 30.0]]


def _labelme(shapes: list[tuple[str, list[list[float]]]]) -> dict:
    return {
        "version": "5.4.1",
        "flags": {},
        "shapes": [
            {"label": label, "points": pts, "group_id": None, "shape_type": "polygon",
             "flags": {}, "description": ""}
            for label, pts in shapes
        ],
        "imagePath": "img1.png",
        "imageData": None,
        "imageHeight": 50,
        "imageWidth": 90,
    }  # fmt: skip


def test_agree_on_labelme_folders_matches_polygons(tmp_path, capsys) -> None:
    shifted = (np.array(SQUARE) + [8.0, 0.0]).tolist()  # IoU 22 * 30 / (1800 - 660) = 0.579
    a, b = shapely.Polygon(SQUARE), shapely.Polygon(shifted)
    assert 0.5 < a.intersection(b).area / a.union(b).area < 0.6
    for name, shapes in (
        ("ana", [("field", SQUARE), ("field", TRIANGLE)]),
        ("bob", [("field", shifted)]),
    ):
        (tmp_path / name).mkdir()
        (tmp_path / name / "img1.json").write_text(json.dumps(_labelme(shapes)))
    assert main(["agree", str(tmp_path / "ana"), str(tmp_path / "bob"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    (row,) = out["images"]
    # one of two outlines matched: F1 = 2 * 1 / (2 * 1 + 1 + 0)
    assert row["polygon_f1@0.5"] == pytest.approx(2 / 3)


def test_agree_polygon_iou_option_chooses_raster_or_exact_areas(tmp_path, capsys) -> None:
    # exact IoU 19.8 * 30 / (1800 - 594) = 0.4925; the pixel rule sees 20 of 40 columns: 0.5
    moved = (np.array(SQUARE) + [10.2, 0.0]).tolist()
    for name, shapes in (("ana", [("field", SQUARE)]), ("bob", [("field", moved)])):
        (tmp_path / name).mkdir()
        (tmp_path / name / "img1.json").write_text(json.dumps(_labelme(shapes)))
    f1 = {}
    for method in ("raster", "shapely"):
        args = ["agree", str(tmp_path / "ana"), str(tmp_path / "bob"), "--json"]
        assert main([*args, "--polygon-iou", method]) == 0
        f1[method] = json.loads(capsys.readouterr().out)["images"][0]["polygon_f1@0.5"]
    assert f1 == {"raster": 1.0, "shapely": 0.0}
