"""The effort log (storage, crash repair, corrupt and foreign files), tables and chart."""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from napari_labelsuite.core.effort import (
    EFFORT_FORMAT,
    EffortLog,
    EffortRecord,
    effort_plot,
    effort_svg,
    effort_table,
    object_effort,
    read_effort,
    records_frame,
)
from napari_labelsuite.core.errors import EffortLogError


def rec(t, route="brush", action="stroke", **kw):
    kw.setdefault("annotator", "ana")
    kw.setdefault("image", "img")
    kw.setdefault("layer", "instances")
    return EffortRecord(float(t), route, action, **kw)


# -- storage -------------------------------------------------------------------------------
def test_append_writes_header_then_one_line_per_record_and_reads_back_equal(tmp_path):
    log = EffortLog(tmp_path / "sub" / "effort.jsonl")
    records = [
        rec(1.5, pixels=30, object_id=4, class_id=2, finished=True),
        rec(2.25, "box", "from-instances", layer="boxes", objects=(0, 1, 2)),
        rec(3, "polygon", "vertex", count=11, annotator="bo", image=None, layer=None),
    ]
    assert log.append(records[:1]) == 0
    assert log.append(records[1:]) == 0
    lines = log.path.read_text().splitlines()
    assert json.loads(lines[0]) == {"format": EFFORT_FORMAT, "version": 1}
    assert len(lines) == 4
    assert json.loads(lines[3]) == {
        "time": 3.0,
        "annotator": "bo",
        "route": "polygon",
        "action": "vertex",
        "count": 11,
    }
    got, problems = log.read()
    assert problems == []
    assert got == records


def test_missing_log_reads_empty(tmp_path):
    assert read_effort(tmp_path / "none.jsonl") == ([], [])


def test_torn_last_line_is_skipped_on_read_and_cut_off_by_the_next_append(tmp_path):
    log = EffortLog(tmp_path / "effort.jsonl")
    log.append([rec(1), rec(2)])
    with open(log.path, "ab") as fh:
        fh.write(b'{"time": 3.0, "annotator": "ana", "rou')  # crash mid-write
    got, problems = log.read()
    assert [r.time for r in got] == [1.0, 2.0]
    assert len(problems) == 1
    assert "line 4" in str(problems[0]) and str(log.path) in str(problems[0])
    with pytest.raises(EffortLogError, match="line 4"):
        log.read(strict=True)
    torn = len(b'{"time": 3.0, "annotator": "ana", "rou')
    assert log.append([rec(4)]) == torn
    got, problems = log.read()
    assert problems == []
    assert [r.time for r in got] == [1.0, 2.0, 4.0]


def test_torn_header_is_restarted(tmp_path):
    p = tmp_path / "effort.jsonl"
    p.write_bytes(b'{"format":"napari-lab')
    got, problems = read_effort(p)
    assert got == [] and "line 1" in str(problems[0])
    assert EffortLog(p).append([rec(1)]) == len(b'{"format":"napari-lab')
    assert read_effort(p) == ([rec(1)], [])


def test_corrupt_lines_are_reported_by_file_and_line_and_the_rest_is_read(tmp_path):
    log = EffortLog(tmp_path / "effort.jsonl")
    log.append([rec(1)])
    with open(log.path, "a") as fh:
        fh.write("not json\n")
        fh.write(json.dumps({"time": "yesterday", "route": "brush", "action": "stroke"}) + "\n")
        fh.write(json.dumps({"time": 2, "route": "brush", "action": "stroke", "count": -1}) + "\n")
        fh.write("[1, 2]\n")
    log.append([rec(5)])
    got, problems = log.read()
    assert [r.time for r in got] == [1.0, 5.0]
    msgs = [str(p) for p in problems]
    assert len(msgs) == 4
    assert "line 3" in msgs[0] and "not JSON" in msgs[0]
    assert "line 4" in msgs[1] and "field 'time'" in msgs[1] and "'yesterday'" in msgs[1]
    assert "line 5" in msgs[2] and "field 'count'" in msgs[2]
    assert "line 6" in msgs[3]
    assert all(str(log.path) in m for m in msgs)


def test_foreign_file_is_reported_and_never_appended_to(tmp_path):
    p = tmp_path / "effort.jsonl"
    original = b'{"seq": 0, "action": "split"}\n'
    p.write_bytes(original)
    got, problems = read_effort(p)
    assert got == []
    assert "line 1" in str(problems[0]) and "not a labeling-effort log" in str(problems[0])
    with pytest.raises(EffortLogError, match="not a labeling-effort log"):
        EffortLog(p).append([rec(1)])
    assert p.read_bytes() == original


def test_newer_version_is_refused(tmp_path):
    p = tmp_path / "effort.jsonl"
    p.write_text(json.dumps({"format": EFFORT_FORMAT, "version": 9}) + "\n")
    with pytest.raises(EffortLogError, match="field 'version'"):
        read_effort(p, strict=True)


def _append_many(path: str, who: str) -> None:
    log = EffortLog(path)
    for i in range(200):
        log.append([EffortRecord(float(i), "brush", "stroke", annotator=who)])


def test_two_processes_appending_at_once_never_interleave(tmp_path):
    import multiprocessing

    p = tmp_path / "effort.jsonl"
    ctx = multiprocessing.get_context("fork")  # the children share the imports: fast
    procs = [ctx.Process(target=_append_many, args=(str(p), who)) for who in ("ana", "bo")]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=120)
    assert [proc.exitcode for proc in procs] == [0, 0]
    got, problems = read_effort(p)
    assert problems == []
    assert sorted(r.annotator for r in got) == ["ana"] * 200 + ["bo"] * 200
    assert p.read_text().count(EFFORT_FORMAT) == 1


# -- active time and tables ----------------------------------------------------------------
def test_idle_gaps_over_the_limit_count_nothing():
    times = [0, 10, 70, 131, 140.5, 1000, 1001]
    frame = records_frame([rec(t) for t in times], idle=60)
    # gaps 10, 60 (kept: at the limit), 61 (idle), 9.5, 860 (idle), 1
    assert frame["active_seconds"].tolist() == [0.0, 10.0, 60.0, 0.0, 9.5, 0.0, 1.0]
    frame = records_frame([rec(t) for t in times], idle=300)
    assert frame["active_seconds"].tolist() == [0.0, 10.0, 60.0, 61.0, 9.5, 0.0, 1.0]


def test_active_time_runs_per_annotator():
    records = [rec(0, annotator="ana"), rec(5, annotator="bo"), rec(20, annotator="ana")]
    records.append(rec(100, annotator="bo"))
    frame = records_frame(records)
    got = dict(zip(zip(frame["annotator"], frame["time"]), frame["active_seconds"]))
    assert got == {("ana", 0.0): 0.0, ("bo", 5.0): 0.0, ("ana", 20.0): 20.0, ("bo", 100.0): 0.0}


def test_table_by_route_and_annotator_counts_exactly():
    records = [
        rec(0, "polygon", "vertex", count=12, object_id=1, finished=True),
        rec(10, "brush", "stroke", pixels=40, object_id=1),  # correction of object 1
        rec(30, "polygon", "vertex", count=8, object_id=2, finished=True),
        rec(35, "polygon", "vertex", count=8, object_id=2, finished=True),  # redrawn: once
        rec(50, "box", "from-instances", layer="boxes", objects=(1, 2, 3)),
        rec(55, "click-assist", "click", count=2, annotator="bo", object_id=9, finished=True),
        rec(60, "click-assist", "click", count=1, annotator="bo", object_id=9),
    ]
    t = effort_table(records, total=True)
    assert list(t.columns[:2]) == ["route", "annotator"]
    rows = {(r.route, r.annotator): r for r in t.itertuples()}
    assert set(rows) == {
        ("box", "ana"),
        ("brush", "ana"),
        ("click-assist", "bo"),
        ("polygon", "ana"),
        ("all", "all"),
    }
    poly = rows[("polygon", "ana")]
    assert (poly.objects, poly.actions, poly.active_seconds) == (2, 28, 25.0)
    assert poly.actions_per_object == 14.0 and poly.seconds_per_object == 12.5
    brush = rows[("brush", "ana")]
    assert (brush.objects, brush.actions, brush.pixels) == (0, 1, 40)
    assert math.isnan(brush.actions_per_object)
    box = rows[("box", "ana")]
    assert (box.objects, box.actions, box.active_seconds) == (3, 1, 15.0)
    assist = rows[("click-assist", "bo")]
    assert (assist.objects, assist.actions, assist.active_seconds) == (1, 3, 5.0)
    allrow = rows[("all", "all")]
    assert (allrow.objects, allrow.actions) == (6, 33)
    assert allrow.active_seconds == 55.0  # ana: 10+20+5+15, bo: 5


def test_table_by_image_class_and_unknown_key():
    records = [
        rec(0, object_id=1, class_id=1, finished=True, image="a"),
        rec(1, object_id=2, class_id=2, finished=True, image="b"),
        rec(2, object_id=1, class_id=1, finished=True, image="b"),
    ]
    t = effort_table(records, by="image")
    assert t["image"].tolist() == ["a", "b"] and t["objects"].tolist() == [1, 2]
    t = effort_table(records, by=["class"])
    assert t["class_id"].tolist() == [1, 2] and t["actions"].tolist() == [2, 1]
    with pytest.raises(EffortLogError, match="field 'by'"):
        effort_table(records, by="colour")
    with pytest.raises(EffortLogError, match="field 'idle'"):
        effort_table(records, idle=0)


def test_empty_table_has_the_columns():
    t = effort_table([])
    assert list(t.columns) == [
        "route",
        "annotator",
        "objects",
        "actions",
        "pixels",
        "active_seconds",
        "actions_per_object",
        "seconds_per_object",
    ]
    assert len(t) == 0
    assert len(object_effort([])) == 0


def test_object_effort_follows_each_object_and_shares_bulk_actions():
    records = [
        rec(0, "polygon", "vertex", count=10, object_id=1, finished=True),
        rec(20, "polygon", "vertex", count=6, object_id=2, finished=True),
        rec(26, "brush", "erase", object_id=1),
        rec(30, "box", "from-instances", layer="boxes", objects=(0, 1)),
    ]
    o = object_effort(records)
    assert list(zip(o["layer"], o["object_id"], o["route"])) == [
        ("instances", 1, "polygon"),
        ("instances", 2, "polygon"),
        ("boxes", 0, "box"),
        ("boxes", 1, "box"),
    ]
    assert o["actions"].tolist() == [11.0, 6.0, 0.5, 0.5]
    assert o["active_seconds"].tolist() == [6.0, 20.0, 2.0, 2.0]
    assert o["elapsed_seconds"].tolist() == [0.0, 20.0, 30.0, 30.0]


# -- chart ---------------------------------------------------------------------------------
def _objects():
    records = [
        rec(5 * i, "polygon", "vertex", count=9, object_id=i, finished=True) for i in range(6)
    ]
    records += [
        rec(40 + i, "box", "box", layer="boxes", object_id=i, finished=True) for i in range(3)
    ]
    return object_effort(records)


def test_svg_chart_has_one_point_per_object_coloured_by_route(tmp_path):
    path = effort_plot(_objects(), tmp_path / "effort.svg", metric="actions")
    root = ET.fromstring(path.read_text())
    points = [c for c in root.iter("{http://www.w3.org/2000/svg}circle") if c.get("class")]
    routes = [c.get("data-route") for c in points]
    assert routes.count("polygon") == 6 and routes.count("box") == 3
    # y grows upwards: polygons (9 actions) sit above boxes (1 action)
    y_poly = {float(c.get("cy")) for c in points if c.get("data-route") == "polygon"}
    y_box = {float(c.get("cy")) for c in points if c.get("data-route") == "box"}
    assert len(y_poly) == 1 and len(y_box) == 1 and y_poly.pop() < y_box.pop()


def test_png_chart_is_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    import imageio.v3 as iio

    path = effort_plot(_objects(), tmp_path / "effort.png")
    img = iio.imread(path)
    assert img.shape[:2] == (360, 640)
    assert np.ptp(img[..., :3]) > 0


def test_chart_bad_suffix_metric_or_folder(tmp_path):
    with pytest.raises(EffortLogError, match="field 'path'"):
        effort_plot(_objects(), tmp_path / "effort.pdf")
    with pytest.raises(EffortLogError, match="field 'metric'"):
        effort_svg(_objects(), metric="pixels")
    with pytest.raises(EffortLogError, match="folder does not exist"):
        effort_plot(_objects(), tmp_path / "nope" / "effort.svg")


def test_read_since_returns_only_what_was_appended(tmp_path):
    log = EffortLog(tmp_path / "effort.jsonl")
    assert log.read_since(None) == ([], [], None)
    log.append([rec(1), rec(2)])
    got, problems, pos = log.read_since(None)
    assert [r.time for r in got] == [1.0, 2.0] and problems == [] and pos.start == 0
    log.append([rec(3)])
    with open(log.path, "ab") as fh:
        fh.write(b'{"time": 4, "route": "brush", "act')  # still being written
    got, problems, pos2 = log.read_since(pos)
    assert [r.time for r in got] == [3.0] and pos2.start == pos.offset
    assert "line 5" in str(problems[0])
    with open(log.path, "ab") as fh:
        fh.write(b'ion": "stroke"}\n')  # the line completes
    got, problems, pos3 = log.read_since(pos2)
    assert [r.time for r in got] == [4.0] and problems == [] and pos3.line == 5
    # a replaced file (another inode) is read again from the start
    log.path.unlink()
    EffortLog(log.path).append([rec(9)])
    got, _, pos4 = log.read_since(pos3)
    assert [r.time for r in got] == [9.0] and pos4.start == 0
