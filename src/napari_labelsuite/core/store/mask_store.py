"""The zarr mask store: OME-Zarr label images that open lazily and save only what changed.

Layout (``docs/store.md`` has the full description)::

    cells.ome.zarr/
      zarr.json            ome: image multiscales (an empty placeholder pyramid when the
                           store was created without an image, so that the labels are
                           valid OME-Zarr and napari-ome-zarr finds them)
                           labelsuite: marker, shape, axes, chunks, taxonomy, annotation
                           (image name, boxes, free metadata)
      0/ 1/ ...            image pyramid (channel axis first when present)
      labels/zarr.json     ome.labels: the label image names
      labels/<name>/       one multiscale label image per annotation layer; ``image-label``
                           holds colours (semantic layers) and properties: one entry per
                           class (semantic) or per instance with class, status, attributes
      .labelsuite.lock     the writer lock (see :mod:`.lock`)

NGFF 0.5 on zarr v3 is the default; ``ngff="0.4"`` writes zarr v2 with ``/`` separators.

Edits made through :meth:`MaskStore.labels` arrays stay in memory, chunk by chunk, until
:meth:`MaskStore.save` writes the dirty chunks, then the pyramid levels above them, then
the metadata. zarr's ``LocalStore`` writes each chunk to a temporary file and renames it,
so a crash leaves every chunk either old or new; a small journal records which level-0
regions were being saved so that an interrupted pyramid update is redone on the next save.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Literal, cast

import numpy as np
import zarr
from psygnal import Signal

from ..annotation import ImageAnnotation, ObjectInfo
from ..errors import StoreError, TeamError
from ..signals import emit
from ..taxonomy import Taxonomy
from . import foreign
from .array import LabelArray, SaveReport, _slabs
from .journal import JOURNAL_NAME, SaveJournal
from .lock import StoreLock
from .ngff import format_for
from .pyramid import DOWNSAMPLE_METHODS, default_n_levels, level_shapes

__all__ = ["MARKER", "LabelArray", "MaskStore", "SaveReport", "is_labelsuite_store"]

#: Key of our block in the root group's attributes.
MARKER = "labelsuite"
FORMAT_VERSION = 1
#: Name of the empty image pyramid written when a store is created without an image.
PLACEHOLDER_NAME = "placeholder"
ROLES = ("semantic", "instances")
_AXIS_TYPES = {"t": "time", "c": "channel", "z": "space", "y": "space", "x": "space"}


def _is_url(path: str) -> bool:
    return "://" in path and not path.startswith("file://")


def is_labelsuite_store(path: str | os.PathLike) -> bool:
    """Quick check (reads one small JSON file) that ``path`` is a local store of ours."""
    p = Path(path)
    for meta in ("zarr.json", ".zattrs"):
        f = p / meta
        try:
            if f.stat().st_size > 64 * 2**20:
                return False
            d = json.loads(f.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        attrs = d.get("attributes", {}) if meta == "zarr.json" else d
        if isinstance(attrs, dict) and isinstance(attrs.get(MARKER), dict):
            return True
    return False


class MaskStore:
    """An OME-Zarr store of label images (plus optional image, taxonomy and boxes).

    Use :meth:`create` or :meth:`open`; the store is a context manager (closing releases
    the writer lock and stops autosave).

    Examples
    --------
    >>> st = MaskStore.create("cells.ome.zarr", shape=(4096, 4096), chunks=(512, 512))
    >>> lab = st.create_labels("instances", dtype="uint32")
    >>> lab[100:400, 200:500] = 7
    >>> st.save().n_chunks                            # doctest: +SKIP

    The psygnal signal :attr:`edited` (no arguments) is emitted after each edit of a
    label array, e.g. to refresh a dirty indicator.
    """

    edited = Signal()

    def __init__(
        self,
        path: str,
        group: zarr.Group,
        mode: str,
        user: str,
        lock=None,
        *,
        repair_journal: bool = False,
        annotator: str | None = None,
        storage_options: dict | None = None,
    ):
        self.path = str(path)
        self.mode = mode
        self.user = user
        #: the annotator whose label images this store writes (None: the whole store)
        self.annotator = annotator
        self._storage_options = storage_options
        self._label_locks: dict[str, StoreLock] = {}
        #: label images added with ``deferred=True``: in memory until a save has edits
        self._deferred: set[str] = set()
        self._group = group
        self._lock = threading.RLock()
        self._save_lock = threading.Lock()
        self._writer_lock = lock
        self._labels: dict[str, LabelArray] = {}
        self._meta_dirty: set[str] = set()
        self._autosave: _Autosave | None = None
        self.last_save: float | None = None
        self.last_report: SaveReport | None = None
        self.downsample_method = "nearest"
        attrs: dict[str, Any] = dict(group.attrs)
        self._zarr_format = group.metadata.zarr_format
        self._format = format_for(zarr_format=self._zarr_format)
        self.ngff = self._format.version
        _check_root_attrs(attrs, self._zarr_format, self.path)
        self._ome_root = self._format.ome(attrs)
        self._meta: dict[str, Any] = dict(attrs.get(MARKER) or {})
        self._init_geometry()
        self._taxonomy = (
            Taxonomy.from_dict(self._meta["taxonomy"], path=self.path)
            if (self._meta.get("taxonomy"))
            else Taxonomy()
        )
        self._annotation = dict(self._meta.get("annotation") or {})
        self._label_meta: dict[str, dict[str, Any]] = {}
        #: what was inferred when opening a store written by another tool
        self.notes: list[str] = []
        for name in self._label_names_from_metadata():
            self._load_label(name)
        if not self._meta:
            foreign.infer_tables(self)
        if lock is not None:
            self._finalizer = weakref.finalize(self, lock.release)
            self._refuse_live_annotators()
            self._recover_journal(repair=repair_journal)
        elif annotator is not None and mode == "r+":
            self._finalizer = weakref.finalize(
                self, functools.partial(_release_all, self._label_locks)
            )
            self._open_for_annotator(repair_journal)

    # -- construction ------------------------------------------------------------------
    @classmethod
    def create(
        cls,
        path: str | os.PathLike,
        *,
        shape: Sequence[int] | None = None,
        chunks: Sequence[int] | None = None,
        axes: str | None = None,
        image: Any = None,
        n_levels: int | None = None,
        ngff: str = "0.5",
        overwrite: bool = False,
        storage_options: dict | None = None,
        user: str | None = None,
    ) -> MaskStore:
        """Create a store for labels of ``shape`` (spatial, without channels).

        Parameters
        ----------
        path : str or path
            Local directory (conventionally ``*.ome.zarr``) or fsspec URL (``s3://...``).
        shape : tuple of int, optional
            Spatial shape; ``image.shape`` when omitted (give it for a channel axis).
        chunks : tuple of int, optional
            Label chunk shape (default 512 on y and x, 1 on leading axes).
        axes : str, optional
            Names of the spatial axes (default the last letters of ``"tzyx"``).
        image : array-like, optional
            The image, stored as a pyramid; one extra leading axis is a channel axis.
        n_levels : int, optional
            Pyramid levels (default: until one plane fits one chunk).
        ngff : {"0.5", "0.4"}
            OME-NGFF version (0.5 on zarr v3, 0.4 on zarr v2).
        overwrite : bool
            Replace an existing store.
        """
        path = str(path)
        if ngff not in ("0.5", "0.4"):
            raise StoreError("ngff must be '0.5' or '0.4'", path=path, field="ngff", value=ngff)
        if shape is None:
            if image is None:
                raise StoreError("give a shape or an image", path=path, field="shape")
            shape = tuple(image.shape)
        shape = tuple(int(s) for s in shape)
        if len(shape) < 2 or len(shape) > 4 or min(shape) < 1:
            raise StoreError(
                "shape needs 2 to 4 positive spatial sizes", path=path, field="shape", value=shape
            )
        axes = axes or "tzyx"[-len(shape) :]
        if len(axes) != len(shape) or set(axes) - set("tzyx") or len(set(axes)) != len(axes):
            raise StoreError(
                f"axes must name the {len(shape)} axes with distinct letters of 'tzyx'",
                path=path,
                field="axes",
                value=axes,
            )
        if image is not None:
            ishape = tuple(image.shape)
            if ishape != shape and ishape[1:] != shape:
                raise StoreError(
                    f"image shape does not match the label shape {shape} "
                    "(a channel axis may come first)",
                    path=path,
                    field="shape",
                    value=ishape,
                )
        chunks = tuple(int(c) for c in (chunks or (1,) * (len(shape) - 2) + (512, 512)))
        if len(chunks) != len(shape) or min(chunks) < 1:
            raise StoreError(
                f"chunks must give {len(shape)} positive sizes",
                path=path,
                field="chunks",
                value=chunks,
            )
        chunks = tuple(min(c, n) for c, n in zip(chunks, shape))
        n_levels = int(n_levels or default_n_levels(shape, chunks))
        zarr_format = format_for(ngff=ngff).zarr_format
        if not _is_url(path) and Path(path).exists():
            if not overwrite:
                raise StoreError(
                    "a file or directory already exists here (pass overwrite=True to replace)",
                    path=path,
                    field="path",
                )
            if (Path(path) / "zarr.json").exists() or (Path(path) / ".zgroup").exists():
                import shutil

                shutil.rmtree(path)
        store = _make_store(path, read_only=False, storage_options=storage_options)
        meta = {
            "format": "labelsuite-mask-store",
            "version": FORMAT_VERSION,
            "shape": list(shape),
            "axes": axes,
            "chunks": list(chunks),
            "n_levels": n_levels,
            "taxonomy": None,
            "annotation": {},
        }
        try:
            group = zarr.open_group(store, mode="w", zarr_format=cast(Literal[2, 3], zarr_format))
        except Exception as exc:
            raise StoreError(f"cannot create the store: {exc}", path=path) from exc
        user = user or _default_user()
        lock = _make_lock(path, user, storage_options)
        lock.acquire()
        try:
            root_attrs: dict[str, Any] = {MARKER: meta}
            if image is not None:
                channel = tuple(image.shape) != shape
                img_axes = ("c" if channel else "") + axes
                img_chunks = ((1,) if channel else ()) + chunks
                paths = _write_image_pyramid(group, image, img_chunks, n_levels, img_axes)
                ms = _multiscales(img_axes, paths, "image", ngff)
            else:
                # A labels group is only valid OME-Zarr inside an image, and napari-ome-zarr
                # finds labels through the image; an all-background pyramid stores no chunk.
                paths = _write_placeholder_pyramid(group, shape, chunks, n_levels, axes)
                ms = _multiscales(axes, paths, PLACEHOLDER_NAME, ngff)
                meta["placeholder_image"] = True
            root_attrs.update(format_for(ngff=ngff).wrap({"multiscales": [ms]}))
            group.attrs.update(root_attrs)
            return cls(path, zarr.open_group(store, mode="r+"), "r+", user, lock)
        except BaseException:
            lock.release()
            raise

    @classmethod
    def open(
        cls,
        path: str | os.PathLike,
        mode: str = "r",
        *,
        storage_options: dict | None = None,
        user: str | None = None,
        repair_journal: bool = False,
        annotator: str | None = None,
    ) -> MaskStore:
        """Open a store lazily (no chunk is read). ``mode`` is ``"r"`` or ``"r+"``.

        With ``annotator`` (and ``"r+"``), only that annotator's label images
        (``<base>.<annotator>``, e.g. ``instances.alice``) are writable: opening takes the
        lock of each of them (a lock file inside the label image's group) instead of the
        store's, so several annotators write one store at once; the root metadata stays
        read-only and the annotator's tables go into their label images' own attributes.

        Stores written by other OME-Zarr tools (an image with a ``labels`` group) open too.
        Opening for writing takes the writer lock, refuses a store whose folders link to
        places outside it and replays the crash journal (``repair_journal=True`` rebuilds
        every pyramid on the next save when the journal itself is unreadable).
        """
        path = str(path)
        if mode not in ("r", "r+"):
            raise StoreError("mode must be 'r' or 'r+'", path=path, field="mode", value=mode)
        if not _is_url(path):
            p = Path(path)
            if not p.is_dir() or not any(
                (p / m).exists() for m in ("zarr.json", ".zgroup", ".zattrs")
            ):
                raise StoreError(
                    "not a zarr store (no zarr.json or .zgroup in a directory)",
                    path=path,
                    field="zarr.json",
                )
            if mode == "r+":
                _check_links_inside(p)
        store = _make_store(path, read_only=mode == "r", storage_options=storage_options)
        try:
            group = zarr.open_group(store, mode="r" if mode == "r" else "r+")
        except (FileNotFoundError, KeyError) as exc:
            raise StoreError("not a zarr store", path=path, field="zarr.json") from exc
        except Exception as exc:
            raise StoreError(
                f"missing or corrupt zarr metadata: {exc}", path=path, field="zarr.json"
            ) from exc
        user = user or _default_user()
        lock = None
        if annotator is not None:
            from ..team.assignments import validate_annotator

            validate_annotator(annotator, path=path)
        if mode == "r+" and annotator is None:
            lock = _make_lock(path, user, storage_options)
            try:
                lock.acquire()
            except OSError as exc:  # read-only file system, no permission, disk full
                raise StoreError(
                    f"cannot open for writing ({exc.strerror or exc}); open it read-only "
                    "(mode 'r')",
                    path=path,
                    field="mode",
                ) from exc
        try:
            return cls(path, group, mode, user, lock, repair_journal=repair_journal,
                       annotator=annotator, storage_options=storage_options)  # fmt: skip
        except BaseException:
            if lock is not None:
                lock.release()
            raise

    # -- geometry and metadata -------------------------------------------------------
    def _init_geometry(self) -> None:
        m = self._meta
        if m:
            try:
                self.shape = tuple(int(s) for s in m["shape"])
                self.axes = str(m["axes"])
                self.chunks = tuple(int(c) for c in m["chunks"])
                self.n_levels = int(m["n_levels"])
            except (KeyError, TypeError, ValueError) as exc:
                raise StoreError(
                    f"corrupt store metadata ({exc!r})",
                    path=self.path,
                    where="zarr.json",
                    field=MARKER,
                ) from exc
            return
        # a foreign OME-Zarr: geometry from the image or the first label image
        src = None
        ms = self._ome_root.get("multiscales")
        if ms:
            src = self._group, ms[0]
        else:
            names = self._label_names_from_metadata()
            if names:
                g = self._open_node(f"labels/{names[0]}")
                src = g, _ome(g.attrs, self._zarr_format).get("multiscales", [None])[0]
        if not src or not src[1]:
            raise StoreError(
                "no OME-Zarr multiscales and no labels: not a mask store",
                path=self.path,
                where="zarr.json",
                field="multiscales",
            )
        g, ms0 = src
        axes = [a["name"] if isinstance(a, dict) else str(a) for a in ms0.get("axes", [])]
        arr = self._open_node(_join(g.path, ms0["datasets"][0]["path"]), array=True)
        keep = [i for i, a in enumerate(axes or "x" * arr.ndim) if a != "c"]
        self.shape = tuple(int(arr.shape[i]) for i in keep)
        self.axes = "".join(axes[i] for i in keep) if axes else "tzyx"[-len(keep) :]
        self.chunks = tuple(int(arr.chunks[i]) for i in keep)
        self.n_levels = len(ms0["datasets"])

    def _open_node(self, path: str, array: bool = False, root: zarr.Group | None = None):
        try:
            node = (self._group if root is None else root)[path]
        except Exception as exc:
            raise StoreError(
                f"missing or unreadable node: {exc}", path=self.path, where=path, field="zarr.json"
            ) from exc
        if array and not isinstance(node, zarr.Array):
            raise StoreError("expected an array", path=self.path, where=path, field="zarr.json")
        return node

    def _label_names_from_metadata(self) -> list[str]:
        if "labels" not in self._group:
            return []
        lg = self._open_node("labels")
        names = _ome(lg.attrs, self._zarr_format).get("labels")
        if names is None:
            return []
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise StoreError(
                "the labels list must be a list of names",
                path=self.path,
                where="labels",
                field="labels",
                value=names,
            )
        return list(names)

    def _load_label(self, name: str, root: zarr.Group | None = None) -> LabelArray:
        g = self._open_node(f"labels/{name}", root=root)
        _check_label_attrs(dict(g.attrs), self._zarr_format, self.path, name)
        ome = _ome(g.attrs, self._zarr_format)
        ms = ome.get("multiscales")
        if not ms or not ms[0].get("datasets"):
            raise StoreError(
                "label image without multiscales metadata",
                path=self.path,
                where=f"labels/{name}",
                field="multiscales",
            )
        levels = [
            self._open_node(f"labels/{name}/{d['path']}", array=True, root=root)
            for d in ms[0]["datasets"]
        ]
        dt = np.dtype(levels[0].dtype)
        _check_label_dtype(dt, self.path, name, "label images must have an integer dtype")
        scales = []
        for d in ms[0]["datasets"]:
            sc = next(
                (
                    t["scale"]
                    for t in d.get("coordinateTransformations", [])
                    if t["type"] == "scale"
                ),
                [1] * levels[0].ndim,
            )
            scales.append([float(s) for s in sc])
        levels, scales = foreign.drop_channel_axis(self, name, ms[0], levels, scales)
        lm: dict[str, Any] = dict(g.attrs.get(MARKER) or {})
        lm["scales"] = scales
        lm["image-label"] = dict(ome.get("image-label") or {})
        self._label_meta[name] = lm
        la = LabelArray(self, name, levels)
        self._labels[name] = la
        return la

    def _factors(self, name: str, level: int) -> tuple[int, ...]:
        sc = self._label_meta[name]["scales"]
        return tuple(max(1, round(b / a)) for a, b in zip(sc[level - 1], sc[level]))

    # -- public api --------------------------------------------------------------------
    @property
    def read_only(self) -> bool:
        return self.mode == "r"

    def _require_writable(self, name: str | None = None) -> None:
        """Refuse writes to a read-only store, or to label image ``name`` when this store
        is open for an annotator who does not hold it."""
        if self.read_only:
            raise StoreError("the store is open read-only", path=self.path, field="mode")
        if self.annotator is not None and name is not None and name not in self._writable():
            raise StoreError(
                f"the store is open for annotator {self.annotator!r}, who writes only their "
                f"own label images (<base>.{self.annotator}); open it for the annotator of "
                f"{name!r} to change it",
                path=self.path,
                where=f"labels/{name}",
                field="annotator",
                value=name,
            )

    # -- annotators ------------------------------------------------------------------------
    def _writable(self) -> list[str]:
        """The label images this annotator writes: those held and those deferred."""
        return [*self._label_locks, *(n for n in self._labels if n in self._deferred)]

    def _label_lock(self, name: str, scope: str = "annotator") -> StoreLock:
        return _make_lock(self.path, self.user, self._storage_options, f"labels/{name}", scope)

    def _refuse_live_annotators(self) -> None:
        """A whole-store writer may not open while an annotator writes their label images."""
        from ..team.labels import parse_annotator_label_name

        for name in self._labels:
            if parse_annotator_label_name(name)[1] is None:
                continue
            held = self._label_lock(name).live_holder()
            if held is not None:
                raise StoreError(
                    f"annotator label image {name!r} is open for writing by "
                    f"{held.describe()}; open the store read-only (mode='r'), or for an "
                    "annotator (annotator=...), or close it there first",
                    path=self.path,
                    where=f"labels/{name}",
                    field="lock",
                    value=held.describe(),
                )

    def _open_for_annotator(self, repair_journal: bool) -> None:
        """Take the locks of this annotator's label images; refuse a whole-store writer."""
        from ..team.labels import parse_annotator_label_name

        try:
            for name in list(self._labels):
                if parse_annotator_label_name(name)[1] == self.annotator:
                    self._hold_label(name)
            self._refuse_store_writer()
            self._recover_journal(repair=repair_journal)
        except BaseException:
            _release_all(self._label_locks)
            raise

    def _hold_label(self, name: str) -> None:
        la = self._labels[name]
        if tuple(la.shape) != tuple(self.shape):
            raise TeamError(
                f"annotator label image has another shape than the store {self.shape}",
                path=self.path,
                where=f"labels/{name}",
                field="shape",
                value=tuple(la.shape),
            )
        lock = self._label_lock(name)
        lock.acquire()
        self._label_locks[name] = lock

    def _refuse_store_writer(self) -> None:
        held = _make_lock(self.path, self.user, self._storage_options).live_holder()
        if held is not None and held.scope != "labels":
            raise StoreError(
                f"the store is open for writing by {held.describe()}; annotators write "
                "once it is closed there (or open it read-only, mode='r')",
                path=self.path,
                field="lock",
                value=held.describe(),
            )

    def _add_annotator_label(self, name: str, add: Callable[[], LabelArray]) -> LabelArray:
        """Create label image ``name`` of this annotator under a moment's store lock.

        The ``labels`` list is shared by every annotator, so it is re-read and extended
        while the store lock is held; another annotator adding theirs at the same time
        waits (up to ~20 s) instead of failing.
        """
        self._check_annotator_name(name)
        la: LabelArray | None = None
        for _ in range(5):
            with self._moment_lock():
                if la is None and name in self._label_names_from_metadata():
                    la = self._load_label(name)  # added meanwhile by the same annotator
                    self._hold_label(name)
                elif la is None:
                    la = add()
                    self._hold_label(name)
                else:  # our name was lost from the list (remote locks are best effort)
                    lg = self._group["labels"]
                    names = [*self._label_names_from_metadata(), name]
                    lg.attrs.update(self._format.wrap({"labels": names}))
            # on a remote store two writers may both have "held" the moment's lock: check
            # that the shared list still names our label image, and add it again if not
            if name in self._label_names_from_metadata():
                return la
        raise StoreError(
            "could not add the label image to the store's labels list",
            path=self.path,
            where="labels",
            field="labels",
            value=name,
        )

    def _check_annotator_name(self, name: str) -> None:
        """New label images of a store open for an annotator are named ``<base>.<annotator>``."""
        from ..team.labels import parse_annotator_label_name

        if parse_annotator_label_name(name)[1] != self.annotator:
            raise StoreError(
                f"the store is open for annotator {self.annotator!r}: new label images are "
                f"named <base>.{self.annotator}",
                path=self.path,
                field="name",
                value=name,
            )

    @contextlib.contextmanager
    def _moment_lock(self, timeout: float = 20.0) -> Iterator[None]:
        """Hold the store's lock for a moment (scope ``labels``), waiting for annotators."""
        root_lock = _make_lock(self.path, self.user, self._storage_options, "", "labels")
        deadline = time.monotonic() + timeout
        while True:
            try:
                root_lock.acquire()
                break
            except StoreError:
                held = root_lock.holder()
                if (held is not None and held.scope != "labels") or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        try:
            yield
        finally:
            root_lock.release()

    def label_annotation_meta(self, name: str) -> dict[str, Any]:
        """The annotation tables (boxes, metadata...) kept in label image ``name`` (a copy)."""
        return json.loads(json.dumps(self._label_meta[self._known(name)].get("annotation") or {}))

    def _touched(self) -> None:
        emit(self.edited)

    def on_change(self, fn: Callable[[], None]) -> None:
        """Call ``fn()`` after each edit (connects ``fn`` to :attr:`edited`)."""
        self.edited.connect(fn)

    def disconnect_change(self, fn: Callable[[], None]) -> None:
        """Stop calling ``fn`` after edits (no error if it was not connected)."""
        self.edited.disconnect(fn, missing_ok=True)

    def label_names(self) -> list[str]:
        return list(self._labels)

    def __contains__(self, name: object) -> bool:
        return name in self._labels

    def role(self, name: str) -> str | None:
        """``"semantic"``, ``"instances"`` or None for a label image."""
        return self._label_meta[self._known(name)].get("role")

    def _known(self, name: str) -> str:
        if name not in self._labels:
            raise StoreError(
                f"no label image named {name!r} (have {self.label_names()})",
                path=self.path,
                field="name",
                value=name,
            )
        return name

    def labels(self, name: str) -> LabelArray:
        """The label image ``name`` (lazy; reads and writes through numpy slicing)."""
        return self._labels[self._known(name)]

    def label_levels(self, name: str) -> list[zarr.Array]:
        """The stored pyramid levels of a label image (what napari shows as multiscale)."""
        return list(self._labels[self._known(name)].levels)

    def label_scales(self, name: str) -> list[list[float]]:
        return [list(s) for s in self._label_meta[self._known(name)]["scales"]]

    @property
    def has_image(self) -> bool:
        """True when the store holds an image (not the empty placeholder pyramid)."""
        return bool(self._ome_root.get("multiscales")) and not self._meta.get("placeholder_image")

    def image_levels(self) -> list[zarr.Array]:
        """The image pyramid (empty when the store holds no image)."""
        if not self.has_image:
            return []
        ms = self._ome_root["multiscales"]
        return [self._open_node(d["path"], array=True) for d in ms[0]["datasets"]]

    def image_axes(self) -> str:
        if not self.has_image:
            return ""
        ms = self._ome_root.get("multiscales")
        if not ms:
            return ""
        return "".join(a["name"] if isinstance(a, dict) else a for a in ms[0].get("axes", []))

    def create_labels(
        self,
        name: str,
        dtype: Any = "uint32",
        *,
        role: str | None = None,
        data: Any = None,
        deferred: bool = False,
    ) -> LabelArray:
        """Add an empty label image (a full pyramid of ``n_levels``) and return it.

        With ``deferred``, the label image is kept in memory (reads give zeros, edits wait
        as usual) and written to the store, under its lock, by the first :meth:`save`
        that has edits or tables for a deferred label image; until then nothing of the
        store changes, so showing an empty label image to a viewer writes nothing.
        """
        self._require_writable()
        if deferred:
            if name in self._labels or name in self._label_names_from_metadata():
                raise StoreError("a label image with this name exists", path=self.path,
                                 field="name", value=name)  # fmt: skip
            if self.annotator is not None:
                self._check_annotator_name(name)
            memory = zarr.group(store=zarr.storage.MemoryStore(), zarr_format=self._zarr_format)
            la = self._create_labels(name, dtype, role=role, root=memory)
            self._deferred.add(name)
            if data is not None:
                la.write_all(data)
            return la
        if self.annotator is not None and name not in self._label_locks:
            la = self._add_annotator_label(
                name, lambda: self._create_labels(name, dtype, role=role)
            )
            if data is not None:
                la.write_all(data)
            return la
        la = self._create_labels(name, dtype, role=role)
        if data is not None:
            la.write_all(data)
        return la

    def _create_labels(
        self, name: str, dtype: Any, *, role: str | None, root: zarr.Group | None = None
    ) -> LabelArray:
        if not name or "/" in name or name.startswith("."):
            raise StoreError("invalid label name", path=self.path, field="name", value=name)
        if name in self._labels:
            raise StoreError("a label image with this name exists", path=self.path,
                             field="name", value=name)  # fmt: skip
        try:
            dt = np.dtype(dtype)
        except TypeError as exc:
            raise StoreError("unknown dtype", path=self.path, field="dtype", value=dtype) from exc
        _check_label_dtype(
            dt, self.path, name, "label images need an integer dtype (uint8..uint64, int8..int64)"
        )
        if role is not None and role not in ROLES:
            raise StoreError(f"role must be one of {ROLES}", path=self.path, field="role",
                             value=role)  # fmt: skip
        lg = (self._group if root is None else root).require_group("labels")
        g = lg.create_group(name, overwrite=True)
        paths = []
        kw = _array_kwargs(self._zarr_format, self.axes)
        for k, shp in enumerate(level_shapes(self.shape, self.n_levels)):
            g.create_array(
                str(k),
                shape=shp,
                chunks=tuple(min(c, n) for c, n in zip(self.chunks, shp)),
                dtype=dt,
                fill_value=0,
                **kw,
            )
            paths.append(str(k))
        ms = _multiscales(self.axes, paths, name, self.ngff)
        ome = {"multiscales": [ms], "image-label": _image_label([], self.ngff)}
        attrs: dict[str, Any] = {MARKER: {"role": role}} if role else {MARKER: {}}
        attrs.update(self._format.wrap(ome))
        g.attrs.update(attrs)
        if root is not None:  # deferred: nothing of the store changes yet
            return self._load_label(name, root=root)
        names = [*self._label_names_from_metadata(), name]
        lg.attrs.update(self._format.wrap({"labels": names}))
        la = self._load_label(name)
        self._meta_dirty.add(name)  # colours and properties from the taxonomy
        return la

    def _write_deferred(self) -> None:
        """Create the deferred label images in the store once one of them has edits or
        tables to save (all of them, so an annotator's roles appear together). The
        arrays holding the pending edits stay the same objects (layers keep them)."""
        if not self._deferred:
            return
        if not any(self._labels[n].is_dirty or n in self._meta_dirty for n in self._deferred):
            return
        order = list(self._labels)
        for name in [n for n in order if n in self._deferred]:
            pending, lm = self._labels.pop(name), self._label_meta.pop(name)
            create = functools.partial(self._create_labels, name, pending.dtype,
                                       role=lm.get("role"))  # fmt: skip
            try:
                if self.annotator is not None:
                    real = self._add_annotator_label(name, create)
                else:
                    real = create()
            except BaseException:
                self._labels[name], self._label_meta[name] = pending, lm
                self._labels = {n: self._labels[n] for n in order if n in self._labels}
                raise
            pending.levels, pending._arr = real.levels, real._arr
            self._labels[name] = pending
            saved = self._label_meta[name]
            saved.update({k: lm[k] for k in ("objects", "annotation") if k in lm})
            self._meta_dirty.add(name)
            self._deferred.discard(name)
        self._labels = {n: self._labels[n] for n in order}

    # -- tables -------------------------------------------------------------------------
    @property
    def taxonomy(self) -> Taxonomy:
        """The store's class taxonomy (written with the next save)."""
        return self._taxonomy

    @taxonomy.setter
    def taxonomy(self, tax: Taxonomy) -> None:
        self._require_writable()
        self._taxonomy = tax
        if self.annotator is not None:  # the root is shared: only our label images change
            self._meta_dirty.update(self._label_locks)
            return
        self._meta_dirty.add("root")
        self._meta_dirty.update(self._labels)  # class names and colours live in image-label

    def objects(self, name: str) -> dict[int, ObjectInfo]:
        """Instance table of an instance label image (from ``image-label.properties``)."""
        lm = self._label_meta[self._known(name)]
        if lm.get("objects") is not None:
            return dict(lm["objects"])
        props = lm["image-label"].get("properties") or []
        out = {}
        for p in props:
            if "class_id" in p and "label-value" in p:
                out[int(p["label-value"])] = ObjectInfo.from_dict(p)
        return out

    def set_objects(self, name: str, objects: dict[int, ObjectInfo]) -> None:
        """Replace the instance table of ``name`` (written with the next save)."""
        self._require_writable(self._known(name))
        self._label_meta[name]["objects"] = {int(k): v for k, v in objects.items()}
        self._meta_dirty.add(name)

    @property
    def annotation_meta(self) -> dict[str, Any]:
        """Image name, image path, boxes and free metadata (a copy); for a store open for
        an annotator, those kept in the annotator's own label images."""
        if self.annotator is not None:
            own = [n for n in self._own_labels() if self._label_meta[n].get("annotation")]
            return self.label_annotation_meta(own[0]) if own else {}
        return json.loads(json.dumps(self._annotation))

    def _own_labels(self) -> list[str]:
        """The label images named for this store's annotator (all of them without one)."""
        if self.annotator is None:
            return list(self._labels)
        from ..team.labels import parse_annotator_label_name

        return [n for n in self._labels if parse_annotator_label_name(n)[1] == self.annotator]

    def set_annotation_meta(self, meta: dict[str, Any]) -> None:
        """Set the annotation tables; a store open for an annotator keeps them in each of
        the annotator's label images instead of the shared root."""
        self._require_writable()
        if self.annotator is not None:
            for name in self._writable():
                self._label_meta[name]["annotation"] = json.loads(json.dumps(meta))
                self._meta_dirty.add(name)
            return
        self._annotation = json.loads(json.dumps(meta))
        self._meta_dirty.add("root")

    # -- dirty state and saving ------------------------------------------------------
    @property
    def is_dirty(self) -> bool:
        return bool(self._meta_dirty) or any(la.is_dirty for la in self._labels.values())

    def dirty_chunks(self) -> dict[str, set[tuple[int, ...]]]:
        """Level-0 chunks edited since the last save, per label image."""
        return {n: la.dirty_chunks for n, la in self._labels.items() if la.dirty_chunks}

    def save(self) -> SaveReport:
        """Write dirty chunks, their pyramid ancestors, then changed metadata.

        Returns
        -------
        SaveReport
            The chunks and metadata written.
        """
        self._require_writable()
        t0 = time.perf_counter()
        self._write_deferred()
        report = SaveReport()
        with self._save_lock, ThreadPoolExecutor(4) as pool:
            for la in list(self._labels.values()):
                la._save(report, self.downsample_method, pool)
            self._write_metadata(report)
            self._journal_clear()
        report.seconds = time.perf_counter() - t0
        self.last_save = time.time()
        self.last_report = report
        return report

    def build_pyramid(self, name: str | None = None, method: str | None = None) -> SaveReport:
        """Rebuild every pyramid level of ``name`` (all label images when None) and save."""
        self._require_writable()
        if method is not None:
            if method not in DOWNSAMPLE_METHODS:
                raise StoreError(f"method must be one of {DOWNSAMPLE_METHODS}", path=self.path,
                                 field="method", value=method)  # fmt: skip
            self.downsample_method = method
        names = [name] if name else self.label_names()
        if self.annotator is not None and not name:
            names = list(self._label_locks)
        for n in names:
            self._require_writable(n)
            la = self.labels(n)
            la._pyramid_todo.append(tuple(slice(0, s) for s in la.shape))
        return self.save()

    def _write_metadata(self, report: SaveReport) -> None:
        dirty, self._meta_dirty = self._meta_dirty, set()
        meta_file = doc = self._format.metadata_file
        try:
            for name in sorted(dirty - {"root"}):
                doc = f"labels/{name}/{meta_file}"
                self._write_label_metadata(name, report)
            if "root" in dirty:
                doc = meta_file
                self._write_root_metadata(report)
        except BaseException as exc:
            self._meta_dirty |= dirty  # rewriting a document that did succeed is harmless
            if isinstance(exc, StoreError) or not isinstance(exc, Exception):
                raise
            raise StoreError(
                f"cannot write metadata ({type(exc).__name__}: {exc}); the changes are kept"
                " for the next save",
                path=self.path,
                where=doc,
            ) from exc

    def _write_label_metadata(self, name: str, report: SaveReport) -> None:
        lm = self._label_meta[name]
        il = _image_label(self._label_properties(name), self.ngff, self._colors(name))
        lm["image-label"] = il
        g = self._group[f"labels/{name}"]
        new = self._format.merged(g.attrs, {"image-label": il})
        if "annotation" in lm:  # an annotator's tables live in their own label image
            marker = {k: lm[k] for k in ("role", "annotation") if lm.get(k) is not None}
            new = {**new, MARKER: marker}
        g.attrs.update(new)
        report.metadata.append(f"labels/{name}")

    def _write_root_metadata(self, report: SaveReport) -> None:
        meta = dict(self._meta)
        meta["taxonomy"] = self._taxonomy.to_dict() if len(self._taxonomy) else None
        meta["annotation"] = self._annotation
        if not self._meta:  # a foreign store gains our block
            meta.update(
                format="labelsuite-mask-store",
                version=FORMAT_VERSION,
                shape=list(self.shape),
                axes=self.axes,
                chunks=list(self.chunks),
                n_levels=self.n_levels,
            )
        self._group.attrs.update({MARKER: meta})
        self._meta = meta
        report.metadata.append("")

    def _label_properties(self, name: str) -> list[dict[str, Any]]:
        lm = self._label_meta[name]
        if lm.get("role") == "semantic":
            return [{"label-value": c.id, "class": c.name, "class_id": c.id}
                    for c in self._taxonomy]  # fmt: skip
        objects = lm.get("objects")
        if objects is None:
            return list(lm["image-label"].get("properties") or [])
        props = []
        for k, o in sorted(objects.items()):
            d = o.to_dict()
            cls = self._taxonomy[o.class_id].name if o.class_id in self._taxonomy else None
            props.append({"label-value": int(k), "class": cls, **d})
        return props

    def _colors(self, name: str) -> list[dict[str, Any]]:
        if self._label_meta[name].get("role") != "semantic":
            return list(self._label_meta[name]["image-label"].get("colors") or [])
        return [
            {"label-value": c.id, "rgba": [round(v * 255) for v in c.color]}
            for c in self._taxonomy
            if c.color is not None
        ]

    # -- crash journal -----------------------------------------------------------------
    def _journal_key(self) -> str:
        if self.annotator is not None:  # each annotator's saves are journaled apart
            return JOURNAL_NAME.replace(".json", f".{self.annotator}.json")
        return JOURNAL_NAME

    def _journal(self) -> SaveJournal:
        return SaveJournal(self._group, self.path, self._journal_key())

    def _journal_write(self, name: str, regions: list[tuple[slice, ...]]) -> None:
        self._journal().add(name, regions)

    def _journal_read(self) -> dict[str, Any]:
        """The journal (see :meth:`SaveJournal.read`)."""
        return self._journal().read()

    def _journal_clear(self) -> None:
        self._journal().clear()

    def _recover_journal(self, repair: bool = False) -> None:
        """Redo the pyramid above regions whose save was interrupted (next save).

        With ``repair``, a journal that cannot be read queues every label image whole.
        """
        try:
            journal = self._journal_read()
        except StoreError as exc:
            if repair:
                # replace the unreadable journal by one naming everything, so that a
                # crash before the next save still leaves the repair to do
                whole = {n: [[[0, k] for k in la.shape]] for n, la in self._labels.items()}
                self._journal().replace(whole)
                for la in self._labels.values():
                    la._pyramid_todo.append(tuple(slice(0, n) for n in la.shape))
                return
            raise StoreError(
                f"{exc.message}; the store opens read-only (mode 'r'), or pass "
                "repair_journal=True to rebuild every pyramid level on the next save",
                path=self.path,
                where=JOURNAL_NAME,
                field="journal",
            ) from exc
        for name, regions in journal.items():
            if name not in self._labels:
                continue
            la = self._labels[name]
            for r in regions:
                la._pyramid_todo.append(tuple(slice(int(a), int(b)) for a, b in r))

    # -- annotation documents ---------------------------------------------------------
    def write_annotation(
        self,
        ann: ImageAnnotation,
        *,
        taxonomy: Taxonomy | None = None,
        semantic: str = "semantic",
        instances: str = "instances",
    ) -> SaveReport:
        """Persist a whole document (masks, instance table, boxes, taxonomy) and save."""
        self._require_writable()
        if self.annotator is not None:
            for n, mask in ((semantic, ann.semantic), (instances, ann.instances)):
                if mask is not None and n in self._labels:
                    self._require_writable(n)
        if tuple(ann.shape) != self.shape:
            raise StoreError(
                f"annotation shape does not match the store shape {self.shape}",
                path=self.path,
                where=ann.image_name,
                field="shape",
                value=tuple(ann.shape),
            )
        ann.validate(taxonomy)
        for name, role, mask in ((semantic, "semantic", ann.semantic),
                                 (instances, "instances", ann.instances)):  # fmt: skip
            if mask is None:
                continue
            if name not in self._labels:
                self.create_labels(name, dtype=mask.dtype, role=role)
            self.labels(name).write_all(mask)
        if ann.instances is not None:
            self.set_objects(instances, ann.objects)
        meta = ann.tables_to_dict()
        meta.pop("objects")
        self.set_annotation_meta(meta)
        if taxonomy is not None:
            self.taxonomy = taxonomy
        return self.save()

    def read_annotation(
        self, *, semantic: str | None = None, instances: str | None = None
    ) -> ImageAnnotation:
        """The stored document; masks are lazy :class:`LabelArray` objects.

        Without names, the first label image of each role is used (of the annotator's
        own, for a store open for an annotator).
        """
        own = self._own_labels()
        semantic = semantic or next((n for n in own if self.role(n) == "semantic"), None)
        instances = instances or next((n for n in own if self.role(n) == "instances"), None)
        meta = dict(self.annotation_meta if self.annotator is not None else self._annotation)
        meta.setdefault("image_name", Path(self.path.rstrip("/")).name.split(".")[0])
        meta["shape"] = list(self.shape)
        meta["axes"] = self.axes
        meta["objects"] = {}
        if instances:
            meta["objects"] = {str(k): o.to_dict() for k, o in self.objects(instances).items()}
        try:
            return ImageAnnotation.from_tables_dict(
                meta,
                semantic=self.labels(semantic) if semantic else None,
                instances=self.labels(instances) if instances else None,
            )
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
            raise StoreError(
                f"corrupt annotation tables ({exc!r})",
                path=self.path,
                where="zarr.json",
                field=f"{MARKER}.annotation",
            ) from exc

    # -- autosave and closing ------------------------------------------------------------
    def start_autosave(
        self,
        interval: float = 60.0,
        on_save: Callable[[SaveReport], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        before_save: Callable[[], None] | None = None,
    ) -> None:
        """Save dirty chunks in a background thread every ``interval`` seconds.

        ``before_save()`` runs in that thread first (e.g. to copy tables from layers);
        ``on_save(report)`` after each save and ``on_error(exc)`` on failure.
        """
        self._require_writable()
        self.stop_autosave()
        self._autosave = _Autosave(self, float(interval), on_save, on_error, before_save)

    def stop_autosave(self) -> None:
        if self._autosave is not None:
            self._autosave.stop()
            self._autosave = None

    @property
    def autosave_running(self) -> bool:
        return self._autosave is not None

    def close(self, save: bool = False) -> None:
        """Stop autosave, optionally save, release the writer lock."""
        self.stop_autosave()
        if save and not self.read_only and self.is_dirty:
            self.save()
        if self._writer_lock is not None:
            self._writer_lock.release()
            self._finalizer.detach()
            self._writer_lock = None
            self.mode = "r"
        if self.annotator is not None and self.mode == "r+":
            _release_all(self._label_locks)
            self._finalizer.detach()
            self.mode = "r"

    def __enter__(self) -> MaskStore:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"MaskStore({self.path!r}, mode={self.mode!r}, shape={self.shape}, "
            f"labels={self.label_names()}, ngff={self.ngff})"
        )


class _Autosave:
    def __init__(self, store: MaskStore, interval: float, on_save, on_error, before_save=None):
        self._store = store
        self._before_save = before_save
        self._interval = interval
        self._on_save = on_save
        self._on_error = on_error
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="labelsuite-autosave", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                if self._before_save is not None:
                    self._before_save()
                if self._store.is_dirty:
                    rep = self._store.save()
                    if self._on_save is not None:
                        self._on_save(rep)
            except Exception as exc:  # reported, never kills the thread silently
                if self._on_error is not None:
                    self._on_error(exc)

    def stop(self) -> None:
        self._stop.set()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout=30)


# -- zarr helpers ---------------------------------------------------------------------------
def _default_user() -> str:
    import getpass

    try:
        return getpass.getuser()
    except Exception:
        return "unknown"


def _make_store(path: str, read_only: bool, storage_options: dict | None):
    from zarr.storage import FsspecStore, LocalStore

    if _is_url(path):
        try:
            return FsspecStore.from_url(
                path, storage_options=storage_options or {}, read_only=read_only
            )
        except Exception as exc:
            raise StoreError(f"cannot open the URL: {exc}", path=path, field="path") from exc
    if not read_only:
        Path(path).mkdir(parents=True, exist_ok=True)
    return LocalStore(path, read_only=read_only)


def _make_lock(
    path: str, user: str, storage_options: dict | None, sub: str = "", scope: str = ""
) -> StoreLock:
    """The lock of the store at ``path`` (``sub``: of a group inside it, e.g. a label image)."""
    display = f"{path.rstrip('/')}/{sub}" if sub else path
    if _is_url(path):
        import fsspec

        # the zarr store's filesystem is asynchronous; the lock wants a blocking one
        fs, root = fsspec.core.url_to_fs(path, **(storage_options or {}))
        root = f"{root.rstrip('/')}/{sub}" if sub else root
        return StoreLock(root, user, fs=fs, display=display, scope=scope)
    return StoreLock(str(Path(path) / sub) if sub else str(Path(path)), user, display=display,
                     scope=scope)  # fmt: skip


def _release_all(locks: dict[str, StoreLock]) -> None:
    """Release (and forget) every lock of ``locks``."""
    for lock in list(locks.values()):
        lock.release()
    locks.clear()


def _check_links_inside(root: Path) -> None:
    """Refuse a store with a folder that is a symbolic link leading outside it.

    zarr writes a chunk through a temporary file renamed over the old one, so a linked
    *file* is replaced, not followed; a linked *folder* (a level, a chunk row) would
    receive the writes.
    """
    base = root.resolve()
    for dirpath, dirnames, _ in os.walk(root, followlinks=False):
        for d in dirnames:
            full = Path(dirpath) / d
            if full.is_symlink():
                target = full.resolve()
                if target != base and base not in target.parents:
                    raise StoreError(
                        "a folder of the store is a link to a place outside it; writing "
                        "would change files elsewhere (open it read-only, or copy the data "
                        "into the store)",
                        path=root,
                        where=str(full.relative_to(root)),
                        field="path",
                        value=str(target),
                    )


def _meta_schema() -> dict[str, Any]:
    from ..validate import Field

    def ints(n_min: int) -> Any:
        return lambda v: all(
            isinstance(x, int) and not isinstance(x, bool) and x >= n_min for x in v
        )

    return {
        "shape": Field((list,), check=ints(1), message="must be a list of positive integers"),
        "axes": Field((str,)),
        "chunks": Field((list,), check=ints(1), message="must be a list of positive integers"),
        "n_levels": Field((int,), check=lambda v: v >= 1, message="must be at least 1"),
        "taxonomy": Field((dict,), nullable=True),
        "annotation": Field((dict,), nullable=True),
        "placeholder_image": Field((bool,)),
    }


def _check_multiscales(ms: Any, path: str, where: str, ndim: int | None = None) -> None:
    """Check an OME ``multiscales`` list: datasets with a path and typed transforms."""
    from ..validate import Field, check_fields

    def err(msg: str, field: str, value: Any) -> StoreError:
        return StoreError(msg, path=path, where=where, field=field, value=value)

    if not isinstance(ms, list):
        raise err("must be a list", "multiscales", type(ms).__name__)
    for i, m in enumerate(ms):
        check_fields(m, {"datasets": Field((list,)), "axes": Field((list,))}, path=path,
                     where=f"{where} multiscales[{i}]", error=StoreError)  # fmt: skip
        for j, d in enumerate(m.get("datasets") or []):
            w = f"{where} multiscales[{i}].datasets[{j}]"
            check_fields(d, {"path": Field((str,), required=True),
                             "coordinateTransformations": Field((list,))},
                         path=path, where=w, error=StoreError)  # fmt: skip
            if "/" in d["path"].strip("/") and ".." in d["path"].split("/"):
                raise err("dataset path leaves the group", "path", d["path"])
            for k, t in enumerate(d.get("coordinateTransformations") or []):
                tw = f"{w}.coordinateTransformations[{k}]"
                check_fields(t, {"type": Field((str,), required=True)}, path=path, where=tw,
                             error=StoreError)  # fmt: skip
                if t["type"] == "scale":
                    sc = t.get("scale")
                    if not isinstance(sc, list) or not all(
                        isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0
                        for v in sc
                    ):
                        raise err("scale must be a list of positive numbers", "scale", sc)
                    if ndim is not None and len(sc) != ndim:
                        raise err(f"scale must have {ndim} entries", "scale", sc)


def _check_root_attrs(attrs: dict[str, Any], zarr_format: int, path: str) -> None:
    """Check the root group's attributes before anything is built from them."""
    from ..validate import check_fields

    where = format_for(zarr_format=zarr_format).metadata_file
    meta = attrs.get(MARKER)
    if meta is not None:
        if not isinstance(meta, dict):
            raise StoreError("must be an object", path=path, where=where, field=MARKER,
                             value=type(meta).__name__)  # fmt: skip
        check_fields(meta, _meta_schema(), path=path, where=f"{where} {MARKER}",
                     error=StoreError)  # fmt: skip
        if "shape" in meta and "axes" in meta and len(meta["axes"]) != len(meta["shape"]):
            raise StoreError("axes must name every axis of shape", path=path, where=where,
                             field=f"{MARKER}.axes", value=meta["axes"])  # fmt: skip
        if "shape" in meta and "chunks" in meta and len(meta["chunks"]) != len(meta["shape"]):
            raise StoreError("chunks must give a size for every axis of shape", path=path,
                             where=where, field=f"{MARKER}.chunks",
                             value=meta["chunks"])  # fmt: skip
    ome = attrs.get("ome", {}) if zarr_format == 3 else attrs
    if not isinstance(ome, dict):
        raise StoreError("must be an object", path=path, where=where, field="ome",
                         value=type(ome).__name__)  # fmt: skip
    if ome.get("multiscales") is not None:
        _check_multiscales(ome["multiscales"], path, where)


def _check_label_dtype(dt: np.dtype[Any], path: Any, name: str, message: str) -> None:
    """Raise ``StoreError(message)`` naming ``labels/<name>`` unless ``dt`` is an integer."""
    if dt.kind not in "ui":
        raise StoreError(message, path=path, where=f"labels/{name}", field="dtype", value=str(dt))


def _check_label_attrs(attrs: dict[str, Any], zarr_format: int, path: str, name: str) -> None:
    """Check a label image's attributes (marker block, multiscales, image-label)."""
    from ..validate import Field, check_fields

    where = f"labels/{name}"
    meta = attrs.get(MARKER)
    if meta is not None:
        check_fields(meta, {"role": Field((str,), nullable=True, check=lambda r: r in ROLES,
                                          message=f"must be one of {ROLES}")},
                     path=path, where=where, error=StoreError, what=MARKER)  # fmt: skip
    ome = attrs.get("ome", {}) if zarr_format == 3 else attrs
    if not isinstance(ome, dict):
        raise StoreError("must be an object", path=path, where=where, field="ome",
                         value=type(ome).__name__)  # fmt: skip
    if ome.get("multiscales") is not None:
        _check_multiscales(ome["multiscales"], path, where)
    il = ome.get("image-label")
    if il is None:
        return
    check_fields(il, {"properties": Field((list,)), "colors": Field((list,))}, path=path,
                 where=where, error=StoreError, what="image-label")  # fmt: skip
    for key in ("properties", "colors"):
        for i, p in enumerate(il.get(key) or []):
            check_fields(p, {"label-value": Field((int,))}, path=path,
                         where=f"{where} image-label.{key}[{i}]", error=StoreError)  # fmt: skip


def _join(*parts: str) -> str:
    return "/".join(p.strip("/") for p in parts if p and p.strip("/"))


def _ome(attrs: Any, zarr_format: int) -> dict[str, Any]:
    return format_for(zarr_format=zarr_format).ome(attrs)


def _array_kwargs(zarr_format: int, axes: str) -> dict[str, Any]:
    return format_for(zarr_format=zarr_format).array_kwargs(axes)


def _multiscales(axes: str, paths: list[str], name: str, ngff: str) -> dict[str, Any]:
    nd = len(axes)
    datasets = []
    for k, p in enumerate(paths):
        scale = [1.0] * (nd - 2) + [float(2**k), float(2**k)]
        datasets.append({"path": p, "coordinateTransformations": [{"type": "scale",
                                                                    "scale": scale}]})  # fmt: skip
    ms: dict[str, Any] = {
        "axes": [{"name": a, "type": _AXIS_TYPES[a]} for a in axes],
        "datasets": datasets,
        "name": name,
    }
    return format_for(ngff=ngff).node(ms)


def _image_label(
    properties: list[dict[str, Any]], ngff: str, colors: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    il: dict[str, Any] = {"source": {"image": "../../"}}
    # the 0.5 schema forbids empty colour and property lists
    if colors:
        il["colors"] = colors
    if properties:
        il["properties"] = properties
    return format_for(ngff=ngff).node(il)


def _write_placeholder_pyramid(
    group: zarr.Group, shape: tuple[int, ...], chunks: tuple[int, ...], n_levels: int, axes: str
) -> list[str]:
    """Create an all-zero uint8 image pyramid; no chunk is stored (fill value only)."""
    kw = _array_kwargs(group.metadata.zarr_format, axes)
    paths = []
    for k, shp in enumerate(level_shapes(shape, n_levels)):
        group.create_array(
            str(k),
            shape=shp,
            chunks=tuple(min(c, n) for c, n in zip(chunks, shp)),
            dtype=np.uint8,
            fill_value=0,
            **kw,
        )
        paths.append(str(k))
    return paths


def _write_image_pyramid(
    group: zarr.Group, image: Any, chunks: tuple[int, ...], n_levels: int, axes: str
) -> list[str]:
    """Write an image pyramid (y and x halved by striding) level by level, in slabs."""
    paths = []
    kw = _array_kwargs(group.metadata.zarr_format, axes)
    prev = image
    for k, shp in enumerate(level_shapes(tuple(image.shape), n_levels)):
        a = group.create_array(
            str(k),
            shape=shp,
            chunks=tuple(min(c, n) for c, n in zip(chunks, shp)),
            dtype=np.dtype(image.dtype),
            fill_value=0,
            **kw,
        )
        for sl in _slabs(shp, a.chunks, a.dtype.itemsize):
            if k == 0:
                a[sl] = np.asarray(prev[sl])
            else:
                big = tuple(
                    slice(s.start * 2, min(n, s.stop * 2)) if ax >= len(shp) - 2 else s
                    for ax, (s, n) in enumerate(zip(sl, prev.shape))
                )
                a[sl] = np.asarray(prev[big])[..., ::2, ::2]
        prev = a
        paths.append(str(k))
    return paths
