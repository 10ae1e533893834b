"""Import with ``as_polygons=True`` shows the file's own vertices on the polygons layer, and
exporting that layer writes them back (COCO, labelme, CVAT, YOLO-seg; Label Studio read)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from pycocotools import mask as mask_utils

from napari_labelsuite import LabelSession
from napari_labelsuite.core.formats import cvat, labelme, yolo

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core"))
import test_formats_cvat as cvat_files  # noqa: E402
import test_formats_labelme as labelme_files  # noqa: E402
import test_formats_labelstudio as ls_files  # noqa: E402
import test_formats_yolo_layouts as yolo_files  # noqa: E402
import test_polygon_vertices_formats as coco_files  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:pycocotools")


def _layer_rings(session: LabelSession) -> list[tuple[int, list[list[float]]]]:
    return [(p["instance_id"], p["ring"].xy.tolist()) for p in session.polygons_list()]


def _imported(tmp_path, doc: dict) -> LabelSession:
    """``doc`` written as a COCO file and imported as polygons into a new session."""
    f = tmp_path / "instances.json"
    f.write_text(json.dumps(doc))
    s = LabelSession()
    s.import_annotations(f, as_polygons=True)
    return s


def _close(got, want) -> None:
    assert [k for k, _ in got] == [k for k, _ in want]
    for (_, g), (_, w) in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=0, atol=1e-9)


def test_coco_import_shows_the_files_vertices_and_exports_them(tmp_path):
    doc = coco_files._coco_doc()
    s = _imported(tmp_path, doc)
    want = [(k, np.reshape(part, (-1, 2)).tolist())
            for k, a in enumerate(doc["annotations"], start=1)
            for part in a["segmentation"]]  # fmt: skip
    _close(_layer_rings(s), want)
    out = tmp_path / "out.json"
    s.export_annotations(out)
    written = json.loads(out.read_text())
    assert [a["segmentation"] for a in written["annotations"]] == [
        a["segmentation"] for a in doc["annotations"]
    ]
    h, w = 90, 120
    for a in written["annotations"]:
        ref = mask_utils.decode(mask_utils.merge(mask_utils.frPyObjects(a["segmentation"], h, w)))
        np.testing.assert_array_equal(ref.astype(bool), s.instances.data == a["instance_id"])


def test_polygons_layer_alone_exports_its_vertices_and_hand_drawn_shapes(tmp_path):
    doc = coco_files._coco_doc()
    s = _imported(tmp_path, doc)
    s.layers.remove(s.instances)  # only the outlines remain: they are the objects
    layer = s.layers_of_role("polygons")[0]
    s.set_active_class(2)
    tri = np.array([[70.0, 5.0], [70.0, 20.0], [85.0, 12.0]])  # napari (row, col)
    layer.add_polygons([tri])
    out = tmp_path / "out.json"
    s.export_annotations(out)
    written = json.loads(out.read_text())["annotations"]
    assert [a["segmentation"] for a in written[:4]] == [
        a["segmentation"] for a in doc["annotations"]
    ]
    # the hand-drawn triangle got the next id and is written with its own vertices
    assert written[4]["instance_id"] == 5 and written[4]["category_id"] == 2
    np.testing.assert_allclose(np.reshape(written[4]["segmentation"][0], (-1, 2)),
                               tri[:, ::-1] + 0.5)  # fmt: skip


def test_labelme_import_and_export_keep_the_vertices(tmp_path):
    f = tmp_path / "street_001.json"
    f.write_text(json.dumps(labelme_files._doc()))
    s = LabelSession()
    s.import_annotations(f, as_polygons=True)
    rings = _layer_rings(s)
    _close(rings[:2], [(1, labelme_files.POLY), (1, labelme_files.PART2)])
    assert len(rings) > 2  # circle and mask instances are traced from the mask
    out = tmp_path / "out"
    files = s.export_annotations(out, "labelme")
    (again,), _ = labelme.read(next(f for f in files if f.suffix == ".json"))
    _close([(p.instance_id, p.ring.xy.tolist()) for p in again.polygons][:2],
           [(1, labelme_files.POLY), (1, labelme_files.PART2)])  # fmt: skip


def test_cvat_import_and_export_keep_the_vertices(tmp_path):
    f = tmp_path / "annotations.xml"
    f.write_text(cvat_files.CVAT_IMAGES)
    s = LabelSession()
    s.import_annotations(f, as_polygons=True)

    def pairs(text: str) -> list[list[float]]:
        return [[float(v) for v in p.split(",")] for p in text.split(";")]

    rings = _layer_rings(s)
    # the road under the person is shown as drawn in CVAT, not as its visible pixels
    assert [xy for _, xy in rings[:2]] == [pairs(cvat_files.UNDER), pairs(cvat_files.POLY)]
    out = tmp_path / "out.xml"
    s.export_annotations(out, "cvat")
    (again,), tax = cvat.read(out)
    person = [p.ring.xy.tolist() for p in again.polygons if tax[p.class_id].name == "person"]
    assert person == [pairs(cvat_files.POLY)]


def test_yolo_seg_import_and_export_keep_the_vertices(tmp_path):
    src = tmp_path / "src"
    yolo_files._txt(src / "data.yaml", "path: .\ntrain: images/train\nval: images/train\n"
                                       "names:\n  0: person\n  1: bicycle\n")  # fmt: skip
    yolo_files._img(src / "images/train/a.jpg", 40, 30)
    row = [0.1, 0.1, 0.6, 0.12, 0.55, 0.8, 0.2, 0.7, 0.05, 0.4]
    yolo_files._txt(src / "labels/train/a.txt", "1 " + " ".join(f"{v:.6f}" for v in row) + "\n")
    s = LabelSession()
    s.import_annotations(src, as_polygons=True)
    _close(_layer_rings(s), [(1, (np.reshape(row, (-1, 2)) * [40, 30]).tolist())])
    out = tmp_path / "out"
    files = s.export_annotations(out, "yolo", task="segment")
    line = next(f for f in files if f.suffix == ".txt").read_text().split()
    assert line[0] == "1"
    np.testing.assert_allclose([float(v) for v in line[1:]], row, rtol=0, atol=1e-12)
    (again,), _ = yolo.read(out)
    np.testing.assert_array_equal(np.asarray(again.instances), s.instances.data)


def test_label_studio_import_shows_the_polygonlabels_vertices(tmp_path):
    f = tmp_path / "export.json"
    f.write_text(json.dumps(ls_files._export()))
    s = LabelSession()
    s.import_annotations(f, as_polygons=True)
    pts = np.array([[2.5, 3.3], [40.1, 5.0], [30.0, 60.7], [5.0, 50.0]])
    rings = _layer_rings(s)
    person = [xy for k, xy in rings if s.objects()[k].class_id == s.taxonomy.by_name("Person").id]
    np.testing.assert_allclose(person[0], pts * [ls_files.W / 100, ls_files.H / 100], atol=1e-9)
    assert len(person) == 1  # the brush region is traced separately


def test_self_intersecting_file_polygon_is_traced_with_a_warning(tmp_path):
    doc = coco_files._coco_doc()
    doc["annotations"][0]["segmentation"] = [[10, 10, 30, 30, 30, 10, 10, 40]]  # a bow tie
    f = tmp_path / "instances.json"
    f.write_text(json.dumps(doc))
    s = LabelSession()
    with pytest.warns(UserWarning, match="self-intersecting.*object 1 is traced"):
        s.import_annotations(f, as_polygons=True)
    rings = _layer_rings(s)
    assert [k for k, _ in rings].count(1) >= 1
    traced = [xy for k, xy in rings if k == 1]
    assert all(xy != [[10, 10], [30, 30], [30, 10], [10, 40]] for xy in traced)
    # the traced rings paint exactly the object's pixels
    from napari_labelsuite.core.objects import Ring, rings_to_mask

    mask = rings_to_mask([Ring(np.asarray(xy)) for xy in traced], 90, 120)
    np.testing.assert_array_equal(mask, s.instances.data == 1)
