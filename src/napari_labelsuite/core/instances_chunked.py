"""Whole-image instance operations on arrays larger than memory (zarr, dask, numpy).

The work goes block by block; only a few blocks and the id tables are in memory at a time.
Each operation exists as a generator ``iter_*`` that yields once per block and pass (so a
GUI can show progress and cancel by closing the generator; ``out`` is then incomplete) and as
a plain function that runs it to the end.

Connected components are labelled per block; components that meet across a block face are
joined through a union of their ids, and a second pass writes the global, sequential ids.
The result equals :func:`napari_labelsuite.core.instances.label_components` on the whole
array up to renumbering (ids are numbered in block order).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from .errors import InstanceError
from .instances import _check_labels, label_components

__all__ = [
    "block_slices",
    "count_steps",
    "iter_label_components",
    "iter_relabel_sequential",
    "iter_remove_small",
    "label_components_chunked",
    "relabel_sequential_chunked",
    "remove_small_chunked",
]


def _chunks_of(arr: Any, chunks: Any) -> tuple[int, ...]:
    if chunks is None:
        chunks = getattr(arr, "chunks", None)
        if chunks is not None and not isinstance(chunks[0], (int, np.integer)):
            chunks = tuple(c[0] for c in chunks)  # dask: regular chunks
    if chunks is None:
        chunks = 1024
    if np.isscalar(chunks):
        chunks = (int(chunks),) * arr.ndim
    chunks = tuple(int(c) for c in chunks)
    if len(chunks) != arr.ndim or min(chunks) < 1:
        raise InstanceError(
            "chunks must give a positive size per axis", field="chunks", value=chunks
        )
    return chunks


def block_slices(shape: tuple[int, ...], chunks: tuple[int, ...]) -> list[tuple[slice, ...]]:
    """The blocks of a regular grid, in C order."""
    ranges = [range(0, n, c) for n, c in zip(shape, chunks)]
    return [
        tuple(slice(s, min(s + c, n)) for s, c, n in zip(starts, chunks, shape))
        for starts in itertools.product(*ranges)
    ]


def count_steps(shape: tuple[int, ...], chunks: Any, passes: int = 2) -> int:
    """How many progress steps an ``iter_*`` generator yields."""
    chunks = (chunks,) * len(shape) if np.isscalar(chunks) else chunks
    return passes * int(np.prod([-(-n // c) for n, c in zip(shape, chunks)]))


def _check_out(src: Any, out: Any) -> None:
    if tuple(out.shape) != tuple(src.shape):
        raise InstanceError(
            "out must have the shape of the input",
            field="out",
            value=(tuple(out.shape), tuple(src.shape)),
        )
    if np.dtype(out.dtype).kind not in "iu":
        raise InstanceError("out must be an integer array", field="out", value=str(out.dtype))


def _map_blocks(src: Any, out: Any, blocks, lut: np.ndarray) -> Iterator[int]:
    for sl in blocks:
        block = np.asarray(src[sl])
        out[sl] = lut[block].astype(out.dtype, copy=False)
        yield 1


# -- connected components ----------------------------------------------------------------
def iter_label_components(
    mask: Any, out: Any, *, connectivity: int = 1, chunks: Any = None
) -> Iterator[int]:
    """Label ``mask`` (binary or semantic) into ``out`` block by block, yielding progress.

    Parameters
    ----------
    mask : array-like (zarr, dask or numpy)
        Binary or semantic mask; different classes never join.
    out : writable integer array of the same shape (e.g. a zarr array)
        Receives ids 1..n; its dtype must hold n.
    connectivity : int
        Only 1 (face neighbours, as :func:`scipy.ndimage.label`) is supported here.
    chunks : int or tuple, optional
        Block shape (default: ``out``'s chunks, else ``mask``'s, else 1024).

    Returns
    -------
    The number of components, as the generator's return value.
    """
    _check_out(mask, out)
    if connectivity != 1:
        raise InstanceError(
            "chunked labelling supports face connectivity (1) only",
            field="connectivity",
            value=connectivity,
        )
    chunks = _chunks_of(out if chunks is None and hasattr(out, "chunks") else mask, chunks)
    blocks = block_slices(tuple(mask.shape), chunks)
    pairs: list[np.ndarray] = []
    total = 0
    for sl in blocks:
        m = np.asarray(mask[sl])
        if m.dtype != bool:
            _check_labels(m, "mask")
        lab = label_components(m, connectivity=1).astype(np.int64)
        n = int(lab.max())
        lab[lab > 0] += total
        total += n
        out[sl] = lab.astype(out.dtype, copy=False)
        # join with the already written blocks before this one along each axis
        for ax, s in enumerate(sl):
            if s.start == 0 or n == 0:
                continue
            prev = list(sl)
            prev[ax] = slice(s.start - 1, s.start)
            here = [slice(None)] * m.ndim
            here[ax] = slice(0, 1)
            here_t = tuple(here)
            a = np.asarray(out[tuple(prev)]).astype(np.int64).ravel()
            ma = np.asarray(mask[tuple(prev)]).ravel()
            b, mb = lab[here_t].ravel(), m[here_t].ravel()
            touch = (a > 0) & (b > 0) & (ma == mb)
            if touch.any():
                pairs.append(np.unique(np.stack([a[touch], b[touch]]), axis=1))
        yield 1
    lut = _union_lut(total, pairs)
    yield from _map_blocks(out, out, blocks, lut)
    return int(lut.max()) if lut.size else 0


def _union_lut(total: int, pairs: list[np.ndarray]) -> np.ndarray:
    """Old id -> sequential component id, components joined by the id pairs."""
    if total == 0:
        return np.zeros(1, np.int64)
    edges = np.concatenate(pairs, axis=1) if pairs else np.zeros((2, 0), np.int64)
    graph = sparse.coo_matrix(
        (np.ones(edges.shape[1], bool), (edges[0], edges[1])), shape=(total + 1, total + 1)
    )
    _, comp = connected_components(graph, directed=False)
    # number components in order of their smallest member (i.e. block order)
    _, first = np.unique(comp[1:], return_index=True)
    rank = np.empty(comp.max() + 1, np.int64)
    rank[comp[1:][np.sort(first)]] = np.arange(1, first.size + 1)
    lut = rank[comp]
    lut[0] = 0
    return lut


def label_components_chunked(mask: Any, out: Any, **kw: Any) -> int:
    """Run :func:`iter_label_components` to the end; returns the number of components."""
    return _drain(iter_label_components(mask, out, **kw))


# -- id maps: remove small, relabel ------------------------------------------------------
def _iter_ids(labels: Any, blocks) -> Iterator[np.ndarray]:
    for sl in blocks:
        block = np.asarray(labels[sl])
        _check_labels(block)
        yield block


def iter_remove_small(
    labels: Any, out: Any, min_size: int, *, chunks: Any = None
) -> Iterator[int]:
    """Write ``labels`` without objects smaller than ``min_size`` pixels into ``out``."""
    _check_labels(labels, values=False)
    _check_out(labels, out)
    if not isinstance(min_size, (int, np.integer)) or min_size < 0:
        raise InstanceError(
            "min_size must be a non-negative integer", field="min_size", value=min_size
        )
    blocks = block_slices(tuple(labels.shape), _chunks_of(labels, chunks))
    ids_seen = np.zeros(0, np.int64)
    sizes = np.zeros(0, np.int64)
    for block in _iter_ids(labels, blocks):
        u, c = np.unique(block, return_counts=True)
        ids_seen, inv = np.unique(np.concatenate([ids_seen, u]), return_inverse=True)
        merged = np.zeros(ids_seen.size, np.int64)
        np.add.at(merged, inv, np.concatenate([sizes, c]))
        sizes = merged
        yield 1
    keep = ids_seen[(sizes >= min_size) | (ids_seen == 0)]
    yield from _iter_apply_sorted_map(labels, out, blocks, keep, keep)


def _iter_apply_sorted_map(labels, out, blocks, old: np.ndarray, new: np.ndarray):
    """Map sorted ``old`` ids to ``new``; ids not in ``old`` become 0."""
    for sl in blocks:
        block = np.asarray(labels[sl]).astype(np.int64)
        pos = np.clip(np.searchsorted(old, block), 0, max(old.size - 1, 0))
        hit = old[pos] == block if old.size else np.zeros(block.shape, bool)
        res = np.where(hit, new[pos] if new.size else 0, 0)
        out[sl] = res.astype(out.dtype, copy=False)
        yield 1


def iter_relabel_sequential(labels: Any, out: Any, *, chunks: Any = None) -> Iterator[int]:
    """Write ``labels`` renumbered 1..n (order kept) into ``out``."""
    _check_labels(labels, values=False)
    _check_out(labels, out)
    blocks = block_slices(tuple(labels.shape), _chunks_of(labels, chunks))
    seen = np.zeros(0, np.int64)
    for block in _iter_ids(labels, blocks):
        seen = np.union1d(seen, np.unique(block))
        yield 1
    seen = seen[seen != 0]
    yield from _iter_apply_sorted_map(labels, out, blocks, seen, np.arange(1, seen.size + 1))
    return int(seen.size)


def remove_small_chunked(labels: Any, out: Any, min_size: int, **kw: Any) -> None:
    """Run :func:`iter_remove_small` to the end."""
    _drain(iter_remove_small(labels, out, min_size, **kw))


def relabel_sequential_chunked(labels: Any, out: Any, **kw: Any) -> int:
    """Run :func:`iter_relabel_sequential` to the end; returns the number of objects."""
    return _drain(iter_relabel_sequential(labels, out, **kw))


def _drain(gen: Iterator[int]) -> Any:
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            return stop.value
