"""The "Team" dock: assign, progress, agreement in a worker, show two annotators, decide."""

from __future__ import annotations

import numpy as np
import pytest

from napari_labelsuite._widgets import _base
from napari_labelsuite._widgets import team as team_module
from napari_labelsuite._widgets.team import TeamWidget
from napari_labelsuite.core.team import save_annotator_annotation
from team_data import rect_annotation

SHAPE = (40, 40)
A_OBJ = [(2, 10, 2, 10), (20, 26, 20, 26)]
B_OBJ = [(2, 10, 2, 12), (20, 26, 20, 26), (30, 34, 30, 34)]


def _ann(key, rects, classes):
    return rect_annotation(key, SHAPE, rects, classes)


@pytest.fixture
def errors(monkeypatch):
    shown: list[str] = []
    monkeypatch.setattr(_base, "show_error", shown.append)
    return shown


@pytest.fixture
def widget(make_napari_viewer, tmp_path):
    for i in range(2):
        np.save(tmp_path / f"img{i}.npy", np.full(SHAPE, 40 * i, np.uint8))
    viewer = make_napari_viewer()
    w = TeamWidget(viewer)
    s = w.session
    s.user = "rita"
    s.add_class("cell")
    s.add_class("debris")
    s.open_dataset(tmp_path)
    s.goto(0)
    yield w
    w.close_bindings()


def _assign_and_label(widget, qtbot):
    widget.annotators.setText("ana, bob")
    widget.overlap.setValue(1.0)
    widget.per_image.setValue(2)
    widget.seed.setValue(3)
    widget.assign()
    ds = widget.session.dataset
    for i, key in enumerate(ds.keys()):
        save_annotator_annotation(ds, i, "ana", _ann(key, A_OBJ, [1, 1]))
        save_annotator_annotation(ds, i, "bob", _ann(key, B_OBJ, [1, 2, 1]))
    # the dock follows the session: its annotator lists fill after the recorded change
    qtbot.waitUntil(lambda: widget.a.count() == 2, timeout=5000)


def test_assign_fills_the_progress_table_then_agreement_runs_in_a_worker(
    widget, qtbot, errors, monkeypatch
):
    """Bad input is a notification; the progress table, then the agreement (table, flags,
    chart, Save chart...) computed in a worker."""
    widget.annotators.setText("ana, ../bob")
    widget.assign()
    assert errors and "../bob" in errors[-1]
    assert widget.session.assignments is None  # nothing written
    _assign_and_label(widget, qtbot)
    asg = widget.session.assignments
    assert asg.annotators == ["ana", "bob"] and len(asg.overlap_keys()) == 2
    widget.refresh()
    t = widget.progress_table
    rows = {t.item(r, 0).text(): (t.item(r, 1).text(), t.item(r, 2).text()) for r in range(2)}
    assert rows == {"ana": ("2", "2"), "bob": ("2", "2")}
    assert "2 overlap images" in widget.status.text()
    assert [widget.a.itemText(i) for i in range(widget.a.count())] == ["ana", "bob"]
    assert (widget.a.currentText(), widget.b.currentText()) == ("ana", "bob")
    # (one viewer for both: the agreement below runs on this assignment)
    _agreement_runs_in_a_worker_and_shows_table_flags_chart(widget, qtbot, monkeypatch)


def _agreement_runs_in_a_worker_and_shows_table_flags_chart(widget, qtbot, monkeypatch):
    tmp_path = widget.session.dataset.root
    worker = widget.compute_agreement()
    assert worker is not None
    qtbot.waitUntil(lambda: widget.agreement_table.rowCount() > 0, timeout=30000)
    res = widget.session.team_agreement
    t = widget.agreement_table
    assert t.rowCount() == len(res.pairs) == 3  # all, cell, debris
    assert (t.item(0, 0).text(), t.item(0, 1).text()) == ("ana vs bob", "all")
    assert t.item(0, 2).text() == f"{res.pairs[0]['kappa']:.3f}"
    assert "debris" in widget.flags.text() and "2 overlap images" in widget.flags.text()
    assert not widget.chart.pixmap().isNull()
    target = tmp_path / "chart.svg"
    monkeypatch.setattr(
        team_module.QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), "")
    )
    widget.agreement_buttons["Save chart..."].click()  # the real button
    assert "kappa per pair and class" in target.read_text()


def test_show_pair_and_decide_on_an_object(widget, qtbot, errors):
    _assign_and_label(widget, qtbot)
    widget.view.setCurrentText("difference")
    widget.show_pair()
    s = widget.session
    assert "difference ana / bob" in s.layers and s.reviewing
    assert "only B: 32 px, class differs: 36 px" in widget.adjudication.text()
    diff = s.layers["difference ana / bob"]

    class Click:  # what napari hands a mouse callback
        position = (31.0, 31.0)

    diff.mouse_drag_callbacks[-1](diff, Click())  # bob's lone object under the click
    assert (widget.object_id.value(), widget.source.currentText()) == (3, "B")
    widget.decide("accept_b")
    assert not errors
    assert (s.instances.data[30:34, 30:34] > 0).all()
    widget.object_id.setValue(42)
    widget.decide("merge")
    assert "no object with this id" in errors[-1]
    widget.view.setCurrentText("side by side")
    widget.show_pair()
    assert "bob (B)" in s.layers and "difference ana / bob" not in s.layers
    s.layers["bob (B)"].selected_label = 2  # napari's picker on B's labels
    assert (widget.object_id.value(), widget.source.currentText()) == (2, "B")
    s.show_annotators("bob", "ana", mode="difference")  # from the console
    qtbot.waitUntil(lambda: widget.a.currentText() == "bob", timeout=5000)
    assert (widget.b.currentText(), widget.view.currentText()) == ("ana", "difference")
    widget.method.setCurrentText("matching")
    widget.min_annotators.setValue(2)
    widget.consensus()
    assert len(s.objects()) == 2  # the 0.8-IoU pair and the class-conflict pair
    widget.save_reviewed()
    truth = s.dataset.load_annotation(0)
    assert len(truth.objects) == 2 and truth.instances[3, 3] > 0
