"""Datasets: many images (or mask stores) labelled one after another.

A :class:`Dataset` is an ordered list of :class:`DatasetItem` built from a folder, a list of
image files or a list of ``*.zarr`` stores. Annotations of plain image files are kept in an
annotation folder beside the images (``<root>/labelsuite/`` by default) as *sidecars*:

``<key>.json``
    ``{"format": "napari-labelsuite-annotation", "version": 1, "annotation": {...},
    "summary": {...}, "masks": "<key>.npz" | null}`` where ``annotation`` is
    :meth:`ImageAnnotation.tables_to_dict` and ``summary`` is :func:`summarize`.
``<key>.npz``
    The ``semantic`` and ``instances`` masks (compressed), when there are any.
``provenance.jsonl``
    The dataset's provenance log (see :mod:`napari_labelsuite.core.provenance`).

The JSON file is written last and atomically, so it is the commit point: a crash while
saving leaves the previous annotation readable. The masks of a new save go to a file the
current JSON does not name (``<key>.npz`` and ``<key>.alt.npz`` take turns), so the old
tables never meet the new masks. Imports of many annotations are one transaction (see
:meth:`Dataset.import_annotations`).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .annotation import REVIEW_STATUSES, ImageAnnotation
from .convert import class_counts, iter_blocks
from .errors import AnnotationError, FormatError, SessionError
from .fileio import atomic_write_bytes, atomic_write_text

__all__ = [
    "ANNOTATION_DIR",
    "IMAGE_SUFFIXES",
    "SIDECAR_FORMAT",
    "Dataset",
    "DatasetItem",
    "image_spatial_shape",
    "list_images",
    "load_sidecar",
    "read_image",
    "save_sidecar",
    "summarize",
]

IMAGE_SUFFIXES = (".tif", ".tiff", ".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".npy")
ANNOTATION_DIR = "labelsuite"
SIDECAR_FORMAT = "napari-labelsuite-annotation"
PROVENANCE_FILE = "provenance.jsonl"
TAXONOMY_FILE = "taxonomy.yaml"


# -- images ---------------------------------------------------------------------------------
def read_image(path: str | os.PathLike) -> np.ndarray:
    """Read an image file: TIFF with tifffile (memory-mapped when possible), ``.npy`` with
    numpy (memory-mapped), anything else with imageio.

    Raises
    ------
    FormatError
        Naming the file when it is missing or cannot be decoded.
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if not p.is_file():
        raise FormatError("image file not found", path=p)
    try:
        if suffix in (".tif", ".tiff"):
            import tifffile

            try:
                return tifffile.memmap(p, mode="r")
            except (ValueError, OSError):  # compressed or tiled: decode into memory
                return tifffile.imread(p)
        if suffix == ".npy":
            return np.load(p, mmap_mode="r", allow_pickle=False)
        import imageio.v3 as iio

        # pillow reads every suffix listed here; letting imageio try all plugins is slow
        return np.asarray(iio.imread(p, plugin="pillow"))
    except FormatError:
        raise
    except Exception as exc:  # each reader raises its own types
        raise FormatError(f"cannot read image: {exc}", path=p, field="pixels") from exc


def image_spatial_shape(image: Any) -> tuple[tuple[int, ...], bool]:
    """``(spatial shape, rgb)``: a trailing axis of 3 or 4 on a 3-D array is colour."""
    shape = tuple(int(s) for s in image.shape)
    rgb = len(shape) == 3 and shape[-1] in (3, 4)
    return (shape[:-1] if rgb else shape), rgb


def list_images(folder: str | os.PathLike, *, recursive: bool = True) -> list[Path]:
    """Image files under ``folder`` in natural order; annotation folders, hidden folders
    and zarr stores are skipped."""
    root = Path(folder)
    if not root.is_dir():
        raise SessionError("not a folder", path=root)
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(
            d
            for d in dirnames
            if recursive
            and not d.startswith(".")
            and d != ANNOTATION_DIR
            and not d.lower().endswith(".zarr")
        )
        for f in filenames:
            if not f.startswith(".") and Path(f).suffix.lower() in IMAGE_SUFFIXES:
                out.append(Path(dirpath) / f)
    return sorted(out, key=lambda p: _natural_key(p.relative_to(root).as_posix()))


def list_stores(folder: str | os.PathLike) -> list[Path]:
    """``*.zarr`` directories directly inside ``folder``, in natural order."""
    root = Path(folder)
    found = [p for p in root.iterdir() if p.is_dir() and p.name.lower().endswith(".zarr")]
    return sorted(found, key=lambda p: _natural_key(p.name))


def _natural_key(s: str) -> list[Any]:
    import re

    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", s)]


# -- summaries ------------------------------------------------------------------------------
def summarize(ann: ImageAnnotation) -> dict[str, Any]:
    """Counts that tell how far an image is labelled and reviewed.

    Returns
    -------
    dict
        ``labeled`` (any object, box, point, polyline, polygon, rotated box, keypoint
        set or non-zero mask pixel),
        ``reviewed`` (there is at least one object or box and none is still ``"todo"``),
        ``n_objects``, ``n_boxes``, one count per review status, ``objects_per_class``
        and ``boxes_per_class`` (class id as str -> count) and ``semantic_pixels``
        (class id as str -> pixels).
    """
    statuses = [o.status for o in ann.objects.values()] + [b.status for b in ann.boxes]
    counts = {s: statuses.count(s) for s in REVIEW_STATUSES}
    semantic_pixels: dict[str, int] = {}
    if ann.semantic is not None and int(np.prod(ann.semantic.shape)):
        # block-wise, and without a table sized by the largest value (ids may be huge)
        pixels = class_counts(ann.semantic)
        semantic_pixels = {str(i): n for i, n in pixels.items() if i}
    has_instances = False
    if ann.instances is not None and not ann.objects:
        # stop at the first block with a label: the mask may be a large lazy array
        has_instances = any(bool(block.any()) for _, block in iter_blocks(ann.instances))
    per_class: dict[str, int] = {}
    for o in ann.objects.values():
        per_class[str(o.class_id)] = per_class.get(str(o.class_id), 0) + 1
    box_class: dict[str, int] = {}
    for b in ann.boxes:
        box_class[str(b.class_id)] = box_class.get(str(b.class_id), 0) + 1
    n_items = len(statuses)
    # points and polylines (``core.marks``) are labels too: an image holding only them is saved
    n_marks = sum(len(ann.metadata.get(k) or ()) for k in ("points", "polylines"))
    # so are polygons, rotated boxes and keypoint sets
    n_marks += len(ann.polygons) + len(ann.rotated) + len(ann.keypoints)
    return {
        "labeled": bool(n_items or semantic_pixels or has_instances or n_marks),
        "reviewed": bool(n_items) and counts["todo"] == 0,
        "n_objects": len(ann.objects),
        "n_boxes": len(ann.boxes),
        **counts,
        "objects_per_class": per_class,
        "boxes_per_class": box_class,
        "semantic_pixels": semantic_pixels,
    }


# -- sidecars -------------------------------------------------------------------------------
def _current_masks(jp: Path) -> str | None:
    """The masks file the sidecar at ``jp`` names now (None when there is none)."""
    if not jp.is_file():
        return None
    try:
        name = read_sidecar_doc(jp).get("masks")
    except FormatError:
        return None
    return name if isinstance(name, str) else None


def _sidecar_payload(ann: ImageAnnotation, jp: Path) -> tuple[str, str | None, bytes | None]:
    """``(json text, masks file name, npz bytes)`` of a save of ``ann`` at ``jp``.

    The masks file name is one the current JSON does not name, so writing it never
    touches what the current tables point to.
    """
    masks: dict[str, Any] = {
        name: np.asarray(arr)
        for name in ("semantic", "instances")
        if (arr := getattr(ann, name)) is not None
    }
    npz_name = npz = None
    if masks:
        plain = jp.with_suffix(".npz").name
        npz_name = jp.with_suffix(".alt.npz").name if _current_masks(jp) == plain else plain
        buf = io.BytesIO()
        np.savez_compressed(buf, **masks)
        npz = buf.getvalue()
    doc = {
        "format": SIDECAR_FORMAT,
        "version": 1,
        "annotation": ann.tables_to_dict(),
        "summary": summarize(ann),
        "masks": npz_name,
    }
    return json.dumps(doc, indent=1) + "\n", npz_name, npz


def save_sidecar(ann: ImageAnnotation, json_path: str | os.PathLike) -> Path:
    """Write ``ann`` as ``json_path`` plus a ``.npz`` of its masks beside it.

    All or nothing: the masks go to a file the current JSON does not name, then the JSON
    is replaced atomically (the commit point), then the previous masks file is removed.
    A failure (disk full, read-only folder) leaves the previous annotation as it was.
    """
    jp = Path(json_path)
    old = _current_masks(jp)
    text, npz_name, npz = _sidecar_payload(ann, jp)
    if npz_name is not None and npz is not None:
        atomic_write_bytes(jp.parent / npz_name, npz)
    atomic_write_text(jp, text)
    if old is not None and old != npz_name:
        _remove_quietly(jp.parent, old)
    return jp


def _remove_quietly(folder: Path, name: str) -> None:
    """Remove ``folder / name`` when it is a file inside ``folder`` (stale masks)."""
    from .validate import is_within

    p = folder / name
    if is_within(folder, p) and p.is_file():
        with contextlib.suppress(OSError):
            p.unlink()


def read_sidecar_doc(json_path: str | os.PathLike) -> dict[str, Any]:
    """The sidecar JSON document, checked for its format marker."""
    from .validate import check_tables_dict, load_json

    jp = Path(json_path)
    doc = load_json(jp, what="annotation file")
    if not isinstance(doc, dict) or doc.get("format") != SIDECAR_FORMAT:
        raise FormatError(
            "not a napari-labelsuite annotation file",
            path=jp,
            field="format",
            value=doc.get("format") if isinstance(doc, dict) else type(doc).__name__,
        )
    if not isinstance(doc.get("annotation"), dict):
        raise FormatError("missing 'annotation' table", path=jp, field="annotation")
    check_tables_dict(doc["annotation"], path=jp, where="annotation")
    if doc.get("masks") is not None and not isinstance(doc["masks"], str):
        raise FormatError("must be a file name or null", path=jp, field="masks",
                          value=doc["masks"])  # fmt: skip
    if doc.get("summary") is not None and not isinstance(doc["summary"], dict):
        raise FormatError("must be an object", path=jp, field="summary",
                          value=type(doc["summary"]).__name__)  # fmt: skip
    return doc


def _load_masks(mp: Path) -> dict[str, np.ndarray]:
    """The ``semantic``/``instances`` arrays of a masks ``.npz``, headers checked first.

    Each member's declared shape is bounded by :func:`~.validate.max_pixels` before any
    pixel is decoded, and a damaged archive is a FormatError naming the member.
    """
    import zipfile
    import zlib

    from .validate import check_pixels, read_regular_bytes

    try:
        data = read_regular_bytes(mp, what="masks file")
    except FormatError as exc:
        raise FormatError(f"cannot read masks: {exc.message}", path=mp, field="masks") from exc
    out: dict[str, np.ndarray] = {}
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            for name in ("semantic", "instances"):
                member = f"{name}.npy"
                if member not in zf.namelist():
                    continue
                with zf.open(member) as fh:
                    version = np.lib.format.read_magic(fh)
                    if version == (1, 0):
                        shape, _, dtype = np.lib.format.read_array_header_1_0(fh)
                    else:
                        shape, _, dtype = np.lib.format.read_array_header_2_0(fh)
                    check_pixels(shape or (1,), path=mp, where=member, field="shape")
                    if dtype.hasobject:
                        raise FormatError("object arrays are not masks", path=mp,
                                          where=member, field="dtype")  # fmt: skip
                with zf.open(member) as fh:
                    out[name] = np.lib.format.read_array(fh, allow_pickle=False)
    except FormatError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        raise FormatError(f"cannot read masks: {exc}", path=mp, field="masks") from exc
    return out


def load_sidecar(json_path: str | os.PathLike) -> ImageAnnotation:
    """Read an annotation written by :func:`save_sidecar`.

    Raises
    ------
    FormatError
        When the JSON, its tables or the masks file are missing or malformed.
    """
    from .validate import inside_folder

    jp = Path(json_path)
    doc = read_sidecar_doc(jp)
    arrays: dict[str, Any] = {}
    if doc.get("masks"):
        # a path read from a file never leaves that file's folder
        mp = inside_folder(jp.parent, doc["masks"], path=jp, field="masks")
        arrays = _load_masks(mp)
    try:
        return ImageAnnotation.from_tables_dict(doc["annotation"], **arrays)
    except AnnotationError as exc:  # a polygon, rotated box or keypoint set is malformed
        where = f"annotation {exc.where}" if exc.where else "annotation"
        raise exc.replace(FormatError, path=jp, where=where) from None
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
        raise FormatError(
            f"malformed annotation table: {exc!r}", path=jp, field="annotation"
        ) from exc


# -- datasets -------------------------------------------------------------------------------
@dataclass(frozen=True)
class DatasetItem:
    """One image of a dataset: a plain image file or a mask store."""

    key: str
    path: Path
    kind: str  # "image" or "store"

    @property
    def name(self) -> str:
        return self.path.name


class Dataset:
    """An ordered set of images (or mask stores) and where their annotations live.

    Build it with :meth:`open`. Items are addressed by position.

    Parameters
    ----------
    items : list of DatasetItem
    root : Path
        The folder the item keys are relative to.
    annotation_dir : Path
        Where sidecar annotations and the provenance log of image items are kept.
    """

    def __init__(self, items: Sequence[DatasetItem], root: Path, annotation_dir: Path) -> None:
        self.items = list(items)
        self.root = Path(root)
        self.annotation_dir = Path(annotation_dir)

    @classmethod
    def open(
        cls,
        sources: str | os.PathLike | Iterable[str | os.PathLike],
        *,
        annotation_dir: str | os.PathLike | None = None,
    ) -> Dataset:
        """A dataset from a folder (its images and ``*.zarr`` stores), or a list of image
        files and/or stores.

        Raises
        ------
        SessionError
            When a source does not exist, is not an image or store, or nothing is found.
        """
        if isinstance(sources, (str, os.PathLike)):
            sources = [sources]
        srcs = [Path(s) for s in sources]
        if not srcs:
            raise SessionError("no images given", field="sources", value=[])
        paths: list[Path] = []
        if len(srcs) == 1 and srcs[0].is_dir() and not _is_store(srcs[0]):
            root = srcs[0].resolve()
            paths = list_images(root) + list_stores(root)
        else:
            for s in srcs:
                if not s.exists():
                    raise SessionError("file not found", path=s, field="sources")
                if not (_is_store(s) or (s.is_file() and s.suffix.lower() in IMAGE_SUFFIXES)):
                    raise SessionError(
                        f"not an image ({', '.join(IMAGE_SUFFIXES)}) or a .zarr store",
                        path=s,
                        field="sources",
                        value=s.suffix,
                    )
                paths.append(s)
            parents = {p.resolve().parent for p in paths}
            if len(parents) > 1 and annotation_dir is None:
                # their common parent may be far up (even "/"): never write there unasked
                raise SessionError(
                    "the images come from several folders; give annotation_dir, the folder "
                    "where their annotations are kept",
                    path=os.path.commonpath(list(parents)),
                    field="annotation_dir",
                    value=sorted(str(p) for p in parents)[:3],
                )
            root = Path(os.path.commonpath(list(parents)))
            paths = [p.resolve() for p in paths]
        if not paths:
            raise SessionError("no images or stores found", path=srcs[0], field="sources")
        items = _make_items(paths, root)
        ann_dir = Path(annotation_dir) if annotation_dir is not None else root / ANNOTATION_DIR
        ds = cls(items, root, ann_dir)
        with contextlib.suppress(OSError):  # a read-only folder is read as it is
            ds.recover_imports()
        return ds

    # -- container ---------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> DatasetItem:
        return self.items[self._check(i)]

    def __iter__(self) -> Iterator[DatasetItem]:
        return iter(self.items)

    def __repr__(self) -> str:
        return f"Dataset({len(self)} items, root={str(self.root)!r})"

    def _check(self, i: int) -> int:
        n = len(self.items)
        if isinstance(i, bool) or not isinstance(i, (int, np.integer)) or not -n <= i < n:
            raise SessionError(
                f"image index must be in 0..{n - 1}", path=self.root, field="index", value=i
            )
        return int(i) % n

    def keys(self) -> list[str]:
        return [it.key for it in self.items]

    # -- locations -----------------------------------------------------------------------
    def sidecar_path(self, i: int) -> Path:
        """The JSON sidecar of item ``i`` (only meaningful for image items)."""
        return self.annotation_dir / (self[i].key.replace("/", "__") + ".json")

    @property
    def provenance_path(self) -> Path:
        """The dataset's provenance log."""
        return self.annotation_dir / PROVENANCE_FILE

    @property
    def taxonomy_path(self) -> Path:
        """The taxonomy saved with the dataset's annotations."""
        return self.annotation_dir / TAXONOMY_FILE

    def relative_name(self, i: int) -> str:
        """Item ``i``'s path relative to the root (the file name formats record)."""
        item = self[i]
        try:
            return item.path.relative_to(self.root).as_posix()
        except ValueError:
            return item.path.name

    def find(self, name: str) -> int | None:
        """The index of the item called ``name`` (key, relative path, file name or stem)."""
        # a name written on Windows (C:\data\img1.png) matches as well
        wanted = Path(str(name).replace("\\", "/")).as_posix()
        for how in (
            lambda i, it: it.key == wanted,
            lambda i, it: self.relative_name(i) == wanted,
            lambda i, it: it.path.name == Path(wanted).name,
            lambda i, it: it.path.stem == Path(wanted).stem,
        ):
            hits = [i for i, it in enumerate(self.items) if how(i, it)]
            if len(hits) == 1:
                return hits[0]
            if len(hits) > 1:
                return None
        return None

    # -- pixels and annotations ------------------------------------------------------------
    def read_image(self, i: int) -> np.ndarray:
        item = self[i]
        if item.kind != "image":
            raise SessionError(
                "item is a store; open it through the store functions",
                path=item.path,
                field="kind",
                value=item.kind,
            )
        return read_image(item.path)

    def has_annotation(self, i: int) -> bool:
        return self.sidecar_path(i).is_file()

    def load_annotation(self, i: int) -> ImageAnnotation | None:
        """The saved annotation of image item ``i``, or None when it was never saved."""
        jp = self.sidecar_path(i)
        return load_sidecar(jp) if jp.is_file() else None

    def save_annotation(self, i: int, ann: ImageAnnotation) -> Path:
        """Save ``ann`` as the sidecar of image item ``i`` (or into store item ``i``);
        returns the file or store written."""
        item = self[i]
        if item.kind == "store":
            from .store import MaskStore

            with MaskStore.open(str(item.path), "r+") as st:
                st.write_annotation(ann)
            return item.path
        if ann.image_path is None:
            ann = ann.copy()
            ann.image_path = str(item.path)
        return save_sidecar(ann, self.sidecar_path(i))

    def annotations(self) -> list[tuple[int, ImageAnnotation]]:
        """``(index, annotation)`` of every saved annotation, named by the image's path
        relative to the root (the file name interchange formats record)."""
        out = []
        for i in range(len(self)):
            if self[i].kind == "store":
                from .store import MaskStore

                with MaskStore.open(str(self[i].path), "r") as st:
                    if not st.label_names() and not st.annotation_meta.get("boxes"):
                        continue
                    ann = st.read_annotation()
                    for role in ("semantic", "instances"):
                        if getattr(ann, role) is not None:  # formats need arrays in memory
                            setattr(ann, role, np.asarray(getattr(ann, role)))
                ann.image_name = self.relative_name(i)
                out.append((i, ann))
            elif self.has_annotation(i):
                ann = load_sidecar(self.sidecar_path(i))
                ann.image_name = self.relative_name(i)
                out.append((i, ann))
        return out

    def match(self, annotations: Sequence[ImageAnnotation], source: Any = None) -> list[int]:
        """The item index of each annotation, by image name, checking image shapes.

        Raises
        ------
        FormatError
            Naming ``source`` and the annotation when no image has its name or the image's
            shape differs.
        """
        targets = []
        for ann in annotations:
            i = self.find(ann.image_name)
            if i is None:
                raise FormatError(
                    "no image of the dataset has this name",
                    path=source,
                    where=ann.image_name,
                    field="image",
                    value=ann.image_name,
                )
            if self[i].kind == "image":
                shape, _ = image_spatial_shape(self.read_image(i))
            else:
                from .store import MaskStore

                with MaskStore.open(str(self[i].path), "r") as st:
                    shape = tuple(st.shape)
            if shape != tuple(ann.shape):
                raise FormatError(
                    f"annotation shape does not match the image {self[i].path.name} {shape}",
                    path=source,
                    where=ann.image_name,
                    field="shape",
                    value=tuple(ann.shape),
                )
            targets.append(i)
        return targets

    def check_import(
        self, annotations: Sequence[ImageAnnotation], taxonomy: Any = None, source: Any = None
    ) -> list[int]:
        """Match and validate ``annotations`` as :meth:`import_annotations` would, writing
        nothing; returns the item indices they go to.

        Raises
        ------
        FormatError
            Naming ``source`` and the annotation that does not fit.
        """
        from .taxonomy import Taxonomy

        saved = Taxonomy.load(self.taxonomy_path) if self.taxonomy_path.is_file() else None
        check = saved if saved is not None else taxonomy
        for ann in annotations:
            try:
                ann.validate(check)
            except AnnotationError as exc:
                raise exc.replace(FormatError, path=source) from exc
        return self.match(annotations, source)

    def import_annotations(
        self,
        annotations: Sequence[ImageAnnotation],
        taxonomy: Any = None,
        source: Any = None,
        *,
        provenance: Sequence[dict[str, Any]] = (),
    ) -> list[int]:
        """Save ``annotations`` as the sidecars of the images they name; all or nothing.

        Every annotation is matched and validated (against the dataset's saved taxonomy,
        else ``taxonomy``) before anything is written. ``taxonomy`` is saved with the
        dataset when it has none. The sidecars, the taxonomy and the ``provenance``
        entries are one transaction: everything is written into a staging folder, a
        manifest written last commits it, then the files are moved into place and the
        entries appended; a crash before the manifest leaves the dataset as it was, a
        crash after it is completed by the next :meth:`open`. Store items are written
        into their stores afterwards. Returns the item indices written.
        """
        targets = self.check_import(annotations, taxonomy, source)
        write_taxonomy = (
            not self.taxonomy_path.is_file() and taxonomy is not None and len(taxonomy) > 0
        )
        sidecars = []
        stores = []
        for i, ann in zip(targets, annotations):
            ann = ann.copy()
            ann.image_name = self[i].key
            if self[i].kind == "store":
                stores.append((i, ann))
            else:
                if ann.image_path is None:
                    ann.image_path = str(self[i].path)
                sidecars.append((i, ann))
        self._commit_import(sidecars, taxonomy if write_taxonomy else None, provenance)
        for i, ann in stores:
            self.save_annotation(i, ann)
        return targets

    # -- import transactions ----------------------------------------------------------------
    def _commit_import(
        self,
        sidecars: Sequence[tuple[int, ImageAnnotation]],
        taxonomy: Any,
        provenance: Sequence[dict[str, Any]],
    ) -> None:
        import shutil
        import uuid

        from .provenance import ProvenanceLog

        folder = self.annotation_dir
        folder.mkdir(parents=True, exist_ok=True)
        self.recover_imports()
        token = uuid.uuid4().hex[:16]
        stage = folder / f"{_IMPORT_PREFIX}{token}"
        stage.mkdir()
        moves: list[str] = []
        remove: list[str] = []
        try:
            for i, ann in sidecars:
                jp = self.sidecar_path(i)
                old = _current_masks(jp)
                text, npz_name, npz = _sidecar_payload(ann, jp)
                if npz_name is not None and npz is not None:
                    _write_synced(stage / npz_name, npz)
                    moves.append(npz_name)
                _write_synced(stage / jp.name, text.encode())
                moves.append(jp.name)
                if old is not None and old != npz_name:
                    remove.append(old)
            if taxonomy is not None:
                taxonomy.save(stage / TAXONOMY_FILE)
                moves.append(TAXONOMY_FILE)
            manifest = {
                "moves": moves,
                "remove": remove,
                "provenance": [dict(e) for e in provenance],
                "log_count": len(ProvenanceLog(self.provenance_path)),
            }
            # the commit point: with the manifest in place the import is done
            atomic_write_text(
                folder / f"{_IMPORT_PREFIX}{token}.json", json.dumps(manifest) + "\n"
            )
        except BaseException:
            shutil.rmtree(stage, ignore_errors=True)
            raise
        self._roll_forward(folder / f"{_IMPORT_PREFIX}{token}.json")

    def recover_imports(self) -> int:
        """Finish imports committed before a crash and drop staged ones that were not;
        returns the number of imports finished."""
        import shutil

        folder = self.annotation_dir
        if not folder.is_dir():
            return 0
        done = 0
        for p in sorted(folder.glob(f"{_IMPORT_PREFIX}*")):
            if p.is_dir() and not p.with_name(p.name + ".json").exists():
                shutil.rmtree(p, ignore_errors=True)  # never committed: roll back
            elif p.is_file() and p.suffix == ".json":
                self._roll_forward(p)
                done += 1
        return done

    def _roll_forward(self, manifest_path: Path) -> None:
        import shutil

        from .provenance import ProvenanceLog
        from .validate import load_json

        folder = self.annotation_dir
        stage = manifest_path.with_suffix("")
        m = load_json(manifest_path, what="import manifest")
        if not isinstance(m, dict) or not isinstance(m.get("moves"), list):
            raise FormatError("malformed import manifest", path=manifest_path, field="moves")
        for name in m["moves"]:
            src = stage / str(name)
            if src.exists():
                os.replace(src, inside_folder_path(folder, str(name), manifest_path))
        for name in m.get("remove") or []:
            _remove_quietly(folder, str(name))
        entries = m.get("provenance") or []
        if entries:
            log = ProvenanceLog(self.provenance_path)
            have = len(log) - int(m.get("log_count") or 0)
            for e in entries[max(have, 0) :]:
                log.append(e)
        shutil.rmtree(stage, ignore_errors=True)
        manifest_path.unlink()

    def saved_summary(self, i: int) -> dict[str, Any] | None:
        """The summary stored in item ``i``'s sidecar (no mask is read), or None."""
        jp = self.sidecar_path(i)
        if not jp.is_file():
            return None
        doc = read_sidecar_doc(jp)
        return doc.get("summary") or summarize(load_sidecar(jp))


_IMPORT_PREFIX = ".import-"


def _write_synced(path: Path, data: bytes) -> None:
    with open(path, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def inside_folder_path(folder: Path, name: str, source: Path) -> Path:
    """``folder / name`` for a file name read from ``source``, kept inside ``folder``."""
    from .validate import inside_folder

    return inside_folder(folder, name, path=source, field="moves")


def _is_store(p: Path) -> bool:
    return p.is_dir() and (
        p.name.lower().endswith(".zarr")
        or (p / "zarr.json").is_file()
        or (p / ".zgroup").is_file()
    )


def _stem(rel: str, store: bool) -> str:
    name = Path(rel).name
    if store:
        for suffix in (".zarr", ".ome"):
            if name.lower().endswith(suffix):
                name = name[: -len(suffix)]
    elif "." in name:
        name = name.rsplit(".", 1)[0]
    parent = Path(rel).parent.as_posix()
    return name if parent in (".", "") else f"{parent}/{name}"


def _make_items(paths: list[Path], root: Path) -> list[DatasetItem]:
    rel = []
    for p in paths:
        try:
            rel.append(p.relative_to(root).as_posix())
        except ValueError:
            rel.append(p.as_posix().lstrip("/"))
    stems = [_stem(r, _is_store(p)) for p, r in zip(paths, rel)]
    dupes = {s for s in stems if stems.count(s) > 1}
    items = []
    for p, r, s in zip(paths, rel, stems):
        kind = "store" if _is_store(p) else "image"
        items.append(DatasetItem(key=r if s in dupes else s, path=p, kind=kind))
    return items
