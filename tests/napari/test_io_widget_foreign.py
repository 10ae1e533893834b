"""The import control reads files of other tools and names the format it took."""

from __future__ import annotations

import json

import numpy as np
import pytest
from pycocotools import mask as mask_utils

from napari_labelsuite._widgets.io import ImportExportWidget

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:pycocotools")


@pytest.fixture
def widget(make_napari_viewer):
    return ImportExportWidget(make_napari_viewer())


@pytest.fixture
def infos(monkeypatch):
    seen: list[str] = []
    monkeypatch.setattr("napari_labelsuite._widgets._base.show_info", seen.append)
    return seen


def test_labelme_import_names_the_format_and_keeps_pycocotools_masks(
    qtbot, widget, infos, tmp_path
):
    poly = [[3.5, 2.25], [25.0, 4.0], [20.5, 17.75], [6.0, 15.0]]
    doc = {
        "version": "5.4.1",
        "flags": {},
        "imagePath": "cat.jpg",
        "imageData": None,
        "imageHeight": 24,
        "imageWidth": 32,
        "shapes": [
            {
                "label": "cat",
                "points": poly,
                "group_id": None,
                "description": "",
                "shape_type": "polygon",
                "flags": {},
                "mask": None,
            }
        ],
    }
    (tmp_path / "cat.json").write_text(json.dumps(doc))
    widget.path_edit.setText(str(tmp_path / "cat.json"))
    widget.import_()
    qtbot.waitUntil(lambda: any("read as labelme" in m for m in infos), timeout=20000)
    flat = [v for p in poly for v in p]
    ref = mask_utils.decode(mask_utils.frPyObjects([flat], 24, 32)[0]).astype(bool)
    np.testing.assert_array_equal(np.asarray(widget.session.instances.data) == 1, ref)
    assert widget.session.taxonomy.names() == ["cat"]
    (msg,) = [m for m in infos if "read as labelme" in m]
    assert "cat.json" in msg and "1 images, 1 instances, 0 boxes" in msg
    last = widget.session.history()[-1]
    assert last["action"] == "import_annotations" and last["params"]["format"] == "labelme"
