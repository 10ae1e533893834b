"""The "Assist" dock: click / box / wand objects on the instance layer (wiring only).

Click mode on the instance layer: click = inside, Shift-click = outside, drag = box; the
candidate shows in a preview layer after every prompt; Enter accepts, Escape discards.
Every control calls one session method (see docs/assist.md).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from qtpy.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
)

from ..core.errors import AssistError
from ._base import SessionWidget

PREVIEW_NAME = "assist preview"
#: the name of the channel control, as the notifications say it
CHANNELS = "Channels"
_DRAG_PIXELS = 3.0


class AssistWidget(SessionWidget):
    """Assisted labeling: one click (or box, or wand click), one object."""

    def __init__(self, napari_viewer: Any, parent: Any = None) -> None:
        super().__init__(napari_viewer, parent)
        lay = self.layout()
        form = QFormLayout()
        self.engine_box = QComboBox()
        self.engine_box.addItems(["classical", "onnx"])
        form.addRow("Engine", self.engine_box)
        self.encoder_edit = QLineEdit()
        self.encoder_edit.setPlaceholderText("encoder .onnx")
        self.encoder_edit.setToolTip("SAM-family encoder file (default $LABELSUITE_SAM_ENCODER)")
        self.decoder_edit = QLineEdit()
        self.decoder_edit.setPlaceholderText("decoder .onnx")
        self.decoder_edit.setToolTip("SAM-family decoder file (default $LABELSUITE_SAM_DECODER)")
        form.addRow("Encoder", self.encoder_edit)
        form.addRow("Decoder", self.decoder_edit)
        self.channel_box = QComboBox()
        self.channel_box.setToolTip(
            "which axis of the image holds the channels: auto = the metadata decides "
            "(RGB, an axis labelled c, a store's c axis, napari's one layer per channel)"
        )
        form.addRow(CHANNELS, self.channel_box)
        self.channel_info = QLabel("")
        self.channel_info.setWordWrap(True)
        form.addRow("", self.channel_info)
        lay.addLayout(form)
        row = QHBoxLayout()
        self.use_btn = QPushButton("Use engine")
        self.encode_btn = QPushButton("Encode image")
        row.addWidget(self.use_btn)
        row.addWidget(self.encode_btn)
        lay.addLayout(row)

        self.click_mode = QCheckBox("Click mode")
        self.click_mode.setToolTip("click = inside, Shift-click = outside, drag = box")
        self.wand_mode = QCheckBox("Magic wand")
        self.wand_mode.setToolTip("a click adds the region of similar intensity")
        lay.addWidget(self.click_mode)
        lay.addWidget(self.wand_mode)
        form2 = QFormLayout()
        self.tolerance = QDoubleSpinBox()
        self.tolerance.setRange(0.0, 1e9)
        self.tolerance.setDecimals(2)
        self.tolerance.setValue(20.0)
        form2.addRow("Wand tolerance", self.tolerance)
        lay.addLayout(form2)
        row2 = QHBoxLayout()
        self.accept_btn = QPushButton("Accept (Enter)")
        self.discard_btn = QPushButton("Discard (Esc)")
        row2.addWidget(self.accept_btn)
        row2.addWidget(self.discard_btn)
        lay.addLayout(row2)
        self.snap_btn = QPushButton("Snap selected box")
        self.snap_btn.setToolTip("tighten the selected box of the boxes layer to its object")
        lay.addWidget(self.snap_btn)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        lay.addWidget(self.status)

        self.use_btn.clicked.connect(self._use_engine)
        self.encode_btn.clicked.connect(self._encode)
        self.click_mode.toggled.connect(self._set_click_mode)
        self.wand_mode.toggled.connect(self._set_wand_mode)
        self.accept_btn.clicked.connect(self._accept)
        self.discard_btn.clicked.connect(self._discard)
        self.snap_btn.clicked.connect(self._snap_box)
        self.channel_box.activated.connect(self._set_channels)
        self.viewer.layers.events.inserted.connect(self._refresh_channels)
        self.viewer.layers.events.removed.connect(self._refresh_channels)
        self.viewer.layers.events.moved.connect(self._refresh_channels)
        self._bound_layer: Any = None
        self._previous_keys: dict[str, Any] = {}
        for key, fn in (("Enter", self._key_accept), ("Escape", self._key_discard)):
            self._previous_keys[key] = self.viewer.bind_key(key, fn, overwrite=True)
        self.session.on_assist_changed(self._refresh)
        self._refresh()

    # -- engine -----------------------------------------------------------------------------
    def _use_engine(self) -> None:
        name = self.engine_box.currentText()
        if name == "onnx":
            self.guarded(
                self.session.set_assist_engine,
                "onnx",
                encoder=self.encoder_edit.text().strip() or None,
                decoder=self.decoder_edit.text().strip() or None,
            )
        else:
            self.guarded(self.session.set_assist_engine, "classical")

    def _encode(self) -> Any:
        """Encode the whole image (or current plane) in a worker, one bar step per tile."""
        encoding = self.prompt(self.session.assist_encoding, None, self._current_plane())
        if encoding is None:
            return None
        if not hasattr(encoding, "all_tiles"):
            self.info(f"the {self.session.assist_engine.name} engine needs no encoding")
            return None
        tiles = encoding.all_tiles()

        def work() -> Any:
            for i, j in tiles:
                encoding.get(i, j)  # computed, or loaded from the embedding cache
                yield 1
            return len(tiles)

        return self.run_in_worker(
            work,
            description="Encoding image",
            total=len(tiles),
            on_done=lambda n: self.info(f"encoded {n} tile(s)"),
        )

    def _snap_box(self) -> None:
        """Tighten the selected box of the boxes layer to the object inside it."""
        new = self.prompt(self.session.snap_box)
        if new is not None:
            x0, y0, x1, y1 = new
            self.status.setText(f"box snapped to x {x0:.0f}-{x1:.0f}, y {y0:.0f}-{y1:.0f}")

    # -- channels ---------------------------------------------------------------------------
    def _set_channels(self, index: int = -1) -> None:
        """The Channels combo: ``auto``, ``none`` or ``axis k`` of the image layer."""
        text = self.channel_box.currentText()
        value: Any = int(text.split()[-1]) if text.startswith("axis") else text
        self.guarded(self.session.set_assist_channel_axis, value)

    def _refresh_channels(self, event: Any = None) -> None:
        """Rebuild the combo from the image layer's dimensions; show the session's setting."""
        chosen = self.session.assist_image_layers or [self.session.image]
        layer = chosen[0]
        ndim = 0
        if layer is not None:
            ndim = (layer.data[0] if layer.multiscale else layer.data).ndim
        setting = self.session.assist_channel_axis
        items = ["auto", "none", *(f"axis {i}" for i in range(ndim))]
        current = "none" if setting is None else str(setting)
        if isinstance(setting, int):
            current = f"axis {setting}"
            if current not in items:
                items.append(current)
        self.channel_box.blockSignals(True)
        try:
            if [self.channel_box.itemText(i) for i in range(self.channel_box.count())] != items:
                self.channel_box.clear()
                self.channel_box.addItems(items)
            self.channel_box.setCurrentText(current)
        finally:
            self.channel_box.blockSignals(False)
        self.channel_info.setText(self.session.assist_channel_summary())

    def prompt(self, fn: Any, *args: Any) -> Any:
        """Call a prompt method through :meth:`guarded` (errors become notifications)."""
        return self.guarded(self._naming_the_control, fn, *args)

    def _naming_the_control(self, fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except AssistError as exc:
            if exc.field != "channel_axis":
                raise
            # the console's message asks for channel_axis=; the dock's user has a control
            raise AssistError(
                f"{exc.message}: choose the axis in the Assist dock's '{CHANNELS}' control",
                field="channel_axis",
                value=self.session.assist_channel_axis,
            ) from exc

    def _current_plane(self) -> Any:
        layer = self.session.instances
        if layer is None or layer.ndim < 3:
            return None
        point = layer.world_to_data(self.viewer.dims.point[-layer.ndim :])
        return tuple(int(round(float(v))) for v in point[: layer.ndim - 2])

    # -- modes --------------------------------------------------------------------------------
    def _set_click_mode(self, on: bool) -> None:
        if on and self.wand_mode.isChecked():
            self.wand_mode.setChecked(False)
        self._bind_mouse(on or self.wand_mode.isChecked())

    def _set_wand_mode(self, on: bool) -> None:
        if on and self.click_mode.isChecked():
            self.click_mode.setChecked(False)
        self._bind_mouse(on or self.click_mode.isChecked())

    def _bind_mouse(self, on: bool) -> None:
        old = self._bound_layer
        if old is not None and self._on_mouse in old.mouse_drag_callbacks:
            old.mouse_drag_callbacks.remove(self._on_mouse)
        self._bound_layer = None
        if not on:
            return
        layer = self.session.instances
        if layer is None:
            self.warn("add or select an instance layer first")
            self.click_mode.setChecked(False)
            self.wand_mode.setChecked(False)
            return
        layer.mode = "pan_zoom"  # napari must not paint while we click
        layer.mouse_drag_callbacks.append(self._on_mouse)
        self._bound_layer = layer

    def _on_mouse(self, layer: Any, event: Any) -> Any:
        """Press, optional drag, release: a click, a Shift-click or a box."""
        start = np.asarray(layer.world_to_data(event.position), float)
        shift = "Shift" in {str(m) for m in event.modifiers}
        yield
        end = start
        while event.type == "mouse_move":
            end = np.asarray(layer.world_to_data(event.position), float)
            yield
        if np.abs(end[-2:] - start[-2:]).max() > _DRAG_PIXELS and not self.wand_mode.isChecked():
            self._on_box(start, end)
        elif self.wand_mode.isChecked():
            self._on_wand(start)
        else:
            self._on_click(start, positive=not shift)

    def _on_click(self, point: Any, positive: bool = True) -> None:
        self.prompt(self.session.assist_click, point, positive)

    def _on_box(self, start: Any, end: Any) -> None:
        (r0, c0), (r1, c1) = start[-2:], end[-2:]
        box = (min(c0, c1), min(r0, r1), max(c0, c1), max(r0, r1))
        plane = tuple(int(round(v)) for v in start[:-2]) or None
        self.prompt(self.session.assist_box, box, plane)

    def _on_wand(self, point: Any) -> None:
        iid = self.prompt(self.session.wand, point, self.tolerance.value())
        if iid is not None:
            self.status.setText(f"wand: added instance {iid}")

    # -- accept / discard -------------------------------------------------------------------
    def _accept(self) -> Any:
        iid = self.guarded(self.session.accept_candidate)
        if iid is not None:
            self.status.setText(f"added instance {iid}")
        return iid

    def _discard(self) -> None:
        self.session.discard_candidate()

    def _key_accept(self, viewer: Any = None) -> None:
        if self.session.candidate is not None:
            self._accept()

    def _key_discard(self, viewer: Any = None) -> None:
        if self.session.candidate is not None:
            self._discard()

    # -- view -------------------------------------------------------------------------------
    def preview_layer(self) -> Any:
        """The preview Labels layer (None when there is no candidate)."""
        return next((la for la in self.viewer.layers if la.name == PREVIEW_NAME), None)

    def _refresh(self) -> None:
        self._refresh_channels()
        cand = self.session.candidate
        layer = self.preview_layer()
        if cand is None or cand.mask is None or cand.window is None:
            if layer is not None:
                self.viewer.layers.remove(layer)
            if cand is None and not self.status.text().startswith(("added", "wand")):
                self.status.setText(f"engine: {self.session.assist_engine.name}")
            return
        data = cand.mask.astype(np.uint8)
        origin = [s.start for s in cand.window]
        target = self.session.instances
        scale = None if target is None else target.scale
        if layer is None:
            layer = self.viewer.add_labels(
                data, name=PREVIEW_NAME, translate=origin, opacity=0.5, scale=scale
            )
            if target is not None:
                self.viewer.layers.selection.active = target
        else:
            layer.data = data
            layer.translate = origin
        n_in = sum(cand.labels)
        n_out = len(cand.labels) - n_in
        box = ", box" if cand.box is not None else ""
        self.status.setText(
            f"candidate: {int(cand.mask.sum())} px from {n_in} inside / {n_out} outside "
            f"click(s){box}; {cand.latency_ms:.0f} ms"
        )

    def _release(self) -> None:
        self.session.disconnect_assist(self._refresh)
        for ev in (
            self.viewer.layers.events.inserted,
            self.viewer.layers.events.removed,
            self.viewer.layers.events.moved,
        ):
            ev.disconnect(self._refresh_channels)
        self._bind_mouse(False)
        for key, previous in self._previous_keys.items():
            self.viewer.bind_key(key, previous, overwrite=True)
        self._previous_keys = {}
        super()._release()
