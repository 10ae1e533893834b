"""Rotated boxes and keypoints follow the image through augmentation; flips swap sides."""

from __future__ import annotations

import numpy as np

from napari_labelsuite.core.annotation import ImageAnnotation
from napari_labelsuite.core.augment import Pipeline
from napari_labelsuite.core.augment.transforms import HorizontalFlip, Rot90
from napari_labelsuite.core.objects import Keypoints, RotatedBox, Skeleton

SK = Skeleton(["head", "left", "right"], flip_pairs=[(1, 2)])


def _marked_image(h: int, w: int, pts: list[tuple[int, int]]) -> np.ndarray:
    img = np.zeros((h, w), np.uint8)
    for k, (r, c) in enumerate(pts, start=1):
        img[r, c] = 50 * k
    return img


def test_horizontal_flip_moves_keypoints_with_the_pixels_and_swaps_sides() -> None:
    pts = [(2, 3), (5, 1), (5, 6)]  # head, left, right pixels (row, col)
    img = _marked_image(8, 10, pts)
    xyv = np.array([[c + 0.5, r + 0.5, 2] for r, c in pts], float)
    ann = ImageAnnotation("a", (8, 10), keypoints=[Keypoints(xyv, 1, box=(0, 1, 8, 7))])
    out_img, out, _ = Pipeline([HorizontalFlip(p=1.0)]).apply(img, ann, 0, skeletons={1: SK})
    (kp,) = out.keypoints
    # each keypoint sits on the pixel its mark moved to; left and right traded places
    for name, (x, y, v) in zip(SK.names, kp.xyv, strict=True):
        assert v == 2
        orig = SK.names.index({"left": "right", "right": "left"}.get(name, name))
        assert out_img[int(y), int(x)] == 50 * (orig + 1)
    np.testing.assert_allclose(kp.box, (2, 1, 10, 7))


def test_without_a_skeleton_a_flip_keeps_the_order() -> None:
    xyv = np.array([[1.5, 1.5, 2], [3.5, 1.5, 1], [0, 0, 0]])
    ann = ImageAnnotation("a", (4, 6), keypoints=[Keypoints(xyv, 1)])
    _, out, _ = Pipeline([HorizontalFlip(p=1.0)]).apply(np.zeros((4, 6)), ann, 0)
    np.testing.assert_allclose(out.keypoints[0].xyv, [[4.5, 1.5, 2], [2.5, 1.5, 1], [0, 0, 0]])


def test_rotated_box_follows_a_quarter_turn() -> None:
    h, w = 20, 30
    box = RotatedBox(10.0, 6.0, 8.0, 2.0, 0.0, class_id=1)
    img = np.zeros((h, w), np.uint8)
    img[5:7, 6:14] = 1  # the box's pixels
    ann = ImageAnnotation("a", (h, w), rotated=[box])
    out_img, out, _ = Pipeline([Rot90(ks=(1,), p=1.0)]).apply(img, ann, 0)
    (rb,) = out.rotated
    rr, cc = np.nonzero(out_img)
    np.testing.assert_allclose((rb.cx, rb.cy), (cc.mean() + 0.5, rr.mean() + 0.5), atol=1e-9)
    # the 8 x 2 box now stands upright: 8 pixels high, 2 wide
    np.testing.assert_allclose(np.ptp(rb.corners(), axis=0), (2.0, 8.0), atol=1e-9)
    assert (np.ptp(cc) + 1, np.ptp(rr) + 1) == (2, 8)
