"""Interpolation and propagation across slices and frames, and tracking over time.

* :mod:`.slices`    -- fill masks between keyframe planes (signed distance, image-refined)
* :mod:`.boxes`     -- boxes between keyframe boxes (linear in corner coordinates)
* :mod:`.propagation` -- carry an object to the next planes and adapt it to the image
* :mod:`.tracking`  -- link instances across frames, one id per track, divisions

Pure numpy / scipy / scikit-image; no napari, no Qt.
"""

from __future__ import annotations

from ._common import object_boxes
from .boxes import KEYFRAME, box_tracks, interpolate_boxes, is_keyframe, mark_keyframes
from .propagation import iter_propagate, propagate, snap_to_image
from .slices import interpolate_slices, iter_interpolate_slices, signed_distance
from .tracking import Track, TrackingResult, iter_track_instances, track_instances

__all__ = [
    "KEYFRAME",
    "Track",
    "TrackingResult",
    "box_tracks",
    "interpolate_boxes",
    "interpolate_slices",
    "is_keyframe",
    "iter_interpolate_slices",
    "iter_propagate",
    "iter_track_instances",
    "mark_keyframes",
    "object_boxes",
    "propagate",
    "signed_distance",
    "snap_to_image",
    "track_instances",
]
