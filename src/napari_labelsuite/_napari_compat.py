"""Every use of napari internals, in one place.

napari has no public API for a few things this plugin needs: the Labels undo history (to
undo instance tables together with pixels), the paint-history atoms (to track which chunks
of a mask store changed), the real viewer behind the proxy a dock widget receives, and the
Qt main window (to ask before the window closes with unsaved store edits). Each such use is
one small function here, and ``tests/napari/test_napari_compat.py`` has one canary test per
assumption, so a napari release that changes one fails there, by name, rather than deep in a
feature.

Where napari has a public API it is used instead, also through this module so that every
part does the same thing: the camera of the scene (``viewer.scene.camera`` since 0.9, the
old ``viewer.camera`` before), the canvas size (``viewer.canvas.size``) and the window size
(``viewer.window.resize``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import napari
    from napari.layers import Labels

__all__ = [
    "camera",
    "canvas_size",
    "fit_partial_label_updates",
    "is_masked_paint_atom",
    "main_window",
    "paint_atoms",
    "point_placed_by_hand",
    "points_dragged_by_hand",
    "polygon_overlay",
    "polygon_vertices_being_filled",
    "read_only_event",
    "recolor_labels",
    "replay_labels_history",
    "resize_window",
    "shape_drawn_by_hand",
    "small_vectors_thumbnail",
    "undo_redo_deques",
    "unwrap_viewer",
]


# -- viewer -------------------------------------------------------------------------------
def unwrap_viewer(viewer: Any) -> Any:
    """The real viewer behind napari's ``PublicOnlyProxy`` (dock widgets receive the proxy).

    Assumption (canary ``test_proxy_wraps_the_viewer``): the proxy keeps the wrapped object
    in ``__wrapped__``.
    """
    return getattr(viewer, "__wrapped__", viewer)


def camera(viewer: napari.Viewer) -> Any:
    """The camera of the viewer's scene (public API; ``viewer.camera`` before napari 0.9)."""
    scene = getattr(viewer, "scene", None)
    return scene.camera if scene is not None else viewer.camera


def canvas_size(viewer: napari.Viewer, default: tuple[int, int] | None = None) -> tuple[int, int]:
    """``(height, width)`` of the canvas in screen pixels (public ``viewer.canvas.size``).

    ``default`` is returned for a viewer without a canvas (a headless ``ViewerModel``);
    without it such a viewer raises ``AttributeError``.
    """
    canvas = getattr(viewer, "canvas", None)
    size = getattr(canvas, "size", None)
    if not size:
        if default is None:
            raise AttributeError(f"{type(viewer).__name__} has no canvas")
        return int(default[0]), int(default[1])
    h, w = size
    return int(h), int(w)


def main_window(viewer: Any) -> Any:
    """The Qt main window of a viewer (None headless or without a window).

    Assumption (canary ``test_main_window_is_a_qmainwindow``): ``viewer.window._qt_window``
    is the ``QMainWindow`` whose ``closeEvent`` closes the viewer; the close guard of the
    mask store installs an event filter on it.
    """
    window = getattr(unwrap_viewer(viewer), "window", None)
    return getattr(window, "_qt_window", None)


def resize_window(viewer: napari.Viewer, width: int, height: int) -> None:
    """Resize the main window (public ``viewer.window.resize``)."""
    viewer.window.resize(width, height)


# -- Labels history -----------------------------------------------------------------------
def undo_redo_deques(layer: Labels) -> tuple[Any, Any] | None:
    """The undo and redo deques of a Labels layer, or None for another history layout.

    Assumption (canary ``test_labels_history_is_two_deques_of_atom_lists``): each deque
    holds one list of history atoms per undo step; ``undo()`` moves the newest step from
    the undo deque to the redo deque (the same atom objects) and ``redo()`` back.
    """
    undo = getattr(layer, "_undo_history", None)
    redo = getattr(layer, "_redo_history", None)
    if not isinstance(undo, Iterable) or not isinstance(redo, Iterable):
        return None
    return undo, redo


def replay_labels_history(layer: Labels, undoing: bool) -> None:
    """``Labels.undo`` (``undoing``) or ``Labels.redo`` that re-maps only the changed box.

    napari's undo and redo write a step's atoms into the data and then refresh the whole
    layer: on a large lazy (zarr, dask) layer that re-reads and re-maps the whole slice
    (seconds at 20000^2). Here each atom is written the way napari writes it (the same
    backend calls), then only the atom's bounding box is read back (basic slicing) into the
    view and mapped to colours, and the changed part of the texture is updated once at the
    end. The step moves between the deques exactly as napari moves it (the same atom
    objects, reversed), so both histories are what napari's methods leave. Falls back to
    napari's method for views that depend on more than the changed pixels (contours, the
    selected label alone, a multiscale layer) and for another history layout.

    Assumptions (canary ``test_replay_labels_history_matches_napari_undo``): as for
    ``undo_redo_deques``; atoms are ``data_setitem`` tuples or masked paint atoms (see
    ``is_masked_paint_atom``) that ``Labels._replay_masked_atom`` writes; the slice holds
    ``raw`` data and its colour ``view`` over the displayed axes in ``slice_input.order``;
    ``_accumulate_updated_slice`` and ``_partial_labels_refresh`` show a changed part.
    """
    import numpy as np

    deques = undo_redo_deques(layer)
    if (
        deques is None
        or getattr(layer, "multiscale", False)
        or getattr(layer, "contour", 0) != 0
        or getattr(layer, "show_selected_label", False)
        or not hasattr(layer, "_partial_labels_refresh")
    ):
        (type(layer).undo if undoing else type(layer).redo)(layer)
        return
    source, target = deques if undoing else deques[::-1]
    if not len(source):
        return
    item = source.pop()
    target.append(list(reversed(item)))
    for atom in reversed(item):
        if is_masked_paint_atom(atom):
            layer._replay_masked_atom(atom, undoing)
            box = tuple(atom.slice_key)
        else:
            idx, old, new = atom
            layer.data[idx] = old if undoing else new
            idx = [np.asarray(i).ravel() for i in idx]
            if not idx or not idx[0].size:
                continue
            box = tuple(slice(int(i.min()), int(i.max()) + 1) for i in idx)
        _show_box(layer, box)
    layer._partial_labels_refresh()


def _show_box(layer: Labels, box: tuple[slice, ...]) -> None:
    """Read ``box`` of the data into the layer's current slice and mark it for refresh."""
    import numpy as np

    slice_input = layer._slice.slice_input
    point = layer._get_pt_not_disp()
    if any(not (box[ax].start <= pos < box[ax].stop) for ax, pos in point.items()):
        return  # the change is in another plane: the next slice reads it
    shown = [ax for ax in slice_input.order if ax not in point]
    key = tuple(point[ax] if ax in point else box[ax] for ax in range(len(box)))
    region = np.asarray(layer.data[key])
    region = region.transpose([sorted(shown).index(ax) for ax in shown])
    where = tuple(box[ax] for ax in shown)
    layer._slice.image.raw[where] = region
    layer._slice.image.view[where] = layer.colormap._data_to_texture(region)
    layer._accumulate_updated_slice(box)


def recolor_labels(
    layer: Labels, set_colormap: Callable[[], None], gone: Iterable[int] = ()
) -> bool:
    """Run ``set_colormap()`` (it assigns ``layer.colormap``) without re-slicing the view.

    napari's colormap setter refreshes the whole layer: on a large lazy (zarr, dask) layer
    that re-reads and re-maps the whole slice (seconds at 20000^2). When the labels already
    in the view keep their texture values under the new colormap (always for 8/16-bit
    labels; for wider ones while the colour-to-texture mapping of the known labels is
    unchanged, e.g. when colours of new labels are added), the view is still right and only
    pixels written afterwards need mapping, which ``data_setitem`` and ``paint`` do.
    ``gone``: labels that have no pixels any more (e.g. the object an undo just removed);
    their texture values need not be kept. Returns True when it could skip the refresh,
    False after a full refresh.

    Assumption (canary ``test_recolor_labels_skips_the_refresh_and_keeps_the_view``):
    ``Layer._block_refresh()`` suppresses ``refresh``; a Labels view holds
    ``colormap._data_to_texture(raw)`` in ``_slice.image.view``.
    """
    old = layer.colormap
    with layer._block_refresh():
        set_colormap()
    if _texture_kept(old, layer.colormap, layer._slice.image.raw.dtype, set(gone)):
        return True
    layer.refresh(extent=False)
    return False


def fit_partial_label_updates(viewer: Any, layer: Labels) -> bool:
    """Let partial updates of ``layer`` reach its texture when napari downsampled it.

    A single-resolution Labels slice larger than the GPU's largest texture (16384 under
    Mesa) is shown through a texture napari downsamples by striding. napari's handler of
    partial updates (painting, ``data_setitem``) then re-slices the whole layer: a full
    read of a large lazy layer per stroke. This replaces that handler, for this layer, by
    one that writes the strided part of the updated patch into the texture. Returns True
    when the handler is in place (idempotent), False without a canvas or visual.

    Assumptions (canary ``test_fit_partial_label_updates_writes_the_strided_patch``): the
    canvas maps layers to visuals in ``window._qt_viewer.canvas.layer_to_visual``; the
    visual connects ``_on_partial_labels_update`` to ``layer.events.labels_update``
    (events carry ``data`` and ``offset`` in view pixels) and holds the texture in
    ``node._texture``; the downsampling steps are ``layer._transforms['tile2data'].scale``
    on the displayed axes, the texture being ``view[::step, ...]``.
    """
    import weakref

    import numpy as np

    window = getattr(unwrap_viewer(viewer), "window", None)
    canvas = getattr(getattr(window, "_qt_viewer", None), "canvas", None)
    visuals = getattr(canvas, "layer_to_visual", None)
    visual = visuals.get(layer) if visuals is not None else None
    original = getattr(visual, "_on_partial_labels_update", None)
    if visuals is None or visual is None or original is None:
        return False
    if getattr(visual, "_labelsuite_fit", False):
        return True
    visual_ref, layer_ref = weakref.ref(visual), weakref.ref(layer)

    def on_update(event: Any) -> None:
        vis, lay = visual_ref(), layer_ref()
        if vis is None or lay is None or not lay.loaded:
            return
        if visuals.get(lay) is not vis:
            return  # the layer left the canvas: its visual is closed
        displayed = list(lay._slice_input.displayed)
        scale = np.asarray(lay._transforms["tile2data"].scale)[displayed]
        steps = [max(1, round(float(v))) for v in scale]
        offset = [int(v) for v in event.offset]
        raw = lay._slice.image.raw.shape[-len(steps) :]
        strided = tuple(-(-int(n) // st) for n, st in zip(raw, steps))
        texture = tuple(vis.node._texture.shape[: len(steps)])
        if all(st == 1 for st in steps) or len(steps) != len(offset) or texture != strided:
            original(event)  # not downsampled, or not drawn yet: napari's own handler
            return
        first = [(-o) % st for o, st in zip(offset, steps)]
        patch = np.asarray(event.data)[tuple(slice(k, None, st) for k, st in zip(first, steps))]
        if patch.size == 0:
            return
        at = tuple((o + k) // st for o, k, st in zip(offset, first, steps))
        vis.node._texture.scale_and_set_data(patch, copy=False, offset=at)
        vis.node.update()

    layer.events.labels_update.disconnect(original)
    layer.events.labels_update.connect(on_update)
    visual._labelsuite_fit = True
    return True


def _texture_kept(old: Any, new: Any, dtype: Any, gone: set[int] | None = None) -> bool:
    """True when every label ``old`` colours (but ``gone``) keeps its texture value in ``new``."""
    import numpy as np
    from napari.utils.colormaps import CyclicLabelColormap, DirectLabelColormap

    if getattr(old, "use_selection", False) or getattr(new, "use_selection", False):
        return False
    if type(old) is not type(new):
        return False
    if isinstance(old, CyclicLabelColormap):
        same_bg = old.background_value == new.background_value
        return bool(old is new or (same_bg and len(old.colors) == len(new.colors)))
    if not isinstance(old, DirectLabelColormap):
        return False
    dtype = np.dtype(dtype)
    if dtype.kind not in "iu":
        return False
    if dtype.itemsize <= 2:
        return True  # the texture is the raw value; only the lookup table changes
    keys = [k for k in old.color_dict if k is not None and k not in (gone or ())]
    try:
        values = np.array([*keys, 0], dtype=dtype)
    except (OverflowError, ValueError):
        return False
    before, after = old._data_to_texture(values), new._data_to_texture(values)
    return bool(before.dtype == after.dtype and np.array_equal(before, after))


def is_masked_paint_atom(atom: Any) -> bool:
    """True for the atoms ``paint``/``fill``/``paint_polygon`` record (napari >= 0.8).

    Assumption (canary ``test_paint_atoms_carry_a_box_mask_and_value``): such an atom has
    ``slice_key`` (the bounding box of the edit, a tuple of slices), ``mask`` (bool array
    over that box, or None for all of it), ``old_values`` and ``new_value``; the atoms of
    ``data_setitem`` are ``(indices, old_values, new_values)`` tuples instead.
    """
    return hasattr(atom, "slice_key") and hasattr(atom, "new_value")


def paint_atoms(event: Any) -> list[Any]:
    """The masked paint atoms of a Labels ``paint`` event (its ``value`` is a list of atoms)."""
    return [a for a in getattr(event, "value", None) or () if is_masked_paint_atom(a)]


def polygon_overlay(layer: Labels) -> Any:
    """The overlay behind a Labels layer's ``polygon`` mode.

    Assumption (canary ``test_polygon_overlay_holds_the_vertices_during_the_fill``): the
    layer keeps it under ``"polygon"`` in ``_overlays``; its ``points`` are the clicked
    vertices and ``add_polygon_to_labels(layer)`` fills them (what a double-click does).
    None when the layer has no such overlay.
    """
    return getattr(layer, "_overlays", {}).get("polygon")


def polygon_vertices_being_filled(layer: Labels) -> int:
    """Vertices of the polygon napari's Labels polygon mode is filling (0 if none).

    Assumption (canary ``test_polygon_overlay_holds_the_vertices_during_the_fill``): the
    ``polygon`` overlay of a Labels layer fills its ``points`` with ``paint_polygon`` and
    clears them only afterwards, so during that ``paint`` event they are the vertices the
    person clicked.
    """
    points = getattr(polygon_overlay(layer), "points", None)
    return len(points) if points else 0


def shape_drawn_by_hand(layer: Any) -> bool:
    """True while napari's drawing tools create a shape on a Shapes layer.

    Assumption (canary ``test_shapes_added_by_drawing_tools_are_marked``): the drawing
    tools set ``_is_creating`` from the press until after the ``data`` event with action
    ``added``; ``add``/``add_rectangles`` from code emit ``added`` with it unset.
    """
    return bool(getattr(layer, "_is_creating", False))


def point_placed_by_hand(layer: Any) -> bool:
    """True while napari's point tool adds a point to a Points layer.

    Assumption (canary ``test_points_added_by_the_point_tool_are_marked``): napari's
    ``add`` mouse callback calls ``Points.add`` only in mode ``"add"``, so an ``added``
    data event seen in that mode is a click; points added from code in another mode
    (pan/zoom, select) are not.
    """
    return str(getattr(layer, "mode", "")) == "add"


def points_dragged_by_hand(layer: Any) -> bool:
    """True while napari's select tool finishes dragging points of a Points layer.

    Assumption (canary ``test_points_dragged_by_the_select_tool_are_marked``): the select
    tool emits one ``changed`` data event on release, while the layer's ``_drag_start`` is
    still set (it is cleared right after); setting ``data`` from code leaves it ``None``.
    """
    return getattr(layer, "_drag_start", None) is not None


def small_vectors_thumbnail(layer: Any, n: int = 128) -> None:
    """Draw at most ``n`` vectors into a Vectors layer's thumbnail.

    Assumption (canary ``test_vectors_thumbnail_draws_at_most_max_vectors``): napari
    redraws the thumbnail on every ``data`` change from up to ``_max_vectors_thumbnail``
    (1024) vectors, one Python ``linspace`` each: ~80 ms of a skeleton rebuild of 13,000
    edges; a thumbnail needs no more than a few hundred.
    """
    if hasattr(type(layer), "_max_vectors_thumbnail"):
        layer._max_vectors_thumbnail = int(n)


# -- mouse events -------------------------------------------------------------------------
def read_only_event(event: Any) -> Any:
    """``event`` wrapped as napari wraps the vispy events it hands to mouse callbacks.

    Assumption (canary ``test_mouse_callbacks_get_read_only_events``): napari passes
    callbacks a ``napari.utils._proxies.ReadOnlyWrapper`` that refuses attribute writes
    except ``handled``; driving napari's tools with synthetic events needs the same.
    """
    from napari.utils._proxies import ReadOnlyWrapper

    return ReadOnlyWrapper(event, exceptions=("handled",))
