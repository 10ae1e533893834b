"""The effort log counts points, keypoints and polylines placed by hand on managed layers.

Headless: napari's own point and polyline tools driven by synthetic mouse events
(``napari_labelsuite._simulate``), as a person's hand drives them.
"""

from __future__ import annotations

import numpy as np
import pytest

from napari_labelsuite import LabelSession
from napari_labelsuite import _simulate as sim


@pytest.fixture
def session(cells_taxonomy):
    s = LabelSession(taxonomy=cells_taxonomy, user="ana")
    clock = iter(range(1000, 100_000, 5))
    s._effort_clock = lambda: float(next(clock))
    return s


def _rows(session):
    return [
        (r.route, r.action, r.count, r.object_id, r.class_id, r.finished)
        for r in session.effort_records()
    ]


def test_points_placed_by_hand_count_one_action_and_one_object_each(session):
    pts = session.add_points_layer(
        [{"xy": [1.5, 1.5], "class_id": 2}], ndim=2
    )  # imported: not an action
    session.set_active_class("nucleus")
    sim.place_points(pts, [(10, 12), (20, 22), (30, 32)])
    assert len(pts.data) == 4
    assert _rows(session) == [
        ("points", "point", 1, 1, 1, True),
        ("points", "point", 1, 2, 1, True),
        ("points", "point", 1, 3, 1, True),
    ]
    t = session.effort(by="route").set_index("route")
    assert t.loc["points", "objects"] == 3 and t.loc["points", "actions"] == 3


def test_points_moved_and_deleted_by_hand_and_added_from_code(session):
    pts = session.add_points_layer(ndim=2)
    sim.place_points(pts, [(10, 10), (40, 40)])
    pts.add(np.array([[50.0, 50.0]]))  # from code, outside the point tool: not counted
    pts.mode = "select"
    pts.selected_data = {1}
    sim.drag(pts, [(40, 40), (42, 43), (45, 46)])  # napari's select tool moves point 1
    np.testing.assert_allclose(pts.data[1], [45, 46])
    pts.data = pts.data + 1.0  # data set from code in select mode: not a move
    pts.selected_data = {0, 2}
    pts.remove_selected()
    got = [(r.route, r.action, r.count, r.object_id) for r in session.effort_records()]
    assert got == [
        ("points", "point", 1, 0),
        ("points", "point", 1, 1),
        ("points", "correction", 1, 1),
        ("points", "delete", 2, None),
    ]


def test_polyline_vertices_count_once_the_path_is_finished(session):
    lines = session.add_polylines_layer(
        [{"xy": [[0, 0], [5, 5]], "class_id": 2}], ndim=2
    )  # imported: not an action
    session.set_active_class("cytoplasm")
    sim.draw_polyline(lines, [(1, 1), (5, 9), (10, 3), (20, 20)])
    sim.draw_polyline(lines, [(30, 30), (35, 40)])
    assert [len(d) for d in lines.data] == [2, 4, 2]
    np.testing.assert_allclose(lines.data[1], [(1, 1), (5, 9), (10, 3), (20, 20)])
    assert _rows(session) == [
        ("polyline", "vertex", 4, 1, 2, True),
        ("polyline", "vertex", 2, 2, 2, True),
    ]
    t = session.effort(by="route").set_index("route")
    assert t.loc["polyline", "objects"] == 2 and t.loc["polyline", "actions"] == 6
    lines.mode = "select"
    lines.selected_data = set()
    # napari's select tool grabs path 1 on its first segment and moves it by (2, 3)
    sim.drag(lines, [(3, 5), (4, 6), (5, 8)])
    np.testing.assert_allclose(lines.data[1], [(3, 4), (7, 12), (12, 6), (22, 23)])
    assert _rows(session)[-1] == ("polyline", "correction", 1, 1, None, False)
    lines.remove_selected()
    assert _rows(session)[-1] == ("polyline", "delete", 1, None, None, False)
    # a path added from code is the caller's action, not a hand edit
    lines.add_paths(np.array([[0.0, 0.0], [9.0, 9.0], [3.0, 7.0]]))
    assert len(session.effort_records()) == 4


def test_a_single_click_path_is_dropped_and_not_counted(session):
    lines = session.add_polylines_layer(ndim=2)
    sim.draw_polyline(lines, [(3, 3)])
    assert len(lines.data) == 0
    assert session.effort_records() == []


def test_keypoints_placed_by_hand_go_to_the_keypoints_route(session):
    kps = session.add_keypoints_layer()
    session.set_active_class("nucleus")
    sim.place_points(kps, [(10, 10), (12, 14)])
    got = [(r.route, r.action, r.count, r.finished) for r in session.effort_records()]
    assert got == [("keypoints", "point", 1, False), ("keypoints", "point", 1, False)]
    kps.selected_data = {0}
    kps.remove_selected()
    assert _rows(session)[-1] == ("keypoints", "delete", 1, None, None, False)


def test_a_freehand_path_counts_the_vertices_napari_kept(session):
    from napari.utils.interactions import (
        mouse_move_callbacks,
        mouse_press_callbacks,
        mouse_release_callbacks,
    )

    session.set_active_class("cytoplasm")
    lines = session.add_polylines_layer(ndim=2)
    lines.mode = "add_path"  # napari's freehand path tool: a vertex every 10 screen pixels
    trace = [(2, 2), (4, 6), (8, 9), (12, 15)]
    mouse_press_callbacks(lines, sim._event(lines, "mouse_press", trace[0]))
    for k, p in enumerate(trace[1:], 1):
        at = np.array([20.0 * k, 0.0])
        mouse_move_callbacks(lines, sim._event(lines, "mouse_move", p, pos=at))
    mouse_release_callbacks(lines, sim._event(lines, "mouse_release", trace[-1], pos=at))
    assert len(lines.data) == 1
    np.testing.assert_allclose(lines.data[0], trace)
    assert _rows(session) == [("polyline", "vertex", 4, 0, 2, True)]
