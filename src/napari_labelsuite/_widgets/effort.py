"""The "Labeling effort" dock widget: the effort table of the dataset, and its chart.

A view of ``LabelSession.effort()`` (see ``docs/effective-labeling.md``): the table is read
from the session each time it is shown and after each logged action (batched), so what the
console changes, the widget shows.

=====================================  =========================================
Control                                Session call
=====================================  =========================================
group by                               ``labelsuite.effort(by=...)``
pauses longer than (s)                 ``labelsuite.effort_idle_seconds = ...``
Refresh                                ``labelsuite.effort(total=True)``
Save chart...                          ``labelsuite.effort_plot(path)``
=====================================  =========================================
"""

from __future__ import annotations

import math
from typing import Any

import napari
from qtpy.QtCore import QTimer
from qtpy.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from ._base import SessionWidget, short_path

#: group-by choice -> the ``by`` of ``LabelSession.effort``
GROUPS: dict[str, tuple[str, ...]] = {
    "route and annotator": ("route", "annotator"),
    "route": ("route",),
    "annotator": ("annotator",),
    "image": ("image",),
    "class": ("class",),
    "route and action": ("route", "action"),
}
_HEADERS = {
    "objects": "objects",
    "actions": "actions",
    "active_seconds": "active s",
    "actions_per_object": "actions/obj",
    "seconds_per_object": "s/obj",
}


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


class EffortWidget(SessionWidget):
    """Actions and active seconds per finished object, by route and annotator."""

    def __init__(self, viewer: napari.viewer.Viewer, parent: QWidget | None = None) -> None:
        super().__init__(viewer, parent)
        form = QFormLayout()
        self.group = QComboBox()
        self.group.addItems(list(GROUPS))
        self.group.currentIndexChanged.connect(lambda *_: self.refresh())
        self.idle = QSpinBox()
        self.idle.setRange(5, 3600)
        self.idle.setSuffix(" s")
        self.idle.setValue(int(self.session.effort_idle_seconds))
        self.idle.setToolTip("gaps between two actions longer than this are pauses, not work")
        self.idle.valueChanged.connect(self.set_idle)
        form.addRow("group by", self.group)
        form.addRow("pauses longer than", self.idle)
        self.layout().addLayout(form)
        self.table = QTableWidget(0, 0)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.layout().addWidget(self.table)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.layout().addWidget(self.summary)
        row = QHBoxLayout()
        refresh = QPushButton("Refresh")
        refresh.clicked.connect(lambda *_: self.refresh())
        chart = QPushButton("Save chart...")
        chart.setToolTip("effort per object over time (.svg, or .png with matplotlib)")
        chart.clicked.connect(lambda *_: self.save_chart())
        row.addWidget(refresh)
        row.addWidget(chart)
        self.layout().addLayout(row)
        self._problems_shown = 0
        # many actions in a row (a drag of strokes) refresh the table once
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(400)
        self._timer.timeout.connect(self.refresh)
        self.session.effort_logged.connect(self._on_logged)
        self.refresh()

    def _on_logged(self, record: Any = None) -> None:
        self._timer.start()

    def refresh(self) -> None:
        """Read the table from the session and show it."""
        by = GROUPS[self.group.currentText()]
        frame = self.guarded(self.session.effort, by=by, total=True)
        problems = self.session.effort_problems()
        for err in problems[self._problems_shown :]:
            self.warn(f"effort log: {err}")
        self._problems_shown = len(problems)
        if frame is None:
            return
        cols = [c for c in frame.columns if c != "pixels"]
        self.table.setColumnCount(len(cols))
        self.table.setHorizontalHeaderLabels([_HEADERS.get(c, c) for c in cols])
        self.table.setRowCount(len(frame))
        for i, rec in enumerate(frame[cols].itertuples(index=False)):
            for j, value in enumerate(rec):
                self.table.setItem(i, j, QTableWidgetItem(_cell(value)))
        self.table.resizeColumnsToContents()
        total = frame[frame[cols[0]] == "all"]
        if len(total):
            t = total.iloc[0]
            self.summary.setText(
                f"{int(t['actions'])} actions, {int(t['objects'])} objects finished, "
                f"{float(t['active_seconds']) / 60:.1f} active minutes"
            )
        else:
            self.summary.setText("no actions logged yet")

    def set_idle(self, seconds: int) -> None:
        """Pauses longer than ``seconds`` are not work (the session's setting)."""
        self.session.effort_idle_seconds = float(seconds)
        self.refresh()

    def save_chart(self, path: str | None = None) -> None:
        """Write the chart of effort per object over time (asks for a file when None)."""
        if path is None:
            path, _ = QFileDialog.getSaveFileName(
                self, "Save effort chart", "effort.svg", "Charts (*.svg *.png)"
            )
            if not path:
                return
        written = self.guarded(self.session.effort_plot, path)
        if written is not None:
            self.info(f"effort chart written to {short_path(written)}")

    def _release(self) -> None:
        super()._release()
        self._timer.stop()
        self.session.effort_logged.disconnect(self._on_logged)
