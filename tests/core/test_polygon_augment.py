"""Polygons through the augmentation pipeline: vertices follow the image, then are clipped."""

from __future__ import annotations

import numpy as np
import pytest
from skimage.transform import AffineTransform

from napari_labelsuite.core.annotation import ImageAnnotation
from napari_labelsuite.core.augment import Pipeline, annotation_plane
from napari_labelsuite.core.augment.geometry import polygon_area
from napari_labelsuite.core.augment.transforms import (
    Affine,
    Crop,
    ElasticDeform,
    HorizontalFlip,
    Rot90,
)
from napari_labelsuite.core.errors import AugmentError
from napari_labelsuite.core.objects import Polygon, Ring, rings_to_mask
from napari_labelsuite.core.objects.transform import transform_polygons

H, W = 64, 80
# a non-convex outline (an arrow head), vertices off the pixel grid
ARROW = np.array(
    [[20.25, 15.5], [50.5, 20.25], [44.75, 32.5], [58.5, 46.25], [30.5, 48.75], [34.25, 33.5]]
)


def _ann(*polys: Polygon, instances: np.ndarray | None = None) -> ImageAnnotation:
    return ImageAnnotation("img", (H, W), instances=instances, polygons=list(polys))


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / (a | b).sum())


def test_affine_moves_vertices_like_skimage_affine_transform():
    pipe = Pipeline(
        [
            Affine(
                rotate=(25, 25), scale=(1.1, 1.1), translate_px_x=(3, 3), translate_px_y=(-2, -2)
            )
        ],
        backend="scipy",
    )
    _, out, diag = pipe.apply(np.zeros((H, W), np.uint8), _ann(Polygon(Ring(ARROW), 2, 7)), 0)
    # independent reference: skimage's transform in pixel-centre (x, y) about the centre;
    # a counter-clockwise turn on screen (y down) is a negative skimage rotation
    c = np.array([(W - 1) / 2, (H - 1) / 2])
    # (skimage's '+' applies the left transform first)
    ref = (
        AffineTransform(translation=-c)
        + AffineTransform(scale=1.1, rotation=-np.radians(25))
        + AffineTransform(translation=c + [3, -2])
    )
    expect = ref(ARROW - 0.5) + 0.5
    assert len(out.polygons) == 1
    p = out.polygons[0]
    np.testing.assert_allclose(p.ring.xy, expect, atol=1e-9)
    assert (p.class_id, p.instance_id, p.ring.hole) == (2, 7, False)
    assert diag.polygons_kept == [0] and diag.polygons_clipped == [] == diag.polygons_dropped


def test_affine_polygon_raster_agrees_with_the_resampled_mask():
    mask = rings_to_mask([Ring(ARROW)], H, W)
    pipe = Pipeline([Affine(rotate=(-35, -35), scale=(0.9, 0.9))], backend="scipy")
    _, out, _ = pipe.apply(
        np.zeros((H, W), np.uint8),
        _ann(Polygon(Ring(ARROW), 1, 1), instances=mask.astype(np.uint8)),
        0,
    )
    got = rings_to_mask([out.polygons[0].ring], H, W)
    # the mask went through nearest-neighbour resampling, the outline through the exact map
    assert _iou(got, out.instances == 1) > 0.93


def test_flip_and_quarter_turn_move_vertices_exactly():
    mask = rings_to_mask([Ring(ARROW)], H, W)
    ann = _ann(Polygon(Ring(ARROW), 1, 1), instances=mask.astype(np.uint8))
    _, out, _ = Pipeline([HorizontalFlip(p=1)], backend="scipy").apply(
        np.zeros((H, W), np.uint8), ann, 0
    )
    np.testing.assert_allclose(
        out.polygons[0].ring.xy, np.column_stack([W - ARROW[:, 0], ARROW[:, 1]])
    )
    # the raster rule rounds boundary pixels one way, so the mirror differs only there
    assert _iou(rings_to_mask([out.polygons[0].ring], H, W), out.instances == 1) > 0.99
    _, out, _ = Pipeline([Rot90(p=1)], backend="scipy").apply(np.zeros((H, W), np.uint8), ann, 0)
    h2, w2 = out.shape
    assert {h2, w2} == {H, W}
    assert _iou(rings_to_mask([out.polygons[0].ring], h2, w2), out.instances == 1) > 0.97


def test_polygon_cut_in_two_by_the_frame_gives_shapelys_two_pieces():
    shapely = pytest.importorskip("shapely")
    # an upside-down U whose bar leaves the top of the frame: two pieces are left
    u = np.array(
        [[10, 2], [40, 2], [40, 40], [32, 40], [32, 10], [18, 10], [18, 40], [10, 40]], float
    )
    pipe = Pipeline([Affine(translate_px_y=(-12, -12))], backend="scipy")
    _, out, diag = pipe.apply(np.zeros((H, W), np.uint8), _ann(Polygon(Ring(u), 1, 4)), 0)
    assert diag.polygons_clipped == [0] and diag.polygons_kept == [0, 0]
    ref = shapely.Polygon(u - [0, 12]).intersection(shapely.box(0, 0, W, H))
    assert ref.geom_type == "MultiPolygon" and len(ref.geoms) == 2
    got = sorted(shapely.Polygon(p.ring.xy).normalize().wkt for p in out.polygons)
    want = sorted(g.normalize().wkt for g in ref.geoms)
    assert got == want
    assert [p.instance_id for p in out.polygons] == [4, 4]  # the pieces of one object


def test_clipping_matches_shapely_on_random_outlines():
    shapely = pytest.importorskip("shapely")
    rng = np.random.default_rng(5)
    checked = split = 0
    for _ in range(400):
        n = int(rng.integers(5, 25))
        t = np.sort(rng.uniform(0, 2 * np.pi, n))
        r = rng.uniform(5, 40) * rng.uniform(0.2, 1.0, n)
        xy = rng.uniform(-20, 100, 2) + np.c_[r * np.cos(t), r * np.sin(t)]
        if rng.random() < 0.3:
            xy = np.round(xy)  # vertices on the pixel grid, some on the frame
        if rng.random() < 0.5:
            xy = xy[::-1]
        if not shapely.Polygon(xy).is_valid:
            continue
        ref = shapely.Polygon(xy).intersection(shapely.box(0, 0, W, H))
        got, _, _ = transform_polygons([Polygon(Ring(xy), 1)], lambda rc: rc, (H, W))
        assert sum(polygon_area(p.ring.xy) for p in got) == pytest.approx(ref.area, abs=1e-6)
        pieces = np.zeros((H, W), bool)
        for g in getattr(ref, "geoms", [ref]):
            if g.geom_type == "Polygon" and g.area > 0:
                pieces |= rings_to_mask([Ring(np.asarray(g.exterior.coords)[:-1])], H, W)
        mine = np.zeros((H, W), bool)
        for p in got:
            mine |= rings_to_mask([p.ring], H, W)
        np.testing.assert_array_equal(mine, pieces)
        checked += 1
        split += len(got) > 1
    assert checked > 250 and split > 20


def test_polygon_outside_the_crop_is_dropped_and_holes_stay_holes():
    hole = Ring(np.array([[26.0, 26.0], [26.0, 40.0], [40.0, 40.0], [40.0, 26.0]]), hole=True)
    outer = Ring(np.array([[20.0, 20.0], [50.0, 20.0], [50.0, 50.0], [20.0, 50.0]]))
    far = Ring(np.array([[60.0, 2.0], [75.0, 2.0], [70.0, 12.0]]))
    ann = _ann(Polygon(outer, 1, 3), Polygon(hole, 1, 3), Polygon(far, 2, 4))
    _, out, diag = Pipeline([Crop(y=16, x=16, height=40, width=40)], backend="scipy").apply(
        np.zeros((H, W), np.uint8), ann, 0
    )
    assert diag.polygons_kept == [0, 1] and diag.polygons_dropped == [2]
    assert [p.ring.hole for p in out.polygons] == [False, True]
    np.testing.assert_allclose(out.polygons[1].ring.xy, hole.xy - 16)
    assert "polygons clipped 0 dropped 1" in diag.summary()


def test_elastic_outline_follows_the_bent_mask():
    mask = rings_to_mask([Ring(ARROW)], H, W)
    ann = _ann(Polygon(Ring(ARROW), 1, 1), instances=mask.astype(np.uint8))
    pipe = Pipeline([ElasticDeform(alpha=6.0, sigma=6.0)], backend="scipy")
    _, out, diag = pipe.apply(np.zeros((H, W), np.uint8), ann, 3)
    assert diag.applied[0]["type"] == "ElasticDeform"
    ring = out.polygons[0].ring
    assert len(ring.xy) > len(ARROW)  # the bent edges are followed with extra vertices
    assert _iou(rings_to_mask([ring], H, W), out.instances == 1) > 0.9


def test_annotation_plane_takes_the_plane_and_shifts_into_the_window():
    on = Polygon(Ring(ARROW), 1, 1, plane=(2,))
    other = Polygon(Ring(ARROW), 1, 2, plane=(0,))
    partly = Polygon(Ring(ARROW + [30, 0]), 1, 3, plane=(2,))  # reaches out to the right
    ann = ImageAnnotation("stack", (3, H, W), polygons=[on, other, partly])
    cut = annotation_plane(ann, (2,), window=(10, 60, 5, 70))
    assert [p.instance_id for p in cut.polygons] == [1, 3]
    np.testing.assert_allclose(cut.polygons[0].ring.xy, ARROW - [5, 10])
    assert cut.polygons[0].plane == ()
    _, out, diag = Pipeline([], backend="scipy").apply(np.zeros(cut.shape, np.uint8), cut, 0)
    # the identity still clips to the frame: the second polygon only reaches into it
    assert diag.polygons_kept == [0, 1] and diag.polygons_clipped == [1]
    assert out.polygons[1].ring.xy[:, 0].max() == pytest.approx(65.0)


def test_bad_polygon_is_a_named_error():
    bad = Polygon(Ring(np.array([[1.0, 1.0], [5.0, 1.0]])), 1)
    with pytest.raises(AugmentError, match="polygons\\[0\\]"):
        Pipeline([], backend="scipy").apply(np.zeros((H, W), np.uint8), _ann(bad), 0)
