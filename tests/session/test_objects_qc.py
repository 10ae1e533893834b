"""QC agreement of rotated boxes (rotated IoU) and keypoint sets (OKS) through the session."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from shapely.geometry import Polygon

from napari_labelsuite import LabelSession
from napari_labelsuite.core.errors import SessionError
from napari_labelsuite.core.objects import Keypoints, RotatedBox
from napari_labelsuite.core.taxonomy import Taxonomy
from object_kinds_data import ship_person_tax

TAX = ship_person_tax()


# session: tests/session/conftest.py (a LabelSession with TAX)


def _shapely_iou(a: RotatedBox, b: RotatedBox) -> float:
    pa, pb = Polygon(a.corners()), Polygon(b.corners())
    return float(pa.intersection(pb).area / pa.union(pb).area)


def test_compare_rotated_layers_matches_by_rotated_iou(session: LabelSession) -> None:
    ref = [
        RotatedBox(20, 20, 16, 6, 30, class_id=1),
        RotatedBox(60, 20, 10, 10, 0, class_id=1),
        RotatedBox(20, 60, 8, 4, 45, class_id=1),
    ]
    other = [
        RotatedBox(21, 20, 16, 6, 35, class_id=1),  # overlaps ref[0] well
        RotatedBox(60, 20, 10, 10, 45, class_id=1),  # same centre, turned: IoU ~0.7
        RotatedBox(90, 90, 8, 4, 0, class_id=1),  # nowhere near
    ]
    la = session.add_rotated_boxes_layer(ref, name="a")
    lb = session.add_rotated_boxes_layer(other, name="b")
    res = session.compare_layers(la, lb, iou_threshold=0.5)
    assert res["kind"] == "rotated"
    m = res["a vs b"]
    iou0, iou1 = _shapely_iou(ref[0], other[0]), _shapely_iou(ref[1], other[1])
    assert iou0 > 0.5 and iou1 > 0.5  # the fixture is what the test claims
    assert (m["tp"], m["fp"], m["fn"]) == (2, 1, 1)
    assert m["mean_iou"] == pytest.approx((iou0 + iou1) / 2, abs=1e-6)
    row = m["per_class"].set_index("class_id").loc[1]
    assert (row["tp"], row["fp"], row["fn"]) == (2, 1, 1)
    assert session._history[-1]["params"]["kind"] == "rotated"
    session.add_instance_layer(np.zeros((100, 100), np.int32))  # the report's image shape
    assert session.qc_report()["agreement"]["kind"] == "rotated"


def test_rotated_agreement_goes_into_the_written_report(
    session: LabelSession, tmp_path: Path
) -> None:
    box = RotatedBox(20, 20, 16, 6, 30, class_id=1)
    la = session.add_rotated_boxes_layer([box], name="a")
    lb = session.add_rotated_boxes_layer([box, RotatedBox(60, 60, 4, 4, 0, class_id=1)], name="b")
    session.compare_layers(la, lb)
    session.add_instance_layer(np.zeros((100, 100), np.int32))  # the report's image shape
    paths = session.export_qc_report(tmp_path / "qc.json")
    written = json.loads(next(p for p in paths if p.suffix == ".json").read_text())
    assert written["agreement"]["kind"] == "rotated"
    assert written["agreement"]["a vs b"]["f1"] == pytest.approx(2 / 3)


def _coco_oks(g: np.ndarray, d: np.ndarray, area: float, sigmas: np.ndarray) -> float:
    """OKS as pycocotools' COCOeval.computeOks writes it, for one pair."""
    var = (2 * sigmas) ** 2
    vis = g[:, 2] > 0
    e = ((d[:, 0] - g[:, 0]) ** 2 + (d[:, 1] - g[:, 1]) ** 2) / var / (area + np.spacing(1)) / 2
    return float(np.exp(-e[vis]).sum() / vis.sum())


def test_compare_keypoint_layers_matches_by_oks(session: LabelSession) -> None:
    g1 = np.array([[10, 10, 2], [5, 20, 2], [15, 20, 1]], float)
    g2 = np.array([[50, 10, 2], [45, 20, 2], [0, 0, 0]], float)
    ref = [
        Keypoints(g1, 2, box=(0, 0, 20, 30)),
        Keypoints(g2, 2, box=(40, 0, 60, 30)),
    ]
    d1 = g1 + np.array([1.0, -1.0, 0])
    d2 = np.array([[80, 80, 2], [75, 90, 2], [0, 0, 0]], float)  # another object
    la = session.add_keypoints_layer(ref, name="gt")
    lb = session.add_keypoints_layer(
        [Keypoints(d1, 2, box=(0, 0, 20, 30)), Keypoints(d2, 2)], name="pred"
    )
    res = session.compare_layers(la, lb, iou_threshold=0.5)
    assert res["kind"] == "keypoints"
    m = res["gt vs pred"]
    want = _coco_oks(g1, d1, 600.0, np.full(3, 0.1))
    assert want > 0.5
    assert (m["tp"], m["fp"], m["fn"]) == (1, 1, 1)
    assert m["mean_iou"] == pytest.approx(want, abs=1e-9)
    # explicit sigmas per class change the OKS the same way the formula does
    tight = np.full(3, 0.01)
    res = session.compare_layers(la, lb, iou_threshold=0.0, sigmas={2: tight})
    assert res["gt vs pred"]["mean_iou"] == pytest.approx(
        _coco_oks(g1, d1, 600.0, tight), abs=1e-9
    )


def test_compare_layers_rejects_unknown_kind(session: LabelSession) -> None:
    la = session.add_rotated_boxes_layer([RotatedBox(5, 5, 4, 2, 0, class_id=1)], name="a")
    lb = session.add_rotated_boxes_layer([RotatedBox(5, 5, 4, 2, 0, class_id=1)], name="b")
    with pytest.raises(SessionError, match="kind must be one of"):
        session.compare_layers(la, lb, kind="polygons3d")


def test_review_queue_lists_rotated_boxes_keypoints_and_polygons(session: LabelSession) -> None:
    from napari_labelsuite.core.annotation import ObjectInfo

    rot = session.add_rotated_boxes_layer(
        [
            RotatedBox(20, 10, 12, 4, 30, class_id=1, plane=(0,)),
            RotatedBox(5, 6, 3, 2, -80, class_id=1, plane=(1,), status="approved"),
        ]
    )
    xyv = np.array([[10, 10, 2], [5, 20, 2], [15, 20, 1]], float)
    kps = session.add_keypoints_layer([Keypoints(xyv, 2), Keypoints(xyv + [30, 0, 0], 2)])
    lab = np.zeros((20, 20), np.int32)
    lab[2:6, 2:6] = 1
    session.add_instance_layer(lab, objects={1: ObjectInfo(1)})
    poly = session.polygons_from_instances()
    assert [(o["index"], o["plane"], o["status"]) for o in session.review_queue(rot)] == [
        (0, (0,), "todo"),
        (1, (1,), "approved"),
    ]
    assert [(o["index"], o["class_id"]) for o in session.review_queue(kps)] == [(0, 2), (1, 2)]
    session.set_object_review_status("needs-fix", 1, kps, reviewer="ann")
    session.set_object_review_status("approved", 0, rot)
    session.set_object_review_status("approved", 0, poly)
    assert [o["status"] for o in session.review_queue(kps)] == ["todo", "needs-fix"]
    # every point of keypoint set 1 carries the status and the reviewer
    on = kps.features["object"] == 1
    assert set(kps.features.loc[on, "status"]) == {"needs-fix"}
    assert set(kps.features.loc[on, "reviewer"]) == {"ann"}
    assert session.rotated_boxes_list(rot)[0].status == "approved"
    summary = session.review_summary()
    assert summary["rotated"] == {"approved": 2}
    assert summary["keypoints"] == {"todo": 1, "needs-fix": 1}
    assert summary["polygons"] == {"approved": 1}
    assert session._history[-1]["action"] == "set_object_review_status"
    with pytest.raises(SessionError, match="no object with this index"):
        session.set_object_review_status("approved", 5, rot)
    with pytest.raises(SessionError, match="status must be one of"):
        session.set_object_review_status("done", 0, rot)


def test_agreement_of_annotations_compares_rotated_boxes_and_keypoints() -> None:
    from napari_labelsuite.core.annotation import ImageAnnotation
    from napari_labelsuite.core.qc import agreement_result

    tax = Taxonomy.from_dict(TAX)
    box = RotatedBox(20, 20, 16, 6, 30, class_id=1)
    turned = RotatedBox(20, 20, 16, 6, 40, class_id=1)
    xyv = np.array([[10, 10, 2], [5, 20, 2], [15, 20, 1]], float)
    moved = xyv + [2.0, 0, 0]
    a = ImageAnnotation(
        "a", (50, 50), rotated=[box], keypoints=[Keypoints(xyv, 2, box=(0, 0, 20, 30))]
    )
    b = ImageAnnotation("b", (50, 50), rotated=[turned], keypoints=[Keypoints(moved, 2)])
    res = agreement_result([a, b], tax, iou_thresholds=[0.5])
    (rot,) = res.part("rotated")
    (kps,) = res.part("keypoints")
    assert rot.metrics["tp"] == 1
    assert rot.metrics["mean_iou"] == pytest.approx(_shapely_iou(box, turned), abs=1e-6)
    assert kps.metrics["tp"] == 1
    want = _coco_oks(xyv, moved, 600.0, np.full(3, 0.1))
    assert kps.metrics["mean_iou"] == pytest.approx(want, abs=1e-9)
