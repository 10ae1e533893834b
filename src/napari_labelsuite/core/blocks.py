"""The one block iterator: tile an array's shape into chunk-aligned blocks, in C order.

Chunked instance tools walk the chunk grid (``chunks`` only); quality-control counts and
whole-image store writes read as much as fits a budget (``max_elems``): the trailing axes
whole while they fit, then a chunk-aligned run along the first axis that does not, and the
axes before it one chunk at a time.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Sequence

__all__ = ["iter_blocks"]


def iter_blocks(
    shape: Sequence[int],
    chunks: Sequence[int] | None = None,
    *,
    max_elems: int | None = None,
) -> Iterator[tuple[slice, ...]]:
    """Blocks (tuples of slices) covering ``shape`` in C order.

    Parameters
    ----------
    shape : sequence of int
    chunks : sequence of int, optional
        Block edges are multiples of these (default 1 on every axis).
    max_elems : int, optional
        Without it the blocks are the chunk grid. With it, blocks hold about this many
        elements (at least one chunk), growing from the last axis.
    """
    shape = tuple(int(n) for n in shape)
    if not shape or 0 in shape:
        return
    chunks = tuple(int(c) for c in chunks) if chunks is not None else (1,) * len(shape)
    block = list(chunks)
    if max_elems is not None:
        budget = max(1, int(max_elems))
        inner = 1
        for k in range(len(shape) - 1, -1, -1):
            lead = math.prod(chunks[:k])  # the axes before k take one chunk at a time
            if lead * shape[k] * inner <= budget:  # trailing axes whole while they fit
                block[k] = shape[k]
                inner *= shape[k]
                continue
            # the first axis that does not fit: a chunk-aligned run of it
            block[k] = max(chunks[k], (budget // (inner * lead)) // chunks[k] * chunks[k])
            break
    ranges = [range(0, n, b) for n, b in zip(shape, block)]
    for starts in itertools.product(*ranges):
        yield tuple(slice(s, min(s + b, n)) for s, b, n in zip(starts, block, shape))
