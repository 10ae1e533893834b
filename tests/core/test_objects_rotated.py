"""Rotated boxes: geometry, minimum-area rectangles, rotated IoU against shapely, matching."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from skimage.draw import polygon as draw_polygon

from napari_labelsuite.core.errors import LabelsuiteError, ObjectKindError
from napari_labelsuite.core.objects import (
    RotatedBox,
    check_rboxes,
    corners_to_rbox,
    mask_to_rbox,
    match_rboxes,
    min_area_rect,
    rbox_iou,
    rbox_iou_pairs,
    rbox_to_corners,
)


def _random_rboxes(rng: np.random.Generator, n: int, span: float = 20.0) -> np.ndarray:
    return np.c_[
        rng.uniform(0, span, (n, 2)), rng.uniform(0.5, 10, (n, 2)), rng.uniform(-180, 180, n)
    ]


def _shapely_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    pa = shapely.polygons(rbox_to_corners(a))
    pb = shapely.polygons(rbox_to_corners(b))
    x, y = np.meshgrid(np.arange(len(a)), np.arange(len(b)), indexing="ij")
    inter = shapely.area(shapely.intersection(pa[x], pb[y]))
    union = shapely.area(shapely.union(pa[x], pb[y]))
    return inter / union


def test_corners_follow_yolo_obb_order_and_angle() -> None:
    c = rbox_to_corners([[10.0, 20.0, 4.0, 2.0, 90.0]])[0]
    np.testing.assert_allclose(c, [[11, 18], [11, 22], [9, 22], [9, 18]], atol=1e-12)
    np.testing.assert_allclose(
        rbox_to_corners([[0.0, 0.0, 4.0, 2.0, 0.0]])[0], [[-2, -1], [2, -1], [2, 1], [-2, 1]]
    )


def test_corners_to_rbox_inverts_rbox_to_corners() -> None:
    r = _random_rboxes(np.random.default_rng(1), 200)
    back = corners_to_rbox(rbox_to_corners(r))
    np.testing.assert_allclose(rbox_to_corners(back), rbox_to_corners(r), atol=1e-9)
    np.testing.assert_allclose(back[:, 2:4], r[:, 2:4], atol=1e-9)


def test_corners_to_rbox_fits_a_skewed_quadrilateral() -> None:
    quad = np.array([[[0.0, 0.0], [4.0, 0.0], [4.0, 2.0], [0.5, 2.0]]])
    np.testing.assert_allclose(corners_to_rbox(quad), [[2.0, 1.0, 4.0, 2.0, 0.0]], atol=1e-12)


def test_iou_matches_shapely_to_1e6() -> None:
    rng = np.random.default_rng(0)
    a, b = _random_rboxes(rng, 60), _random_rboxes(rng, 50)
    ours, ref = rbox_iou(a, b), _shapely_iou(a, b)
    assert (ref > 0).sum() > 300  # many overlapping pairs are exercised
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-6)


def test_iou_of_coincident_and_touching_boxes() -> None:
    r = _random_rboxes(np.random.default_rng(2), 30)
    same = rbox_iou(r, r)
    np.testing.assert_allclose(np.diag(same), 1.0, atol=1e-9)
    turned = r.copy()  # the same rectangle described with sides swapped and +90 degrees
    turned[:, 2:4] = r[:, [3, 2]]
    turned[:, 4] += 90
    np.testing.assert_allclose(np.diag(rbox_iou(r, turned)), 1.0, atol=1e-9)
    axis = np.array([[5, 5, 4, 2, 0.0], [7, 5, 4, 2, 0], [9, 5, 4, 2, 0], [5, 5, 2, 2, 0]])
    np.testing.assert_allclose(
        rbox_iou(axis, axis),
        [[1, 1 / 3, 0, 0.5], [1 / 3, 1, 1 / 3, 0.2], [0, 1 / 3, 1, 0], [0.5, 0.2, 0, 1]],
        atol=1e-12,
    )


def test_iou_pairs_find_every_overlap_shapely_finds() -> None:
    rng = np.random.default_rng(3)
    a = np.c_[
        rng.uniform(0, 300, (800, 2)), rng.uniform(2, 30, (800, 2)), rng.uniform(-90, 90, 800)
    ]
    b = a + np.c_[rng.normal(0, 3, (800, 2)), rng.normal(0, 1, (800, 2)), rng.normal(0, 5, 800)]
    b[:, 2:4] = np.abs(b[:, 2:4]) + 0.1
    r, c, v = rbox_iou_pairs(a, b, 0.0)
    pa, pb = shapely.polygons(rbox_to_corners(a)), shapely.polygons(rbox_to_corners(b))
    ia, ib = shapely.STRtree(pb).query(pa, predicate="intersects")
    inter = shapely.area(shapely.intersection(pa[ia], pb[ib]))
    pos = inter > 1e-9
    assert set(zip(r.tolist(), c.tolist(), strict=True)) == set(
        zip(ia[pos].tolist(), ib[pos].tolist(), strict=True)
    )
    ref = inter[pos] / shapely.area(shapely.union(pa[ia[pos]], pb[ib[pos]]))
    order = np.lexsort((ib[pos], ia[pos]))
    np.testing.assert_allclose(v, ref[order], atol=1e-6)


def test_min_area_rect_of_a_drawn_rotated_rectangle() -> None:
    corners = rbox_to_corners([[50.0, 50.0, 60.0, 20.0, 30.0]])[0]
    mask = np.zeros((100, 100), bool)
    # pixel (r, c) has its centre at (c + 0.5, r + 0.5)
    rr, cc = draw_polygon(corners[:, 1] - 0.5, corners[:, 0] - 0.5, mask.shape)
    mask[rr, cc] = True
    cx, cy, w, h, a = mask_to_rbox(mask)
    assert abs(cx - 50) < 1 and abs(cy - 50) < 1
    assert abs(w - 60) < 2.5 and abs(h - 20) < 2.5
    assert abs(a - 30) < 2
    # the rectangle encloses every pixel centre
    inside = shapely.contains_xy(
        shapely.buffer(shapely.polygons(rbox_to_corners([[cx, cy, w, h, a]])[0]), 1e-9),
        cc + 0.5,
        rr + 0.5,
    )
    assert inside.all()


def test_mask_to_rbox_of_an_axis_aligned_block_is_its_pixel_extent() -> None:
    mask = np.zeros((20, 20), bool)
    mask[3:8, 2:12] = True
    np.testing.assert_allclose(mask_to_rbox(mask), [7.0, 5.5, 10.0, 5.0, 0.0], atol=1e-12)


def test_min_area_rect_matches_brute_force() -> None:
    pts = np.random.default_rng(4).normal(size=(40, 2)) * [5, 1]
    cx, cy, w, h, a = min_area_rect(pts)
    hull = shapely.convex_hull(shapely.multipoints(pts))
    best = min(
        (lambda r: (r.max(0) - r.min(0)).prod())(
            pts @ np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
        )
        for t in np.deg2rad(np.arange(0, 90, 0.05))
    )
    assert w * h <= best + 1e-9
    assert shapely.area(shapely.minimum_rotated_rectangle(hull)) == pytest.approx(w * h)


@pytest.mark.parametrize(
    ("boxes", "field"),
    [([[1, 2, 0, 3, 0]], "w, h"), ([[1, 2, 3, -1, 0]], "w, h"), ([[1, np.nan, 3, 1, 0]], None)],
)
def test_degenerate_rotated_boxes_are_named_errors(boxes: list, field: str | None) -> None:
    with pytest.raises(ObjectKindError) as exc:
        check_rboxes(boxes)
    assert isinstance(exc.value, LabelsuiteError)
    assert exc.value.where == "rotated boxes[0]"
    assert exc.value.field == field


def test_degenerate_masks_and_points_are_named_errors() -> None:
    with pytest.raises(ObjectKindError, match="empty"):
        mask_to_rbox(np.zeros((5, 5), bool))
    with pytest.raises(ObjectKindError, match="no area"):
        min_area_rect([[0, 0], [1, 1], [2, 2]])


def test_match_rboxes_is_one_to_one_within_plane_and_class() -> None:
    gt = [
        RotatedBox(10, 10, 8, 4, 30, class_id=1),
        RotatedBox(30, 10, 8, 4, -20, class_id=1),
        RotatedBox(10, 10, 8, 4, 30, class_id=2),
        RotatedBox(10, 10, 8, 4, 30, class_id=1, plane=(1,)),
    ]
    pred = [
        RotatedBox(30.5, 10, 8, 4, -25, class_id=1),  # matches gt 1
        RotatedBox(10, 10.2, 8, 4, 32, class_id=1),  # matches gt 0
        RotatedBox(10, 10, 8, 4, 120, class_id=1),  # crosses gt 0: loses to pred 1
        RotatedBox(10, 10, 8, 4, 30, class_id=2, plane=(1,)),  # wrong plane for gt 2
    ]
    ma, mb, iou = match_rboxes(gt, pred, 0.5)
    assert ma.tolist() == [0, 1]
    assert mb.tolist() == [1, 0]
    np.testing.assert_allclose(iou, np.diag(rbox_iou(
        np.array([g.xywha for g in gt])[ma], np.array([p.xywha for p in pred])[mb])))  # fmt: skip
    ma, mb, _ = match_rboxes(gt, pred, 0.5, by_class=False)  # pred 3 now fits gt 3
    assert (ma.tolist(), mb.tolist()) == ([0, 1, 3], [1, 0, 3])


def test_qc_match_boxes_rotated_uses_rotated_iou() -> None:
    from napari_labelsuite.core.qc.matching import match_boxes

    gt = [RotatedBox(10, 10, 20, 2, 45, class_id=1), RotatedBox(40, 40, 6, 6, 0, class_id=2)]
    # the first prediction is the same thin box turned by 90 degrees: its axis-aligned
    # box equals the ground truth's, its rotated IoU is tiny
    pred = [RotatedBox(10, 10, 20, 2, -45, class_id=1), RotatedBox(40.5, 40, 6, 6, 10, class_id=2)]
    res = match_boxes(gt, pred, 0.5, rotated=True)
    assert res.a.tolist() == [1] and res.b.tolist() == [1]
    want = rbox_iou([gt[1].xywha], [pred[1].xywha])[0, 0]
    np.testing.assert_allclose(res.iou, [want])
    table = res.extra["per_class"].set_index("class_id")
    assert table.loc[1, ["tp", "fp", "fn"]].tolist() == [0, 1, 1]
    assert table.loc[2, ["tp", "fp", "fn"]].tolist() == [1, 0, 0]
