"""Rotated-box matching speed: 10,000 rotated boxes against 10,000 perturbed copies.

``match_rboxes`` (KD-tree candidates, vectorised convex-quadrilateral intersection by
Green's theorem, sparse one-to-one assignment) against the same matching built on
``shapely`` (an STRtree of the polygons, ``shapely.intersection``/``area`` on every
intersecting pair, the same assignment), measured in the same run. Target <= 1 s.
The two must find the same matches.

Run: ``python benchmarks/objects.py [n_boxes]``
"""

from __future__ import annotations

import sys

import numpy as np
import shapely
from _common import best_of

from napari_labelsuite.core.objects import RotatedBox, match_rboxes, rbox_to_corners
from napari_labelsuite.core.qc.matching import assign


def make_boxes(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` boxes over a 3000-pixel field (about as dense as an aerial tile) and a noisy copy."""
    rng = np.random.default_rng(seed)
    a = np.c_[rng.uniform(0, 3000, (n, 2)), rng.uniform(5, 40, (n, 2)), rng.uniform(-90, 90, n)]
    b = a + np.c_[rng.normal(0, 2, (n, 2)), rng.normal(0, 1, (n, 2)), rng.normal(0, 3, n)]
    b[:, 2:4] = np.abs(b[:, 2:4]) + 0.5
    return a, b


def shapely_match(a: np.ndarray, b: np.ndarray, thr: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    pa, pb = shapely.polygons(rbox_to_corners(a)), shapely.polygons(rbox_to_corners(b))
    ia, ib = shapely.STRtree(pb).query(pa, predicate="intersects")
    inter = shapely.area(shapely.intersection(pa[ia], pb[ib]))
    iou = inter / (shapely.area(pa[ia]) + shapely.area(pb[ib]) - inter)
    keep = iou >= thr
    r, c, v = ia[keep], ib[keep], iou[keep]
    sel, _ = assign(r, c, v, len(a), len(b))
    o = np.argsort(r[sel], kind="stable")
    return r[sel][o], c[sel][o]


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    a, b = make_boxes(n)
    ra = [RotatedBox(*x, class_id=0) for x in a]
    rb = [RotatedBox(*x, class_id=0) for x in b]
    t_ours, (ma, mb, _) = best_of(3, match_rboxes, ra, rb, 0.5)
    t_peer, (sa, sb) = best_of(3, shapely_match, a, b, 0.5)
    same = np.array_equal(ma, sa) and np.array_equal(mb, sb)
    print(f"rotated-box matching, {n} vs {n} boxes: {len(ma)} matches (same as shapely: {same})")
    print(f"  labelsuite match_rboxes : {t_ours:7.3f} s   (target <= 1 s)")
    print(f"  shapely STRtree + areas : {t_peer:7.3f} s")
    print(f"  ratio shapely / ours    : {t_peer / t_ours:7.1f} x")


if __name__ == "__main__":
    main()
