"""The "Interpolate / track" dock widget: masks and boxes between keyframes, propagation,
tracking and Cell Tracking Challenge files.

Every button calls one ``LabelSession`` method (see ``docs/interpolate.md``). Work on the
whole volume (all objects, propagation to the end, tracking) runs in a worker with a progress
bar: the session's ``iter_*`` method reads the layer in the worker and the matching
``apply_*`` method writes the result, as one undo step, in the GUI thread.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import napari
from napari.layers import Image
from qtpy.QtWidgets import (
    QComboBox,
    QFileDialog,
    QLabel,
    QPushButton,
    QSpinBox,
    QWidget,
)

from ..core.interpolate import is_keyframe
from ._base import SessionWidget

SCOPES = ("selected object", "all objects")
ENGINES = ("auto", "snap")


class InterpolateWidget(SessionWidget):
    """Interpolate, propagate and track on the active instance layer (Ctrl-Z undoes each)."""

    def __init__(self, viewer: napari.viewer.Viewer, parent: QWidget | None = None) -> None:
        super().__init__(viewer, parent)
        self.worker: Any = None
        self.axis = QSpinBox()
        self.axis.setRange(0, 8)
        self.axis.setToolTip("the axis to work along: 0 is z of a stack or t of a series")
        self.scope = QComboBox()
        self.scope.addItems(SCOPES)
        self.image = QComboBox()
        self.image.setToolTip("refine toward this image's edges / propagate along it")
        self.engine = QComboBox()
        self.engine.addItems(ENGINES)
        self.engine.setToolTip("auto: the assist engine when installed, else snapping")
        self.track_id = QSpinBox()
        self.track_id.setRange(0, 2**31 - 1)
        self.add_form(
            [
                ("axis", self.axis),
                ("objects", self.scope),
                ("image", self.image),
                ("propagation engine", self.engine),
                ("box track id", self.track_id),
            ]
        )
        self.buttons: dict[str, QPushButton] = self.add_buttons(
            [
                ("Interpolate masks", self.interpolate),
                ("Interpolate boxes", self.interpolate_boxes),
                ("Propagate +1", lambda: self.propagate("forward", 1)),
                ("Propagate -1", lambda: self.propagate("backward", 1)),
                ("Propagate to end +", lambda: self.propagate("forward", None)),
                ("Propagate to end -", lambda: self.propagate("backward", None)),
                ("Set box track", self.set_box_track),
                ("Undo boxes", self.undo_boxes),
                ("Track objects", self.track),
                ("Cancel", self.cancel),
                ("Import CTC...", lambda: self.import_ctc()),
                ("Export CTC...", lambda: self.export_ctc()),
            ]
        )
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.layout().addWidget(self.status)
        self.layout().addStretch(1)
        self.viewer.layers.events.inserted.connect(self._refresh_images)
        self.viewer.layers.events.removed.connect(self._refresh_images)
        self._refresh_images()

    def _release(self) -> None:
        self.viewer.layers.events.inserted.disconnect(self._refresh_images)
        self.viewer.layers.events.removed.disconnect(self._refresh_images)
        super()._release()

    # -- inputs ----------------------------------------------------------------------------
    def _refresh_images(self, event: Any = None) -> None:
        current = self.image.currentText()
        self.image.clear()
        self.image.addItems([""] + [ly.name for ly in self.viewer.layers if isinstance(ly, Image)])
        self.image.setCurrentText(current)

    def _image_layer(self) -> Any:
        name = self.image.currentText()
        return next((ly for ly in self.viewer.layers if name and ly.name == name), None)

    def _say(self, text: str) -> None:
        self.status.setText(text)

    # -- masks -----------------------------------------------------------------------------
    def interpolate(self) -> Any:
        """Interpolate the selected object now, or all objects in a worker."""

        def start() -> Any:
            layer = self.session.instance_target()
            axis, image = self.axis.value(), self._image_layer()
            if self.scope.currentText() == "selected object":
                iid = int(layer.selected_label)
                edit = self.session.interpolate_slices(iid, axis=axis, image=image, layer=layer)
                self._say(f"object {iid}: {_pixels(edit)} pixels filled")
                return edit

            def done(edit: Any) -> None:
                self.session.apply_interpolation(edit, None, axis=axis, image=image, layer=layer)
                self._say(f"all objects: {_pixels(edit)} pixels filled")

            self.worker = self.run_in_worker(
                self.session.iter_interpolate_slices,
                None,
                axis=axis,
                image=image,
                layer=layer,
                on_done=done,
                description="interpolating objects",
                total=len(self.session.objects(layer)) if _managed(layer) else 0,
            )
            return self.worker

        return self.guarded(start)

    def propagate(self, direction: str, limit: int | None) -> Any:
        """Propagate the selected object one plane, or to the end in a worker."""

        def start() -> Any:
            layer = self.session.instance_target()
            axis = self.axis.value()
            iid = int(layer.selected_label)
            plane = self.session.current_plane(axis, layer)
            kw = {
                "from_plane": plane,
                "axis": axis,
                "direction": direction,
                "limit": limit,
                "layer": layer,
            }
            image, engine = self._image_layer(), self.engine.currentText()
            if limit is not None:
                edit = self.session.propagate(iid, image=image, engine=engine, **kw)
                self._say(f"object {iid}: {len(edit.patches)} plane(s) added")
                return edit

            def done(edit: Any) -> None:
                self.session.apply_propagation(edit, iid, **kw)
                self._say(f"object {iid}: {len(edit.patches)} plane(s) added")

            n = layer.data.shape[axis]
            self.worker = self.run_in_worker(
                self.session.iter_propagate,
                iid,
                image=image,
                engine=engine,
                on_done=done,
                description="propagating",
                total=(n - 1 - plane) if direction == "forward" else plane,
                **kw,
            )
            return self.worker

        return self.guarded(start)

    # -- boxes -----------------------------------------------------------------------------
    def interpolate_boxes(self) -> Any:
        def run() -> Any:
            boxes = self.session.interpolate_boxes(axis=self.axis.value())
            made = sum(1 for b in boxes if not is_keyframe(b))
            self._say(f"{made} boxes interpolated")
            return boxes

        return self.guarded(run)

    def undo_boxes(self) -> Any:
        return self.guarded(self.session.undo_boxes)

    def set_box_track(self) -> Any:
        return self.guarded(self.session.set_box_track, self.track_id.value())

    # -- tracking --------------------------------------------------------------------------
    def track(self) -> Any:
        """Link the objects across frames in a worker, then relabel (one undo step)."""

        def start() -> Any:
            layer = self.session.instance_target()
            axis = self.axis.value()

            def done(result: Any) -> None:
                self.session.apply_tracking(result, layer=layer)
                self._say(f"{len(result.tracks)} tracks, {len(result.divisions())} divisions")

            self.worker = self.run_in_worker(
                self.session.iter_track_instances,
                axis=axis,
                layer=layer,
                on_done=done,
                description="tracking",
                total=int(layer.data.shape[axis]) if 0 <= axis < layer.data.ndim else 0,
            )
            return self.worker

        return self.guarded(start)

    def cancel(self) -> None:
        if self.worker is not None:
            self.worker.quit()

    # -- Cell Tracking Challenge -----------------------------------------------------------
    def import_ctc(self, path: str | Path | None = None) -> Any:
        if path is None:
            path = QFileDialog.getExistingDirectory(self, "Cell Tracking Challenge folder")
            if not path:
                return None
        return self.guarded(self.session.import_ctc, path)

    def export_ctc(self, path: str | Path | None = None) -> Any:
        if path is None:
            path = QFileDialog.getExistingDirectory(self, "Export tracks to folder")
            if not path:
                return None
        files = self.guarded(self.session.export_ctc, path)
        if files:
            self._say(f"{len(files)} files written to {path}")
        return files


def _pixels(edit: Any) -> int:
    return int(
        sum(int(p.mask.sum()) if p.mask is not None else p.values.size for p in edit.patches)
    )


def _managed(layer: Any) -> bool:
    from .._session.layers import role_of

    return role_of(layer) == "instances"
