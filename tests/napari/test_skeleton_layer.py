"""Skeleton edges drawn by the plugin: a companion Vectors layer that follows the keypoints."""

from __future__ import annotations

import numpy as np
import pytest

from napari_labelsuite.core.errors import ObjectKindError
from napari_labelsuite.core.objects import Keypoints

TAX = {
    "classes": [
        {"id": 1, "name": "ship", "color": "#ff0000"},
        {"id": 2, "name": "hand", "color": "#0000ff",
         "keypoints": {"names": ["wrist", "thumb", "index"], "edges": [[0, 1], [0, 2]]}},
    ]
}  # fmt: skip


@pytest.fixture
def widget(objects_widget):
    objects_widget.session.set_active_class(2)
    return objects_widget  # tests/napari/conftest.py


def _segments(layer):
    """The skeleton layer's edges as sorted ((start), (end)) tuples in napari coordinates."""
    d = np.asarray(layer.data, float)
    return sorted(
        (tuple(a.tolist()), tuple(b.tolist())) for a, b in zip(d[:, 0], d[:, 0] + d[:, 1],
                                                               strict=True)
    )  # fmt: skip


def test_managed_keypoints_show_their_skeleton_below_the_points(widget):
    s = widget.session
    # wrist (x 5.5, y 5.5) -> napari (5, 5); thumb (x 9.5, y 7.5) -> (7, 9); index unlabelled
    kp = Keypoints(np.array([[5.5, 5.5, 2], [9.5, 7.5, 1], [0, 0, 0]]), 2)
    layer = s.add_keypoints_layer([kp])
    sk = widget.viewer.layers["keypoints skeleton"]
    assert type(sk).__name__ == "Vectors"
    assert s.skeleton_layer() is sk
    assert widget.viewer.layers.index(sk) < widget.viewer.layers.index(layer)
    assert widget.viewer.layers.selection.active is layer  # still the layer to click on
    assert _segments(sk) == [((5.0, 5.0), (7.0, 9.0))]
    np.testing.assert_allclose(sk.edge_color, [[0, 0, 1, 1]])  # the class colour
    assert widget.skeleton_box.isChecked()


def test_points_placed_moved_and_deleted_by_hand_redraw_the_edges(widget):
    s = widget.session
    layer = s.add_keypoints_layer([Keypoints(np.array([[5.5, 5.5, 2], [9.5, 7.5, 2],
                                                       [0, 0, 0]]), 2)])  # fmt: skip
    sk = s.skeleton_layer()
    layer.selected_data = {0}
    layer.add([[2.0, 3.0]])  # joins object 0 as its "index" keypoint
    assert layer.features["keypoint"].tolist()[-1] == "index"
    assert _segments(sk) == [((5.0, 5.0), (2.0, 3.0)), ((5.0, 5.0), (7.0, 9.0))]
    moved = np.asarray(layer.data).copy()
    moved[0] = [4.0, 4.0]  # the wrist moves: both its edges follow
    layer.data = moved
    assert _segments(sk) == [((4.0, 4.0), (2.0, 3.0)), ((4.0, 4.0), (7.0, 9.0))]
    layer.selected_data = {1}  # the thumb is deleted: its edge goes
    layer.remove_selected()
    assert _segments(sk) == [((4.0, 4.0), (2.0, 3.0))]


def test_visibility_and_undo_redraw_the_edges(widget):
    s = widget.session
    layer = s.add_keypoints_layer([Keypoints(np.array([[5.5, 5.5, 2], [9.5, 7.5, 2],
                                                       [3.5, 2.5, 2]]), 2)])  # fmt: skip
    sk = s.skeleton_layer()
    assert len(sk.data) == 2
    # a keypoint table row without visibility (an unlabelled keypoint) draws no edge
    feats = layer.features.copy()
    feats.loc[2, "visibility"] = 0
    layer.features = feats
    assert _segments(sk) == [((5.0, 5.0), (7.0, 9.0))]
    s.set_keypoint_visibility(2, 1, layer)  # labelled again (occluded): drawn again
    assert _segments(sk) == [((5.0, 5.0), (2.0, 3.0)), ((5.0, 5.0), (7.0, 9.0))]
    assert s.undo_objects(layer)
    assert _segments(sk) == [((5.0, 5.0), (7.0, 9.0))]


def test_nd_stacks_draw_each_objects_edges_on_its_plane(widget):
    s = widget.session
    a = Keypoints(np.array([[5.5, 5.5, 2], [9.5, 7.5, 2], [0, 0, 0]]), 2, plane=(1,))
    b = Keypoints(np.array([[1.5, 1.5, 2], [0, 0, 0], [3.5, 2.5, 2]]), 2, plane=(3,))
    layer = s.add_keypoints_layer([a, b])
    sk = s.skeleton_layer(layer)
    assert sk.ndim == 3
    assert _segments(sk) == [
        ((1.0, 5.0, 5.0), (1.0, 7.0, 9.0)),
        ((3.0, 1.0, 1.0), (3.0, 2.0, 3.0)),
    ]
    moved = np.asarray(layer.data).copy()
    moved[1, 0] = 2.0  # object a's thumb moved to plane 2: no edge across planes
    layer.data = moved
    assert _segments(sk) == [((3.0, 1.0, 1.0), (3.0, 2.0, 3.0))]


def test_checkbox_and_console_show_and_hide_the_skeleton(widget):
    s = widget.session
    s.add_keypoints_layer([Keypoints(np.array([[5.5, 5.5, 2], [9.5, 7.5, 2], [0, 0, 0]]), 2)])
    sk = s.skeleton_layer()
    widget.skeleton_box.setChecked(False)  # the checkbox calls show_skeleton(visible=False)
    assert not sk.visible
    assert widget.status.text() == "'keypoints skeleton' hidden"
    assert s.history()[-1]["action"] == "show_skeleton"
    s.show_skeleton(visible=True)  # from the console: the checkbox follows
    assert sk.visible and widget.skeleton_box.isChecked()
    widget.viewer.layers.remove(sk)  # deleted by the user; the checkbox brings it back
    widget.skeleton_box.setChecked(False)
    widget.skeleton_box.setChecked(True)
    assert s.skeleton_layer() is sk and sk.visible
    assert widget.status.text() == "1 skeleton edges on 'keypoints skeleton'"
    assert widget.errors == []


def test_skeleton_leaves_with_its_keypoints_and_needs_one(widget):
    s = widget.session
    widget.skeleton_box.setChecked(False)
    widget.skeleton_box.setChecked(True)  # no keypoints layer yet: a notification
    assert len(widget.errors) == 1 and "keypoints" in widget.errors[0]
    layer = s.add_keypoints_layer([Keypoints(np.array([[5.5, 5.5, 2], [9.5, 7.5, 2],
                                                       [0, 0, 0]]), 2)])  # fmt: skip
    widget.viewer.layers.remove(layer)
    assert "keypoints skeleton" not in widget.viewer.layers
    shapes = widget.viewer.add_shapes([[[0, 0], [0, 5], [5, 5]]], shape_type="polygon")
    with pytest.raises(ObjectKindError, match="Points") as err:
        s.show_skeleton(shapes)
    assert "layer 'Shapes'" in str(err.value)
    assert [ly.name for ly in widget.viewer.layers] == ["Shapes"]


def test_adopted_points_layer_gets_a_skeleton(widget):
    s = widget.session
    pts = widget.viewer.add_points([[5.0, 5.0], [7.0, 9.0]], name="mine")
    s.manage_layer(pts, "keypoints")
    assert _segments(widget.viewer.layers["mine skeleton"]) == [((5.0, 5.0), (7.0, 9.0))]


def test_a_point_dragged_with_the_select_tool_drags_its_edges(widget):
    s = widget.session
    layer = s.add_keypoints_layer(
        [Keypoints(np.array([[5.5, 5.5, 2], [9.5, 7.5, 2], [0, 0, 0]]), 2)]
    )
    sk = s.skeleton_layer()
    layer.mode = "select"
    layer.selected_data = {1}
    # napari's select tool calls _move on every mouse move of a drag (a "changed" event);
    # the first call (the press on the point) only records where the drag started
    layer._move({1}, [7.0, 9.0])
    layer._move({1}, [8.0, 12.0])
    assert _segments(sk) == [((5.0, 5.0), (8.0, 12.0))]
    layer._move({1}, [9.0, 13.0])
    assert _segments(sk) == [((5.0, 5.0), (9.0, 13.0))]
    layer._drag_start = None  # the release


def test_taxonomy_changes_recolour_and_redraw_the_edges(widget):
    s = widget.session
    s.add_keypoints_layer([Keypoints(np.array([[5.5, 5.5, 2], [9.5, 7.5, 2], [3.5, 2.5, 2]]), 2)])
    sk = s.skeleton_layer()
    s.recolor_class(2, "#00ff00")
    np.testing.assert_allclose(sk.edge_color, [[0, 1, 0, 1]] * 2)
    s.update_class(2, skeleton={"names": ["wrist", "thumb", "index"], "edges": [[1, 2]]})
    assert _segments(sk) == [((7.0, 9.0), (2.0, 3.0))]
