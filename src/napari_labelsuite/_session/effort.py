"""Session part: the labeling-effort log (what each annotation action cost a person).

Every session method that creates or changes annotations calls :meth:`_log_effort` once per
human action (a click, a stroke, a box, an accepted object, ...). Human actions made with
napari's own tools on managed layers are logged by listeners installed here:

* a brush stroke, fill or erase on a semantic or instance Labels layer (one napari
  ``paint`` event of mask-based history atoms, i.e. ``paint``/``fill``/``paint_polygon``;
  writes through ``data_setitem`` are programmatic and logged by the method making them),
  with the pixels it changed; in Labels polygon mode, one ``vertex`` action per vertex;
* a box (or polygon) drawn by hand on a managed boxes Shapes layer, a box moved or
  reshaped (``correction``) and boxes deleted (``delete``);
* a path drawn by hand on a managed polylines Shapes layer (route ``polyline``, one
  ``vertex`` action per vertex of the finished path), moved or reshaped, deleted;
* a point placed with napari's point tool on a managed points layer (route ``points``,
  one ``point`` action per click, each point an object) or keypoints layer (route
  ``keypoints``, attributed to the keypoint set of the new point), points moved
  (``correction``) and deleted (``delete``).

Records go to ``effort.jsonl`` beside the provenance log of the open dataset or mask store
(see :mod:`napari_labelsuite.core.effort`); without one they are kept in memory and written
into the first log that becomes available. :meth:`effort` is the table.
"""

from __future__ import annotations

import contextlib
import time
import warnings
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from psygnal import Signal

from .._napari_compat import (
    paint_atoms,
    point_placed_by_hand,
    points_dragged_by_hand,
    polygon_vertices_being_filled,
    shape_drawn_by_hand,
)
from ..core.effort import (
    EFFORT_FILE,
    IDLE_SECONDS,
    ROUTES,
    EffortLog,
    EffortRecord,
    ReadPosition,
    effort_plot,
    effort_table,
    object_effort,
    records_frame,
)
from ..core.errors import EffortLogError
from .events import emit
from .host import SessionPart
from .layers import role_of

__all__ = ["ROUTES", "EffortMixin"]

#: provenance actions after which the effort log is forced to disk
_SYNC_ON = ("save", "save_store", "close_store", "export_dataset")


class EffortMixin(SessionPart):
    """Counts human actions per route, object, class, image and annotator.

    Examples
    --------
    In napari's console (``labelsuite`` is the session)::

        labelsuite.effort()                        # by route and annotator
        labelsuite.effort(by="image")              # or "class", "action", ["route", "image"]
        labelsuite.effort_objects()                # one row per finished object
        labelsuite.effort_plot("effort.svg")       # effort per object over time (or .png)
    """

    #: ``(record)`` after each logged action (an :class:`EffortRecord`)
    effort_logged = Signal(object)

    def _init_mixin(self) -> None:
        self._effort_unsaved: list[EffortRecord] = []
        #: the clock of the records (tests and simulations replace it)
        self._effort_clock: Callable[[], float] = time.time
        self._effort_quiet_depth = 0
        self._effort_hooks: dict[int, Any] = {}
        self._effort_reported: set[str] = set()
        self._effort_problems: list[EffortLogError] = []
        #: (log path, where reading stopped, the records read so far): reads only what
        #: was appended since, so a long log is cheap to follow
        self._effort_cache: tuple[Path, ReadPosition, list[EffortRecord]] | None = None
        #: gaps between two actions longer than this (seconds) are pauses, not work
        self.effort_idle_seconds: float = IDLE_SECONDS
        self.provenance_recorded.connect(self._effort_on_provenance)

    # -- the entry point ----------------------------------------------------------------------
    def _log_effort(
        self,
        route: str,
        action: str,
        *,
        count: int = 1,
        pixels: int = 0,
        layer: Any = None,
        object_id: int | None = None,
        class_id: int | None = None,
        image: str | None = None,
        finished: bool = False,
        objects: Iterable[int] | None = None,
    ) -> None:
        """Log ``count`` human actions of kind ``action`` (e.g. ``"click"``, ``"stroke"``,
        ``"vertex"``, ``"box"``, ``"accept"``, ``"correction"``, ``"scribble"``,
        ``"interpolate"``) made through ``route`` (one of :data:`ROUTES`).

        ``finished=True`` marks ``object_id`` as an object finished by this action;
        ``objects`` lists further objects one action finished at once (bulk tools).
        ``layer`` (a layer or its name) and ``image`` (default: the image shown) say where.

        Call it once per human action, after the change succeeded. A method that writes
        through ``Labels.paint``/``fill``/``paint_polygon`` or draws shapes with napari's
        drawing state would also be seen by the hand-edit listeners: wrap those writes in
        ``with self._effort_quiet():`` (``data_setitem`` and ``Shapes.add_*`` are not seen).

        Raises
        ------
        EffortLogError
            For an unknown route or a negative count (a programming error of the caller).
        """
        if route not in ROUTES:
            raise EffortLogError(f"route must be one of {ROUTES}", field="route", value=route)
        if int(count) < 0 or int(pixels) < 0:
            raise EffortLogError(
                "count and pixels must be >= 0", field="count", value=(count, pixels)
            )
        rec = EffortRecord(
            time=float(self._effort_clock()),
            route=route,
            action=str(action),
            count=int(count),
            pixels=int(pixels),
            annotator=str(self.user),
            image=image if image is not None else self._effort_image(),
            layer=layer if isinstance(layer, str) or layer is None else str(layer.name),
            object_id=None if object_id is None else int(object_id),
            class_id=None if class_id is None else int(class_id),
            finished=bool(finished),
            objects=tuple(int(i) for i in objects or ()),
        )
        self._effort_unsaved.append(rec)
        self._effort_flush()
        emit(self.effort_logged, rec)

    @contextlib.contextmanager
    def _effort_quiet(self) -> Iterator[None]:
        """Inside, napari paint and shape events are not logged as hand edits.

        For session methods that write through ``Labels.paint``/``fill``/``paint_polygon``
        or add shapes while drawing, and log their own action with :meth:`_log_effort`.
        """
        self._effort_quiet_depth += 1
        try:
            yield
        finally:
            self._effort_quiet_depth -= 1

    def _effort_image(self) -> str | None:
        """The image actions are attributed to: dataset item, store name, or Image layer."""
        item = getattr(self, "current", None)
        if item is not None:
            return str(item.key)
        store = getattr(self, "_store", None)
        path = str(getattr(store, "path", "") or "")
        if path:
            return Path(path.rstrip("/")).name
        img = getattr(self, "image", None)
        return None if img is None else str(img.name)

    # -- storage ------------------------------------------------------------------------------
    @property
    def effort_log_path(self) -> Path | None:
        """``effort.jsonl`` beside the provenance log of the open dataset or store, or None."""
        log_of = getattr(self, "_log", None)
        log = log_of() if log_of is not None else None
        return None if log is None else Path(log.path).with_name(EFFORT_FILE)

    def _effort_flush(self) -> None:
        """Append the records not yet stored to the log (kept in memory without one)."""
        path = self.effort_log_path
        if path is None or not self._effort_unsaved:
            return
        try:
            dropped = EffortLog(path).append(self._effort_unsaved)
        except EffortLogError as exc:
            self._effort_report(exc)  # kept in memory; the data stays usable
            return
        self._effort_unsaved.clear()
        if dropped:
            self._effort_report(
                EffortLogError(
                    f"cut off an incomplete last line ({dropped} bytes) left by an "
                    "interrupted write",
                    path=path,
                )
            )

    def _effort_report(self, err: EffortLogError) -> None:
        """Warn once per problem (file and line); :meth:`effort_problems` lists them."""
        key = str(err)
        if key in self._effort_reported:
            return
        self._effort_reported.add(key)
        self._effort_problems.append(err)
        warnings.warn(f"effort log: {err}", stacklevel=3)

    def _effort_on_provenance(self, entry: dict[str, Any]) -> None:
        """On each provenance entry: a save also forces the effort log to disk."""
        if entry.get("action") in _SYNC_ON:
            path = self.effort_log_path
            if path is not None:
                self._effort_flush()
                EffortLog(path).sync()

    def effort_problems(self) -> list[EffortLogError]:
        """Problems met reading or writing the effort log (corrupt lines, foreign file)."""
        return list(self._effort_problems)

    # -- reading ------------------------------------------------------------------------------
    def effort_records(self) -> list[EffortRecord]:
        """Every logged action: the stored log (all sessions) plus those not yet stored.

        Unreadable lines are skipped and reported once as warnings naming file and line.
        """
        self._effort_flush()
        return self._effort_stored() + list(self._effort_unsaved)

    def _effort_stored(self) -> list[EffortRecord]:
        """The records of the log on disk, read incrementally (see ``_effort_cache``)."""
        path = self.effort_log_path
        if path is None:
            return []
        cache = self._effort_cache
        since = cache[1] if cache is not None and cache[0] == path else None
        new, problems, pos = EffortLog(path).read_since(since)
        for err in problems:
            self._effort_report(err)
        if pos is None:
            self._effort_cache = None
            return []
        old = cache[2] if cache is not None and since is not None and pos.start else []
        records = old + new
        self._effort_cache = (path, pos, records)
        return list(records)

    def effort(
        self,
        by: str | Sequence[str] = ("route", "annotator"),
        *,
        idle: float | None = None,
        total: bool = False,
    ) -> pd.DataFrame:
        """The effort table: objects finished, actions, pixels, active seconds, actions
        per object and seconds per object, by route and annotator.

        Parameters
        ----------
        by : str or sequence of str
            Group by ``route``, ``annotator``, ``image``, ``layer``, ``action``,
            ``class`` or ``object``.
        idle : float, optional
            Pauses longer than this many seconds are not work (default
            :attr:`effort_idle_seconds`, 60).
        total : bool
            Add a row ``"all"``.
        """
        frame = records_frame(self.effort_records(), self._idle(idle))
        return effort_table(frame, by, total=total)

    def effort_objects(self, *, idle: float | None = None) -> pd.DataFrame:
        """One row per finished object: route, when, actions and active seconds spent."""
        return object_effort(self.effort_records(), idle=self._idle(idle))

    def effort_plot(
        self, path: str | Path, *, metric: str = "seconds", idle: float | None = None
    ) -> Path:
        """Write the chart of effort per object over time (``.svg``, or ``.png`` with
        matplotlib); ``metric`` is ``"seconds"`` or ``"actions"`` per object."""
        written = effort_plot(self.effort_objects(idle=idle), path, metric=metric)
        self._record("effort_plot", path=str(written), metric=metric)
        return written

    def _idle(self, idle: float | None) -> float:
        return float(self.effort_idle_seconds if idle is None else idle)

    # -- listeners on managed layers ----------------------------------------------------------
    def _watch_effort(self, layer: Any) -> None:
        """Log hand edits of a managed layer (called when a layer is bound; idempotent)."""
        hook = self._effort_hooks.get(id(layer))
        if hook is not None and hook.layer() is layer:
            return
        role = role_of(layer)
        if role in ("semantic", "instances"):
            hook = _PaintEffort(self, layer)
            # first: before the listener that adds a newly painted id to the table
            layer.events.paint.connect(hook, position="first")
        elif role in ("boxes", "polylines", "polygons"):
            hook = _ShapesEffort(self, layer)
            layer.events.data.connect(hook)
        elif role in ("points", "keypoints"):
            hook = _PointsEffort(self, layer)
            layer.events.data.connect(hook)
        else:
            return
        self._effort_hooks[id(layer)] = hook


def _table_row(table: pd.DataFrame, object_id: int | None) -> tuple[bool, int | None]:
    """``(in the table, its class)`` of ``object_id`` in an instance table.

    Plain numpy on the columns: this runs once per stroke, pandas indexing costs ms.
    """
    if object_id is None or "index" not in table:
        return False, None
    hit = np.flatnonzero(table["index"].to_numpy() == object_id)
    if not hit.size:
        return False, None
    if "class_id" not in table:
        return True, None
    cid = table["class_id"].to_numpy()[hit[0]]
    return True, None if pd.isna(cid) else int(cid)


class _EffortListener:
    """A layer event listener that logs effort; holds the session and the layer weakly."""

    #: the layer roles whose events this listener logs
    roles: tuple[str, ...] = ()

    def __init__(self, session: Any, layer: Any) -> None:
        self.session = weakref.ref(session)
        self.layer = weakref.ref(layer)

    def _live(self) -> tuple[Any, Any, str] | None:
        """``(session, layer, role)`` while both live, the session logs and the role fits."""
        session, layer = self.session(), self.layer()
        if session is None or layer is None or session._effort_quiet_depth:
            return None
        role = role_of(layer)
        return (session, layer, role) if role in self.roles else None


class _PaintEffort(_EffortListener):
    """Logs brush strokes, fills, erasing and polygon-mode polygons on a Labels layer."""

    roles = ("semantic", "instances")

    def __call__(self, event: Any = None) -> None:
        live = self._live()
        if live is None:
            return
        session, layer, role = live
        atoms = paint_atoms(event)
        if not atoms:
            return  # data_setitem writes: the method that made them logs its action
        # an atom's old_values hold one value per pixel it changed (the masked values,
        # or its whole box when every pixel changed): their size is the count
        pixels = sum([a.old_values.size for a in atoms])
        label = int(atoms[-1].new_value)
        mode = str(getattr(layer, "mode", ""))
        route, action, count = "brush", "stroke", 1
        if mode == "polygon":
            route, action, count = (
                "polygon",
                "vertex",
                max(polygon_vertices_being_filled(layer), 1),
            )
        elif mode == "fill":
            action = "fill"
        elif label == 0 or mode == "erase":
            action = "erase"
        object_id = class_id = None
        finished = False
        if role == "semantic":
            class_id = label or None
        elif label > 0:
            object_id = label
            known, class_id = _table_row(layer.features, label)
            if not known:
                class_id = session.active_class
            finished = not known  # the first edit creates the object
        else:
            erased = np.unique(np.concatenate([np.ravel(a.old_values) for a in atoms]))
            erased = erased[erased != 0]
            object_id = int(erased[0]) if erased.size == 1 else None
            class_id = _table_row(layer.features, object_id)[1]
        session._log_effort(
            route,
            action,
            count=count,
            pixels=pixels,
            layer=layer,
            object_id=object_id,
            class_id=class_id,
            finished=finished,
        )


def _feature(layer: Any, column: str, i: int, *, zero: bool = False) -> int | None:
    """Row ``i`` of a numeric features column as an int (None if missing, NaN or 0;
    with ``zero``, 0 is a value: keypoint sets are numbered from 0, like shapes)."""
    feats = layer.features
    if column not in feats or not 0 <= i < len(feats):
        return None
    value = feats[column].iloc[i]
    try:
        return None if pd.isna(value) or (not value and not zero) else int(value)
    except (TypeError, ValueError):
        return None


class _ShapesEffort(_EffortListener):
    """Logs boxes (and polygons) or polylines drawn by hand, moved or reshaped, and deleted."""

    def __init__(self, session: Any, layer: Any) -> None:
        super().__init__(session, layer)
        self._n = len(layer.data)

    def __call__(self, event: Any = None) -> None:
        session, layer = self.session(), self.layer()
        if session is None or layer is None:
            return
        action = str(getattr(event, "action", ""))
        n_before, self._n = self._n, len(layer.data)
        role = role_of(layer)
        if session._effort_quiet_depth or role not in ("boxes", "polylines", "polygons"):
            return
        route = {"polylines": "polyline", "polygons": "polygon"}.get(str(role), "box")
        if action == "added":
            # napari emits "added" from its drawing tools while the shape is being
            # created; programmatic adds (scripts, other tools) log their own actions
            if not shape_drawn_by_hand(layer):
                return
            for i in range(n_before, self._n):
                if role == "polylines":
                    self._path_finished(session, layer, i)
                else:
                    self._drawn(session, layer, i)
        elif action == "changed":
            idx = tuple(getattr(event, "data_indices", ()) or ())
            session._log_effort(
                route,
                "correction",
                layer=layer,
                object_id=int(idx[0]) if len(idx) == 1 else None,
            )
        elif action == "removed":
            idx = tuple(getattr(event, "data_indices", ()) or ())
            session._log_effort(route, "delete", count=max(len(idx), 1), layer=layer)

    @staticmethod
    def _path_finished(session: Any, layer: Any, i: int) -> None:
        """Log a path napari finished drawing: one ``vertex`` action per vertex.

        napari's drawing tools emit ``added`` once drawing finishes (double-click,
        Escape) with the final vertices; a path of a single vertex is dropped.
        """
        session._log_effort(
            "polyline",
            "vertex",
            count=len(layer.data[i]),
            layer=layer,
            object_id=i,
            class_id=_feature(layer, "class_id", i),
            finished=True,
        )

    @staticmethod
    def _drawn(session: Any, layer: Any, i: int) -> None:
        kind = str(layer.shape_type[i])
        cid = None
        if "class_id" in layer.features and i < len(layer.features):
            value = layer.features["class_id"].iloc[i]
            cid = None if pd.isna(value) or not value else int(value)
        if kind == "polygon":
            route, action, count = "polygon", "vertex", len(layer.data[i])
        else:
            route, action, count = "box", "box", 1
        session._log_effort(
            route, action, count=count, layer=layer, object_id=i, class_id=cid, finished=True
        )


class _PointsEffort(_EffortListener):
    """Logs points or keypoints placed with napari's point tool, moved, and deleted."""

    roles = ("points", "keypoints")

    def __call__(self, event: Any = None) -> None:
        live = self._live()
        if live is None:
            return
        session, layer, role = live
        route = "keypoints" if role == "keypoints" else "points"
        action = str(getattr(event, "action", ""))
        idx = tuple(int(i) for i in getattr(event, "data_indices", ()) or ())
        if action == "added":
            if not point_placed_by_hand(layer) or not len(layer.data):
                return  # points added from code log their own actions
            for i in sorted({i % len(layer.data) for i in idx}):
                # a point is an object; a keypoint belongs to its keypoint set
                obj = i if role == "points" else _feature(layer, "object", i, zero=True)
                session._log_effort(
                    route,
                    "point",
                    layer=layer,
                    object_id=obj,
                    class_id=_feature(layer, "class_id", i),
                    finished=role == "points",
                )
        elif action == "changed" and idx and points_dragged_by_hand(layer):
            # napari's select tool moved points (setting ``data`` from code is not a move)
            session._log_effort(
                route,
                "correction",
                count=len(idx),
                layer=layer,
                object_id=idx[0] if len(idx) == 1 and role == "points" else None,
            )
        elif action == "removed":
            session._log_effort(route, "delete", count=max(len(idx), 1), layer=layer)
