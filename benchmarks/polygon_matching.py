"""Polygon matching speed and agreement: N outlines against N perturbed copies.

``match_polygons`` (bounding-box candidates, each object rasterised once in its own box with
pycocotools' pixel rule, intersections counted on the overlapping windows, the sparse
optimal assignment) against two peers measured in the same run:

* ``shapely``: an STRtree of the polygons, ``shapely.intersection`` / ``area`` on every
  intersecting pair (exact areas), the same assignment; this is also what
  ``match_polygons(..., method="shapely")`` does;
* ``pycocotools``: ``mask.frPyObjects`` per polygon and ``mask.iou`` of all pairs (COCO's
  ``segm`` IoU, dense), the same assignment.

The raster IoU must equal pycocotools' and lie near shapely's exact IoU; the matches are
compared.

Run: ``python benchmarks/polygon_matching.py [n_polygons]``
"""

from __future__ import annotations

import sys

import numpy as np
from _common import best_of

from napari_labelsuite.core.objects import Polygon, Ring
from napari_labelsuite.core.qc import match_polygons
from napari_labelsuite.core.qc.matching import assign

FIELD = 3000  # pixels on a side: about as dense as an aerial tile with field outlines


def make_polygons(n: int, seed: int = 0) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """``n`` star-shaped outlines (16 vertices, radius 6-30 px) and shifted, scaled copies."""
    rng = np.random.default_rng(seed)
    a, b = [], []
    for _ in range(n):
        c = rng.uniform(40, FIELD - 40, 2)
        t = np.sort(rng.uniform(0, 2 * np.pi, 16))
        r = rng.uniform(6, 30) * rng.uniform(0.6, 1.0, 16)
        xy = c + np.c_[r * np.cos(t), r * np.sin(t)]
        a.append(xy)
        b.append((xy - c) * rng.uniform(0.93, 1.07) + c + rng.normal(0, 1.5, 2))
    return a, b


def _assign(r: np.ndarray, c: np.ndarray, v: np.ndarray, n: int, m: int, thr: float) -> tuple:
    keep = v >= thr
    r, c, v = r[keep], c[keep], v[keep]
    sel, _ = assign(r, c, v, n, m)
    o = np.argsort(r[sel], kind="stable")
    return r[sel][o], c[sel][o], v[sel][o]


def shapely_match(a: list[np.ndarray], b: list[np.ndarray], thr: float = 0.5) -> tuple:
    import shapely

    pa, pb = shapely.polygons(a), shapely.polygons(b)
    ib, ia = shapely.STRtree(pb).query(pa, predicate="intersects")
    inter = shapely.area(shapely.intersection(pa[ia], pb[ib]))
    iou = inter / (shapely.area(pa[ia]) + shapely.area(pb[ib]) - inter)
    return _assign(ia, ib, iou, len(a), len(b), thr)


def pycocotools_match(a: list[np.ndarray], b: list[np.ndarray], thr: float = 0.5) -> tuple:
    from pycocotools import mask as mask_utils

    ra = mask_utils.frPyObjects([x.ravel().tolist() for x in a], FIELD, FIELD)
    rb = mask_utils.frPyObjects([x.ravel().tolist() for x in b], FIELD, FIELD)
    iou = mask_utils.iou(ra, rb, [0] * len(rb))
    r, c = np.nonzero(iou > 0)
    return _assign(r, c, iou[r, c], len(a), len(b), thr)


def main() -> None:
    import warnings

    warnings.filterwarnings("ignore", category=DeprecationWarning)
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    a, b = make_polygons(n)
    pa = [Polygon(Ring(x), 0) for x in a]
    pb = [Polygon(Ring(x), 0) for x in b]
    t_ours, m = best_of(3, match_polygons, pa, pb, 0.5)
    t_ours_exact, me = best_of(3, match_polygons, pa, pb, 0.5, method="shapely")
    t_shp, (sa, sb, sv) = best_of(3, shapely_match, a, b, 0.5)
    t_coco, (ca, cb, cv) = best_of(1, pycocotools_match, a, b, 0.5)
    same_coco = np.array_equal(m.a, ca) and np.array_equal(m.b, cb) and np.allclose(m.iou, cv)
    same_shp = np.array_equal(me.a, sa) and np.array_equal(me.b, sb)
    both = np.intersect1d(m.a, sa)
    diff = np.abs(m.iou[np.isin(m.a, both)] - sv[np.isin(sa, both)])
    print(f"polygon matching, {n} vs {n} outlines of 16 vertices in {FIELD}x{FIELD} px")
    print(
        f"  raster matches {len(m.a)} (same pairs and IoU as pycocotools: {same_coco}); "
        f"shapely matches {len(sa)}; method='shapely' same as shapely: {same_shp}"
    )
    print(f"  raster vs exact IoU of pairs both match: mean |diff| {diff.mean():.4f}, "
          f"max {diff.max():.4f}")  # fmt: skip
    print(f"  labelsuite match_polygons (raster)  : {t_ours:7.3f} s")
    print(f"  labelsuite match_polygons (shapely) : {t_ours_exact:7.3f} s")
    print(f"  shapely STRtree + areas              : {t_shp:7.3f} s")
    print(f"  pycocotools frPyObjects + iou (dense): {t_coco:7.3f} s")
    print(f"  ratio shapely / ours (raster)        : {t_shp / t_ours:7.2f} x")
    print(f"  ratio pycocotools / ours (raster)    : {t_coco / t_ours:7.2f} x")


if __name__ == "__main__":
    main()
