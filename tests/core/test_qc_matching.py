"""Instance and box matching on hand-made cases, and COCO-style AP against pycocotools."""

from __future__ import annotations

import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given, settings
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from napari_labelsuite.core.annotation import Box
from napari_labelsuite.core.errors import QCError
from napari_labelsuite.core.qc import (
    average_precision,
    consensus_instances,
    instance_agreement,
    instance_disagreement,
    match_boxes,
    match_instances,
)


@pytest.fixture
def shifted_square():
    """a: squares 1 and 2; b: square 1 shifted right by one column, and an extra object 5."""
    a = np.zeros((10, 12), np.int32)
    a[0:4, 0:4] = 1
    a[6:9, 6:9] = 2
    b = np.zeros_like(a)
    b[0:4, 1:5] = 1  # IoU with a's 1: 12 / 20 = 0.6
    b[7:10, 0:3] = 5
    return a, b


def test_match_counts_and_rates(shifted_square):
    r = match_instances(*shifted_square, iou_threshold=0.5)
    assert (r.tp, r.fp, r.fn) == (1, 1, 1)
    assert (r.precision, r.recall, r.f1) == (0.5, 0.5, 0.5)


def test_match_pairs_and_iou(shifted_square):
    r = match_instances(*shifted_square)
    assert r.a.tolist() == [1] and r.b.tolist() == [1]
    assert r.iou.tolist() == [pytest.approx(0.6)]
    assert r.unmatched_a.tolist() == [2] and r.unmatched_b.tolist() == [5]


def test_panoptic_quality(shifted_square):
    r = match_instances(*shifted_square)
    assert r.pq == pytest.approx(0.6 / (1 + 0.5 + 0.5))


def test_threshold_above_iou_leaves_nothing_matched(shifted_square):
    r = match_instances(*shifted_square, iou_threshold=0.65)
    assert (r.tp, r.fp, r.fn) == (0, 2, 2)


def test_agreement_table_over_thresholds(shifted_square):
    res = instance_agreement(*shifted_square, thresholds=[0.5, 0.6, 0.65])
    assert res["table"]["tp"].tolist() == [1, 1, 0]
    assert res["mean_matched_iou"] == pytest.approx(0.6)


def test_optimal_assignment_beats_greedy():
    # 1D strips: A1=[0,10) A2=[10,20); B2=[0,4) B1=[4,14).
    # IoU(A1,B1)=6/14, IoU(A1,B2)=0.4, IoU(A2,B1)=0.25. Greedy on the best IoU gets one
    # match (A1-B1); the optimal assignment gets two (A1-B2, A2-B1).
    a = np.zeros((1, 20), np.uint16)
    a[0, 0:10], a[0, 10:20] = 1, 2
    b = np.zeros_like(a)
    b[0, 0:4], b[0, 4:14] = 2, 1
    r = match_instances(a, b, iou_threshold=0.25)
    assert r.tp == 2
    assert dict(zip(r.a.tolist(), r.b.tolist())) == {1: 2, 2: 1}


def test_nd_matching_with_sparse_huge_ids():
    a = np.zeros((3, 8, 8), np.int64)
    a[0:2, 0:4, 0:4] = 2_000_000_000
    a[2, 5:8, 5:8] = 7
    b = np.zeros_like(a)
    b[0:2, 0:4, 0:4] = 3
    r = match_instances(a, b)
    assert r.a.tolist() == [2_000_000_000] and r.b.tolist() == [3]
    assert r.iou.tolist() == [1.0] and r.unmatched_a.tolist() == [7]


def test_bad_threshold_raises(shifted_square):
    with pytest.raises(QCError, match="iou_threshold"):
        match_instances(*shifted_square, iou_threshold=0.0)


def test_identical_synthetic_cells_match_perfectly(small_cells):
    r = match_instances(small_cells.instances, small_cells.instances)
    n = len(np.unique(small_cells.instances)) - 1
    assert (r.tp, r.fp, r.fn, r.mean_iou) == (n, 0, 0, 1.0)


def test_disagreement_map_codes(shifted_square):
    a, b = shifted_square
    r = match_instances(a, b)
    d = instance_disagreement(a, b, r)
    expected = np.zeros(a.shape, np.uint8)
    expected[0:4, 0] = 1  # only a's square 1
    expected[0:4, 4] = 1  # only b's square 1
    expected[a == 2] = 2
    expected[b == 5] = 3
    np.testing.assert_array_equal(d, expected)


def test_consensus_keeps_objects_most_annotators_have():
    a = np.zeros((6, 12), np.int32)
    a[0:3, 0:3], a[0:3, 6:9] = 1, 2
    b = np.zeros_like(a)
    b[0:3, 0:4] = 9  # matches 1 with an extra column
    c = np.zeros_like(a)
    c[0:3, 0:3] = 4  # matches 1; nobody else has 2
    out = consensus_instances([a, b, c])
    expected = np.zeros_like(a)
    expected[0:3, 0:3] = 1
    np.testing.assert_array_equal(out, expected)


# -- boxes -----------------------------------------------------------------------------
def test_match_boxes_within_class_only():
    a = [Box(0, 0, 10, 10, class_id=1), Box(20, 20, 30, 30, class_id=2)]
    b = [Box(1, 0, 11, 10, class_id=1), Box(20, 20, 30, 30, class_id=1)]
    r = match_boxes(a, b)
    assert r.a.tolist() == [0] and r.b.tolist() == [0]
    assert r.iou.tolist() == [pytest.approx(90 / 110)]
    per = r.extra["per_class"].set_index("class_id")
    assert per.loc[1, ["tp", "fp", "fn"]].tolist() == [1, 1, 0]
    assert per.loc[2, ["tp", "fp", "fn"]].tolist() == [0, 0, 1]


def test_match_boxes_ignores_other_planes():
    a = [Box(0, 0, 10, 10, class_id=1, plane=(0,))]
    b = [Box(0, 0, 10, 10, class_id=1, plane=(1,))]
    assert match_boxes(a, b).tp == 0


# -- COCO AP ----------------------------------------------------------------------------
def _cocoeval_ap(gt_anns, dt_anns, iou_type, shape=(64, 64)):
    h, w = shape
    coco = COCO()
    coco.dataset = {
        "images": [{"id": 1, "width": w, "height": h}],
        "annotations": [
            {"id": i + 1, "image_id": 1, "iscrowd": 0, **g} for i, g in enumerate(gt_anns)
        ],
        "categories": [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}],
    }
    coco.createIndex()
    dt = coco.loadRes([{"image_id": 1, **d} for d in dt_anns])
    ev = COCOeval(coco, dt, iou_type)
    ev.evaluate()
    ev.accumulate()
    p = ev.eval["precision"][:, :, :, 0, -1]  # area "all", maxDets 100
    return float(p[p > -1].mean())


BOX_GT = [(2, 2, 12, 12, 1), (20, 20, 30, 34, 1), (40, 5, 55, 20, 2), (5, 40, 15, 50, 2)]
BOX_DT = [
    (3, 2, 12, 13, 1, 0.9),  # good match
    (21, 22, 31, 33, 1, 0.4),  # good match, low score
    (2, 3, 12, 12, 1, 0.8),  # duplicate of the first
    (41, 6, 56, 19, 2, 0.7),
    (50, 50, 60, 60, 2, 0.95),  # false positive
]


def test_box_ap_equals_cocoeval():
    gt = [Box(x0, y0, x1, y1, class_id=c) for x0, y0, x1, y1, c in BOX_GT]
    dt = [Box(x0, y0, x1, y1, class_id=c) for x0, y0, x1, y1, c, _ in BOX_DT]
    ours = average_precision(gt, dt, scores=[d[-1] for d in BOX_DT])
    expected = _cocoeval_ap(
        [
            {"category_id": c, "bbox": [x0, y0, x1 - x0, y1 - y0], "area": (x1 - x0) * (y1 - y0)}
            for x0, y0, x1, y1, c in BOX_GT
        ],
        [
            {"category_id": c, "bbox": [x0, y0, x1 - x0, y1 - y0], "score": s}
            for x0, y0, x1, y1, c, s in BOX_DT
        ],
        "bbox",
    )
    assert ours["ap"] == pytest.approx(expected, abs=1e-12)


def _rle(mask):
    r = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    r["counts"] = r["counts"].decode("ascii")
    return r


def test_mask_ap_equals_cocoeval():
    gt = np.zeros((64, 64), np.int32)
    gt[2:14, 2:14], gt[20:34, 20:30], gt[40:52, 40:50] = 1, 2, 3
    pred = np.zeros_like(gt)
    pred[3:14, 2:15] = 10  # matches 1
    pred[22:34, 20:28] = 11  # partial match of 2
    pred[50:60, 5:15] = 12  # false positive
    scores = {10: 0.9, 11: 0.6, 12: 0.8}
    gt_cls = {1: 1, 2: 1, 3: 2}
    pred_cls = {10: 1, 11: 1, 12: 2}
    ours = average_precision(gt, pred, scores=scores, gt_classes=gt_cls, pred_classes=pred_cls)
    expected = _cocoeval_ap(
        [
            {"category_id": gt_cls[i], "segmentation": _rle(gt == i), "area": int((gt == i).sum())}
            for i in (1, 2, 3)
        ],
        [
            {"category_id": pred_cls[i], "segmentation": _rle(pred == i), "score": scores[i]}
            for i in (10, 11, 12)
        ],
        "segm",
    )
    assert ours["ap"] == pytest.approx(expected, abs=1e-12)


def _brute_force_tp(a, b, thr):
    """Matches of a dense IoU matrix solved by one full assignment (the textbook way)."""
    from scipy.optimize import linear_sum_assignment

    ia, ib = np.unique(a[a > 0]), np.unique(b[b > 0])
    if not len(ia) or not len(ib):
        return 0
    iou = np.array([[((a == i) & (b == j)).sum() / ((a == i) | (b == j)).sum() for j in ib]
                    for i in ia])  # fmt: skip
    r, c = linear_sum_assignment(-(iou >= thr).astype(float))
    return int((iou[r, c] >= thr).sum())


@settings(max_examples=40, deadline=None)
@given(
    a=hnp.arrays(np.uint8, (6, 7), elements=st.integers(0, 4)),
    b=hnp.arrays(np.uint8, (6, 7), elements=st.integers(0, 4)),
    thr=st.sampled_from([0.1, 0.25, 0.5, 0.75]),
)
def test_match_count_equals_dense_assignment(a, b, thr):
    assert match_instances(a, b, thr).tp == _brute_force_tp(a, b, thr)


def test_agreement_of_box_annotations_reports_thresholds_and_ap():
    from napari_labelsuite.core.annotation import ImageAnnotation
    from napari_labelsuite.core.qc import agreement

    ref = ImageAnnotation("a", (64, 64), boxes=[Box(0, 0, 10, 10, class_id=1)])
    other = ImageAnnotation("a", (64, 64), boxes=[Box(0, 0, 10, 12, class_id=1)])  # IoU 10/12
    res = agreement([ref, other], iou_thresholds=[0.5, 0.9])["boxes"]["#1"]
    assert res["table"]["tp"].tolist() == [1, 0]
    assert res["ap"] == pytest.approx(0.5)


def test_dask_input_read_in_blocks_gives_the_numpy_result(small_cells, monkeypatch):
    import dask.array as da

    from napari_labelsuite.core import qc_pairs

    a = np.array(small_cells.instances)
    b = np.roll(a, 3, axis=0)
    expected = match_instances(a, b)
    monkeypatch.setattr(qc_pairs, "BLOCK_ELEMS", 4096)  # many blocks whose counts merge
    got = match_instances(da.from_array(a, chunks=(64, 64)), b)
    assert got.a.tolist() == expected.a.tolist() and got.b.tolist() == expected.b.tolist()
    np.testing.assert_allclose(got.iou, expected.iou)
