"""The effort log in a real viewer: hand edits on the viewer's managed layers are logged."""

from __future__ import annotations

import numpy as np

from napari_labelsuite import LabelSession
from napari_labelsuite import _simulate as sim
from napari_labelsuite.core.synthetic import NUCLEI_CLASSES
from napari_labelsuite.core.taxonomy import Taxonomy


def test_viewer_session_logs_strokes_polygons_and_boxes(make_napari_viewer, tmp_path):
    viewer = make_napari_viewer()
    viewer.add_image(np.zeros((64, 64), np.uint16), name="img")
    s = LabelSession.attach(viewer)
    s.taxonomy = Taxonomy(NUCLEI_CLASSES)
    s.user = "ana"
    inst = s.add_instance_layer()
    s.set_active_class("nucleus")
    assert viewer.layers.selection.active is inst
    sim.brush_stroke(inst, [(10, 10), (10, 30)], size=5)
    sim.labels_polygon(inst, [(30, 30), (30, 50), (50, 50), (50, 30)], label=7)
    boxes = s.add_boxes_layer()
    sim.draw_rectangle(boxes, (2, 2), (12, 20))
    got = [(r.route, r.action, r.count, r.image, r.finished) for r in s.effort_records()]
    assert got == [
        ("brush", "stroke", 1, "img", True),
        ("polygon", "vertex", 4, "img", True),
        ("box", "box", 1, "img", True),
    ]
    table = s.effort(by="route").set_index("route")
    assert table["objects"].to_dict() == {"box": 1, "brush": 1, "polygon": 1}
    # removing a layer leaves the log alone; a new layer of the same role is watched too
    viewer.layers.remove(inst)
    again = s.add_instance_layer(name="instances 2")
    sim.brush_stroke(again, [(5, 5), (5, 9)], label=3, size=3)
    assert [r.layer for r in s.effort_records()][-1] == "instances 2"


def test_effort_widget_shows_the_table_and_saves_the_chart(make_napari_viewer, tmp_path, qtbot):
    from napari_labelsuite._widgets.effort import EffortWidget

    viewer = make_napari_viewer()
    viewer.add_image(np.zeros((64, 64), np.uint16), name="img")
    s = LabelSession.attach(viewer)
    s.taxonomy = Taxonomy(NUCLEI_CLASSES)
    s.user = "ana"
    clock = iter(range(100, 10_000, 10))
    s._effort_clock = lambda: float(next(clock))
    widget = EffortWidget(viewer)
    viewer.window.add_dock_widget(widget)
    assert widget.summary.text() == "no actions logged yet"
    inst = s.add_instance_layer()
    s.set_active_class("nucleus")
    sim.labels_polygon(inst, [(10, 10), (10, 30), (30, 30)], label=1)
    sim.labels_polygon(inst, [(40, 40), (40, 60), (60, 60), (60, 40)], label=2)
    # the table follows the session's log (batched after the last action)
    qtbot.waitUntil(lambda: widget.table.rowCount() == 2, timeout=3000)
    header = [
        widget.table.horizontalHeaderItem(j).text() for j in range(widget.table.columnCount())
    ]
    assert header == [
        "route",
        "annotator",
        "objects",
        "actions",
        "active s",
        "actions/obj",
        "s/obj",
    ]
    cells = [widget.table.item(0, j).text() for j in range(widget.table.columnCount())]
    assert cells == ["polygon", "ana", "2", "7", "10", "3.5", "5"]
    assert widget.summary.text() == "7 actions, 2 objects finished, 0.2 active minutes"
    widget.group.setCurrentText("route and action")
    assert [widget.table.item(0, j).text() for j in range(2)] == ["polygon", "vertex"]
    widget.idle.setValue(5)  # a 10 s gap is now a pause
    assert s.effort_idle_seconds == 5.0
    assert widget.table.item(0, 4).text() == "0"
    widget.save_chart(str(tmp_path / "effort.svg"))
    assert (tmp_path / "effort.svg").read_text().count('class="point"') == 2
    widget.save_chart(str(tmp_path / "effort.pdf"))  # refused: a notification, no file
    assert not (tmp_path / "effort.pdf").exists()


def test_viewer_session_logs_points_keypoints_and_polylines(make_napari_viewer):
    viewer = make_napari_viewer()
    viewer.add_image(np.zeros((64, 64), np.uint16), name="img")
    s = LabelSession.attach(viewer)
    s.taxonomy = Taxonomy(NUCLEI_CLASSES)
    s.set_active_class("nucleus")
    pts = s.add_points_layer()
    sim.place_points(pts, [(5, 5), (9, 12)])
    lines = s.add_polylines_layer()
    sim.draw_polyline(lines, [(1, 1), (10, 20), (30, 5)])
    kps = s.add_keypoints_layer()
    sim.place_points(kps, [(40, 40)])
    got = [(r.route, r.action, r.count, r.layer, r.image) for r in s.effort_records()]
    assert got == [
        ("points", "point", 1, "points", "img"),
        ("points", "point", 1, "points", "img"),
        ("polyline", "vertex", 3, "polylines", "img"),
        ("keypoints", "point", 1, "keypoints", "img"),
    ]
    table = s.effort(by="route").set_index("route")
    assert table["objects"].to_dict() == {"keypoints": 0, "points": 2, "polyline": 1}
