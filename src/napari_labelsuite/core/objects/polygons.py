"""Polygons: instance mask <-> rings (holes kept as separate rings), validity checks.

Rings are ``(n, 2)`` arrays of ``x, y`` in the pixel-edge coordinates of ``Box.xyxy``.
Outer rings and hole rings are told apart by ``Ring.hole``. The raster of a ring set is
the pycocotools raster of the outer rings minus that of the holes, so a polygon written
to COCO decodes (``pycocotools.mask``) to the same pixels as our own raster.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import ObjectKindError

__all__ = [
    "Polygon",
    "Ring",
    "check_polygon",
    "mask_to_rings",
    "rings_raster",
    "rings_to_mask",
]


@dataclass
class Ring:
    """One closed ring of a polygon: an outline (``hole=False``) or a hole in it."""

    xy: np.ndarray
    hole: bool = False


@dataclass
class Polygon:
    """One polygon shape of an annotation: a ring with its class, instance id and plane.

    Several shapes with the same non-zero ``instance_id`` on one plane form one object
    (its parts and holes); ``instance_id=0`` makes the ring an object of its own.
    """

    ring: Ring
    class_id: int
    instance_id: int = 0
    plane: tuple[int, ...] = ()
    status: str = "todo"
    attributes: dict[str, Any] = field(default_factory=dict)


def _signed_area(xy: np.ndarray) -> float:
    x, y = xy[:, 0], xy[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y))


def check_polygon(xy: Any, *, where: str = "polygon") -> np.ndarray:
    """``xy`` as an (n, 2) float array after checking it is a simple polygon.

    Raises
    ------
    ObjectKindError
        Fewer than 3 points, non-finite values, no area, or edges that cross each other
        (a self-intersecting outline has no well-defined inside).
    """
    a = np.asarray(xy, float)
    if a.ndim != 2 or a.shape[1] != 2 or len(a) < 3:
        raise ObjectKindError("a polygon needs at least 3 (x, y) points", where=where,
                              value=a.shape)  # fmt: skip
    if not np.isfinite(a).all():
        raise ObjectKindError("polygon coordinates must be finite", where=where)
    if abs(_signed_area(a)) <= 1e-12:
        raise ObjectKindError("degenerate polygon: it has no area", where=where)
    n = len(a)
    p, r = a, np.roll(a, -1, axis=0) - a
    i, j = np.triu_indices(n, k=2)
    keep = ~((i == 0) & (j == n - 1))  # the first and last edges share a vertex
    i, j = i[keep], j[keep]
    den = r[i, 0] * r[j, 1] - r[i, 1] * r[j, 0]
    d = p[j] - p[i]
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (d[:, 0] * r[j, 1] - d[:, 1] * r[j, 0]) / den
        u = (d[:, 0] * r[i, 1] - d[:, 1] * r[i, 0]) / den
    cross = (np.abs(den) > 1e-12) & (t > 1e-9) & (t < 1 - 1e-9) & (u > 1e-9) & (u < 1 - 1e-9)
    if cross.any():
        k = int(np.flatnonzero(cross)[0])
        raise ObjectKindError(
            "self-intersecting polygon: two edges cross", where=where, field="edges",
            value=(int(i[k]), int(j[k])),
        )  # fmt: skip
    return a


def mask_to_rings(mask: Any, tolerance: float = 0.0) -> list[Ring]:
    """Outline and hole rings of a 2D binary mask.

    With ``tolerance=0`` the rings follow the pixel boundary midway between pixel centres,
    and :func:`rings_to_mask` gives the mask back pixel for pixel; a positive
    ``tolerance`` (pixels) simplifies them (Douglas-Peucker, ``approximate_polygon``).
    """
    from skimage.measure import approximate_polygon, find_contours

    m = np.asarray(mask, bool)
    if m.ndim != 2:
        raise ObjectKindError("a mask for polygons must be 2D", field="mask", value=m.shape)
    padded = np.pad(m.astype(np.uint8), 1)
    out = []
    for contour in find_contours(padded, 0.5, fully_connected="low"):
        contour = approximate_polygon(contour, tolerance=float(tolerance))
        if len(contour) > 1 and np.array_equal(contour[0], contour[-1]):
            contour = contour[:-1]
        if len(contour) < 3:
            continue
        xy = np.column_stack([contour[:, 1] - 0.5, contour[:, 0] - 0.5])
        # find_contours keeps the foreground on one side: outlines and holes turn opposite ways
        out.append(Ring(xy, hole=_signed_area(xy) < 0))
    return out


def rings_to_mask(rings: list[Ring], height: int, width: int) -> np.ndarray:
    """Raster (height, width) of outline rings minus hole rings, pycocotools-exact."""
    from ..formats._common import polygons_to_mask

    out = np.zeros((height, width), bool)
    for want_hole in (False, True):
        for ring in rings:
            if ring.hole != want_hole:
                continue
            got = polygons_to_mask([np.asarray(ring.xy, float).ravel()], height, width)
            if got is None:
                continue
            crop, sl = got
            if want_hole:
                out[sl] &= ~crop
            else:
                out[sl] |= crop
    return out


def rings_raster(
    rings: list[Ring], height: int, width: int
) -> tuple[np.ndarray, tuple[slice, slice]] | None:
    """Raster of outline rings minus hole rings over the outlines' bounding box.

    The same pixels as :func:`rings_to_mask` on the whole (height, width) image, but only
    the box is allocated. The rings are rasterised where they lie: shifting float vertices
    into a crop first changes them in the last bit, which can move pycocotools' pixel
    decisions. Returns ``(mask, (rows, cols))`` or None when no pixel is inside.
    """
    from ..formats._common import polygons_to_mask

    outer = [np.asarray(r.xy, float).ravel() for r in rings if not r.hole]
    got = polygons_to_mask(outer, height, width) if outer else None
    if got is None:
        return None
    out, (rs, cs) = got
    out = out.copy()
    for ring in rings:
        if not ring.hole:
            continue
        hole = polygons_to_mask([np.asarray(ring.xy, float).ravel()], height, width)
        if hole is None:
            continue
        hm, (hr, hc) = hole
        r0, r1 = max(hr.start, rs.start), min(hr.stop, rs.stop)
        c0, c1 = max(hc.start, cs.start), min(hc.stop, cs.stop)
        if r1 > r0 and c1 > c0:
            out[r0 - rs.start : r1 - rs.start, c0 - cs.start : c1 - cs.start] &= ~hm[
                r0 - hr.start : r1 - hr.start, c0 - hc.start : c1 - hc.start
            ]
    return out, (rs, cs)
