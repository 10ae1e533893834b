"""The "Quality control" dock widget: findings list, review keys, agreement, report.

Every control is one session method: Run checks -> ``run_checks``, Check dataset ->
``check_dataset``, clicking a finding ->
``go_to_finding``, the status buttons and keys -> ``set_finding_status``, Compare ->
``compare_layers`` (maps shown with ``show_agreement_maps``; Polygon IoU -> its ``method``),
Export -> ``export_qc_report``; the object review list -> ``review_queue`` and
``set_object_review_status``.
"""

from __future__ import annotations

from typing import Any

import napari
from qtpy.QtCore import Qt, Signal
from qtpy.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
)

from .._session.layers import role_of
from .._session.qc import OBJECT_REVIEW_ROLES
from ..core.errors import LabelsuiteError
from ..core.qc import AgreementResult
from ._base import SessionWidget, short_path

#: Review keys (bound on the viewer while the widget is open).
KEYS = {
    "Alt-A": ("status", "approved"),
    "Alt-F": ("status", "needs-fix"),
    "Alt-T": ("status", "todo"),
    "Alt-N": ("step", 1),
    "Alt-P": ("step", -1),
}


class QualityControlWidget(SessionWidget):
    """Consistency findings as a review queue, annotator agreement and the QC report."""

    findings_changed = Signal()
    #: (message) when a comparison in the worker failed
    compare_failed = Signal(str)

    def __init__(self, viewer: napari.viewer.Viewer, parent=None) -> None:
        super().__init__(viewer, parent)
        lay = self.layout()

        checks = QGroupBox("Consistency checks")
        form = QFormLayout(checks)
        self.min_area = QSpinBox()
        self.min_area.setRange(0, 1_000_000)
        self.min_area.setValue(16)
        form.addRow("Tiny below (px)", self.min_area)
        self.run_button = QPushButton("Run checks")
        self.run_button.clicked.connect(self.run_checks)
        form.addRow(self.run_button)
        self.dataset_button = QPushButton("Check dataset")
        self.dataset_button.setToolTip("unlabeled images and class imbalance of the open dataset")
        self.dataset_button.clicked.connect(self.check_dataset)
        form.addRow(self.dataset_button)
        #: what the last run found and what it checked
        self.result_label = QLabel("")
        self.result_label.setWordWrap(True)
        self.result_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow(self.result_label)
        lay.addWidget(checks)

        self.findings_list = QListWidget()
        self.findings_list.setMinimumHeight(120)
        self.findings_list.currentRowChanged.connect(self.go_to)
        lay.addWidget(self.findings_list)
        row = QHBoxLayout()
        for label, status in (("Approve", "approved"), ("Needs fix", "needs-fix"),
                              ("To do", "todo")):  # fmt: skip
            b = QPushButton(label)
            b.setToolTip(next(k for k, v in KEYS.items() if v == ("status", status)))
            b.clicked.connect(lambda _=False, s=status: self.set_status(s))
            row.addWidget(b)
        lay.addLayout(row)
        self.status_label = QLabel("Alt-A approve · Alt-F needs fix · Alt-T to do · Alt-N/P next")
        self.status_label.setWordWrap(True)
        lay.addWidget(self.status_label)

        agree = QGroupBox("Agreement")
        aform = QFormLayout(agree)
        self.layer_a, self.layer_b = QComboBox(), QComboBox()
        aform.addRow("Reference", self.layer_a)
        self.layer_b.setToolTip("the other annotation")
        aform.addRow("Compare with", self.layer_b)
        self.polygon_method = QComboBox()
        self.polygon_method.addItems(["raster", "shapely"])
        self.polygon_method.setToolTip(
            "polygons: IoU of the pycocotools raster (COCO's rule) or exact areas (shapely)"
        )
        aform.addRow("Polygon IoU", self.polygon_method)
        self.compare_button = QPushButton("Compare")
        self.compare_button.clicked.connect(self.compare)
        aform.addRow(self.compare_button)
        self.agreement_label = QLabel("")
        self.agreement_label.setWordWrap(True)
        self.agreement_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        aform.addRow(self.agreement_label)
        lay.addWidget(agree)

        objects = QGroupBox("Review: rotated boxes, polygons, keypoints")
        olay = QVBoxLayout(objects)
        self.object_layer = QComboBox()
        self.object_layer.setToolTip("a rotated-box, polygon or keypoint layer")
        self.object_layer.currentTextChanged.connect(self._refresh_object_queue)
        olay.addWidget(self.object_layer)
        self.object_queue = QListWidget()
        self.object_queue.setMinimumHeight(80)
        olay.addWidget(self.object_queue)
        orow = QHBoxLayout()
        for label, status in (("Approve", "approved"), ("Needs fix", "needs-fix"),
                              ("To do", "todo")):  # fmt: skip
            b = QPushButton(label)
            b.clicked.connect(lambda _=False, s=status: self.set_object_status(s))
            orow.addWidget(b)
        olay.addLayout(orow)
        lay.addWidget(objects)

        export = QPushButton("Export report…")
        export.clicked.connect(self._export_dialog)
        lay.addWidget(export)
        lay.addStretch(1)

        self.findings_changed.connect(self.refresh)
        self.compare_failed.connect(self.agreement_label.setText)
        self.findings_changed.connect(self._refresh_object_queue)
        # a signal, so a change made in a worker thread refreshes the list in the GUI thread;
        # one stored callable so that it can be disconnected again
        self._on_findings = self.findings_changed.emit
        self.session.findings_changed.connect(self._on_findings)
        self.viewer.layers.events.inserted.connect(self._refresh_layers)
        self.viewer.layers.events.removed.connect(self._refresh_layers)
        self._refresh_layers()
        self._bound: dict[str, Any] = {}
        for key, (what, arg) in KEYS.items():
            self._bound[key] = self.viewer.bind_key(
                key, _KeyAction(self, what, arg), overwrite=True
            )
        self.refresh()

    # -- findings --------------------------------------------------------------------------
    def run_checks(self):
        """Run the checks in a worker; the list refreshes when they are done."""
        what = checked_layers(self.session)
        if not what:
            self.result_label.setText(
                "nothing to check: add or open a semantic, instance or boxes layer"
            )
            return None
        min_area = self.min_area.value()
        self.result_label.setText(f"checking {what}…")
        return self.run_in_worker(
            self.session.run_checks,
            min_area=min_area,
            on_done=lambda found: self._show_result(found, what, min_area),
            description="Checking",
        )

    def check_dataset(self):
        """Run the dataset-level checks in a worker."""
        self.result_label.setText("checking the dataset…")
        return self.run_in_worker(
            self.session.check_dataset,
            on_done=lambda found: self.result_label.setText(
                f"{_count(found)} in the dataset (checked: unlabeled images, class imbalance)"
            ),
            description="Checking dataset",
        )

    def _show_result(self, found: list, what: str, min_area: int) -> None:
        from ..core.qc import CHECKS

        names = ", ".join(k.replace("_", " ") for k in CHECKS).replace(
            "tiny", f"tiny (< {min_area} px)"
        )
        self.result_label.setText(f"{_count(found)} in {what}. Checked: {names}.")

    def refresh(self) -> None:
        """Show the session's findings (keeps the current row)."""
        row = self.findings_list.currentRow()
        self.findings_list.blockSignals(True)
        self.findings_list.clear()
        for f in self.session.findings:
            status = f"[{f.status}] " if f.status else ""
            item = QListWidgetItem(f"{status}{f.severity}: {f.message}")
            item.setToolTip(f.message)  # a long finding is cut by the dock's width
            self.findings_list.addItem(item)
        if 0 <= row < self.findings_list.count():
            self.findings_list.setCurrentRow(row)
        self.findings_list.blockSignals(False)

    def go_to(self, row: int) -> None:
        if row >= 0:
            self.guarded(self.session.go_to_finding, row)

    def set_status(self, status: str) -> None:
        """Set the status of the current finding's object and move to the next finding."""
        row = self.findings_list.currentRow()
        if row < 0:
            self.warn("select a finding first")
            return
        if self.guarded(self.session.set_finding_status, row, status) is not None:
            self.step(1)

    def step(self, delta: int) -> None:
        n = self.findings_list.count()
        if n:
            self.findings_list.setCurrentRow((self.findings_list.currentRow() + delta) % n)

    # -- agreement ---------------------------------------------------------------------------
    def _refresh_layers(self, event: Any = None) -> None:
        from napari.layers import Labels, Points, Shapes

        # masks, boxes, rotated boxes and polygons (Shapes), keypoints (Points): compare_layers
        # picks the matching (IoU, rotated IoU, polygon IoU, OKS) from the first layer's role
        names = [
            x.name
            for x in self.viewer.layers
            if isinstance(x, (Labels, Shapes, Points)) and x.name != "disagreement"
        ]
        for combo in (self.layer_a, self.layer_b):
            current = combo.currentText()
            combo.blockSignals(True)
            combo.clear()
            combo.addItems(names)
            if current in names:
                combo.setCurrentText(current)
            combo.blockSignals(False)
        if len(names) > 1 and self.layer_a.currentText() == self.layer_b.currentText():
            self.layer_b.setCurrentIndex(1)
        review = [x.name for x in self.viewer.layers if role_of(x) in OBJECT_REVIEW_ROLES]
        current = self.object_layer.currentText()
        self.object_layer.blockSignals(True)
        self.object_layer.clear()
        self.object_layer.addItems(review)
        if current in review:
            self.object_layer.setCurrentText(current)
        self.object_layer.blockSignals(False)
        self._refresh_object_queue()

    def _refresh_object_queue(self, *_: Any) -> None:
        """List the objects of the chosen layer with their review status (session state)."""
        name = self.object_layer.currentText()
        row = self.object_queue.currentRow()
        self.object_queue.clear()
        if not name or name not in self.viewer.layers:
            return
        queue = self.guarded(self.session.review_queue, name) or []
        for o in queue:
            cls = (
                self.session.taxonomy[o["class_id"]].name
                if o["class_id"] in self.session.taxonomy
                else o["class_id"]
            )
            where = f" plane {o['plane']}" if o["plane"] else ""
            self.object_queue.addItem(f"{o['index']}: {cls}{where} [{o['status']}]")
        if 0 <= row < self.object_queue.count():
            self.object_queue.setCurrentRow(row)

    def set_object_status(self, status: str) -> None:
        """Set the review status of the selected object of the chosen layer."""
        name, item = self.object_layer.currentText(), self.object_queue.currentItem()
        if not name or item is None:
            self.warn("choose an object in the review list first")
            return
        index = int(item.text().split(":", 1)[0])
        self.guarded(self.session.set_object_review_status, status, index, name)

    def compare(self):
        """Compare the two chosen layers in a worker, then show the maps and the numbers."""
        a, b = self.layer_a.currentText(), self.layer_b.currentText()
        if not a or not b or a == b:
            self.warn("choose two different layers")
            return None
        self.agreement_label.setText(f"comparing '{a}' with '{b}'…")
        method = self.polygon_method.currentText()

        def work() -> dict[str, Any]:
            try:
                return self.session.compare_layers(a, b, add_layers=False, method=method)
            except LabelsuiteError as exc:
                # the error itself becomes a notification; the label must not keep saying
                # "comparing" (a queued signal: this runs in the worker thread)
                self.compare_failed.emit(f"not compared: {exc}")
                raise

        return self.run_in_worker(work, on_done=self._show_agreement, description="Comparing")

    def _show_agreement(self, result: dict[str, Any]) -> None:
        if result.get("maps"):
            self.guarded(self.session.show_agreement_maps, result)
        text = summarize_agreement(result) or "no comparable pair in these layers"
        self.agreement_label.setText(text)
        self.agreement_label.setToolTip(text)

    # -- report ------------------------------------------------------------------------------
    def export_report(self, path: str) -> list | None:
        written = self.guarded(self.session.export_qc_report, path)
        if written:
            self.info(f"QC report written: {', '.join(short_path(p) for p in written)}")
        return written

    def _export_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export QC report", "qc_report.html", "HTML (*.html);;Markdown (*.md)"
        )
        if path:
            self.export_report(path)

    # -- lifetime ------------------------------------------------------------------------------
    def _release(self) -> None:
        """Restore the keys bound by this widget and stop listening to the session."""
        super()._release()
        for key, previous in self._bound.items():
            self.viewer.bind_key(key, previous, overwrite=True)
        self._bound = {}
        self.session.findings_changed.disconnect(self._on_findings)
        self.viewer.layers.events.inserted.disconnect(self._refresh_layers)
        self.viewer.layers.events.removed.disconnect(self._refresh_layers)


def checked_layers(session: Any) -> str:
    """The managed layers the consistency checks look at, in words."""
    layers = (("semantic", session.semantic), ("instances", session.instances),
              ("boxes", session.boxes))  # fmt: skip
    return ", ".join(f"{role} '{layer.name}'" for role, layer in layers if layer is not None)


def _count(found: list) -> str:
    return "1 finding" if len(found) == 1 else f"{len(found)} findings"


def summarize_agreement(result: dict[str, Any]) -> str:
    """One line per compared pair with the headline numbers (:class:`AgreementResult`)."""
    return AgreementResult.from_dict(result).summary()


class _KeyAction:
    """A review key (a small object so napari can call it with the viewer)."""

    def __init__(self, widget: QualityControlWidget, what: str, arg: Any) -> None:
        self.widget, self.what, self.arg = widget, what, arg

    def __call__(self, viewer: Any = None) -> None:
        if self.what == "status":
            self.widget.set_status(self.arg)
        else:
            self.widget.step(self.arg)
