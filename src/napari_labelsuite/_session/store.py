"""Zarr mask stores: open, create, save, autosave, edit regions of labels larger than RAM.

Each label image of the open store is edited through an ordinary in-memory Labels layer
(numpy, so painting, fill, erase, undo and the instance tools behave as on a small image)
that covers a *region* of the full-resolution image: the whole image when it fits in
``max_in_memory`` bytes, else a window around the current view, shown on top of a
read-only multiscale overview of the stored pyramid. Paint events push the painted
bounding box into the store's dirty chunks right away; saving (and moving the region)
also compares the region chunk by chunk, so edits without paint events (undo, redo,
scripts) are never lost and unchanged chunks stay clean.

The status shown every second (:meth:`StoreMixin.store_status`) reads nothing: a region
counts as edited once a paint or data event fired or its undo history moved since it was
last committed (undo and redo emit no event). Only saving and closing compare pixels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._napari_compat import camera, is_masked_paint_atom, undo_redo_deques
from ..core.annotation import (
    OBJECT_KINDS,
    ImageAnnotation,
    object_kind_from_dict,
    object_kind_to_dict,
)
from ..core.errors import AnnotationError, SessionError, StoreError, TaxonomyError
from ..core.store import MaskStore, SaveReport
from .host import SessionPart
from .layers import META_KEY, role_of

#: Labels up to this many bytes are edited whole; larger ones through a region.
DEFAULT_MAX_IN_MEMORY = 256 * 2**20
DEFAULT_REGION = (2048, 2048)


@dataclass
class _Region:
    """An editable layer bound to a window of a store's label image."""

    name: str
    layer: Any
    origin: tuple[int, ...]
    overview: Any = None
    callback: Any = None
    data_callback: Any = None
    #: set by paint and data events; with ``history`` it says "maybe edited" without reads
    dirty: bool = False
    history: tuple = ()

    def slices(self) -> tuple[slice, ...]:
        shape = self.layer.data.shape
        return tuple(slice(o, o + n) for o, n in zip(self.origin, shape))

    def mark_clean(self) -> None:
        """The region equals the store now (just committed or bound)."""
        self.dirty = False
        self.history = _history_mark(self.layer)

    def maybe_edited(self) -> bool:
        """True when the region may differ from the store; reads no pixels."""
        return self.dirty or _history_mark(self.layer) != self.history


class StoreMixin(SessionPart):
    """Zarr mask stores: open, create, save, autosave, edit regions."""

    def _init_mixin(self) -> None:
        self._store: MaskStore | None = None
        self._regions: dict[str, _Region] = {}
        #: the object-kind tables the layers gave when the store was shown or last saved:
        #: layers that still give them are unchanged (napari's float32 vertices need not
        #: give back the stored numbers bit for bit, and viewing must write nothing)
        self._object_kinds_seen: dict[str, list[dict[str, Any]]] = {}

    # -- state ---------------------------------------------------------------------------
    @property
    def store(self) -> MaskStore | None:
        """The open :class:`MaskStore`, or None."""
        return self._store

    def _require_store(self) -> MaskStore:
        if self._store is None:
            raise SessionError("no mask store is open", field="store")
        return self._store

    def store_status(self) -> dict[str, Any]:
        """Path, mode, unsaved chunk count, last save time, autosave state and ``notes``.

        ``notes`` lists what was inferred when opening a store written by another tool
        (a dropped singleton channel axis, the property a class name was taken from).

        Cheap enough for a GUI timer: ``dirty`` comes from the store's pending chunks and
        the regions' edit flags, no pixel is read. An edit written straight into a region
        layer's array (``layer.data[...] = v``, no event) shows up only in
        :meth:`store_has_unsaved_edits`, which compares pixels.
        """
        st = self._store
        if st is None:
            return {"path": None, "dirty": False, "dirty_chunks": 0, "last_save": None,
                    "autosave": False, "mode": None, "notes": []}  # fmt: skip
        dirty = not st.read_only and (
            st.is_dirty or any(r.maybe_edited() for r in self._regions.values())
        )
        return {
            "path": st.path,
            "mode": st.mode,
            "dirty": dirty,
            "dirty_chunks": sum(len(c) for c in st.dirty_chunks().values()),
            "last_save": st.last_save,
            "autosave": st.autosave_running,
            "notes": list(st.notes),
        }

    def store_has_unsaved_edits(self) -> bool:
        """True when the store or an edit region holds edits not yet saved (compares pixels)."""
        st = self._store
        if st is None or st.read_only:
            return False
        if st.is_dirty or self._object_kinds_differ(st):
            return True
        return any(self._region_differs(r) for r in self._regions.values())

    # -- polygons, rotated boxes and keypoint sets in the store's annotation tables ----------
    def _stored_object_kinds(self, st: MaskStore) -> ImageAnnotation | None:
        """The store's saved polygons, rotated boxes and keypoint sets (masks not read),
        checked against the taxonomy; None when it holds none.

        Raises
        ------
        StoreError
            A malformed saved object, naming the store, the entry and the field.
        ObjectKindError
            An object of a class the taxonomy lacks, keypoints that do not fit the skeleton.
        """
        meta = st.annotation_meta
        if not any(meta.get(kind) for kind in OBJECT_KINDS):
            return None
        ann = ImageAnnotation(_store_name(st.path), tuple(st.shape), st.axes)
        try:
            for kind in OBJECT_KINDS:
                items = meta.get(kind) or []
                if not isinstance(items, list):
                    raise AnnotationError("must be a list", field=kind, value=type(items).__name__)
                setattr(ann, kind, [object_kind_from_dict(kind, d, where=f"{kind}[{i}]")
                                    for i, d in enumerate(items)])  # fmt: skip
        except AnnotationError as exc:
            raise exc.replace(StoreError, path=st.path) from None
        self._check_object_kinds(ann)
        return ann

    def _object_kind_tables(self, st: MaskStore) -> dict[str, list[dict[str, Any]]]:
        """Kind -> JSON tables of the objects on the managed layer of that role (only the
        kinds that have a layer: objects of a kind without one are kept as stored)."""
        ann = ImageAnnotation(_store_name(st.path), tuple(st.shape), st.axes)
        self._object_kinds_into(ann)
        return {kind: [object_kind_to_dict(kind, it) for it in getattr(ann, kind)]
                for kind in OBJECT_KINDS if self.layers_of_role(kind)}  # fmt: skip

    def _object_kinds_differ(self, st: MaskStore) -> bool:
        """True when the object-kind layers changed since the store showed or saved them
        (or, for a layer added since, hold other objects than the store)."""
        if not any(self.layers_of_role(kind) for kind in OBJECT_KINDS):
            return False
        return bool(self._changed_object_kinds(st))

    def _changed_object_kinds(self, st: MaskStore) -> dict[str, list[dict[str, Any]]]:
        """The tables of the object-kind layers that changed (see _object_kinds_differ)."""
        meta = st.annotation_meta
        seen = self._object_kinds_seen
        out = {}
        for kind, items in self._object_kind_tables(st).items():
            if kind in seen and items == seen[kind]:
                continue  # as shown: the store keeps its own numbers
            if items != (meta.get(kind) or []):
                out[kind] = items
        return out

    # -- open / create ---------------------------------------------------------------------
    def open_store(
        self,
        path: str,
        mode: str = "r+",
        *,
        storage_options: dict | None = None,
        max_in_memory: int = DEFAULT_MAX_IN_MEMORY,
        region: tuple[int, int] = DEFAULT_REGION,
        annotator: str | None = None,
    ) -> MaskStore:
        """Open a store and show its image, label images and boxes as layers.

        Label images larger than ``max_in_memory`` bytes get a read-only multiscale
        overview plus an editable ``region`` (y, x) around the centre of the view.
        With ``annotator``, only that annotator's label images (``<base>.<annotator>``,
        created empty when missing) are shown and written, under their own locks.
        """
        self._close_current()
        st = MaskStore.open(path, mode, storage_options=storage_options, user=self.user,
                            annotator=annotator)  # fmt: skip
        if len(st.taxonomy):
            try:  # refused when layers still shown use classes the store lacks
                self.taxonomy = st.taxonomy.copy()
            except TaxonomyError:
                st.close()
                raise
        shown = getattr(self, "_team_store_labels", None)  # TeamMixin: the annotator's own
        try:
            names = shown(st) if shown is not None else st.label_names()
            kinds = self._stored_object_kinds(st)  # checked before any layer is added
        except BaseException:
            st.close()
            raise
        self._store = st
        self._add_image_layer(st)
        for name in names:
            la = st.labels(name)
            if la.size * la.dtype.itemsize <= max_in_memory:
                self._bind_region(name, tuple(slice(0, n) for n in la.shape))
            else:
                self._add_overview(name)
                self.edit_region(name, size=region)
        boxes = st.annotation_meta.get("boxes") or []
        if boxes:
            ann = st.read_annotation()
            self.add_boxes_layer(ann.boxes, ndim=len(st.shape))
        if kinds is not None:
            self._show_object_kinds_of(kinds)
        self._object_kinds_seen = self._object_kind_tables(st)
        found = {"notes": list(st.notes)} if st.notes else {}
        self._record("open_store", path=st.path, mode=mode, labels=st.label_names(), **found)
        return st

    def create_store(
        self,
        path: str,
        *,
        chunks: tuple[int, ...] | None = None,
        ngff: str = "0.5",
        overwrite: bool = False,
        include_image: bool = True,
        storage_options: dict | None = None,
    ) -> MaskStore:
        """Create a store from the current image and managed layers, then bind them to it."""
        self._close_current()
        img = self.image
        layers = [*self.layers_of_role("semantic"), *self.layers_of_role("instances")]
        if layers:
            shape = tuple(np.shape(layers[0].data))
        elif img is not None:
            shape = tuple(img.data.shape[:-1] if img.rgb else img.data.shape)
        else:
            raise SessionError("open an image or add a mask layer first", field="shape")
        image = self._store_image() if include_image and img is not None else None
        st = MaskStore.create(
            path,
            shape=shape,
            chunks=chunks,
            image=image,
            ngff=ngff,
            overwrite=overwrite,
            storage_options=storage_options,
            user=self.user,
        )
        self._store = st
        st.taxonomy = self.taxonomy.copy()
        for layer in layers:
            st.create_labels(layer.name, dtype=layer.data.dtype, role=role_of(layer))
            st.labels(layer.name).write_all(np.asarray(layer.data))
            self._regions[layer.name] = _Region(layer.name, layer, (0,) * len(shape))
            self._hook_paint(self._regions[layer.name])
            self._regions[layer.name].mark_clean()
        self._sync_tables_to_store()
        st.save()
        self._record("create_store", path=st.path, labels=st.label_names(), ngff=ngff)
        return st

    def _store_image(self) -> Any:
        """The image to store: the first Image layer, with the Image layers of the same
        shape after it as channels (a two-channel sample opens as two layers)."""
        from napari.layers import Image

        images = [x for x in self.layers if isinstance(x, Image) and not x.rgb]
        if not images:
            return None
        levels = [x.data[0] if x.multiscale else x.data for x in images]
        same = [d for d in levels if d.shape == levels[0].shape and d.dtype == levels[0].dtype]
        if len(same) == 1:
            return same[0]
        if all(isinstance(d, np.ndarray) for d in same):
            return np.stack(same)
        import dask.array as da

        return da.stack([da.asarray(d) for d in same])

    def _add_image_layer(self, st: MaskStore) -> None:
        levels = st.image_levels()
        if not levels:
            return
        import dask.array as da
        from napari.layers import Image

        axes = st.image_axes()
        name = _store_name(st.path)
        lazy = [da.from_zarr(lv) for lv in levels]
        ch = axes.index("c") if "c" in axes else None
        n = 1 if ch is None else levels[0].shape[ch]
        for c in range(n):
            per = lazy if ch is None else [d[(slice(None),) * ch + (c,)] for d in lazy]
            self.layers.append(
                Image(
                    per if len(per) > 1 else per[0],
                    name=name if n == 1 else f"{name} [{c}]",
                    multiscale=len(per) > 1,
                    blending="translucent" if c == 0 else "additive",
                    colormap="gray" if n == 1 else ("magenta", "green", "cyan", "yellow")[c % 4],
                )
            )

    def _add_overview(self, name: str) -> None:
        from napari.layers import Labels

        st = self._require_store()
        levels = st.label_levels(name)
        layer = Labels(
            levels,
            name=f"{name} (overview)",
            multiscale=True,
            opacity=0.5,
            colormap=self.taxonomy.colormap() if st.role(name) == "semantic" else None,
            metadata={META_KEY: {"store_overview": name}},
        )
        layer.editable = False
        self.layers.append(layer)

    # -- regions ---------------------------------------------------------------------------
    def edit_region(
        self,
        name: str | None = None,
        *,
        center: tuple[float, ...] | None = None,
        size: tuple[int, int] = DEFAULT_REGION,
        z_margin: int = 0,
    ):
        """Edit the full-resolution window of ``size`` (y, x) around ``center``.

        The previous region of that label image is committed and the store saved first.
        ``center`` is (y, x) or a point with one coordinate per axis; it defaults to the
        viewer's camera centre and current slider positions (the middle headless). Leading
        axes (z, t) cover only the current plane, plus ``z_margin`` planes on each side
        along z, so a big stack stays cheap; an axis shown in 3D is covered whole.
        Returns the editable Labels layer.
        """
        st = self._require_store()
        name = name or next(iter(st.label_names()), None)
        if name is None:
            raise SessionError("the store has no label image", field="name")
        if int(z_margin) < 0:
            raise SessionError("z_margin must be >= 0", field="z_margin", value=z_margin)
        la = st.labels(name)
        h, w = la.shape[-2:]
        lead_shape = la.shape[:-2]
        if center is not None and len(center) not in (2, la.ndim):
            raise SessionError(
                f"center needs 2 or {la.ndim} coordinates", field="center", value=tuple(center)
            )
        if center is not None and len(center) == la.ndim:
            planes = [(int(round(c)), False) for c in center[:-2]]
            center = tuple(center[-2:])
        else:
            planes = self._view_planes(lead_shape)
        if center is None:
            center = self._view_center((h / 2, w / 2))
        ry, rx = min(int(size[0]), h), min(int(size[1]), w)
        y0 = int(np.clip(round(center[0] - ry / 2), 0, h - ry))
        x0 = int(np.clip(round(center[1] - rx / 2), 0, w - rx))
        lead = []
        for (p, whole), n, axis in zip(planes, lead_shape, st.axes):
            m = int(z_margin) if axis == "z" else 0
            p = int(np.clip(p, 0, n - 1))
            lead.append(slice(0, n) if whole else slice(max(0, p - m), min(n, p + m + 1)))
        window = (*lead, slice(y0, y0 + ry), slice(x0, x0 + rx))
        old = self._regions.get(name)
        if old is not None:
            if not st.read_only:
                self._commit_region(old)
                self.save_store()
            self._unbind_region(old)
        region = self._bind_region(name, window)
        self._record(
            "edit_region",
            name=name,
            origin=list(region.origin),
            shape=list(region.layer.data.shape),
        )
        return region.layer

    def _view_center(self, default: tuple[float, float]) -> tuple[float, float]:
        v = self.viewer
        if v is None:
            return default
        c = camera(v).center
        return (float(c[-2]), float(c[-1]))

    def _view_planes(self, lead_shape: tuple[int, ...]) -> list[tuple[int, bool]]:
        """(current index, shown in 3D) for each leading axis; the middle headless."""
        v = self.viewer
        if v is None:
            return [(n // 2, False) for n in lead_shape]
        point, nd = v.dims.point, len(lead_shape) + 2
        if len(point) < nd:
            return [(n // 2, False) for n in lead_shape]
        first = len(point) - nd  # store axes are the viewer's trailing axes
        shown = set(v.dims.displayed)
        return [(int(round(point[first + i])), first + i in shown) for i in range(len(lead_shape))]

    def _bind_region(self, name: str, window: tuple[slice, ...]) -> _Region:
        st = self._require_store()
        data = np.asarray(st.labels(name)[window])
        role = st.role(name) or "instances"
        origin = tuple(s.start for s in window)
        whole = data.shape == st.labels(name).shape
        kw: dict[str, Any] = {"name": name if whole else f"{name} [edit]", "translate": origin}
        if role == "semantic":
            layer = self.add_semantic_layer(data, **kw)
        else:
            layer = self.add_instance_layer(data, objects=st.objects(name), **kw)
        layer.metadata[META_KEY]["store_label"] = name
        ov = next(
            (lay for lay in self.layers
             if (lay.metadata.get(META_KEY) or {}).get("store_overview") == name),
            None,
        )  # fmt: skip
        region = _Region(name, layer, origin, overview=ov)
        self._regions[name] = region
        self._hook_paint(region)
        region.mark_clean()
        return region

    def _hook_paint(self, region: _Region) -> None:
        st = self._require_store()
        if st.read_only:
            return
        la = st.labels(region.name)

        def on_paint(event, region=region, la=la):
            region.dirty = True
            # napari emits the event before it writes the layer data, so replay the atoms
            for atom in event.value:
                _apply_atom(la, atom, region.origin)

        def on_data(event=None, region=region):
            region.dirty = True

        region.layer.events.paint.connect(on_paint)
        region.layer.events.data.connect(on_data)
        region.callback = on_paint
        region.data_callback = on_data

    def _unbind_region(self, region: _Region) -> None:
        _disconnect(region)
        if region.layer in self.layers and region.layer.name.endswith("[edit]"):
            self.layers.remove(region.layer)
        self._regions.pop(region.name, None)

    def _region_differs(self, region: _Region) -> bool:
        st = self._require_store()
        return not np.array_equal(st.labels(region.name)[region.slices()], region.layer.data)

    def _commit_region(self, region: _Region) -> int:
        st = self._require_store()
        mark = _history_mark(region.layer)
        region.dirty = False  # cleared first: an edit during the update sets it again
        changed = st.labels(region.name).update(region.slices(), np.asarray(region.layer.data))
        region.history = mark
        return changed

    # -- saving ------------------------------------------------------------------------------
    def _sync_tables_to_store(self) -> None:
        st = self._require_store()
        if st.read_only:
            return
        from ..core.tables import frame_to_objects

        for name, region in self._regions.items():
            if st.role(name) != "semantic":
                objs = frame_to_objects(region.layer.features)
                if objs != st.objects(name):
                    st.set_objects(name, objs)
        if st.taxonomy != self.taxonomy:
            st.taxonomy = self.taxonomy.copy()
        box = self.boxes
        meta = st.annotation_meta
        boxes = [b.to_dict() for b in self.boxes_list(box)] if box is not None else []
        changed = boxes != (meta.get("boxes") or [])
        meta["boxes"] = boxes
        for kind, items in self._changed_object_kinds(st).items():
            changed = True
            if items:
                meta[kind] = items
            else:
                meta.pop(kind, None)
        free = dict(meta.get("metadata") or {})
        if st.is_dirty or changed:  # what is saved now is made under this taxonomy version
            changed |= free.get("taxonomy_version") != self.taxonomy.version
            meta["metadata"] = {**free, "taxonomy_version": self.taxonomy.version}
        if changed:
            meta.setdefault("image_name", _store_name(st.path))
            meta.setdefault("shape", list(st.shape))
            meta.setdefault("axes", st.axes)
            st.set_annotation_meta(meta)

    def save_store(self) -> SaveReport:
        """Commit the edit regions, tables and boxes, then save only what changed."""
        st = self._require_store()
        for region in self._regions.values():
            self._commit_region(region)
        self._sync_tables_to_store()
        report = st.save()
        self._object_kinds_seen = self._object_kind_tables(st)
        for region in self._regions.values():
            if region.overview is not None:
                region.overview.refresh()
        self._record("save_store", path=st.path, chunks=report.n_chunks)
        return report

    def set_store_autosave(self, enabled: bool, interval: float = 60.0, on_save=None) -> None:
        """Flush edits to the store in the background every ``interval`` seconds."""
        st = self._require_store()
        if enabled:
            st.start_autosave(interval, on_save=on_save, before_save=self._autosave_commit)
        else:
            st.stop_autosave()
        self._record("set_store_autosave", enabled=enabled, interval=interval)

    def _autosave_commit(self) -> None:
        for region in list(self._regions.values()):
            self._commit_region(region)

    def build_store_pyramid(self, method: str = "nearest") -> SaveReport:
        """Commit edits and rebuild every pyramid level of every label image.

        Raises SessionError when no store is open.
        """
        st = self._require_store()
        for region in self._regions.values():
            self._commit_region(region)
        self._sync_tables_to_store()
        report = st.build_pyramid(method=method)
        self._record("build_store_pyramid", method=method, chunks=report.n_chunks)
        return report

    def close_store(self, save: bool = False) -> None:
        """Close the store (saving first with ``save``); its layers stay in the viewer."""
        st = self._require_store()
        if save and not st.read_only:
            self.save_store()
        self._close_current()
        self._record("close_store", path=st.path, saved=save)

    def _close_current(self) -> None:
        st = self._store
        if st is None:
            return
        for region in list(self._regions.values()):
            _disconnect(region)
        self._regions.clear()
        self._object_kinds_seen = {}
        st.close()
        self._store = None


def _apply_atom(la: Any, atom: Any, origin: tuple[int, ...]) -> None:
    """Write one napari paint-history atom into the store, shifted by the region origin."""
    if not is_masked_paint_atom(atom):  # data_setitem atoms: (indices, old values, new values)
        indices, _, new = atom
        idx = tuple(np.asarray(i, dtype=np.int64) + o for i, o in zip(indices, origin))
        la[idx] = new
        return
    target = tuple(slice(s.start + o, s.stop + o) for s, o in zip(atom.slice_key, origin))
    if atom.mask is None:
        la[target] = atom.new_value
        return
    cur = la[target]
    cur[atom.mask] = atom.new_value
    la[target] = cur


def _disconnect(region: _Region) -> None:
    if region.callback is not None:
        region.layer.events.paint.disconnect(region.callback)
    if region.data_callback is not None:
        region.layer.events.data.disconnect(region.data_callback)


def _history_mark(layer: Any) -> tuple:
    """Sizes and newest items of a Labels layer's undo and redo deques.

    napari's undo and redo emit no event, but every step moves an item between these
    deques, so a changed mark means the pixels may have changed.
    """
    marks: list[Any] = []
    deques: tuple[Any, Any] = undo_redo_deques(layer) or ((), ())
    for dq in deques:
        marks += [len(dq), id(dq[-1]) if len(dq) else None]
    return tuple(marks)


def _store_name(path: str) -> str:
    return str(path).rstrip("/").rsplit("/", 1)[-1].split(".")[0] or "image"
