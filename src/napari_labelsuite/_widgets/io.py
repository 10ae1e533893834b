"""The "Import / export" dock widget.

==================  =================================================================
control             session method
==================  =================================================================
Export              ``export_annotations(path, fmt, report=, segmentation=/task=/...)``
                    (in a worker thread); the message says how many points and
                    polylines the format could not hold (COCO, YOLO, VOC, masks;
                    Label Studio drops polylines)
Import              ``read_annotations(path, fmt, report=)`` in a worker thread (the
                    format sniffed from the content when "auto"), then
                    ``show_annotations(annotations, taxonomy, index=, report=,
                    as_polygons=)``; together these are ``import_annotations(path, fmt,
                    index=, as_polygons=)``. The message names the format taken, the
                    counts and what was inferred. "Polygons" also shows the instances on
                    a polygons layer with the file's own vertices.
==================  =================================================================
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import napari
from qtpy.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QWidget,
)

from .._session.layers import MARK_ROLES, role_of
from ..core.formats import FORMATS, ReadReport, WriteReport
from ._base import SessionWidget, short_path

AUTO = "auto (from path)"
#: format -> (option name, choices) shown in the options combo box.
FORMAT_OPTIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "coco": ("segmentation", ("auto", "rle", "polygon")),
    "yolo": ("task", ("detect", "segment")),
    "masks": ("image_format", ("png", "tiff")),
}


class ImportExportWidget(SessionWidget):
    """Export the annotation layers to COCO / YOLO / VOC / masks, or import them."""

    def __init__(self, viewer: napari.viewer.Viewer, parent=None) -> None:
        super().__init__(viewer, parent)
        form = QFormLayout()
        self.format_combo = QComboBox()
        self.format_combo.addItems([AUTO, *FORMATS])
        self.format_combo.currentTextChanged.connect(self._on_format)
        form.addRow("Format", self.format_combo)

        self.path_edit = QLineEdit()
        self.path_edit.setPlaceholderText("file.json or a folder")
        browse = QPushButton("Browse...")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.path_edit)
        row.addWidget(browse)
        holder = QWidget()
        holder.setLayout(row)
        row.setContentsMargins(0, 0, 0, 0)
        form.addRow("Path", holder)

        self.option_combo = QComboBox()
        form.addRow("Option", self.option_combo)
        self.index_spin = QSpinBox()
        self.index_spin.setRange(0, 1_000_000)
        self.index_spin.setToolTip("Which image of a multi-image file to import")
        form.addRow("Image #", self.index_spin)
        self.polygons_check = QCheckBox("also as a polygons layer")
        self.polygons_check.setToolTip(
            "Import: show the instances on a polygons layer too, with the file's own "
            "vertices (COCO, labelme, CVAT, YOLO-seg, Label Studio polygons)"
        )
        form.addRow("Polygons", self.polygons_check)
        self.layout().addLayout(form)

        buttons = QHBoxLayout()
        self.export_button = QPushButton("Export")
        self.export_button.clicked.connect(self.export)
        self.import_button = QPushButton("Import")
        self.import_button.clicked.connect(self.import_)
        buttons.addWidget(self.export_button)
        buttons.addWidget(self.import_button)
        self.layout().addLayout(buttons)
        self.layout().addStretch(1)
        self._on_format(AUTO)

    # -- inputs -----------------------------------------------------------------------
    def _on_format(self, fmt: str) -> None:
        self.option_combo.clear()
        name, choices = FORMAT_OPTIONS.get(fmt, ("", ()))
        self.option_combo.addItems(list(choices))
        self.option_combo.setEnabled(bool(choices))
        self.option_combo.setToolTip(name)

    def _browse(self) -> None:  # pragma: no cover - modal dialog
        fmt = self.fmt()
        # formats held in one file; the others are folders
        single = {
            "coco": "*.json",
            "coco_panoptic": "*.json",
            "coco_results": "*.json",
            "labelstudio": "*.json",
            "cvat": "*.xml",
        }
        if fmt is None or fmt in single:
            pattern = single.get(fmt or "", "*.json *.xml *.yaml")
            path, _ = QFileDialog.getSaveFileName(
                self,
                "Annotation file",
                self.path_edit.text(),
                f"Annotation file ({pattern});;All files (*)",
                options=QFileDialog.Option.DontConfirmOverwrite,
            )
        else:
            path = QFileDialog.getExistingDirectory(self, "Dataset folder", self.path_edit.text())
        if path:
            self.path_edit.setText(path)

    def fmt(self) -> str | None:
        text = self.format_combo.currentText()
        return None if text == AUTO else text

    def options(self) -> dict[str, Any]:
        name, _ = FORMAT_OPTIONS.get(self.fmt() or "", ("", ()))
        return {name: self.option_combo.currentText()} if name else {}

    def _path(self) -> Path | None:
        text = self.path_edit.text().strip()
        if not text:
            self.warn("Choose a file or folder first.")
            return None
        return Path(text).expanduser()

    # -- actions ------------------------------------------------------------------------
    def export(self):
        """Write the managed layers to the chosen path and format (in a worker)."""
        path = self._path()
        if path is None:
            return None
        report = WriteReport()  # filled in the worker: files and the marks not written

        def done(files: list) -> None:
            message = f"Exported {len(files)} file(s) to {short_path(path)}"
            if report.not_written:
                self.warn(f"{message}; {report.summary().split('; ', 1)[1]}")
            else:
                self.info(message)

        return self.run_in_worker(
            self.session.export_annotations,
            path,
            self.fmt(),
            report=report,
            **self.options(),
            on_done=done,
            description="Exporting annotations",
            # errors become notifications through run_in_worker, not re-raised
            _ignore_errors=True,
        )

    def import_(self):
        """Read the chosen file in a worker, then add its layers (all or nothing)."""
        path = self._path()
        if path is None:
            return None
        index = self.index_spin.value()
        report = ReadReport()  # filled by the reader in the worker: format, counts, inferences

        def show(result: tuple) -> None:
            annotations, taxonomy = result
            existing = self._layers_replaced_by(annotations, index)
            replace = True
            if existing:
                answer = self.ask_replace(existing)
                if answer == "cancel":
                    self.info(f"Import of {path.name} cancelled; nothing changed")
                    return
                replace = answer == "replace"
            layers = self.guarded(
                self.session.show_annotations,
                annotations,
                taxonomy,
                index=index,
                replace=replace,
                source=str(path),
                report=report,
                as_polygons=self.polygons_check.isChecked(),
            )
            if layers is None:
                return
            what = ", ".join(f"'{x.name}'" for x in layers)
            found = f" (read as {report.summary()})"
            if not existing:
                self.info(f"Imported {what} from {path.name}{found}")
            elif replace:
                gone = ", ".join(f"'{x}'" for x in existing)
                self.info(f"Imported {what} from {path.name}; it replaced {gone}{found}")
            else:
                self.info(f"Imported {what} from {path.name} next to the existing layers{found}")

        return self.run_in_worker(
            self.session.read_annotations,
            path,
            self.fmt(),
            report=report,
            on_done=show,
            description="Reading annotations",
            _ignore_errors=True,
        )

    # -- replacing layers ----------------------------------------------------------------
    def _layers_replaced_by(self, annotations: list, index: int) -> list[str]:
        """Names of the non-empty managed layers an import of image ``index`` would replace."""
        if not 0 <= index < len(annotations):
            return []  # show_annotations reports the bad index
        ann = annotations[index]
        roles = {r for r in ("semantic", "instances") if getattr(ann, r) is not None}
        if ann.boxes or not roles:
            roles.add("boxes")
        roles.update(r for r in MARK_ROLES if ann.metadata.get(r))
        return [x.name for x in self.viewer.layers if role_of(x) in roles and _has_content(x)]

    def ask_replace(self, existing: list[str]) -> str:
        """Ask whether the import replaces ``existing`` layers: replace, keep or cancel."""
        box = QMessageBox(self)
        box.setWindowTitle("Import annotations")
        box.setText(
            "The import holds layers of the same kind as "
            + ", ".join(f"'{x}'" for x in existing)
            + ".\nReplace them, or keep them and add the imported layers next to them?"
        )
        replace = box.addButton("Replace", QMessageBox.ButtonRole.AcceptRole)
        keep = box.addButton("Keep both", QMessageBox.ButtonRole.ActionRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        clicked = box.clickedButton()
        return "replace" if clicked is replace else "keep" if clicked is keep else "cancel"


def _has_content(layer: Any) -> bool:
    """A boxes layer with boxes or a mask layer with a label (read on small masks only)."""
    data = layer.data
    if isinstance(data, list) or role_of(layer) == "points":  # Shapes, Points
        return bool(len(data))
    if getattr(layer, "multiscale", False) or not hasattr(data, "any"):
        return True  # a big or lazy mask: assume it holds labels rather than read it
    return bool(data.any())
