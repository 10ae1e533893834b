"""Datasets (many images), navigation with autosave, provenance persistence."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from ..core.annotation import ImageAnnotation
from ..core.dataset import (
    ANNOTATION_DIR,
    PROVENANCE_FILE,
    Dataset,
    DatasetItem,
    image_spatial_shape,
    summarize,
)
from ..core.errors import LabelsuiteError, SessionError
from ..core.provenance import ProvenanceError, ProvenanceLog
from .host import SessionPart
from .layers import MARK_ROLES, META_KEY, OBJECT_ROLES, ROLES, role_of


def _unwritable(folder: Path) -> str | None:
    """Why ``folder`` (created when missing) cannot take new files, or None."""
    import tempfile

    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        return exc.strerror or type(exc).__name__
    return None


class DatasetMixin(SessionPart):
    """Datasets (many images), navigation with autosave, provenance persistence.

    Open a folder or a list of images with :meth:`open_dataset`; :meth:`next`,
    :meth:`prev` and :meth:`goto` switch images and save the current one first. Every
    change recorded by the session is also appended to the dataset's provenance log
    (``<annotations>/provenance.jsonl``), which :meth:`history` shows.

    Examples
    --------
    A labeling session in napari's console (``labelsuite`` is this session; the full,
    annotated version is ``docs/scripting.md``)::

        labelsuite.taxonomy = "classes.yaml"          # the class list
        labelsuite.open_dataset("plates/")            # folder, image files or .zarr stores
        labelsuite.set_active_class("nucleus")        # paint nuclei with the brush, then:
        labelsuite.split_touching(min_distance=5)     # one undo step
        labelsuite.run_checks()                       # review queue
        labelsuite.set_review_status("approved", instance_id=3)
        labelsuite.next()                             # saves, shows the next image
        labelsuite.progress()                         # labeled / reviewed per image
        labelsuite.export_dataset("plates.json", "coco")
        labelsuite.history()                          # who did what, when
    """

    def _init_mixin(self) -> None:
        self._dataset: Dataset | None = None
        self._index: int | None = None
        self._item_layers: list = []
        self._dataset_read_only: str | None = None  # why, when the folder cannot be written
        self.provenance_recorded.connect(self._persist_provenance)

    # -- state --------------------------------------------------------------------------
    @property
    def dataset(self) -> Dataset | None:
        """The open dataset, or None."""
        return self._dataset

    @property
    def index(self) -> int | None:
        """Position of the image shown, or None when no dataset is open."""
        return self._index

    @property
    def current(self) -> DatasetItem | None:
        """The dataset item shown, or None."""
        if self._dataset is None or self._index is None:
            return None
        return self._dataset[self._index]

    def _require_dataset(self) -> Dataset:
        if self._dataset is None:
            raise SessionError("no dataset is open: call open_dataset(folder) first")
        return self._dataset

    # -- provenance -----------------------------------------------------------------------
    def _log(self, entry: dict[str, Any] | None = None) -> ProvenanceLog | None:
        """The dataset's log; with only a local mask store open, the log of the store's
        folder (``<folder>/labelsuite/provenance.jsonl``, as for a dataset of stores:
        zarr would warn about a foreign file inside the store)."""
        if self._dataset is not None:
            return ProvenanceLog(self._dataset.provenance_path)
        store = getattr(self, "_store", None)
        path = str(getattr(store, "path", "") or "")
        if not path and entry is not None and entry.get("action") == "close_store":
            path = str(entry.get("params", {}).get("path") or "")  # recorded once closed
        if not path or "://" in path:
            return None
        folder = Path(path.rstrip("/")).parent
        return ProvenanceLog(folder / ANNOTATION_DIR / PROVENANCE_FILE)

    def _persist_provenance(self, entry: dict[str, Any]) -> None:
        """Provenance sink: append the session's entry to the dataset's (or store's) log."""
        log = self._log(entry)
        if log is None or (self._dataset is not None and self._dataset_read_only):
            return  # a read-only dataset keeps its entries in the session's history
        item = self.current
        if item is not None:
            entry.setdefault("image", item.key)
        elif self._dataset is None:
            store = getattr(self, "_store", None)
            path = store.path if store is not None else entry["params"]["path"]
            entry.setdefault("image", Path(str(path).rstrip("/")).name)
        written = log.append(entry)
        entry["seq"], entry["hash"] = written["seq"], written["hash"]

    def provenance(self, *, check: bool = True) -> list[dict[str, Any]]:
        """The dataset's persisted provenance log (every session that worked on it).

        Raises
        ------
        ProvenanceError
            With ``check`` when a line was edited, removed or reordered.
        """
        log = self._log()
        return [] if log is None else log.entries(check=check)

    def _adopt_log(self, ds: Dataset, writable: bool = True) -> list[dict[str, Any]]:
        log = ProvenanceLog(ds.provenance_path)
        if writable and log.repair():
            warnings.warn(
                f"{log.path}: dropped an incomplete last line left by an interrupted write",
                stacklevel=3,
            )
        try:
            return log.entries(check=True)
        except ProvenanceError as exc:
            warnings.warn(f"provenance log fails verification: {exc}", stacklevel=3)
            return log.entries(check=False)

    # -- opening and navigating --------------------------------------------------------------
    def open_dataset(
        self,
        sources: str | os.PathLike | Iterable[str | os.PathLike],
        *,
        annotation_dir: str | os.PathLike | None = None,
        start: int = 0,
    ) -> Dataset:
        """Open a folder of images, or a list of image files, and show image ``start``.

        Annotations are saved beside the images in ``<folder>/labelsuite/`` (or
        ``annotation_dir``) together with the provenance log; previously saved
        annotations are shown again.

        Examples
        --------
        >>> ds = labelsuite.open_dataset("plates/")  # doctest: +SKIP
        >>> labelsuite.progress()  # doctest: +SKIP
        """
        ds = Dataset.open(sources, annotation_dir=annotation_dir)
        start = ds._check(start)
        if self._dataset is not None and self._index is not None:
            self.save_current()
        read_only = _unwritable(ds.annotation_dir)
        lock_first = getattr(self, "_lock_before_open", None)  # TeamMixin: annotator's lock
        if lock_first is not None:
            lock_first(ds, read_only)
        if read_only:
            warnings.warn(
                f"{ds.annotation_dir}: the annotation folder cannot be written ({read_only});"
                " the dataset is open read-only",
                stacklevel=2,
            )
        past = self._adopt_log(ds, writable=not read_only)
        self._dataset_read_only = read_only
        # changes made before any dataset was open are persisted with this one
        pending = [e for e in self._history if "seq" not in e]
        self._dataset, self._index = ds, None
        self._history[:] = past
        for e in pending:
            self._history.append(e)
            self._persist_provenance(e)
        self._record("open_dataset", sources=[str(it.path) for it in ds], root=str(ds.root))
        if not len(self.taxonomy) and ds.taxonomy_path.is_file():
            self.taxonomy = ds.taxonomy_path
        self._show(start)
        return ds

    def goto(self, i: int, *, save: bool = True) -> DatasetItem:
        """Show image ``i`` (negative counts from the end), saving the current one first."""
        ds = self._require_dataset()
        j = ds._check(i)
        if save and self._index is not None:
            self.save_current()
        self._show(j)
        return ds[j]

    def next(self, *, save: bool = True) -> DatasetItem:
        """Show the next image (saving the current one); stays on the last one at the end.

        After ``suggest_next(follow=True)`` the next image is the next one of that queue.
        """
        ds = self._require_dataset()
        follow = getattr(self, "_next_suggested", None)  # ClassifierMixin's "label next" queue
        queued = follow() if follow is not None else None
        if queued is not None:
            return self.goto(queued, save=save)
        assigned = getattr(self, "_next_assigned", None)  # TeamMixin: the annotator's images
        mine = assigned(1) if assigned is not None else None
        if mine is not None:
            return self.goto(mine, save=save)
        cur = -1 if self._index is None else self._index
        return self.goto(min(cur + 1, len(ds) - 1), save=save)

    def prev(self, *, save: bool = True) -> DatasetItem:
        """Show the previous image (saving the current one); stays on the first one.

        With an assignment (team mode), the current annotator's previous image."""
        self._require_dataset()
        assigned = getattr(self, "_next_assigned", None)
        mine = assigned(-1) if assigned is not None else None
        if mine is not None:
            return self.goto(mine, save=save)
        cur = 0 if self._index is None else self._index
        return self.goto(max(cur - 1, 0), save=save)

    def _show(self, j: int) -> None:
        """Replace the shown image and its annotation layers by item ``j``."""
        ds = self._require_dataset()
        if ds[j].kind == "store":
            self._show_store(j)
        else:
            self._show_image(j)
        v = self.viewer
        if v is not None:
            v.reset_view()

    def _drop_item_layers(self) -> None:
        shown = self._item_layers
        gone = ROLES + MARK_ROLES + OBJECT_ROLES
        for layer in [ly for ly in self.layers if ly in shown or role_of(ly) in gone]:
            self.layers.remove(layer)
        self._item_layers = []

    def _show_store(self, j: int) -> None:
        ds = self._require_dataset()
        if getattr(self, "_store", None) is not None:
            self.close_store()
        before = list(self.layers)
        self._drop_item_layers()
        self._index = j
        annotator = getattr(self, "_team_store_annotator", lambda: None)()
        try:
            self.open_store(str(ds[j].path), "r+", annotator=annotator)
        finally:
            self._item_layers = [ly for ly in self.layers if ly not in before]

    def _show_image(self, j: int) -> None:
        from napari.layers import Image

        ds = self._require_dataset()
        item = ds[j]
        pixels = ds.read_image(j)
        shape, rgb = image_spatial_shape(pixels)
        load = getattr(self, "_team_load", None)  # TeamMixin: the annotator's own labels
        ann = load(j) if load is not None else ds.load_annotation(j)
        if ann is None:
            ann = self._blank_annotation(item.key, shape)
        elif tuple(ann.shape) != shape:
            raise SessionError(
                f"saved annotation has shape {tuple(ann.shape)} but the image has {shape}",
                path=ds.sidecar_path(j),
                field="shape",
                value=tuple(ann.shape),
            )
        ann.image_name = item.key
        ann.validate(self.taxonomy)  # before touching any layer: all or nothing
        self._check_object_kinds(ann)
        check_objects = getattr(self, "_check_objects", None)
        if check_objects is not None:
            check_objects(ann.objects)
        if getattr(self, "_store", None) is not None:
            self.close_store()
        self._drop_item_layers()
        self._index = j
        image = Image(
            pixels, name=item.key, rgb=rgb, metadata={META_KEY: {"dataset_item": item.key}}
        )
        self.layers.insert(0, image)  # below the masks; the session's first Image layer
        self._item_layers = [image, *self.load_annotation(ann, replace=True)]
        self._item_layers += self._show_object_kinds_of(ann)

    # -- polygons, rotated boxes and keypoint sets saved with the image ----------------------
    def _object_kinds_into(self, ann: ImageAnnotation) -> ImageAnnotation:
        """Set ``ann.polygons``, ``ann.rotated`` and ``ann.keypoints`` from the first managed
        layer of each role (as drawn, with class, instance id, plane, review status and the
        taxonomy's attribute columns); kinds without a layer are left as they are.

        Raises
        ------
        ObjectKindError
            A self-intersecting or degenerate polygon, a shape of the rotated layer that is
            not 4 vertices, a keypoint name the class does not define (nothing is saved).
        """
        from ..core.objects import Polygon

        attrs = _attribute_names(self.taxonomy)
        polys = self.layers_of_role("polygons")
        if polys:
            ann.polygons = [
                Polygon(d["ring"], d["class_id"], d["instance_id"], tuple(d["plane"]),
                        d["status"], _plain_dict(d["attributes"]))
                for d in self.polygons_list(polys[0])
            ]  # fmt: skip
        rot = self.layers_of_role("rotated")
        if rot:
            boxes = self.rotated_boxes_list(rot[0])
            feats = rot[0].features.reset_index(drop=True)
            for i, rb in enumerate(boxes):
                row = feats.iloc[i] if i < len(feats) else None
                if row is None:
                    continue
                rb.attributes = _row_attributes(row, attrs) or None
            ann.rotated = boxes
        kps = self.layers_of_role("keypoints")
        if kps:
            sets = self.keypoints_list(kps[0])
            feats = kps[0].features.reset_index(drop=True)
            firsts = [int(idx[0]) for _, idx in feats.groupby("object", sort=True).indices.items()]
            # keypoints_list reads the instance link and status; the attributes from here
            for kp, r in zip(sets, firsts, strict=True):
                kp.attributes = _row_attributes(feats.iloc[r], attrs)
            ann.keypoints = sets
        return ann

    def _check_object_kinds(self, ann: ImageAnnotation) -> None:
        """Refuse (before any layer changes) object kinds the taxonomy cannot show: a class
        it lacks, keypoints of a class without a skeleton or with the wrong count."""
        from ..core.errors import ObjectKindError
        from ..core.objects import check_keypoints

        for kind in ("polygons", "rotated", "keypoints"):
            for i, it in enumerate(getattr(ann, kind)):
                where = f"{ann.image_name}: {kind}[{i}]"
                if it.class_id not in self.taxonomy:
                    raise ObjectKindError("class id is not in the taxonomy", where=where,
                                          field="class_id", value=it.class_id)  # fmt: skip
                if kind == "keypoints":
                    sk = self._skeleton_of(it.class_id, where)
                    check_keypoints(it.xyv, len(sk.names), where=where)

    def _show_object_kinds_of(self, ann: ImageAnnotation) -> list:
        """Layers of the polygons, rotated boxes and keypoint sets of ``ann``, as they were
        saved (replacing the managed layers of those roles); the layers added.

        A saved polygon that is not simple (a file's self-intersecting outline) is left
        out with a warning: its object's pixels stay in the instance mask.
        """
        from ..core.errors import ObjectKindError
        from ..core.objects.polygons import check_polygon

        for role in OBJECT_ROLES:
            for old in self.layers_of_role(role):
                self.layers.remove(old)
        attrs = _attribute_names(self.taxonomy)
        nd = len(ann.shape)
        out = []
        if ann.polygons:
            outlines, kept = [], []
            for i, p in enumerate(ann.polygons):
                try:
                    xy = check_polygon(p.ring.xy, where=f"{ann.image_name}: polygons[{i}]")
                except ObjectKindError as exc:
                    warnings.warn(f"{exc}; not shown as a polygon", stacklevel=3)
                    continue
                outlines.append(
                    {
                        "xy": xy,
                        "class_id": int(p.class_id),
                        "plane": tuple(p.plane),
                        "instance_id": int(p.instance_id),
                        "hole": bool(p.ring.hole),
                    }
                )
                kept.append(p)
            layer = self._polygons_layer(outlines, {}, "polygons", nd, check=False)
            _set_columns(layer, {"status": [p.status for p in kept]},
                         [p.attributes for p in kept], attrs)  # fmt: skip
            out.append(layer)
        if ann.rotated:
            # the layer keeps each box's file corners (``source_corners``) itself
            layer = self.add_rotated_boxes_layer(list(ann.rotated), ndim=nd)
            _set_columns(layer, {}, [rb.attributes or {} for rb in ann.rotated], attrs)
            _neutral_defaults(layer, {"instance_id": 0, "status": "todo", "source_corners": None},
                              attrs)  # fmt: skip
            out.append(layer)
        if ann.keypoints:
            # the layer keeps each set's instance link and status itself
            layer = self.add_keypoints_layer(list(ann.keypoints), ndim=nd)
            objs = layer.features["object"].to_numpy(int)
            _set_columns(layer, {}, [ann.keypoints[j].attributes for j in objs], attrs)
            _neutral_defaults(layer, {"instance_id": 0, "status": "todo"}, attrs)
            out.append(layer)
        return out

    def _blank_annotation(self, key: str, shape: tuple[int, ...]) -> ImageAnnotation:
        top = max(self.taxonomy.ids(), default=0)
        sem_dtype = np.uint8 if top < 256 else np.uint32
        return ImageAnnotation(
            key,
            shape,
            semantic=np.zeros(shape, sem_dtype),
            instances=np.zeros(shape, np.int32),
        )

    # -- saving and progress ---------------------------------------------------------------
    def save_current(self, *, force: bool = False) -> str | None:
        """Save the shown image's annotation into the dataset; returns the file written.

        An image that has never been saved and holds no label is skipped (returns None)
        unless ``force``, so browsing a dataset writes nothing.
        """
        ds = self._require_dataset()
        if self._index is None:
            raise SessionError("no image is shown", field="index", value=None)
        if ds[self._index].kind == "store":
            if not (force or self.store_has_unsaved_edits()):
                return None
            self.save_store()
            return str(ds[self._index].path)
        ann = self.to_annotation(image_name=ds[self._index].key)
        self._object_kinds_into(ann)
        has_saved = getattr(self, "_team_has_saved", ds.has_annotation)
        if not (force or has_saved(self._index) or summarize(ann)["labeled"]):
            return None
        if self._dataset_read_only:
            raise SessionError(
                f"the dataset is open read-only ({self._dataset_read_only}); nothing was saved",
                path=ds.annotation_dir,
                field="annotation_dir",
            )
        save = getattr(self, "_team_save", ds.save_annotation)  # TeamMixin: per annotator
        try:
            path = save(self._index, ann)
        except OSError as exc:  # disk full, read-only file system: the old file is intact
            raise SessionError(
                f"cannot save: {exc.strerror or exc}; the previous annotation is unchanged",
                path=exc.filename or ds.sidecar_path(self._index),
            ) from exc
        self._save_dataset_taxonomy(ds)
        self._record("save", path=str(path))
        return str(path)

    def _save_dataset_taxonomy(self, ds: Dataset) -> None:
        """Keep ``<annotations>/taxonomy.yaml`` equal to the session's taxonomy."""
        from ..core.taxonomy import Taxonomy

        if not len(self.taxonomy):
            return
        p = ds.taxonomy_path
        if p.is_file():
            try:
                if Taxonomy.load(p).to_dict() == self.taxonomy.to_dict():
                    return
            except LabelsuiteError:  # an unreadable file is replaced by the current taxonomy
                pass
        self.taxonomy.save(p)

    def _store_summary(self, i: int) -> dict[str, Any]:
        """Counts of a store item from its tables; masks count by their stored chunks."""
        from ..core.store import MaskStore

        ds = self._require_dataset()
        if i == self._index and getattr(self, "_store", None) is not None:
            self.save_current()
        annotator = getattr(self, "_team_store_annotator", lambda: None)()  # team: own labels
        with MaskStore.open(str(ds[i].path), "r", annotator=annotator) as st:
            ann = st.read_annotation()
            names = st.label_names()
            if annotator is not None:
                names = [n for n in names if n.endswith(f".{annotator}")]
            stored = any(st.label_levels(n)[0].nchunks_initialized for n in names)
            ann.semantic = ann.instances = None  # never read whole masks for a count
            s = summarize(ann)
        s["labeled"] = bool(s["labeled"] or stored)
        return s

    # -- the whole dataset in interchange formats ----------------------------------------------
    def export_dataset(
        self,
        path: str | os.PathLike,
        fmt: str | None = None,
        *,
        report: Any = None,
        **options: Any,
    ):
        """Write every saved annotation of the dataset (the shown image saved first).

        Points and polylines a format cannot hold are counted in ``report`` (a
        :class:`~napari_labelsuite.core.formats.WriteReport`), a warning and the
        provenance entry, never dropped silently.

        Parameters
        ----------
        path : path
            A ``.json`` file for COCO; a folder for YOLO, VOC and masks.
        fmt : {"coco", "yolo", "voc", "masks"}, optional
            Guessed from ``path`` when None.
        **options
            Passed to the format's writer (``segmentation="polygon"``, ``task="segment"``).

        Returns
        -------
        list of Path
            The files written (all or none).
        """
        from ..core import formats

        ds = self._require_dataset()
        if self._index is not None:
            self.save_current()
        anns = [ann for _, ann in ds.annotations()]
        if not anns:
            raise SessionError("no saved annotations to export", path=ds.annotation_dir)
        fmt = fmt or formats.guess_format(Path(path), for_writing=True)
        rep = report if report is not None else formats.WriteReport()
        try:
            files = formats.write(Path(path), anns, self.taxonomy, fmt=fmt, report=rep, **options)
        except OSError as exc:  # disk full, read-only, a file where a folder should be
            raise SessionError(
                f"cannot export: {exc.strerror or exc}; nothing was replaced",
                path=exc.filename or path,
            ) from exc
        self._record(
            "export_dataset",
            path=str(path),
            fmt=fmt,
            images=len(anns),
            files=len(files),
            **({"not_written": rep.not_written} if rep.not_written else {}),
            **options,
        )
        if rep.not_written:
            warnings.warn(rep.summary(), stacklevel=2)
        return files

    def import_dataset(self, path: str | os.PathLike, fmt: str | None = None) -> list[int]:
        """Read a COCO / YOLO / VOC / mask file and save each image's annotation into the
        dataset (all or nothing); the shown image is reloaded. Returns the indices written.

        The file's taxonomy is adopted when the session has no classes yet.
        """
        from ..core import formats

        ds = self._require_dataset()
        anns, taxonomy = formats.read(Path(path), fmt)
        adopt = not len(self.taxonomy) and len(taxonomy) > 0
        use = taxonomy if adopt else self.taxonomy
        # match and validate everything before the session or the dataset changes
        ds.check_import(anns, use, source=path)
        if self._index is not None:
            self.save_current()
        reopen = getattr(self, "_store", None) is not None  # release its writer lock
        if reopen:
            self.close_store()
        try:
            written = ds.import_annotations(anns, use if len(use) else None, source=path)
        except OSError as exc:  # disk full, read-only: the staged import was dropped
            raise SessionError(
                f"cannot import: {exc.strerror or exc}; the dataset is unchanged",
                path=exc.filename or ds.annotation_dir,
            ) from exc
        finally:
            if reopen and self._index is not None:
                self._show(self._index)
        if adopt:
            self.taxonomy = taxonomy
        self._save_dataset_taxonomy(ds)
        self._record(
            "import_dataset", path=str(path), fmt=fmt, images=[ds[i].key for i in written]
        )
        self._log_effort("import", "import")
        if not reopen and self._index is not None and self._index in written:
            self._show(self._index)
        return written

    def progress(self):
        """Which images are labelled and reviewed: one row per image (a DataFrame).

        With an assignment (team mode), the current annotator's own labels
        (``team_progress()`` gives every annotator's counts).

        Columns: ``image``, ``saved``, ``labeled``, ``reviewed``, ``n_objects``,
        ``n_boxes``, ``todo``, ``approved``, ``needs-fix``. The image shown counts with its
        unsaved changes.
        """
        import pandas as pd

        ds = self._require_dataset()
        has_saved = getattr(self, "_team_has_saved", ds.has_annotation)  # team: own labels
        rows = []
        for i, item in enumerate(ds):
            if i == self._index and item.kind == "image":
                ann = self.to_annotation(image_name=item.key)
                self._object_kinds_into(ann)
                s = summarize(ann)
            elif item.kind == "store":
                s = self._store_summary(i)
            else:
                saved_summary = getattr(self, "_team_saved_summary", ds.saved_summary)
                s = saved_summary(i) or summarize(ImageAnnotation(item.key, (1, 1)))
            rows.append(
                {
                    "image": item.key,
                    "saved": has_saved(i) or item.kind == "store",
                    **{
                        k: s.get(k, 0)
                        for k in (
                            "labeled",
                            "reviewed",
                            "n_objects",
                            "n_boxes",
                            "todo",
                            "approved",
                            "needs-fix",
                        )
                    },
                }
            )
        return pd.DataFrame(rows)


# -- helpers of the object-kind layers ---------------------------------------------------------
def _attribute_names(taxonomy: Any) -> list[str]:
    """Every attribute name of the taxonomy's classes, in order, once."""
    names: list[str] = []
    for c in taxonomy:
        names += [a.name for a in c.attributes if a.name not in names]
    return names


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v))


def _plain(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def _plain_dict(d: dict[str, Any]) -> dict[str, Any]:
    return {str(k): _plain(v) for k, v in d.items()}


def _row_attributes(row: Any, names: list[str]) -> dict[str, Any]:
    """The attribute columns of a features row that hold a value."""
    return {a: _plain(row[a]) for a in names if a in row.index and not _missing(row[a])}


def _set_columns(
    layer: Any, columns: dict[str, list[Any]], attributes: list[dict[str, Any]], names: list[str]
) -> None:
    """Set per-row ``columns`` and the taxonomy's attribute columns of ``layer.features``."""
    import pandas as pd

    feats = layer.features.copy()
    n = len(feats)
    for col, values in columns.items():
        feats[col] = pd.Series(values if n else [], dtype=object, index=feats.index)
    for a in names:
        if a in feats.columns or any(a in d for d in attributes):
            feats[a] = pd.Series([d.get(a) for d in attributes], dtype=object, index=feats.index)
    layer.features = feats


def _neutral_defaults(layer: Any, values: dict[str, Any], names: list[str]) -> None:
    """Defaults of ``layer``'s columns for shapes or points added by hand: ``values`` and
    no attribute, instead of napari's copy of the last row (a new object would take
    another object's instance id, review status and attributes)."""
    table = layer.feature_defaults
    defaults = table.iloc[0].to_dict() if len(table) else {}
    defaults.update({c: v for c, v in values.items() if c in layer.features.columns})
    defaults.update({a: None for a in names if a in layer.features.columns})
    layer.feature_defaults = defaults
