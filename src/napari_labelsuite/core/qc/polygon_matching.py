"""One-to-one matching of polygon objects by the IoU of their areas.

A polygon object is the rings of one instance on one plane (its outlines minus its holes);
a shape with ``instance_id == 0`` is an object of its own. The IoU is computed on the
objects' rasters, the pixel-centre rule of pycocotools (``mask.frPyObjects``) that COCO's
own ``segm`` evaluation uses, so it equals ``pycocotools.mask.iou`` of the same polygons.
``method="shapely"`` computes the exact area IoU instead (needs ``shapely``, the ``peers``
extra); both use the same candidate search and the same optimal assignment as box matching.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import QCError
from .matching import MatchResult, _per_class_counts, assign, gather_matches

__all__ = ["PolygonObject", "match_polygons", "polygon_iou_pairs", "polygon_objects"]

METHODS = ("raster", "shapely")


@dataclass
class PolygonObject:
    """The rings of one polygon object, its class and plane, and its shapes' indices."""

    rings: list[Any]  # core.objects.Ring
    class_id: int
    plane: tuple[int, ...]
    shapes: list[int]  # indices of its shapes in the list it was built from

    @property
    def index(self) -> int:
        """The index of its first outline (the shape a review list points at)."""
        outer = [s for s, r in zip(self.shapes, self.rings) if not r.hole]
        return (outer or self.shapes)[0]


def polygon_objects(polygons: Sequence[Any], where: str = "polygons") -> list[PolygonObject]:
    """Group polygon shapes (``core.objects.Polygon``) into objects, in order of first shape.

    Shapes that share a non-zero ``instance_id`` and a plane form one object (parts and
    holes); each shape with ``instance_id == 0`` is an object of its own.

    Raises
    ------
    QCError
        A ring with fewer than 3 points or non-finite coordinates, an object made of holes
        only, or shapes of one object with different classes.
    """
    objects: list[PolygonObject] = []
    by_key: dict[tuple[Any, ...], PolygonObject] = {}
    for i, p in enumerate(polygons):
        xy = np.asarray(p.ring.xy, float)
        if xy.ndim != 2 or xy.shape[1:] != (2,) or len(xy) < 3 or not np.isfinite(xy).all():
            raise QCError(
                "a polygon needs at least 3 finite (x, y) points",
                where=f"{where}[{i}]",
                field="ring",
                value=xy.shape,
            )
        plane = tuple(int(v) for v in p.plane)
        key = (plane, int(p.instance_id)) if int(p.instance_id) else ("shape", i)
        obj = by_key.get(key)
        if obj is None:
            obj = by_key[key] = PolygonObject([], int(p.class_id), plane, [])
            objects.append(obj)
        elif obj.class_id != int(p.class_id):
            raise QCError(
                f"shapes of instance {p.instance_id} have classes {obj.class_id} and {p.class_id}",
                where=f"{where}[{i}]",
                field="class_id",
                value=int(p.class_id),
            )
        obj.rings.append(p.ring)
        obj.shapes.append(i)
    for obj in objects:
        if all(r.hole for r in obj.rings):
            raise QCError(
                "an object has holes but no outline",
                where=f"{where}[{obj.shapes[0]}]",
                field="hole",
                value=True,
            )
    return objects


def _rasters(objects: Sequence[PolygonObject]) -> tuple[list[np.ndarray], np.ndarray]:
    """Each object's raster over its pixel box, and the boxes ``(y0, x0, y1, x1)``."""
    from ..objects.polygons import Ring, rings_to_mask

    masks, boxes = [], np.zeros((len(objects), 4), np.int64)
    for k, obj in enumerate(objects):
        xy = np.concatenate([np.asarray(r.xy, float) for r in obj.rings])
        # an integer shift leaves the pycocotools raster unchanged (vertices scale by 5 and
        # round), so each object is rasterised in its own small frame
        x0, y0 = (int(v) for v in np.floor(xy.min(axis=0)))
        x1, y1 = (int(v) + 1 for v in np.ceil(xy.max(axis=0)))
        shifted = [Ring(np.asarray(r.xy, float) - [x0, y0], r.hole) for r in obj.rings]
        m = rings_to_mask(shifted, y1 - y0, x1 - x0)
        masks.append(m)
        boxes[k] = (y0, x0, y1, x1)
    return masks, boxes


def _overlapping(ba: np.ndarray, bb: np.ndarray, rows_per_step: int = 1024) -> tuple:
    """Index pairs whose boxes ``(y0, x0, y1, x1)`` overlap, ``rows_per_step`` rows at a time."""
    rs, cs = [], []
    for s in range(0, len(ba), rows_per_step):
        a = ba[s : s + rows_per_step, None, :]
        hit = (
            (a[..., 0] < bb[None, :, 2])
            & (bb[None, :, 0] < a[..., 2])
            & (a[..., 1] < bb[None, :, 3])
            & (bb[None, :, 1] < a[..., 3])
        )
        r, c = np.nonzero(hit)
        rs.append(r + s)
        cs.append(c)
    if not rs:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(rs).astype(np.int64), np.concatenate(cs).astype(np.int64)


def _raster_iou(a: Sequence[PolygonObject], b: Sequence[PolygonObject]) -> tuple:
    ma, ba = _rasters(a)
    mb, bb = _rasters(b)
    area_a = np.array([m.sum() for m in ma], np.int64)
    area_b = np.array([m.sum() for m in mb], np.int64)
    ia, ib = _overlapping(ba, bb)
    inter = np.zeros(len(ia), np.int64)
    for k, (i, j) in enumerate(zip(ia.tolist(), ib.tolist())):
        y0, x0 = max(ba[i, 0], bb[j, 0]), max(ba[i, 1], bb[j, 1])
        y1, x1 = min(ba[i, 2], bb[j, 2]), min(ba[i, 3], bb[j, 3])
        wa = ma[i][y0 - ba[i, 0] : y1 - ba[i, 0], x0 - ba[i, 1] : x1 - ba[i, 1]]
        wb = mb[j][y0 - bb[j, 0] : y1 - bb[j, 0], x0 - bb[j, 1] : x1 - bb[j, 1]]
        inter[k] = np.count_nonzero(wa & wb)
    union = area_a[ia] + area_b[ib] - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = np.where(union > 0, inter / np.maximum(union, 1), 0.0)
    return ia, ib, iou


def _shapely_geometry(obj: PolygonObject) -> Any:
    import shapely

    outer = [shapely.Polygon(np.asarray(r.xy, float)) for r in obj.rings if not r.hole]
    holes = [shapely.Polygon(np.asarray(r.xy, float)) for r in obj.rings if r.hole]
    geom = shapely.union_all(outer)
    return geom.difference(shapely.union_all(holes)) if holes else geom


def _shapely_iou(a: Sequence[PolygonObject], b: Sequence[PolygonObject]) -> tuple:
    try:
        import shapely
    except ImportError:
        raise QCError(
            "method 'shapely' needs shapely (pip install shapely, or the 'peers' extra)",
            field="method",
            value="shapely",
        ) from None
    ga = np.array([_shapely_geometry(o) for o in a], dtype=object)
    gb = np.array([_shapely_geometry(o) for o in b], dtype=object)
    ib, ia = shapely.STRtree(gb).query(ga, predicate="intersects")
    ia, ib = ia.astype(np.int64), ib.astype(np.int64)
    inter = shapely.area(shapely.intersection(ga[ia], gb[ib]))
    union = shapely.area(ga[ia]) + shapely.area(gb[ib]) - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)
    return ia, ib, iou


def polygon_iou_pairs(
    a: Sequence[PolygonObject],
    b: Sequence[PolygonObject],
    min_iou: float,
    method: str = "raster",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs of polygon objects with IoU >= ``min_iou`` (and > 0) as (rows, cols, iou).

    Only pairs whose bounding boxes overlap are measured, so the cost grows with the number
    of overlapping pairs. ``method`` is ``"raster"`` (pycocotools' pixel rule) or
    ``"shapely"`` (exact areas).
    """
    if method not in METHODS:
        raise QCError(f"method must be one of {METHODS}", field="method", value=method)
    empty = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
    if not len(a) or not len(b):
        return empty
    ia, ib, iou = (_raster_iou if method == "raster" else _shapely_iou)(a, b)
    sel = (iou >= min_iou) & (iou > 0)
    order = np.lexsort((ib[sel], ia[sel]))
    return ia[sel][order], ib[sel][order], np.asarray(iou[sel][order], float)


def match_polygons(
    a: Sequence[Any],
    b: Sequence[Any],
    iou_threshold: float = 0.5,
    by_class: bool = True,
    method: str = "raster",
) -> MatchResult:
    """One-to-one matching of two polygon lists by polygon IoU, within each plane (and class).

    Parameters
    ----------
    a, b : sequence of core.objects.Polygon
        Shapes of the reference and of the other annotation; shapes of one instance on a
        plane form one object (see :func:`polygon_objects`).
    iou_threshold : float
        Minimum IoU of a match, in (0, 1].
    by_class : bool
        Match only objects of the same class.
    method : {"raster", "shapely"}
        See :func:`polygon_iou_pairs`.

    Returns
    -------
    MatchResult
        ``a`` / ``b`` hold the shape index of each matched object's first outline; tp, fp
        and fn count objects. ``extra["objects_a"]`` / ``["objects_b"]`` are the
        :class:`PolygonObject` lists, ``extra["per_class"]`` the counts per class.
    """
    if not 0.0 < float(iou_threshold) <= 1.0:
        raise QCError(
            "IoU threshold must be in (0, 1]", field="iou_threshold", value=iou_threshold
        )
    if method not in METHODS:
        raise QCError(f"method must be one of {METHODS}", field="method", value=method)
    oa, ob = polygon_objects(a, "a"), polygon_objects(b, "b")

    def groups(objs: list[PolygonObject]) -> dict[tuple[Any, ...], np.ndarray]:
        g: dict[tuple[Any, ...], list[int]] = {}
        for k, o in enumerate(objs):
            g.setdefault((o.plane, o.class_id if by_class else 0), []).append(k)
        return {key: np.asarray(v, np.int64) for key, v in g.items()}

    ga, gb = groups(oa), groups(ob)
    out_a, out_b, out_v = [], [], []
    for key, ka in ga.items():
        kb = gb.get(key)
        if kb is None:
            continue
        r, c, v = polygon_iou_pairs(
            [oa[k] for k in ka], [ob[k] for k in kb], float(iou_threshold), method
        )
        sel, _ = assign(r, c, v, len(ka), len(kb))
        out_a.append(ka[r[sel]])
        out_b.append(kb[c[sel]])
        out_v.append(v[sel])
    ma, mb, mv = gather_matches(out_a, out_b, out_v)
    idx_a = np.array([o.index for o in oa], np.int64)
    idx_b = np.array([o.index for o in ob], np.int64)
    res = MatchResult(
        threshold=float(iou_threshold),
        a=idx_a[ma],
        b=idx_b[mb],
        iou=mv,
        unmatched_a=np.setdiff1d(idx_a, idx_a[ma]),
        unmatched_b=np.setdiff1d(idx_b, idx_b[mb]),
        extra={"objects_a": oa, "objects_b": ob, "method": method},
    )
    if by_class:
        res.extra["per_class"] = _per_class_counts(
            [o.class_id for o in oa], [o.class_id for o in ob], ma
        )
    return res
