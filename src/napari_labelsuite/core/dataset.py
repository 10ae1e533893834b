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
saving leaves the previous annotation readable.
"""

from __future__ import annotations

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
        ``labeled`` (any object, box or non-zero mask pixel), ``reviewed`` (there is at
        least one object or box and none is still ``"todo"``), ``n_objects``, ``n_boxes``,
        one count per review status, ``objects_per_class`` and ``boxes_per_class``
        (class id as str -> count) and ``semantic_pixels`` (class id as str -> pixels).
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
    return {
        "labeled": bool(n_items or semantic_pixels or has_instances),
        "reviewed": bool(n_items) and counts["todo"] == 0,
        "n_objects": len(ann.objects),
        "n_boxes": len(ann.boxes),
        **counts,
        "objects_per_class": per_class,
        "boxes_per_class": box_class,
        "semantic_pixels": semantic_pixels,
    }


# -- sidecars -------------------------------------------------------------------------------
def save_sidecar(ann: ImageAnnotation, json_path: str | os.PathLike) -> Path:
    """Write ``ann`` as ``json_path`` plus a ``.npz`` of its masks beside it (atomic)."""
    jp = Path(json_path)
    masks = {
        name: np.asarray(arr)
        for name in ("semantic", "instances")
        if (arr := getattr(ann, name)) is not None
    }
    npz_name = None
    if masks:
        npz_name = jp.with_suffix(".npz").name
        buf = io.BytesIO()
        np.savez_compressed(buf, **masks)
        atomic_write_bytes(jp.with_suffix(".npz"), buf.getvalue())
    doc = {
        "format": SIDECAR_FORMAT,
        "version": 1,
        "annotation": ann.tables_to_dict(),
        "summary": summarize(ann),
        "masks": npz_name,
    }
    atomic_write_text(jp, json.dumps(doc, indent=1) + "\n")
    return jp


def read_sidecar_doc(json_path: str | os.PathLike) -> dict[str, Any]:
    """The sidecar JSON document, checked for its format marker."""
    jp = Path(json_path)
    try:
        doc = json.loads(jp.read_text(encoding="utf-8"))
    except OSError as exc:
        raise FormatError(f"cannot read annotation: {exc.strerror}", path=jp) from exc
    except ValueError as exc:
        raise FormatError(f"annotation file is not valid JSON: {exc}", path=jp) from exc
    if not isinstance(doc, dict) or doc.get("format") != SIDECAR_FORMAT:
        raise FormatError(
            "not a napari-labelsuite annotation file",
            path=jp,
            field="format",
            value=doc.get("format") if isinstance(doc, dict) else type(doc).__name__,
        )
    if not isinstance(doc.get("annotation"), dict):
        raise FormatError("missing 'annotation' table", path=jp, field="annotation")
    return doc


def load_sidecar(json_path: str | os.PathLike) -> ImageAnnotation:
    """Read an annotation written by :func:`save_sidecar`.

    Raises
    ------
    FormatError
        When the JSON, its tables or the masks file are missing or malformed.
    """
    jp = Path(json_path)
    doc = read_sidecar_doc(jp)
    arrays: dict[str, Any] = {}
    if doc.get("masks"):
        mp = jp.parent / str(doc["masks"])
        try:
            with np.load(mp, allow_pickle=False) as npz:
                arrays = {k: npz[k] for k in ("semantic", "instances") if k in npz.files}
        except (OSError, ValueError) as exc:
            raise FormatError(f"cannot read masks: {exc}", path=mp, field="masks") from exc
    try:
        return ImageAnnotation.from_tables_dict(doc["annotation"], **arrays)
    except (KeyError, TypeError, ValueError) as exc:
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
            root = Path(os.path.commonpath([p.resolve().parent for p in paths]))
            paths = [p.resolve() for p in paths]
        if not paths:
            raise SessionError("no images or stores found", path=srcs[0], field="sources")
        items = _make_items(paths, root)
        ann_dir = Path(annotation_dir) if annotation_dir is not None else root / ANNOTATION_DIR
        return cls(items, root, ann_dir)

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
        wanted = Path(str(name)).as_posix()
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

    def import_annotations(
        self, annotations: Sequence[ImageAnnotation], taxonomy: Any = None, source: Any = None
    ) -> list[int]:
        """Save ``annotations`` as the sidecars of the images they name; all or nothing.

        Every annotation is matched and validated (against the dataset's saved taxonomy,
        else ``taxonomy``) before anything is written. ``taxonomy`` is saved with the
        dataset when it has none. Returns the item indices written.
        """
        from .taxonomy import Taxonomy

        saved = Taxonomy.load(self.taxonomy_path) if self.taxonomy_path.is_file() else None
        check = saved if saved is not None else taxonomy
        for ann in annotations:
            try:
                ann.validate(check)
            except AnnotationError as exc:
                raise exc.replace(FormatError, path=source) from exc
        targets = self.match(annotations, source)
        if saved is None and taxonomy is not None and len(taxonomy):
            taxonomy.save(self.taxonomy_path)
        for i, ann in zip(targets, annotations):
            ann = ann.copy()
            ann.image_name = self[i].key
            self.save_annotation(i, ann)
        return targets

    def saved_summary(self, i: int) -> dict[str, Any] | None:
        """The summary stored in item ``i``'s sidecar (no mask is read), or None."""
        jp = self.sidecar_path(i)
        if not jp.is_file():
            return None
        doc = read_sidecar_doc(jp)
        return doc.get("summary") or summarize(load_sidecar(jp))


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
