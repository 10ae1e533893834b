"""Session part: how annotation layers are shown (class names on boxes, the camera).

At full view of a large image, hundreds of class names drawn on small boxes overlap into
clutter. In the default ``"auto"`` mode the names of a boxes layer are shown only when
its typical (median) box is at least ``min_box_px`` screen pixels high at the current
zoom; ``"always"`` and ``"never"`` do what they say.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._napari_compat import camera as _camera
from ..core.errors import SessionError

__all__ = ["BOX_TEXT_MODES", "ViewMixin"]

BOX_TEXT_MODES = ("auto", "always", "never")
#: a box smaller than this on screen is too small to carry its class name
DEFAULT_MIN_BOX_PX = 24.0


class ViewMixin:
    """Display settings of the annotation layers."""

    def _init_mixin(self) -> None:
        self._box_text_mode = "auto"
        self._min_box_px = DEFAULT_MIN_BOX_PX
        self._watched_boxes: set[int] = set()
        viewer = self.viewer  # type: ignore[attr-defined]
        if viewer is not None:
            # napari keeps weak references to bound methods: the session stays collectable
            _camera(viewer).events.zoom.connect(self._refresh_box_text)
            viewer.layers.events.inserted.connect(self._refresh_box_text)
            viewer.layers.events.removed.connect(self._refresh_box_text)
        # rebinding boxes after a taxonomy change may replace their text settings
        self.taxonomy_changed.connect(self._refresh_box_text)  # type: ignore[attr-defined]

    @property
    def box_text_mode(self) -> str:
        """When class names are drawn on boxes: ``"auto"``, ``"always"`` or ``"never"``."""
        return self._box_text_mode

    def set_box_text(self, mode: str = "auto", min_box_px: float | None = None) -> None:
        """Choose when boxes show their class name (see module doc).

        Parameters
        ----------
        mode : {"auto", "always", "never"}
        min_box_px : float, optional
            For ``"auto"``: the on-screen height (pixels) the median box needs.
        """
        if mode not in BOX_TEXT_MODES:
            raise SessionError(
                f"box text mode must be one of {BOX_TEXT_MODES}", field="mode", value=mode
            )
        if min_box_px is not None:
            if not np.isfinite(min_box_px) or min_box_px < 0:
                raise SessionError("min_box_px must be >= 0", field="min_box_px", value=min_box_px)
            self._min_box_px = float(min_box_px)
        self._box_text_mode = mode
        self._record("set_box_text", mode=mode, min_box_px=self._min_box_px)  # type: ignore[attr-defined]
        self._refresh_box_text()

    def box_text_visible(self, layer: Any) -> bool:
        """Whether ``layer`` (a boxes layer) shows its class names now."""
        if self._box_text_mode != "auto":
            return self._box_text_mode == "always"
        viewer = self.viewer  # type: ignore[attr-defined]
        if viewer is None or not len(layer.data):
            return True
        heights = [float(np.ptp(np.asarray(d)[:, -2])) for d in layer.data]
        world = float(np.median(heights)) * abs(float(layer.scale[-2]))
        return world * float(_camera(viewer).zoom) >= self._min_box_px

    def _refresh_box_text(self, event: Any = None) -> None:
        try:
            layers = self.layers_of_role("boxes")  # type: ignore[attr-defined]
        except SessionError:  # the viewer is closing
            return
        for layer in layers:
            if id(layer) not in self._watched_boxes:
                self._watched_boxes.add(id(layer))
                layer.events.data.connect(self._clean_new_box_rows)
            visible = self.box_text_visible(layer)
            if layer.text.visible != visible:
                layer.text.visible = visible

    @staticmethod
    def _clean_new_box_rows(event: Any) -> None:
        """Empty fields of a hand-drawn box are None, as in every other row, not NaN.

        napari fills a new shape's row from ``feature_defaults`` and turns its ``None``
        values into NaN.
        """
        if str(getattr(event, "action", "")) != "added":
            return
        layer = event.source
        frame = layer.features
        fixed = False
        for col in frame.columns:
            values = frame[col]
            if values.dtype == object and values.isna().any():
                frame[col] = values.astype(object).where(values.notna(), None)
                fixed = True
        if fixed:
            layer.features = frame

    def focus_layers(self, layers: Any, margin: float = 1.05) -> tuple[float, float]:
        """Move the camera so that ``layers`` (layers or names) fill the canvas.

        Returns the new camera centre (y, x) in world coordinates.
        """
        viewer = self.require_viewer()  # type: ignore[attr-defined]
        chosen = [viewer.layers[x] if isinstance(x, str) else x for x in layers]
        if not chosen:
            raise SessionError("no layer to show", field="layers", value=[])
        extents = np.array([x.extent.world[:, -2:] for x in chosen])  # (n, 2, 2)
        lo, hi = extents[:, 0].min(axis=0), extents[:, 1].max(axis=0)
        camera = _camera(viewer)
        center = (float((lo[0] + hi[0]) / 2), float((lo[1] + hi[1]) / 2))
        camera.center = center
        canvas = tuple(getattr(getattr(viewer, "canvas", None), "size", None) or (600, 800))
        size = np.maximum(hi - lo, 1.0) * margin
        camera.zoom = float(min(canvas[0] / size[0], canvas[1] / size[1]))
        return center
