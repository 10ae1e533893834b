"""The "Quality control" dock compares rotated-box and keypoint layers (rotated IoU, OKS)."""

from __future__ import annotations

import numpy as np
import pytest

from napari_labelsuite.core.objects import Keypoints, RotatedBox

TAX = {
    "classes": [
        {"id": 1, "name": "ship"},
        {"id": 2, "name": "person", "keypoints": {"names": ["head", "left", "right"]}},
    ]
}


@pytest.fixture
def widget(qc_widget):
    return qc_widget  # tests/napari/conftest.py


def test_compare_keypoint_layers_in_the_dock(widget, qtbot):
    xyv = np.array([[10, 10, 2], [5, 20, 2], [15, 20, 1]], float)
    widget.session.add_keypoints_layer([Keypoints(xyv, 2, box=(0, 0, 20, 30))], name="gt")
    widget.session.add_keypoints_layer(
        [Keypoints(xyv + [1.0, 0, 0], 2), Keypoints(xyv + [40.0, 0, 0], 2)], name="pred"
    )
    widget.layer_a.setCurrentText("gt")
    widget.layer_b.setCurrentText("pred")
    assert (widget.layer_a.currentText(), widget.layer_b.currentText()) == ("gt", "pred")
    widget.compare()
    qtbot.waitUntil(lambda: "keypoint F1" in widget.agreement_label.text(), timeout=20000)
    assert "keypoint F1 0.667" in widget.agreement_label.text()
    assert "disagreement" not in widget.viewer.layers


def test_compare_rotated_box_layers_in_the_dock(widget, qtbot):
    box = RotatedBox(20, 20, 16, 6, 30, class_id=1)
    widget.session.add_rotated_boxes_layer([box], name="a")
    widget.session.add_rotated_boxes_layer(
        [box, RotatedBox(60, 60, 4, 4, 0, class_id=1)], name="b"
    )
    widget.layer_a.setCurrentText("a")
    widget.layer_b.setCurrentText("b")
    widget.compare()
    qtbot.waitUntil(lambda: "rotated box F1" in widget.agreement_label.text(), timeout=20000)
    assert "rotated box F1 0.667 (tp 1, fp 1, fn 0)" in widget.agreement_label.text()


def test_review_list_sets_the_status_of_rotated_boxes(widget, qtbot):
    boxes = [RotatedBox(20, 20, 16, 6, 30, class_id=1), RotatedBox(60, 60, 4, 4, 0, class_id=1)]
    layer = widget.session.add_rotated_boxes_layer(boxes, name="rot")
    assert widget.object_layer.currentText() == "rot"
    assert [widget.object_queue.item(i).text() for i in range(2)] == [
        "0: ship [todo]",
        "1: ship [todo]",
    ]
    widget.object_queue.setCurrentRow(1)
    widget.set_object_status("needs-fix")
    assert layer.features["status"].tolist() == ["todo", "needs-fix"]
    assert widget.object_queue.item(1).text() == "1: ship [needs-fix]"
    # a change made from the console shows in the list too
    widget.session.set_object_review_status("approved", 0, layer)
    assert widget.object_queue.item(0).text() == "0: ship [approved]"
