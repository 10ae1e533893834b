"""Link instances across the frames of a time series: one id per track, with divisions.

Frames are the planes along ``axis`` (each frame may itself be 2D or 3D). Frame ``t`` and
frame ``t + 1`` are compared by pixel overlap (a contingency table of their ids):

* **divisions** -- an object of frame ``t`` that holds most of (at least
  ``min_child_overlap`` of the area of) two or more objects of frame ``t + 1`` divided: its
  track ends at ``t`` and each daughter starts a new track whose parent it is;
* **links** -- the remaining objects are matched one to one by the optimal assignment
  (:func:`scipy.optimize.linear_sum_assignment`) maximising the total IoU; pairs below
  ``min_iou`` are not linked;
* every other object of frame ``t + 1`` starts a new track without parent.

Tracks are numbered 1, 2, ... in the order they start (frame, then original id), and
``Track(start, end, parent)`` is exactly a row of the Cell Tracking Challenge's
``man_track.txt``. Frames are read one at a time, so zarr and dask series work.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from ..annotation import ObjectInfo
from ..instances import InstanceEdit, Patch
from ._common import check_axis, check_labels, drain

__all__ = ["Track", "TrackingResult", "iter_track_instances", "track_instances"]


@dataclass
class Track:
    """One track: the frames it spans (inclusive) and its parent track (0: none)."""

    start: int
    end: int
    parent: int = 0


@dataclass
class TrackingResult:
    """Tracks and, per frame, the original id -> track id of every object."""

    tracks: dict[int, Track] = field(default_factory=dict)
    frames: list[dict[int, int]] = field(default_factory=list)
    axis: int = 0

    def divisions(self) -> dict[int, list[int]]:
        """Parent track -> its daughter tracks."""
        out: dict[int, list[int]] = {}
        for tid, tr in sorted(self.tracks.items()):
            if tr.parent:
                out.setdefault(tr.parent, []).append(tid)
        return out

    def first_ids(self) -> dict[int, int]:
        """Track id -> the original id of its first object."""
        out: dict[int, int] = {}
        for t, mapping in enumerate(self.frames):
            for orig, tid in mapping.items():
                if self.tracks[tid].start == t:
                    out[tid] = orig
        return out

    def relabelled(self, frame: np.ndarray, t: int) -> np.ndarray:
        """Frame ``t`` (original ids) with its objects' track ids."""
        mapping = self.frames[t]
        if not mapping:
            return np.zeros_like(frame)
        old = np.fromiter(mapping.keys(), np.int64)
        new = np.fromiter(mapping.values(), np.int64)
        order = np.argsort(old)
        old, new = old[order], new[order]
        flat = frame.ravel().astype(np.int64)
        pos = np.clip(np.searchsorted(old, flat), 0, len(old) - 1)
        hit = old[pos] == flat
        out = np.where(hit, new[pos], 0)
        return out.reshape(frame.shape)

    def to_edit(self, labels: Any) -> InstanceEdit:
        """The edit that gives every object of ``labels`` its track id (frame patches)."""
        edit = InstanceEdit()
        dtype = np.dtype(labels.dtype)
        top = max(self.tracks, default=0)
        if top > np.iinfo(dtype).max:
            dtype = np.dtype(np.uint32)
        for t in range(len(self.frames)):
            index = tuple(
                slice(t, t + 1) if k == self.axis else slice(None) for k in range(labels.ndim)
            )
            frame = np.asarray(labels[index])
            new = self.relabelled(frame, t).astype(dtype)
            if not np.array_equal(new, frame):
                edit.patches.append(Patch(index, new))
        return edit

    def objects(
        self, source: dict[int, ObjectInfo] | None = None, default_class: int | None = None
    ) -> dict[int, ObjectInfo]:
        """The object table of the tracks.

        Each track takes the class and attributes of its first object in ``source``
        (else ``default_class``; tracks with neither are left out) and the attributes
        ``track_start``, ``track_end``, ``parent`` (daughters) and ``children`` (the
        daughter track ids of a divided cell, space-separated).
        """
        source = source or {}
        first = self.first_ids()
        kids = self.divisions()
        out: dict[int, ObjectInfo] = {}
        for tid, tr in sorted(self.tracks.items()):
            info = source.get(first.get(tid, -1))
            if info is not None:
                row = ObjectInfo(class_id=info.class_id, attributes=dict(info.attributes))
            elif default_class is not None:
                row = ObjectInfo(class_id=int(default_class))
            else:
                continue
            for key in ("parent", "children"):
                row.attributes.pop(key, None)
            row.attributes["track_start"] = tr.start
            row.attributes["track_end"] = tr.end
            if tr.parent:
                row.attributes["parent"] = tr.parent
            if tid in kids:
                row.attributes["children"] = " ".join(str(k) for k in kids[tid])
            out[tid] = row
        return out


def _areas(frame: np.ndarray) -> dict[int, int]:
    ids, counts = np.unique(frame[frame > 0], return_counts=True)
    return dict(zip(ids.tolist(), counts.tolist()))


def _overlaps(a: np.ndarray, b: np.ndarray) -> dict[tuple[int, int], int]:
    both = (a > 0) & (b > 0)
    if not both.any():
        return {}
    pa = a[both].astype(np.int64)
    pb = b[both].astype(np.int64)
    pairs, counts = np.unique(np.stack([pa, pb]), axis=1, return_counts=True)
    return {(int(p), int(q)): int(c) for p, q, c in zip(pairs[0], pairs[1], counts)}


def iter_track_instances(
    labels: Any,
    axis: int = 0,
    *,
    min_iou: float = 0.1,
    min_child_overlap: float = 0.5,
) -> Generator[int, None, TrackingResult]:
    """:func:`track_instances` as a generator: yields 1 per frame, returns the result."""
    check_labels(labels)
    axis = check_axis(axis, labels.ndim)
    result = TrackingResult(axis=axis)

    def frame(t: int) -> np.ndarray:
        index = tuple(t if k == axis else slice(None) for k in range(labels.ndim))
        return np.asarray(labels[index])

    def new_track(t: int, parent: int = 0) -> int:
        tid = len(result.tracks) + 1
        result.tracks[tid] = Track(t, t, parent)
        return tid

    prev = frame(0)
    result.frames.append({i: new_track(0) for i in sorted(_areas(prev))})
    yield 1
    for t in range(1, labels.shape[axis]):
        cur = frame(t)
        area_a, area_b = _areas(prev), _areas(cur)
        over = _overlaps(prev, cur)
        # the parent of each object of frame t: the previous object covering most of it
        main: dict[int, tuple[int, int]] = {}
        for (p, q), c in over.items():
            if c > main.get(q, (0, 0))[1]:
                main[q] = (p, c)
        children: dict[int, list[int]] = {}
        for q, (p, c) in main.items():
            if c >= min_child_overlap * area_b[q]:
                children.setdefault(p, []).append(q)
        divided = {p: sorted(qs) for p, qs in children.items() if len(qs) >= 2}
        mapping: dict[int, int] = {}
        prev_map = result.frames[-1]
        for p, qs in divided.items():
            for q in qs:
                mapping[q] = new_track(t, prev_map[p])
        rows = [p for p in sorted(area_a) if p not in divided]
        cols = [q for q in sorted(area_b) if q not in mapping]
        if rows and cols:
            iou = np.zeros((len(rows), len(cols)))
            ri = {p: k for k, p in enumerate(rows)}
            ci = {q: k for k, q in enumerate(cols)}
            for (p, q), c in over.items():
                if p in ri and q in ci:
                    iou[ri[p], ci[q]] = c / (area_a[p] + area_b[q] - c)
            for r, c in zip(*linear_sum_assignment(iou, maximize=True)):
                if iou[r, c] >= min_iou and iou[r, c] > 0:
                    tid = prev_map[rows[r]]
                    mapping[cols[c]] = tid
                    result.tracks[tid].end = t
        for q in sorted(area_b):
            if q not in mapping:
                mapping[q] = new_track(t)
        result.frames.append(dict(sorted(mapping.items())))
        prev = cur
        yield 1
    return result


def track_instances(
    labels: Any, axis: int = 0, *, min_iou: float = 0.1, min_child_overlap: float = 0.5
) -> TrackingResult:
    """Link the instances of a time series across frames (see the module doc).

    Parameters
    ----------
    labels : array-like of int, at least 3D
        Per-frame instance masks (ids need not agree between frames).
    axis : int
        The time axis.
    min_iou : float
        Smallest IoU for a one-to-one link.
    min_child_overlap : float
        Fraction of a daughter's area that must lie in its mother.

    Returns
    -------
    TrackingResult
        ``tracks`` (id -> Track(start, end, parent)), ``frames`` (per frame: original id ->
        track id), ``divisions()``, ``to_edit(labels)`` and ``objects(...)``.
    """
    return drain(
        iter_track_instances(labels, axis, min_iou=min_iou, min_child_overlap=min_child_overlap)
    )
