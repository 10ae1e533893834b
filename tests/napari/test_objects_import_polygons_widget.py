"""Import / export dock with polygon files: "also as a polygons layer" shows the file's own
vertices, and the default COCO export ("auto") writes them back."""

from __future__ import annotations

import json

import numpy as np
import pytest

from napari_labelsuite._widgets.io import ImportExportWidget

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:pycocotools")

PERSON = [[10.25, 5.5, 30.75, 6.0, 28.5, 22.125, 12.0, 20.0]]
BIKE = [[40.5, 30.0, 55.0, 31.5, 50.25, 38.75], [56.0, 5.0, 58.5, 5.0, 57.0, 9.5]]


def _coco(tmp_path):
    doc = {
        "images": [{"id": 1, "file_name": "a.jpg", "width": 60, "height": 40}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "iscrowd": 0, "area": 1.0,
             "bbox": [10.25, 5.5, 20.5, 16.625], "segmentation": PERSON},
            {"id": 2, "image_id": 1, "category_id": 2, "iscrowd": 0, "area": 1.0,
             "bbox": [40.5, 5.0, 18.0, 33.75], "segmentation": BIKE},
        ],
        "categories": [{"id": 1, "name": "person"}, {"id": 2, "name": "bicycle"}],
    }  # fmt: skip
    f = tmp_path / "in.json"
    f.write_text(json.dumps(doc))
    return f


@pytest.fixture
def widget(make_napari_viewer):
    return ImportExportWidget(make_napari_viewer())


def _wait(qtbot, widget):
    qtbot.waitUntil(lambda: not widget._workers, timeout=20000)


def test_import_as_polygons_shows_the_files_vertices_and_export_writes_them(
    qtbot, widget, tmp_path
):
    widget.path_edit.setText(str(_coco(tmp_path)))
    widget.polygons_check.setChecked(True)
    widget.import_()
    _wait(qtbot, widget)
    qtbot.waitUntil(lambda: "polygons" in widget.viewer.layers, timeout=5000)
    rings = [p["ring"].xy.ravel().tolist() for p in widget.session.polygons_list()]
    assert rings == [*PERSON, *BIKE]
    assert widget.viewer.layers["polygons"].features["instance_id"].tolist() == [1, 2, 2]
    widget.format_combo.setCurrentText("coco")
    assert widget.options() == {"segmentation": "auto"}
    widget.path_edit.setText(str(tmp_path / "out.json"))
    widget.export()
    _wait(qtbot, widget)
    out = json.loads((tmp_path / "out.json").read_text())["annotations"]
    assert [a["segmentation"] for a in out] == [PERSON, BIKE]


def test_import_without_the_box_adds_no_polygons_layer(qtbot, widget, tmp_path):
    widget.path_edit.setText(str(_coco(tmp_path)))
    widget.import_()
    _wait(qtbot, widget)
    qtbot.waitUntil(lambda: len(widget.viewer.layers) > 0, timeout=5000)
    assert "polygons" not in widget.viewer.layers
    assert np.unique(widget.session.instances.data).tolist() == [0, 1, 2]
