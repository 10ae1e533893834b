"""Rotated boxes and keypoints in the augmentation preview: read from their layers on the
current plane and window, transformed with the image, left/right swapped by the skeleton."""

from __future__ import annotations

import numpy as np
import pytest
from napari.layers import Image

from napari_labelsuite import LabelSession
from napari_labelsuite.core.augment import Pipeline
from napari_labelsuite.core.augment.transforms import HorizontalFlip
from napari_labelsuite.core.objects import Keypoints, RotatedBox
from napari_labelsuite.core.taxonomy import Taxonomy

TAX = {
    "classes": [
        {"id": 1, "name": "ship"},
        {"id": 2, "name": "person", "keypoints": {
            "names": ["head", "left_hand", "right_hand"], "flip_pairs": [[1, 2]]}},
    ]
}  # fmt: skip
H, W = 20, 30


@pytest.fixture
def session() -> LabelSession:
    s = LabelSession()
    s.taxonomy = Taxonomy.from_dict(TAX)
    s.layers.append(Image(np.zeros((2, H, W), np.uint8), name="img"))
    # plane 1 holds the objects; plane 0 one box that must not appear
    s.add_rotated_boxes_layer(
        [
            RotatedBox(12.0, 8.0, 8.0, 2.0, 30.0, class_id=1, plane=(1,)),
            RotatedBox(5.0, 5.0, 4.0, 2.0, 0.0, class_id=1, plane=(0,)),
        ]
    )
    xyv = np.array([[10.5, 4.5, 2], [6.5, 12.5, 2], [14.5, 12.5, 1]], float)
    s.add_keypoints_layer([Keypoints(xyv, 2, plane=(1,))])
    return s


def test_preview_flips_rotated_boxes_and_swaps_keypoint_sides(session: LabelSession) -> None:
    flip = Pipeline([HorizontalFlip(p=1.0)])
    preview = session.augment_preview(flip, n=1, plane=(1,), show=False)
    src = preview.source.annotation
    # napari stores shape vertices as float32: the read-back box is exact to ~1e-6
    (rb0,) = src.rotated
    np.testing.assert_allclose(rb0.xywha, (12.0, 8.0, 8.0, 2.0, 30.0), atol=1e-5)
    _, ann, _ = preview.variants[0]
    (rb,) = ann.rotated
    # a mirrored rectangle: the corners are the originals with x -> W - x
    want = session.rotated_boxes_list()[0].corners() * [-1, 1] + [W, 0]
    np.testing.assert_allclose(np.sort(rb.corners(), axis=0), np.sort(want, axis=0), atol=1e-9)
    (kp,) = ann.keypoints
    # x -> W - x, and the left and right hands traded places (v follows its keypoint)
    np.testing.assert_allclose(
        kp.xyv, [[W - 10.5, 4.5, 2], [W - 14.5, 12.5, 1], [W - 6.5, 12.5, 2]]
    )


def test_window_shifts_objects_into_it(session: LabelSession) -> None:
    preview = session.augment_preview(
        Pipeline([]), n=1, plane=(1,), window=(2, 18, 4, 24), show=False
    )
    _, ann, _ = preview.variants[0]
    np.testing.assert_allclose(ann.rotated[0].xywha, (8.0, 6.0, 8.0, 2.0, 30.0), atol=1e-5)
    np.testing.assert_allclose(
        ann.keypoints[0].xyv, [[6.5, 2.5, 2], [2.5, 10.5, 2], [10.5, 10.5, 1]]
    )


def test_shown_preview_has_rotated_and_keypoint_layers(session: LabelSession) -> None:
    preview = session.augment_preview(
        Pipeline([HorizontalFlip(p=1.0)]), n=2, plane=(1,), columns=2, show=True
    )
    rot = session.layers["augment: rotated"]
    kps = session.layers["augment: keypoints"]
    assert len(rot.data) == 2 and len(kps.data) == 6
    # tile 1 sits one tile width plus the gap to the right of tile 0
    r0, c0 = preview.tile_origin(1)
    (_, ann, _) = preview.variants[1]
    want = ann.rotated[0].corners() + [c0 - 0.5, r0 - 0.5]
    np.testing.assert_allclose(rot.data[1], want[:, ::-1], atol=1e-9)
    tile1 = kps.features["tile"].to_numpy() == 1
    assert kps.features.loc[tile1, "keypoint"].tolist() == ["head", "left_hand", "right_hand"]
    xy = ann.keypoints[0].xyv[:, :2]
    np.testing.assert_allclose(kps.data[tile1], xy[:, ::-1] + [r0 - 0.5, c0 - 0.5])
    session.clear_augment_preview()
    assert "augment: rotated" not in session.layers
