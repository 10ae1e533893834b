"""The label array of a store: numpy slicing over chunks, pending edits kept per chunk.

:class:`LabelArray` is what every mask layer holds: reads see the pending edits, writes
land in an in-memory copy of each touched chunk, and :meth:`MaskStore.save` writes the dirty
chunks and the pyramid above them (:class:`SaveReport` says what it wrote).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import zarr

from ..blocks import iter_blocks
from ..errors import StoreError
from .pyramid import downsample_labels

if TYPE_CHECKING:
    from .mask_store import MaskStore

__all__ = ["LabelArray", "SaveReport"]

#: Bytes per slab when streaming whole arrays (bounds memory of full writes and rebuilds).
_SLAB_BYTES = 256 * 2**20


# -- index helpers -------------------------------------------------------------------------
def _normalize_key(key: Any, shape: tuple[int, ...]) -> tuple[tuple[slice, ...], tuple[int, ...]]:
    """Basic index -> (step-1 slices over every axis, axes indexed by an integer)."""
    if not isinstance(key, tuple):
        key = (key,)
    if any(k is Ellipsis for k in key):
        i = next(i for i, k in enumerate(key) if k is Ellipsis)
        key = key[:i] + (slice(None),) * (len(shape) - len(key) + 1) + key[i + 1 :]
    if len(key) > len(shape):
        raise IndexError(f"too many indices for an array of {len(shape)} dimensions")
    key = key + (slice(None),) * (len(shape) - len(key))
    out, dropped = [], []
    for ax, (k, n) in enumerate(zip(key, shape)):
        if isinstance(k, (int, np.integer)):
            i = int(k) + n if k < 0 else int(k)
            if not 0 <= i < n:
                raise IndexError(f"index {k} is out of bounds for axis {ax} with size {n}")
            out.append(slice(i, i + 1))
            dropped.append(ax)
        elif isinstance(k, slice):
            start, stop, step = k.indices(n)
            if step != 1:
                raise TypeError("only step-1 slices are supported")
            out.append(slice(start, max(start, stop)))
        else:
            raise TypeError(f"unsupported index {k!r}")
    return tuple(out), tuple(dropped)


def _chunk_range(sl: tuple[slice, ...], chunks: Sequence[int]) -> list[range]:
    return [range(s.start // c, (s.stop - 1) // c + 1) for s, c in zip(sl, chunks)]


def _chunk_slices(idx: Sequence[int], chunks: Sequence[int], shape: Sequence[int]):
    return tuple(slice(i * c, min((i + 1) * c, n)) for i, c, n in zip(idx, chunks, shape))


def _intersect(a: tuple[slice, ...], b: tuple[slice, ...]) -> tuple[slice, ...]:
    """The overlap of a region and a chunk it touches (``_chunk_range`` yields only those)."""
    return tuple(slice(max(x.start, y.start), min(x.stop, y.stop)) for x, y in zip(a, b))


def _shift(sl: tuple[slice, ...], origin: tuple[slice, ...]) -> tuple[slice, ...]:
    return tuple(slice(s.start - o.start, s.stop - o.start) for s, o in zip(sl, origin))


def _union(a: tuple[slice, ...] | None, b: tuple[slice, ...]) -> tuple[slice, ...]:
    if a is None:
        return b
    return tuple(slice(min(x.start, y.start), max(x.stop, y.stop)) for x, y in zip(a, b))


@dataclass
class SaveReport:
    """What one :meth:`MaskStore.save` wrote.

    ``chunks[label][level]`` lists the chunk indices written (or deleted, when a chunk
    became all background), ``keys`` the same as store keys relative to the root
    (``"labels/cells/0/c/1/2"``) and ``metadata`` the metadata documents rewritten.
    """

    chunks: dict[str, dict[int, list[tuple[int, ...]]]] = field(default_factory=dict)
    keys: set[str] = field(default_factory=set)
    metadata: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def n_chunks(self) -> int:
        return len(self.keys)

    def __bool__(self) -> bool:
        return bool(self.keys or self.metadata)

    def summary(self) -> str:
        parts = [
            f"{name}: " + ", ".join(f"level {lv} {len(ix)}" for lv, ix in sorted(lvls.items()))
            for name, lvls in self.chunks.items()
        ]
        meta = f"; metadata {len(self.metadata)}" if self.metadata else ""
        body = "; ".join(parts) if parts else "no chunks"
        return f"wrote {body}{meta} in {self.seconds:.2f} s"


class LabelArray:
    """One label image of a store: numpy slicing for reads and writes, dirty chunks tracked.

    Writes land in an in-memory copy of each touched chunk; :meth:`MaskStore.save` writes
    them. Reads see the pending edits. Only basic indexing (integers and step-1 slices)
    is supported, plus assignment through a tuple of integer coordinate arrays (as napari's
    ``data_setitem`` does).
    """

    def __init__(self, store: MaskStore, name: str, levels: list[zarr.Array]):
        self._store = store
        self.name = name
        self.levels = levels
        self._arr = levels[0]
        self._cache: dict[tuple[int, ...], np.ndarray] = {}
        self._flushing: dict[tuple[int, ...], np.ndarray] = {}
        self._regions: dict[tuple[int, ...], tuple[slice, ...]] = {}
        self._pyramid_todo: list[tuple[slice, ...]] = []

    # -- array protocol ----------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self._arr.shape)

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(self._arr.dtype)

    @property
    def ndim(self) -> int:
        return len(self._arr.shape)

    @property
    def chunks(self) -> tuple[int, ...]:
        return tuple(self._arr.chunks)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    def __len__(self) -> int:
        return self.shape[0]

    def __array__(self, dtype=None, copy=None):
        out = self[...]
        return out if dtype is None else out.astype(dtype)

    def __repr__(self) -> str:
        return (
            f"LabelArray({self.name!r}, shape={self.shape}, dtype={self.dtype}, "
            f"dirty_chunks={len(self.dirty_chunks)})"
        )

    @property
    def dirty_chunks(self) -> set[tuple[int, ...]]:
        """Level-0 chunk indices edited since the last save."""
        with self._store._lock:
            return set(self._cache)

    @property
    def is_dirty(self) -> bool:
        return bool(self._cache) or bool(self._pyramid_todo)

    # -- reads -------------------------------------------------------------------------
    def __getitem__(self, key: Any) -> np.ndarray:
        sl, dropped = _normalize_key(key, self.shape)
        with self._store._lock:
            idxs = list(itertools.product(*_chunk_range(sl, self.chunks)))
            cached = all(i in self._cache for i in idxs)
        if cached and idxs:  # a brush stamp on an edited chunk: no decoding at all
            out = np.empty(tuple(s.stop - s.start for s in sl), dtype=self.dtype)
        else:
            out = self._read_level(self._arr, sl, level=0)
        with self._store._lock:
            pending = [self._flushing, self._cache]
            for cache in pending:
                if not cache:
                    continue
                for idx in itertools.product(*_chunk_range(sl, self.chunks)):
                    c = cache.get(idx)
                    if c is None:
                        continue
                    csl = _chunk_slices(idx, self.chunks, self.shape)
                    inter = _intersect(sl, csl)
                    out[_shift(inter, sl)] = c[_shift(inter, csl)]
        return out.reshape(tuple(n for i, n in enumerate(out.shape) if i not in dropped))

    def _read_level(self, arr: zarr.Array, sl: tuple[slice, ...], level: int) -> np.ndarray:
        if any(s.stop <= s.start for s in sl):
            return np.zeros(tuple(s.stop - s.start for s in sl), dtype=arr.dtype)
        try:
            return np.asarray(arr[sl])
        except Exception as exc:  # codec errors differ by codec; find the bad chunk
            raise self._corrupt_chunk_error(arr, sl, level, exc) from exc

    def _corrupt_chunk_error(self, arr, sl, level, exc) -> StoreError:
        chunks, shape = tuple(arr.chunks), tuple(arr.shape)
        for idx in itertools.product(*_chunk_range(sl, chunks)):
            try:
                arr[_chunk_slices(idx, chunks, shape)]
            except Exception as inner:
                key = f"{arr.path}/{arr.metadata.encode_chunk_key(idx)}"
                return StoreError(
                    f"chunk {idx} of level {level} cannot be decoded ({type(inner).__name__}:"
                    f" {inner}); it is truncated or corrupt, the other chunks are readable",
                    path=self._store.path,
                    where=f"chunk {key}",
                    field=self.name,
                )
        return StoreError(
            f"cannot read {self.name}: {exc}", path=self._store.path, field=self.name
        )

    # -- writes ------------------------------------------------------------------------
    def __setitem__(self, key: Any, value: Any) -> None:
        self._store._require_writable(self.name)
        if (
            isinstance(key, tuple)
            and key
            and all(isinstance(k, np.ndarray) and k.dtype.kind in "iu" for k in key)
        ):
            self._set_coords(key, value)
            return
        sl, dropped = _normalize_key(key, self.shape)
        region_shape = tuple(s.stop - s.start for s in sl)
        if 0 in region_shape:
            return
        sub_shape = tuple(n for i, n in enumerate(region_shape) if i not in dropped)
        val = np.asarray(value)
        if val.dtype.kind not in "uib":
            raise StoreError(
                "label values must be integers",
                path=self._store.path,
                field=self.name,
                value=str(val.dtype),
            )
        try:
            val = np.broadcast_to(val, sub_shape).reshape(region_shape)
        except ValueError as exc:
            raise StoreError(
                f"value of shape {val.shape} does not fit the region {sub_shape}",
                path=self._store.path,
                field=self.name,
                value=val.shape,
            ) from exc
        self._write_region(sl, val)

    def _set_coords(self, coords: tuple[np.ndarray, ...], value: Any) -> None:
        if len(coords) != self.ndim or coords[0].size == 0:
            return
        lo = [int(c.min()) for c in coords]
        hi = [int(c.max()) + 1 for c in coords]
        sl = tuple(slice(a, b) for a, b in zip(lo, hi))
        region = self[sl]
        region[tuple(c - a for c, a in zip(coords, lo))] = value
        self._write_region(sl, region)

    def _write_region(self, sl: tuple[slice, ...], val: np.ndarray) -> None:
        chunks, shape = self.chunks, self.shape
        with self._store._lock:
            for idx in itertools.product(*_chunk_range(sl, chunks)):
                csl = _chunk_slices(idx, chunks, shape)
                inter = _intersect(sl, csl)
                c = self._cache.get(idx)
                if c is None:
                    if inter == csl:
                        c = np.empty(tuple(s.stop - s.start for s in csl), dtype=self.dtype)
                    elif idx in self._flushing:
                        c = self._flushing[idx].copy()
                    else:
                        c = self._read_level(self._arr, csl, level=0)
                    self._cache[idx] = c
                c[_shift(inter, csl)] = val[_shift(inter, sl)]
                self._regions[idx] = _union(self._regions.get(idx), inter)
        self._store._touched()

    def update(self, key: Any, data: Any) -> int:
        """Write ``data`` into the region ``key`` only where chunks actually differ.

        Returns the number of chunks that changed. Useful when the edit history is not
        known (an undo in napari, an external tool): unchanged chunks stay clean.
        """
        self._store._require_writable(self.name)
        sl, dropped = _normalize_key(key, self.shape)
        val = np.asarray(data).reshape(tuple(s.stop - s.start for s in sl))
        changed = 0
        for idx in itertools.product(*_chunk_range(sl, self.chunks)):
            inter = _intersect(sl, _chunk_slices(idx, self.chunks, self.shape))
            new = val[_shift(inter, sl)]
            if not np.array_equal(self[inter], new):
                self._write_region(inter, new)
                changed += 1
        return changed

    def write_all(self, data: Any) -> None:
        """Replace the whole level-0 image, streaming in slabs (numpy, dask or zarr input).

        The pyramid is rebuilt by the next :meth:`MaskStore.save`.
        """
        self._store._require_writable(self.name)
        if tuple(data.shape) != self.shape:
            raise StoreError(
                f"data shape does not match the label image shape {self.shape}",
                path=self._store.path,
                field=self.name,
                value=tuple(data.shape),
            )
        if np.dtype(data.dtype).kind not in "uib":
            raise StoreError(
                "label data must have an integer dtype",
                path=self._store.path,
                field=self.name,
                value=str(data.dtype),
            )
        whole = tuple(slice(0, n) for n in self.shape)
        # level 0 is written in place: journal first, so that a crash in the middle is
        # repaired (pyramid rebuilt over the whole image) by the next save
        self._store._journal_write(self.name, [whole])
        with self._store._lock:
            self._cache.clear()
            self._regions.clear()
        for sl in _slabs(self.shape, self.chunks, self.dtype.itemsize):
            self._arr[sl] = np.asarray(data[sl], dtype=self.dtype)
        self._pyramid_todo.append(whole)
        self._store._touched()

    # -- saving (called by MaskStore.save) ---------------------------------------------
    def _save(self, report: SaveReport, method: str, pool: ThreadPoolExecutor) -> None:
        with self._store._lock:
            self._flushing, self._cache = self._cache, {}
            regions, self._regions = self._regions, {}
            n_todo = len(self._pyramid_todo)
            todo = list(self._pyramid_todo) + list(regions.values())
        if not self._flushing and not todo:
            return
        written: dict[int, list[tuple[int, ...]]] = {}
        arr, chunks, shape = self._arr, self.chunks, self.shape

        def put(item):
            idx, data = item
            try:
                arr[_chunk_slices(idx, chunks, shape)] = data
            except Exception as exc:
                raise self._write_error(arr, 0, idx, exc) from exc

        try:
            self._store._journal_write(self.name, todo)
            list(pool.map(put, self._flushing.items()))
            if self._flushing:
                written[0] = sorted(self._flushing)
            self._update_pyramid(todo, method, written, pool)
        except BaseException as exc:
            self._restore_unsaved(regions)
            if isinstance(exc, StoreError) or not isinstance(exc, Exception):
                raise
            raise StoreError(
                f"saving {self.name} failed ({type(exc).__name__}: {exc}); the unsaved edits"
                " are kept for the next save",
                path=self._store.path,
                field=self.name,
            ) from exc
        with self._store._lock:
            self._flushing = {}
            del self._pyramid_todo[:n_todo]  # regions queued during the save stay queued
        report.chunks[self.name] = written
        for lv, idxs in written.items():
            a = self.levels[lv]
            report.keys.update(f"{a.path}/{a.metadata.encode_chunk_key(i)}" for i in idxs)

    def _restore_unsaved(self, regions: dict[tuple[int, ...], tuple[slice, ...]]) -> None:
        """Put the chunks of a failed save back so that the next save writes them again."""
        with self._store._lock:
            # edits made during the save started from the flushing copy: they are newer
            merged = dict(self._flushing)
            merged.update(self._cache)
            self._cache, self._flushing = merged, {}
            for idx, r in regions.items():
                self._regions[idx] = _union(self._regions.get(idx), r)

    def _write_error(
        self, arr: zarr.Array, level: int, idx: tuple[int, ...], exc: Exception
    ) -> StoreError:
        key = f"{arr.path}/{arr.metadata.encode_chunk_key(idx)}"
        return StoreError(
            f"cannot write chunk {idx} of level {level} ({type(exc).__name__}: {exc}); the"
            " unsaved edits are kept for the next save",
            path=self._store.path,
            where=f"chunk {key}",
            field=self.name,
        )

    def _update_pyramid(self, regions, method, written, pool) -> None:
        for lv in range(1, len(self.levels)):
            child, parent = self.levels[lv - 1], self.levels[lv]
            f = self._store._factors(self.name, lv)
            pch, psh = tuple(parent.chunks), tuple(parent.shape)
            per_chunk: dict[tuple[int, ...], tuple[slice, ...]] = {}
            next_regions = []
            for r in regions:
                pr = tuple(
                    slice(s.start // k, min(n, -(-s.stop // k))) for s, k, n in zip(r, f, psh)
                )
                if any(s.stop <= s.start for s in pr):
                    continue
                next_regions.append(pr)
                for idx in itertools.product(*_chunk_range(pr, pch)):
                    inter = _intersect(pr, _chunk_slices(idx, pch, psh))
                    per_chunk[idx] = _union(per_chunk.get(idx), inter)

            def rebuild(item, child=child, parent=parent, f=f, lv=lv):
                _, pr = item
                csl = tuple(
                    slice(s.start * k, min(n, s.stop * k)) for s, k, n in zip(pr, f, child.shape)
                )
                src = self._read_level(child, csl, lv - 1)
                down = downsample_labels(src, f, method)
                down = down[tuple(slice(0, s.stop - s.start) for s in pr)]
                try:
                    parent[pr] = down
                except Exception as exc:
                    raise self._write_error(parent, lv, item[0], exc) from exc

            if per_chunk:
                list(pool.map(rebuild, per_chunk.items()))
                written[lv] = sorted(per_chunk)
            regions = next_regions


def _slabs(shape, chunks, itemsize) -> Iterable[tuple[slice, ...]]:
    """Chunk-aligned blocks of at most about ``_SLAB_BYTES`` (see ``core.blocks``)."""
    return iter_blocks(shape, chunks, max_elems=max(1, _SLAB_BYTES // max(int(itemsize), 1)))
