"""Rotated boxes, keypoints and polygons through an augmentation's geometric map.

Used by ``core.augment.Pipeline``: the corners of each rotated box, each labelled
keypoint and each polygon vertex go through the same forward map as the image. A box
whose centre leaves the frame is dropped; a keypoint that leaves it becomes unlabelled
(0, 0, 0); a polygon is clipped to the frame and dropped when nothing of it is left. When
the map mirrors the image (negative determinant), left/right keypoints trade places by the
class's skeleton (``flip_pairs``), so a left eye stays a left eye.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

from .keypoints import Keypoints, Skeleton
from .polygons import Polygon, Ring
from .rotated import RotatedBox, corners_to_rbox

__all__ = ["transform_keypoints", "transform_polygons", "transform_rotated"]

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


def _nxt(a: np.ndarray) -> np.ndarray:
    """The next vertex of each vertex of a ring (``np.roll(a, -1, 0)`` without its overhead)."""
    return np.concatenate((a[1:], a[:1]))


def _prv(a: np.ndarray) -> np.ndarray:
    """The previous vertex of each vertex of a ring (``np.roll(a, 1, 0)``)."""
    return np.concatenate((a[-1:], a[:-1]))


def _densify(xy: np.ndarray, step: float) -> np.ndarray:
    """The closed ring ``xy`` with points added so no edge is longer than ``step``."""
    nxt = _nxt(xy)
    n = np.maximum(np.ceil(np.hypot(*(nxt - xy).T) / step).astype(int), 1)
    t = np.concatenate([np.arange(k) / k for k in n])
    start = np.repeat(xy, n, axis=0)
    return start + t[:, None] * (np.repeat(nxt, n, axis=0) - start)


def _tidy(xy: np.ndarray, eps: float = 1e-9) -> np.ndarray:
    """Drop repeated vertices and vertices on a straight line between their neighbours."""
    while len(xy) >= 3:
        # repeats first: a vertex next to its own copy would look collinear with it, and
        # dropping both copies at once would cut a corner off
        same = np.hypot(*(xy - _prv(xy)).T) <= eps
        if same.any():
            xy = xy[~same] if not same.all() else xy[:1]
            continue
        prev, nxt = _prv(xy), _nxt(xy)
        cross = (xy - prev)[:, 0] * (nxt - xy)[:, 1] - (xy - prev)[:, 1] * (nxt - xy)[:, 0]
        drop = np.abs(cross) <= eps * np.maximum(1.0, np.abs(xy).max())
        if not drop.any():
            break
        # each vertex dropped removes a triangle of zero area: the raster stays the same
        xy = xy[~drop]
    return xy


def _signed(xy: np.ndarray) -> float:
    x, y = xy[:, 0], xy[:, 1]
    return 0.5 * float(np.dot(x, _nxt(y)) - np.dot(_nxt(x), y))


def _frame_pos(pt: np.ndarray, w: float, h: float) -> float:
    """Position of a frame point along the frame, (0,0) -> (w,0) -> (w,h) -> (0,h)."""
    x, y = float(pt[0]), float(pt[1])
    dist = [abs(y), abs(x - w), abs(y - h), abs(x)]
    side = int(np.argmin(dist))
    return [x, w + y, w + h + (w - x), 2 * w + h + (h - y)][side]


def _split_at_frame(xy: np.ndarray, w: float, h: float) -> list[np.ndarray] | None:
    """The pieces of a simple ring inside ``[0, w] x [0, h]``, each its own ring.

    Weiler-Atherton for a rectangular window: the parts of the ring inside the frame are
    walked in order (Liang-Barsky per edge), and each exit is joined along the frame, in
    the ring's own orientation, to the next entry. Returns None when the ring never leaves
    the frame or the walk does not close (the caller keeps the single clipped ring).
    """
    n = len(xy)
    inside = (xy[:, 0] >= 0) & (xy[:, 0] <= w) & (xy[:, 1] >= 0) & (xy[:, 1] <= h)
    out_idx = np.flatnonzero(~inside)
    if not len(out_idx):
        return None
    start = int(out_idx[0])
    # Liang-Barsky for every edge at once: the inside part of edge k is t0[k]..t1[k]
    a = np.concatenate((xy[start:], xy[:start]))
    b = _nxt(a)
    d = b - a
    pk = np.stack([-d[:, 0], d[:, 0], -d[:, 1], d[:, 1]], axis=1)
    qk = np.stack([a[:, 0], w - a[:, 0], a[:, 1], h - a[:, 1]], axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = qk / pk
    t0 = np.max(np.where(pk < 0, r, 0.0), axis=1, initial=0.0)
    t1 = np.min(np.where(pk > 0, r, 1.0), axis=1, initial=1.0)
    ok = ~((pk == 0) & (qk < 0)).any(axis=1) & (t1 - t0 > 1e-12)
    p0 = np.clip(a + t0[:, None] * d, [0, 0], [w, h])
    p1 = np.clip(a + t1[:, None] * d, [0, 0], [w, h])
    chains: list[list[np.ndarray]] = []
    chain: list[np.ndarray] | None = None
    for k in range(n):
        if not ok[k]:
            if chain is not None:  # left the frame at the vertex the chain ends on
                chains.append(chain)
                chain = None
            continue
        if chain is not None and t0[k] > 1e-12:  # the chain ended on the frame at a vertex
            chains.append(chain)
            chain = None
        if chain is None:
            chain = [p0[k]]
        if t1[k] < 1 - 1e-12:
            chain.append(p1[k])
            chains.append(chain)
            chain = None
        else:
            chain.append(b[k])
    if chain is not None or not chains:
        return None
    forward = _signed(xy) > 0  # walk the frame the way the ring turns
    per = 2 * (w + h)
    corners = [(0.0, np.array([0.0, 0.0])), (w, np.array([w, 0.0])),
               (w + h, np.array([w, h])), (2 * w + h, np.array([0.0, h]))]  # fmt: skip
    entry = [_frame_pos(c[0], w, h) for c in chains]
    pieces: list[np.ndarray] = []
    used = [False] * len(chains)
    for first in range(len(chains)):
        if used[first]:
            continue
        ring: list[np.ndarray] = []
        j = first
        for _ in range(len(chains) + 1):
            used[j] = True
            ring += chains[j]
            s_exit = _frame_pos(chains[j][-1], w, h)
            gaps = [((e - s_exit) if forward else (s_exit - e)) % per for e in entry]
            nxt = int(np.argmin(gaps))
            gap = gaps[nxt]
            for pos, corner in sorted(
                corners, key=lambda c: ((c[0] - s_exit) if forward else (s_exit - c[0])) % per
            ):
                along = ((pos - s_exit) if forward else (s_exit - pos)) % per
                if 0 < along < gap:
                    ring.append(corner)
            if nxt == first:
                break
            if used[nxt]:
                return None
            j = nxt
        else:
            return None
        pieces.append(np.array(ring))
    return pieces


def transform_polygons(
    polygons: list[Polygon],
    fwd: PointMap,
    out_shape: tuple[int, int],
    *,
    curved: bool = False,
) -> tuple[list[Polygon], list[int], list[int]]:
    """Polygons through ``fwd``, clipped to the output frame.

    Parameters
    ----------
    polygons : list of Polygon
        Rings in pixel-edge ``x, y`` of the input plane.
    fwd : callable
        The forward map of ``(N, 2)`` input ``(row, col)`` pixel centres.
    out_shape : (int, int)
        The output frame; rings are clipped to ``[0, w] x [0, h]``. A ring the frame cuts
        into several pieces gives one polygon per piece (same class, instance id and
        attributes: the pieces of one object).
    curved : bool
        The map bends straight lines (an elastic deformation): edges are sampled every
        pixel before mapping, so the outline follows the bent image.

    Returns
    -------
    (list of Polygon, list of int, list of int)
        The polygons left, the input index of each (repeated for the pieces of one ring),
        and the input indices of those the frame cut. Polygons with no area left in the
        frame are dropped.
    """
    from ..augment.geometry import clip_polygon_to_frame, polygon_area

    h, w = out_shape
    out: list[Polygon] = []
    kept: list[int] = []
    clipped: list[int] = []
    rings = [np.asarray(p.ring.xy, float).reshape(-1, 2) for p in polygons]
    index = [k for k, xy in enumerate(rings) if len(xy) >= 3]
    if not index:
        return out, kept, clipped
    rings = [_densify(rings[k], 1.0) if curved else rings[k] for k in index]
    # all vertices through the map at once; per-polygon extent and area by segments
    sizes = np.array([len(xy) for xy in rings])
    starts = np.cumsum(sizes) - sizes
    moved_all = _forward_xy(fwd, np.concatenate(rings))
    lo_all = np.minimum.reduceat(moved_all, starts)
    hi_all = np.maximum.reduceat(moved_all, starts)
    nxt = np.arange(len(moved_all)) + 1
    nxt[starts + sizes - 1] = starts
    x, y = moved_all[:, 0], moved_all[:, 1]
    area_all = 0.5 * np.add.reduceat(x * y[nxt] - x[nxt] * y, starts)
    for k, i in enumerate(index):
        p = polygons[i]
        moved = moved_all[starts[k] : starts[k] + sizes[k]]
        lo, hi = lo_all[k], hi_all[k]
        if hi[0] <= 0 or hi[1] <= 0 or lo[0] >= w or lo[1] >= h:
            continue  # entirely outside the frame
        if lo[0] >= 0 and lo[1] >= 0 and hi[0] <= w and hi[1] <= h:
            # entirely inside (most polygons): nothing to clip
            if abs(area_all[k]) > 1e-9:
                out.append(_with_ring(p, moved, curved))
                kept.append(i)
            continue
        yx = clip_polygon_to_frame(moved[:, ::-1], h, w)
        area = polygon_area(yx)
        if area <= 1e-9:
            continue
        pieces = [yx[:, ::-1]]
        if area < polygon_area(moved[:, ::-1]) * (1 - 1e-9):
            clipped.append(i)
            split = _split_at_frame(moved, float(w), float(h))
            # the pieces must cover what Sutherland-Hodgman's single ring covers
            if split is not None and len(split) > 1:
                total = sum(abs(_signed(q)) for q in split if len(q) >= 3)
                if abs(total - area) <= 1e-6 * max(area, 1.0):
                    pieces = split
        for piece in pieces:
            xy_out = _tidy(np.ascontiguousarray(piece))
            if len(xy_out) < 3 or abs(_signed(xy_out)) <= 1e-9:
                continue
            out.append(_with_ring(p, xy_out, curved))
            kept.append(i)
    return out, kept, clipped


def _with_ring(p: Polygon, xy: np.ndarray, curved: bool) -> Polygon:
    """``p`` with the outline ``xy`` (simplified by 0.05 px after a bending map)."""
    if curved:
        from skimage.measure import approximate_polygon

        xy = approximate_polygon(np.vstack([xy, xy[:1]]), tolerance=0.05)[:-1]
    ring = Ring(np.array(xy, float), hole=p.ring.hole)
    return dataclasses.replace(p, ring=ring, attributes=dict(p.attributes))
