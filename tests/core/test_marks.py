"""Points and polylines: napari form, labelme groups, and exports that cannot hold them."""

from __future__ import annotations

import json

import numpy as np
import pytest

from napari_labelsuite.core import formats
from napari_labelsuite.core.annotation import ImageAnnotation
from napari_labelsuite.core.errors import AnnotationError, FormatError
from napari_labelsuite.core.formats import labelme
from napari_labelsuite.core.marks import (
    count_marks,
    points_from_napari,
    points_to_napari,
    polylines_from_napari,
    polylines_to_napari,
)
from napari_labelsuite.core.taxonomy import Taxonomy


def _tax() -> Taxonomy:
    return Taxonomy.from_dict({"classes": [{"id": 1, "name": "cat"}, {"id": 2, "name": "tail"}]})


POINTS = [
    {"xy": [10.5, 4.5], "class_id": 1, "attributes": {"visible": True}},
    {"xy": [0.25, 7.75], "class_id": 2, "instance_id": 3, "attributes": {}},
]
LINES = [
    {"xy": [[1.0, 2.0], [5.5, 2.0], [5.5, 9.25]], "class_id": 2, "kind": "line", "attributes": {}},
    {"xy": [[3.0, 3.0], [4.0, 8.0]], "class_id": 1, "attributes": {"note": "x"}},
]


def test_points_become_napari_row_col_centred_on_pixels_and_come_back():
    data, frame = points_to_napari(POINTS, 2, _tax())
    # pixel-edge x=10.5 is the centre of column 10: napari (row, col) = (y - .5, x - .5)
    np.testing.assert_array_equal(data, [[4.0, 10.0], [7.25, -0.25]])
    assert frame["class"].tolist() == ["cat", "tail"]
    assert frame["class_id"].tolist() == [1, 2]
    assert frame["instance_id"].tolist() == [0, 3]
    back = points_from_napari(data, frame)
    assert back == [
        {"xy": [10.5, 4.5], "class_id": 1, "attributes": {"visible": True}},
        {"xy": [0.25, 7.75], "class_id": 2, "instance_id": 3, "attributes": {}},
    ]


def test_points_on_a_plane_of_a_stack_keep_their_plane():
    pts = [{"xy": [2.5, 3.5], "class_id": 1, "plane": [4], "attributes": {}}]
    data, frame = points_to_napari(pts, 3)
    np.testing.assert_array_equal(data, [[4.0, 3.0, 2.0]])
    assert points_from_napari(data, frame)[0]["plane"] == [4]
    with pytest.raises(AnnotationError, match="plane"):
        points_to_napari(pts, 2)


def test_polylines_become_paths_and_keep_their_kind():
    data, frame = polylines_to_napari(LINES, 2, _tax())
    np.testing.assert_array_equal(data[0], [[1.5, 0.5], [1.5, 5.0], [8.75, 5.0]])
    assert frame["kind"].tolist() == ["line", "linestrip"]
    back = polylines_from_napari(data, frame)
    assert back[0] == {"xy": LINES[0]["xy"], "class_id": 2, "attributes": {}, "kind": "line"}
    assert back[1] == {
        "xy": LINES[1]["xy"],
        "class_id": 1,
        "attributes": {"note": "x"},
        "kind": "linestrip",
    }


def test_a_polyline_across_planes_and_a_bad_point_are_refused():
    with pytest.raises(AnnotationError, match="one plane") as exc:
        polylines_from_napari([np.array([[0, 1, 1], [2, 3, 3]])], None)
    assert exc.value.where == "polylines[0]"
    with pytest.raises(AnnotationError, match="finite") as exc:
        points_to_napari([{"xy": [1.0, float("nan")], "class_id": 1}])
    assert exc.value.field == "xy"


def _labelme_doc() -> dict:
    def shape(label, pts, kind, gid=None):
        return {"label": label, "points": pts, "group_id": gid, "shape_type": kind, "flags": {}}

    return {
        "version": "5.4.1",
        "flags": {},
        "shapes": [
            shape("cat", [[2, 2], [12, 2], [12, 10], [2, 10]], "polygon", 7),
            shape("cat", [[5.5, 5.5]], "point", 7),
            shape("tail", [[12, 6], [18, 6], [19, 12]], "linestrip", 7),
            shape("tail", [[1, 18], [8, 18]], "line"),
        ],
        "imagePath": "img.png",
        "imageData": None,
        "imageHeight": 20,
        "imageWidth": 24,
    }


def test_labelme_points_and_lines_of_a_group_belong_to_its_instance(tmp_path):
    f = tmp_path / "img.json"
    f.write_text(json.dumps(_labelme_doc()))
    (ann,), tax = labelme.read(f)
    (iid,) = ann.objects
    assert ann.metadata["points"] == [
        {"xy": [5.5, 5.5], "class_id": 1, "attributes": {}, "instance_id": iid}
    ]
    lines = ann.metadata["polylines"]
    assert [ln.get("instance_id") for ln in lines] == [iid, None]
    assert [ln["kind"] for ln in lines] == ["linestrip", "line"]
    # written back with the instance's group id, read again: the same links
    out = tmp_path / "out"
    labelme.write(out, [ann], tax)
    doc = json.loads((out / "img.json").read_text())
    kinds = {s["shape_type"]: s["group_id"] for s in doc["shapes"]}
    assert kinds["point"] == kinds["polygon"] == kinds["linestrip"] == iid
    assert kinds["line"] is None
    (again,), _ = labelme.read(out / "img.json")
    assert again.metadata["points"] == ann.metadata["points"]
    assert again.metadata["polylines"] == lines


def test_a_file_of_only_lines_is_read_and_counted(tmp_path):
    doc = _labelme_doc()
    doc["shapes"] = doc["shapes"][3:]
    f = tmp_path / "img.json"
    f.write_text(json.dumps(doc))
    report = formats.ReadReport()
    anns, _ = formats.read(f, report=report)
    assert (report.polylines, report.points, report.objects) == (1, 0, 1)
    assert report.summary() == "labelme: 1 images, 0 instances, 0 boxes, 1 polylines"
    assert count_marks(anns) == {"points": 0, "polylines": 1}


def _ann() -> ImageAnnotation:
    inst = np.zeros((20, 24), np.int32)
    inst[2:10, 2:12] = 1
    from napari_labelsuite.core.annotation import ObjectInfo

    return ImageAnnotation(
        "img.png",
        (20, 24),
        instances=inst,
        objects={1: ObjectInfo(1)},
        metadata={"points": [dict(p) for p in POINTS], "polylines": [dict(x) for x in LINES]},
    )


@pytest.mark.parametrize(
    ("fmt", "name", "lost"),
    [
        ("coco", "a.json", {"points": 2, "polylines": 2}),
        ("yolo", "y", {"points": 2, "polylines": 2}),
        ("voc", "v", {"points": 2, "polylines": 2}),
        ("masks", "m", {"points": 2, "polylines": 2}),
        ("labelstudio", "ls.json", {"polylines": 2}),
        ("labelme", "lm", {}),
        ("cvat", "c.xml", {}),
    ],
)
def test_export_report_counts_what_the_format_cannot_hold(tmp_path, fmt, name, lost):
    report = formats.WriteReport()
    files = formats.write(tmp_path / name, [_ann()], _tax(), fmt=fmt, report=report)
    assert report.format == fmt and report.files == len(files) > 0
    assert report.not_written == lost
    assert formats.not_written(fmt, [_ann()]) == lost


def test_export_report_summary_names_the_counts():
    rep = formats.WriteReport("coco", 1, {"points": 2, "polylines": 1})
    assert rep.summary() == (
        "coco: 1 file(s) written; 2 points and 1 polyline not written (coco cannot hold them)"
    )
    assert formats.WriteReport("cvat", 1, {}).summary() == "cvat: 1 file(s) written"
    with pytest.raises(FormatError, match="unknown format"):
        formats.not_written("tiff-stack", [])


def test_cvat_and_labelstudio_keep_the_points_they_carry(tmp_path):
    ann = _ann()
    formats.write(tmp_path / "c.xml", [ann], _tax(), fmt="cvat")
    (back,), _ = formats.read(tmp_path / "c.xml")
    assert [p["xy"] for p in back.metadata["points"]] == [p["xy"] for p in POINTS]
    assert [ln["xy"] for ln in back.metadata["polylines"]] == [ln["xy"] for ln in LINES]
    formats.write(tmp_path / "ls.json", [ann], _tax(), fmt="labelstudio")
    (ls,), _ = formats.read(tmp_path / "ls.json")
    assert [p["xy"] for p in ls.metadata["points"]] == [p["xy"] for p in POINTS]
    assert "polylines" not in ls.metadata


def test_cli_convert_says_which_marks_the_output_cannot_hold(tmp_path, capsys):
    from napari_labelsuite.cli import main

    f = tmp_path / "img.json"
    f.write_text(json.dumps(_labelme_doc()))
    assert main(["convert", str(f), str(tmp_path / "out.json"), "--to", "coco"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "warning: 1 point and 2 polylines not written (coco cannot hold them)"
    assert main(["convert", str(f), str(tmp_path / "c.xml"), "--to", "cvat"]) == 0
    assert "warning" not in capsys.readouterr().out
