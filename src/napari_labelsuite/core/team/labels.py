"""Each annotator's labels, kept apart so that several people label one dataset at once.

* A dataset of image files: each annotator's sidecars (the usual format, written with
  :func:`~napari_labelsuite.core.dataset.save_sidecar`) live in
  ``<annotations>/annotators/<annotator>/``, named like the dataset's own sidecars. A
  session working as an annotator holds that folder's lock (:func:`lock_annotator`), so the
  same annotator in a second process gets an error naming the holder instead of silently
  overwriting; distinct annotators never wait for each other.
* A mask store: each annotator's label images are named ``<base>.<annotator>``
  (``instances.alice``) with the role of ``base``; opening the store for an annotator
  (:func:`open_for_annotator`) takes the lock of that annotator's label images only, so two
  annotators write one store at the same time without waiting for each other.
"""

from __future__ import annotations

import contextlib
import os
import socket
from pathlib import Path
from typing import Any

from ..annotation import ImageAnnotation
from ..dataset import Dataset, load_sidecar, save_sidecar
from ..errors import StoreError, TeamError
from ..store.lock import LOCK_NAME, StoreLock
from .assignments import ANNOTATOR_PATTERN, validate_annotator

__all__ = [
    "annotator_annotations",
    "annotator_dir",
    "annotator_label_name",
    "annotator_sidecar_path",
    "has_annotator_annotation",
    "list_annotators",
    "load_annotator_annotation",
    "lock_annotator",
    "open_for_annotator",
    "parse_annotator_label_name",
    "release_annotator_lock",
    "save_annotator_annotation",
]


# -- datasets of image files ----------------------------------------------------------------
def annotator_dir(ds: Dataset, annotator: str) -> Path:
    """The folder of ``annotator``'s sidecars in dataset ``ds``."""
    return Path(ds.annotation_dir) / "annotators" / validate_annotator(annotator)


def annotator_sidecar_path(ds: Dataset, i: int, annotator: str) -> Path:
    """The sidecar of item ``i`` for ``annotator`` (named like the dataset's own)."""
    return annotator_dir(ds, annotator) / ds.sidecar_path(i).name


def has_annotator_annotation(ds: Dataset, i: int, annotator: str) -> bool:
    """True when ``annotator`` saved item ``i`` (a store item: has its label images)."""
    if ds[i].kind == "store":
        from ..store import MaskStore

        with MaskStore.open(str(ds[i].path), "r") as st:
            return any(parse_annotator_label_name(n)[1] == annotator for n in st.label_names())
    return annotator_sidecar_path(ds, i, annotator).is_file()


def load_annotator_annotation(ds: Dataset, i: int, annotator: str) -> ImageAnnotation | None:
    """``annotator``'s saved annotation of item ``i``, or None when there is none.

    For a store item the masks are the store's lazy arrays of ``<base>.<annotator>``.

    Raises
    ------
    TeamError
        When the saved annotation (or label image) has another shape than the image.
    """
    i = ds._check(i)
    if ds[i].kind == "store":
        from ..store import MaskStore

        with MaskStore.open(str(ds[i].path), "r") as st:
            return read_annotator_annotation(st, annotator)
    jp = annotator_sidecar_path(ds, i, annotator)
    if not jp.is_file():
        return None
    ann = load_sidecar(jp)
    shape = _image_shape(ds, i)
    if tuple(ann.shape) != shape:
        raise TeamError(
            f"{annotator}'s annotation has another shape than the image {shape}",
            path=jp,
            where=ds[i].key,
            field="shape",
            value=tuple(ann.shape),
        )
    return ann


def save_annotator_annotation(ds: Dataset, i: int, annotator: str, ann: ImageAnnotation) -> Path:
    """Save ``ann`` as ``annotator``'s annotation of item ``i``; returns the file or store.

    The shape is checked against the item's image (or store) first, and against the
    annotator's earlier save; nothing is written on error.

    Raises
    ------
    TeamError
        Unknown annotator name, or an annotation of another shape than the image.
    """
    i = ds._check(i)
    validate_annotator(annotator)
    item = ds[i]
    if item.kind == "store":
        with open_for_annotator(str(item.path), annotator) as st:
            write_annotator_annotation(st, annotator, ann)
        return item.path
    shape = _image_shape(ds, i)
    if tuple(ann.shape) != shape:
        raise TeamError(
            f"{annotator}'s annotation has another shape than the image {shape}",
            path=annotator_sidecar_path(ds, i, annotator),
            where=item.key,
            field="shape",
            value=tuple(ann.shape),
        )
    if ann.image_path is None:
        ann = ann.copy()
        ann.image_path = str(item.path)
    folder = annotator_dir(ds, annotator)
    folder.mkdir(parents=True, exist_ok=True)
    return save_sidecar(ann, folder / ds.sidecar_path(i).name)


def annotator_annotations(ds: Dataset, annotator: str) -> dict[int, ImageAnnotation]:
    """Item index -> ``annotator``'s saved annotation, for every item they saved."""
    validate_annotator(annotator)
    out: dict[int, ImageAnnotation] = {}
    for i in range(len(ds)):
        ann = load_annotator_annotation(ds, i, annotator)
        if ann is not None:
            ann.image_name = ds.relative_name(i)
            out[i] = ann
    return out


def list_annotators(ds: Dataset) -> list[str]:
    """Annotators with saved sidecars in the dataset (sorted); a folder holding only a
    lock (an annotator who has only looked so far) does not count."""
    root = Path(ds.annotation_dir) / "annotators"
    if not root.is_dir():
        return []
    return sorted(
        p.name
        for p in root.iterdir()
        if p.is_dir()
        and ANNOTATOR_PATTERN.fullmatch(p.name)
        and any(f.suffix == ".json" and not f.name.startswith(".") for f in p.iterdir())
    )


def lock_annotator(ds: Dataset, annotator: str, user: str) -> StoreLock | None:
    """Take ``annotator``'s lock on dataset ``ds`` (``annotators/<annotator>/.labelsuite.lock``).

    Held while a session works as ``annotator``; release it with
    :func:`release_annotator_lock`. A lock this process already holds (another session of
    the same process) is shared: None is returned and nothing is taken. A lock left by a
    process of this host that no longer runs is taken over.

    Raises
    ------
    TeamError
        When another process works as ``annotator`` on ``ds``; the message names it
        (user, host, pid, since).
    """
    folder = annotator_dir(ds, annotator)
    lock = StoreLock(str(folder), user, display=str(folder), scope="annotator")
    try:
        for attempt in range(3):
            folder.mkdir(parents=True, exist_ok=True)
            try:
                lock.acquire()
                break
            except FileNotFoundError:  # the folder of a lock just released was removed
                if attempt == 2:
                    raise
    except StoreError:
        held = lock.holder()
        if held is not None and held.pid == os.getpid() and held.host == socket.gethostname():
            return None
        who = held.describe() if held is not None else "a process writing its lock right now"
        raise TeamError(
            f"annotator {annotator!r} is at work on this dataset in another session: {who}; "
            "close it there first, or work as another annotator",
            path=folder / LOCK_NAME,
            field="annotator",
            value=annotator,
        ) from None
    return lock


def release_annotator_lock(lock: StoreLock | None) -> None:
    """Release a lock of :func:`lock_annotator`; its folder goes too when nothing else is in
    it (an annotator who only looked leaves no trace)."""
    if lock is None:
        return
    lock.release()
    with contextlib.suppress(OSError):  # not empty: sidecars (or another lock) are kept
        os.rmdir(lock.root)


def _image_shape(ds: Dataset, i: int) -> tuple[int, ...]:
    """The spatial shape of image item ``i`` (from the file header when it has one)."""
    from ..dataset import image_spatial_shape

    shape = _header_shape(ds[i].path)
    if shape is not None:
        return shape
    return image_spatial_shape(ds.read_image(i))[0]


def _header_shape(path: Path) -> tuple[int, ...] | None:
    """Spatial shape from the image header without decoding pixels (PNG/JPEG/TIFF)."""
    try:
        from PIL import Image

        with Image.open(path) as im:
            if getattr(im, "n_frames", 1) != 1:
                return None
            return (int(im.height), int(im.width))
    except Exception:  # not an image PIL reads without decoding: decode it instead
        return None


# -- mask stores --------------------------------------------------------------------------------
def annotator_label_name(base: str, annotator: str) -> str:
    """The label image of ``annotator`` for the role image ``base``: ``base.annotator``."""
    return f"{base}.{validate_annotator(annotator)}"


def parse_annotator_label_name(name: str) -> tuple[str, str | None]:
    """``("instances", "alice")`` for ``instances.alice``; ``(name, None)`` otherwise.

    The base is the part before the first dot, so annotator names may contain dots.
    """
    base, sep, rest = name.partition(".")
    if sep and base and ANNOTATOR_PATTERN.fullmatch(rest):
        return base, rest
    return name, None


def open_for_annotator(
    path: str | os.PathLike, annotator: str, storage_options: dict[str, Any] | None = None
) -> Any:
    """Open a mask store to write ``annotator``'s label images only (a ``MaskStore``).

    Takes the lock of each ``<base>.<annotator>`` label image (creating one takes the
    store's lock for a moment); another annotator's label images and the root metadata
    stay read-only. See :meth:`MaskStore.open` with ``annotator=``.
    """
    from ..store import MaskStore

    return MaskStore.open(
        path, "r+", annotator=validate_annotator(annotator), storage_options=storage_options
    )


def read_annotator_annotation(st: Any, annotator: str) -> ImageAnnotation | None:
    """``annotator``'s document in an open store, or None when they have no label image."""
    validate_annotator(annotator)
    names = {parse_annotator_label_name(n)[0]: n for n in st.label_names()
             if parse_annotator_label_name(n)[1] == annotator}  # fmt: skip
    if not names:
        return None
    for n in names.values():
        if tuple(st.labels(n).shape) != tuple(st.shape):
            raise TeamError(
                f"annotator label image has another shape than the store {tuple(st.shape)}",
                path=st.path,
                where=f"labels/{n}",
                field="shape",
                value=tuple(st.labels(n).shape),
            )
    sem = next((n for b, n in names.items() if st.role(n) == "semantic"), None)
    ins = next((n for b, n in names.items() if st.role(n) == "instances"), None)
    ann = st.read_annotation(semantic=sem, instances=ins)
    meta = st.label_annotation_meta(ins or sem)
    if meta:
        from ..annotation import ImageAnnotation as _IA

        doc = ann.tables_to_dict()
        doc.update({k: v for k, v in meta.items() if k != "objects"})
        ann = _IA.from_tables_dict(doc, semantic=ann.semantic, instances=ann.instances)
    if sem is None:
        ann.semantic = None
    if ins is None:
        ann.instances = None
    return ann


def write_annotator_annotation(st: Any, annotator: str, ann: ImageAnnotation) -> Any:
    """Write ``ann`` into ``annotator``'s label images of the open store ``st`` and save."""
    return st.write_annotation(
        ann,
        semantic=annotator_label_name("semantic", annotator),
        instances=annotator_label_name("instances", annotator),
    )
