"""Rotated (oriented) boxes: geometry, minimum-area rectangles and rotated IoU.

A rotated box is ``(cx, cy, w, h, angle)`` in pixel-edge coordinates (as ``Box.xyxy``:
pixel ``(row, col)`` covers ``[col, col + 1) x [row, row + 1)``), ``x`` right, ``y`` down,
with ``angle`` in degrees: the box's ``w`` side points along ``(cos a, sin a)``. Its four
corners, in order, are ``c + R(a) @ (-w/2, -h/2)``, ``(+w/2, -h/2)``, ``(+w/2, +h/2)``,
``(-w/2, +h/2)`` (the YOLO-OBB / DOTA corner list).

The intersection of two convex quadrilaterals is the convex hull of the corners of each
that lie inside the other plus the crossings of their edges (at most 8 points); sorting
them by angle around their mean and applying the shoelace formula gives its area. This is
done for all candidate pairs at once with numpy, after a cheap circumscribed-circle test
discards pairs that cannot overlap, so matching 10,000 boxes takes well under a second.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.spatial import ConvexHull, QhullError, cKDTree

from ..errors import ObjectKindError

__all__ = [
    "RotatedBox",
    "check_rboxes",
    "corners_to_rbox",
    "mask_to_rbox",
    "rbox_iou",
    "rbox_iou_pairs",
    "rbox_to_corners",
]

_EPS = 1e-9


@dataclass
class RotatedBox:
    """One rotated box on one plane, linked to an instance and a class like ``Box``."""

    cx: float
    cy: float
    w: float
    h: float
    angle: float  # degrees
    class_id: int
    plane: tuple[int, ...] = ()
    instance_id: int = 0
    attributes: dict[str, Any] | None = None
    status: str = "todo"
    difficult: bool = False
    #: the corners as read from a file, so that unedited boxes are written back unchanged
    source_corners: np.ndarray | None = field(default=None, compare=False, repr=False)

    @property
    def xywha(self) -> tuple[float, float, float, float, float]:
        return (self.cx, self.cy, self.w, self.h, self.angle)

    def corners(self) -> np.ndarray:
        """The four ``(x, y)`` corners, shape (4, 2).

        The corners read from a file when the box still matches them (to 1e-4 pixel):
        files store rounded corners, which a (cx, cy, w, h, angle) box reproduces only
        to rounding error.
        """
        c = rbox_to_corners(np.array([self.xywha], float))[0]
        src = self.source_corners
        if src is not None and np.shape(src) == (4, 2) and np.allclose(c, src, rtol=0, atol=1e-4):
            return np.asarray(src, float)
        return c


def check_rboxes(rboxes: Any, name: str = "rotated boxes") -> np.ndarray:
    """``rboxes`` as an (N, 5) float array; non-finite or degenerate boxes are refused.

    Raises
    ------
    ObjectKindError
        When the shape is not (N, 5), a value is not finite, or a width/height is <= 0
        (a degenerate box has no area and no orientation).
    """
    arr = np.asarray(rboxes, float)
    if arr.size == 0:
        return arr.reshape(0, 5)
    if arr.ndim != 2 or arr.shape[1] != 5:
        raise ObjectKindError(
            "rotated boxes must have shape (N, 5): cx, cy, w, h, angle",
            field=name,
            value=arr.shape,
        )
    bad = ~np.isfinite(arr).all(axis=1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ObjectKindError(
            "rotated box has a non-finite value", where=f"{name}[{i}]", value=arr[i].tolist()
        )
    bad = (arr[:, 2] <= 0) | (arr[:, 3] <= 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ObjectKindError(
            "degenerate rotated box: width and height must be > 0",
            where=f"{name}[{i}]",
            field="w, h",
            value=arr[i, 2:4].tolist(),
        )
    return arr


def rbox_to_corners(rboxes: Any) -> np.ndarray:
    """Corners (N, 4, 2) of (N, 5) rotated boxes, in YOLO-OBB / DOTA order."""
    r = np.asarray(rboxes, float).reshape(-1, 5)
    a = np.deg2rad(r[:, 4])
    c, s = np.cos(a), np.sin(a)
    hw, hh = r[:, 2] / 2, r[:, 3] / 2
    local = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], float)  # (4, 2)
    lx = local[None, :, 0] * hw[:, None]
    ly = local[None, :, 1] * hh[:, None]
    x = r[:, 0, None] + c[:, None] * lx - s[:, None] * ly
    y = r[:, 1, None] + s[:, None] * lx + c[:, None] * ly
    return np.stack([x, y], axis=-1)


def corners_to_rbox(corners: Any, *, where: str = "corners") -> np.ndarray:
    """Rotated boxes (N, 5) from corners (N, 4, 2) in order around the box.

    Corner 0 -> 1 is the width direction (the angle), 1 -> 2 the height. Four points that
    are not a rectangle to 1e-4 pixel (a skewed quadrilateral from another tool) are
    replaced by their minimum-area rectangle. Zero-area corner lists are refused.
    """
    q = np.asarray(corners, float).reshape(-1, 4, 2)
    # the width direction from all four edges (height edges turned by -90 degrees), so
    # that rounded corners give the angle to rounding error over the long side
    wdir = (q[:, 1] - q[:, 0]) + (q[:, 2] - q[:, 3])
    hdir = (q[:, 3] - q[:, 0]) + (q[:, 2] - q[:, 1])
    v = wdir + np.stack([hdir[:, 1], -hdir[:, 0]], axis=1)
    ang = np.arctan2(v[:, 1], v[:, 0])
    u = np.stack([np.cos(ang), np.sin(ang)], axis=1)
    n = np.stack([-u[:, 1], u[:, 0]], axis=1)
    out = np.empty((len(q), 5))
    out[:, 0:2] = q.mean(axis=1)
    out[:, 2] = (wdir * u).sum(1) / 2
    out[:, 3] = (hdir * n).sum(1) / 2
    out[:, 4] = np.rad2deg(ang)
    # not a rectangle (hand-clicked corners, not just rounding): fit the smallest one
    dev = np.abs(rbox_to_corners(out) - q).max(axis=(1, 2))
    for i in np.flatnonzero(~(dev <= 1e-4) | ~(out[:, 2] > 0) | ~(out[:, 3] > 0)):
        out[i] = min_area_rect(q[i], where=f"{where}[{i}]")
    check_rboxes(out, where)
    return out


def min_area_rect(points: Any, *, where: str = "points") -> np.ndarray:
    """The minimum-area enclosing rectangle (5,) of 2D ``(x, y)`` points (rotating calipers).

    The angle is in (-90, 90]; among rectangles of equal area the one with the smallest
    absolute angle is kept so that axis-aligned shapes give angle 0.
    """
    pts = np.asarray(points, float).reshape(-1, 2)
    try:
        hull = pts[ConvexHull(pts).vertices]
    except (QhullError, ValueError):
        raise ObjectKindError(
            "degenerate rotated box: the points span no area", where=where, value=len(pts)
        ) from None
    edges = np.roll(hull, -1, axis=0) - hull
    ang = np.arctan2(edges[:, 1], edges[:, 0]) % (np.pi / 2)  # one per caliper direction
    ang = np.unique(np.round(ang, 12))
    c, s = np.cos(ang), np.sin(ang)
    # rotate the hull by -ang: u = x c + y s, v = -x s + y c
    u = hull[None, :, 0] * c[:, None] + hull[None, :, 1] * s[:, None]
    v = -hull[None, :, 0] * s[:, None] + hull[None, :, 1] * c[:, None]
    w = u.max(1) - u.min(1)
    h = v.max(1) - v.min(1)
    area = w * h
    best = np.flatnonzero(area <= area.min() * (1 + 1e-12))
    k = best[np.argmin(np.minimum(ang[best], np.pi / 2 - ang[best]))]
    cu = (u[k].max() + u[k].min()) / 2
    cv = (v[k].max() + v[k].min()) / 2
    cx = cu * c[k] - cv * s[k]
    cy = cu * s[k] + cv * c[k]
    a, ww, hh = float(ang[k]), float(w[k]), float(h[k])
    if a > np.pi / 4:  # prefer the smaller rotation: swap sides
        a, ww, hh = a - np.pi / 2, hh, ww
    return np.array([cx, cy, ww, hh, np.rad2deg(a)])


def mask_to_rbox(mask: Any, *, where: str = "mask") -> np.ndarray:
    """Minimum-area rotated box (5,) around the pixels of a 2D boolean mask.

    Pixel ``(row, col)`` is the unit square ``[col, col + 1) x [row, row + 1)`` (the
    pixel-edge coordinates of ``Box.xyxy``), so a one-pixel-wide line gives a box of width
    1 and an axis-aligned block of pixels gives exactly its ``xyxy`` extent.
    """
    m = np.asarray(mask, bool)
    if m.ndim != 2:
        raise ObjectKindError("a mask for a rotated box must be 2D", where=where, value=m.shape)
    # boundary pixels are enough for the hull
    from scipy import ndimage as ndi

    edge = m & ~ndi.binary_erosion(m)
    rr, cc = np.nonzero(edge)
    if len(rr) == 0:
        raise ObjectKindError("degenerate rotated box: the mask is empty", where=where)
    off = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    pts = (np.stack([cc, rr], axis=1)[:, None, :] + off[None]).reshape(-1, 2)
    return min_area_rect(pts, where=where)


def _clipped_boundary(p: np.ndarray, q: np.ndarray, keep_same_dir: bool) -> np.ndarray:
    """Sum of ``x dy - y dx`` over the parts of ``p``'s edges that lie inside ``q``.

    Each edge ``P0 + t d`` of ``p`` is clipped to the four half-planes of ``q``
    (Cyrus-Beck). An edge lying on an edge of ``q`` counts only when ``keep_same_dir`` and
    both run the same way, so a boundary shared by the two quadrilaterals counts once.
    """
    p0 = p[:, :, None, :]  # (M, 4, 1, 2) edge starts of p
    d = (np.roll(p, -1, axis=1) - p)[:, :, None, :]
    q0 = q[:, None, :, :]  # (M, 1, 4, 2) edge starts of q
    e = (np.roll(q, -1, axis=1) - q)[:, None, :, :]
    # inside q's edge k: cross(e_k, x - q_k) >= 0, with x = p0 + t d
    w = p0 - q0
    num = e[..., 0] * w[..., 1] - e[..., 1] * w[..., 0]  # (M, 4, 4)
    den = e[..., 0] * d[..., 1] - e[..., 1] * d[..., 0]
    len_e = np.hypot(e[..., 0], e[..., 1])
    len_d = np.hypot(d[..., 0], d[..., 1])
    tol = 1e-10 * len_e * np.maximum(len_d, 1.0) * np.maximum(len_e, 1.0)
    parallel = np.abs(den) <= tol
    with np.errstate(divide="ignore", invalid="ignore"):
        t = -num / den
    t_lo = np.where(~parallel & (den > 0), t, 0.0).max(-1)
    t_hi = np.where(~parallel & (den < 0), t, 1.0).min(-1)
    t_lo, t_hi = np.maximum(t_lo, 0.0), np.minimum(t_hi, 1.0)
    same = (e[..., 0] * d[..., 0] + e[..., 1] * d[..., 1]) > 0
    ok_par = (num > tol) | ((np.abs(num) <= tol) & same & keep_same_dir)
    ok = (ok_par | ~parallel).all(-1) & (t_hi > t_lo)
    a = p0[:, :, 0, :] + t_lo[..., None] * d[:, :, 0, :]
    b = p0[:, :, 0, :] + t_hi[..., None] * d[:, :, 0, :]
    cr = a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]
    return np.where(ok, cr, 0.0).sum(-1)


def _quad_inter_area(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Intersection areas of convex quadrilaterals ``p[i]`` and ``q[i]`` (both (M, 4, 2), CCW).

    Green's theorem: the area is half the boundary integral of ``x dy - y dx``, and the
    boundary of the intersection is made of ``p``'s edges clipped to ``q`` and ``q``'s
    edges clipped to ``p`` -- no vertex sorting is needed.
    """
    if len(p) == 0:
        return np.zeros(0)
    # translate each pair near the origin: smaller cross products, less cancellation
    c = p.mean(axis=1, keepdims=True)
    p, q = p - c, q - c
    s = _clipped_boundary(p, q, True) + _clipped_boundary(q, p, False)
    return np.maximum(0.5 * s, 0.0)


def _ccw(corners: np.ndarray) -> np.ndarray:
    """Corners in counter-clockwise order (positive signed area in x-right, y-up terms)."""
    c = corners
    sa = (
        (c[:, :, 0] * np.roll(c[:, :, 1], -1, 1)) - (np.roll(c[:, :, 0], -1, 1) * c[:, :, 1])
    ).sum(1)
    out = c.copy()
    flip = sa < 0
    out[flip] = out[flip][:, ::-1]
    return out


def _pair_iou(
    ra: np.ndarray, rb: np.ndarray, ia: np.ndarray, ib: np.ndarray, ca, cb
) -> np.ndarray:
    inter = _quad_inter_area(ca[ia], cb[ib])
    area_a = ra[ia, 2] * ra[ia, 3]
    area_b = rb[ib, 2] * rb[ib, 3]
    return inter / np.maximum(area_a + area_b - inter, _EPS)


def rbox_iou(a: Any, b: Any) -> np.ndarray:
    """Dense (N, M) IoU matrix of rotated boxes ``a`` (N, 5) and ``b`` (M, 5)."""
    ra, rb = check_rboxes(a, "a"), check_rboxes(b, "b")
    out = np.zeros((len(ra), len(rb)))
    r, c, v = rbox_iou_pairs(ra, rb, 0.0)
    out[r, c] = v
    return out


def rbox_iou_pairs(
    a: Any, b: Any, min_iou: float, chunk: int = 200_000
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs of rotated boxes with IoU >= ``min_iou`` (and > 0) as (rows, cols, iou).

    Candidates are the pairs whose circumscribed circles overlap (a KD-tree query), so the
    cost grows with the number of overlapping pairs, not ``len(a) * len(b)``; the exact
    areas are computed ``chunk`` pairs at a time.
    """
    ra, rb = check_rboxes(a, "a"), check_rboxes(b, "b")
    empty = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
    if len(ra) == 0 or len(rb) == 0:
        return empty
    rad_a = np.hypot(ra[:, 2], ra[:, 3]) / 2
    rad_b = np.hypot(rb[:, 2], rb[:, 3]) / 2
    pairs = cKDTree(ra[:, :2]).sparse_distance_matrix(
        cKDTree(rb[:, :2]), float(rad_a.max() + rad_b.max()), output_type="ndarray"
    )
    if len(pairs) == 0:
        return empty
    ia = pairs["i"].astype(np.int64)
    ib = pairs["j"].astype(np.int64)
    dist = pairs["v"]
    keep = dist < rad_a[ia] + rad_b[ib]
    ca, cb = _ccw(rbox_to_corners(ra)), _ccw(rbox_to_corners(rb))
    lo_a, hi_a = ca.min(1), ca.max(1)
    lo_b, hi_b = cb.min(1), cb.max(1)
    ia, ib = ia[keep], ib[keep]
    # bounding boxes must overlap, and IoU <= smaller area / larger area
    keep = ((lo_a[ia] < hi_b[ib]) & (lo_b[ib] < hi_a[ia])).all(1)
    if min_iou > 0:
        area_a, area_b = ra[:, 2] * ra[:, 3], rb[:, 2] * rb[:, 3]
        lo, hi = np.minimum(area_a[ia], area_b[ib]), np.maximum(area_a[ia], area_b[ib])
        keep &= lo >= min_iou * hi * (1 - 1e-9)
    ia, ib = ia[keep], ib[keep]
    vs = []
    for s in range(0, len(ia), chunk):
        vs.append(_pair_iou(ra, rb, ia[s : s + chunk], ib[s : s + chunk], ca, cb))
    v = np.concatenate(vs) if vs else np.zeros(0)
    sel = (v >= min_iou) & (v > 0)
    order = np.lexsort((ib[sel], ia[sel]))
    return ia[sel][order], ib[sel][order], v[sel][order]


def match_rboxes(
    a: Sequence[RotatedBox],
    b: Sequence[RotatedBox],
    iou_threshold: float = 0.5,
    by_class: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One-to-one matching of rotated boxes by rotated IoU, within each plane (and class).

    Returns matched indices into ``a``, into ``b`` and their IoU (sorted by ``a``). The
    assignment maximises the number of matches, then the summed IoU (the same solver as
    axis-aligned ``match_boxes``).
    """
    from ..qc.matching import match_grouped

    xa = np.array([bx.xywha for bx in a], float).reshape(-1, 5)
    xb = np.array([bx.xywha for bx in b], float).reshape(-1, 5)
    return match_grouped(a, b, xa, xb, rbox_iou_pairs, iou_threshold, by_class)
