"""The "Quality control" widget: findings list, navigation, review keys, agreement, report."""

from __future__ import annotations

import numpy as np
import pytest

from napari_labelsuite._widgets.qc import KEYS, QualityControlWidget, _KeyAction
from napari_labelsuite.core.annotation import ObjectInfo
from napari_labelsuite.core.synthetic import NUCLEI_CLASSES
from napari_labelsuite.core.taxonomy import Taxonomy


@pytest.fixture
def widget(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    w = QualityControlWidget(viewer)
    w.session.taxonomy = Taxonomy(NUCLEI_CLASSES)
    yield w
    w.close_bindings()


def _volume():
    """A 3D mask: object 1 on planes 1-2 (classified), object 2 on plane 4 (no class)."""
    inst = np.zeros((6, 40, 50), np.int32)
    inst[1:3, 5:15, 5:15] = 1
    inst[4, 20:30, 30:40] = 2
    return inst


def _bound_action(viewer, what, arg):
    return [a for a in viewer.keymap.values()
            if isinstance(a, _KeyAction) and (a.what, a.arg) == (what, arg)]  # fmt: skip


def _run_checks(widget, qtbot):
    widget.run_checks()
    qtbot.waitUntil(lambda: widget.findings_list.count() > 0, timeout=20000)


def test_run_checks_lists_findings(widget, qtbot):
    widget.session.add_instance_layer(_volume(), objects={1: ObjectInfo(1)})
    _run_checks(widget, qtbot)
    assert widget.findings_list.count() == 1
    assert "instance 2 has no class" in widget.findings_list.item(0).text()


def test_clicking_a_finding_moves_to_its_plane_and_centre(widget, qtbot):
    widget.session.add_instance_layer(_volume(), objects={1: ObjectInfo(1)})
    _run_checks(widget, qtbot)
    widget.findings_list.setCurrentRow(-1)
    widget.findings_list.setCurrentRow(0)
    viewer = widget.viewer
    assert viewer.dims.current_step[0] == 4
    assert tuple(viewer.scene.camera.center[-2:]) == pytest.approx((24.5, 34.5))


def test_going_to_a_finding_zooms_to_fit_the_object_in_the_canvas(widget, qtbot):
    widget.session.add_instance_layer(_volume(), objects={1: ObjectInfo(1)})
    _run_checks(widget, qtbot)
    viewer = widget.viewer
    viewer.canvas.size = (300, 500)
    widget.session.go_to_finding(0, margin=2.0)
    # object 2 spans 10 pixels; with margin 2 the view shows 20 pixels across the short side
    assert viewer.scene.camera.zoom == pytest.approx(300 / 20.0)


def test_review_key_sets_status_in_layer_features(widget, qtbot):
    layer = widget.session.add_instance_layer(_volume(), objects={1: ObjectInfo(1)})
    _run_checks(widget, qtbot)
    widget.session.run_checks(min_area=500)  # object 1 (200 px) is tiny too
    row = next(i for i, f in enumerate(widget.session.findings) if f.instance_id == 1)
    widget.findings_list.setCurrentRow(row)
    [approve] = _bound_action(widget.viewer, "status", "approved")
    approve(widget.viewer)
    assert layer.features.set_index("index").loc[1, "status"] == "approved"
    assert widget.findings_list.item(row).text().startswith("[approved]")


def test_keys_are_bound_while_open_and_restored_on_close(widget):
    assert len(_bound_action(widget.viewer, "status", "needs-fix")) == 1
    assert len([a for a in widget.viewer.keymap.values() if isinstance(a, _KeyAction)]) == len(
        KEYS
    )
    widget.close_bindings()
    assert not [a for a in widget.viewer.keymap.values() if isinstance(a, _KeyAction)]
    assert widget._on_findings not in widget.session.findings_changed


def test_compare_adds_disagreement_layer_and_shows_numbers(widget, qtbot):
    a = _volume()
    b = np.where(a == 2, 0, a)
    widget.session.add_instance_layer(a, name="ann1", objects={1: ObjectInfo(1)})
    widget.session.add_instance_layer(b, name="ann2")
    widget.layer_a.setCurrentText("ann1")
    widget.layer_b.setCurrentText("ann2")
    widget.compare()
    qtbot.waitUntil(lambda: "disagreement" in widget.viewer.layers, timeout=20000)
    dis = widget.viewer.layers["disagreement"].data
    assert set(np.unique(dis[a == 2])) == {2} and not dis[a != 2].any()
    assert "F1@0.50 0.667" in widget.agreement_label.text()


def test_export_report_writes_files(widget, qtbot, tmp_path):
    widget.session.add_instance_layer(_volume(), objects={1: ObjectInfo(1)})
    _run_checks(widget, qtbot)
    written = widget.export_report(str(tmp_path / "qc.md"))
    assert [p.name for p in written] == ["qc.json", "qc.md"]
    assert "unclassified" in written[1].read_text()


def test_status_without_object_becomes_a_notification(widget, qtbot):
    widget.session.add_instance_layer(_volume(), objects={1: ObjectInfo(1)})
    _run_checks(widget, qtbot)
    widget.findings_list.setCurrentRow(0)  # instance 2 has no class: no table row
    widget.set_status("approved")  # must not raise
    assert widget.session.findings[0].status == ""
