"""Object kinds beyond axis-aligned boxes and masks: polygons, rotated boxes, keypoints."""

from .keypoints import (
    COCO_PERSON_SIGMAS,
    Keypoints,
    Skeleton,
    check_keypoints,
    flip_keypoints,
    match_keypoints,
    oks,
    skeleton_segments,
)
from .polygons import Polygon, Ring, check_polygon, mask_to_rings, rings_to_mask
from .rotated import (
    RotatedBox,
    check_rboxes,
    corners_to_rbox,
    mask_to_rbox,
    match_rboxes,
    min_area_rect,
    rbox_iou,
    rbox_iou_pairs,
    rbox_to_corners,
)

__all__ = [
    "COCO_PERSON_SIGMAS",
    "Keypoints",
    "Polygon",
    "Ring",
    "RotatedBox",
    "Skeleton",
    "check_keypoints",
    "check_polygon",
    "check_rboxes",
    "corners_to_rbox",
    "flip_keypoints",
    "mask_to_rbox",
    "mask_to_rings",
    "match_keypoints",
    "match_rboxes",
    "min_area_rect",
    "oks",
    "rbox_iou",
    "rbox_iou_pairs",
    "rbox_to_corners",
    "rings_to_mask",
    "skeleton_segments",
]
