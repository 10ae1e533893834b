"""Conversions between semantic masks, instance masks and boxes; per-class counts.

Conventions (see :mod:`napari_labelsuite.core.annotation`): semantic masks hold class ids,
instance masks hold instance ids with an instance -> class table (``objects``).

Functions that scan a whole mask work block by block along the first axis, so they accept
numpy, zarr and dask arrays without loading a lazy array at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from . import blocks
from .annotation import Box, ObjectInfo
from .boxes import boxes_from_instances
from .errors import AnnotationError
from .instances import label_components

__all__ = [
    "class_counts",
    "contains_value",
    "instances_to_boxes",
    "instances_to_semantic",
    "iter_blocks",
    "replace_values",
    "semantic_to_instances",
]

#: target number of elements per block when the array has no chunking of its own
_BLOCK_ELEMENTS = 1 << 22
#: elements per np.bincount call (the int64 cast of a piece stays in cache)
_COUNT_PIECE = 1 << 18


def _is_small_uint(a: np.ndarray) -> bool:
    return a.dtype.kind == "u" and a.dtype.itemsize <= 2


#: above this largest label, a bincount table would be bigger than the block itself
_BINCOUNT_LIMIT = 1 << 24


def _check_int(arr: Any, name: str) -> None:
    if np.dtype(arr.dtype).kind not in "ui":
        raise AnnotationError(
            f"{name} must have an integer dtype", field=name, value=str(arr.dtype)
        )


def _block_rows(arr: Any) -> int:
    shape = tuple(arr.shape)
    chunks = getattr(arr, "chunks", None)
    # zarr: a tuple of ints; dask: a tuple of tuples of block sizes
    if chunks and isinstance(chunks[0], (int, np.integer)):
        return max(1, int(chunks[0]))
    if chunks and isinstance(chunks[0], tuple) and chunks[0]:
        return max(1, int(max(chunks[0])))
    row = int(np.prod(shape[1:], dtype=np.int64)) if len(shape) > 1 else 1
    return max(1, _BLOCK_ELEMENTS // max(row, 1))


def iter_blocks(arr: Any, block_rows: int | None = None) -> Iterator[tuple[slice, np.ndarray]]:
    """Yield ``(rows, block)`` numpy blocks of ``arr`` along its first axis.

    The block height follows the array's chunking (zarr, dask) or about 4M elements.
    """
    n = int(arr.shape[0]) if arr.ndim else 1
    step = block_rows or _block_rows(arr)
    for (sl,) in blocks.iter_blocks((n,), (step,)):
        yield sl, np.asarray(arr[sl])


def _n_blocks(arr: Any, block_rows: int | None) -> int:
    step = block_rows or _block_rows(arr)
    return -(-int(arr.shape[0]) // step) if arr.ndim else 1


def class_counts(
    labels: Any,
    *,
    block_rows: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[int, int]:
    """Pixel count of every label value present in ``labels``.

    A ``np.bincount`` per block (``np.unique`` sorts and is far slower); labels larger
    than 2**24 in a block fall back to ``np.unique`` for that block.

    Parameters
    ----------
    labels : array-like of int
        Mask (numpy, zarr or dask), read one block of rows at a time.
    block_rows : int, optional
        Rows per block (defaults to the array's chunk height or ~4M elements).
    progress : callable, optional
        ``progress(done_blocks, total_blocks)`` after each block.

    Returns
    -------
    dict of int to int
        Label value -> pixel count, for values that occur (0 included), sorted.
    """
    _check_int(labels, "labels")
    if labels.ndim == 0:
        return {int(labels[()]): 1}
    total = np.zeros(0, dtype=np.int64)
    extra: dict[int, int] = {}
    n_blocks = _n_blocks(labels, block_rows)
    for k, (_, block) in enumerate(iter_blocks(labels, block_rows)):
        flat = block.ravel()
        if flat.size:
            if flat.dtype.kind == "i" and flat.min() < 0:
                raise AnnotationError(
                    "label values must be >= 0", field="labels", value=int(flat.min())
                )
            # uint8/uint16 need no max scan: the table has a fixed, small size
            top = (1 << (8 * flat.dtype.itemsize)) - 1 if _is_small_uint(flat) else int(flat.max())
            if top < _BINCOUNT_LIMIT:
                if total.size <= top:
                    total = np.concatenate([total, np.zeros(top + 1 - total.size, np.int64)])
                # bincount in cache-sized pieces: several times faster than one big call
                for start in range(0, flat.size, _COUNT_PIECE):
                    piece = flat[start : start + _COUNT_PIECE]
                    total[: top + 1] += np.bincount(piece, minlength=top + 1)[: top + 1]
            else:
                vals, cnt = np.unique(flat, return_counts=True)
                for v, c in zip(vals.tolist(), cnt.tolist()):
                    extra[v] = extra.get(v, 0) + c
        if progress is not None:
            progress(k + 1, n_blocks)
    nz = np.flatnonzero(total)
    out = dict(zip(nz.tolist(), total[nz].tolist()))
    for v, c in extra.items():
        out[v] = out.get(v, 0) + c
    return dict(sorted(out.items()))


def contains_value(labels: Any, value: int, *, block_rows: int | None = None) -> bool:
    """True when ``value`` occurs in ``labels`` (stops at the first block that has it)."""
    return any(bool((block == value).any()) for _, block in iter_blocks(labels, block_rows))


def replace_values(labels: Any, mapping: dict[int, int], *, block_rows: int | None = None) -> int:
    """Relabel ``labels`` in place (numpy or zarr), block by block; returns pixels changed."""
    if not mapping:
        return 0
    src = np.fromiter(mapping, dtype=np.int64)
    dst = np.fromiter(mapping.values(), dtype=np.int64)
    order = np.argsort(src)
    src_sorted, dst_sorted = src[order], dst[order]
    changed = 0
    for sl, block in iter_blocks(labels, block_rows):
        hit = np.isin(block, src)
        if not hit.any():
            continue
        new = block.copy()
        new[hit] = dst_sorted[np.searchsorted(src_sorted, block[hit])]
        labels[sl] = new
        changed += int(hit.sum())
    return changed


def _class_lut(objects: dict[int, ObjectInfo], dtype: Any) -> np.ndarray:
    top = max(objects, default=0)
    lut = np.zeros(top + 1, dtype=dtype)
    for iid, o in objects.items():
        lut[int(iid)] = int(o.class_id)
    return lut


def _smallest_uint(top: int) -> np.dtype:
    for dt in (np.uint8, np.uint16, np.uint32):
        if top <= np.iinfo(dt).max:
            return np.dtype(dt)
    return np.dtype(np.uint64)


def instances_to_semantic(
    instances: Any, objects: dict[int, ObjectInfo], dtype: Any = None
) -> Any:
    """Class-id mask from an instance mask and its instance -> class table.

    Instances missing from ``objects`` become background (0). A dask input gives a dask
    array (lazy); anything else gives a numpy array, computed block by block.
    """
    _check_int(instances, "instances")
    top_class = max((int(o.class_id) for o in objects.values()), default=0)
    dtype = np.dtype(dtype) if dtype is not None else _smallest_uint(top_class)
    lut = _class_lut(objects, dtype)

    def _map(block: np.ndarray) -> np.ndarray:
        inside = block < lut.size
        out = np.zeros(block.shape, dtype=dtype)
        out[inside] = lut[block[inside]]
        return out

    if type(instances).__module__.startswith("dask"):
        return instances.map_blocks(_map, dtype=dtype)
    if isinstance(instances, np.ndarray):
        return _map(instances)
    out = np.zeros(tuple(instances.shape), dtype=dtype)
    for sl, block in iter_blocks(instances):
        out[sl] = _map(block)
    return out


def semantic_to_instances(
    semantic: Any,
    classes: list[int] | None = None,
    *,
    connectivity: int = 1,
    per_plane: bool = False,
) -> tuple[np.ndarray, dict[int, ObjectInfo]]:
    """Instances = connected components of each class of a semantic mask.

    Parameters
    ----------
    semantic : array-like of int
        Class-id mask (loaded into memory).
    classes : list of int, optional
        Classes to convert (default: every non-zero value present).
    connectivity : int
        1 = faces only, ``ndim`` = also corners (``scipy.ndimage.generate_binary_structure``).
    per_plane : bool
        For nD masks, label each ``(y, x)`` plane separately instead of in nD.

    Returns
    -------
    instances : ndarray of int32
        Instance ids 1..N, numbered class by class.
    objects : dict of int to ObjectInfo
        Each instance's class.
    """
    _check_int(semantic, "semantic")
    sem = np.asarray(semantic)
    if classes is None:
        classes = [c for c in class_counts(sem) if c != 0]
    classes = list(dict.fromkeys(int(c) for c in classes))
    if not classes or sem.size == 0:
        return np.zeros(sem.shape, dtype=np.int32), {}
    # one labelling of all classes at once: pixels hold their class's rank in ``classes``
    code_type = np.min_scalar_type(len(classes))
    if _is_small_uint(sem):
        table = np.zeros(np.iinfo(sem.dtype).max + 1, code_type)
        for r, c in enumerate(classes, 1):
            if 0 <= c < table.size:
                table[c] = r
        code = table[sem]
    else:
        ranked = np.array(sorted(classes), dtype=np.int64)
        rank_of = np.array([classes.index(c) + 1 for c in ranked], dtype=np.int64)
        pos = np.clip(np.searchsorted(ranked, sem), 0, ranked.size - 1)
        code = np.where(ranked[pos] == sem, rank_of[pos], 0).astype(code_type)
    ndim = 2 if per_plane and sem.ndim > 2 else sem.ndim
    conn = min(connectivity, ndim)
    if ndim == sem.ndim:
        out = label_components(code, connectivity=conn)
        n = int(out.max())
    else:
        out, n = np.zeros(sem.shape, dtype=np.int32), 0
        for plane in np.ndindex(*sem.shape[:-2]):
            lab = label_components(code[plane], connectivity=conn)
            k = int(lab.max())
            lab[lab > 0] += n
            out[plane] = lab
            n += k
    if n == 0:
        return out, {}
    rank = np.zeros(n + 1, np.int64)
    rank[out.ravel()] = code.ravel()  # every pixel of a component has the same class
    # ids are in order of first pixel (plane by plane); number them class by class
    order = np.argsort(rank[1:], kind="stable")
    if np.any(np.diff(order) < 0):
        lut = np.zeros(n + 1, np.int32)
        lut[order + 1] = np.arange(1, n + 1, dtype=np.int32)
        out = lut[out]
    rank = rank[1:][order]
    objects = {i: ObjectInfo(class_id=classes[int(r) - 1]) for i, r in enumerate(rank, 1)}
    return out, objects


def instances_to_boxes(instances: Any, objects: dict[int, ObjectInfo] | None = None) -> list[Box]:
    """One box per instance and plane, with the instance's class (see ``boxes_from_instances``)."""
    return boxes_from_instances(instances, objects or {})
