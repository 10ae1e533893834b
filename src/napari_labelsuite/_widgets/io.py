"""The "Import / export" dock widget."""

from __future__ import annotations

import napari
from qtpy.QtWidgets import QLabel

from ._base import SessionWidget


class ImportExportWidget(SessionWidget):
    """Import / export."""

    def __init__(self, viewer: napari.viewer.Viewer, parent=None) -> None:
        super().__init__(viewer, parent)
        self.layout().addWidget(QLabel("Import / export"))
