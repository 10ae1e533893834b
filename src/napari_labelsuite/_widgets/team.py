"""The "Team" dock widget: annotators, assignments, agreement and adjudication.

A view of the session's team state (see ``docs/team.md``); every control is one session
call, and the tables are read from the session after each recorded change, so what the
console changes, the widget shows.

=====================================  ===================================================
Control                                Session call
=====================================  ===================================================
annotator, Set                         ``labelsuite.set_annotator(name)``
Assign                                 ``labelsuite.assign(annotators, overlap, per_image,
                                       seed)``
progress table                         ``labelsuite.team_progress()``
Compute agreement                      ``labelsuite.agreement_by_annotator(threshold,
                                       f1_threshold=...)`` (in a worker)
Save chart...                          ``labelsuite.agreement_chart(path)``
Show (A, B, view)                      ``labelsuite.show_annotators(a, b, mode)``
Accept A / Accept B / Merge / Redraw   ``labelsuite.adjudicate_object(id, decision,
                                       source)``
Consensus                              ``labelsuite.consensus(method, min_annotators=...)``
Save reviewed                          ``labelsuite.save_adjudicated()``
=====================================  ===================================================
"""

from __future__ import annotations

import math
import queue
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import napari
from qtpy.QtCore import Qt, QTimer, Signal
from qtpy.QtGui import QPixmap
from qtpy.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QLabel,
    QLineEdit,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from ._base import SessionWidget, short_path

#: view choice -> ``mode`` of ``show_annotators``
VIEWS = {"side by side": "side_by_side", "difference": "difference"}
DECISION_BUTTONS = {"Accept A": "accept_a", "Accept B": "accept_b", "Merge": "merge",
                    "Redraw": "redraw"}  # fmt: skip


def _cell(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    return f"{v:.3f}" if isinstance(v, float) else str(v)


def _fill(table: QTableWidget, headers: list[str], rows: list[list[Any]]) -> None:
    table.setColumnCount(len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.setRowCount(len(rows))
    for i, row in enumerate(rows):
        for j, v in enumerate(row):
            table.setItem(i, j, QTableWidgetItem(_cell(v)))
    table.resizeColumnsToContents()


class TeamWidget(SessionWidget):
    """Who labels what, how well they agree, and the reviewed truth of the overlap."""

    #: a change was recorded; queued to the GUI thread (the agreement runs in a worker)
    _recorded = Signal()

    def __init__(self, viewer: napari.viewer.Viewer, parent: QWidget | None = None) -> None:
        super().__init__(viewer, parent)
        self._build_people()
        self._build_agreement()
        self._build_adjudication()
        self._watched: list[Any] = []
        # many recorded changes in a row refresh the tables once
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(300)
        self._timer.timeout.connect(self.refresh)
        self._recorded.connect(self._timer.start)
        self.session.provenance_recorded.connect(self._on_recorded)
        self.refresh()

    # -- building -----------------------------------------------------------------------
    def _heading(self, text: str) -> None:
        label = QLabel(f"<b>{text}</b>")
        self.layout().addWidget(label)

    def _build_people(self) -> None:
        self._heading("Annotators and assignment")
        self.annotator = QLineEdit()
        self.annotator.setPlaceholderText("your annotator name")
        self.annotators = QLineEdit()
        self.annotators.setPlaceholderText("alice, bob, carol")
        self.overlap = QDoubleSpinBox()
        self.overlap.setRange(0.0, 1.0)
        self.overlap.setSingleStep(0.05)
        self.overlap.setValue(0.1)
        self.per_image = QSpinBox()
        self.per_image.setRange(2, 20)
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.add_form(
            [
                ("annotator", self.annotator),
                ("annotators", self.annotators),
                ("overlap", self.overlap),
                ("per image", self.per_image),
                ("seed", self.seed),
            ]
        )
        self.add_buttons([("Set annotator", self.set_annotator), ("Assign", self.assign)])
        self.progress_table = QTableWidget(0, 0)
        self.progress_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.progress_table.setMaximumHeight(130)
        self.layout().addWidget(self.progress_table)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.layout().addWidget(self.status)

    def _build_agreement(self) -> None:
        self._heading("Agreement on the overlap images")
        self.kappa_threshold = QDoubleSpinBox()
        self.kappa_threshold.setRange(-1.0, 1.0)
        self.kappa_threshold.setSingleStep(0.05)
        self.kappa_threshold.setValue(0.6)
        self.f1_threshold = QDoubleSpinBox()
        self.f1_threshold.setRange(0.0, 1.0)
        self.f1_threshold.setSingleStep(0.05)
        self.f1_threshold.setValue(0.7)
        self.add_form([("flag kappa below", self.kappa_threshold),
                       ("flag F1 below", self.f1_threshold)])  # fmt: skip
        self.agreement_buttons = self.add_buttons(
            [
                ("Compute agreement", self.compute_agreement),
                ("Save chart...", lambda *_: self.save_chart()),  # not clicked(checked)
            ]
        )
        self.agreement_table = QTableWidget(0, 0)
        self.agreement_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.agreement_table.setMaximumHeight(160)
        self.layout().addWidget(self.agreement_table)
        self.flags = QLabel()
        self.flags.setWordWrap(True)
        self.flags.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.layout().addWidget(self.flags)
        self.chart = QLabel()
        self.chart.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.layout().addWidget(self.chart)

    def _build_adjudication(self) -> None:
        self._heading("Adjudication")
        self.a = QComboBox()
        self.b = QComboBox()
        self.view = QComboBox()
        self.view.addItems(list(VIEWS))
        self.object_id = QSpinBox()
        self.object_id.setRange(1, 2**31 - 1)
        self.source = QComboBox()
        self.source.addItems(["A", "B"])
        self.method = QComboBox()
        self.method.addItems(["majority", "matching"])
        self.min_annotators = QSpinBox()
        self.min_annotators.setRange(0, 20)
        self.min_annotators.setSpecialValueText("majority")
        self.add_form(
            [
                ("annotator A", self.a),
                ("annotator B", self.b),
                ("view", self.view),
                ("object id", self.object_id),
                ("object of", self.source),
            ]
        )
        self.add_buttons([("Show", self.show_pair)])
        self.add_buttons([(text, self._decider(d)) for text, d in DECISION_BUTTONS.items()])
        self.add_form([("consensus", self.method), ("min annotators", self.min_annotators)])
        self.add_buttons([("Consensus", self.consensus), ("Save reviewed", self.save_reviewed)])
        self.adjudication = QLabel()
        self.adjudication.setWordWrap(True)
        self.layout().addWidget(self.adjudication)
        self.layout().addStretch(1)

    # -- reading the session -----------------------------------------------------------
    def _on_recorded(self, entry: Any = None) -> None:
        self._recorded.emit()  # from any thread; the timer starts on the GUI thread

    def refresh(self) -> None:
        """Read annotators, progress and the pair shown from the session."""
        if self._released:
            return
        s = self.session
        if s.dataset is None:
            self.status.setText("open a dataset to assign its images")
            _fill(self.progress_table, [], [])
            return
        if not self.annotator.hasFocus():
            self.annotator.setText(s.annotator)
        names = self.guarded(s.team_annotators) or []
        for combo, pick in ((self.a, 0), (self.b, 1)):
            current = combo.currentText()
            if [combo.itemText(i) for i in range(combo.count())] != names:
                combo.blockSignals(True)
                combo.clear()
                combo.addItems(names)
                if current in names:
                    combo.setCurrentText(current)
                elif len(names) > pick:
                    combo.setCurrentIndex(pick)
                combo.blockSignals(False)
        try:
            progress = s.team_progress() if s.assignments is not None else None
        except Exception as exc:  # a hand-edited assignment: say so, keep the dock alive
            self.status.setText(f"assignment: {exc}")
            return
        if progress is None:
            self.status.setText("no assignment yet: give the annotators and press Assign")
            _fill(self.progress_table, [], [])
        else:
            asg = s.assignments
            overlap = len(asg.overlap_keys()) if asg is not None else 0
            rows = [[a, p["assigned"], p["done"]] for a, p in progress.items()]
            _fill(self.progress_table, ["annotator", "assigned", "done"], rows)
            mode = "reviewing" if s.reviewing else f"labelling as {s.annotator}"
            self.status.setText(f"{overlap} overlap images; {mode}")
        adj = s.adjudication
        if adj is not None:  # the pair shown, also when the console chose it
            for combo, name in ((self.a, adj["a"]), (self.b, adj["b"])):
                combo.blockSignals(True)
                combo.setCurrentText(name)
                combo.blockSignals(False)
            self.view.setCurrentText(next(k for k, v in VIEWS.items() if v == adj["mode"]))
            counts = (
                ", ".join(f"{k}: {v} px" for k, v in adj["counts"].items())
                if adj["counts"] is not None
                else "differences drawn as you view them"
            )
            self.adjudication.setText(
                f"{adj['a']} (A) vs {adj['b']} (B) on {adj['key']}: {counts}"
            )

    # -- annotators and assignments ---------------------------------------------------------
    def set_annotator(self) -> None:
        name = self.annotator.text().strip()
        if self.guarded(self.session.set_annotator, name) is not None:
            self.info(f"labelling as {name}")

    def assign(self) -> None:
        asg = self.guarded(
            self.session.assign,
            self.annotators.text(),
            overlap=self.overlap.value(),
            per_image=self.per_image.value(),
            seed=self.seed.value(),
        )
        if asg is not None:
            self.info(f"assigned {len(asg.items)} images to {len(asg.annotators)} annotators")

    # -- agreement ---------------------------------------------------------------------
    def _agreement_job(self, threshold: float, f1_threshold: float) -> Iterator[int]:
        """Generator worker: the session call runs beside it, one yield per image."""
        ticks: queue.Queue[int] = queue.Queue()
        out: dict[str, Any] = {}

        def run() -> None:
            try:
                out["result"] = self.session.agreement_by_annotator(
                    threshold, f1_threshold=f1_threshold, progress=lambda d, t: ticks.put(1)
                )
            except BaseException as exc:  # re-raised in the worker, shown as notification
                out["error"] = exc

        t = threading.Thread(target=run, daemon=True)
        t.start()
        while t.is_alive() or not ticks.empty():
            try:
                yield ticks.get(timeout=0.05)
            except queue.Empty:
                continue
        if "error" in out:
            raise out["error"]
        return out["result"]  # type: ignore[no-any-return]

    def compute_agreement(self) -> Any:
        """Agreement of every annotator pair in a worker; table, flags and chart after."""
        asg = self.guarded(lambda: self.session.assignments)
        total = len(asg.overlap_keys()) if asg is not None else 0
        self.flags.setText("computing agreement…")
        return self.run_in_worker(
            self._agreement_job,
            self.kappa_threshold.value(),
            self.f1_threshold.value(),
            on_done=self._show_agreement,
            description="Agreement",
            total=total,
        )

    def _show_agreement(self, result: Any) -> None:
        rows = [
            [f"{r['annotator_a']} vs {r['annotator_b']}", r["class"], r["kappa"], r["f1"],
             r["mean_iou"], r["images"]]
            for r in result.pairs
        ]  # fmt: skip
        _fill(self.agreement_table, ["pair", "class", "kappa", "F1", "IoU", "images"], rows)
        lines = [f"{len(result.images)} overlap images"]
        lines += [
            f"⚠ {f['kind']} {f['name']}: {f['metric']} {_cell(f['value'])}" for f in result.flags
        ]
        lines += [f"{g['class']}: {g['guideline'] or '(no guideline)'}" for g in result.guidelines]
        self.flags.setText("\n".join(lines))
        with tempfile.TemporaryDirectory() as tmp:
            png = self.guarded(self.session.agreement_chart, Path(tmp) / "agreement.png")
            if png is not None:
                pix = QPixmap(str(png))
                self.chart.setPixmap(
                    pix.scaledToWidth(320, Qt.TransformationMode.SmoothTransformation)
                )

    def save_chart(self, path: str | None = None) -> None:
        """Write the agreement chart (asks for a file when None)."""
        if path is None:
            path, _ = QFileDialog.getSaveFileName(
                self, "Save agreement chart", "agreement.png", "Charts (*.png *.svg)"
            )
            if not path:
                return
        written = self.guarded(self.session.agreement_chart, path)
        if written is not None:
            self.info(f"chart saved: {short_path(written)}")

    # -- adjudication ---------------------------------------------------------------------
    def show_pair(self) -> None:
        layers = self.guarded(
            self.session.show_annotators,
            self.a.currentText(),
            self.b.currentText(),
            mode=VIEWS[self.view.currentText()],
        )
        self._unwatch()
        for layer in layers or []:
            if layer.name.startswith("difference"):
                # a click on the difference picks the annotators' object under it
                layer.mouse_drag_callbacks.append(self._clicked)
                self._watched.append(layer)
            elif hasattr(layer.events, "selected_label"):
                layer.events.selected_label.connect(self._picked)
                self._watched.append(layer)
        self.refresh()

    def _unwatch(self) -> None:
        for layer in self._watched:
            if self._clicked in layer.mouse_drag_callbacks:
                layer.mouse_drag_callbacks.remove(self._clicked)
            else:
                layer.events.selected_label.disconnect(self._picked)
        self._watched = []

    def _clicked(self, layer: Any, event: Any) -> None:
        """A click on the difference layer: the object under it becomes the object."""
        found = self.guarded(self.session.object_at, layer.world_to_data(event.position))
        if found:
            src, oid = found
            self.object_id.setValue(oid)
            self.source.setCurrentText(src.upper())

    def _picked(self, event: Any) -> None:
        """An object picked in A's or B's labels (napari's picker) becomes the object."""
        layer = event.source
        label = int(layer.selected_label)
        if label > 0:
            self.object_id.setValue(label)
            self.source.setCurrentText("B" if layer.name.endswith("(B)") else "A")

    def _decider(self, decision: str) -> Any:
        return lambda *_: self.decide(decision)

    def decide(self, decision: str) -> None:
        src = "a" if self.source.currentText() == "A" else "b"
        d = self.guarded(self.session.adjudicate_object, self.object_id.value(), decision, src)
        if d is not None:
            where = f"reviewed object {d.reviewed_id}" if d.reviewed_id else "region cleared"
            self.info(f"{decision}: {where}")

    def consensus(self) -> None:
        k = self.min_annotators.value() or None
        out = self.guarded(self.session.consensus, self.method.currentText(), min_annotators=k)
        if out is not None:
            self.info(f"consensus: {len(out.objects)} objects")

    def save_reviewed(self) -> None:
        path = self.guarded(self.session.save_adjudicated)
        if path is not None:
            self.info(f"reviewed annotation saved: {short_path(path)}")

    def _release(self) -> None:
        self.session.provenance_recorded.disconnect(self._on_recorded)
        self._unwatch()
        self._timer.stop()
        super()._release()
