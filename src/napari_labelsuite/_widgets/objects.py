"""The "Object kinds" dock widget: rotated boxes from instances, keypoint visibility.

A view of the session's object-kind methods (see ``docs/objects.md``); it keeps no state
of its own.

=====================================  =================================================
Control                                Session call
=====================================  =================================================
Rotated boxes from instances           ``labelsuite.rotated_boxes_from_instances()``
Keypoints: occluded / visible          ``labelsuite.set_keypoint_visibility(i, 1 or 2)``
                                       for each selected point of the keypoints layer
=====================================  =================================================
"""

from __future__ import annotations

import napari
from qtpy.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from ._base import SessionWidget

__all__ = ["ObjectsWidget"]


class ObjectsWidget(SessionWidget):
    """Buttons for rotated boxes and keypoints; each calls one session method."""

    def __init__(self, viewer: napari.viewer.Viewer, parent: QWidget | None = None) -> None:
        super().__init__(viewer, parent)
        lay = self.layout()
        self.rotated_button = QPushButton("Rotated boxes from instances")
        self.rotated_button.setToolTip(
            "One minimum-area rotated box per instance (per plane), on a 'rotated boxes' layer"
        )
        self.rotated_button.clicked.connect(self._rotated_from_instances)
        lay.addWidget(self.rotated_button)
        lay.addWidget(QLabel("Selected keypoints:"))
        row = QHBoxLayout()
        self.occluded_button = QPushButton("Occluded (1)")
        self.visible_button = QPushButton("Visible (2)")
        self.occluded_button.clicked.connect(lambda: self._set_visibility(1))
        self.visible_button.clicked.connect(lambda: self._set_visibility(2))
        row.addWidget(self.occluded_button)
        row.addWidget(self.visible_button)
        lay.addLayout(row)
        self.status = QLabel("")
        lay.addWidget(self.status)
        lay.addStretch(1)

    def _rotated_from_instances(self) -> None:
        layer = self.guarded(self.session.rotated_boxes_from_instances)
        if layer is not None:
            self.status.setText(f"{len(layer.data)} rotated boxes on '{layer.name}'")

    def _set_visibility(self, v: int) -> None:
        layer = self.guarded(self.session._require_role, "keypoints")
        if layer is None:
            return
        chosen = sorted(layer.selected_data)
        if not chosen:
            self.warn("select keypoints on the keypoints layer first")
            return
        for i in chosen:
            self.guarded(self.session.set_keypoint_visibility, i, v, layer)
        self.status.setText(f"{len(chosen)} keypoints set to visibility {v}")
