"""Polygon matching by polygon IoU, against pycocotools (raster) and shapely (exact areas)."""

from __future__ import annotations

import numpy as np
import pytest

from napari_labelsuite.core.annotation import ImageAnnotation
from napari_labelsuite.core.errors import QCError
from napari_labelsuite.core.objects import Polygon, Ring
from napari_labelsuite.core.qc import agreement_result, match_polygons, polygon_objects
from napari_labelsuite.core.qc.polygon_matching import polygon_iou_pairs

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:pycocotools")
H, W = 200, 240


def _star(rng: np.random.Generator, cx: float, cy: float, r: float, n: int = 14) -> np.ndarray:
    """A simple (star-shaped) polygon around (cx, cy), vertices off the pixel grid."""
    t = np.sort(rng.uniform(0, 2 * np.pi, n))
    rad = r * rng.uniform(0.6, 1.0, n)
    return np.column_stack([cx + rad * np.cos(t), cy + rad * np.sin(t)])


def _scene(seed: int = 0) -> list[Polygon]:
    rng = np.random.default_rng(seed)
    centres = [(40, 40), (120, 45), (200, 50), (50, 140), (130, 150), (205, 150)]
    return [
        Polygon(Ring(_star(rng, cx, cy, 28)), class_id=1 + k % 2, instance_id=k + 1)
        for k, (cx, cy) in enumerate(centres)
    ]


def _jitter(polys: list[Polygon], rng: np.random.Generator, s: float) -> list[Polygon]:
    """Each outline shifted by ~``s`` pixels and scaled a little (it stays simple)."""
    out = []
    for p in polys:
        c = p.ring.xy.mean(axis=0)
        xy = (p.ring.xy - c) * rng.uniform(0.93, 1.07) + c + rng.normal(0, s, 2)
        out.append(Polygon(Ring(xy), p.class_id, p.instance_id))
    return out


def test_raster_iou_equals_pycocotools_iou():
    mask_utils = pytest.importorskip("pycocotools.mask")
    rng = np.random.default_rng(1)
    a, b = _scene(1), _jitter(_scene(1), rng, 3.0)
    ra, rb, iou = polygon_iou_pairs(polygon_objects(a), polygon_objects(b), 1e-9)
    rle_a = mask_utils.frPyObjects([p.ring.xy.ravel().tolist() for p in a], H, W)
    rle_b = mask_utils.frPyObjects([p.ring.xy.ravel().tolist() for p in b], H, W)
    ref = mask_utils.iou(rle_a, rle_b, [0] * len(b))
    want_r, want_c = np.nonzero(ref > 0)
    np.testing.assert_array_equal(ra, want_r)
    np.testing.assert_array_equal(rb, want_c)
    np.testing.assert_allclose(iou, ref[want_r, want_c], rtol=0, atol=1e-12)


def test_raster_iou_is_close_to_shapely_and_shapely_method_is_exact():
    shapely = pytest.importorskip("shapely")
    rng = np.random.default_rng(2)
    a, b = _scene(2), _jitter(_scene(2), rng, 2.0)
    exact = np.array(
        [
            shapely.Polygon(p.ring.xy).intersection(shapely.Polygon(q.ring.xy)).area
            / shapely.Polygon(p.ring.xy).union(shapely.Polygon(q.ring.xy)).area
            for p, q in zip(a, b)
        ]
    )
    oa, ob = polygon_objects(a), polygon_objects(b)
    r, c, v = polygon_iou_pairs(oa, ob, 0.3, method="shapely")
    np.testing.assert_array_equal(r, c)  # each object overlaps only its own copy this much
    np.testing.assert_allclose(v, exact, atol=1e-12)
    r, c, v = polygon_iou_pairs(oa, ob, 0.3)
    np.testing.assert_array_equal(r, np.arange(len(a)))
    # pixel-centre raster of ~2,000-pixel objects: within a few percent of the exact IoU
    assert np.abs(v - exact).max() < 0.03


def test_matching_counts_objects_per_class_and_reports_shape_indices():
    rng = np.random.default_rng(3)
    a = _scene(3)
    b = _jitter(_scene(3), rng, 1.0)
    del b[4]  # a missed object (class 1)
    b[0] = Polygon(b[0].ring, class_id=2, instance_id=1)  # the right outline, the wrong class
    b.append(Polygon(Ring(_star(rng, 120, 100, 10)), class_id=1))  # an extra object
    b = [b[i] for i in (5, 2, 1, 0, 4, 3)]  # order does not matter
    m = match_polygons(a, b, 0.5)
    assert m.a.tolist() == [1, 2, 3, 5]
    # new b: 0 extra, 1 old 2, 2 old 1, 3 old 0 (wrong class), 4 old 5, 5 old 3
    assert m.b.tolist() == [2, 1, 5, 4]
    assert (m.tp, m.fp, m.fn) == (4, 2, 2)
    assert m.unmatched_a.tolist() == [0, 4] and m.unmatched_b.tolist() == [0, 3]
    per = m.extra["per_class"].set_index("class_id")
    assert per.loc[1, ["tp", "fp", "fn"]].tolist() == [1, 1, 2]
    assert per.loc[2, ["tp", "fp", "fn"]].tolist() == [3, 1, 0]
    # without classes the relabelled outline matches its object
    assert match_polygons(a, b, 0.5, by_class=False).tp == 5


def test_holes_and_parts_of_an_instance_form_one_object():
    mask_utils = pytest.importorskip("pycocotools.mask")
    outer = np.array([[20.0, 20.0], [120.0, 20.0], [120.0, 100.0], [20.0, 100.0]])
    hole = np.array([[40.0, 40.0], [40.0, 80.0], [90.0, 80.0], [90.0, 40.0]])
    part = np.array([[150.0, 30.0], [170.0, 30.0], [160.0, 50.0]])
    a = [
        Polygon(Ring(outer), 1, 7),
        Polygon(Ring(hole, hole=True), 1, 7),
        Polygon(Ring(part), 1, 7),
    ]
    b = [Polygon(Ring(outer + 0.3), 1, 2)]  # the same outline, without hole or part
    m = match_polygons(a, b, 0.1)
    assert m.a.tolist() == [0] and m.b.tolist() == [0]
    objs = m.extra["objects_a"]
    assert len(objs) == 1 and objs[0].shapes == [0, 1, 2]

    def dec(polys):
        return mask_utils.decode(mask_utils.merge(mask_utils.frPyObjects(polys, H, W))) > 0

    ref_a = dec([outer.ravel().tolist(), part.ravel().tolist()]) & ~dec([hole.ravel().tolist()])
    ref_b = dec([(outer + 0.3).ravel().tolist()])
    want = (ref_a & ref_b).sum() / (ref_a | ref_b).sum()
    assert m.iou[0] == pytest.approx(want, abs=1e-12)


def test_objects_on_other_planes_do_not_match():
    p = _scene(4)[0]
    a = [Polygon(p.ring, 1, 1, plane=(0,)), Polygon(p.ring, 1, 1, plane=(1,))]
    b = [Polygon(p.ring, 1, 1, plane=(1,))]
    m = match_polygons(a, b)
    assert m.a.tolist() == [1] and m.b.tolist() == [0] and m.iou.tolist() == [1.0]
    assert m.unmatched_a.tolist() == [0]


def test_bad_polygons_and_settings_are_named_errors():
    good = _scene(5)[:1]
    line = [Polygon(Ring(np.array([[1.0, 1.0], [5.0, 5.0]])), 1)]
    with pytest.raises(QCError, match=r"a\[0\]"):
        match_polygons(line, good)
    with pytest.raises(QCError, match="method"):
        match_polygons(good, good, method="gpc")
    with pytest.raises(QCError, match="iou_threshold"):
        match_polygons(good, good, 0.0)
    holes_only = [Polygon(Ring(good[0].ring.xy, hole=True), 1, 3)]
    with pytest.raises(QCError, match="holes but no outline"):
        match_polygons(good, holes_only)
    mixed = [Polygon(good[0].ring, 1, 3), Polygon(Ring(good[0].ring.xy + 50), 2, 3)]
    with pytest.raises(QCError, match=r"b\[1\].*class_id"):
        match_polygons(good, mixed)


def test_agreement_of_annotations_compares_polygons():
    a, b = _scene(6), _jitter(_scene(6), np.random.default_rng(6), 1.0)[:5]
    res = agreement_result(
        [ImageAnnotation("img", (H, W), polygons=a), ImageAnnotation("img", (H, W), polygons=b)]
    )
    (pair,) = res.part("polygons")
    assert (pair.metrics["tp"], pair.metrics["fn"], pair.metrics["fp"]) == (5, 1, 0)
    assert res.row() == {"polygon_f1@0.5": pytest.approx(10 / 11)}
    assert "polygon F1 0.909" in res.summary()


def test_overlapping_parts_count_once_like_pycocotools_merge():
    mask_utils = pytest.importorskip("pycocotools.mask")
    rng = np.random.default_rng(7)
    p1, p2 = _star(rng, 60, 60, 30), _star(rng, 80, 70, 30)  # two parts that overlap
    q = _star(rng, 70, 65, 35)
    a = [Polygon(Ring(p1), 1, 5), Polygon(Ring(p2), 1, 5)]
    b = [Polygon(Ring(q), 1, 1)]
    _, _, iou = polygon_iou_pairs(polygon_objects(a), polygon_objects(b), 1e-9)
    merged = mask_utils.merge(
        mask_utils.frPyObjects([p1.ravel().tolist(), p2.ravel().tolist()], H, W)
    )
    ref = mask_utils.iou([merged], mask_utils.frPyObjects([q.ravel().tolist()], H, W), [0])
    assert iou.tolist() == pytest.approx([float(ref[0, 0])], abs=1e-12)
