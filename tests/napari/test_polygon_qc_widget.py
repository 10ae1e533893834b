"""The "Quality control" dock compares polygons layers by polygon IoU and reviews polygons."""

from __future__ import annotations

import numpy as np
import pytest

TAX = {"classes": [{"id": 1, "name": "field"}]}
SQUARE = np.array([[10.0, 10.0], [40.0, 10.0], [40.0, 40.0], [10.0, 40.0]])
TRIANGLE = np.array([[60.0, 10.0], [80.0, 10.0], [70.0, 30.0]])


@pytest.fixture
def widget(qc_widget):
    return qc_widget  # tests/napari/conftest.py


def _two_layers(session):
    session.add_polygons_layer([{"xy": SQUARE, "class_id": 1, "instance_id": 1}], name="ana")
    # the square shifted by 5 px (IoU 25 * 30 / (2 * 900 - 750) = 0.714) and an extra
    session.add_polygons_layer(
        [
            {"xy": SQUARE + [5.0, 0.0], "class_id": 1, "instance_id": 3},
            {"xy": TRIANGLE, "class_id": 1, "instance_id": 4},
        ],
        name="bob",
    )


@pytest.mark.parametrize("method", ["raster", "shapely"])
def test_compare_polygon_layers_in_the_dock(widget, qtbot, method):
    _two_layers(widget.session)
    widget.layer_a.setCurrentText("ana")
    widget.layer_b.setCurrentText("bob")
    widget.polygon_method.setCurrentText(method)
    widget.compare()
    qtbot.waitUntil(lambda: "polygon F1" in widget.agreement_label.text(), timeout=20000)
    assert "ana vs bob: polygon F1 0.667 (tp 1, fp 1, fn 0)" in widget.agreement_label.text()
    entry = widget.session.history()[-1]
    assert entry["action"] == "compare_layers"
    assert entry["params"]["kind"] == "polygons" and entry["params"]["method"] == method
    m = widget.session._qc_agreement.pairs[0].metrics
    assert m["mean_iou"] == pytest.approx(750 / 1050, abs=1e-12)


def test_a_crossed_outline_is_named_and_nothing_is_compared(widget, qtbot):
    _two_layers(widget.session)
    bow_tie = np.array([[10.0, 10.0], [40.0, 30.0], [40.0, 10.0], [10.0, 20.0]])
    widget.session.layers["bob"].data = [bow_tie[:, ::-1] - 0.5, TRIANGLE[:, ::-1] - 0.5]
    widget.layer_a.setCurrentText("ana")
    widget.layer_b.setCurrentText("bob")
    widget.compare()
    qtbot.waitUntil(lambda: "not compared" in widget.agreement_label.text(), timeout=20000)
    assert "bob: shape 0: field 'edges': self-intersecting" in widget.agreement_label.text()
    assert widget.session.history()[-1]["action"] != "compare_layers"


def test_review_list_sets_the_status_of_polygons(widget, qtbot):
    _two_layers(widget.session)
    widget.object_layer.setCurrentText("bob")
    assert [widget.object_queue.item(i).text() for i in range(2)] == [
        "0: field [todo]",
        "1: field [todo]",
    ]
    widget.object_queue.setCurrentRow(1)
    widget.set_object_status("approved")
    layer = widget.session.layers["bob"]
    assert layer.features["status"].tolist() == ["todo", "approved"]
    assert widget.object_queue.item(1).text() == "1: field [approved]"
