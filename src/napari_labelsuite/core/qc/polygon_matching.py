"""One-to-one matching of polygon objects by the IoU of their areas.

A polygon object is the rings of one instance on one plane (its outlines minus its holes);
a shape with ``instance_id == 0`` is an object of its own. The IoU is computed on the
objects' rasters, the pixel-centre rule of pycocotools (``mask.frPyObjects``) that COCO's
own ``segm`` evaluation uses, so it equals ``pycocotools.mask.iou`` of the same polygons
(in an image whose top-left corner is the origin: parts at negative coordinates are cut).
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


@dataclass
class _Runs:
    """Disjoint column runs of every object: ``obj``, ``col``, rows ``row0:row1``."""

    obj: np.ndarray
    col: np.ndarray
    row0: np.ndarray
    row1: np.ndarray
    start: np.ndarray  # runs of object k: start[k]:start[k + 1]
    box: np.ndarray  # (y0, x0, y1, x1) per object (zeros when empty)
    area: np.ndarray


def _ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """``concatenate([arange(s, s + n) for s, n in zip(starts, counts)])``, vectorised."""
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, np.int64)
    return np.repeat(starts - (np.cumsum(counts) - counts), counts) + np.arange(total)


def _object_runs(objects: Sequence[PolygonObject]) -> _Runs:
    """The pycocotools raster of every object as disjoint column runs, all at once.

    One vectorised rasterisation of all rings gives column runs per ring; a sweep over the
    run ends of each (object, column) keeps the rows covered by an outline and by no hole,
    so parts may overlap and holes cut through. Pixels left of or above the origin are cut,
    as pycocotools cuts them at the image border.
    """
    from ..formats.rle import polygon_runs

    n = len(objects)
    ring_obj = np.repeat(np.arange(n), [len(o.rings) for o in objects])
    rings = [r for o in objects for r in o.rings]
    empty = np.zeros(0, np.int64)
    if not rings:
        z = np.zeros(n + 1, np.int64)
        return _Runs(empty, empty, empty, empty, z, np.zeros((n, 4), np.int64), z[:-1])
    xy = [np.asarray(r.xy, float) for r in rings]
    top = np.concatenate(xy).max(axis=0)
    w, h = int(np.ceil(max(top[0], 0.0))) + 1, int(np.ceil(max(top[1], 0.0))) + 1
    owner, col, row0, row1 = polygon_runs(xy, h, w)
    holes = np.array([r.hole for r in rings], bool)
    if len(rings) == n and not holes.any():
        # one outline per object: its runs are disjoint and sorted by (object, column) already
        obj, c, a, b = owner, col, row0, row1
    else:
        hole = holes[owner]
        # run ends as events: +1 / -1 on the outline or the hole count
        ev_obj = np.repeat(ring_obj[owner], 2)
        ev_col = np.repeat(col, 2)
        ev_row = np.column_stack([row0, row1]).ravel()
        step = np.tile([1, -1], len(owner))
        d_out = np.where(np.repeat(hole, 2), 0, step)
        d_hole = np.where(np.repeat(hole, 2), step, 0)
        order = np.argsort((ev_obj * w + ev_col) * (h + 1) + ev_row, kind="stable")
        ev_obj, ev_col, ev_row = ev_obj[order], ev_col[order], ev_row[order]
        # every run closes in its own (object, column) group: the running sums restart at 0
        n_out, n_hole = np.cumsum(d_out[order]), np.cumsum(d_hole[order])
        same = (ev_obj[1:] == ev_obj[:-1]) & (ev_col[1:] == ev_col[:-1])
        keep = same & (n_out[:-1] > 0) & (n_hole[:-1] == 0) & (ev_row[1:] > ev_row[:-1])
        obj, c = ev_obj[:-1][keep], ev_col[:-1][keep]
        a, b = ev_row[:-1][keep], ev_row[1:][keep]
    start = np.searchsorted(obj, np.arange(n + 1))
    area = np.bincount(obj, b - a, minlength=n).astype(np.int64)
    box = np.zeros((n, 4), np.int64)
    has = area > 0
    lo_r = np.full(n, np.iinfo(np.int64).max)
    lo_c = lo_r.copy()
    hi_r = np.full(n, -1)
    hi_c = hi_r.copy()
    np.minimum.at(lo_r, obj, a)
    np.minimum.at(lo_c, obj, c)
    np.maximum.at(hi_r, obj, b)
    np.maximum.at(hi_c, obj, c + 1)
    box[has] = np.column_stack([lo_r, lo_c, hi_r, hi_c])[has]
    return _Runs(obj, c, a, b, start, box, area)


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
    ra, rb = _object_runs(a), _object_runs(b)
    ia, ib = _overlapping(ra.box, rb.box)
    ok = (ra.area[ia] > 0) & (rb.area[ib] > 0)
    ia, ib = ia[ok], ib[ok]
    # join the runs of both objects of every pair on (pair, column)
    n_a = ra.start[ia + 1] - ra.start[ia]
    n_b = rb.start[ib + 1] - rb.start[ib]
    run_a, run_b = _ranges(ra.start[ia], n_a), _ranges(rb.start[ib], n_b)
    pair_a = np.repeat(np.arange(len(ia)), n_a)
    pair_b = np.repeat(np.arange(len(ib)), n_b)
    width = int(max(ra.col.max(initial=0), rb.col.max(initial=0))) + 1
    key_a = pair_a * width + ra.col[run_a]
    key_b = pair_b * width + rb.col[run_b]  # sorted: pairs in order, columns within
    lo = np.searchsorted(key_b, key_a, "left")
    cnt = np.searchsorted(key_b, key_a, "right") - lo
    ja = np.repeat(np.arange(len(run_a)), cnt)
    jb = _ranges(lo, cnt)
    ra_, rb_ = run_a[ja], run_b[jb]
    overlap = np.minimum(ra.row1[ra_], rb.row1[rb_]) - np.maximum(ra.row0[ra_], rb.row0[rb_])
    inter = np.bincount(pair_a[ja], np.maximum(overlap, 0), minlength=len(ia))
    union = ra.area[ia] + rb.area[ib] - inter
    return ia, ib, inter / np.maximum(union, 1)


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
