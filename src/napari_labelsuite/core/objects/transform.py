"""Rotated boxes and keypoints through an augmentation's geometric map.

Used by ``core.augment.Pipeline``: the corners of each rotated box and each labelled
keypoint go through the same forward map as the image. A box whose centre leaves the
frame is dropped; a keypoint that leaves it becomes unlabelled (0, 0, 0). When the map
mirrors the image (negative determinant), left/right keypoints trade places by the
class's skeleton (``flip_pairs``), so a left eye stays a left eye.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

from .keypoints import Keypoints, Skeleton
from .rotated import RotatedBox, corners_to_rbox

__all__ = ["transform_keypoints", "transform_rotated"]

PointMap = Callable[[np.ndarray], np.ndarray]  # (N, 2) row, col centres -> output


def _forward_xy(fwd: PointMap, xy: np.ndarray) -> np.ndarray:
    """Pixel-edge ``x, y`` through a map of ``(row, col)`` pixel-centre coordinates."""
    rc = np.column_stack([xy[:, 1] - 0.5, xy[:, 0] - 0.5])
    out = fwd(rc)
    return np.column_stack([out[:, 1] + 0.5, out[:, 0] + 0.5])


def transform_rotated(
    boxes: list[RotatedBox], fwd: PointMap, out_shape: tuple[int, int]
) -> tuple[list[RotatedBox], list[int]]:
    """Boxes through ``fwd`` (refitted as rectangles) and the input indices kept."""
    h, w = out_shape
    out, kept = [], []
    for i, b in enumerate(boxes):
        quad = _forward_xy(fwd, b.corners())
        cx, cy = quad.mean(axis=0)
        if not (0 <= cx < w and 0 <= cy < h):
            continue
        r = corners_to_rbox(quad[None], where=f"rotated[{i}]")[0]
        out.append(
            dataclasses.replace(
                b, cx=float(r[0]), cy=float(r[1]), w=float(r[2]), h=float(r[3]),
                angle=float(r[4]), source_corners=None,
                attributes=None if b.attributes is None else dict(b.attributes),
            )
        )  # fmt: skip
        kept.append(i)
    return out, kept


def transform_keypoints(
    sets: list[Keypoints],
    fwd: PointMap,
    out_shape: tuple[int, int],
    mirrored: bool,
    skeletons: dict[int, Skeleton] | None = None,
) -> list[Keypoints]:
    """Keypoint sets through ``fwd``; sides swapped when ``mirrored`` (needs ``skeletons``)."""
    h, w = out_shape
    out = []
    for kp in sets:
        xyv = np.array(kp.xyv, float)
        lab = xyv[:, 2] > 0
        if lab.any():
            xyv[lab, :2] = _forward_xy(fwd, xyv[lab, :2])
        gone = lab & ~((xyv[:, 0] >= 0) & (xyv[:, 0] < w) & (xyv[:, 1] >= 0) & (xyv[:, 1] < h))
        xyv[gone] = 0.0
        sk = (skeletons or {}).get(kp.class_id)
        if mirrored and sk is not None:
            xyv = xyv[sk.flip_index]
        box: Any = None
        if kp.box is not None:
            x0, y0, x1, y1 = kp.box
            q = _forward_xy(fwd, np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], float))
            lo, hi = np.clip(q.min(0), 0, [w, h]), np.clip(q.max(0), 0, [w, h])
            box = (float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1]))
        out.append(dataclasses.replace(kp, xyv=xyv, box=box, attributes=dict(kp.attributes)))
    return out
