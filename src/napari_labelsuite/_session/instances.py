"""Instance tools (split, merge, relabel, clean) on the session's instance layers, undoable.

Each method runs one :mod:`napari_labelsuite.core.instances` operation on a Labels layer
(``layer=``, else the active instance layer, else the selected Labels layer), writes only the
pixels that change through ``Labels.data_setitem`` inside ``block_history`` (one Ctrl-Z undoes
the whole operation, in nD too) and keeps the instance -> class table consistent: parts of a
split object inherit its class, merging objects of different classes needs ``cls``; rows of
removed ids leave the table (unless the operation was limited to a region, where the object
may live on outside it). Undo and redo of such a step (``layer.undo()`` / ``layer.redo()``,
what Ctrl-Z / Ctrl-Shift-Z call) bring back the table of that pixel state, see
:class:`_TableUndo`.
"""

from __future__ import annotations

import copy
import functools
import weakref
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, cast

import numpy as np

from .._napari_compat import recolor_labels, replay_labels_history, undo_redo_deques
from ..core import instances as core
from ..core.annotation import ObjectInfo
from ..core.errors import InstanceError, SessionError
from ..core.instances import chunked
from ..core.instances.edits import max_size_arg
from ..core.store.edits import apply_instance_edit
from .host import SessionPart
from .layers import META_KEY, _layer_data, role_of

Region = tuple[slice, ...]


def _atom_key(atom: Any) -> Any:
    """The old-values array of a napari ``data_setitem`` history atom (None for others)."""
    if isinstance(atom, tuple) and len(atom) == 3 and isinstance(atom[1], np.ndarray):
        return atom[1]
    return None


@dataclass
class _Step:
    """The table change of one instance operation: rows before and after (None: no row)."""

    marker: weakref.ref  # old values of the step's first atom in napari's Labels history
    action: str
    before: dict[int, ObjectInfo | None]
    after: dict[int, ObjectInfo | None]
    #: what else the step changed, undone and redone with it: ``also("undo" | "redo")``
    also: Callable[[str], None] | None = None


class _TableUndo:
    """Keeps an instance layer's table in step with napari's pixel undo and redo.

    napari's Labels history holds pixels only, and ``Labels.undo``/``redo`` emit no event
    naming the step they moved. So the layer object's ``undo`` and ``redo`` (what the Ctrl-Z
    and Ctrl-Shift-Z key bindings call) are replaced, here and only here, by wrappers that
    run napari's method and then apply the table change recorded for that step. A step is
    recognised by the identity of its first atom's old-values array (``data_setitem`` atoms
    are ``(indices, old_values, new_values)``; napari moves the same atoms between its undo
    and redo deques). It is held by a weak reference, so the steps keep no pixels alive;
    steps napari no longer holds (a new edit clears the redo deque; the history limit drops
    old items) are forgotten. Steps of hand painting have no record and leave the table alone.
    """

    def __init__(self, session: Any, layer: Any) -> None:
        self._session = weakref.ref(session)
        self._layer = weakref.ref(layer)
        self._steps: list[_Step] = []
        # plain functions, not bound methods: no reference cycle through the layer. They
        # are napari's undo and redo but re-map only the changed part of the view (napari's
        # re-slice the whole layer: seconds on a large lazy one)
        self._undo = functools.partial(replay_labels_history, undoing=True)
        self._redo = functools.partial(replay_labels_history, undoing=False)
        layer.undo = self.undo
        layer.redo = self.redo
        layer.events.paint.connect(self._forget_dropped)

    @classmethod
    def of(cls, session: Any, layer: Any) -> _TableUndo | None:
        """The table history of ``layer`` (installed on first use); None without napari's."""
        found = getattr(getattr(layer, "undo", None), "__self__", None)
        if isinstance(found, cls):
            found._session = weakref.ref(session)
            return found
        if undo_redo_deques(layer) is None:
            return None  # another napari history layout: tables are not undone
        return cls(session, layer)

    def _deques(self) -> tuple[Any, Any]:
        layer = self._layer()
        if layer is None:
            return (), ()
        return undo_redo_deques(layer) or ((), ())

    def top(self) -> Any:
        """The newest item of the layer's undo history (None when empty)."""
        undo, _ = self._deques()
        return undo[-1] if len(undo) else None

    def record(
        self,
        previous_top: Any,
        before: dict,
        after: dict,
        action: str,
        also: Callable[[str], None] | None = None,
    ) -> None:
        """Remember the table change of the step just added (if the pixels made one).

        ``also(direction)`` undoes or redoes what else the step changed (e.g. the box an
        assisted object added to the boxes layer), right after the pixels and the table.
        """
        top = self.top()
        if top is None or top is previous_top or not len(top):
            return  # no pixel changed: there is no step to undo
        key = _atom_key(top[0])
        if key is None:
            return  # an atom layout this napari version does not write from data_setitem
        keys = sorted(set(before) | set(after))
        changed = [k for k in keys if before.get(k) != after.get(k)]
        if not changed and also is None:
            return
        self._steps.append(
            _Step(
                marker=weakref.ref(key),
                action=action,
                before={k: copy.deepcopy(before.get(k)) for k in changed},
                after={k: copy.deepcopy(after.get(k)) for k in changed},
                also=also,
            )
        )

    def _step_of(self, item: Any) -> _Step | None:
        keys = [_atom_key(atom) for atom in item]
        for step in reversed(self._steps):
            marker = step.marker()
            if marker is not None and any(k is marker for k in keys):
                return step
        return None

    def _forget_dropped(self, event: Any = None) -> None:
        if not self._steps:
            return
        live = {id(_atom_key(atom)) for dq in self._deques() for item in dq for atom in item}
        # a dead marker cannot match: its id may belong to a new array by now
        self._steps = [s for s in self._steps if s.marker() is not None and id(s.marker()) in live]

    def undo(self) -> None:
        """napari's ``Labels.undo`` with the table of the restored pixels."""
        self._move(self._undo, 0, "undo")

    def redo(self) -> None:
        """napari's ``Labels.redo`` with the table of the restored pixels."""
        self._move(self._redo, 1, "redo")

    def _move(self, napari_move: Any, side: int, direction: str) -> None:
        layer = self._layer()
        if layer is None:
            return
        self._forget_dropped()
        dq = self._deques()[side]
        step = self._step_of(dq[-1]) if len(dq) else None
        if step is not None:
            # the table (and with it the colours) first: the pixels the move writes are
            # then mapped with the colours of their own state
            self._apply(layer, step.before if direction == "undo" else step.after, step, direction)
        napari_move(layer)
        if step is not None and step.also is not None:
            step.also(direction)

    def _apply(self, layer: Any, rows: dict, step: _Step, direction: str) -> None:
        session = self._session()
        if session is None or role_of(layer) != "instances":
            return
        objects = session.objects(layer)
        for iid, info in rows.items():
            if info is None:
                objects.pop(iid, None)
            elif info.class_id in session.taxonomy:  # a class removed since: keep the row
                objects[iid] = copy.deepcopy(info)
        # the rows the step removes are objects without pixels now: their colours go, and
        # the view keeps the others' (no re-slice of the layer for the new colours)
        gone = [iid for iid, info in rows.items() if info is None]
        recolor_labels(layer, lambda: session._bind_instances(layer, objects), gone=gone)
        session._record(direction, layer=layer.name, of=step.action, ids=sorted(rows))


#: elements one read of the chunk-wise id scan holds (4 MiB of uint32; larger blocks were
#: slower and held more in benchmarks/assist_ids.py: 8192^2, 2**24 -> 0.6 s, 168 MiB peak)
_SCAN_ELEMS = 1 << 20


def write_edit_pixels(layer: Any, edit: Any) -> None:
    """Write the pixels ``edit`` changes into the Labels ``layer`` as one napari undo step.

    Only changed pixels go through ``Labels.data_setitem`` (cast to the layer's dtype) inside
    one ``block_history``; the layer is refreshed once at the end.
    """
    data = layer.data
    with layer.block_history():
        for idx, values in edit.changes(data):
            layer.data_setitem(idx, values.astype(data.dtype, copy=False), refresh=False)
    layer.refresh()


def _chunk_shape(data: Any) -> tuple[int, ...] | None:
    """The chunk edges of a zarr or dask array (None: not chunked)."""
    chunks = getattr(data, "chunksize", None) or getattr(data, "chunks", None)
    if chunks is None or len(chunks) != data.ndim:
        return None
    if all(isinstance(c, (int, np.integer)) for c in chunks):
        return tuple(int(c) for c in chunks)
    return None


def chunked_max(data: Any, progress: Callable[[int, int], Any] | None = None) -> int:
    """The largest value of a lazy array (0 when empty), read chunk-aligned block by block.

    Never holds more than about ``_SCAN_ELEMS`` elements (or one chunk);
    ``progress(done, total)`` after each block.
    """
    from ..core.blocks import iter_blocks

    blocks = list(iter_blocks(tuple(data.shape), _chunk_shape(data), max_elems=_SCAN_ELEMS))
    top = 0
    for i, sl in enumerate(blocks):
        block = np.asarray(data[sl])
        if block.size:
            top = max(top, int(block.max()))
        if progress is not None:
            progress(i + 1, len(blocks))
    return top


class _IdTop:
    """An upper bound of the ids in a lazy layer's data, kept up to date on every write.

    Scanned chunk-wise once; every ``data_setitem`` step (napari's paint event, also the
    session's own tools) raises it to the largest value written; a new ``layer.data``
    drops it. It never decreases, so an id it gives was never in the data.
    """

    def __init__(self, layer: Any, top: int, *, ready: bool = True) -> None:
        self.top = int(top)
        self.valid = True
        #: False while a worker still scans the data (``top`` holds only the writes)
        self.ready = ready
        self._layer = weakref.ref(layer)
        layer.events.paint.connect(self._on_paint)
        layer.events.data.connect(self._on_data)

    def _on_paint(self, event: Any = None) -> None:
        for atom in getattr(event, "value", None) or ():
            new = getattr(atom, "new_value", None)
            if new is None and isinstance(atom, tuple) and len(atom) == 3:
                new = atom[2]
            if new is not None and np.size(new):
                self.top = max(self.top, int(np.max(new)))

    def _on_data(self, event: Any = None) -> None:
        self.valid = False
        layer = self._layer()
        if layer is not None:
            layer.events.paint.disconnect(self._on_paint)
            layer.events.data.disconnect(self._on_data)


class InstancesMixin(SessionPart):
    """Instance tools (split, merge, relabel, clean) on the session's instance layers, undoable."""

    def _init_mixin(self) -> None:
        #: store label image -> the split result already written into it by the worker
        self._store_splits_written: dict[str, Any] = {}
        #: lazy (zarr/dask) Labels layer -> the bound of the ids in its data
        self._id_tops: weakref.WeakKeyDictionary[Any, _IdTop] = weakref.WeakKeyDictionary()

    # -- the id source -----------------------------------------------------------------------
    def scan_instance_ids(
        self, layer: Any = None, progress: Callable[[int, int], Any] | None = None
    ) -> int:
        """The largest id in ``layer``'s data (a Labels layer; default: the instance layer).

        An in-memory layer is read whole. A lazy (zarr/dask) layer is read chunk-wise once
        (``progress(done, total)`` per block; the GUI runs this in a worker when it adopts
        a layer) and the result is then kept up to date on every write, so later calls and
        :meth:`next_instance_id` read no pixels. A layer of an open mask store also counts
        the ids of the store's instance table (the objects outside the edit region).
        """
        layer = self.instance_target(layer)
        return self._data_id_top(layer, progress)

    def _prime_id_top(self, layer: Any) -> None:
        """Scan a lazy layer's ids when it is adopted: at once headless, in a worker thread
        with a viewer (a prompt before the worker is done scans on its own)."""
        data = _layer_data(layer)
        if isinstance(data, np.ndarray) or self._id_tops.get(layer) is not None:
            return
        if self.viewer is None:
            self._data_id_top(layer)
            return
        from napari.qt.threading import create_worker

        # listening from now on: a write while the worker reads is counted too
        pending = _IdTop(layer, 0, ready=False)
        self._id_tops[layer] = pending

        def install(top: int) -> None:
            if pending.valid:
                pending.top = max(pending.top, int(top))
                pending.ready = True

        worker = create_worker(chunked_max, data)
        worker.returned.connect(install)
        worker.start()

    def _data_id_top(self, layer: Any, progress: Callable[[int, int], Any] | None = None) -> int:
        data = _layer_data(layer)
        top = 0
        if isinstance(data, np.ndarray):
            top = int(data.max()) if data.size else 0
        else:
            known = self._id_tops.get(layer)
            if known is not None and known.valid and not known.ready:
                # asked before the adoption worker is done: scan here (writes are counted)
                known.top = max(known.top, chunked_max(data, progress))
                known.ready = True
            elif known is None or not known.valid:
                known = _IdTop(layer, chunked_max(data, progress))
                self._id_tops[layer] = known
            top = known.top
        name = (layer.metadata.get(META_KEY) or {}).get("store_label")
        st = self.store
        if name is not None and st is not None and name in st.label_names():
            top = max(top, max(st.objects(name), default=0))
        return top

    # -- targets ---------------------------------------------------------------------------
    def instance_target(self, layer: Any = None) -> Any:
        """The Labels layer an instance tool works on (see module doc)."""
        from napari.layers import Labels

        if layer is None:
            layer = self.instances
        if layer is None:
            active = getattr(getattr(self.layers, "selection", None), "active", None)
            layer = active if isinstance(active, Labels) else None
        if not isinstance(layer, Labels):
            raise SessionError(
                "select an instance (Labels) layer first", field="layer", value=layer
            )
        if layer.multiscale:
            raise SessionError(
                "instance tools edit single-resolution layers",
                where=f"layer '{layer.name}'",
                field="multiscale",
                value=True,
            )
        return layer

    def plane_region(self, layer: Any = None) -> Region:
        """The region of the viewer's current plane in ``layer`` (leading axes fixed)."""
        layer = self.instance_target(layer)
        nd = layer.data.ndim
        if nd <= 2:
            return ()
        viewer = self.require_viewer()
        point = layer.world_to_data(viewer.dims.point[-nd:])
        lead = [int(np.clip(round(float(v)), 0, n - 1)) for v, n in zip(point, layer.data.shape)]
        return tuple(slice(v, v + 1) for v in lead[: nd - 2])

    def _next_id(self, layer: Any) -> int:
        if role_of(layer) == "instances":
            return self.next_instance_id(layer)
        return self._data_id_top(layer) + 1

    def _apply_edit(
        self,
        layer: Any,
        edit: core.InstanceEdit,
        action: str,
        *,
        merge_class: int | None = None,
        new_objects: dict[int, ObjectInfo] | None = None,
        **params: Any,
    ) -> core.InstanceEdit:
        """Write ``edit`` into ``layer`` as one undo step and update its instance table.

        ``new_objects`` are table rows the edit creates or replaces (e.g. objects drawn as
        polygons); they are part of the same undo step as the pixels.
        """
        managed = role_of(layer) == "instances"
        before: Any = None
        objects: Any = None
        if managed:
            before = self.objects(layer)
            # computed first: a class conflict raises before any pixel changes. A removal
            # limited to a region may leave the object alive outside it: its row stays.
            objects = core.apply_to_objects(
                before, edit, merge_class=merge_class, prune=params.get("region") is None
            )
            objects.update(copy.deepcopy(new_objects or {}))
        undo = _TableUndo.of(self, layer) if managed else None
        top = undo.top() if undo is not None else None
        write_edit_pixels(layer, edit)
        if objects is not None:
            # also drops rows the paint listener may have added for the selected label
            if self.objects(layer) != objects:
                self.set_objects(objects, layer)
            if undo is not None:
                undo.record(top, before, objects, action)
        self._record(
            action,
            layer=layer.name,
            new_ids=sorted(edit.parents),
            removed=sorted(edit.removed),
            **params,
        )
        # one human action; the parts it made are objects it finished
        self._log_effort(
            "instance-tools",
            action,
            layer=layer,
            object_id=params.get("instance_id"),
            objects=sorted(edit.parents),
        )
        return edit

    @staticmethod
    def _coords_in(layer: Any, source: Any) -> np.ndarray | None:
        """Coordinates from an array or a Points/Shapes layer, in ``layer``'s data space."""
        if source is None:
            return None
        if hasattr(source, "data_to_world"):
            data = source.data
            if isinstance(data, list):  # Shapes: the selected shape, else the last one
                sel = sorted(getattr(source, "selected_data", ()) or ())
                data = data[sel[0]] if sel else data[-1]
            pts = [layer.world_to_data(source.data_to_world(p)) for p in np.asarray(data)]
            return np.asarray(pts, dtype=float).reshape(-1, layer.data.ndim)
        return np.asarray(source, dtype=float)

    def region_from_shapes(self, shapes: Any, layer: Any = None) -> Region:
        """The pixel box (slices of ``layer``) around the selected, else last, shape.

        ``layer`` defaults to the instance tool target; the box is clipped to its data.
        """
        layer = self.instance_target(layer)
        if shapes is None or not len(getattr(shapes, "data", ())):
            raise InstanceError("draw a region in a Shapes layer", field="region", value=None)
        pts: Any = self._coords_in(layer, shapes)
        shape = np.asarray(layer.data.shape)
        lo = np.floor(pts.min(0)).astype(int).clip(0, shape)
        hi = np.minimum(np.ceil(pts.max(0)).astype(int) + 1, shape)
        return tuple(slice(int(a), int(b)) for a, b in zip(lo, hi))

    # -- operations ------------------------------------------------------------------------
    def split_touching(
        self,
        ids: int | Iterable[int] | None = None,
        *,
        min_distance: int | None = None,
        seeds: Any = None,
        region: Region | None = None,
        layer: Any = None,
    ) -> core.InstanceEdit:
        """Split touching objects by a watershed (seeds: array or a Points layer).

        ``min_distance`` defaults to one chosen from the objects' size; peaks joined by a
        shallow saddle (a ring, a band) do not split (see :func:`core.split_touching`).
        """
        layer = self.instance_target(layer)
        pts = self._coords_in(layer, seeds)
        edit = core.split_touching(
            layer.data, ids, min_distance, pts, region=region, next_id=self._next_id(layer)
        )
        return self._apply_edit(
            layer,
            edit,
            "split_touching",
            ids=ids,
            min_distance=min_distance,
            seeds=None if pts is None else len(pts),
            region=region,
        )

    def split_by_line(self, instance_id: int, line: Any, *, layer: Any = None):
        """Cut one object along a path (an array of vertices or a Shapes layer's shape)."""
        layer = self.instance_target(layer)
        pts = self._coords_in(layer, line)
        edit = core.split_by_line(layer.data, instance_id, pts, next_id=self._next_id(layer))
        return self._apply_edit(layer, edit, "split_by_line", instance_id=instance_id)

    def split_disconnected(
        self,
        ids: Any = None,
        *,
        connectivity: int = 1,
        region: Region | None = None,
        layer: Any = None,
    ):
        """Give each connected piece of an object its own id."""
        layer = self.instance_target(layer)
        edit = core.split_disconnected(
            layer.data, ids, connectivity, region=region, next_id=self._next_id(layer)
        )
        return self._apply_edit(layer, edit, "split_disconnected", ids=ids, region=region)

    def merge_instances(
        self,
        ids: Iterable[int],
        *,
        into: int | None = None,
        cls: int | str | None = None,
        layer: Any = None,
    ):
        """Merge objects into one (``cls`` is required when their classes differ)."""
        layer = self.instance_target(layer)
        cid = None if cls is None else self.taxonomy.resolve(cls).id
        edit = core.merge(layer.data, ids, into=into)
        return self._apply_edit(layer, edit, "merge_instances", merge_class=cid, ids=ids)

    def delete_instances(
        self, ids: int | Iterable[int], *, region: Region | None = None, layer: Any = None
    ):
        """Erase objects (their pixels become background)."""
        layer = self.instance_target(layer)
        edit = core.delete(layer.data, ids, region=region)
        return self._apply_edit(layer, edit, "delete_instances", ids=ids, region=region)

    def relabel_sequential(self, *, layer: Any = None):
        """Renumber the objects 1..n (the instance table follows)."""
        layer = self.instance_target(layer)
        return self._apply_edit(layer, core.relabel_sequential(layer.data), "relabel_sequential")

    def fill_holes(self, ids: Any = None, *, region: Region | None = None, layer: Any = None):
        """Fill background holes inside objects."""
        layer = self.instance_target(layer)
        edit = core.fill_holes(layer.data, ids, region=region)
        return self._apply_edit(layer, edit, "fill_holes", ids=ids, region=region)

    def remove_small(
        self,
        max_size: int | None = None,
        *,
        region: Region | None = None,
        layer: Any = None,
        min_size: int | None = None,
    ):
        """Erase objects of ``max_size`` pixels or fewer (``min_size``: its old name)."""
        layer = self.instance_target(layer)
        max_size = max_size_arg(max_size, min_size)
        edit = core.remove_small(layer.data, max_size, region=region)
        return self._apply_edit(layer, edit, "remove_small", max_size=max_size, region=region)

    def remove_border_objects(self, *, region: Region | None = None, layer: Any = None):
        """Erase objects touching the image (or region) edge."""
        layer = self.instance_target(layer)
        edit = core.remove_border_objects(layer.data, region=region)
        return self._apply_edit(layer, edit, "remove_border_objects", region=region)

    def label_components(
        self, source: Any = None, *, connectivity: int = 1, name: str = "instances"
    ):
        """A new instance layer of the connected components of a semantic layer or mask.

        Each component's class is the semantic class it lies in (binary masks give objects
        without a class).
        """
        if source is None:
            source = self.semantic
        if source is None:
            raise SessionError("there is no semantic layer to label", field="source")
        data = getattr(source, "data", source)
        lazy = hasattr(data, "shape") and not isinstance(data, np.ndarray)
        if getattr(source, "multiscale", False) or lazy:
            # np.asarray would load the whole image at once (in the GUI thread)
            raise SessionError(
                "the mask is multiscale or not in memory (zarr, dask, store): label it chunk "
                "by chunk with large_labelling_target() and iter_label_components_chunked() "
                "(the 'Label large mask (chunked)' button)",
                where=f"layer '{getattr(source, 'name', 'array')}'",
                field="source",
                value=type(data).__name__,
            )
        mask = np.asarray(data)
        labels = core.label_components(mask, connectivity)
        objects = {}
        if mask.dtype != bool and mask.max() > 1 or role_of(source) == "semantic":
            classes = core.component_classes(labels, mask)
            objects = {i: ObjectInfo(class_id=c) for i, c in classes.items()}
        layer = self.add_instance_layer(labels, name=name, objects=objects)
        self._record(
            "label_components", source=getattr(source, "name", "array"), n=int(labels.max())
        )
        self._log_effort(
            "instance-tools", "components", layer=layer, objects=range(1, int(labels.max()) + 1)
        )
        return layer

    def large_labelling_target(self, source: Any = None, store: Any = None) -> tuple[Any, Any]:
        """``(mask, out)`` for chunked labelling of a semantic layer or mask.

        ``out`` is a new zarr array with the mask's shape and chunks (uint32), written to
        ``store`` (a path or zarr store; default a new temporary directory).
        """
        import tempfile

        import zarr

        if source is None:
            source = self.semantic
        if source is None:
            raise SessionError("there is no semantic layer to label", field="source")
        mask = _layer_data(source) if hasattr(source, "multiscale") else source
        chunks = chunked._chunks_of(mask, None)
        if store is None:
            store = tempfile.mkdtemp(prefix="labelsuite-components-")
        out = zarr.create_array(
            store, shape=mask.shape, chunks=chunks, dtype=np.uint32, overwrite=True
        )
        return mask, out

    def iter_label_components_chunked(
        self, source: Any, out: Any, *, connectivity: int = 1, chunks: Any = None
    ) -> Iterator[int]:
        """Label a large (zarr / dask) mask chunk by chunk into ``out``; yields progress.

        The generator yields one step per chunk and pass (``chunked.label_steps(...)`` of
        them); stopping it cancels the work. Use for arrays larger than memory; the result is
        then opened as a layer by the caller.
        """
        mask = getattr(source, "data", source)
        yield from chunked.iter_label_components(
            mask, out, connectivity=connectivity, chunks=chunks
        )
        self._record("label_components_chunked", shape=tuple(mask.shape))

    # -- whole-image split of arrays larger than memory ------------------------------------
    def large_split_target(self, source: Any = None, out: Any = None) -> tuple[Any, Any]:
        """``(labels, out)`` for :meth:`iter_split_touching_large`.

        ``source`` is a Labels layer (e.g. zarr- or dask-backed), an array, or the name of a
        label image of the open mask store (default: the active instance layer). ``out`` is
        a writable array, ``"inplace"`` (the source's own data; not undoable) or None: a new
        zarr array in a temporary directory with the source's shape and chunks.
        """
        import tempfile

        import zarr

        if source is None:
            source = self.instance_target()
        if isinstance(source, str):
            labels = self._require_store().labels(source)
        else:
            labels = getattr(source, "data", source)
        if isinstance(out, str) and out == "inplace":
            if isinstance(source, str):
                raise SessionError(
                    "store label images are rewritten by finish_large_split; leave out=None",
                    field="out",
                    value=out,
                )
            return labels, labels
        if out is None:
            dtype = labels.dtype if np.dtype(labels.dtype).itemsize >= 4 else np.uint32
            out = zarr.create_array(
                tempfile.mkdtemp(prefix="labelsuite-split-"),
                shape=labels.shape,
                chunks=chunked._chunks_of(labels, None),
                dtype=dtype,
            )
        return labels, out

    def iter_split_touching_large(
        self,
        labels: Any,
        out: Any,
        *,
        ids: Any = None,
        min_distance: int | None = None,
        seeds: Any = None,
        next_id: int | None = None,
        chunks: Any = None,
        edit: core.InstanceEdit | None = None,
    ) -> Generator[int, None, core.InstanceEdit]:
        """Split touching objects of a large array chunk by chunk into ``out``; yields progress.

        Runs :func:`~napari_labelsuite.core.instances.chunked.iter_split_touching_chunked`
        (``count_steps(labels.shape, chunks)`` steps; stopping the generator cancels between
        batches of objects). It touches no layer, so it can run in a worker thread; then call
        :meth:`finish_large_split` with its return value (the ``InstanceEdit``).

        When ``labels`` is a label image of the open store, ``out`` is written into it and
        the store saved here, in the worker, so that only the layer swap is left for
        :meth:`finish_large_split` in the GUI thread.
        """
        edit = yield from chunked.iter_split_touching_chunked(
            labels,
            out,
            ids,
            min_distance,
            seeds,
            next_id=next_id,
            chunks=chunks,
            edit=edit,
        )
        self._record(
            "split_touching_chunked",
            shape=tuple(labels.shape),
            min_distance=min_distance,
            ids=ids,
            new_ids=len(edit.parents),
        )
        name = self._store_label_name(labels)
        if name is not None:
            self._write_store_split(name, out, edit)
        return edit

    def _store_label_name(self, labels: Any) -> str | None:
        st = self.store
        if st is None:
            return None
        return next((n for n in st.label_names() if st.labels(n) is labels), None)

    def _write_store_split(self, name: str, out: Any, edit: core.InstanceEdit) -> None:
        """Rewrite store label image ``name`` from ``out`` chunk by chunk, then save."""
        apply_instance_edit(self._require_store(), name, edit, result=out)
        self._store_splits_written[name] = out

    def finish_large_split(
        self, source: Any, out: Any, edit: core.InstanceEdit, *, name: str = "instances split"
    ) -> Any:
        """Show the result of :meth:`iter_split_touching_large` (call in the GUI thread).

        A store label image (``source`` a name) is rewritten from ``out`` chunk by chunk, its
        instance table follows and the store is saved; an edit layer of it is reloaded. A
        layer split in place is refreshed and its table updated; otherwise ``out`` becomes a
        new instance layer whose parts keep their classes. Returns the layer (or None).
        """
        if source is None:
            source = self.instance_target()
        if isinstance(source, str):
            return self._finish_store_split(source, out, edit)
        data = getattr(source, "data", source)
        managed = role_of(source) == "instances"
        objects = self.objects(source) if managed else {}
        objects = core.apply_to_objects(objects, edit) if objects else {}
        if out is data:
            if hasattr(source, "refresh"):
                # written past napari's paint events: the id bound is read again when asked
                known = self._id_tops.get(source)
                if known is not None:
                    known._on_data()
                source.refresh()
                if managed:
                    self.set_objects(objects, source)
            return source if hasattr(source, "refresh") else None
        return self.add_instance_layer(out, name=name, objects=objects)

    def _finish_store_split(self, name: str, out: Any, edit: core.InstanceEdit) -> Any:
        st = self._require_store()
        if self._store_splits_written.pop(name, None) is not out:
            self._write_store_split(name, out, edit)  # the generator ran on another array
            self._store_splits_written.pop(name, None)
        la = st.labels(name)
        shown = None
        for layer in list(self.layers):
            meta = (getattr(layer, "metadata", None) or {}).get(META_KEY) or {}
            if meta.get("store_label") != name:
                continue
            origin = [int(round(t)) for t in layer.translate]
            window = tuple(slice(o, o + n) for o, n in zip(origin, layer.data.shape))
            layer.data = np.asarray(la[window])
            if role_of(layer) == "instances":
                self.set_objects(st.objects(name), layer)
            region = self._regions.get(name)
            if region is not None and region.layer is layer:
                region.mark_clean()  # it shows what was just saved
            shown = layer
        return shown

    def split_touching_large(
        self, source: Any = None, out: Any = None, **kw: Any
    ) -> tuple[Any, core.InstanceEdit]:
        """Run the whole-image chunked split to the end (scripts); returns ``(layer, edit)``.

        ``source``/``out`` as in :meth:`large_split_target` (default source: the store label
        image behind the active edit region, else the active instance layer); keywords as
        in :meth:`iter_split_touching_large`.
        """
        if source is None:
            source = self.large_split_source() or self.instance_target()
        if isinstance(source, str) and self.store is not None:
            self.save_store()  # edits of an open edit region are part of the input
        labels, out = self.large_split_target(source, out)
        kw["seeds"] = self.large_split_seeds(source, kw.get("seeds"))
        edit = chunked._drain(self.iter_split_touching_large(labels, out, **kw))
        return self.finish_large_split(source, out, edit), edit

    def large_split_source(self, layer: Any = None) -> Any:
        """What a whole-image split of ``layer`` should run on chunk by chunk, or None.

        The store label image behind an edit region (its name), a layer whose data is not
        in memory (zarr, dask), or None when the in-memory (undoable) split fits.
        """
        layer = self.instance_target(layer)
        name = ((layer.metadata or {}).get(META_KEY) or {}).get("store_label")
        st = self.store
        in_store = bool(name) and st is not None and name in st
        if in_store and tuple(cast(Any, st).labels(name).shape) != tuple(layer.data.shape):
            return name
        return None if isinstance(layer.data, np.ndarray) else layer

    def large_split_seeds(self, source: Any, seeds: Any) -> np.ndarray | None:
        """Seed coordinates (an array or a Points layer) in the pixels of ``source``."""
        if seeds is None or not hasattr(seeds, "data_to_world"):
            return None if seeds is None else np.asarray(seeds, dtype=float)
        if hasattr(source, "world_to_data"):
            return self._coords_in(source, seeds)
        # a store label image: world coordinates are its full-resolution pixels
        return np.asarray([seeds.data_to_world(p) for p in np.asarray(seeds.data)], float)
