"""Polygons through augmentation: N traced outlines, affine variants clipped to the frame.

``core.objects.transform.transform_polygons`` (all vertices through the variant's map at
once, only outlines that straddle the frame clipped, pieces split along the frame)
against ``shapely`` doing the same job in the same run: ``shapely.affinity.affine_transform``
of each polygon, then ``intersection`` with the frame box (vectorised ``shapely`` 2 calls).
The two must give the same total area per variant.

Run: ``python benchmarks/polygon_augment.py [n_polygons] [n_variants]``
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
from _common import best_of

from napari_labelsuite.core.objects import Polygon, Ring, mask_to_rings
from napari_labelsuite.core.objects.transform import transform_polygons
from napari_labelsuite.core.synthetic import make_cells_2d

SIZE = 1024


def traced_outlines(n: int) -> list[np.ndarray]:
    """Up to ``n`` outlines traced from the synthetic nuclei (pixel-edge x, y)."""
    from napari_labelsuite.core.boxes import object_slices

    cells = make_cells_2d(shape=(SIZE, SIZE), density=3.0)
    out = []
    for k, sl in object_slices(cells.instances).items():
        for ring in mask_to_rings(cells.instances[sl] == k, tolerance=0.5):
            if not ring.hole:
                out.append(ring.xy + [sl[1].start, sl[0].start])
        if len(out) >= n:
            break
    return out


def affine_xy(seed: int) -> np.ndarray:
    """A rotation by up to 30 degrees about the centre, scale 0.8-1.25, shift up to 10%."""
    rng = np.random.default_rng(seed)
    a, s = np.radians(rng.uniform(-30, 30)), rng.uniform(0.8, 1.25)
    t = rng.uniform(-0.1, 0.1, 2) * SIZE
    lin = s * np.array([[np.cos(a), np.sin(a)], [-np.sin(a), np.cos(a)]])
    c = np.array([SIZE / 2, SIZE / 2])
    m = np.eye(3)
    m[:2, :2], m[:2, 2] = lin, c - lin @ c + t
    return m


def ours(rings: list[np.ndarray], mats: list[np.ndarray]) -> list[list[Polygon]]:
    polys = [Polygon(Ring(r), 1) for r in rings]
    out = []
    for m in mats:
        # transform_polygons maps (row, col) pixel centres; m acts on pixel-edge (x, y)
        def fwd(rc: np.ndarray, m: np.ndarray = m) -> np.ndarray:
            xy = rc[:, ::-1] + 0.5
            return (xy @ m[:2, :2].T + m[:2, 2] - 0.5)[:, ::-1]

        out.append(transform_polygons(polys, fwd, (SIZE, SIZE))[0])
    return out


def peer(rings: list[np.ndarray], mats: list[np.ndarray]) -> list[Any]:
    import shapely
    from shapely import affinity

    geoms = [shapely.Polygon(r) for r in rings]
    frame = shapely.box(0, 0, SIZE, SIZE)
    out = []
    for m in mats:
        params = [m[0, 0], m[0, 1], m[1, 0], m[1, 1], m[0, 2], m[1, 2]]
        moved = [affinity.affine_transform(g, params) for g in geoms]
        out.append(shapely.intersection(moved, frame))
    return out


def _area(xy: np.ndarray) -> float:
    x, y = xy[:, 0], xy[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y))


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    k = int(sys.argv[2]) if len(sys.argv) > 2 else 9
    rings = traced_outlines(n)
    mats = [affine_xy(s) for s in range(k)]
    import shapely

    t_ours, got = best_of(3, ours, rings, mats)
    t_peer, ref = best_of(3, peer, rings, mats)
    a_ours = [sum(abs(_area(p.ring.xy)) for p in variant) for variant in got]
    a_peer = [float(shapely.area(variant).sum()) for variant in ref]
    same = np.allclose(a_ours, a_peer, rtol=1e-9)
    verts = int(np.mean([len(r) for r in rings]))
    print(
        f"polygons through augmentation: {len(rings)} outlines (~{verts} vertices), "
        f"{k} affine variants, frame {SIZE}x{SIZE}; same clipped area as shapely: {same}"
    )
    print(f"  labelsuite transform_polygons        : {t_ours:7.3f} s")
    print(f"  shapely affine_transform + intersect : {t_peer:7.3f} s")
    print(f"  ratio shapely / ours                 : {t_peer / t_ours:7.2f} x")


if __name__ == "__main__":
    main()
