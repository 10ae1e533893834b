"""AgreementResult: the one agreement result that session, QC widget and CLI read."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from napari_labelsuite.core.annotation import Box, ImageAnnotation
from napari_labelsuite.core.qc import AgreementResult, PairAgreement, agreement, agreement_result


def _three_objects() -> np.ndarray:
    inst = np.zeros((30, 30), np.int32)
    inst[2:8, 2:8] = 1
    inst[12:18, 12:18] = 2
    inst[22:28, 2:8] = 3
    return inst


def test_semantic_pairs_carry_cohens_kappa_of_scikit_learn():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 3, (20, 20)).astype(np.uint8)
    b = np.where(rng.random((20, 20)) < 0.3, 0, a).astype(np.uint8)
    c = np.where(rng.random((20, 20)) < 0.2, 1, a).astype(np.uint8)
    anns = [ImageAnnotation(n, a.shape, semantic=s) for n, s in (("x", a), ("y", b), ("z", c))]
    res = agreement_result(anns)
    assert [(p.name, p.kind) for p in res.pairs] == [
        ("x vs #1", "semantic"),
        ("x vs #2", "semantic"),
    ]
    ref = cohen_kappa_score(a.ravel(), b.ravel())
    assert res.pairs[0].headline()["kappa"] == pytest.approx(ref)
    assert res.fleiss_kappa is not None
    assert res.summary().splitlines()[-1] == f"Fleiss' kappa {res.fleiss_kappa:.3f}"
    assert res.summary().splitlines()[0].startswith(f"x vs #1: kappa {ref:.3f}, mean IoU ")


def test_agreement_dict_is_the_results_dict_and_reads_back():
    inst = _three_objects()
    other = np.where(inst == 3, 0, inst)
    anns = [
        ImageAnnotation("a", inst.shape, instances=inst),
        ImageAnnotation("b", inst.shape, instances=other),
    ]
    res = agreement_result(anns, iou_thresholds=[0.5, 0.75])
    old = agreement(anns, iou_thresholds=[0.5, 0.75])
    assert list(old) == ["instances"] and list(old["instances"]) == ["#1"]
    assert res.as_dict()["instances"]["#1"]["table"].equals(old["instances"]["#1"]["table"])
    back = AgreementResult.from_dict(old)
    assert [(p.name, p.kind) for p in back.pairs] == [("#1", "instances")]
    # 2 of 3 objects matched exactly: F1 = 2*2/(2*2+0+1) = 0.8, PQ = 0.8 * 1.0; COCO AP
    # samples precision 1 at the 67 of 101 recall points up to 2/3
    assert back.summary() == "#1: F1@0.50 0.800, mean IoU 1.000, PQ 0.800, AP 0.663"
    assert back.row() == {"f1@0.5": 0.8, "pq": pytest.approx(0.8), "ap": pytest.approx(67 / 101)}


def test_layer_layout_round_trips_with_kind_layers_and_fleiss():
    metrics = {"kappa": 0.5, "mean_iou": 0.25}
    res = AgreementResult(
        (PairAgreement("p vs q", "semantic", metrics),), 0.125, ("p", "q", "r"), "semantic"
    )
    flat = res.as_dict()
    assert flat == {
        "kind": "semantic",
        "layers": ["p", "q", "r"],
        "p vs q": metrics,
        "fleiss_kappa": 0.125,
    }
    assert AgreementResult.from_dict({**flat, "maps": {"kind": "semantic"}}) == res
    assert res.summary() == "p vs q: kappa 0.500, mean IoU 0.250\nFleiss' kappa 0.125"


def test_box_pairs_name_their_threshold():
    ref = ImageAnnotation(
        "a", (64, 64), boxes=[Box(0, 0, 10, 10, class_id=1), Box(30, 30, 40, 40, class_id=1)]
    )
    other = ImageAnnotation("a", (64, 64), boxes=[Box(0, 0, 10, 10, class_id=1)])
    res = agreement_result([ref, other], iou_thresholds=[0.5])
    assert [p.kind for p in res.pairs] == ["boxes"]
    f1 = 2 * 1 / (2 * 1 + 0 + 1)
    assert res.row() == {"box_f1@0.5": pytest.approx(f1)}
    assert res.summary() == f"#1: box F1 {f1:.3f} (tp 1, fp 0, fn 1)"


def test_rotated_and_keypoint_pairs_name_their_part():
    m = {"tp": 3, "fp": 1, "fn": 0, "f1": 6 / 7, "threshold": 0.5}
    res = AgreementResult(
        (PairAgreement("a vs b", "rotated", m), PairAgreement("a vs c", "keypoints", m)),
    )
    assert res.summary().splitlines() == [
        "a vs b: rotated box F1 0.857 (tp 3, fp 1, fn 0)",
        "a vs c: keypoint F1 0.857 (tp 3, fp 1, fn 0)",
    ]
    assert res.row() == {"rotated_f1@0.5": 6 / 7, "keypoint_f1@0.5": 6 / 7}
    flat = AgreementResult(res.pairs[:1], None, ("a", "b"), "rotated").as_dict()
    assert AgreementResult.from_dict(flat).summary() == res.summary().splitlines()[0]
    assert AgreementResult.from_dict(res.as_dict()) == res
