"""The "Mask store" dock widget: open/create, save, autosave, pyramid, edit region.

Each control calls one session method (``open_store``, ``create_store``, ``save_store``,
``set_store_autosave``, ``build_store_pyramid``, ``edit_region``). Closing napari with
unsaved store edits asks first (an event filter on the main window). What was inferred
when opening a store written by another tool (``store_status()["notes"]``: a dropped
channel axis, the property class names came from) shows in a line under the status, with
every note in its tooltip, and as a notification when the store is opened.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
from typing import Any

import napari
from qtpy.QtCore import QEvent, QObject, QTimer
from qtpy.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
)

from .._napari_compat import main_window
from .._reader import remember_store_reader
from ._base import SessionWidget, short_path


class _CloseGuard(QObject):
    """Intercepts the main window's close event while the store has unsaved edits."""

    def __init__(self, widget: MaskStoreWidget) -> None:
        super().__init__(widget)
        self._widget = widget

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt API)
        if event.type() == QEvent.Type.Close and not self._widget.confirm_close():
            event.ignore()
            return True
        return False


class MaskStoreWidget(SessionWidget):
    """Open or create a mask store, watch its dirty state, save, autosave, edit regions."""

    def __init__(self, viewer: napari.viewer.Viewer, parent=None) -> None:
        super().__init__(viewer, parent)
        lay = self.layout()
        self.path_edit = QLineEdit()
        self.path_edit.setPlaceholderText("path/to/store.ome.zarr or s3://bucket/store.ome.zarr")
        lay.addWidget(self.path_edit)
        row = QHBoxLayout()
        self.browse_btn = QPushButton("Browse…")
        self.open_btn = QPushButton("Open")
        self.create_btn = QPushButton("Create for image")
        for b in (self.browse_btn, self.open_btn, self.create_btn):
            row.addWidget(b)
        lay.addLayout(row)
        self.read_only = QCheckBox("read-only")
        lay.addWidget(self.read_only)
        self.status = QLabel("no store open")
        self.status.setWordWrap(True)
        lay.addWidget(self.status)
        self.notes = QLabel("")
        self.notes.setWordWrap(True)
        self.notes.setVisible(False)
        lay.addWidget(self.notes)
        row = QHBoxLayout()
        self.save_btn = QPushButton("Save now")
        self.pyramid_btn = QPushButton("Build pyramid")
        self.region_btn = QPushButton("Edit region at view")
        for b in (self.save_btn, self.pyramid_btn, self.region_btn):
            row.addWidget(b)
        lay.addLayout(row)
        row = QHBoxLayout()
        self.autosave = QCheckBox("autosave every")
        self.interval = QSpinBox()
        self.interval.setRange(5, 3600)
        self.interval.setValue(60)
        self.interval.setSuffix(" s")
        row.addWidget(self.autosave)
        row.addWidget(self.interval)
        lay.addLayout(row)

        self.browse_btn.clicked.connect(self._browse)
        self.open_btn.clicked.connect(self.open_store)
        self.create_btn.clicked.connect(self.create_store)
        self.save_btn.clicked.connect(self.save)
        self.pyramid_btn.clicked.connect(self.build_pyramid)
        self.region_btn.clicked.connect(self.edit_region)
        self.autosave.toggled.connect(self.set_autosave)

        self._timer = QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self.refresh_status)
        self._timer.start()
        self._guard = _CloseGuard(self)
        # napari has no public "about to close" hook; the main window is reached through the
        # session's real viewer (not the proxy widgets receive, which forbids private access)
        window = main_window(self.session.viewer)
        if window is not None:
            window.installEventFilter(self._guard)
        self.refresh_status()

    # -- callbacks (one session method each) ----------------------------------------------
    def _browse(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Mask store (*.ome.zarr directory)")
        if path:
            self.path_edit.setText(path)

    def open_store(self) -> None:
        mode = "r" if self.read_only.isChecked() else "r+"
        st = self.guarded(self.session.open_store, self.path_edit.text().strip(), mode)
        if st is not None:
            remember_store_reader(st.path)
            labels = ", ".join(st.label_names()) or "no labels"
            self.info(f"opened {short_path(st.path)}: {labels}")
            notes = self.session.store_status()["notes"]
            if notes:
                self.info(
                    f"{short_path(st.path)} was written by another tool; inferred: "
                    + "; ".join(notes)
                )
        self.refresh_status()

    def create_store(self) -> None:
        st = self.guarded(self.session.create_store, self.path_edit.text().strip())
        if st is not None:
            remember_store_reader(st.path)
            self.info(f"created {short_path(st.path)}")
        self.refresh_status()

    def save(self) -> None:
        report = self.guarded(self.session.save_store)
        if report is not None:
            self.info(report.summary())
        self.refresh_status()

    def build_pyramid(self) -> None:
        # without a store the worker's SessionError becomes a notification
        def done(report: Any) -> None:
            self.info(report.summary())
            self.refresh_status()

        self.run_in_worker(
            self.session.build_store_pyramid, on_done=done, description="Building pyramid"
        )

    def edit_region(self) -> None:
        self.guarded(self.session.edit_region)
        self.refresh_status()

    def set_autosave(self, enabled: bool) -> None:
        self.guarded(self.session.set_store_autosave, enabled, float(self.interval.value()))
        self.refresh_status()

    # -- status and closing ------------------------------------------------------------------
    def refresh_status(self) -> None:
        s = self.session.store_status()
        self._show_notes(s["notes"])
        if s["path"] is None:
            self.status.setText("no store open")
            self.status.setToolTip("")
            return
        last = (
            _dt.datetime.fromtimestamp(s["last_save"]).strftime("%H:%M:%S")
            if s["last_save"]
            else "never"
        )
        dirty = f"unsaved edits ({s['dirty_chunks']} chunks)" if s["dirty"] else "saved"
        auto = ", autosave on" if s["autosave"] else ""
        self.status.setText(
            f"{short_path(s['path'])} [{s['mode']}]\n{dirty}; last save {last}{auto}"
        )
        self.status.setToolTip(str(s["path"]))

    def _show_notes(self, notes: list[str]) -> None:
        """One short line for what was inferred on opening; every note in the tooltip."""
        text = ""
        if notes:
            text = f"inferred on opening: {notes[0]}"
            if len(notes) > 1:
                text += f" (+{len(notes) - 1} more)"
        if text != self.notes.text():
            self.notes.setText(text)
            self.notes.setToolTip("\n".join(notes))
            self.notes.setVisible(bool(notes))

    def confirm_close(self) -> bool:
        """True when closing may go on (nothing unsaved, or the user said so)."""
        if not self.session.store_has_unsaved_edits():
            return True
        answer = self.ask_unsaved()
        if answer == "save":
            return self.guarded(self.session.save_store) is not None
        return answer == "discard"

    def ask_unsaved(self) -> str:
        """Ask what to do with unsaved edits: ``"save"``, ``"discard"`` or ``"cancel"``."""
        box = QMessageBox(self)
        box.setWindowTitle("Unsaved mask edits")
        box.setText("The mask store has unsaved edits.")
        box.setStandardButtons(
            QMessageBox.StandardButton.Save
            | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel
        )
        choice = box.exec()
        return {
            QMessageBox.StandardButton.Save: "save",
            QMessageBox.StandardButton.Discard: "discard",
        }.get(QMessageBox.StandardButton(choice), "cancel")

    def _release(self) -> None:
        super()._release()
        # when released because the widget is being destroyed, its Qt children are gone
        with contextlib.suppress(RuntimeError):
            self._timer.stop()
        window = main_window(self.session.viewer)
        if window is not None:
            with contextlib.suppress(RuntimeError):
                window.removeEventFilter(self._guard)
