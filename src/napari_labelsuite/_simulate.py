"""A simulated person at the mouse: napari's own tool callbacks driven by synthetic events.

The effort benchmark, the tests and the docs use these to label exactly the way a person
does: a brush stroke is a press, moves and a release handled by napari's paint tool; a box
is a drag of napari's rectangle tool; a polygon is the vertices of napari's Labels polygon
mode, completed as a double-click completes it. Nothing here edits data directly, so the
session sees the very events a person's hand produces (headless too: napari layers need
no canvas for this).

Coordinates are data coordinates of the layer (converted to world coordinates for the
events). Uses napari's ``napari.utils.interactions`` dispatchers, as napari's own tests do;
the internals it needs (the read-only event wrapper, the ``polygon`` overlay) come from
``_napari_compat``, whose canaries in ``tests/napari/test_napari_compat.py`` drive them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._napari_compat import polygon_overlay, read_only_event

__all__ = [
    "brush_stroke",
    "click",
    "drag",
    "draw_polyline",
    "draw_rectangle",
    "labels_polygon",
    "place_points",
]


@dataclass
class _MouseEvent:
    """The fields napari's mouse callbacks read from a vispy mouse event."""

    type: str
    is_dragging: bool = False
    button: int = 1
    modifiers: list[str] = field(default_factory=list)
    position: tuple[float, ...] = (0.0, 0.0)
    pos: np.ndarray = field(default_factory=lambda: np.zeros(2))
    view_direction: list[float] | None = None
    up_direction: list[float] | None = None
    dims_displayed: list[int] = field(default_factory=lambda: [0, 1])
    delta: tuple[float, float] | None = None
    native: Any = None
    handled: bool = False


def _event(layer: Any, kind: str, point: Sequence[float], **kw: Any) -> Any:
    world = tuple(float(v) for v in layer.data_to_world(np.asarray(point, dtype=float)))
    displayed = list(range(len(world)))[-2:]
    ev = _MouseEvent(type=kind, position=world, dims_displayed=displayed, **kw)
    return read_only_event(ev)


def drag(
    layer: Any,
    points: Sequence[Sequence[float]],
    *,
    button: int = 1,
    modifiers: Sequence[str] = (),
) -> None:
    """Press at ``points[0]``, move through the others, release at the last one."""
    from napari.utils.interactions import (
        mouse_move_callbacks,
        mouse_press_callbacks,
        mouse_release_callbacks,
    )

    pts = [list(p) for p in points]
    mods = list(modifiers)
    mouse_press_callbacks(
        layer, _event(layer, "mouse_press", pts[0], button=button, modifiers=mods)
    )
    for p in pts[1:]:
        mouse_move_callbacks(
            layer,
            _event(layer, "mouse_move", p, is_dragging=True, button=button, modifiers=mods),
        )
    mouse_release_callbacks(
        layer, _event(layer, "mouse_release", pts[-1], button=button, modifiers=mods)
    )


def click(layer: Any, point: Sequence[float], *, button: int = 1) -> None:
    """A click (press and release at one point)."""
    drag(layer, [point], button=button)


def brush_stroke(
    layer: Any,
    points: Sequence[Sequence[float]],
    *,
    label: int | None = None,
    size: float | None = None,
    erase: bool = False,
) -> None:
    """One stroke of napari's brush (``erase``: its eraser) through ``points``."""
    if label is not None:
        layer.selected_label = int(label)
    if size is not None:
        layer.brush_size = size
    layer.mode = "erase" if erase else "paint"
    drag(layer, points)


def draw_rectangle(layer: Any, corner: Sequence[float], opposite: Sequence[float]) -> None:
    """Drag napari's rectangle tool on a Shapes layer from ``corner`` to ``opposite``."""
    layer.mode = "add_rectangle"
    drag(layer, [corner, opposite])
    layer.mode = "pan_zoom"


def draw_polyline(layer: Any, vertices: Sequence[Sequence[float]]) -> None:
    """Click ``vertices`` with napari's polyline tool on a Shapes layer, then finish it.

    As a person does: the cursor moves to each vertex (the vertex following the cursor
    goes there) and clicks; a double-click on the last vertex finishes the path. Each click
    has its own screen position, as napari ignores a click where the previous one was.
    """
    from napari.utils.interactions import (
        mouse_double_click_callbacks,
        mouse_move_callbacks,
        mouse_press_callbacks,
    )

    layer.mode = "add_polyline"
    for k, v in enumerate(vertices):
        if k:
            near = np.array([k - 0.5, 0.0])
            mouse_move_callbacks(layer, _event(layer, "mouse_move", v, pos=near))
        mouse_press_callbacks(layer, _event(layer, "mouse_press", v, pos=np.array([k, 0.0])))
    last = np.array([len(vertices) - 1, 0.0])
    mouse_double_click_callbacks(
        layer, _event(layer, "mouse_double_click", vertices[-1], pos=last)
    )
    layer.mode = "pan_zoom"


def place_points(layer: Any, points: Sequence[Sequence[float]]) -> None:
    """Click each of ``points`` with napari's point tool on a Points layer."""
    layer.mode = "add"
    for p in points:
        click(layer, p)
    layer.mode = "pan_zoom"


def labels_polygon(
    layer: Any, vertices: Sequence[Sequence[float]], *, label: int | None = None
) -> None:
    """Click ``vertices`` in napari's Labels polygon mode and complete the polygon.

    The vertices (data coordinates, pixel centres at ``+0.5`` as napari places them)
    become the points of the layer's ``polygon`` overlay, which then fills them into the
    layer, as napari's double-click does.
    """
    if label is not None:
        layer.selected_label = int(label)
    layer.mode = "polygon"
    overlay = polygon_overlay(layer)
    if overlay is None:
        raise TypeError(f"layer {layer.name!r} has no polygon mode (a Labels layer has one)")
    overlay.points = [list(map(float, v)) for v in vertices]
    overlay.add_polygon_to_labels(layer)
