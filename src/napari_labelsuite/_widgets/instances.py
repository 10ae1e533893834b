"""The "Instances" dock widget: split, merge, relabel and clean instance masks.

Every button calls one ``LabelSession`` method (see ``docs/instances.md``); the scope chooser
turns into the ``ids`` / ``region`` arguments of that method.
"""

from __future__ import annotations

import napari
from napari.layers import Points, Shapes
from qtpy.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGridLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from ..core.errors import InstanceError
from ..core.instances_chunked import block_shape, count_steps
from ._base import SessionWidget

SCOPES = ("selected objects", "current plane", "region", "whole volume")


class InstancesWidget(SessionWidget):
    """Instance tools on the active instance layer, each one undoable with Ctrl-Z."""

    def __init__(self, viewer: napari.viewer.Viewer, parent=None) -> None:
        super().__init__(viewer, parent)
        self.worker = None
        form = QFormLayout()
        self.scope = QComboBox()
        self.scope.addItems(SCOPES)
        self.ids = QLineEdit()
        self.ids.setPlaceholderText("e.g. 3, 7 (default: the selected label)")
        self.min_distance = _spin(1, 500, 7)
        self.min_size = _spin(0, 10**9, 20)
        self.seeds = QComboBox()
        self.shapes = QComboBox()
        for label, w in [
            ("scope", self.scope),
            ("ids", self.ids),
            ("min distance", self.min_distance),
            ("min size", self.min_size),
            ("seeds (Points)", self.seeds),
            ("line / region (Shapes)", self.shapes),
        ]:
            form.addRow(label, w)
        box = QWidget()
        box.setLayout(form)
        self.layout().addWidget(box)
        grid = QGridLayout()
        self.buttons: dict[str, QPushButton] = {}
        actions = [
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
        for k, (text, fn) in enumerate(actions):
            b = QPushButton(text)
            b.clicked.connect(fn)
            grid.addWidget(b, k // 2, k % 2)
            self.buttons[text] = b
        grid_box = QWidget()
        grid_box.setLayout(grid)
        self.layout().addWidget(grid_box)
        self.layout().addStretch(1)
        self.viewer.layers.events.inserted.connect(self._refresh_choices)
        self.viewer.layers.events.removed.connect(self._refresh_choices)
        self._refresh_choices()

    # -- inputs ----------------------------------------------------------------------------
    def _refresh_choices(self, event=None) -> None:
        for combo, kind in ((self.seeds, Points), (self.shapes, Shapes)):
            current = combo.currentText()
            combo.clear()
            combo.addItems([""] + [ly.name for ly in self.viewer.layers if isinstance(ly, kind)])
            combo.setCurrentText(current)

    def _layer_named(self, combo: QComboBox):
        name = combo.currentText()
        return next((ly for ly in self.viewer.layers if name and ly.name == name), None)

    def _ids(self) -> list[int] | None:
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
        self.guarded(self.session.label_components)

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
                min_distance=self.min_distance.value(), seeds=seeds, **kw
            )

        self.guarded(run)

    def split_by_line(self) -> None:
        self.guarded(
            lambda: self.session.split_by_line(self._ids()[0], self._layer_named(self.shapes))
        )

    def split_disconnected(self) -> None:
        self.guarded(lambda: self.session.split_disconnected(**self.scope_kwargs()))

    def merge(self) -> None:
        self.guarded(lambda: self.session.merge_instances(self._ids()))

    def delete(self) -> None:
        self.guarded(lambda: self.session.delete_instances(self._ids()))

    def fill_holes(self) -> None:
        self.guarded(lambda: self.session.fill_holes(**self.scope_kwargs()))

    def remove_small(self) -> None:
        self.guarded(
            lambda: self.session.remove_small(
                self.min_size.value(), **self.scope_kwargs(objects=False)
            )
        )

    def remove_border_objects(self) -> None:
        self.guarded(
            lambda: self.session.remove_border_objects(**self.scope_kwargs(objects=False))
        )

    def relabel_sequential(self) -> None:
        self.guarded(self.session.relabel_sequential)

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
                min_distance=self.min_distance.value(),
                seeds=seeds,
                on_done=lambda edit: self.session.finish_large_split(source, out, edit),
                description="splitting touching objects",
                total=count_steps(labels.shape, block_shape(labels)),
            )
            return self.worker

        return self.guarded(start)

    def cancel(self) -> None:
        if self.worker is not None:
            self.worker.quit()

    def _release(self) -> None:
        super()._release()
        self.viewer.layers.events.inserted.disconnect(self._refresh_choices)
        self.viewer.layers.events.removed.disconnect(self._refresh_choices)


def _spin(lo: int, hi: int, value: int) -> QSpinBox:
    s = QSpinBox()
    s.setRange(lo, hi)
    s.setValue(value)
    return s
