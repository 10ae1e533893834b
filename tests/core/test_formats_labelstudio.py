"""Label Studio JSON export: rectangles, polygons, brush RLE, keypoints; round trip."""

from __future__ import annotations

import json

import numpy as np
import pytest
from pycocotools import mask as mask_utils

from napari_labelsuite.core.errors import FormatError
from napari_labelsuite.core.formats import labelstudio
from napari_labelsuite.core.formats._common import ReadReport

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:pycocotools")

H, W = 30, 50


def test_brush_rle_hand_checked_small_case():
    # a 1x2 mask [0, 255] -> RGBA values 0,0,0,0,255,255,255,255
    bits = (
        "0" * 28
        + "1000"  # 8 values
        + "00111"  # word size 8
        + "0010"
        + "0011"
        + "0111"
        + "1111"  # run-size classes 3, 4, 8, 16
        + "1"
        + "00"
        + "011"
        + "00000000"  # run of 4 zeros
        + "1"
        + "00"
        + "011"
        + "11111111"  # run of 4 x 255
        + "0000000"  # padding to a whole byte
    )
    expected = [int(bits[i : i + 8], 2) for i in range(0, len(bits), 8)]
    assert labelstudio.mask_to_brush(np.array([[False, True]])) == expected
    assert labelstudio.brush_decode(expected).tolist() == [0, 0, 0, 0, 255, 255, 255, 255]


def test_brush_literals_and_long_runs_decode():
    rng = np.random.default_rng(0)
    values = np.concatenate(
        [rng.integers(0, 256, 37), np.full(70000, 255), [1], np.zeros(300), [2, 3]]
    ).astype(np.uint8)
    np.testing.assert_array_equal(
        labelstudio.brush_decode(labelstudio.brush_encode(values)), values
    )


def test_brush_round_trip_on_masks():
    rng = np.random.default_rng(1)
    for _ in range(10):
        mask = rng.random((17, 23)) > rng.uniform(0.2, 0.9)
        flat = labelstudio.brush_decode(labelstudio.mask_to_brush(mask))
        np.testing.assert_array_equal(flat.reshape(17, 23, 4)[..., 3] > 0, mask)


def test_truncated_brush_rle_is_refused():
    good = labelstudio.mask_to_brush(np.eye(5, dtype=bool))
    with pytest.raises(ValueError, match="ends inside"):
        labelstudio.brush_decode(good[:8])


def _region(kind, value, rid, **kw):
    return {
        "original_width": W,
        "original_height": H,
        "image_rotation": 0,
        "value": value,
        "id": rid,
        "from_name": "label",
        "to_name": "image",
        "type": kind,
        "origin": "manual",
        **kw,
    }


def _export() -> list:
    brush = np.zeros((H, W), bool)
    brush[20:28, 30:45] = True
    brush[22:24, 33:36] = False
    return [
        {
            "id": 7,
            "annotations": [
                {
                    "id": 11,
                    "completed_by": 1,
                    "was_cancelled": False,
                    "ground_truth": False,
                    "result": [
                        _region(
                            "rectanglelabels",
                            {
                                "x": 10.0,
                                "y": 20.0,
                                "width": 30.0,
                                "height": 40.0,
                                "rotation": 0,
                                "rectanglelabels": ["Car"],
                            },
                            "Rk1",
                        ),
                        _region(
                            "polygonlabels",
                            {
                                "points": [[2.5, 3.3], [40.1, 5.0], [30.0, 60.7], [5.0, 50.0]],
                                "closed": True,
                                "polygonlabels": ["Person"],
                            },
                            "Pk2",
                        ),
                        _region(
                            "brushlabels",
                            {
                                "format": "rle",
                                "rle": labelstudio.mask_to_brush(brush),
                                "brushlabels": ["Road"],
                            },
                            "Bk3",
                        ),
                        _region(
                            "keypointlabels",
                            {"x": 50.0, "y": 50.0, "width": 0.5, "keypointlabels": ["Nose"]},
                            "Kk4",
                        ),
                        {
                            "value": {"choices": ["day"]},
                            "id": "C5",
                            "from_name": "time",
                            "to_name": "image",
                            "type": "choices",
                        },
                    ],
                },
                {"id": 12, "was_cancelled": False, "result": []},
            ],
            "predictions": [],
            "data": {"image": "/data/upload/1/7f3e2a1c-street.jpg"},
            "meta": {},
            "file_upload": "7f3e2a1c-street.jpg",
        },
        {"id": 8, "annotations": [{"id": 13, "result": []}], "data": {"image": "/x/empty.jpg"}},
    ]


def test_every_region_type_reads_to_label_studios_geometry(tmp_path):
    f = tmp_path / "project-1-at-2024-05-01.json"
    f.write_text(json.dumps(_export()))
    report = ReadReport()
    (ann,), tax = labelstudio.read(f, report=report)
    assert tax.names() == ["Car", "Person", "Road", "Nose"]
    assert ann.image_name == "7f3e2a1c-street.jpg" and ann.shape == (H, W)
    (box,) = ann.boxes
    assert box.xyxy == (5.0, 6.0, 20.0, 18.0) and box.class_id == tax.by_name("Car").id
    labels = np.asarray(ann.instances)
    poly = [
        2.5 * W / 100,
        3.3 * H / 100,
        40.1 * W / 100,
        5.0 * H / 100,
        30.0 * W / 100,
        60.7 * H / 100,
        5.0 * W / 100,
        50.0 * H / 100,
    ]
    ref = mask_utils.decode(mask_utils.frPyObjects([poly], H, W)[0]).astype(bool)
    np.testing.assert_array_equal(labels == 1, ref)
    brush = np.zeros((H, W), bool)
    brush[20:28, 30:45] = True
    brush[22:24, 33:36] = False
    np.testing.assert_array_equal(labels == 2, brush)
    assert ann.metadata["points"] == [
        {
            "xy": [25.0, 15.0],
            "class_id": tax.by_name("Nose").id,
            "attributes": {"region_id": "Kk4"},
        }
    ]
    assert any("several annotations" in n for n in report.notes)
    assert any("without regions" in n for n in report.notes)
    assert any("choices" in n for n in report.notes)


def test_rotated_rectangle_becomes_a_polygon_instance(tmp_path):
    task = _export()[0]
    task["annotations"][0]["result"] = [
        _region(
            "rectanglelabels",
            {
                "x": 40.0,
                "y": 20.0,
                "width": 20.0,
                "height": 20.0,
                "rotation": 90,
                "rectanglelabels": ["Car"],
            },
            "R",
        )
    ]
    f = tmp_path / "a.json"
    f.write_text(json.dumps([task]))
    (ann,), _ = labelstudio.read(f)
    # 90 degrees clockwise around the top-left corner (20, 6): x in [20-6, 20], y in [6, 16]
    ref = np.zeros((H, W), bool)
    ref[6:16, 14:20] = True
    np.testing.assert_array_equal(np.asarray(ann.instances) == 1, ref)
    assert ann.boxes == []


def test_bad_region_names_task_region_and_field(tmp_path):
    doc = _export()
    doc[0]["annotations"][0]["result"][0]["value"]["width"] = "wide"
    f = tmp_path / "a.json"
    f.write_text(json.dumps(doc))
    with pytest.raises(FormatError) as info:
        labelstudio.read(f)
    assert (info.value.where, info.value.field) == ("tasks[0].result[0]", "value.width")


def test_round_trip_through_our_export(tmp_path):
    f = tmp_path / "in.json"
    f.write_text(json.dumps(_export()))
    (ann,), tax = labelstudio.read(f)
    out = tmp_path / "out.json"
    labelstudio.write(out, [ann], tax)
    (again,), tax2 = labelstudio.read(out)
    # brush regions come first in our export, so classes appear in another order
    assert sorted(tax2.names()) == sorted(tax.names())
    names = {k: tax[o.class_id].name for k, o in ann.objects.items()}
    names2 = {k: tax2[o.class_id].name for k, o in again.objects.items()}
    assert names2 == names
    np.testing.assert_array_equal(np.asarray(again.instances), np.asarray(ann.instances))
    assert [b.xyxy for b in again.boxes] == [b.xyxy for b in ann.boxes]
    assert [p["xy"] for p in again.metadata["points"]] == [p["xy"] for p in ann.metadata["points"]]


def test_json_min_export(tmp_path):
    """JSON-MIN: one flat record per task, regions under the control tag's name."""
    from napari_labelsuite.core import formats

    doc = [
        {
            "image": "/data/upload/1/7f3e2a1c-street.jpg",
            "id": 7,
            "bbox": [
                {
                    "x": 10.0,
                    "y": 20.0,
                    "width": 30.0,
                    "height": 40.0,
                    "rotation": 0,
                    "rectanglelabels": ["Car"],
                    "original_width": W,
                    "original_height": H,
                }
            ],
            "outline": [
                {
                    "points": [[2.5, 3.3], [40.1, 5.0], [30.0, 60.7]],
                    "closed": True,
                    "polygonlabels": ["Person"],
                    "original_width": W,
                    "original_height": H,
                }
            ],
            "annotator": 1,
            "annotation_id": 11,
            "created_at": "2024-05-01T10:00:00.000000Z",
            "lead_time": 12.5,
        }
    ]
    f = tmp_path / "project-1-min.json"
    f.write_text(json.dumps(doc))
    report = ReadReport()
    (ann,), tax = formats.read(f, report=report)
    assert report.format == "labelstudio" and any("JSON-MIN" in n for n in report.notes)
    assert ann.image_name == "7f3e2a1c-street.jpg" and tax.names() == ["Car", "Person"]
    assert [b.xyxy for b in ann.boxes] == [(5.0, 6.0, 20.0, 18.0)]
    poly = [
        2.5 * W / 100,
        3.3 * H / 100,
        40.1 * W / 100,
        5.0 * H / 100,
        30.0 * W / 100,
        60.7 * H / 100,
    ]
    ref = mask_utils.decode(mask_utils.frPyObjects([poly], H, W)[0]).astype(bool)
    np.testing.assert_array_equal(np.asarray(ann.instances) == 1, ref)
