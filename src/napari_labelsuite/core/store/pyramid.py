"""Label-safe pyramid levels: nearest or mode downsampling, never interpolation."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = [
    "DOWNSAMPLE_METHODS",
    "default_n_levels",
    "downsample_labels",
    "level_shapes",
    "mode_2x2",
]

DOWNSAMPLE_METHODS = ("nearest", "mode")


def default_n_levels(shape: Sequence[int], chunks: Sequence[int]) -> int:
    """Levels (halving y and x) until one plane fits in one chunk."""
    n = 1
    h, w = shape[-2], shape[-1]
    while h > chunks[-2] or w > chunks[-1]:
        h, w = math.ceil(h / 2), math.ceil(w / 2)
        n += 1
    return n


def level_shapes(shape: Sequence[int], n_levels: int) -> list[tuple[int, ...]]:
    """Shapes of each level: y and x halved (rounding up) per level, other axes kept."""
    out = []
    for k in range(n_levels):
        f = 2**k
        out.append((*shape[:-2], math.ceil(shape[-2] / f), math.ceil(shape[-1] / f)))
    return out


def mode_2x2(a: np.ndarray) -> np.ndarray:
    """Most frequent value of each 2 x 2 block of the last two axes.

    Ties go to the block's top-left value (so a uniform-free block equals nearest
    sampling). Odd edges are padded by repeating the edge.
    """
    pad = [(0, 0)] * (a.ndim - 2) + [(0, a.shape[-2] % 2), (0, a.shape[-1] % 2)]
    if any(p[1] for p in pad):
        a = np.pad(a, pad, mode="edge")
    v = [a[..., 0::2, 0::2], a[..., 0::2, 1::2], a[..., 1::2, 0::2], a[..., 1::2, 1::2]]
    best = v[0].copy()
    best_n = np.zeros(best.shape, dtype=np.uint8)
    for vi in v:
        n = sum((vi == vj).view(np.uint8) for vj in v)
        better = n > best_n
        best[better] = vi[better]
        best_n = np.maximum(best_n, n)
    return best


def downsample_labels(
    a: np.ndarray, factors: Sequence[int], method: str = "nearest"
) -> np.ndarray:
    """Downsample a label array by integer ``factors`` per axis.

    ``"nearest"`` keeps every f-th pixel; ``"mode"`` takes the most frequent label of each
    block (only for factors of 2 on the last two axes and 1 elsewhere; other factors use
    nearest). Neither invents a label value.
    """
    if method == "mode" and tuple(factors[-2:]) == (2, 2) and all(f == 1 for f in factors[:-2]):
        return mode_2x2(a)
    return a[tuple(slice(None, None, int(f)) for f in factors)]
