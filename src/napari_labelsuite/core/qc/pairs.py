"""Sparse pair counting between two label images of any size.

Agreement metrics reduce to one question: how many pixels carry label ``i`` in image ``a``
and label ``j`` in image ``b``? The answer is a sparse table of ``(i, j, count)`` triples.
It is built block by block (so zarr / dask arrays larger than memory are read one slab at a
time) with ``np.bincount`` on a combined integer key, never with per-pair masks or a dense
objects x objects matrix.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..blocks import iter_blocks as _iter_blocks
from ..errors import QCError

__all__ = ["PairCounts", "iter_blocks", "pair_counts"]

#: Elements read per block; 4 Mi keeps the temporaries of one block in a few tens of MB.
BLOCK_ELEMS = 1 << 22
_ID_LIMIT = 1 << 31  # ids are packed as (a << 32) | b in an int64 key


@dataclass
class PairCounts:
    """Pixel counts of label pairs ``(a_id, b_id)``.

    The pair ``(0, 0)`` is stored only when counted with ``include_background=True``.

    Attributes
    ----------
    a, b : ndarray of int64
        Label in the first and second image (0 = background).
    count : ndarray of int64
        Number of pixels with that pair.
    """

    a: np.ndarray
    b: np.ndarray
    count: np.ndarray

    def areas_a(self) -> tuple[np.ndarray, np.ndarray]:
        """``(ids, areas)`` of the non-zero labels of ``a``."""
        return _group_sum(self.a, self.count)

    def areas_b(self) -> tuple[np.ndarray, np.ndarray]:
        """``(ids, areas)`` of the non-zero labels of ``b``."""
        return _group_sum(self.b, self.count)

    def overlaps(self) -> PairCounts:
        """Only the pairs where both labels are non-zero (the intersections)."""
        m = (self.a != 0) & (self.b != 0)
        return PairCounts(self.a[m], self.b[m], self.count[m])


def _group_sum(ids: np.ndarray, count: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    m = ids != 0
    u, inv = np.unique(ids[m], return_inverse=True)
    return u, np.bincount(inv, weights=count[m], minlength=len(u)).astype(np.int64)


def iter_blocks(shape: tuple[int, ...], block_elems: int | None = None) -> Iterator[tuple]:
    """Blocks that tile ``shape`` in C order with about ``block_elems`` elements each.

    :func:`napari_labelsuite.core.blocks.iter_blocks` with a budget of ``block_elems``
    (default :data:`BLOCK_ELEMS`): the trailing axes whole while they fit.
    """
    return _iter_blocks(shape, max_elems=block_elems or BLOCK_ELEMS)


def _read(arr: Any, sl: tuple) -> np.ndarray:
    return np.asarray(arr[sl]).ravel()


def _check_ids(v: np.ndarray, name: str) -> None:
    if v.dtype.kind not in "uib":
        raise QCError("label image must have an integer dtype", field=name, value=str(v.dtype))
    if v.dtype.kind != "i" and v.dtype.itemsize < 4 or v.size == 0:
        return
    if v.dtype.kind == "i" and v.min() < 0:
        raise QCError("labels must be >= 0", field=name, value=int(v.min()))
    if v.max() >= _ID_LIMIT:
        raise QCError(f"labels must be < {_ID_LIMIT}", field=name, value=int(v.max()))


def _compact(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values of ``v`` and each element's index into them."""
    if v.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    mx = int(v.max())
    if mx <= max(1 << 20, 2 * v.size):
        present = np.bincount(v, minlength=mx + 1) > 0
        lut = np.cumsum(present, dtype=np.int64) - 1
        return np.flatnonzero(present).astype(np.int64), lut[v]
    u, inv = np.unique(v, return_inverse=True)
    return u.astype(np.int64), inv.astype(np.int64).ravel()


def _count_block(av: np.ndarray, bv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Combined keys ``(a << 32) | b`` and their counts for one block of values."""
    if av.size and av.dtype.itemsize == 1 and bv.dtype.itemsize == 1:
        # fast path for class masks: a uint16 key and 65536 bins (bincount of uint16 is fast)
        k = np.left_shift(av, 8, dtype=np.uint16)
        np.bitwise_or(k, bv, out=k)
        cnt = np.bincount(k, minlength=1 << 16)
        nz = np.flatnonzero(cnt)
        return (nz >> 8).astype(np.int64) << 32 | (nz & 0xFF), cnt[nz].astype(np.int64)
    ua, ia = _compact(av)
    ub, ib = _compact(bv)
    na, nb = len(ua), len(ub)
    key = ia * nb + ib
    if na * nb <= max(1 << 22, 4 * key.size):
        cnt = np.bincount(key, minlength=na * nb)
        nz = np.flatnonzero(cnt)
        c = cnt[nz]
    else:
        nz, c = np.unique(key, return_counts=True)
    return ua[nz // nb] << 32 | ub[nz % nb], c.astype(np.int64)


def pair_counts(
    a: Any, b: Any, *, include_background: bool = False, block_elems: int | None = None
) -> PairCounts:
    """Count the label pairs of two label images of the same shape.

    Parameters
    ----------
    a, b : array-like of int
        numpy, zarr or dask arrays; read one block at a time.
    include_background : bool
        Also count the ``(0, 0)`` pair (needed for confusion matrices); otherwise only
        pixels where either image is non-zero are counted.
    block_elems : int, optional
        Elements per block (default :data:`BLOCK_ELEMS`).

    Returns
    -------
    PairCounts
    """
    if tuple(a.shape) != tuple(b.shape):
        raise QCError(
            f"label images must have the same shape, first is {tuple(a.shape)}",
            field="b",
            value=tuple(b.shape),
        )
    keys: list[np.ndarray] = []
    counts: list[np.ndarray] = []
    for sl in iter_blocks(tuple(a.shape), block_elems):
        av, bv = _read(a, sl), _read(b, sl)
        _check_ids(av, "a")
        _check_ids(bv, "b")
        av = av.view(np.uint8) if av.dtype == bool else av
        bv = bv.view(np.uint8) if bv.dtype == bool else bv
        if not include_background:
            m = av != 0
            m |= bv != 0
            av, bv = av[m], bv[m]
        if av.size == 0:
            continue
        k, c = _count_block(av, bv)
        keys.append(k)
        counts.append(c)
    if not keys:
        z = np.zeros(0, np.int64)
        return PairCounts(z, z.copy(), z.copy())
    if len(keys) == 1:
        key, cnt = keys[0], counts[0]
    else:
        key, inv = np.unique(np.concatenate(keys), return_inverse=True)
        cnt = np.bincount(inv.ravel(), weights=np.concatenate(counts)).astype(np.int64)
    if not include_background:
        keep = key != 0
        key, cnt = key[keep], cnt[keep]
    return PairCounts(key >> 32, key & 0xFFFFFFFF, cnt)
