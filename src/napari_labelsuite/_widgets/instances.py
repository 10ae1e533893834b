"""The "Instances" dock widget."""

from __future__ import annotations

import napari
from qtpy.QtWidgets import QLabel

from ._base import SessionWidget


class InstancesWidget(SessionWidget):
    """Instances."""

    def __init__(self, viewer: napari.viewer.Viewer, parent=None) -> None:
        super().__init__(viewer, parent)
        self.layout().addWidget(QLabel("Instances"))
