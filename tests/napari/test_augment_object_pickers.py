"""The Augmentation dock's pickers choose the rotated-box, keypoint and polygon layers."""

from __future__ import annotations

import numpy as np
import pytest
from napari.layers import Image

from napari_labelsuite import LabelSession
from napari_labelsuite._widgets.augment import AugmentWidget
from napari_labelsuite.core.augment.transforms import HorizontalFlip
from napari_labelsuite.core.errors import SessionError
from napari_labelsuite.core.objects import Keypoints, RotatedBox
from napari_labelsuite.core.taxonomy import Taxonomy

TAX = {
    "classes": [
        {"id": 1, "name": "field"},
        {"id": 2, "name": "person", "keypoints": {"names": ["head", "foot"]}},
    ]
}
W = 40
TRIANGLE = np.array([[4.0, 3.0], [20.0, 5.0], [9.0, 17.0]])
SQUARE = np.array([[22.0, 10.0], [34.0, 10.0], [34.0, 22.0], [22.0, 22.0]])


@pytest.fixture
def scene(make_napari_viewer):
    viewer = make_napari_viewer()
    session = LabelSession.attach(viewer)
    session.taxonomy = Taxonomy.from_dict(TAX)
    viewer.add_layer(Image(np.zeros((30, W), np.uint8), name="img"))
    session.add_rotated_boxes_layer([RotatedBox(12.0, 8.0, 8.0, 2.0, 30.0, class_id=1)])
    session.add_keypoints_layer([Keypoints(np.array([[10.5, 4.5, 2], [6.5, 12.5, 2]]), 2)])
    tri = session.add_polygons_layer([{"xy": TRIANGLE, "class_id": 1, "instance_id": 1}])
    sq = session.add_polygons_layer(
        [{"xy": SQUARE, "class_id": 1, "instance_id": 5}], name="polygons 2"
    )
    w = AugmentWidget(viewer)
    w.transforms = [HorizontalFlip(p=1.0)]
    w.n.value = 1
    return viewer, session, w, tri, sq


def test_pickers_list_the_layers_of_each_kind_and_default_to_the_first(scene):
    viewer, session, w, tri, sq = scene
    assert w.object_layers["polygons"].choices == ("(none)", "polygons", "polygons 2")
    assert w.object_layers["rotated"].choices == ("(none)", "rotated boxes")
    assert w.object_layers["keypoints"].choices == ("(none)", "keypoints")
    assert w.object_layers["polygons"].value == "polygons"
    assert session.augment_object_layer("polygons") is tri


def test_picked_polygon_layer_is_drawn_flipped_on_the_grid(scene):
    viewer, session, w, tri, sq = scene
    w.object_layers["polygons"].value = "polygons 2"
    assert session.augment_object_layer("polygons") is sq
    preview = w.preview(block=True)
    layer = viewer.layers["augment: polygons"]
    r0, c0 = preview.tile_origin(0)
    assert len(layer.data) == 1 and layer.features["instance_id"].tolist() == [5]
    got_xy = layer.data[0][:, ::-1] - [c0 - 0.5, r0 - 0.5]
    want = np.column_stack([W - SQUARE[:, 0], SQUARE[:, 1]])
    np.testing.assert_allclose(got_xy, want, atol=1e-9)
    picks = [e for e in session.history() if e["action"] == "set_augment_object_layer"]
    assert picks[-1]["params"] == {"role": "polygons", "layer": "polygons 2"}


def test_none_leaves_a_kind_out_and_the_console_choice_shows(scene):
    viewer, session, w, tri, sq = scene
    w.object_layers["rotated"].value = "(none)"
    assert session.augment_object_layer("rotated") is None
    w.preview(block=True)
    names = [x.name for x in viewer.layers]
    assert "augment: rotated" not in names
    assert "augment: keypoints" in names and "augment: polygons" in names
    # a choice made in the console shows in the dock
    session.set_augment_object_layer("keypoints", False)
    assert w.object_layers["keypoints"].value == "(none)"
    session.set_augment_object_layer("rotated", None)
    assert w.object_layers["rotated"].value == "rotated boxes"
    session.set_augment_object_layer("polygons", "polygons 2")
    assert w.object_layers["polygons"].value == "polygons 2"
    w.preview(block=True)
    assert "augment: keypoints" not in [x.name for x in viewer.layers]


def test_a_layer_of_another_kind_is_refused_by_name(scene):
    viewer, session, w, tri, sq = scene
    with pytest.raises(
        SessionError, match="layer 'rotated boxes'.*not a layer of role 'polygons'"
    ):
        session.set_augment_object_layer("polygons", "rotated boxes")
    with pytest.raises(SessionError, match="role must be one of"):
        session.set_augment_object_layer("boxes", "rotated boxes")
    assert session.augment_object_layer("polygons") is tri


def test_pickers_follow_layers_added_and_removed(scene):
    viewer, session, w, tri, sq = scene
    session.set_augment_object_layer("polygons", sq)
    viewer.layers.remove(sq)
    assert w.object_layers["polygons"].choices == ("(none)", "polygons")
    assert w.object_layers["polygons"].value == "polygons"  # back to the first of the role
    assert session.augment_object_layer("polygons") is tri
    session.add_polygons_layer([{"xy": SQUARE, "class_id": 1, "instance_id": 2}], name="late")
    assert w.object_layers["polygons"].choices == ("(none)", "polygons", "late")


def test_a_layer_adopted_as_polygons_joins_the_picker(scene):
    viewer, session, w, tri, sq = scene
    mine = viewer.add_shapes([TRIANGLE[:, ::-1] - 0.5], shape_type="polygon", name="mine")
    assert "mine" not in w.object_layers["polygons"].choices  # not a polygons layer yet
    session.manage_layer(mine, "polygons")
    assert "mine" in w.object_layers["polygons"].choices
    w.object_layers["polygons"].value = "mine"
    assert session.augment_object_layer("polygons") is mine
