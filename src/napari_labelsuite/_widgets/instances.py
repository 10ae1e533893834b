"""The "Instances" dock widget: split, merge, relabel and clean instance masks.

Every button calls one ``LabelSession`` method (see ``docs/instances.md``); the scope chooser
turns into the ``ids`` / ``region`` arguments of that method.
"""

from __future__ import annotations

from typing import Any

import napari
from napari.layers import Labels, Points, Shapes
from qtpy.QtWidgets import (
    QComboBox,
    QGridLayout,
    QGroupBox,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
)
from superqt import QElidingLabel

from .._session.layers import role_of
from ..core.errors import InstanceError, LabelsuiteError
from ..core.instances.chunked import block_shape, count_steps
from ._base import SessionWidget

SCOPES = ("selected objects", "current plane", "region", "whole volume")
PLUGIN = "napari-labelsuite"
INTERPOLATION_DOCK = "Interpolate / track"


class InstancesWidget(SessionWidget):
    """Instance tools on the active instance layer, each one undoable with Ctrl-Z."""

    def __init__(self, viewer: napari.viewer.Viewer, parent=None) -> None:
        super().__init__(viewer, parent)
        self.worker = None
        self.scope = QComboBox()
        self.scope.addItems(SCOPES)
        self.ids = QLineEdit()
        self.ids.setPlaceholderText("e.g. 3, 7 (default: the selected label)")
        self.min_distance = _spin(0, 500, 0)
        # 0: chosen from the size of the objects (see core.split_touching)
        self.min_distance.setSpecialValueText("auto (object size)")
        self.min_size = _spin(0, 10**9, 20)
        self.seeds = QComboBox()
        self.shapes = QComboBox()
        self.add_form(
            [
                ("scope", self.scope),
                ("ids", self.ids),
                ("min distance", self.min_distance),
                ("max size", self.min_size),
                ("seeds (Points)", self.seeds),
                ("line / region (Shapes)", self.shapes),
            ]
        )
        self.buttons: dict[str, QPushButton] = self.add_buttons(
            [
                ("Label components", self.label_components),
                ("Split touching", self.split_touching),
                ("Split along line", self.split_by_line),
                ("Split disconnected", self.split_disconnected),
                ("Merge", self.merge),
                ("Delete", self.delete),
                ("Fill holes", self.fill_holes),
                ("Remove small", self.remove_small),
                ("Remove border objects", self.remove_border_objects),
                ("Relabel 1..n", self.relabel_sequential),
                ("Label large mask (chunked)", self.label_large),
                ("Cancel", self.cancel),
            ]
        )
        #: what the last operation did ("split 37 objects into 81"); the full text is the tooltip
        self.result = QElidingLabel("")
        self.layout().addWidget(self.result)

        layers_box = QGroupBox("Layers")
        layers_grid = QGridLayout(layers_box)
        layer_actions = [
            ("New semantic layer", self.new_semantic_layer),
            ("New instance layer", self.new_instance_layer),
            ("New boxes layer", self.new_boxes_layer),
            ("Boxes from instances", self.boxes_from_instances),
            ("Semantic from instances", self.semantic_from_instances),
            ("Instances from semantic", self.instances_from_semantic),
        ]
        self.buttons.update(self.add_buttons(layer_actions, into=layers_grid))
        self.layout().addWidget(layers_box)
        # a stack is labelled by painting a few slices and interpolating between them
        self.interpolate_button = QPushButton("Interpolate between painted slices…")
        self.interpolate_button.setToolTip("opens the Interpolate / track dock")
        self.interpolate_button.clicked.connect(self.open_interpolation)
        self.layout().addWidget(self.interpolate_button)
        self.layout().addStretch(1)
        self.viewer.layers.events.inserted.connect(self._refresh_choices)
        self.viewer.layers.events.removed.connect(self._refresh_choices)
        self._refresh_choices()

    # -- inputs ----------------------------------------------------------------------------
    def _refresh_choices(self, event=None) -> None:
        self.interpolate_button.setVisible(
            any(isinstance(ly, Labels) and ly.ndim >= 3 for ly in self.viewer.layers)
        )
        for combo, kind in ((self.seeds, Points), (self.shapes, Shapes)):
            current = combo.currentText()
            combo.clear()
            combo.addItems([""] + [ly.name for ly in self.viewer.layers if isinstance(ly, kind)])
            combo.setCurrentText(current)

    def _layer_named(self, combo: QComboBox):
        name = combo.currentText()
        return next((ly for ly in self.viewer.layers if name and ly.name == name), None)

    def _ids(self) -> list[int]:
        text = self.ids.text().strip()
        if text:
            try:
                return [int(t) for t in text.replace(",", " ").split()]
            except ValueError:
                raise InstanceError("ids must be integers", field="ids", value=text) from None
        layer = self.session.instance_target()
        return [int(layer.selected_label)]

    def _region(self) -> tuple[slice, ...]:
        return self.session.region_from_shapes(self._layer_named(self.shapes))

    def scope_kwargs(self, *, objects: bool = True) -> dict:
        """``ids`` / ``region`` arguments of the chosen scope."""
        scope = self.scope.currentText()
        if scope == "selected objects" and objects:
            return {"ids": self._ids()}
        if scope == "current plane":
            return {"region": self.session.plane_region()}
        if scope == "region":
            return {"region": self._region()}
        return {}

    # -- actions ---------------------------------------------------------------------------
    def label_components(self) -> None:
        """Label the semantic layer; class ids the taxonomy lacks are offered as new classes."""
        missing = self.guarded(self.session.missing_classes) or []
        if missing:
            shown = ", ".join(str(i) for i in missing)
            if not self.ask_add_classes(missing):
                self.warn(
                    f"class id(s) {shown} are in the mask but not in the taxonomy: add them "
                    "in Class taxonomy (or answer Yes to add them) before labelling"
                )
                return
            self.guarded(self.session.add_missing_classes, missing)
            self.info(f"added class(es) {shown} to the taxonomy; rename them in Class taxonomy")
        layer = self.guarded(self.session.label_components)
        if layer is not None:
            n = len(self.session.objects(layer))
            self._report(f"labelled {n} objects into '{layer.name}'")

    def ask_add_classes(self, ids: list[int]) -> bool:
        """Ask whether to add the class ids found in the mask as new classes."""
        shown = ", ".join(str(i) for i in ids)
        answer = QMessageBox.question(
            self,
            "Classes missing from the taxonomy",
            f"The mask holds class id(s) {shown}, which the taxonomy does not have.\n"
            "Add them as new classes (named 'class <id>')?",
        )
        return answer == QMessageBox.StandardButton.Yes

    def split_touching(self):
        """Split touching objects; a whole-image split of a large array runs in a worker."""
        if self.scope.currentText() == "whole volume":
            source = self.guarded(self.session.large_split_source)
            if source is not None:
                return self.split_large(source)

        def run():
            seeds = self._layer_named(self.seeds)
            kw = self.scope_kwargs()
            if seeds is not None and self.scope.currentText() == "selected objects":
                kw.pop("ids")  # the seeds choose the objects
            return self.session.split_touching(
                min_distance=self.min_distance.value() or None, seeds=seeds, **kw
            )

        before = self._object_count()
        self._report_edit(self.guarded(run), before)

    def split_by_line(self) -> None:
        self._report_edit(
            self.guarded(
                lambda: self.session.split_by_line(self._ids()[0], self._layer_named(self.shapes))
            )
        )

    def split_disconnected(self) -> None:
        before = self._object_count()
        self._report_edit(
            self.guarded(lambda: self.session.split_disconnected(**self.scope_kwargs())), before
        )

    def merge(self) -> None:
        self._report_edit(self.guarded(lambda: self.session.merge_instances(self._ids())))

    def delete(self) -> None:
        self._report_edit(self.guarded(lambda: self.session.delete_instances(self._ids())))

    def fill_holes(self) -> None:
        self._report_edit(self.guarded(lambda: self.session.fill_holes(**self.scope_kwargs())))

    def remove_small(self) -> None:
        self._report_edit(
            self.guarded(
                lambda: self.session.remove_small(
                    self.min_size.value(), **self.scope_kwargs(objects=False)
                )
            )
        )

    def remove_border_objects(self) -> None:
        self._report_edit(
            self.guarded(
                lambda: self.session.remove_border_objects(**self.scope_kwargs(objects=False))
            )
        )

    def relabel_sequential(self) -> None:
        self._report_edit(self.guarded(self.session.relabel_sequential))

    def label_large(self):
        """Label the semantic layer block by block in a worker, then add the result."""

        def start():
            source, out = self.session.large_labelling_target()
            steps = count_steps(out.shape, out.chunks)
            self.worker = self.run_in_worker(
                self.session.iter_label_components_chunked,
                source,
                out,
                on_done=lambda _: self.session.add_instance_layer(out, name="instances"),
                description="labelling components",
                total=steps,
            )
            return self.worker

        return self.guarded(start)

    def split_large(self, source):
        """Split the whole of a large (zarr, dask, store) image chunk by chunk in a worker.

        The result goes to a new array and is shown (or written to the store) only when the
        work ends, so *Cancel* leaves everything as it was.
        """

        def start():
            if isinstance(source, str):
                self.session.save_store()  # the edit region's changes are part of the input
            labels, out = self.session.large_split_target(source)
            seeds = self.session.large_split_seeds(source, self._layer_named(self.seeds))
            self.worker = self.run_in_worker(
                self.session.iter_split_touching_large,
                labels,
                out,
                min_distance=self.min_distance.value() or None,
                seeds=seeds,
                on_done=lambda edit: self.session.finish_large_split(source, out, edit),
                description="splitting touching objects",
                total=count_steps(labels.shape, block_shape(labels)),
            )
            return self.worker

        return self.guarded(start)

    # -- layers ----------------------------------------------------------------------------
    def new_semantic_layer(self) -> None:
        self.guarded(self.session.add_semantic_layer)

    def new_instance_layer(self) -> None:
        self.guarded(self.session.add_instance_layer)

    def new_boxes_layer(self) -> None:
        self.guarded(self.session.add_boxes_layer)

    def boxes_from_instances(self) -> None:
        layer = self.guarded(self.session.instances_to_boxes)
        if layer is not None:
            self._report(f"{len(layer.data)} boxes from the instances in '{layer.name}'")

    def semantic_from_instances(self) -> None:
        self.guarded(self.session.instances_to_semantic)

    def instances_from_semantic(self) -> None:
        layer = self.guarded(self.session.semantic_to_instances)
        if layer is not None:
            self._report(f"{len(self.session.objects(layer))} objects in '{layer.name}'")

    def open_interpolation(self) -> Any:
        """Dock the "Interpolate / track" widget (returns it)."""
        return self.viewer.window.add_plugin_dock_widget(PLUGIN, INTERPOLATION_DOCK)[1]

    # -- results ---------------------------------------------------------------------------
    def _report(self, text: str, warn: bool = False) -> None:
        self.result.setText(text)
        self.result.setToolTip(text)
        (self.warn if warn else self.info)(text)

    def _object_count(self) -> int | None:
        """Objects in the target layer's instance table (None when it has none)."""
        try:
            layer = self.session.instance_target()
        except LabelsuiteError:
            return None
        return len(self.session.objects(layer)) or None if role_of(layer) == "instances" else None

    def _report_edit(self, edit: Any, before: int | None = None) -> None:
        """Say what an operation did; warn when it multiplied the objects."""
        if edit is None:
            return
        text, multiplied = describe_edit(edit, before)
        if multiplied:
            text += (
                ": many more objects than before. If objects were cut into pieces, undo "
                "(Ctrl-Z) and raise the min distance"
            )
        self._report(text, warn=multiplied)

    def cancel(self) -> None:
        if self.worker is not None:
            self.worker.quit()

    def _release(self) -> None:
        super()._release()
        self.viewer.layers.events.inserted.disconnect(self._refresh_choices)
        self.viewer.layers.events.removed.disconnect(self._refresh_choices)


#: an operation that leaves this many times the objects it found is suspicious
SPLIT_WARN_RATIO = 3


def describe_edit(edit: Any, before: int | None = None) -> tuple[str, bool]:
    """("split 37 objects into 81", multiplied) for an :class:`InstanceEdit`.

    ``multiplied`` when the layer ends with at least :data:`SPLIT_WARN_RATIO` times the
    ``before`` objects (without a count: the split objects alone).
    """
    if edit.relabel is not None:
        return f"renumbered {len(edit.relabel)} objects 1..{len(edit.relabel)}", False
    if edit.parents:
        split = len(set(edit.parents.values()))
        parts = split + len(edit.parents)
        base = before if before else split
        multiplied = base + len(edit.parents) >= SPLIT_WARN_RATIO * base
        return f"split {split} objects into {parts}", multiplied
    if edit.merged:
        into = len(set(edit.merged.values()))
        return f"merged {len(edit.merged) + into} objects into {into}", False
    if edit.removed:
        return f"removed {len(edit.removed)} objects", False
    if edit.empty:
        return "nothing changed", False
    return f"changed {len(edit.patches)} object region(s)", False


def _spin(lo: int, hi: int, value: int) -> QSpinBox:
    s = QSpinBox()
    s.setRange(lo, hi)
    s.setValue(value)
    return s
