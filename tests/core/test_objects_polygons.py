"""Polygons: mask <-> rings with holes, pycocotools agreement, validity checks."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

from napari_labelsuite.core.errors import ObjectKindError
from napari_labelsuite.core.objects.polygons import (
    Ring,
    check_polygon,
    mask_to_rings,
    rings_to_mask,
)


def test_mask_with_a_hole_round_trips_exactly() -> None:
    m = np.zeros((20, 20), bool)
    m[2:15, 3:17] = True
    m[6:9, 7:10] = False
    rings = mask_to_rings(m)
    assert sorted(r.hole for r in rings) == [False, True]
    np.testing.assert_array_equal(rings_to_mask(rings, 20, 20), m)


def test_random_objects_round_trip_exactly() -> None:
    rng = np.random.default_rng(0)
    for _ in range(10):
        lab, n = ndi.label(ndi.binary_opening(rng.random((40, 40)) > 0.45))
        for k in range(1, n + 1):
            mk = lab == k
            np.testing.assert_array_equal(rings_to_mask(mask_to_rings(mk), 40, 40), mk)


def test_outline_raster_equals_pycocotools() -> None:
    from pycocotools import mask as mask_utils

    yy, xx = np.mgrid[:50, :60]
    m = (xx - 30) ** 2 / 400 + (yy - 25) ** 2 / 150 < 1
    (outer,) = mask_to_rings(m, tolerance=1.0)
    assert len(outer.xy) < 40  # simplified
    rle = mask_utils.merge(mask_utils.frPyObjects([outer.xy.ravel().tolist()], 50, 60))
    coco = mask_utils.decode(rle).astype(bool)
    np.testing.assert_array_equal(rings_to_mask([outer], 50, 60), coco)
    assert (coco & m).sum() / (coco | m).sum() > 0.95


@pytest.mark.parametrize(
    ("xy", "match"),
    [
        ([[0, 0], [1, 1]], "at least 3"),
        ([[0, 0], [1, 1], [2, 2]], "no area"),
        ([[0, 0], [4, 4], [4, 0], [0, 6]], "self-intersecting"),
        ([[0, 0], [np.nan, 1], [2, 0]], "finite"),
    ],
)
def test_bad_polygons_are_named_errors(xy: list, match: str) -> None:
    with pytest.raises(ObjectKindError, match=match):
        check_polygon(xy, where="shapes[2]")


def test_simple_polygons_pass_the_check() -> None:
    square = [[0, 0], [4, 0], [4, 4], [0, 4]]
    np.testing.assert_array_equal(check_polygon(square), square)
    check_polygon([[0, 0], [4, 0], [4, 4], [2, 1], [0, 4]])  # concave is fine
    assert Ring(np.asarray(square, float)).hole is False
