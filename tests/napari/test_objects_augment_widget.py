"""The "Augmentation preview" dock draws rotated boxes and keypoints on the grid."""

from __future__ import annotations

import numpy as np
from napari.layers import Image

from napari_labelsuite import LabelSession
from napari_labelsuite._widgets.augment import AugmentWidget
from napari_labelsuite.core.augment.transforms import HorizontalFlip
from napari_labelsuite.core.objects import Keypoints, RotatedBox
from napari_labelsuite.core.taxonomy import Taxonomy

TAX = {
    "classes": [
        {"id": 1, "name": "ship"},
        {"id": 2, "name": "person", "keypoints": {
            "names": ["head", "left", "right"], "flip_pairs": [[1, 2]]}},
    ]
}  # fmt: skip


def test_preview_draws_flipped_rotated_boxes_and_swapped_keypoints(make_napari_viewer):
    viewer = make_napari_viewer()
    session = LabelSession.attach(viewer)
    session.taxonomy = Taxonomy.from_dict(TAX)
    viewer.add_layer(Image(np.zeros((20, 30), np.uint8), name="img"))
    session.add_rotated_boxes_layer([RotatedBox(12.0, 8.0, 8.0, 2.0, 30.0, class_id=1)])
    xyv = np.array([[10.5, 4.5, 2], [6.5, 12.5, 2], [14.5, 12.5, 1]], float)
    session.add_keypoints_layer([Keypoints(xyv, 2)])
    w = AugmentWidget(viewer)
    w.transforms = [HorizontalFlip(p=1.0)]
    w._refresh_list()
    w.n.value = 1
    preview = w.preview(block=True)
    rot = viewer.layers["augment: rotated"]
    kps = viewer.layers["augment: keypoints"]
    r0, c0 = preview.tile_origin(0)
    want = session.rotated_boxes_list()[0].corners() * [-1, 1] + [30, 0]
    got_xy = rot.data[0][:, ::-1] - [c0 - 0.5, r0 - 0.5]
    np.testing.assert_allclose(np.sort(got_xy, axis=0), np.sort(want, axis=0), atol=1e-4)
    assert kps.features["keypoint"].tolist() == ["head", "left", "right"]
    # mirrored x, and the left keypoint now sits where the right one was (and vice versa)
    want_kp = [[4.5, 30 - 10.5], [12.5, 30 - 14.5], [12.5, 30 - 6.5]]
    np.testing.assert_allclose(kps.data - [r0 - 0.5, c0 - 0.5], want_kp, atol=1e-4)
    assert kps.features["visibility"].tolist() == [2, 1, 2]
