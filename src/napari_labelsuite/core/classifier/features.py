"""Pixel features for the classifier, in the spirit of ilastik's feature selection.

Every feature is computed in float32 with :mod:`scipy.ndimage`. The Gaussians of all scales
come from one cascade (``G(s2) = G(sqrt(s2**2 - s1**2)) * G(s1)``), and the other features of a
scale are derived from its Gaussian by finite differences, so one image costs one small
Gaussian per scale plus a few cheap stencils.

Features are computed block by block with a halo (:attr:`FeatureSettings.halo`) that covers
the support of every filter in the chain, so a tiled computation gives exactly the values of
the whole-image computation. :class:`FeatureCache` keeps the blocks already computed (keyed by
their content), so retraining after new strokes does not recompute them.
"""

from __future__ import annotations

import hashlib
import math
import mmap
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import ndimage as ndi

from ..blocks import iter_blocks
from ..errors import ClassifierError

__all__ = [
    "DEFAULT_KINDS",
    "DEFAULT_SIGMAS",
    "KINDS",
    "FeatureCache",
    "FeatureSettings",
    "compute_features",
    "iter_tiles",
    "read_block",
]

#: feature kinds, as named in ilastik's feature selection dialog
KINDS = ("intensity", "gradient", "log", "dog", "hessian", "structure")
DEFAULT_KINDS = ("intensity", "gradient", "hessian")
#: the scales of scikit-image's multiscale_basic_features defaults (0.5 .. 16, doubling)
DEFAULT_SIGMAS = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0)
_TRUNCATE = 4.0


def _radius(sigma: float) -> int:
    """Radius of scipy's Gaussian kernel for ``sigma`` (``truncate=4``)."""
    return int(_TRUNCATE * float(sigma) + 0.5)


@dataclass(frozen=True)
class FeatureSettings:
    """Which features the classifier sees.

    Parameters
    ----------
    kinds : sequence of str
        Any of :data:`KINDS`: ``"intensity"`` (Gaussian smoothing), ``"gradient"`` (gradient
        magnitude), ``"log"`` (Laplacian of Gaussian), ``"dog"`` (difference of Gaussians of
        this and the previous scale), ``"hessian"`` and ``"structure"`` (eigenvalues of the
        Hessian and of the structure tensor, largest first).
    sigmas : sequence of float
        Scales in pixels, each > 0.
    ndim : {2, 3}
        Spatial axes the features are computed over (3 for volumes).
    channel_axis : int, optional
        Axis of the image holding channels (None: a single-channel image).
    """

    kinds: tuple[str, ...] = DEFAULT_KINDS
    sigmas: tuple[float, ...] = DEFAULT_SIGMAS
    ndim: int = 2
    channel_axis: int | None = None

    def __post_init__(self) -> None:
        kinds = tuple(str(k) for k in self.kinds)
        unknown = [k for k in kinds if k not in KINDS]
        if not kinds or unknown:
            raise ClassifierError(
                f"feature kinds must be a non-empty selection of {KINDS}",
                field="features.kinds",
                value=unknown or list(kinds),
            )
        try:
            sigmas = tuple(float(s) for s in self.sigmas)
        except (TypeError, ValueError) as exc:
            raise ClassifierError(
                "sigmas must be numbers", field="features.sigmas", value=self.sigmas
            ) from exc
        if not sigmas or min(sigmas) <= 0 or len(set(sigmas)) != len(sigmas):
            raise ClassifierError(
                "sigmas must be distinct positive numbers",
                field="features.sigmas",
                value=list(sigmas),
            )
        if self.ndim not in (2, 3):
            raise ClassifierError(
                "features are computed over 2 or 3 spatial axes",
                field="features.ndim",
                value=self.ndim,
            )
        # a canonical order of kinds and scales: equal selections give equal features
        object.__setattr__(self, "kinds", tuple(k for k in KINDS if k in kinds))
        object.__setattr__(self, "sigmas", tuple(sorted(sigmas)))
        if self.channel_axis is not None:
            object.__setattr__(self, "channel_axis", int(self.channel_axis))

    # -- description -------------------------------------------------------------------
    @classmethod
    def coerce(cls, value: Any) -> FeatureSettings:
        """Settings from a FeatureSettings, a dict (:meth:`to_dict`) or None (defaults)."""
        if value is None:
            return cls()
        if isinstance(value, cls):
            return value
        if isinstance(value, dict):
            return cls.from_dict(value)
        raise ClassifierError(
            "features must be FeatureSettings or a dict", field="features", value=value
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "kinds": list(self.kinds),
            "sigmas": list(self.sigmas),
            "ndim": self.ndim,
            "channel_axis": self.channel_axis,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FeatureSettings:
        extra = set(d) - {"kinds", "sigmas", "ndim", "channel_axis"}
        if extra:
            raise ClassifierError(
                "unknown feature settings", field="features", value=sorted(extra)
            )
        return cls(
            kinds=tuple(d.get("kinds", DEFAULT_KINDS)),
            sigmas=tuple(d.get("sigmas", DEFAULT_SIGMAS)),
            ndim=int(d.get("ndim", 2)),
            channel_axis=d.get("channel_axis"),
        )

    def _per_kind(self, kind: str) -> int:
        return self.ndim if kind in ("hessian", "structure") else 1

    def n_features(self, n_channels: int = 1) -> int:
        """Features per pixel for an image with ``n_channels`` channels."""
        per_sigma = sum(self._per_kind(k) for k in self.kinds)
        return n_channels * len(self.sigmas) * per_sigma

    def names(self, n_channels: int = 1) -> list[str]:
        """One readable name per feature, in the order of the feature axis."""
        out = []
        for c in range(n_channels):
            for s in self.sigmas:
                for k in self.kinds:
                    n = self._per_kind(k)
                    for e in range(n):
                        suffix = f" e{e}" if n > 1 else ""
                        out.append(f"c{c} {k} s{s:g}{suffix}")
        return out

    @property
    def halo(self) -> int:
        """Pixels of context a block needs on each side for exact features."""
        prev, total = 0.0, 0
        for s in self.sigmas:
            total += _radius(math.sqrt(s * s - prev * prev))
            prev = s
        return total + self.derivative_reach

    @property
    def derivative_reach(self) -> int:
        """Pixels around a pixel that its features read from the Gaussians (differences,
        and the structure tensor's smoothing of them)."""
        reach = 2  # second differences
        if "structure" in self.kinds:
            reach = max(reach, 1 + _radius(self.sigmas[-1] / 2))
        return reach

    # -- image geometry ----------------------------------------------------------------
    def spatial_shape(self, shape: Sequence[int], *, field_name: str = "image") -> tuple:
        """The spatial shape of an image of ``shape`` (checked against these settings)."""
        shape = tuple(int(n) for n in shape)
        expected = self.ndim + (self.channel_axis is not None)
        if len(shape) != expected:
            where = "with a channel axis" if self.channel_axis is not None else "single-channel"
            raise ClassifierError(
                f"the features are {self.ndim}D ({where}), so the image needs {expected} axes",
                field=f"{field_name}.shape",
                value=shape,
            )
        if self.channel_axis is None:
            return shape
        ax = self.channel_axis % len(shape)
        return shape[:ax] + shape[ax + 1 :]

    def n_channels(self, shape: Sequence[int]) -> int:
        self.spatial_shape(shape)
        if self.channel_axis is None:
            return 1
        return int(shape[self.channel_axis % len(shape)])


#: arrays from this size on are mapped by :func:`empty_pages`
_PAGES_FROM = 2**24


def empty_pages(shape: Sequence[int], dtype: Any = np.float32) -> np.ndarray:
    """``np.empty`` for large arrays that are filled once: mapped directly, without the
    transparent-huge-page advice numpy gives its large allocations. Where huge pages must
    be compacted on first touch this is several times cheaper (measured on the 2-core CI
    machine: writing a fresh 100 MB feature array took 0.21 CPU s from ``np.empty``, 0.065 s
    from here). Small arrays come from ``np.empty``."""
    shape = tuple(int(n) for n in shape)
    count = math.prod(shape)
    nbytes = count * np.dtype(dtype).itemsize
    if nbytes < _PAGES_FROM:
        return np.empty(shape, dtype)
    # the array keeps the anonymous mapping alive; it is unmapped with the array
    return np.frombuffer(mmap.mmap(-1, nbytes), dtype=dtype, count=count).reshape(shape)


def read_block(image: Any, region: tuple[slice, ...], settings: FeatureSettings) -> np.ndarray:
    """Pixels of ``region`` (spatial slices) as float32, channels last ``(..., C)``.

    Only the region is read from zarr, dask or memory-mapped arrays.
    """
    if settings.channel_axis is None:
        block = np.asarray(image[region])
        return block.astype(np.float32, copy=False)[..., None]
    ax = settings.channel_axis % image.ndim
    key = region[:ax] + (slice(None),) + region[ax:]
    block = np.asarray(image[key]).astype(np.float32, copy=False)
    return np.moveaxis(block, ax, -1)


def _eig_sym(m: list[list[np.ndarray]]) -> list[np.ndarray]:
    """Eigenvalues (largest first) of symmetric 2x2 or 3x3 matrices given elementwise."""
    if len(m) == 2:
        a, b, c = m[0][0], m[0][1], m[1][1]
        mean = (a + c) * np.float32(0.5)
        root = np.sqrt(((a - c) * np.float32(0.5)) ** 2 + b * b)
        return [mean + root, mean - root]
    stacked = np.stack([np.stack(row, axis=-1) for row in m], axis=-2)
    ev = np.linalg.eigvalsh(stacked)  # ascending
    return [ev[..., 2], ev[..., 1], ev[..., 0]]


def _sl(nd: int, axis: int, sl: slice | int) -> tuple[slice | int, ...]:
    return tuple(sl if a == axis else slice(None) for a in range(nd))


def _d1(g: np.ndarray, axis: int) -> np.ndarray:
    """Central first difference along ``axis``, mirrored border (scipy's ``reflect``).

    Plain slicing: along the leading axes it is several times faster than
    ``ndimage.correlate1d``, which walks strided lines.
    """
    nd = g.ndim
    out = np.empty_like(g)
    if g.shape[axis] < 2:
        out[...] = 0
        return out
    np.subtract(g[_sl(nd, axis, slice(2, None))], g[_sl(nd, axis, slice(None, -2))],
                out=out[_sl(nd, axis, slice(1, -1))])  # fmt: skip
    out[_sl(nd, axis, slice(1, -1))] *= np.float32(0.5)
    out[_sl(nd, axis, 0)] = (g[_sl(nd, axis, 1)] - g[_sl(nd, axis, 0)]) * np.float32(0.5)
    out[_sl(nd, axis, -1)] = (g[_sl(nd, axis, -1)] - g[_sl(nd, axis, -2)]) * np.float32(0.5)
    return out


def _d2(g: np.ndarray, axis: int) -> np.ndarray:
    """Second difference ``g[i+1] - 2 g[i] + g[i-1]`` along ``axis``, mirrored border."""
    nd = g.ndim
    out = np.empty_like(g)
    if g.shape[axis] < 2:
        out[...] = 0
        return out
    mid = out[_sl(nd, axis, slice(1, -1))]
    np.add(g[_sl(nd, axis, slice(2, None))], g[_sl(nd, axis, slice(None, -2))], out=mid)
    mid -= np.float32(2) * g[_sl(nd, axis, slice(1, -1))]
    out[_sl(nd, axis, 0)] = g[_sl(nd, axis, 1)] - g[_sl(nd, axis, 0)]
    out[_sl(nd, axis, -1)] = g[_sl(nd, axis, -2)] - g[_sl(nd, axis, -1)]
    return out


def _gaussian(x: np.ndarray, sigma: float, pool: ThreadPoolExecutor | None) -> np.ndarray:
    """``ndimage.gaussian_filter(x, sigma)`` (reflect, truncate 4), the same values; with a
    pool each axis' pass runs as two halves split along another axis, in two threads
    (every line is filtered on its own, and ndimage releases the GIL)."""
    if pool is None or x.ndim < 2 or min(x.shape) < 2 or x.size < 2**16:
        return ndi.gaussian_filter(x, sigma, mode="reflect", truncate=_TRUNCATE)
    out = np.empty_like(x)
    src = x
    for axis in range(x.ndim):
        other = (axis + 1) % x.ndim
        mid = x.shape[other] // 2
        halves = [_sl(x.ndim, other, slice(0, mid)), _sl(x.ndim, other, slice(mid, None))]

        def run(half: tuple[slice | int, ...], src: np.ndarray = src, axis: int = axis) -> None:
            ndi.gaussian_filter1d(
                src[half], sigma, axis=axis, output=out[half], mode="reflect", truncate=_TRUNCATE
            )

        list(pool.map(run, halves))
        src = out
    return out


def compute_features(
    block: np.ndarray,
    settings: FeatureSettings,
    inner: tuple[slice, ...] | None = None,
    *,
    threads: int = 1,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Features of a channels-last float32 block, feature axis first: ``(n_features,
    *spatial)`` (each feature plane contiguous, the layout the filters write fastest).

    The values at a pixel depend only on the pixels within :attr:`FeatureSettings.halo`
    of it (and on the image border, mirrored), so blocks computed with that halo agree
    exactly with the whole image. ``inner`` (slices of the block) returns only those
    pixels: the Gaussians run over the whole block, everything derived from them only
    over ``inner`` and the few pixels around it their stencils reach (same values).
    ``threads=2`` runs each Gaussian in two threads (same values). ``out``, a float32 array
    of the result's shape, is written instead of a new array (fresh memory is slow to
    touch: a pass over many blocks reuses its buffers).
    """
    if threads > 1:
        with ThreadPoolExecutor(2) as pool:
            return _compute_features(block, settings, inner, pool, out)
    return _compute_features(block, settings, inner, None, out)


def _compute_features(
    block: np.ndarray,
    settings: FeatureSettings,
    inner: tuple[slice, ...] | None,
    pool: ThreadPoolExecutor | None,
    out: np.ndarray | None = None,
) -> np.ndarray:
    block = np.asarray(block, dtype=np.float32)
    spatial = block.shape[:-1]
    if len(spatial) != settings.ndim:
        raise ClassifierError(
            f"the features are {settings.ndim}D but the block has {len(spatial)} spatial axes",
            field="features.ndim",
            value=settings.ndim,
        )
    if inner is None:
        inner = tuple(slice(0, n) for n in spatial)
    inner = tuple(slice(*s.indices(n)[:2]) for s, n in zip(inner, spatial))
    # derivatives read this many pixels beyond ``inner`` (where the block has them)
    reach = settings.derivative_reach
    crop = tuple(
        slice(max(0, s.start - reach), min(n, s.stop + reach)) for s, n in zip(inner, spatial)
    )
    ic = tuple(slice(s.start - c.start, s.stop - c.start) for s, c in zip(inner, crop))
    n_ch = block.shape[-1]
    shape = tuple(s.stop - s.start for s in inner)
    want = (settings.n_features(n_ch), *shape)
    if out is None:
        out = empty_pages(want, np.float32)
    elif out.shape != want or out.dtype != np.float32:
        raise ValueError(f"out must be float32 of shape {want}, not {out.dtype} {out.shape}")
    k = 0
    axes = range(settings.ndim)
    kinds = settings.kinds
    need_d1 = any(x in kinds for x in ("gradient", "hessian", "structure"))
    need_d2 = "log" in kinds or "hessian" in kinds
    for c in range(n_ch):
        raw = np.ascontiguousarray(block[..., c])
        g_prev, s_prev = raw, 0.0
        for s in settings.sigmas:
            step = math.sqrt(s * s - s_prev * s_prev)
            g = _gaussian(g_prev, step, pool)
            gc = np.ascontiguousarray(g[crop]) if need_d1 or need_d2 else g
            d1 = [_d1(gc, a) for a in axes] if need_d1 else []
            d2 = [_d2(gc, a) for a in axes] if need_d2 else []
            for kind in kinds:
                if kind == "intensity":
                    out[k] = g[inner]
                    k += 1
                elif kind == "gradient":
                    acc = d1[0][ic] * d1[0][ic]
                    for d in d1[1:]:
                        acc += d[ic] * d[ic]
                    np.sqrt(acc, out=out[k])
                    k += 1
                elif kind == "log":
                    np.add(d2[0][ic], d2[1][ic], out=out[k])
                    for d in d2[2:]:
                        out[k] += d[ic]
                    k += 1
                elif kind == "dog":
                    np.subtract(g[inner], g_prev[inner], out=out[k])
                    k += 1
                elif kind == "hessian":
                    h = [[np.empty(0, np.float32)] * settings.ndim for _ in axes]
                    for i in axes:
                        h[i][i] = d2[i][ic]
                        for j in range(i + 1, settings.ndim):
                            h[i][j] = h[j][i] = _d1(d1[i], j)[ic]
                    for ev in _eig_sym(h):
                        out[k] = ev
                        k += 1
                elif kind == "structure":
                    outer = s / 2
                    t = [[np.empty(0, np.float32)] * settings.ndim for _ in axes]
                    for i in axes:
                        for j in range(i, settings.ndim):
                            t[i][j] = t[j][i] = _gaussian(d1[i] * d1[j], outer, pool)[ic]
                    for ev in _eig_sym(t):
                        out[k] = ev
                        k += 1
            g_prev, s_prev = g, s
    return out


def iter_tiles(shape: Sequence[int], tile: Sequence[int]) -> Iterator[tuple[slice, ...]]:
    """Regions of ``tile`` shape (clipped at the end) covering ``shape``, in C order.

    The chunk grid of :func:`~napari_labelsuite.core.blocks.iter_blocks` with the tile as
    the chunk.
    """
    return iter_blocks(shape, [max(1, int(t)) for t in tile])


def grow(region: tuple[slice, ...], halo: int, shape: Sequence[int]) -> tuple[slice, ...]:
    """``region`` grown by ``halo`` on every side, clipped to ``shape``."""
    return tuple(
        slice(max(0, s.start - halo), min(int(n), s.stop + halo)) for s, n in zip(region, shape)
    )


def block_features(
    image: Any,
    region: tuple[slice, ...],
    settings: FeatureSettings,
    cache: FeatureCache | None = None,
    *,
    threads: int = 1,
    store: bool = True,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Features of the pixels in ``region``, ``(n_features, *region_shape)`` (read with a
    halo; cached by content; ``threads`` and ``out`` as in :func:`compute_features`).

    ``store=False`` only reads the cache: blocks it does not hold are computed (into
    ``out``) and not kept, so a pass over a large image neither evicts the blocks worth
    keeping nor needs fresh memory for every block.
    """
    spatial = settings.spatial_shape(image.shape)
    outer = grow(region, settings.halo, spatial)
    block = read_block(image, outer, settings)
    inner = (slice(None),) + tuple(
        slice(r.start - o.start, r.stop - o.start) for r, o in zip(region, outer)
    )
    if cache is None:
        return compute_features(block, settings, inner[1:], threads=threads, out=out)
    key = (settings, tuple((s.start, s.stop) for s in region), _digest(block, outer))
    found = cache.get(key)
    if found is None:
        if not store:
            return compute_features(block, settings, inner[1:], threads=threads, out=out)
        found = compute_features(block, settings, inner[1:], threads=threads)
        cache.put(key, found)
    return found


def _digest(block: np.ndarray, outer: tuple[slice, ...]) -> str:
    h = hashlib.blake2b(digest_size=16)
    h.update(repr([(s.start, s.stop) for s in outer]).encode())
    h.update(np.ascontiguousarray(block).view(np.uint8).data)
    return h.hexdigest()


class FeatureCache:
    """Least-recently-used store of computed feature blocks, bounded in bytes.

    Keys name the settings, the block and a hash of the pixels it was computed from, so a
    changed image never returns stale features.
    """

    def __init__(self, max_bytes: int = 2**30) -> None:
        self.max_bytes = int(max_bytes)
        self._items: OrderedDict[Any, np.ndarray] = OrderedDict()
        self.nbytes = 0
        self.hits = 0
        self.misses = 0

    def get(self, key: Any) -> np.ndarray | None:
        arr = self._items.get(key)
        if arr is None:
            self.misses += 1
            return None
        self._items.move_to_end(key)
        self.hits += 1
        return arr

    def put(self, key: Any, arr: np.ndarray) -> None:
        if arr.nbytes > self.max_bytes:
            return
        old = self._items.pop(key, None)
        if old is not None:
            self.nbytes -= old.nbytes
        self._items[key] = arr
        self.nbytes += arr.nbytes
        while self.nbytes > self.max_bytes and self._items:
            _, dropped = self._items.popitem(last=False)
            self.nbytes -= dropped.nbytes

    def clear(self) -> None:
        self._items.clear()
        self.nbytes = 0

    def __len__(self) -> int:
        return len(self._items)
