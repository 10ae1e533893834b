"""Box arrays and conversions.

Coordinates follow :mod:`napari_labelsuite.core.annotation`: continuous pixel-edge
coordinates (pixel ``(r, c)`` covers ``[c, c+1) x [r, r+1)``). napari draws pixel ``(r, c)``
centred on ``(r, c)``, so a box's napari rectangle corners are its edges minus 0.5.

Array forms (``(N, 4)`` float arrays):

* ``xyxy``  — ``x0, y0, x1, y1`` (Pascal VOC style, 0-based, end-exclusive)
* ``xywh``  — ``x0, y0, w, h`` (COCO ``bbox``)
* ``cxcywh`` — ``cx, cy, w, h`` (YOLO, before normalisation)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from scipy import ndimage as ndi

from .annotation import Box
from .errors import AnnotationError

__all__ = [
    "box_iou",
    "boxes_from_instances",
    "boxes_to_napari",
    "clip_xyxy",
    "convert",
    "napari_to_boxes",
    "napari_to_xyxy",
    "object_slices",
    "xyxy_to_napari",
]

_FORMATS = ("xyxy", "xywh", "cxcywh")


def _as_n4(a: Any, name: str = "boxes") -> np.ndarray:
    arr = np.asarray(a, dtype=np.float64)
    if arr.size == 0:
        return arr.reshape(0, 4)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != 4:
        raise AnnotationError("boxes must be an (N, 4) array", field=name, value=arr.shape)
    return arr


def convert(boxes: Any, src: str, dst: str) -> np.ndarray:
    """Convert an ``(N, 4)`` array between ``"xyxy"``, ``"xywh"`` and ``"cxcywh"``."""
    for f, n in ((src, "src"), (dst, "dst")):
        if f not in _FORMATS:
            raise AnnotationError(f"box format must be one of {_FORMATS}", field=n, value=f)
    b = _as_n4(boxes)
    if src == "xywh":
        b = np.column_stack([b[:, 0], b[:, 1], b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]])
    elif src == "cxcywh":
        hw, hh = b[:, 2] / 2, b[:, 3] / 2
        b = np.column_stack([b[:, 0] - hw, b[:, 1] - hh, b[:, 0] + hw, b[:, 1] + hh])
    if dst == "xyxy":
        return b.copy()
    w, h = b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]
    if dst == "xywh":
        return np.column_stack([b[:, 0], b[:, 1], w, h])
    return np.column_stack([b[:, 0] + w / 2, b[:, 1] + h / 2, w, h])


def clip_xyxy(boxes: Any, width: float, height: float) -> np.ndarray:
    """Clip ``xyxy`` boxes to ``[0, width] x [0, height]`` (boxes may become empty)."""
    b = _as_n4(boxes).copy()
    b[:, [0, 2]] = np.clip(b[:, [0, 2]], 0, width)
    b[:, [1, 3]] = np.clip(b[:, [1, 3]], 0, height)
    return b


def box_iou(a: Any, b: Any) -> np.ndarray:
    """Pairwise IoU of ``xyxy`` boxes: ``(N, 4) x (M, 4) -> (N, M)``."""
    a, b = _as_n4(a, "a"), _as_n4(b, "b")
    ix0 = np.maximum(a[:, None, 0], b[None, :, 0])
    iy0 = np.maximum(a[:, None, 1], b[None, :, 1])
    ix1 = np.minimum(a[:, None, 2], b[None, :, 2])
    iy1 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(ix1 - ix0, 0, None) * np.clip(iy1 - iy0, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, inter / union, 0.0)


# -- napari shapes <-> boxes ----------------------------------------------------------------
def xyxy_to_napari(xyxy: Sequence[float], plane: Sequence[int] = ()) -> np.ndarray:
    """One box -> the 4 vertices of a napari rectangle, ``(4, len(plane) + 2)``.

    Vertex order matches what napari stores for a rectangle: (y0,x0), (y1,x0), (y1,x1),
    (y0,x1), each shifted by -0.5 so the rectangle hugs the pixels it covers.
    """
    x0, y0, x1, y1 = (float(v) - 0.5 for v in xyxy)
    corners = np.array([[y0, x0], [y1, x0], [y1, x1], [y0, x1]])
    if len(plane):
        lead = np.broadcast_to(np.asarray(plane, float), (4, len(plane)))
        corners = np.hstack([lead, corners])
    return corners


def napari_to_xyxy(vertices: Any) -> tuple[tuple[float, float, float, float], tuple[int, ...]]:
    """A napari rectangle (or any shape) -> its enclosing ``xyxy`` box and plane index.

    The plane index is taken from the leading coordinates (rounded); a shape whose
    vertices lie on different planes raises AnnotationError.
    """
    v = np.asarray(vertices, dtype=np.float64)
    if v.ndim != 2 or v.shape[1] < 2:
        raise AnnotationError("shape vertices must be (n, ndim>=2)", field="data", value=v.shape)
    lead = v[:, :-2]
    plane: tuple[int, ...] = ()
    if lead.shape[1]:
        r = np.round(lead).astype(np.int64)
        if np.any(r != r[0]):
            raise AnnotationError("a box must lie on one plane", field="data", value=lead.tolist())
        plane = tuple(int(p) for p in r[0])
    ys, xs = v[:, -2] + 0.5, v[:, -1] + 0.5
    return (float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max())), plane


def boxes_to_napari(boxes: Iterable[Box], ndim: int = 2) -> list[np.ndarray]:
    """Boxes -> napari rectangle vertex arrays of dimension ``ndim``."""
    out = []
    for b in boxes:
        plane = tuple(b.plane)
        if len(plane) != ndim - 2:
            raise AnnotationError(
                f"box plane needs {ndim - 2} indices for a {ndim}D layer",
                field="plane",
                value=plane,
            )
        out.append(xyxy_to_napari(b.xyxy, plane))
    return out


def napari_to_boxes(data: Iterable[Any], class_ids: Iterable[int]) -> list[Box]:
    """napari rectangles + per-shape class ids -> :class:`Box` objects."""
    out = []
    for verts, cid in zip(data, class_ids):
        xyxy, plane = napari_to_xyxy(verts)
        out.append(Box(*xyxy, class_id=int(cid), plane=plane))
    return out


# -- masks -> boxes -------------------------------------------------------------------------
def object_slices(labels: np.ndarray) -> dict[int, tuple[slice, ...]]:
    """Bounding-box slices of every positive label of an integer array, by id (ascending).

    ``scipy.ndimage.find_objects`` makes one list entry per id up to the largest, so when the
    largest id is far above the number of pixels (e.g. uint64 ids near 2**40) the ids are
    first made compact with ``np.unique`` and the slices are mapped back to the real ids.
    """
    arr = np.asarray(labels)
    if arr.size == 0:
        return {}
    top = int(arr.max())
    if top <= 0:
        return {}
    if top <= 4 * arr.size:
        found = ndi.find_objects(arr)
        return {k: sl for k, sl in enumerate(found, start=1) if sl is not None}
    ids, inv = np.unique(arr, return_inverse=True)
    positive = ids > 0
    lut = np.zeros(len(ids), dtype=np.intp)
    lut[positive] = np.arange(1, int(positive.sum()) + 1)
    compact = lut[inv.reshape(arr.shape)]
    return {int(k): sl for k, sl in zip(ids[positive].tolist(), ndi.find_objects(compact))}


def boxes_from_instances(
    labels: Any, objects: dict | None = None, default_class: int = 0
) -> list[Box]:
    """One box per instance and plane of an instance mask.

    For nD masks (``(..., y, x)``) each instance gets a box on every plane where it has
    pixels, linked through ``instance_id``. Cost is one pass of
    ``scipy.ndimage.find_objects`` per plane (see :func:`object_slices`).

    Parameters
    ----------
    labels : array-like of int
        Instance mask (numpy, zarr or dask; planes are read one at a time).
    objects : dict of int to ObjectInfo, optional
        Supplies each box's class id (and attributes).
    default_class : int
        Class id for instances missing from ``objects``.
    """
    labels_shape = tuple(labels.shape)
    if len(labels_shape) < 2:
        raise AnnotationError(
            "instance mask needs at least 2 dimensions", field="labels", value=labels_shape
        )
    objects = objects or {}
    out: list[Box] = []
    for plane in np.ndindex(*labels_shape[:-2]):
        arr = np.asarray(labels[plane] if plane else labels)
        if arr.dtype.kind not in "ui":
            raise AnnotationError(
                "instance mask must be integer", field="labels", value=str(arr.dtype)
            )
        if arr.dtype.kind == "i" and arr.size and arr.min() < 0:
            raise AnnotationError(
                "instance ids must be >= 0", field="labels", value=int(arr.min())
            )
        for idx, sl in object_slices(arr).items():
            info = objects.get(idx)
            out.append(
                Box(
                    x0=float(sl[1].start),
                    y0=float(sl[0].start),
                    x1=float(sl[1].stop),
                    y1=float(sl[0].stop),
                    class_id=int(info.class_id) if info is not None else default_class,
                    plane=tuple(int(p) for p in plane),
                    instance_id=idx,
                    attributes=dict(info.attributes) if info is not None else {},
                )
            )
    return out
