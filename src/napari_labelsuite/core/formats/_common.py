"""Helpers shared by the format modules: staged (all-or-nothing) writes, names, polygons."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
from scipy import ndimage as ndi

from ..annotation import ImageAnnotation
from ..boxes import object_slices
from ..errors import AnnotationError, FormatError

__all__ = [
    "OutlineIndex",
    "ReadReport",
    "WriteReport",
    "StagedFiles",
    "check_annotations",
    "validate_read",
    "kept_outline",
    "mask_polygons",
    "outline_index",
    "plane_label",
    "polygons_to_mask",
    "unique_stems",
]


@dataclass
class ReadReport:
    """What a reader found and what it inferred, for the import report and ``validate``.

    Readers take an optional ``report`` and add notes to it (a remapped category id, a
    file that looked 0-based, a size taken from the image file...). The registry fills in
    the format and the counts.

    Attributes
    ----------
    format : str
        The format the path was read as (``"coco"``, ``"labelme"``...).
    layout : str
        The layout inside that format, when it has several (``"ultralytics"``,
        ``"darknet"``, ``"roboflow"``...).
    images, instances, boxes, points, polylines, semantic, rotated, keypoints : int
        What was read (``semantic``: images with a class mask; ``rotated``: rotated
        boxes; ``keypoints``: keypoint sets).
    notes : list of str
        What was inferred or repaired, one sentence each.
    category_ids : dict of int to int
        File category id -> class id, for the ids that were changed on reading (see
        :meth:`export_ids` to write the file's own ids back).
    """

    format: str = ""
    layout: str = ""
    images: int = 0
    instances: int = 0
    boxes: int = 0
    points: int = 0
    polylines: int = 0
    semantic: int = 0
    rotated: int = 0
    keypoints: int = 0
    notes: list[str] = field(default_factory=list)
    category_ids: dict[int, int] = field(default_factory=dict)

    def note(self, message: str) -> None:
        if message not in self.notes:
            self.notes.append(message)

    @property
    def objects(self) -> int:
        return (
            self.instances + self.boxes + self.points + self.polylines + self.semantic
            + self.rotated + self.keypoints
        )  # fmt: skip

    def export_ids(self) -> dict[int, int]:
        """Class id -> the id the source file used (pass as ``category_ids`` to a writer)."""
        return {v: k for k, v in self.category_ids.items()}

    def count(self, annotations: list[ImageAnnotation]) -> None:
        """Fill the counts from what was read."""
        self.images = len(annotations)
        self.instances = sum(len(a.objects) for a in annotations)
        # a class mask counts as read (its pixels are not scanned: masks may be lazy)
        self.semantic = sum(1 for a in annotations if a.semantic is not None)
        self.boxes = sum(len(a.boxes) for a in annotations)
        self.points = sum(len(a.metadata.get("points") or ()) for a in annotations)
        self.polylines = sum(len(a.metadata.get("polylines") or ()) for a in annotations)
        self.rotated = sum(len(a.rotated) for a in annotations)
        self.keypoints = sum(len(a.keypoints) for a in annotations)

    def summary(self) -> str:
        kind = f"{self.format} ({self.layout})" if self.layout else self.format
        text = f"{kind}: {self.images} images, {self.instances} instances, {self.boxes} boxes"
        if self.points:
            text += f", {self.points} points"
        if self.polylines:
            text += f", {self.polylines} polylines"
        if self.semantic:
            text += f", {self.semantic} semantic masks"
        if self.rotated:
            text += f", {self.rotated} rotated boxes"
        if self.keypoints:
            text += f", {self.keypoints} keypoint sets"
        return text + "".join(f"; {n}" for n in self.notes)


@dataclass
class WriteReport:
    """What an export wrote and what its format could not hold.

    Attributes
    ----------
    format : str
        The format written.
    files : int
        Number of files written.
    not_written : dict of str to int
        Marks the format cannot carry (``{"points": 3, "polylines": 1}``): COCO, YOLO,
        VOC and masks hold no points or polylines, Label Studio no polylines.
    """

    format: str = ""
    files: int = 0
    not_written: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        text = f"{self.format}: {self.files} file(s) written"
        lost = {k: n for k, n in self.not_written.items() if n}
        if lost:
            what = " and ".join(f"{n} {k if n != 1 else k[:-1]}" for k, n in lost.items())
            text += f"; {what} not written ({self.format} cannot hold them)"
        return text


class StagedFiles:
    """Write many files under ``root`` so that either all of them appear or none does.

    Files are written into a hidden staging directory next to ``root``
    (``.<root>.<pid>.<random>.tmp``). An exception inside the ``with`` block removes it and
    leaves ``root`` untouched; staging folders of writers that died (SIGKILL) are removed
    by the next writer.

    Parameters
    ----------
    root : path
        The folder receiving the files.
    replace : sequence of str, optional
        Glob patterns (relative, ``/``-separated) of the files this format owns in
        ``root``. When given, the new export *replaces* every owned file: stale files of a
        previous export (an image no longer annotated) disappear, other files (a YOLO
        ``images/`` folder) are carried over by hard links, and the staged folder takes
        the place of ``root`` in one atomic exchange (``renameat2`` on Linux; elsewhere two
        renames, which the next writer completes after a crash). Without it, files are
        moved into ``root`` one by one.
    """

    def __init__(self, root: str | os.PathLike, replace: tuple[str, ...] | None = None) -> None:
        self.root = Path(root)
        self.replace = tuple(replace) if replace is not None else None
        self._tmp: Path | None = None
        self.files: list[str] = []

    def __enter__(self) -> StagedFiles:
        if self.root.exists() and not self.root.is_dir():
            raise FormatError(
                "a file exists where the output folder should be", path=self.root, field="path"
            )
        self.root.parent.mkdir(parents=True, exist_ok=True)
        _clean_stale_stages(self.root)
        self._tmp = Path(
            tempfile.mkdtemp(
                prefix=f".{self.root.name}.{os.getpid()}.", suffix=".tmp", dir=self.root.parent
            )
        )
        return self

    def path(self, rel: str) -> Path:
        """Temporary path to write ``rel`` (relative to ``root``) to."""
        assert self._tmp is not None
        p = self._tmp / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if rel not in self.files:
            self.files.append(rel)
        return p

    def write_text(self, rel: str, text: str) -> None:
        self.path(rel).write_text(text, encoding="utf-8")

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        assert self._tmp is not None
        try:
            if exc_type is None:
                if self.replace is not None:
                    self._swap_in()
                else:
                    for rel in self.files:
                        dst = self.root / rel
                        dst.parent.mkdir(parents=True, exist_ok=True)
                        os.replace(self._tmp / rel, dst)
        finally:
            shutil.rmtree(self._tmp, ignore_errors=True)

    def _owned(self, rel: str) -> bool:
        import fnmatch

        return any(fnmatch.fnmatchcase(rel, pat) for pat in self.replace or ())

    def _swap_in(self) -> None:
        assert self._tmp is not None
        if self.root.is_dir():
            _carry_over(self.root, self._tmp, self._owned, set(self.files))
        _fsync_tree(self._tmp)
        if not self.root.exists():
            os.rename(self._tmp, self.root)
            return
        if _exchange(self._tmp, self.root):
            return  # the old folder now sits at self._tmp and is removed by __exit__
        old = self.root.with_name(f".{self.root.name}.{os.getpid()}.old.tmp")
        os.rename(self.root, old)
        os.rename(self._tmp, self.root)
        shutil.rmtree(old, ignore_errors=True)

    def written(self) -> list[Path]:
        return [self.root / rel for rel in self.files]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def _clean_stale_stages(root: Path) -> None:
    """Remove staging folders of dead writers; put back a folder a crash left aside."""
    import re

    pat = re.compile(rf"^\.{re.escape(root.name)}\.(\d+)\.(old|[^.]+)\.tmp$")
    for sib in root.parent.iterdir() if root.parent.is_dir() else ():
        m = pat.match(sib.name)
        if m is None or _pid_alive(int(m.group(1))):
            continue
        if m.group(2) == "old" and not root.exists():
            os.rename(sib, root)  # the crash came between the two renames: roll back
        else:
            shutil.rmtree(sib, ignore_errors=True)


def _carry_over(old: Path, new: Path, owned: Any, written: set[str]) -> None:
    """Hard-link (or copy) the files of ``old`` that the format does not own into ``new``."""
    for dirpath, dirnames, filenames in os.walk(old):
        rel_dir = Path(dirpath).relative_to(old)
        for name in filenames + [d for d in dirnames if (Path(dirpath) / d).is_symlink()]:
            rel = (rel_dir / name).as_posix()
            if rel in written or owned(rel):
                continue
            src, dst = Path(dirpath) / name, new / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            if src.is_symlink():
                os.symlink(os.readlink(src), dst)
            else:
                try:
                    os.link(src, dst)
                except OSError:
                    shutil.copy2(src, dst)
        dirnames[:] = [d for d in dirnames if not (Path(dirpath) / d).is_symlink()]
        for d in dirnames:
            (new / rel_dir / d).mkdir(parents=True, exist_ok=True)


def _fsync_tree(root: Path) -> None:
    """Flush the staged files and folders to disk before they become visible."""
    for dirpath, _, filenames in os.walk(root):
        for name in filenames:
            p = Path(dirpath) / name
            if p.is_symlink():
                continue
            with contextlib.suppress(OSError), open(p, "rb+") as fh:
                os.fsync(fh.fileno())
        with contextlib.suppress(OSError):
            fd = os.open(dirpath, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux ``renameat2(RENAME_EXCHANGE)``); False when the
    platform cannot."""
    import ctypes
    import errno
    import sys

    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    r = fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    if r == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def check_annotations(annotations: Any, taxonomy: Any, path: Any) -> list[ImageAnnotation]:
    """Validate the input of a writer; AnnotationError becomes FormatError naming ``path``."""
    if isinstance(annotations, ImageAnnotation):
        annotations = [annotations]
    annotations = list(annotations)
    for i, ann in enumerate(annotations):
        if not isinstance(ann, ImageAnnotation):
            raise FormatError(
                "expected ImageAnnotation objects",
                path=path,
                where=f"annotations[{i}]",
                value=type(ann).__name__,
            )
        try:
            ann.validate(taxonomy)
        except AnnotationError as exc:
            raise exc.replace(FormatError, path=path) from exc
    return annotations


def validate_read(annotations: list[ImageAnnotation], taxonomy: Any, path: Any) -> None:
    """Final check of what a reader built; AnnotationError becomes FormatError."""
    for ann in annotations:
        try:
            ann.validate(taxonomy)
        except AnnotationError as exc:
            raise exc.replace(FormatError, path=path) from exc


def image_stem(name: str) -> str:
    """The file stem of an image name written on any system (``C:\\data\\img1.png`` and
    ``data/img1.png`` both give ``img1``)."""
    return PurePosixPath(str(name).replace("\\", "/")).stem


def unique_stems(annotations: list[ImageAnnotation], path: Any) -> list[str]:
    """File stems of the images; two images with the same stem cannot share a folder."""
    stems: dict[str, int] = {}
    out = []
    for i, ann in enumerate(annotations):
        stem = image_stem(ann.image_name) or f"image{i}"
        if stem in stems:
            raise FormatError(
                f"two images would write the same file (annotations[{stems[stem]}] and "
                f"annotations[{i}])",
                path=path,
                where=f"annotations[{i}]",
                field="image_name",
                value=ann.image_name,
            )
        stems[stem] = i
        out.append(stem)
    return out


def planes(ann: ImageAnnotation) -> Iterator[tuple[int, ...]]:
    """Plane indices of an annotation: ``()`` for 2D, else every leading-axes index."""
    yield from np.ndindex(*ann.shape[:-2])


def plane_label(ann: ImageAnnotation, plane: tuple[int, ...]) -> str:
    """File-name suffix of one plane, e.g. ``"_z003"`` or ``"_t001_z003"`` (``""`` in 2D)."""
    if not plane:
        return ""
    lead = ann.axes[: len(plane)]
    return "".join(
        f"_{ax}{p:0{len(str(n - 1))}d}" for ax, p, n in zip(lead, plane, ann.shape[:-2])
    )


def plane_of(arr: Any, plane: tuple[int, ...]) -> np.ndarray:
    """One 2D plane of a numpy, zarr or dask array, loaded."""
    return np.asarray(arr[plane] if plane else arr)


# -- polygons ---------------------------------------------------------------------------
def iter_instance_crops(
    ann: ImageAnnotation, labels: np.ndarray
) -> Iterator[tuple[int, tuple[slice, ...], Any, np.ndarray]]:
    """``(id, bbox slices, ObjectInfo, boolean crop)`` for each instance of one plane.

    Work follows the labelled pixels: each object is cut out of its own bounding box.

    Raises
    ------
    FormatError
        For an instance id that has no entry in ``ann.objects``.
    """
    for k, sl in object_slices(labels).items():
        obj = ann.objects.get(k)
        if obj is None:
            raise FormatError(
                "instance has no entry in the object table",
                where=f"{ann.image_name} instance {k}",
                field="objects",
                value=k,
            )
        yield k, sl, obj, labels[sl] == k


def has_holes(mask: np.ndarray) -> bool:
    """True when the binary ``mask`` encloses background (4-connected) pixels."""
    return bool(np.any(ndi.binary_fill_holes(mask) != mask))


def mask_polygons(mask: np.ndarray, r0: int = 0, c0: int = 0) -> list[np.ndarray]:
    """Outer boundary polygons of a hole-free binary crop, as ``(n, 2)`` x, y arrays.

    Coordinates are pixel-edge coordinates of the full image (the crop starts at row
    ``r0``, column ``c0``). The polygons run through the midpoints between foreground and
    background pixel centres (marching squares at 0.5), so a pixel belongs to the object
    exactly when its centre lies inside one of them: :func:`polygons_to_mask` gives the mask
    back pixel for pixel. Collinear vertices are dropped.
    """
    from skimage.measure import approximate_polygon, find_contours

    padded = np.pad(mask.astype(np.uint8), 1)
    out = []
    for contour in find_contours(padded, 0.5, fully_connected="low"):
        contour = approximate_polygon(contour, tolerance=0)
        if len(contour) > 1 and np.array_equal(contour[0], contour[-1]):
            contour = contour[:-1]
        if len(contour) < 3:
            continue
        # padded centre coords -> image edge coords: -1 (pad) + 0.5 (centre -> edge)
        xy = np.column_stack([contour[:, 1] + c0 - 0.5, contour[:, 0] + r0 - 0.5])
        out.append(xy)
    return out


def polygons_to_mask(
    polygons: list[Any], height: int, width: int
) -> tuple[np.ndarray, tuple[slice, slice]] | None:
    """Rasterise x, y polygons (pixel-edge coordinates) exactly as pycocotools does.

    The union over the polygons equals ``pycocotools.mask.decode(merge(frPyObjects(...)))``
    pixel for pixel (see :func:`.rle.polygon_runs`). Returns the mask over its bounding box
    and that box's slices, or None when no pixel is inside.
    """
    from . import rle

    _, col, r0, r1 = rle.polygon_runs(polygons, height, width)
    if not col.size:
        return None
    c0, c1 = int(col.min()), int(col.max()) + 1
    ra, rb = int(r0.min()), int(r1.max())
    crop_t = np.zeros((c1 - c0, rb - ra), dtype=bool)
    crop_t.reshape(-1)[rle.run_pixels(col - c0, r0 - ra, r1 - ra, rb - ra)] = True
    return crop_t.T, (slice(ra, rb), slice(c0, c1))


class OutlineIndex:
    """An annotation's polygons by plane and instance id, for writers that keep vertices.

    :meth:`kept` tells whether an object's own rings (as read from a file or drawn on the
    polygons layer) still describe its mask exactly. The rings of a plane are rasterised
    in one batch (pycocotools' rule) the first time the plane is asked for.
    """

    def __init__(self, polygons: list[Any], height: int, width: int) -> None:
        self.height, self.width = int(height), int(width)
        self._by_plane: dict[tuple[int, ...], dict[int, list[int]]] = {}
        self._rings: dict[tuple[int, ...], list[Any]] = {}
        self._runs: dict[tuple[int, ...], tuple[np.ndarray, ...]] = {}
        for p in polygons:
            if not p.instance_id:
                continue
            plane = tuple(int(c) for c in p.plane)
            rings = self._rings.setdefault(plane, [])
            self._by_plane.setdefault(plane, {}).setdefault(int(p.instance_id), []).append(
                len(rings)
            )
            rings.append(p)

    def __bool__(self) -> bool:
        return bool(self._by_plane)

    def _plane_runs(self, plane: tuple[int, ...]) -> tuple[np.ndarray, ...]:
        if plane not in self._runs:
            from . import rle

            rings = self._rings[plane]
            owner, col, r0, r1 = rle.polygon_runs(
                [np.asarray(p.ring.xy, float) for p in rings], self.height, self.width
            )
            ids = np.arange(len(rings))
            lo = np.searchsorted(owner, ids, side="left")
            hi = np.searchsorted(owner, ids, side="right")
            self._runs[plane] = (col, r0, r1, lo, hi)
        return self._runs[plane]

    def kept(
        self, plane: tuple[int, ...], k: int, crop: np.ndarray, sl: tuple[slice, ...]
    ) -> list[Any] | None:
        """The rings of object ``k`` on ``plane`` when their raster (outer rings minus
        holes) equals its mask ``crop`` at ``sl``; else None (the mask was edited after the
        rings were read, or another object covers part of it): writers then trace the
        mask, so what they write always matches it."""
        from . import rle

        idx = self._by_plane.get(tuple(plane), {}).get(int(k))
        if not idx:
            return None
        rings = self._rings[tuple(plane)]
        col, r0, r1, lo, hi = self._plane_runs(tuple(plane))

        def runs(hole: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            parts = [np.arange(lo[i], hi[i]) for i in idx if rings[i].ring.hole == hole]
            sel = np.concatenate(parts) if parts else np.zeros(0, np.int64)
            return col[sel], r0[sel], r1[sel]

        oc, oa, ob = runs(False)
        if not oc.size:
            return None
        ra, rb = min(int(oa.min()), sl[0].start), max(int(ob.max()), sl[0].stop)
        ca, cb = min(int(oc.min()), sl[1].start), max(int(oc.max()) + 1, sl[1].stop)
        rh = rb - ra
        ours_t = np.zeros((cb - ca, rh), bool)  # column-major, as the runs
        ours_t.reshape(-1)[rle.run_pixels(oc - ca, oa - ra, ob - ra, rh)] = True
        hc, ha, hb = runs(True)
        inside = (hc >= ca) & (hc < cb)
        ha, hb = np.clip(ha[inside], ra, rb), np.clip(hb[inside], ra, rb)
        ours_t.reshape(-1)[rle.run_pixels(hc[inside] - ca, ha - ra, hb - ra, rh)] = False
        want = np.zeros((rh, cb - ca), bool)
        want[sl[0].start - ra : sl[0].stop - ra, sl[1].start - ca : sl[1].stop - ca] = crop
        return [rings[i] for i in idx] if np.array_equal(ours_t.T, want) else None


def outline_index(ann: ImageAnnotation) -> OutlineIndex:
    """The :class:`OutlineIndex` of ``ann.polygons``."""
    h, w = ann.plane_shape
    return OutlineIndex(ann.polygons, h, w)


def kept_outline(
    polygons: list[Any] | None, crop: np.ndarray, sl: tuple[slice, ...], height: int, width: int
) -> list[Any] | None:
    """``polygons`` (the rings of one object) when their raster equals its mask ``crop``
    at ``sl`` (see :meth:`OutlineIndex.kept`); else None."""
    if not polygons:
        return None
    import dataclasses

    one = [dataclasses.replace(p, instance_id=1, plane=()) for p in polygons]
    got = OutlineIndex(one, height, width).kept((), 1, crop, sl)
    return list(polygons) if got is not None else None


@contextlib.contextmanager
def reading(path: Any, where: str | None = None) -> Iterator[None]:
    """Turn OS errors while reading into FormatError naming the file."""
    try:
        yield
    except OSError as exc:
        raise FormatError(
            f"cannot read: {exc.strerror or exc}",
            path=getattr(exc, "filename", None) or path,
            where=where,
        ) from exc
