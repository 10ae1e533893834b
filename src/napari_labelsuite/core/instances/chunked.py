"""Whole-image instance operations on arrays larger than memory (zarr, dask, numpy).

The work goes block by block; only a few blocks and the id tables are in memory at a time.
Each operation exists as a generator ``iter_*`` that yields once per block and pass (so a
GUI can show progress and cancel by closing the generator; ``out`` is then incomplete) and as
a plain function that runs it to the end.

Connected components are labelled per block; components that meet across a block face are
joined through a union of their ids, and a second pass writes the global, sequential ids.
The result equals :func:`napari_labelsuite.core.instances.label_components` on the whole
array up to renumbering (ids are numbered in block order).

Splitting touching objects first finds every object's global bounding box (per-block
:func:`scipy.ndimage.find_objects`, merged), then splits the objects in id order, reading
only their boxes (grown by the one-pixel halo of the in-memory algorithm) in batches of
neighbouring ids, with the same per-object watershed as
:func:`napari_labelsuite.core.instances.split_touching`. New ids are given in the same
order, so the result equals the in-memory result exactly. Memory is bounded by the batch
size or the largest object's box, never by the image.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import Any

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from ..blocks import iter_blocks
from ..errors import InstanceError
from .edits import (
    InstanceEdit,
    _check_labels,
    _ids,
    _sparse_find_objects,
    _split_object,
    _split_parts,
    label_components,
    max_size_arg,
    min_distance_for_areas,
)

__all__ = [
    "block_shape",
    "block_slices",
    "count_steps",
    "iter_label_components",
    "iter_relabel_sequential",
    "iter_remove_small",
    "iter_split_touching_chunked",
    "label_components_chunked",
    "relabel_sequential_chunked",
    "remove_small_chunked",
    "split_touching_chunked",
]


def _chunks_of(arr: Any, chunks: Any) -> tuple[int, ...]:
    if chunks is None:
        chunks = getattr(arr, "chunks", None)
        if chunks is not None and not isinstance(chunks[0], (int, np.integer)):
            chunks = tuple(c[0] for c in chunks)  # dask: regular chunks
    if chunks is None:
        chunks = 1024
    if np.isscalar(chunks):
        size: Any = chunks
        chunks = (int(size),) * arr.ndim
    chunks = tuple(int(c) for c in chunks)
    if len(chunks) != arr.ndim or min(chunks) < 1:
        raise InstanceError(
            "chunks must give a positive size per axis", field="chunks", value=chunks
        )
    return chunks


def block_shape(arr: Any, chunks: Any = None) -> tuple[int, ...]:
    """The block shape chunked operations use for ``arr`` (``chunks``, else its own chunks)."""
    return _chunks_of(arr, chunks)


def block_slices(shape: tuple[int, ...], chunks: tuple[int, ...]) -> list[tuple[slice, ...]]:
    """The blocks of a regular grid, in C order (``core.blocks.iter_blocks``)."""
    return list(iter_blocks(shape, chunks))


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
) -> Generator[int, None, int]:
    """Label ``mask`` (binary or semantic) into ``out`` block by block, yielding progress.

    Parameters
    ----------
    mask : array-like (zarr, dask or numpy)
        Binary or semantic mask; different classes never join.
    out : writable integer array of the same shape (e.g. a zarr array)
        Receives ids 1..n. The first pass stores per-block ids in it, so its dtype must
        hold the sum of the blocks' component counts (else an InstanceError is raised).
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
    top_dtype = np.iinfo(out.dtype).max
    for sl in blocks:
        m = np.asarray(mask[sl])
        if m.dtype != bool:
            _check_labels(m, "mask")
        lab = label_components(m, connectivity=1).astype(np.int64)
        n = int(lab.max())
        lab[lab > 0] += total
        total += n
        if total > top_dtype:  # a cast would wrap ids onto others or the background
            raise InstanceError(
                f"out's dtype cannot hold the per-block component ids (already {total}): "
                "use a wider integer type (e.g. uint32)",
                field="out",
                value=str(out.dtype),
            )
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
    labels: Any,
    out: Any,
    max_size: int | None = None,
    *,
    chunks: Any = None,
    min_size: int | None = None,
) -> Iterator[int]:
    """Write ``labels`` without objects of ``max_size`` pixels or fewer into ``out``.

    As :func:`~napari_labelsuite.core.instances.remove_small` (``min_size``: its old name).
    """
    _check_labels(labels, values=False)
    _check_out(labels, out)
    max_size = max_size_arg(max_size, min_size)
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
    keep = ids_seen[(sizes > max_size) | (ids_seen == 0)]
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


def iter_relabel_sequential(
    labels: Any, out: Any, *, chunks: Any = None
) -> Generator[int, None, int]:
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


def remove_small_chunked(labels: Any, out: Any, max_size: int | None = None, **kw: Any) -> None:
    """Run :func:`iter_remove_small` to the end."""
    _drain(iter_remove_small(labels, out, max_size, **kw))


def relabel_sequential_chunked(labels: Any, out: Any, **kw: Any) -> int:
    """Run :func:`iter_relabel_sequential` to the end; returns the number of objects."""
    return _drain(iter_relabel_sequential(labels, out, **kw))


# -- split touching objects ---------------------------------------------------------------
def _block_boxes(block: np.ndarray, origin: tuple[int, ...]):
    """``(ids, starts, stops)`` of the objects in one block, in image coordinates."""
    from scipy import ndimage as ndi

    fg = block != 0
    if not fg.any():
        empty = np.zeros((0, block.ndim), np.int64)
        return np.zeros(0, np.int64), empty, empty
    lo, hi = int(block[fg].min()), int(block.max())
    if hi - lo < block.size:  # the ids of a block are usually a dense range
        compact = np.where(fg, block.astype(np.int64) - (lo - 1), 0)
        slices = ndi.find_objects(compact)
        ids = np.array([lo + k for k, sl in enumerate(slices) if sl is not None], np.int64)
    else:  # sparse huge ids: find the boxes on a compact relabelling
        ids, slices = _sparse_find_objects(block)
        ids = ids.astype(np.int64)
    slices = [sl for sl in slices if sl is not None]
    org = np.array(origin, np.int64)
    starts = np.array([[s.start for s in sl] for sl in slices], np.int64) + org
    stops = np.array([[s.stop for s in sl] for sl in slices], np.int64) + org
    return ids, starts, stops


def _merge_boxes(parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]], ndim: int):
    """Union of per-block boxes: sorted unique ids with their global starts and stops."""
    if not parts:
        empty = np.zeros((0, ndim), np.int64)
        return np.zeros(0, np.int64), empty, empty
    ids = np.concatenate([p[0] for p in parts])
    starts = np.concatenate([p[1] for p in parts])
    stops = np.concatenate([p[2] for p in parts])
    order = np.argsort(ids, kind="stable")
    ids, starts, stops = ids[order], starts[order], stops[order]
    uniq, first = np.unique(ids, return_index=True)
    return uniq, np.minimum.reduceat(starts, first), np.maximum.reduceat(stops, first)


def _merge_counts(parts: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """Pixel counts per object from per-block ``np.unique(..., return_counts=True)``."""
    if not parts:
        return np.zeros(0, np.int64)
    ids = np.concatenate([p[0] for p in parts])
    counts = np.concatenate([p[1] for p in parts]).astype(np.int64)
    if not ids.size:
        return counts
    order = np.argsort(ids, kind="stable")
    ids, counts = ids[order], counts[order]
    first = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    return np.add.reduceat(counts, first)


def _seed_map(labels: Any, seeds: Any, wanted: list[int] | None) -> dict[int, list]:
    pts = np.asarray(seeds, dtype=float)
    if pts.ndim != 2 or pts.shape[1] != labels.ndim or not np.isfinite(pts).all():
        raise InstanceError(
            f"seeds must be an (N, {labels.ndim}) array of coordinates",
            field="seeds",
            value=pts.shape,
        )
    out: dict[int, list] = {}
    shape = np.array(labels.shape)
    for p in np.round(pts).astype(np.int64):
        if not np.all((p >= 0) & (p < shape)):
            continue
        iid = int(np.asarray(labels[tuple(slice(int(v), int(v) + 1) for v in p)]).ravel()[0])
        if iid and (wanted is None or iid in wanted):
            out.setdefault(iid, []).append(tuple(int(v) for v in p))
    return out


def _batches(order, starts, stops, shape, budget: int):
    """Runs of consecutive objects whose grown boxes fit together in ``budget`` pixels."""
    batch: list[int] = []
    lo: Any = None
    hi: Any = None
    for k in order:
        g_lo = np.maximum(starts[k] - 1, 0)
        g_hi = np.minimum(stops[k] + 1, shape)
        if batch:
            n_lo, n_hi = np.minimum(lo, g_lo), np.maximum(hi, g_hi)
            if int(np.prod(n_hi - n_lo)) <= budget:
                batch.append(k)
                lo, hi = n_lo, n_hi
                continue
            yield batch, tuple(slice(int(a), int(b)) for a, b in zip(lo, hi))
        batch, lo, hi = [k], g_lo, g_hi
    if batch:
        yield batch, tuple(slice(int(a), int(b)) for a, b in zip(lo, hi))


def iter_split_touching_chunked(
    labels: Any,
    out: Any,
    ids: Any = None,
    min_distance: int | None = None,
    seeds: Any = None,
    *,
    next_id: int | None = None,
    chunks: Any = None,
    batch_pixels: int = 1 << 22,
    edit: InstanceEdit | None = None,
) -> Generator[int, None, InstanceEdit]:
    """Split touching objects of a large instance mask into ``out``, yielding progress.

    Parameters
    ----------
    labels : array-like (zarr, dask, numpy or a store's label array)
        Instance mask; read block by block, then box by box.
    out : writable integer array of the same shape
        Receives the result; it may be ``labels`` itself (in place). It must hold the new
        ids (``max id + number of new parts``).
    ids, min_distance, seeds
        As in :func:`napari_labelsuite.core.instances.split_touching` (``min_distance``
        defaults to one chosen from the sizes of all objects, counted in the first pass,
        as the in-memory split does for the whole image).
    next_id : int, optional
        Smallest id for new parts (e.g. the next free id of an instance table); new ids
        always start above the image's maximum.
    chunks : int or tuple, optional
        Block shape of the first pass (default: the chunks of ``labels``).
    batch_pixels : int
        Neighbouring objects are read and written together while their joint box holds at
        most this many pixels (a larger object is processed alone).
    edit : InstanceEdit, optional
        Filled with ``parents`` (new id -> split id) as objects split, so a caller can see
        what was done so far after a cancel.

    Yields
    ------
    ``count_steps(labels.shape, chunks)`` steps of 1: one per block of the first pass, then
    as many spread over the objects. Closing the generator stops it between batches; every
    object in ``out`` is then either split or untouched (when ``out`` is not ``labels`` it
    holds a full copy of the input).

    Returns
    -------
    InstanceEdit
        ``parents`` of the new ids (no patches: the pixels are in ``out``).
    """
    _check_labels(labels, values=False)
    _check_out(labels, out)
    if min_distance is not None and (
        not isinstance(min_distance, (int, np.integer)) or min_distance < 1
    ):
        raise InstanceError(
            "min_distance must be a positive integer", field="min_distance", value=min_distance
        )
    wanted = _ids(ids)
    seed_map = _seed_map(labels, seeds, wanted) if seeds is not None else {}
    if seeds is not None and wanted is None:
        wanted = sorted(seed_map)
    edit = InstanceEdit() if edit is None else edit
    shape = tuple(labels.shape)
    blocks = block_slices(shape, _chunks_of(labels, chunks))
    inplace = out is labels
    found = []
    counted: list[tuple[np.ndarray, np.ndarray]] = []
    for sl in blocks:
        block = np.asarray(labels[sl])
        _check_labels(block)
        found.append(_block_boxes(block, tuple(s.start for s in sl)))
        if min_distance is None:
            counted.append(np.unique(block[block != 0], return_counts=True))
        if not inplace:
            out[sl] = block.astype(out.dtype, copy=False)
        yield 1
    all_ids, starts, stops = _merge_boxes(found, len(shape))
    del found
    if min_distance is None:
        min_distance = min_distance_for_areas(_merge_counts(counted), len(shape))
        del counted
    top = int(all_ids[-1]) if all_ids.size else 0
    # new ids above every id: then no write can change the pixels of an object still to come
    nid = top + 1 if next_id is None else max(int(next_id), top + 1)
    if wanted is None:
        order: Any = np.arange(all_ids.size)
    else:
        pos = np.searchsorted(all_ids, wanted)
        pos = np.clip(pos, 0, max(all_ids.size - 1, 0))
        missing = [i for i, k in zip(wanted, pos) if not all_ids.size or all_ids[k] != i]
        if missing:
            raise InstanceError("unknown instance ids", field="ids", value=missing)
        order = pos
    if seeds is not None:
        order = [k for k in order if len(seed_map.get(int(all_ids[k]), ())) >= 2]
    n_obj, done, steps = len(order), 0, 0
    for batch, union in _batches(order, starts, stops, np.array(shape), batch_pixels):
        buf = np.asarray(out[union]).copy()
        origin = np.array([s.start for s in union])
        changed = None
        for k in batch:
            iid = int(all_ids[k])
            g_lo = np.maximum(starts[k] - 1, 0) - origin
            g_hi = np.minimum(stops[k] + 1, shape) - origin
            local = tuple(slice(int(a), int(b)) for a, b in zip(g_lo, g_hi))
            crop = buf[local]
            mask = crop == iid
            pts = None
            if seeds is not None:
                g0 = g_lo + origin
                pts = [tuple(np.array(p) - g0) for p in seed_map[iid]]
            parts = _split_object(mask, min_distance, pts)
            if parts is None:
                continue
            values, new_ids = _split_parts(crop, iid, parts, int(parts.max()), nid, "out")
            nid += len(new_ids)
            edit.parents.update(dict.fromkeys(new_ids, iid))
            crop[mask] = values[mask]
            changed = (g_lo, g_hi) if changed is None else (
                np.minimum(changed[0], g_lo), np.maximum(changed[1], g_hi)
            )  # fmt: skip
        if changed is not None:
            local = tuple(slice(int(a), int(b)) for a, b in zip(*changed))
            out[tuple(slice(int(a + o), int(b + o)) for a, b, o in zip(*changed, origin))] = buf[
                local
            ]
        done += len(batch)
        # spread the second pass's steps over the objects
        while steps < len(blocks) * done // max(n_obj, 1):
            steps += 1
            yield 1
    while steps < len(blocks):
        steps += 1
        yield 1
    return edit


def split_touching_chunked(labels: Any, out: Any, *args: Any, **kw: Any) -> InstanceEdit:
    """Run :func:`iter_split_touching_chunked` to the end; returns its ``InstanceEdit``."""
    return _drain(iter_split_touching_chunked(labels, out, *args, **kw))


def _drain(gen: Iterator[int]) -> Any:
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            return stop.value
