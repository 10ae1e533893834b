"""The session's effort log: hand edits through napari's own tools, routes, persistence.

Headless: real napari layers in the session's own layer list; the person's actions are
napari's mouse callbacks driven by synthetic events (``napari_labelsuite._simulate``).
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import tifffile

from napari_labelsuite import LabelSession
from napari_labelsuite import _simulate as sim
from napari_labelsuite.core.effort import EFFORT_FORMAT, read_effort
from napari_labelsuite.core.errors import EffortLogError


class Clock:
    """A hand-moved clock for the session's effort records."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t

    def tick(self, seconds: float) -> None:
        self.t += seconds


@pytest.fixture
def session(cells_taxonomy):
    s = LabelSession(taxonomy=cells_taxonomy, user="ana")
    s._effort_clock = Clock()
    return s


def _records(s, **match):
    return [r for r in s.effort_records() if all(getattr(r, k) == v for k, v in match.items())]


def test_brush_strokes_count_once_each_with_the_pixels_they_changed(session):
    inst = session.add_instance_layer(shape=(64, 64))
    session.set_active_class("nucleus")
    iid = inst.selected_label
    before = np.array(inst.data)
    sim.brush_stroke(inst, [(10, 10), (10, 14), (10, 20)], size=3)
    first = int(np.count_nonzero(inst.data != before))
    before = np.array(inst.data)
    sim.brush_stroke(inst, [(12, 10), (12, 20)])  # same object: a correction
    second = int(np.count_nonzero(inst.data != before))
    recs = session.effort_records()
    assert [(r.route, r.action, r.count) for r in recs] == [("brush", "stroke", 1)] * 2
    assert [r.pixels for r in recs] == [first, second] and first > 0 and second > 0
    assert [r.object_id for r in recs] == [iid, iid]
    assert [r.finished for r in recs] == [True, False]
    assert [r.class_id for r in recs] == [1, 1]
    assert {r.annotator for r in recs} == {"ana"} and {r.layer for r in recs} == {"instances"}


def test_erase_and_fill_and_semantic_strokes(session):
    sem = session.add_semantic_layer(shape=(40, 40))
    session.set_active_class("cytoplasm")
    sim.brush_stroke(sem, [(5, 5), (5, 30)], size=5)
    sem.mode = "fill"
    sem.selected_label = 1
    sim.click(sem, (30, 30))  # fills the background with class 1
    sim.brush_stroke(sem, [(5, 5), (5, 10)], erase=True)
    got = [(r.route, r.action, r.class_id, r.object_id) for r in session.effort_records()]
    assert got == [
        ("brush", "stroke", 2, None),
        ("brush", "fill", 1, None),
        ("brush", "erase", None, None),
    ]
    fill = session.effort_records()[1]
    assert fill.pixels == 40 * 40 - int(np.count_nonzero(sem.data == 2)) - int(
        np.count_nonzero(sem.data == 0)
    )


def test_labels_polygon_mode_counts_its_vertices(session):
    inst = session.add_instance_layer(shape=(64, 64))
    session.set_active_class("nucleus")
    verts = [(10.5, 10.5), (10.5, 30.5), (25.5, 40.5), (40.5, 30.5), (40.5, 10.5)]
    sim.labels_polygon(inst, verts)
    (r,) = session.effort_records()
    assert (r.route, r.action, r.count, r.finished) == ("polygon", "vertex", 5, True)
    assert r.pixels == int(np.count_nonzero(inst.data))
    assert inst._overlays["polygon"].points == []  # napari cleared them after the fill


def test_programmatic_writes_are_not_hand_edits(session):
    inst = session.add_instance_layer(shape=(32, 32))
    boxes = session.add_boxes_layer(ndim=2)
    inst.data_setitem((np.array([1, 2]), np.array([1, 2])), 5)
    boxes.add_rectangles(np.array([[0, 0], [5, 5]]))
    with session._effort_quiet():
        inst.paint((10, 10), 3)
    assert session.effort_records() == []


def test_boxes_drawn_moved_and_deleted_by_hand(session):
    session.set_active_class("nucleus")
    boxes = session.add_boxes_layer(ndim=2)
    sim.draw_rectangle(boxes, (5, 5), (20, 25))
    sim.draw_rectangle(boxes, (30, 30), (40, 45))
    assert len(boxes.data) == 2
    boxes.mode = "select"
    boxes.selected_data = {1}
    sim.drag(boxes, [(35, 35), (36, 38), (37, 40)])  # move box 1
    boxes.selected_data = {0}
    boxes.remove_selected()
    got = [(r.route, r.action, r.object_id, r.finished) for r in session.effort_records()]
    assert got == [
        ("box", "box", 0, True),
        ("box", "box", 1, True),
        ("box", "correction", 1, False),
        ("box", "delete", None, False),
    ]
    assert session.effort_records()[0].class_id == 1
    t = session.effort(by="route")
    assert t.loc[0, "objects"] == 2 and t.loc[0, "actions"] == 4


def test_instance_tools_and_boxes_from_instances_are_one_action_each(session):
    labels = np.zeros((40, 60), np.int32)
    labels[5:15, 5:15] = 1
    labels[20:30, 5:15] = 2
    labels[5:25, 30:50] = 3
    inst = session.add_instance_layer(labels)
    for i in (1, 2, 3):
        session.set_object_class(i, "nucleus")
    session.merge_instances([1, 2], into=1)
    session.instances_to_boxes(inst)
    recs = session.effort_records()
    assert [(r.route, r.action) for r in recs] == [
        ("instance-tools", "set-class"),
        ("instance-tools", "set-class"),
        ("instance-tools", "set-class"),
        ("instance-tools", "merge_instances"),
        ("box", "from-instances"),
    ]
    assert recs[-1].objects == (0, 1) and recs[-1].layer == "boxes"
    t = session.effort(by="route").set_index("route")
    assert t.loc["box", "objects"] == 2 and t.loc["box", "actions"] == 1
    assert t.loc["box", "actions_per_object"] == 0.5


def test_idle_gaps_are_excluded_from_active_time(session):
    inst = session.add_instance_layer(shape=(64, 64))
    session.set_active_class("nucleus")
    clock = session._effort_clock
    for k, gap in enumerate((0, 12, 30, 600, 8)):  # 600 s: a coffee break
        clock.tick(gap)
        sim.brush_stroke(inst, [(5 + 10 * k, 5), (5 + 10 * k, 9)])
    t = session.effort(total=True)
    row = t[t.route == "brush"].iloc[0]
    assert row.actions == 5 and row.active_seconds == 12 + 30 + 8
    assert session.effort(idle=1000).loc[0, "active_seconds"] == 12 + 30 + 600 + 8


def test_unknown_route_is_refused(session):
    with pytest.raises(EffortLogError, match="field 'route'"):
        session._log_effort("lasso", "click")


# -- persistence ---------------------------------------------------------------------------
@pytest.fixture
def plates(tmp_path):
    root = tmp_path / "plates"
    root.mkdir()
    for k in range(2):
        tifffile.imwrite(root / f"img{k}.tif", np.full((48, 48), 10 * k, np.uint16))
    return root


def test_log_lives_beside_the_provenance_log_and_persists_across_sessions(plates, cells_taxonomy):
    a = LabelSession(taxonomy=cells_taxonomy, user="ana")
    a._effort_clock = Clock()
    a.add_boxes_layer(ndim=2)  # made before any dataset is open: kept, then stored
    sim.draw_rectangle(a.boxes, (1, 1), (5, 5))
    a.open_dataset(plates)
    log_path = plates / "labelsuite" / "effort.jsonl"
    assert a.effort_log_path == log_path
    assert (plates / "labelsuite" / "provenance.jsonl").is_file()
    a.set_active_class("nucleus")
    a._effort_clock.tick(3)
    sim.brush_stroke(a.instances, [(10, 10), (10, 20)])
    a.next()
    a._effort_clock.tick(4)
    sim.brush_stroke(a.instances, [(30, 10), (30, 20)])
    stored, problems = read_effort(log_path)
    assert problems == [] and len(stored) == 3
    assert [r.image for r in stored] == [None, "img0", "img1"]

    b = LabelSession(taxonomy=cells_taxonomy, user="bo")
    b._effort_clock = Clock()
    b.open_dataset(plates, start=1)
    b.set_active_class("nucleus")
    sim.brush_stroke(b.instances, [(40, 10), (40, 20)])
    t = b.effort(by=["annotator", "image"])
    assert t[["annotator", "image", "actions"]].values.tolist() == [
        ["ana", "img0", 1],
        ["ana", "img1", 1],
        ["ana", None, 1],  # no image yet: groups without a value come last
        ["bo", "img1", 1],
    ]
    lines = log_path.read_text().splitlines()
    assert json.loads(lines[0])["format"] == EFFORT_FORMAT and len(lines) == 5


def test_corrupt_or_foreign_log_never_breaks_opening_the_data(plates, cells_taxonomy):
    log_path = plates / "labelsuite" / "effort.jsonl"
    log_path.parent.mkdir()
    log_path.write_text("id,seconds\n1,20\n")  # somebody else's file
    s = LabelSession(taxonomy=cells_taxonomy, user="ana")
    s.open_dataset(plates)
    s.set_active_class("nucleus")
    with pytest.warns(UserWarning, match=r"effort\.jsonl: line 1: not a labeling-effort log"):
        sim.brush_stroke(s.instances, [(10, 10), (10, 20)])
    assert log_path.read_text() == "id,seconds\n1,20\n"  # untouched
    assert [r.action for r in s.effort_records()] == ["stroke"]  # kept in memory
    assert "line 1" in str(s.effort_problems()[0])


def test_torn_line_is_repaired_and_bad_lines_reported_by_line(plates, cells_taxonomy):
    s = LabelSession(taxonomy=cells_taxonomy, user="ana")
    s.open_dataset(plates)
    s.set_active_class("nucleus")
    sim.brush_stroke(s.instances, [(10, 10), (10, 20)])
    log_path = s.effort_log_path
    with open(log_path, "a") as fh:
        fh.write("garbage\n")
        fh.write('{"time": 5, "route": "brush", "act')  # crash mid-line
    with pytest.warns(UserWarning, match="incomplete last line"):
        sim.brush_stroke(s.instances, [(20, 10), (20, 20)])
    with pytest.warns(UserWarning, match=r"line 3: line is not JSON"):
        recs = s.effort_records()
    assert [r.action for r in recs] == ["stroke", "stroke"]
    # reopening the dataset in a new session works and reads the same records
    t = LabelSession(taxonomy=s.taxonomy, user="bo")
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        t.open_dataset(plates)
        assert len(t.effort_records()) == 2


def test_chart_and_qc_report_carry_the_effort(session, tmp_path):
    inst = session.add_instance_layer(shape=(64, 64))
    session.set_active_class("nucleus")
    for k in range(3):
        session._effort_clock.tick(10)
        sim.labels_polygon(
            inst, [(5 + 15 * k, 5), (5 + 15 * k, 15), (15 + 15 * k, 10)], label=k + 1
        )
    svg = session.effort_plot(tmp_path / "effort.svg")
    assert svg.read_text().count('class="point"') == 3
    report = session.qc_report()
    eff = report["effort"]
    assert eff[["route", "objects", "actions"]].values.tolist() == [["polygon", 3, 9]]
    written = session.export_qc_report(tmp_path / "qc.md")
    assert "## effort" in written[1].read_text()


def test_strokes_on_a_store_edit_region_go_to_the_log_beside_the_store(tmp_path, cells_taxonomy):
    from napari_labelsuite.core.store import MaskStore

    path = tmp_path / "plate.ome.zarr"
    with MaskStore.create(path, shape=(512, 512), chunks=(128, 128)) as st:
        st.taxonomy = cells_taxonomy
        st.create_labels("instances", dtype="uint32", role="instances")
        st.set_objects("instances", {})
        st.save()
    s = LabelSession(taxonomy=cells_taxonomy, user="ana")
    s.open_store(str(path), max_in_memory=1, region=(128, 128))
    assert s.effort_log_path == tmp_path / "labelsuite" / "effort.jsonl"
    s.set_active_class("nucleus")
    sim.brush_stroke(s.instances, [(20, 20), (20, 40)], size=5)
    s.close_store()
    stored, problems = read_effort(tmp_path / "labelsuite" / "effort.jsonl")
    assert problems == []
    assert [(r.route, r.action, r.image, r.layer) for r in stored] == [
        ("brush", "stroke", "plate.ome.zarr", "instances [edit]")
    ]


def test_effort_follows_what_another_session_appends(plates, cells_taxonomy):
    a = LabelSession(taxonomy=cells_taxonomy, user="ana")
    b = LabelSession(taxonomy=cells_taxonomy, user="bo")
    a.open_dataset(plates)
    b.open_dataset(plates)
    a._log_effort("box", "box", object_id=0, finished=True)
    assert [r.annotator for r in b.effort_records()] == ["ana"]
    b._log_effort("box", "box", object_id=1, finished=True)
    a._log_effort("polygon", "vertex", count=5)
    assert [r.annotator for r in b.effort_records()] == ["ana", "bo", "ana"]
    assert [r.annotator for r in a.effort_records()] == ["ana", "bo", "ana"]
