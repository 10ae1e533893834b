"""Boxes between keyframe boxes on a stack or time series (linear in corner coordinates).

A *track* of boxes is the set of boxes with the same ``instance_id`` (> 0) and the same
plane indices on every leading axis except ``axis``. Its keyframes are the boxes whose
``attributes["keyframe"]`` is true, or absent (a box drawn by hand is a keyframe); boxes with
``keyframe`` false were interpolated earlier and are replaced. On every plane strictly
between two consecutive keyframes of a track a box is placed whose corners ``x0, y0, x1,
y1`` are linear in the plane index (as in CVAT); it takes the class, attributes and track of
the earlier keyframe and ``keyframe=False``. Boxes without a track (``instance_id`` 0) are
kept as they are.

Editing an interpolated box turns it into a keyframe (:func:`mark_keyframes`).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from typing import Any

from ..annotation import Box
from ..errors import InterpolateError

__all__ = ["KEYFRAME", "interpolate_boxes", "is_keyframe", "mark_keyframes"]

#: the box attribute that marks keyframes
KEYFRAME = "keyframe"


def is_keyframe(box: Box) -> bool:
    """True unless the box was made by interpolation (``keyframe`` attribute false)."""
    value = box.attributes.get(KEYFRAME)
    return value is None or bool(value)


def mark_keyframes(boxes: Sequence[Box], indices: Iterable[int]) -> list[Box]:
    """Copies of ``boxes`` where the boxes at ``indices`` are keyframes (edited by a person)."""
    out = [copy.deepcopy(b) for b in boxes]
    for i in indices:
        if not 0 <= int(i) < len(out):
            raise InterpolateError(
                f"box index out of range 0..{len(out) - 1}", field="indices", value=int(i)
            )
        out[int(i)].attributes[KEYFRAME] = True
    return out


def _track_key(box: Box, axis: int) -> tuple[int, tuple[int, ...]]:
    rest = tuple(p for k, p in enumerate(box.plane) if k != axis)
    return int(box.instance_id), rest


def interpolate_boxes(boxes: Sequence[Box], axis: int = 0) -> list[Box]:
    """Keyframe boxes -> keyframes plus a box on every plane between consecutive keyframes.

    Parameters
    ----------
    boxes : sequence of Box
        Boxes on the planes of a stack (``plane`` holds the leading-axis indices).
    axis : int
        Which leading axis to interpolate along (index into ``Box.plane``; 0 is z of
        ``"zyx"`` or t of ``"tyx"``/``"tzyx"``).

    Returns
    -------
    list of Box
        The boxes without a track, then each track's keyframes and interpolated boxes in
        plane order (new lists; the input is unchanged). Keyframes get ``keyframe=True``.

    Raises
    ------
    InterpolateError
        A box has no plane index on ``axis``; two keyframes of one track lie on the same
        plane (id conflict) or have different classes (class conflict).
    """
    if isinstance(axis, bool) or not isinstance(axis, int) or axis < 0:
        raise InterpolateError("axis must be a leading-axis index >= 0", field="axis", value=axis)
    loose: list[Box] = []
    tracks: dict[tuple[int, tuple[int, ...]], list[tuple[int, Box]]] = {}
    for i, b in enumerate(boxes):
        if len(b.plane) <= axis:
            raise InterpolateError(
                f"box has no plane index on axis {axis} (boxes of a 2D image cannot be "
                "interpolated)",
                where=f"boxes[{i}]",
                field="plane",
                value=tuple(b.plane),
            )
        if b.instance_id <= 0:
            loose.append(copy.deepcopy(b))
        elif is_keyframe(b):
            tracks.setdefault(_track_key(b, axis), []).append((i, b))
    out = loose
    for (tid, _), keys in tracks.items():
        keys.sort(key=lambda ib: ib[1].plane[axis])
        for (i, a), (j, b) in zip(keys[:-1], keys[1:]):
            if a.plane[axis] == b.plane[axis]:
                raise InterpolateError(
                    f"track {tid} has two keyframes on plane {a.plane[axis]}",
                    where=f"boxes[{i}] and boxes[{j}]",
                    field="instance_id",
                    value=tid,
                )
            if a.class_id != b.class_id:
                raise InterpolateError(
                    f"keyframes of track {tid} have different classes",
                    where=f"boxes[{i}] and boxes[{j}]",
                    field="class_id",
                    value=(a.class_id, b.class_id),
                )
        for k, (_, a) in enumerate(keys):
            first = copy.deepcopy(a)
            first.attributes[KEYFRAME] = True
            out.append(first)
            if k + 1 == len(keys):
                break
            b = keys[k + 1][1]
            za, zb = a.plane[axis], b.plane[axis]
            for z in range(za + 1, zb):
                w = (z - za) / (zb - za)
                box = copy.deepcopy(a)
                box.x0, box.y0, box.x1, box.y1 = (
                    (1 - w) * p + w * q for p, q in zip(a.xyxy, b.xyxy)
                )
                plane = list(a.plane)
                plane[axis] = z
                box.plane = tuple(plane)
                box.attributes[KEYFRAME] = False
                box.status, box.reviewer, box.reviewed_at = "todo", None, None
                out.append(box)
    return out


def box_tracks(boxes: Sequence[Box], axis: int = 0) -> dict[int, list[Any]]:
    """Track id -> the planes (index on ``axis``) of its keyframes, sorted."""
    out: dict[int, list[Any]] = {}
    for b in boxes:
        if b.instance_id > 0 and is_keyframe(b) and len(b.plane) > axis:
            out.setdefault(int(b.instance_id), []).append(b.plane[axis])
    return {k: sorted(v) for k, v in out.items()}
