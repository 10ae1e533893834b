"""The "Augmentation preview" dock widget.

Edit the pipeline (a list of transforms, each with its parameters and probability), choose
the source layers, and show N variants next to the image with their masks, boxes and
diagnostics. Every control maps to a session method (see ``docs/augment.md``):
``augment_pipeline``, ``augment_preview`` (here split into ``augment_source`` /
``augment_variants`` / ``show_augment_preview`` so the work runs off the GUI thread),
``save_augment_pipeline`` and ``load_augment_pipeline``; the rotated-box, keypoint and
polygon layer pickers call ``set_augment_object_layer`` and show the session's choice.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import typing
from typing import Any

import napari
from magicgui.types import FileDialogMode
from magicgui.widgets import (
    CheckBox,
    ComboBox,
    Container,
    FileEdit,
    FloatSpinBox,
    LineEdit,
    PushButton,
    Select,
    SpinBox,
)
from qtpy.QtWidgets import QLabel, QListWidget, QPlainTextEdit

from .._session.augment import AUGMENT_OBJECT_ROLES, is_preview_layer
from .._session.layers import role_of
from ..core.augment import BOX_POLICIES, MASK_FILLS, Pipeline
from ..core.augment.transforms import TRANSFORMS, Transform
from ..core.augment.warp import FILL_MODES, INTERPOLATIONS
from ..core.errors import AugmentError
from ._base import SessionWidget, short_path

_NONE = "(none)"


class AugmentWidget(SessionWidget):
    """Preview what training will see: image, masks and boxes transformed together."""

    def __init__(self, viewer: napari.viewer.Viewer, parent=None) -> None:
        super().__init__(viewer, parent)
        # the pipeline lives in the session only: edits set a new one, and every change (from
        # here, a file or the console) is redrawn by _on_pipeline
        pipe = self.session.augment_pipeline
        self._showing = False
        self._pending_select: int | None = None

        # sources
        self.images = Select(label="image layers", choices=self._image_names)
        self.semantic = ComboBox(label="semantic", choices=self._label_names)
        self.instances = ComboBox(label="instances", choices=self._label_names)
        self.boxes = ComboBox(label="boxes", choices=self._shape_names)
        # rotated boxes, keypoints and polygons: the session holds the choice, these show it
        self.object_layers = {
            role: ComboBox(label=label, choices=functools.partial(self._role_names, role))
            for role, label in zip(
                AUGMENT_OBJECT_ROLES, ("rotated boxes", "keypoints", "polygons")
            )
        }
        for role, combo in self.object_layers.items():
            combo.changed.connect(lambda value, role=role: self._on_object_layer(role, value))

        # the transform list and the editor of the selected transform
        self.transform_list = QListWidget()
        self.transform_list.currentRowChanged.connect(self._on_select)
        self.new_type = ComboBox(label="transform", choices=sorted(TRANSFORMS))
        self.add_button = PushButton(text="Add")
        self.remove_button = PushButton(text="Remove selected")
        self.update_button = PushButton(text="Update selected")
        self.editor: Container[Any] = Container(labels=True)
        self.add_button.changed.connect(self._add_transform)
        self.remove_button.changed.connect(self._remove_transform)
        self.update_button.changed.connect(self._update_transform)

        # settings of the one resampling
        self.fill_mode = ComboBox(label="fill mode", choices=FILL_MODES, value=pipe.fill_mode)
        self.mask_fill = ComboBox(label="mask fill", choices=MASK_FILLS, value=pipe.mask_fill)
        self.interpolation = ComboBox(
            label="interpolation", choices=list(INTERPOLATIONS), value=pipe.interpolation
        )
        self.min_visibility = FloatSpinBox(
            label="min box visibility", min=0, max=1, step=0.05, value=pipe.min_visibility
        )
        self.box_policy = ComboBox(label="low-visibility boxes", choices=BOX_POLICIES)
        self.box_policy.value = pipe.box_policy
        for w in (
            self.fill_mode,
            self.mask_fill,
            self.interpolation,
            self.min_visibility,
            self.box_policy,
        ):
            w.changed.connect(self._on_setting)

        # preview
        self.n = SpinBox(label="variants", min=1, max=25, value=9)
        self.seed = SpinBox(label="seed", min=0, max=2**31 - 1, value=0)
        self.follow_plane = CheckBox(text="follow the current plane", value=False)
        self.preview_button = PushButton(text="Preview")
        self.reseed_button = PushButton(text="Reseed")
        self.clear_button = PushButton(text="Clear preview")
        self.preview_button.changed.connect(lambda: self.preview())
        self.reseed_button.changed.connect(self.reseed)
        self.clear_button.changed.connect(self.session.clear_augment_preview)
        self.follow_plane.changed.connect(self._on_follow_plane)

        # files and Keras
        self.path = FileEdit(
            label="pipeline file", mode=FileDialogMode.OPTIONAL_FILE, filter="*.yaml *.yml *.json"
        )
        self.save_button = PushButton(text="Save pipeline")
        self.load_button = PushButton(text="Load pipeline")
        self.keras = LineEdit(label="Keras kwargs (JSON)", value="")
        self.keras_button = PushButton(text="From Keras")
        self.save_button.changed.connect(self.save)
        self.load_button.changed.connect(self.load)
        self.keras_button.changed.connect(self.from_keras)

        self.report = QPlainTextEdit()
        self.report.setReadOnly(True)
        self.report.setMinimumHeight(120)

        lay = self.layout()
        lay.addWidget(QLabel("<b>Source</b>"))
        lay.addWidget(
            Container(
                widgets=[
                    self.images,
                    self.semantic,
                    self.instances,
                    self.boxes,
                    *self.object_layers.values(),
                ]
            ).native
        )
        lay.addWidget(QLabel("<b>Pipeline</b>"))
        lay.addWidget(self.transform_list)
        lay.addWidget(
            Container(
                widgets=[self.new_type, self.add_button, self.remove_button], layout="horizontal"
            ).native
        )
        lay.addWidget(self.editor.native)
        lay.addWidget(self.update_button.native)
        lay.addWidget(
            Container(
                widgets=[
                    self.fill_mode,
                    self.mask_fill,
                    self.interpolation,
                    self.min_visibility,
                    self.box_policy,
                ]
            ).native
        )
        lay.addWidget(QLabel("<b>Preview</b>"))
        preview_settings: list[Any] = [self.n, self.seed, self.follow_plane]
        lay.addWidget(Container(widgets=preview_settings).native)
        lay.addWidget(
            Container(
                widgets=[self.preview_button, self.reseed_button, self.clear_button],
                layout="horizontal",
            ).native
        )
        lay.addWidget(
            Container(
                widgets=[
                    self.path,
                    self.save_button,
                    self.load_button,
                    self.keras,
                    self.keras_button,
                ]
            ).native
        )
        lay.addWidget(QLabel("<b>Diagnostics</b>"))
        lay.addWidget(self.report)

        self.viewer.layers.events.inserted.connect(self._refresh_layers)
        self.viewer.layers.events.removed.connect(self._refresh_layers)
        self._refresh_layers()
        self._refresh_list()
        self.session.pipeline_changed.connect(self._on_pipeline)
        self.session.augment_objects_changed.connect(self._show_object_layers)
        # a layer adopted with manage_layer gets its role without being inserted
        self.session.provenance_recorded.connect(self._on_recorded)

    # -- layer choices ----------------------------------------------------------------------
    def _layers_of(self, kind: str) -> list:
        from napari.layers import Image, Labels, Shapes

        cls = {"image": Image, "labels": Labels, "shapes": Shapes}[kind]
        return [
            layer
            for layer in self.viewer.layers
            if isinstance(layer, cls) and not is_preview_layer(layer)
        ]

    def _image_names(self, _w=None) -> list[str]:
        return [layer.name for layer in self._layers_of("image")]

    def _label_names(self, _w=None) -> list[str]:
        return [_NONE] + [layer.name for layer in self._layers_of("labels")]

    def _shape_names(self, _w=None) -> list[str]:
        return [_NONE] + [layer.name for layer in self._layers_of("shapes")]

    def _role_names(self, role: str, _w: Any = None) -> list[str]:
        return [_NONE] + [
            layer.name
            for layer in self.viewer.layers
            if role_of(layer) == role and not is_preview_layer(layer)
        ]

    def _on_object_layer(self, role: str, value: Any) -> None:
        if self._showing:
            return
        chosen = self.session.augment_object_layer(role)
        if (chosen.name if chosen is not None else _NONE) == value:
            return
        self.guarded(self.session.set_augment_object_layer, role, self._layer(value))

    def _on_recorded(self, entry: dict) -> None:
        if entry.get("action") == "manage_layer":
            self._show_object_layers()

    def _show_object_layers(self, *_: Any) -> None:
        """Show the session's rotated-box, keypoint and polygon layers for the preview."""
        self._showing = True  # setting the combos must not set the choice again
        try:
            for role, combo in self.object_layers.items():
                combo.reset_choices()
                chosen = self.session.augment_object_layer(role)
                name = chosen.name if chosen is not None else _NONE
                combo.value = name if name in combo.choices else _NONE
        finally:
            self._showing = False

    def _refresh_layers(self, event: Any = None) -> None:
        self._show_object_layers()
        for w in (self.images, self.semantic, self.instances, self.boxes):
            w.reset_choices()
        if not self.images.value and self.images.choices:
            self.images.value = list(self.images.choices)
        for w, layer in (
            (self.semantic, self.session.semantic),
            (self.instances, self.session.instances),
            (self.boxes, self.session.boxes),
        ):
            if w.value == _NONE and layer is not None and layer.name in w.choices:
                w.value = layer.name

    def _layer(self, name: str) -> Any:
        return False if name in (None, _NONE) else self.viewer.layers[name]

    # -- editing the pipeline ---------------------------------------------------------------
    @property
    def transforms(self) -> list[Transform]:
        """The transforms of the session's pipeline (a copy; the widget keeps none)."""
        return list(self.session.augment_pipeline.transforms)

    @transforms.setter
    def transforms(self, value: list[Transform]) -> None:
        self._set_pipeline(transforms=list(value))

    def _set_pipeline(self, select: int | None = None, **changes: Any) -> None:
        """Set the session's pipeline to its copy with ``changes`` (redrawn by the event)."""
        pipe = self.session.augment_pipeline
        transforms = list(changes.pop("transforms", pipe.transforms))
        settings = {**pipe.settings(), **changes}

        def build() -> None:
            self.session.augment_pipeline = Pipeline(transforms, **settings)

        self._pending_select = select
        self.guarded(build)
        self._pending_select = None

    def _on_setting(self, *_: Any) -> None:
        if not self._showing:
            self._set_pipeline(
                fill_mode=self.fill_mode.value,
                mask_fill=self.mask_fill.value,
                interpolation=self.interpolation.value,
                min_visibility=self.min_visibility.value,
                box_policy=self.box_policy.value,
            )

    def _on_pipeline(self, pipe: Pipeline) -> None:
        """Show the session's new pipeline (set here, loaded, or set from the console)."""
        select = self._pending_select
        if select is None:
            row = self.transform_list.currentRow()
            select = row if 0 <= row < len(pipe.transforms) else None
        self._show_pipeline(pipe, select)

    def _refresh_list(self, select: int | None = None) -> None:
        self.transform_list.clear()
        for t in self.transforms:
            params = {k: v for k, v in t.to_dict().items() if k not in ("type", "p")}
            shown = ", ".join(f"{k}={v}" for k, v in params.items())
            self.transform_list.addItem(f"{type(t).__name__} (p={t.p:g}) {shown}")
        if select is not None and 0 <= select < len(self.transforms):
            self.transform_list.setCurrentRow(select)

    def _on_select(self, row: int) -> None:
        self.editor.clear()
        if 0 <= row < len(self.transforms):
            for w in _editor_widgets(self.transforms[row]):
                self.editor.append(w)

    def _add_transform(self) -> None:
        transforms = self.transforms
        name = self.new_type.value
        transforms.append(TRANSFORMS[name](**USEFUL_DEFAULTS.get(name, {})))
        self._set_pipeline(select=len(transforms) - 1, transforms=transforms)

    def _remove_transform(self) -> None:
        row = self.transform_list.currentRow()
        transforms = self.transforms
        if 0 <= row < len(transforms):
            del transforms[row]
            self._set_pipeline(select=min(row, len(transforms) - 1), transforms=transforms)

    def _update_transform(self) -> None:
        row = self.transform_list.currentRow()
        if not 0 <= row < len(self.transforms):
            return
        cls = type(self.transforms[row])
        new = self.guarded(lambda: cls(**_editor_values(self.editor)))
        if new is not None:
            transforms = self.transforms
            transforms[row] = new
            self._set_pipeline(select=row, transforms=transforms)

    def pipeline(self) -> Pipeline:
        """The session's pipeline (what this widget shows)."""
        return self.session.augment_pipeline

    def _show_pipeline(self, pipe: Pipeline, select: int | None = None) -> None:
        self._showing = True  # setting the controls must not set the pipeline again
        try:
            self.fill_mode.value = pipe.fill_mode
            self.mask_fill.value = pipe.mask_fill
            self.interpolation.value = pipe.interpolation
            self.min_visibility.value = pipe.min_visibility
            self.box_policy.value = pipe.box_policy
        finally:
            self._showing = False
        if select is None and pipe.transforms:
            select = 0
        self._refresh_list(select=select)

    # -- actions ----------------------------------------------------------------------------
    def preview(self, block: bool = False) -> Any:
        """Compute and show the variants (in a worker unless ``block``)."""

        def start():
            return self.session.augment_source(
                images=[self.viewer.layers[n] for n in self.images.value],
                semantic=self._layer(self.semantic.value),
                instances=self._layer(self.instances.value),
                boxes=self._layer(self.boxes.value),
            )

        source = self.guarded(start)
        if source is None:
            return None
        args = (source, None, self.n.value, self.seed.value)
        if block:
            result = self.guarded(self.session.augment_variants, *args)
            if result is not None:
                self._show(result)
            return result
        return self.run_in_worker(
            self.session.augment_variants,
            *args,
            on_done=self._show,
            description="Augmenting",
        )

    def _show(self, preview: Any) -> None:
        shown = self.guarded(self.session.show_augment_preview, preview)
        if shown:
            # the grid is drawn beside the image: bring it into view
            self.guarded(self.session.focus_layers, shown)
        self.report.setPlainText(preview.summary())

    def reseed(self) -> Any:
        """Next ``n`` seeds, then preview."""
        self.seed.value = self.seed.value + self.n.value
        return self.preview()

    def save(self) -> None:
        out = self.guarded(self.session.save_augment_pipeline, self.path.value)
        if out is not None:
            self.info(f"pipeline saved to {short_path(out)}")

    def load(self) -> None:
        # the controls follow through pipeline_changed
        self.guarded(self.session.load_augment_pipeline, self.path.value)

    def from_keras(self) -> None:
        def build():
            try:
                kwargs = json.loads(self.keras.value or "{}")
            except json.JSONDecodeError as exc:
                raise AugmentError(
                    f"not valid JSON: {exc.msg}", field="keras", value=self.keras.value
                ) from None
            self.session.augment_pipeline = Pipeline.from_keras(kwargs)

        self.guarded(build)

    def _on_follow_plane(self, on: bool) -> None:
        step = self.viewer.dims.events.current_step
        if on:
            step.connect(self._on_plane)
        else:
            step.disconnect(self._on_plane)

    def _on_plane(self, event: Any = None) -> None:
        if self.follow_plane.value:
            self.preview()

    def _release(self) -> None:
        super()._release()
        self.session.pipeline_changed.disconnect(self._on_pipeline)
        self.session.augment_objects_changed.disconnect(self._show_object_layers)
        self.session.provenance_recorded.disconnect(self._on_recorded)
        # unconditional: disconnecting a callback that is not connected does nothing
        self.viewer.dims.events.current_step.disconnect(self._on_plane)
        self.viewer.layers.events.inserted.disconnect(self._refresh_layers)
        self.viewer.layers.events.removed.disconnect(self._refresh_layers)


#: parameters of a newly added transform, where the class defaults would do nothing
USEFUL_DEFAULTS: dict[str, dict[str, Any]] = {
    "Affine": {
        "rotate": (-15.0, 15.0),
        "scale": (0.9, 1.1),
        "translate_x": (-0.05, 0.05),
        "translate_y": (-0.05, 0.05),
    },
}


# -- the parameter editor: one widget per dataclass field ------------------------------------
_BIG = 1e6


def _editor_widgets(t: Transform) -> list:
    hints = typing.get_type_hints(type(t))
    out = []
    for f in dataclasses.fields(t):
        value = getattr(t, f.name)
        hint = hints.get(f.name)
        w: Any
        if f.name == "p":
            w = FloatSpinBox(value=value, min=0, max=1, step=0.05)
        elif hint is bool:
            w = CheckBox(value=value)
        elif hint is int:
            w = SpinBox(value=value, min=0, max=int(_BIG))
        elif hint is float:
            w = FloatSpinBox(value=value, min=-_BIG, max=_BIG, step=0.1)
        elif isinstance(value, tuple) and len(value) == 2 and "..." not in str(hint):
            w = Container(
                layout="horizontal",
                widgets=[
                    FloatSpinBox(value=float(v), min=-_BIG, max=_BIG, step=0.05) for v in value
                ],
            )
        else:
            w = LineEdit(value=", ".join(str(v) for v in value))
        w.name = f.name
        w.label = f.name.replace("_", " ")  # "translate px x", not a cut "translate_px_"
        w.tooltip = f.name
        out.append(w)
    return out


def _editor_values(editor: Container) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for w in editor:
        if isinstance(w, Container):
            values[w.name] = tuple(x.value for x in w)
        elif isinstance(w, LineEdit):
            try:
                values[w.name] = tuple(int(x) for x in w.value.split(",") if x.strip())
            except ValueError:
                raise AugmentError(
                    "expected comma-separated integers", field=w.name, value=w.value
                ) from None
        else:
            values[w.name] = w.value
    return values
