"""Widgets: points / polylines through Import / export, and the store's inference notes."""

from __future__ import annotations

import json

import numpy as np
import pytest
import zarr
from napari.layers import Points, Shapes
from ome_zarr.format import FormatV04
from ome_zarr.writer import write_image, write_labels

from napari_labelsuite._widgets.io import ImportExportWidget
from napari_labelsuite._widgets.store import MaskStoreWidget


@pytest.fixture
def shown(monkeypatch):
    seen: dict[str, list[str]] = {"info": [], "warning": [], "error": []}
    for kind in seen:
        monkeypatch.setattr(f"napari_labelsuite._widgets._base.show_{kind}", seen[kind].append)
    return seen


def _labelme(path):
    def shape(label, pts, kind):
        return {"label": label, "points": pts, "group_id": None, "shape_type": kind, "flags": {}}

    doc = {
        "version": "5.4.1",
        "flags": {},
        "shapes": [
            shape("cell", [[2, 2], [12, 2], [12, 10], [2, 10]], "polygon"),
            shape("seed", [[5.5, 6.5]], "point"),
            shape("seed", [[20.5, 3.5]], "point"),
            shape("track", [[1, 18], [8, 18], [9, 12]], "linestrip"),
        ],
        "imagePath": "img.png",
        "imageData": None,
        "imageHeight": 20,
        "imageWidth": 24,
    }
    path.write_text(json.dumps(doc))
    return path


def _wait(qtbot, widget):
    qtbot.waitUntil(lambda: not widget._workers, timeout=20000)


def test_import_shows_points_and_polylines_and_coco_export_says_what_was_lost(
    make_napari_viewer, qtbot, tmp_path, shown
):
    viewer = make_napari_viewer()
    w = ImportExportWidget(viewer)
    w.path_edit.setText(str(_labelme(tmp_path / "img.json")))
    w.import_()
    _wait(qtbot, w)
    qtbot.waitUntil(lambda: len(viewer.layers) == 3, timeout=5000)
    pts, lines = viewer.layers["img.png points"], viewer.layers["img.png polylines"]
    assert isinstance(pts, Points) and isinstance(lines, Shapes)
    np.testing.assert_array_equal(pts.data, [[6.0, 5.0], [3.0, 20.0]])
    assert pts.features["class"].tolist() == ["seed", "seed"]
    assert lines.shape_type == ["path"]
    assert shown["info"][-1].endswith(
        "(read as labelme: 1 images, 1 instances, 0 boxes, 2 points, 1 polylines)"
    )

    w.format_combo.setCurrentText("coco")
    w.path_edit.setText(str(tmp_path / "out.json"))
    w.export()
    _wait(qtbot, w)
    qtbot.waitUntil(lambda: bool(shown["warning"]), timeout=5000)
    assert shown["warning"] == [
        "Exported 1 file(s) to out.json; 2 points and 1 polyline not written"
        " (coco cannot hold them)"
    ]
    assert len(json.loads((tmp_path / "out.json").read_text())["annotations"]) == 1

    # labelme holds them: no warning, the file carries both points and the line
    before = len(shown["warning"])
    w.format_combo.setCurrentText("labelme")
    w.path_edit.setText(str(tmp_path / "lm"))
    w.export()
    _wait(qtbot, w)
    assert len(shown["warning"]) == before and shown["info"][-1] == "Exported 2 file(s) to lm"
    doc = json.loads((tmp_path / "lm" / "image.json").read_text())
    assert sorted(s["shape_type"] for s in doc["shapes"]) == [
        "linestrip",
        "point",
        "point",
        "polygon",
    ]


def _foreign_store(path) -> None:
    """An IDR-like store: tczyx labels with a singleton channel, ome-zarr-py's "class"."""
    root = zarr.open_group(path, mode="w", zarr_format=2)
    img = np.random.default_rng(0).integers(0, 255, (1, 1, 2, 24, 30), dtype=np.uint8)
    write_image(img, root, axes="tczyx", fmt=FormatV04(), scale_factors=())
    lab = np.zeros((1, 1, 2, 24, 30), np.uint16)
    lab[0, 0, :, 3:9, 4:12] = 1
    write_labels(
        lab,
        root,
        name="cells",
        axes="tczyx",
        fmt=FormatV04(),
        scale_factors=(),
        label_metadata={"properties": [{"label-value": 1, "class": "nucleus"}]},
    )


def test_store_widget_shows_what_was_inferred_on_opening(make_napari_viewer, tmp_path, shown):
    path = tmp_path / "idr.ome.zarr"
    _foreign_store(path)
    viewer = make_napari_viewer()
    w = MaskStoreWidget(viewer)
    assert not w.notes.isVisibleTo(w)
    w.path_edit.setText(str(path))
    w.read_only.setChecked(True)
    w.open_store()
    assert shown["error"] == []
    notes = w.session.store_status()["notes"]
    assert len(notes) == 2
    assert notes == [
        "labels/cells: axes tczyx - the singleton channel axis is dropped, as for the image"
        " (edits are written to channel 0)",
        "labels/cells: read as instances; 1 objects took their class from the 'class' property"
        " (new classes: nucleus)",
    ]
    assert w.notes.isVisibleTo(w)
    assert w.notes.text() == f"inferred on opening: {notes[0]} (+1 more)"
    assert w.notes.toolTip() == "\n".join(notes)
    assert shown["info"] == [
        "opened idr.ome.zarr: cells",
        f"idr.ome.zarr was written by another tool; inferred: {notes[0]}; {notes[1]}",
    ]
    assert w.session.history()[-1]["params"]["notes"] == notes
    # a store of our own has no notes: the line goes away
    w.session.close_store()
    w.refresh_status()
    assert not w.notes.isVisibleTo(w) and w.notes.text() == ""


def test_class_keys_on_a_points_layer_choose_the_class_of_the_next_point(
    make_napari_viewer, qtbot
):
    from napari_labelsuite import LabelSession, Taxonomy
    from napari_labelsuite._widgets.taxonomy import TaxonomyWidget

    viewer = make_napari_viewer()
    session = LabelSession.attach(viewer)
    session.taxonomy = Taxonomy([{"id": 5, "name": "seed"}, {"id": 9, "name": "tip"}])
    widget = TaxonomyWidget(viewer)
    try:
        pts = session.add_points_layer(ndim=2)
        viewer.layers.selection.active = pts
        # without the class keys, "2" would put the Points layer into its add mode
        qtbot.keyClick(viewer.window._qt_viewer.canvas.native, "2")
        assert session.active_class == 9 and pts.mode == "pan_zoom"
        assert pts.feature_defaults["class"].tolist() == ["tip"]
        pts.add([[1.0, 1.0]])
        assert pts.features["class_id"].tolist() == [9]
    finally:
        widget.close_bindings()
