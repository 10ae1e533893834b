"""Session part: interpolation and propagation across slices and frames, and tracking.

Every labeling action here is one session method that runs a pure function of
:mod:`napari_labelsuite.core.interpolate` and then

* writes the result into the Labels layer through ``Labels.data_setitem`` inside
  ``block_history``: **one undo step** in napari's history (Ctrl-Z), touching only the
  pixels that change (background pixels set to an object's id; tracking relabels);
* adds **one provenance entry** (``self._record``) and **one effort-log entry**
  (routes ``"interpolation"``, ``"propagation"`` and ``"tracking"``).

Whole-volume work can run in a worker thread: the ``iter_*`` methods only read the layer and
yield progress, returning an edit that the matching ``apply_*`` method writes in the GUI
thread (the plain methods do both, for scripts).

Boxes live in Shapes layers, which have no undo history in napari: :meth:`interpolate_boxes`
keeps the boxes it replaced, and :meth:`undo_boxes` puts them back (one step per call).
"""

from __future__ import annotations

import weakref
from collections.abc import Generator, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from ..core import interpolate as core
from ..core.annotation import ObjectInfo
from ..core.boxes import boxes_to_napari
from ..core.errors import InterpolateError, SessionError
from ..core.formats import ctc
from ..core.instances import InstanceEdit
from ..core.interpolate._common import drain
from ..core.tables import boxes_frame
from .host import SessionPart
from .instances import _TableUndo, write_edit_pixels
from .layers import _layer_data, role_of

__all__ = ["InterpolateMixin"]


def _edit_pixels(edit: InstanceEdit) -> int:
    return int(
        sum(int(p.mask.sum()) if p.mask is not None else p.values.size for p in edit.patches)
    )


class InterpolateMixin(SessionPart):
    """Interpolate masks and boxes between keyframes, propagate objects, track over time."""

    def _init_mixin(self) -> None:
        #: id(boxes layer) -> earlier (data, features) states, newest last (undo_boxes)
        self._box_history: dict[int, list[tuple[list[np.ndarray], Any]]] = {}
        #: id(boxes layer) -> its keyframe listener
        self._keyframe_hooks: dict[int, _KeyframeHook] = {}

    # -- inputs ----------------------------------------------------------------------------
    def _interp_image(self, image: Any, layer: Any) -> Any:
        """Intensities for ``layer``: an Image layer's (full-resolution) data or an array."""
        if image is None:
            return None
        if hasattr(image, "data") and hasattr(image, "rgb"):
            data = _layer_data(image)
            if image.rgb:
                raise InterpolateError(
                    "use a single-channel image (RGB is not supported)",
                    where=f"layer '{image.name}'",
                    field="image",
                    value=tuple(data.shape),
                )
            image = data
        if tuple(image.shape) != tuple(layer.data.shape):
            raise InterpolateError(
                f"the image must have the labels' shape {tuple(layer.data.shape)}",
                where=f"layer '{layer.name}'",
                field="image",
                value=tuple(image.shape),
            )
        return image

    def _selected_id(self, layer: Any, label_id: Any) -> int:
        iid = int(layer.selected_label) if label_id is None else int(label_id)
        if iid <= 0:
            raise InterpolateError(
                "select an object (its label) first", field="label_id", value=iid
            )
        return iid

    def current_plane(self, axis: int = 0, layer: Any = None) -> int:
        """The viewer's current index along ``axis`` of ``layer`` (the instance target)."""
        layer = self.instance_target(layer)
        nd = layer.data.ndim
        if not -nd <= axis < nd:
            raise InterpolateError(f"axis out of range 0..{nd - 1}", field="axis", value=axis)
        viewer = self.require_viewer()
        point = layer.world_to_data(viewer.dims.point[-nd:])
        n = layer.data.shape[axis]
        return int(np.clip(round(float(point[axis])), 0, n - 1))

    def _class_of(self, layer: Any, iid: int | None) -> int | None:
        if iid is None or role_of(layer) != "instances":
            return None
        info = self.objects(layer).get(iid)
        return None if info is None else info.class_id

    def _write_edit(
        self,
        layer: Any,
        edit: InstanceEdit,
        action: str,
        *,
        objects: dict[int, ObjectInfo] | None = None,
        **params: Any,
    ) -> None:
        """Write ``edit`` as one undo step (with the table ``objects`` after it, if given).

        Only pixels that change are written, through ``Labels.data_setitem`` in one
        ``block_history``; the table change is recorded for Ctrl-Z / Ctrl-Shift-Z. One
        provenance entry ``action`` with ``params``.
        """
        managed = role_of(layer) == "instances"
        before = self.objects(layer) if managed else {}
        after = before if objects is None else objects
        undo = _TableUndo.of(self, layer) if managed and objects is not None else None
        top = undo.top() if undo is not None else None
        write_edit_pixels(layer, edit)
        if managed and self.objects(layer) != after:
            # the new table, or the old one again if a paint listener added a row
            self._bind_instances(layer, after)
        if undo is not None:
            undo.record(top, before, after, action)
        self._record(action, layer=layer.name, **params)

    def _write_logged_edit(
        self,
        layer: Any,
        edit: InstanceEdit,
        effort: tuple[str, str],
        object_id: int | None,
        action: str,
        **params: Any,
    ) -> None:
        """:meth:`_write_edit`, then one effort entry ``effort`` = ``(route, action)``
        with the pixels the edit changed, ``object_id`` and its class."""
        self._write_edit(layer, edit, action, **params)
        route, effort_action = effort
        self._log_effort(
            route,
            effort_action,
            count=1,
            pixels=_edit_pixels(edit),
            layer=layer,
            object_id=object_id,
            class_id=self._class_of(layer, object_id),
        )

    # -- masks between keyframes -------------------------------------------------------------
    def iter_interpolate_slices(
        self,
        label_id: int | Iterable[int] | None = None,
        *,
        axis: int = 0,
        image: Any = None,
        align: bool = True,
        band: float = 0.5,
        layer: Any = None,
    ) -> Generator[int, None, InstanceEdit]:
        """Compute an interpolation without touching the layer (for a worker thread).

        Yields 1 per object; returns the ``InstanceEdit`` for :meth:`apply_interpolation`.
        """
        layer = self.instance_target(layer)
        img = self._interp_image(image, layer)
        return (
            yield from core.iter_interpolate_slices(
                layer.data, label_id, axis, img, align=align, band=band
            )
        )

    def apply_interpolation(
        self,
        edit: InstanceEdit,
        label_id: int | Iterable[int] | None = None,
        *,
        axis: int = 0,
        image: Any = None,
        layer: Any = None,
    ) -> InstanceEdit:
        """Write an interpolation edit into the layer: one undo step, provenance, effort."""
        layer = self.instance_target(layer)
        single = label_id if label_id is None or np.isscalar(label_id) else None
        self._write_logged_edit(
            layer,
            edit,
            ("interpolation", "interpolate"),
            None if single is None else int(single),
            "interpolate_slices",
            label_id=label_id,
            axis=axis,
            image=getattr(image, "name", None if image is None else "array"),
        )
        return edit

    def interpolate_slices(
        self,
        label_id: int | Iterable[int] | None = None,
        *,
        axis: int = 0,
        image: Any = None,
        align: bool = True,
        band: float = 0.5,
        layer: Any = None,
    ) -> InstanceEdit:
        """Fill the planes between an object's annotated planes along ``axis``.

        ``label_id`` None interpolates every object. ``image`` (an Image layer or array of
        the labels' shape) moves the contour toward the image's edges. Only background
        pixels change; one Ctrl-Z undoes it. See
        :func:`napari_labelsuite.core.interpolate.interpolate_slices`.
        """
        gen = self.iter_interpolate_slices(
            label_id, axis=axis, image=image, align=align, band=band, layer=layer
        )
        edit = drain(gen)
        return self.apply_interpolation(edit, label_id, axis=axis, image=image, layer=layer)

    # -- propagation ------------------------------------------------------------------------
    def iter_propagate(
        self,
        label_id: int | None = None,
        *,
        from_plane: int | None = None,
        axis: int = 0,
        direction: str | int = "forward",
        limit: int | None = None,
        image: Any = None,
        engine: Any = "auto",
        layer: Any = None,
    ) -> Generator[int, None, InstanceEdit]:
        """Compute a propagation without touching the layer; yields 1 per plane."""
        layer = self.instance_target(layer)
        iid = self._selected_id(layer, label_id)
        if from_plane is None:
            from_plane = self.current_plane(axis, layer)
        img = self._interp_image(image, layer)
        return (
            yield from core.iter_propagate(
                layer.data,
                iid,
                from_plane,
                axis,
                img,
                direction=direction,
                limit=limit,
                engine=engine,
            )
        )

    def apply_propagation(
        self,
        edit: InstanceEdit,
        label_id: int | None = None,
        *,
        from_plane: int | None = None,
        axis: int = 0,
        direction: str | int = "forward",
        limit: int | None = None,
        layer: Any = None,
    ) -> InstanceEdit:
        """Write a propagation edit into the layer: one undo step, provenance, effort."""
        layer = self.instance_target(layer)
        iid = self._selected_id(layer, label_id)
        self._write_logged_edit(
            layer,
            edit,
            ("propagation", "propagate"),
            iid,
            "propagate",
            label_id=iid,
            from_plane=from_plane,
            axis=axis,
            direction=direction,
            limit=limit,
            planes=len(edit.patches),
        )
        return edit

    def propagate(
        self,
        label_id: int | None = None,
        *,
        from_plane: int | None = None,
        axis: int = 0,
        direction: str | int = "forward",
        limit: int | None = None,
        image: Any = None,
        engine: Any = "auto",
        layer: Any = None,
    ) -> InstanceEdit:
        """Carry an object from a plane to the next ones, adapted to the image.

        ``label_id`` defaults to the layer's selected label and ``from_plane`` to the
        viewer's current plane along ``axis``. ``direction`` is ``"forward"`` or
        ``"backward"``; ``limit`` the number of planes (None: until the object disappears,
        an annotated plane or the end). ``engine``: ``"auto"`` (the assist engine when
        installed, else snapping), ``"snap"``, or an assist engine. One Ctrl-Z undoes it.
        """
        layer = self.instance_target(layer)
        iid = self._selected_id(layer, label_id)
        if from_plane is None:
            from_plane = self.current_plane(axis, layer)
        gen = self.iter_propagate(
            iid,
            from_plane=from_plane,
            axis=axis,
            direction=direction,
            limit=limit,
            image=image,
            engine=engine,
            layer=layer,
        )
        edit = drain(gen)
        return self.apply_propagation(
            edit,
            iid,
            from_plane=from_plane,
            axis=axis,
            direction=direction,
            limit=limit,
            layer=layer,
        )

    # -- boxes -------------------------------------------------------------------------------
    def _set_boxes(self, layer: Any, boxes: list, action: str) -> None:
        """Replace the boxes of a layer, remembering the previous ones for undo_boxes."""
        hist = self._box_history.setdefault(id(layer), [])
        hist.append(([np.array(d, copy=True) for d in layer.data], layer.features.copy()))
        del hist[:-20]
        hook = self._keyframe_hooks.get(id(layer))
        with _muted(hook):
            layer.data = boxes_to_napari(boxes, layer.ndim)
            self._bind_boxes(layer, boxes_frame(boxes, self.taxonomy))

    def interpolate_boxes(self, *, axis: int = 0, layer: Any = None) -> list:
        """Boxes on every plane between the keyframe boxes of each track (``instance_id``).

        A box is a keyframe unless its ``keyframe`` attribute is false (boxes drawn by
        hand are keyframes); earlier interpolated boxes are replaced. After this call,
        moving or resizing an interpolated box makes it a keyframe. :meth:`undo_boxes`
        restores the boxes as they were. Returns the new list of boxes.
        """
        layer = self._require("boxes", layer)
        before = self.boxes_list(layer)
        boxes = core.interpolate_boxes(before, axis)
        self._set_boxes(layer, boxes, "interpolate_boxes")
        self.watch_box_keyframes(layer)
        n_key = sum(1 for b in boxes if b.instance_id > 0 and core.is_keyframe(b))
        made = sum(1 for b in boxes if not core.is_keyframe(b))
        self._record(
            "interpolate_boxes", layer=layer.name, axis=axis, keyframes=n_key, interpolated=made
        )
        self._log_effort("interpolation", "interpolate", count=1, layer=layer)
        return boxes

    def undo_boxes(self, layer: Any = None) -> bool:
        """Put back the boxes an interpolation replaced (one step; False if none left)."""
        layer = self._require("boxes", layer)
        hist = self._box_history.get(id(layer))
        if not hist:
            return False
        data, frame = hist.pop()
        with _muted(self._keyframe_hooks.get(id(layer))):
            layer.data = data
            self._bind_boxes(layer, frame)
        self._record("undo_boxes", layer=layer.name, n_boxes=len(data))
        return True

    def set_box_track(self, track_id: int, indices: Any = None, layer: Any = None) -> list[int]:
        """Make boxes ``indices`` (default: the selected ones) part of track ``track_id``."""
        layer = self._require("boxes", layer)
        if int(track_id) < 0:
            raise SessionError("track ids are >= 0", field="track_id", value=track_id)
        idx = self._box_indices(layer, indices)
        frame = layer.features.copy()
        frame.loc[idx, "instance_id"] = int(track_id)
        self._bind_boxes(layer, frame)
        self._record("set_box_track", layer=layer.name, indices=idx, track_id=int(track_id))
        return idx

    def mark_box_keyframes(self, indices: Iterable[int], layer: Any = None) -> None:
        """Make boxes ``indices`` keyframes (what editing an interpolated box does)."""
        layer = self._require("boxes", layer)
        idx = [int(i) for i in indices]
        frame = layer.features.copy()
        if core.KEYFRAME not in frame.columns:
            frame[core.KEYFRAME] = None
        frame[core.KEYFRAME] = frame[core.KEYFRAME].astype(object)
        for i in idx:
            frame.at[i, core.KEYFRAME] = True
        with _muted(self._keyframe_hooks.get(id(layer))):
            self._bind_boxes(layer, frame)
        self._record("mark_box_keyframes", layer=layer.name, indices=idx)

    def watch_box_keyframes(self, layer: Any = None) -> None:
        """Turn interpolated boxes that a person edits into keyframes (idempotent)."""
        layer = self._require("boxes", layer)
        if id(layer) not in self._keyframe_hooks:
            hook = _KeyframeHook(self, layer)
            layer.events.data.connect(hook)
            self._keyframe_hooks[id(layer)] = hook

    # -- tracking ----------------------------------------------------------------------------
    def iter_track_instances(
        self, *, axis: int = 0, min_iou: float = 0.1, layer: Any = None
    ) -> Generator[int, None, Any]:
        """Link objects across frames without touching the layer; yields 1 per frame.

        Returns the ``TrackingResult`` for :meth:`apply_tracking`.
        """
        layer = self.instance_target(layer)
        return (yield from core.iter_track_instances(layer.data, axis, min_iou=min_iou))

    def apply_tracking(self, result: Any, *, layer: Any = None) -> Any:
        """Give every object its track id (one undo step) and record divisions in the table.

        Each track's row takes the class of its first object (else the active class,
        else the first class) and the attributes ``track_start``, ``track_end``,
        ``parent`` and ``children``.
        """
        layer = self.instance_target(layer)
        managed = role_of(layer) == "instances"
        edit = result.to_edit(layer.data)
        if np.dtype(edit.patches[0].values.dtype if edit.patches else layer.data.dtype) != (
            layer.data.dtype
        ):
            raise InterpolateError(
                "the layer's dtype cannot hold the track ids",
                where=f"layer '{layer.name}'",
                field="dtype",
                value=str(layer.data.dtype),
            )
        objects = None
        if managed:
            default = self.active_class
            if default is None and len(self.taxonomy):
                default = self.taxonomy.ids()[0]
            objects = result.objects(self.objects(layer), default_class=default)
            self._check_objects(objects)
        divisions = result.divisions()
        self._write_edit(
            layer,
            edit,
            "track_instances",
            objects=objects,
            axis=result.axis,
            tracks=len(result.tracks),
            divisions=len(divisions),
        )
        self._log_effort("tracking", "track", count=1, layer=layer)
        return result

    def track_instances(self, *, axis: int = 0, min_iou: float = 0.1, layer: Any = None) -> Any:
        """Link the objects of a time series across frames: one id per track, divisions.

        See :func:`napari_labelsuite.core.interpolate.track_instances`. One Ctrl-Z undoes
        the relabelling (and the table). Returns the ``TrackingResult``.
        """
        result = drain(self.iter_track_instances(axis=axis, min_iou=min_iou, layer=layer))
        return self.apply_tracking(result, layer=layer)

    # -- Cell Tracking Challenge -------------------------------------------------------------
    def export_ctc(self, path: str | Path, *, result: bool = False, layer: Any = None) -> list:
        """Write the instance layer (axis 0 = time) as a Cell Tracking Challenge folder.

        Parents come from the table's ``parent`` attribute (set by tracking).
        """
        layer = self.instance_target(layer)
        parents = {}
        if role_of(layer) == "instances":
            parents = {
                iid: int(o.attributes["parent"])
                for iid, o in self.objects(layer).items()
                if o.attributes.get("parent") not in (None, 0, "")
            }
        files = ctc.write_tracks(path, _layer_data(layer), parents, result=result)
        self._record("export_ctc", layer=layer.name, path=str(path), files=len(files))
        return files

    def import_ctc(self, path: str | Path, *, name: str = "tracks", cls: Any = None) -> Any:
        """Add a Cell Tracking Challenge folder as an instance layer (tracks as objects).

        Objects get class ``cls`` (default: the class named ``cell``, added when missing)
        and the attributes ``track_start``, ``track_end`` and ``parent``.
        """
        labels, rows = ctc.read_tracks(path)
        if cls is None:
            cid = (
                self.taxonomy.by_name("cell").id
                if "cell" in self.taxonomy.names()
                else self.add_class("cell").id
            )
        else:
            cid = self.taxonomy.resolve(cls).id
        kids: dict[int, list[int]] = {}
        for lab, (_, _, p) in rows.items():
            if p:
                kids.setdefault(p, []).append(lab)
        objects = {}
        for lab, (b, e, p) in rows.items():
            attrs: dict[str, Any] = {"track_start": b, "track_end": e}
            if p:
                attrs["parent"] = p
            if lab in kids:
                attrs["children"] = " ".join(str(k) for k in sorted(kids[lab]))
            objects[lab] = ObjectInfo(class_id=cid, attributes=attrs)
        layer = self.add_instance_layer(labels, name=name, objects=objects)
        self._record("import_ctc", path=str(path), tracks=len(rows), layer=layer.name)
        self._log_effort("import", "import", count=1, layer=layer)
        return layer


class _muted:
    """Context manager that pauses a keyframe hook while the session edits boxes itself."""

    def __init__(self, hook: _KeyframeHook | None) -> None:
        self.hook = hook

    def __enter__(self) -> None:
        if self.hook is not None:
            self.hook.paused += 1

    def __exit__(self, *exc: Any) -> None:
        if self.hook is not None:
            self.hook.paused -= 1


class _KeyframeHook:
    """Marks interpolated boxes as keyframes when a person moves or resizes them."""

    def __init__(self, session: Any, layer: Any) -> None:
        self._session = weakref.ref(session)
        self._layer = weakref.ref(layer)
        self.paused = 0

    def __call__(self, event: Any = None) -> None:
        session, layer = self._session(), self._layer()
        if self.paused or session is None or layer is None:
            return
        action = getattr(event, "action", None)
        if str(getattr(action, "value", action)) != "changed":
            return
        indices = [int(i) for i in (getattr(event, "data_indices", None) or ())]
        if core.KEYFRAME not in layer.features.columns or not indices:
            return
        col = layer.features[core.KEYFRAME]
        edited = [i for i in indices if 0 <= i < len(col) and _interpolated(col.iloc[i])]
        if edited:
            session.mark_box_keyframes(edited, layer)


def _interpolated(value: Any) -> bool:
    """A ``keyframe`` cell that marks an interpolated box (false, not missing)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return False
    return not bool(value)
