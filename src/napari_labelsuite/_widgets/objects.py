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
Skeleton edges (checkbox)              ``labelsuite.show_skeleton(visible=True or False)``
Undo (and Ctrl-Z on a polygons,        ``labelsuite.undo_objects(layer)`` for the selected
rotated-boxes or keypoints layer)      object layer
=====================================  =================================================

napari keeps no undo history for Shapes and Points layers; while the dock is open,
Ctrl-Z on an object-kind layer undoes the last session edit of that layer (earlier
bindings of the key are restored when the dock closes).
"""

from __future__ import annotations

import weakref
from typing import Any

import napari
from qtpy.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QPushButton, QWidget

from .._session.layers import OBJECT_ROLES, role_of
from ..core.errors import LabelsuiteError
from ._base import SessionWidget

__all__ = ["UNDO_KEY", "ObjectsWidget"]

#: the key that undoes the last object edit of the selected object-kind layer
UNDO_KEY = "Control-z"


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
        self.skeleton_box = QCheckBox("Skeleton edges")
        self.skeleton_box.setToolTip(
            "Draw the class skeleton's edges between the labelled keypoints of each object"
        )
        self.skeleton_box.setChecked(True)
        self.skeleton_box.toggled.connect(self._show_skeleton)
        lay.addWidget(self.skeleton_box)
        self.undo_button = QPushButton("Undo")
        self.undo_button.setToolTip(
            "Undo the last edit of the selected polygons, rotated-boxes or keypoints layer "
            f"({UNDO_KEY.replace('Control', 'Ctrl')} on that layer)"
        )
        self.undo_button.clicked.connect(lambda: self.undo())
        lay.addWidget(self.undo_button)
        self.status = QLabel("")
        lay.addWidget(self.status)
        lay.addStretch(1)
        #: (id(layer)) -> (weak layer, the binding UNDO_KEY had before)
        self._undo_keys: dict[int, tuple[Any, Any]] = {}
        self._watched: weakref.WeakSet[Any] = weakref.WeakSet()
        self.viewer.layers.events.inserted.connect(self._bind_undo_keys)
        self._bind_undo_keys()
        # the checkbox shows the skeleton layer's visibility, also when the console sets it
        self._skeleton_watched: weakref.WeakSet[Any] = weakref.WeakSet()
        self.viewer.layers.events.inserted.connect(self._sync_skeleton_box)
        self.viewer.layers.events.removed.connect(self._sync_skeleton_box)
        self._sync_skeleton_box()

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

    def _show_skeleton(self, visible: bool) -> None:
        if not visible and not self.session.layers_of_role("keypoints"):
            return  # nothing to hide
        layer = self.guarded(self.session.show_skeleton, None, bool(visible))
        if layer is not None:
            n = len(layer.data)
            self.status.setText(f"{n} skeleton edges on '{layer.name}'" if visible
                                else f"'{layer.name}' hidden")  # fmt: skip

    def _sync_skeleton_box(self, event: Any = None) -> None:
        """Tick the checkbox when the keypoints layer's skeleton layer is shown."""
        try:
            layer = self.session.skeleton_layer()
        except LabelsuiteError:  # no keypoints layer
            layer = None
        if layer is not None and layer not in self._skeleton_watched:
            layer.events.visible.connect(self._sync_skeleton_box)
            self._skeleton_watched.add(layer)
        shown = layer is not None and bool(layer.visible)
        if layer is not None and shown != self.skeleton_box.isChecked():
            self.skeleton_box.blockSignals(True)
            self.skeleton_box.setChecked(shown)
            self.skeleton_box.blockSignals(False)

    # -- undo ------------------------------------------------------------------------------
    def undo(self, layer: Any = None) -> bool:
        """Undo the last object edit of ``layer`` (default: the selected layer)."""
        layer = layer if layer is not None else self.viewer.layers.selection.active
        if layer is None or role_of(layer) not in OBJECT_ROLES:
            self.warn("select a polygons, rotated boxes or keypoints layer to undo on")
            return False
        done = bool(self.guarded(self.session.undo_objects, layer))
        self.status.setText(
            f"undid the last edit of '{layer.name}'" if done
            else f"nothing to undo on '{layer.name}'"
        )  # fmt: skip
        return done

    def _bind_undo_keys(self, event: Any = None) -> None:
        """Bind UNDO_KEY on every object-kind layer (and on layers adopted later)."""
        for layer in list(self.viewer.layers):
            if layer not in self._watched:
                # a layer adopted with manage_layer gets its role through its metadata
                layer.events.metadata.connect(self._bind_undo_keys)
                self._watched.add(layer)
            if role_of(layer) not in OBJECT_ROLES:
                continue
            slot = self._undo_keys.get(id(layer))
            if slot is not None and slot[0]() is layer:
                continue
            ref = weakref.ref(self)

            def on_key(lay: Any, ref: Any = ref) -> None:
                widget = ref()
                if widget is not None:
                    widget.undo(lay)

            previous = layer.bind_key(UNDO_KEY, on_key, overwrite=True)
            self._undo_keys[id(layer)] = (weakref.ref(layer), previous)

    def _release(self) -> None:
        """Give the object layers their earlier Ctrl-Z back and stop listening."""
        super()._release()
        self.viewer.layers.events.inserted.disconnect(self._bind_undo_keys)
        self.viewer.layers.events.inserted.disconnect(self._sync_skeleton_box)
        self.viewer.layers.events.removed.disconnect(self._sync_skeleton_box)
        for layer in list(self._skeleton_watched):
            layer.events.visible.disconnect(self._sync_skeleton_box)
        for layer in list(self._watched):
            layer.events.metadata.disconnect(self._bind_undo_keys)
        for ref, previous in self._undo_keys.values():
            layer = ref()
            if layer is not None:
                layer.bind_key(UNDO_KEY, previous, overwrite=True)
        self._undo_keys = {}
