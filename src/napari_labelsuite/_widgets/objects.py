"""The "Object kinds" dock widget: rotated boxes, polygons, keypoint visibility.

A view of the session's object-kind methods (see ``docs/objects.md``); it keeps no state
of its own.

=====================================  =================================================
Control                                Session call
=====================================  =================================================
Rotated boxes from instances           ``labelsuite.rotated_boxes_from_instances()``
Polygons from instances                ``labelsuite.polygons_from_instances()``
Polygons to instance mask              ``labelsuite.polygons_to_instances()``
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
        prow = QHBoxLayout()
        self.polygons_button = QPushButton("Polygons from instances")
        self.polygons_button.setToolTip("Outline every instance on a 'polygons' layer")
        self.polygons_button.clicked.connect(self._polygons_from_instances)
        self.paint_polygons_button = QPushButton("Polygons to mask")
        self.paint_polygons_button.setToolTip(
            "Paint the polygons (drawn or edited) into the instance layer, one undo step"
        )
        self.paint_polygons_button.clicked.connect(self._polygons_to_instances)
        prow.addWidget(self.polygons_button)
        prow.addWidget(self.paint_polygons_button)
        lay.addLayout(prow)
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

    def _polygons_from_instances(self) -> None:
        layer = self.guarded(self.session.polygons_from_instances)
        if layer is not None:
            self.status.setText(f"{len(layer.data)} polygons on '{layer.name}'")

    def _polygons_to_instances(self) -> None:
        edit = self.guarded(self.session.polygons_to_instances)
        if edit is not None:
            self.status.setText(
                f"polygons painted: {len(edit.patches)} objects, {len(edit.parents)} new"
            )

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
