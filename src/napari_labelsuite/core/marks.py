"""Points and polylines of an annotation, and their napari Points / Shapes form.

Formats that draw single points (labelme ``point``, CVAT ``points``, Label Studio
``keypointlabels``) and open polylines (labelme ``line`` / ``linestrip``, CVAT
``polyline``) keep them in :class:`~napari_labelsuite.core.annotation.ImageAnnotation`
``metadata["points"]`` and ``metadata["polylines"]``, one dict per mark::

    {"xy": [x, y], "class_id": 1, "attributes": {...}}                      # a point
    {"xy": [[x, y], ...], "class_id": 2, "kind": "linestrip", "attributes": {...}}

with optional ``instance_id`` (the instance the mark belongs to, 0 = none), ``plane``
(indices on the leading axes of an nD image) and review ``status``/``reviewer``/
``reviewed_at``. Coordinates are continuous pixel-edge coordinates, as for boxes; napari
draws pixel ``(r, c)`` centred on ``(r, c)``, so a mark's napari position is
``(plane..., y - 0.5, x - 0.5)``.

The napari form is an ``(N, ndim)`` array (points) or a list of ``(M, ndim)`` paths
(polylines) with a features table of the same columns as the boxes table (``class``,
``class_id``, ``instance_id``, review state, one column per attribute), plus ``kind`` for
polylines.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from .errors import AnnotationError
from .tables import box_meta_from_frame, boxes_frame

__all__ = [
    "MARK_KEYS",
    "count_marks",
    "points_from_napari",
    "points_to_napari",
    "polylines_from_napari",
    "polylines_to_napari",
]

#: ``ImageAnnotation.metadata`` keys holding marks
MARK_KEYS = ("points", "polylines")
_DEFAULT_KIND = "linestrip"


class _Row:
    """The attributes ``boxes_frame`` reads, for one mark."""

    def __init__(self, mark: dict[str, Any], extra: dict[str, Any] | None = None) -> None:
        self.class_id = int(mark["class_id"])
        self.instance_id = int(mark.get("instance_id") or 0)
        self.status = mark.get("status") or "todo"
        self.reviewer = mark.get("reviewer")
        self.reviewed_at = mark.get("reviewed_at")
        self.attributes = {**(extra or {}), **dict(mark.get("attributes") or {})}


def _plane(mark: dict[str, Any], ndim: int, where: str) -> tuple[int, ...]:
    plane = tuple(int(p) for p in mark.get("plane") or ())
    if len(plane) != ndim - 2:
        raise AnnotationError(
            f"a mark on a {ndim}D layer needs {ndim - 2} plane indices",
            where=where,
            field="plane",
            value=plane,
        )
    return plane


def _xy(value: Any, where: str, n_min: int) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != 2 or len(arr) < n_min or not np.isfinite(arr).all():
        raise AnnotationError(
            f"xy must be {'a pair' if n_min == 1 else f'at least {n_min} pairs'} of finite "
            "x, y numbers",
            where=where,
            field="xy",
            value=value,
        )
    return arr


def points_to_napari(
    points: Iterable[dict[str, Any]], ndim: int = 2, taxonomy: Any = None
) -> tuple[np.ndarray, pd.DataFrame]:
    """Point marks -> (``(N, ndim)`` napari coordinates, features table).

    Raises
    ------
    AnnotationError
        A point without a finite ``[x, y]`` pair or with a wrong ``plane``.
    """
    points = list(points)
    data = np.zeros((len(points), ndim))
    for i, p in enumerate(points):
        where = f"points[{i}]"
        (x, y) = _xy(p.get("xy"), where, 1)[0]
        data[i] = (*_plane(p, ndim, where), y - 0.5, x - 0.5)
    return data, boxes_frame([_Row(p) for p in points], taxonomy)


def points_from_napari(data: Any, features: pd.DataFrame | None) -> list[dict[str, Any]]:
    """Inverse of :func:`points_to_napari` (the plane from the leading coordinates)."""
    arr = np.asarray(data, dtype=np.float64).reshape(len(data), -1)
    out = []
    for row, meta in zip(arr, box_meta_from_frame(features, len(arr))):
        out.append(_mark([float(row[-1]) + 0.5, float(row[-2]) + 0.5], row[:-2], meta))
    return out


def polylines_to_napari(
    polylines: Iterable[dict[str, Any]], ndim: int = 2, taxonomy: Any = None
) -> tuple[list[np.ndarray], pd.DataFrame]:
    """Polyline marks -> (napari ``path`` vertex arrays, features table with ``kind``)."""
    lines = list(polylines)
    data = []
    for i, ln in enumerate(lines):
        where = f"polylines[{i}]"
        xy = _xy(ln.get("xy"), where, 2)
        plane = _plane(ln, ndim, where)
        verts = np.empty((len(xy), ndim))
        verts[:, : ndim - 2] = plane
        verts[:, -2] = xy[:, 1] - 0.5
        verts[:, -1] = xy[:, 0] - 0.5
        data.append(verts)
    rows = [_Row(ln, {"kind": ln.get("kind") or _DEFAULT_KIND}) for ln in lines]
    return data, boxes_frame(rows, taxonomy)


def polylines_from_napari(data: Iterable[Any], features: pd.DataFrame | None) -> list[dict]:
    """Inverse of :func:`polylines_to_napari`; paths must lie on one plane."""
    paths = [np.asarray(v, dtype=np.float64) for v in data]
    out = []
    for i, (verts, meta) in enumerate(zip(paths, box_meta_from_frame(features, len(paths)))):
        lead = verts[:, :-2]
        if lead.size and not (lead == lead[0]).all():
            raise AnnotationError(
                "a polyline must lie on one plane",
                where=f"polylines[{i}]",
                field="plane",
                value=np.unique(lead, axis=0).tolist(),
            )
        kind = meta["attributes"].pop("kind", None) or _DEFAULT_KIND
        xy = [[float(c) + 0.5, float(r) + 0.5] for r, c in verts[:, -2:]]
        mark = _mark(xy, lead[0] if len(lead) else (), meta)
        mark["kind"] = kind
        out.append(mark)
    return out


def _mark(xy: list[Any], plane: Any, meta: dict[str, Any]) -> dict[str, Any]:
    mark: dict[str, Any] = {"xy": xy, "class_id": int(meta["class_id"])}
    if len(plane):
        mark["plane"] = [int(round(float(p))) for p in plane]
    if meta["instance_id"]:
        mark["instance_id"] = int(meta["instance_id"])
    if meta["status"] != "todo" or meta["reviewer"] or meta["reviewed_at"]:
        mark.update(status=meta["status"], reviewer=meta["reviewer"])
        mark["reviewed_at"] = meta["reviewed_at"]
    mark["attributes"] = dict(meta["attributes"])
    return mark


def count_marks(annotations: Iterable[Any]) -> dict[str, int]:
    """Number of points and of polylines over ``annotations`` (``ImageAnnotation``)."""
    counts = dict.fromkeys(MARK_KEYS, 0)
    for ann in annotations:
        for key in MARK_KEYS:
            counts[key] += len(ann.metadata.get(key) or ())
    return counts
