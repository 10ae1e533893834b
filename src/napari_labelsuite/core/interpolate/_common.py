"""Helpers shared by slice interpolation, propagation and tracking: checks and boxes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from ..blocks import iter_blocks
from ..errors import InterpolateError
from ..instances import find_bboxes

Region = tuple[slice, ...]

#: block edge used to scan lazy (zarr, dask) arrays for object boxes when they have no chunks
_SCAN_BLOCK = 256


def check_labels(labels: Any, *, min_ndim: int = 3) -> None:
    """An integer label array with at least ``min_ndim`` axes (a stack or time series)."""
    dtype = getattr(labels, "dtype", None)
    ndim = getattr(labels, "ndim", 0)
    if dtype is None or np.dtype(dtype).kind not in "iu":
        raise InterpolateError(
            "labels must be an integer label array",
            field="labels",
            value=str(dtype) if dtype is not None else type(labels).__name__,
        )
    if ndim < min_ndim:
        raise InterpolateError(
            f"labels need at least {min_ndim} axes (a stack or a time series)",
            field="labels",
            value=tuple(labels.shape),
        )


def check_axis(axis: Any, ndim: int) -> int:
    """``axis`` as a non-negative axis index of an ``ndim``-D array."""
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise InterpolateError("axis must be an integer", field="axis", value=axis)
    if not -ndim <= int(axis) < ndim:
        raise InterpolateError(
            f"axis out of range for a {ndim}D array (use 0..{ndim - 1})",
            field="axis",
            value=int(axis),
        )
    return int(axis) % ndim


def check_image(image: Any, shape: tuple[int, ...]) -> None:
    if image is None:
        return
    if tuple(getattr(image, "shape", ())) != tuple(shape):
        raise InterpolateError(
            f"image must have the labels' shape {tuple(shape)}",
            field="image",
            value=tuple(getattr(image, "shape", ())),
        )


def check_ids(label_id: Any) -> list[int] | None:
    """``None`` (all objects) or a list of positive integer ids."""
    if label_id is None:
        return None
    items = [label_id] if np.isscalar(label_id) else list(label_id)
    out = []
    for v in items:
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or int(v) <= 0:
            raise InterpolateError(
                "label ids must be positive integers", field="label_id", value=v
            )
        out.append(int(v))
    return list(dict.fromkeys(out))


def _chunk_shape(arr: Any) -> tuple[int, ...]:
    chunks = getattr(arr, "chunks", None)
    if chunks is not None and len(chunks) == arr.ndim:
        if not isinstance(chunks[0], (int, np.integer)):
            chunks = tuple(max(c) for c in chunks)  # dask: the largest block per axis
        return tuple(int(c) for c in chunks)
    return tuple(min(n, _SCAN_BLOCK) for n in arr.shape)


def object_boxes(labels: Any, ids: Sequence[int] | None = None) -> dict[int, Region]:
    """Bounding boxes of ``ids`` (all ids when None) of an in-memory or lazy label array.

    numpy arrays use :func:`~napari_labelsuite.core.instances.find_bboxes`; zarr and dask
    arrays are scanned block by block (each chunk is read once; nothing else is held).
    """
    if isinstance(labels, np.ndarray):
        if labels.ndim < 3 or (ids is not None and len(ids) <= 4) or not labels.size:
            return find_bboxes(labels, ids)
        # sparse keyframe stacks: search only the planes (along axis 0) that hold labels
        occupied = np.flatnonzero(labels.reshape(len(labels), -1).any(1))
        if len(occupied) == len(labels):
            return find_bboxes(labels, ids)
        found = find_bboxes(labels[occupied], ids)
        return {
            i: (slice(int(occupied[b[0].start]), int(occupied[b[0].stop - 1]) + 1), *b[1:])
            for i, b in found.items()
        }
    chunks = _chunk_shape(labels)
    lo: dict[int, np.ndarray] = {}
    hi: dict[int, np.ndarray] = {}
    for region in iter_blocks(labels.shape, chunks):
        block = np.asarray(labels[region])
        if not block.any():
            continue
        origin = np.asarray([r.start for r in region])
        for iid, box in find_bboxes(block, ids).items():
            a = origin + [s.start for s in box]
            b = origin + [s.stop for s in box]
            lo[iid] = np.minimum(lo[iid], a) if iid in lo else a
            hi[iid] = np.maximum(hi[iid], b) if iid in hi else b
    return {i: tuple(slice(int(a), int(b)) for a, b in zip(lo[i], hi[i])) for i in sorted(lo)}


def grow(box: Region, shape: Sequence[int], margin: int, axes: Iterable[int]) -> Region:
    """``box`` grown by ``margin`` along ``axes``, clipped to ``shape``."""
    axes = set(axes)
    return tuple(
        slice(max(s.start - margin, 0), min(s.stop + margin, n)) if k in axes else s
        for k, (s, n) in enumerate(zip(box, shape))
    )


def drain(gen: Any) -> Any:
    """Run a progress generator to its end and return its return value."""
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            return stop.value
