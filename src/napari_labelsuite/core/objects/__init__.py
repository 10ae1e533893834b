"""Object kinds beyond axis-aligned boxes and masks: rotated boxes and keypoints."""

from .keypoints import (
    COCO_PERSON_SIGMAS,
    Keypoints,
    Skeleton,
    check_keypoints,
    flip_keypoints,
    match_keypoints,
    oks,
)
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
    "RotatedBox",
    "Skeleton",
    "check_keypoints",
    "check_rboxes",
    "corners_to_rbox",
    "flip_keypoints",
    "mask_to_rbox",
    "match_keypoints",
    "match_rboxes",
    "min_area_rect",
    "oks",
    "rbox_iou",
    "rbox_iou_pairs",
    "rbox_to_corners",
]
