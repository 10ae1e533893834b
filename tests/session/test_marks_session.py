"""Points and polylines through the session: import as layers, taxonomy binding, export."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from napari.layers import Points, Shapes

from napari_labelsuite import LabelSession
from napari_labelsuite.core import formats


def _shape(label, pts, kind, gid=None):
    return {"label": label, "points": pts, "group_id": gid, "shape_type": kind, "flags": {}}


@pytest.fixture
def labelme_file(tmp_path):
    doc = {
        "version": "5.4.1",
        "flags": {},
        "shapes": [
            _shape("cat", [[2, 2], [12, 2], [12, 10], [2, 10]], "polygon", 4),
            _shape("nose", [[5.5, 6.5]], "point", 4),
            _shape("tail", [[12, 6], [18, 6], [19, 12]], "linestrip", 4),
            _shape("tail", [[1, 18], [8, 18]], "line"),
        ],
        "imagePath": "img.png",
        "imageData": None,
        "imageHeight": 20,
        "imageWidth": 24,
    }
    f = tmp_path / "img.json"
    f.write_text(json.dumps(doc))
    return f


def test_import_shows_points_and_polylines_as_managed_layers(labelme_file):
    s = LabelSession()
    layers = s.import_annotations(labelme_file)
    names = [ly.name for ly in layers]
    assert names == ["instances", "img.png points", "img.png polylines"]
    pts, lines = s.points_layer, s.polylines_layer
    assert isinstance(pts, Points) and isinstance(lines, Shapes)
    # (row, col) of pixel-edge (x=5.5, y=6.5): the centre of pixel (6, 5)
    np.testing.assert_array_equal(pts.data, [[6.0, 5.0]])
    assert pts.features["class"].tolist() == ["nose"]
    assert pts.features["instance_id"].tolist() == [1]
    assert lines.shape_type == ["path", "path"]
    np.testing.assert_array_equal(lines.data[1], [[17.5, 0.5], [17.5, 7.5]])
    assert lines.features["class"].tolist() == ["tail", "tail"]
    assert lines.features["kind"].tolist() == ["linestrip", "line"]
    assert lines.features["instance_id"].tolist() == [1, 0]
    tail = s.taxonomy.by_name("tail")
    np.testing.assert_allclose(lines.edge_color[0], tail.color)


@pytest.mark.parametrize(("fmt", "name"), [("labelme", "out"), ("cvat", "out.xml")])
def test_export_writes_points_and_polylines_back(tmp_path, labelme_file, fmt, name):
    s = LabelSession()
    s.import_annotations(labelme_file)
    report = formats.WriteReport()
    s.export_annotations(tmp_path / name, fmt, image_name="img.png", report=report)
    assert report.not_written == {}
    (ann,), _ = formats.read(tmp_path / name)
    assert [p["xy"] for p in ann.metadata["points"]] == [[5.5, 6.5]]
    assert [ln["xy"] for ln in ann.metadata["polylines"]] == [
        [[12.0, 6.0], [18.0, 6.0], [19.0, 12.0]],
        [[1.0, 18.0], [8.0, 18.0]],
    ]
    if fmt == "labelme":
        assert [ln["kind"] for ln in ann.metadata["polylines"]] == ["linestrip", "line"]
        assert ann.metadata["points"][0]["instance_id"] == 1
    else:
        root = ET.parse(tmp_path / name).getroot()
        assert len(root.findall(".//polyline")) == 2 and len(root.findall(".//points")) == 1


def test_export_to_coco_says_how_many_marks_were_not_written(tmp_path, labelme_file):
    s = LabelSession()
    s.import_annotations(labelme_file)
    report = formats.WriteReport()
    with pytest.warns(UserWarning, match="1 point and 2 polylines not written"):
        files = s.export_annotations(tmp_path / "a.json", "coco", report=report)
    assert files == [tmp_path / "a.json"]
    assert report.not_written == {"points": 1, "polylines": 2}
    assert s.history()[-1]["params"]["not_written"] == {"points": 1, "polylines": 2}
    with pytest.warns(UserWarning, match="2 polylines not written"):
        s.export_annotations(tmp_path / "ls.json", "labelstudio")


def test_points_follow_the_taxonomy(labelme_file):
    s = LabelSession()
    s.import_annotations(labelme_file)
    s.rename_class("nose", "snout")
    assert s.points_layer.features["class"].tolist() == ["snout"]
    s.recolor_class("snout", "#00ff00")
    np.testing.assert_allclose(s.points_layer.face_color[0], [0, 1, 0, 1])
    s.merge_classes("tail", "cat")
    cat = s.taxonomy.by_name("cat").id
    assert s.polylines_layer.features["class_id"].tolist() == [cat, cat]
    assert s.polylines_layer.features["class"].tolist() == ["cat", "cat"]
    assert s.class_in_use(s.taxonomy.by_name("snout").id)


def test_a_point_added_by_hand_gets_the_active_class_and_is_exported(tmp_path, labelme_file):
    s = LabelSession()
    s.import_annotations(labelme_file)
    s.set_active_class("tail")
    s.points_layer.add([[3.0, 9.0]])
    tail = s.taxonomy.by_name("tail")
    assert s.points_layer.features["class_id"].tolist()[-1] == tail.id
    np.testing.assert_allclose(s.points_layer.face_color[-1], tail.color)
    s.export_annotations(tmp_path / "out", "labelme", image_name="img.png")
    (ann,), _ = formats.read(tmp_path / "out" / "img.json")
    assert ann.metadata["points"][-1]["xy"] == [9.5, 3.5]
    assert ann.metadata["points"][-1]["class_id"] == tail.id


def test_dataset_keeps_marks_and_its_export_counts_what_was_lost(tmp_path, labelme_file):
    from PIL import Image

    folder = tmp_path / "images"
    folder.mkdir()
    Image.fromarray(np.zeros((20, 24), np.uint8)).save(folder / "img.png")
    s = LabelSession()
    s.open_dataset(folder)
    s.import_annotations(labelme_file)
    s.save_current()
    s.goto(0, save=False)  # shown again from the saved annotation
    np.testing.assert_array_equal(s.points_layer.data, [[6.0, 5.0]])
    assert s.points_layer.name == f"{s.current.key} points" == "img points"
    assert s.polylines_layer.features["kind"].tolist() == ["linestrip", "line"]
    report = formats.WriteReport()
    with pytest.warns(UserWarning, match="1 point and 2 polylines not written"):
        s.export_dataset(tmp_path / "all.json", "coco", report=report)
    assert report.not_written == {"points": 1, "polylines": 2}
    assert s.history()[-1]["params"]["not_written"] == {"points": 1, "polylines": 2}


def test_empty_points_and_polylines_layers_label_what_is_drawn(tmp_path):
    from napari_labelsuite.core.taxonomy import Taxonomy

    s = LabelSession(
        taxonomy=Taxonomy.from_dict({"classes": [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}]})
    )
    s.add_instance_layer(np.zeros((20, 24), np.int32))
    pts, lines = s.add_points_layer(), s.add_polylines_layer()
    assert (pts.ndim, lines.ndim, len(pts.data), len(lines.data)) == (2, 2, 0, 0)
    s.set_active_class("b")
    pts.add([[1.0, 2.0]])
    lines.add_paths([np.array([[0.0, 0.0], [4.0, 6.0]])])
    ann = s.to_annotation("x.png")
    assert ann.metadata["points"] == [{"xy": [2.5, 1.5], "class_id": 2, "attributes": {}}]
    assert ann.metadata["polylines"] == [
        {"xy": [[0.5, 0.5], [6.5, 4.5]], "class_id": 2, "attributes": {}, "kind": "linestrip"}
    ]
    assert [e["action"] for e in s.history()[-2:]] == ["add_points_layer", "add_polylines_layer"]


def test_an_image_holding_only_points_is_saved_when_leaving_it(tmp_path):
    from PIL import Image

    from napari_labelsuite.core.taxonomy import Taxonomy

    folder = tmp_path / "images"
    folder.mkdir()
    for name in ("a.png", "b.png"):
        Image.fromarray(np.zeros((10, 12), np.uint8)).save(folder / name)
    s = LabelSession(taxonomy=Taxonomy.from_dict({"classes": [{"id": 1, "name": "seed"}]}))
    s.open_dataset(folder)
    s.set_active_class("seed")
    s.add_points_layer().add([[2.0, 3.0]])
    s.next()  # saves "a" although it holds no mask pixel or box
    assert s.progress()["labeled"].tolist() == [True, False]
    s.prev()
    np.testing.assert_array_equal(s.points_layer.data, [[2.0, 3.0]])
    assert s.points_layer.features["class"].tolist() == ["seed"]
