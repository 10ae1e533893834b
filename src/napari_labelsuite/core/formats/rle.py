"""COCO run-length encoding (column-major, compressed counts), in numpy.

The encoder works on an object's bounding-box crop and places the runs in the full image,
so its cost follows the object's size, not the image's. The byte format is that of the
COCO API (``rleToString`` / ``rleFrString`` in ``maskApi.c``), so the strings are
interchangeable with pycocotools.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

__all__ = [
    "counts_from_crop",
    "counts_to_string",
    "decode",
    "encode",
    "paint_counts",
    "string_to_counts",
]


def counts_from_crop(crop: np.ndarray, r0: int, c0: int, height: int, width: int) -> np.ndarray:
    """Run lengths of a full ``height x width`` mask that is zero outside ``crop``.

    Parameters
    ----------
    crop : (h, w) bool array
        The mask inside its box, whose top-left pixel is ``(r0, c0)``.

    Returns
    -------
    ndarray of int64
        Alternating zero / one run lengths in column-major order, starting with zeros
        (the first count is 0 when pixel (0, 0) is set), as pycocotools produces them.
    """
    n = height * width
    h, w = crop.shape
    if crop.size == 0:
        return np.array([n], dtype=np.int64)
    # each crop column, padded with a zero above and below, in column-major order
    padded = np.zeros((w, h + 2), dtype=np.int8)
    padded[:, 1:-1] = crop.T
    col, row = np.nonzero(np.diff(padded, axis=1))
    # alternating run starts and ends (exclusive), as global column-major indices
    edges = (col.astype(np.int64) + c0) * height + r0 + row
    if edges.size == 0:
        return np.array([n], dtype=np.int64)
    # runs that continue across a column boundary (the crop spans the full height)
    touching = np.flatnonzero(edges[1:-1:2] == edges[2::2])
    if touching.size:
        drop = np.concatenate([2 * touching + 1, 2 * touching + 2])
        edges = np.delete(edges, drop)
    if edges[-1] == n:
        edges = edges[:-1]
    return np.diff(np.concatenate([[0], edges, [n]]))


def counts_to_string(counts: Any) -> str:
    """Compressed COCO counts string (LEB128-like, delta-coded after the second count)."""
    cnts = [int(c) for c in counts]
    out: list[str] = []
    append = out.append
    for i, x in enumerate(cnts):
        if i > 2:
            x -= cnts[i - 2]
        more = True
        while more:
            c = x & 0x1F
            x >>= 5
            more = x != -1 if c & 0x10 else x != 0
            if more:
                c |= 0x20
            append(chr(c + 48))
    return "".join(out)


def string_to_counts(s: str | bytes) -> np.ndarray:
    """Inverse of :func:`counts_to_string`; raises ValueError on a malformed string."""
    if isinstance(s, bytes):
        s = s.decode("ascii")
    cnts: list[int] = []
    p, n = 0, len(s)
    while p < n:
        x = k = 0
        more = True
        while more:
            if p >= n:
                raise ValueError("counts string ends inside a number")
            c = ord(s[p]) - 48
            if not 0 <= c < 64:
                raise ValueError(f"invalid character {s[p]!r} at {p}")
            x |= (c & 0x1F) << (5 * k)
            more = bool(c & 0x20)
            p += 1
            k += 1
            if not more and c & 0x10:
                x |= -1 << (5 * k)
        if len(cnts) > 2:
            x += cnts[-2]
        cnts.append(x)
    return np.asarray(cnts, dtype=np.int64)


def encode(mask: np.ndarray) -> dict[str, Any]:
    """``{"size": [h, w], "counts": str}`` of a full 2D binary mask."""
    mask = np.asarray(mask, dtype=bool)
    h, w = mask.shape
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        counts = np.array([h * w], dtype=np.int64)
    else:
        r0, r1, c0, c1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
        counts = counts_from_crop(mask[r0:r1, c0:c1], r0, c0, h, w)
    return {"size": [int(h), int(w)], "counts": counts_to_string(counts)}


def paint_counts(flat_fortran: np.ndarray, counts: np.ndarray, value: int) -> None:
    """Set the one-runs of ``counts`` to ``value`` in a column-major flat view of a plane."""
    ends = np.cumsum(counts)
    starts = ends - counts
    for s, e in zip(starts[1::2].tolist(), ends[1::2].tolist()):
        flat_fortran[s:e] = value


def decode(rle: dict[str, Any]) -> np.ndarray:
    """A ``(h, w)`` bool mask from an RLE with a counts string or a counts list."""
    h, w = (int(v) for v in rle["size"])
    counts = rle["counts"]
    counts = (
        string_to_counts(counts)
        if isinstance(counts, (str, bytes))
        else np.asarray(counts, np.int64)
    )
    if counts.sum() != h * w or (counts < 0).any():
        raise ValueError(f"counts sum to {int(counts.sum())}, expected {h * w}")
    out_t = np.zeros((w, h), dtype=bool)
    paint_counts(out_t.reshape(-1), counts, True)
    return out_t.T


# -- polygons (the rule of pycocotools ``rleFrPoly``) -----------------------------------
_SCALE = 5.0


def _poly_toggles(
    xy: np.ndarray, first: np.ndarray, h: int, w: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Owner, column and row of every y-boundary point pycocotools finds for polygons.

    A port of ``rleFrPoly`` (``maskApi.c``), vectorised over many polygons: the vertices
    are scaled by 5 and rounded, the boundary is walked pixel by pixel along each edge's
    major axis, and every crossing of a pixel-centre column gives the first row at or
    below it. A pixel ``(r, c)`` is inside when an odd number of boundary points of column
    ``c`` lie at rows ``<= r``. Arithmetic follows the C code step by step (``(int)``
    truncates toward zero), so the result equals pycocotools bit for bit.

    ``xy`` holds the vertices of all polygons, one after the other; ``first`` the index of
    each polygon's first vertex.
    """
    n_vert = len(xy)
    counts = np.diff(np.append(first, n_vert))
    poly_of = np.repeat(np.arange(len(first)), counts)
    x = np.trunc(_SCALE * xy[:, 0] + 0.5).astype(np.int64)
    y = np.trunc(_SCALE * xy[:, 1] + 0.5).astype(np.int64)
    # the next vertex, wrapping to the first one within each polygon
    nxt = np.arange(1, n_vert + 1)
    last = first + counts - 1
    nxt[last] = first
    xn, yn = x[nxt], y[nxt]
    dx, dy = np.abs(xn - x), np.abs(y - yn)
    xmaj = dx >= dy
    flip = (xmaj & (x > xn)) | (~xmaj & (y > yn))
    xs, xe = np.where(flip, xn, x), np.where(flip, x, xn)
    ys, ye = np.where(flip, yn, y), np.where(flip, y, yn)
    with np.errstate(divide="ignore", invalid="ignore"):
        # a zero-length edge gives NaN in C too; it has no crossing
        s = np.where(xmaj, (ye - ys) / dx, (xe - xs) / dy)
    # C walks every edge point by point and keeps the pairs of consecutive points whose
    # column u changes and whose lower column c = min(u) is a pixel centre (c % 5 == 2).
    # Pairs across two edges share their point (no change, or a negative column that the
    # bounds below drop), so each edge is handled alone, and only the pairs that can
    # survive are generated.
    # x-major edges: u steps by one at every point, v = (int)(ys + s * (u - xs) + .5)
    xe_idx = np.flatnonzero(xmaj & (dx > 0))
    c_first = xs[xe_idx] + (2 - xs[xe_idx]) % 5
    n_x = np.maximum((xe[xe_idx] - 1 - c_first) // 5 + 1, 0)
    e = np.repeat(xe_idx, n_x)
    k = np.arange(int(n_x.sum())) - np.repeat(np.cumsum(n_x) - n_x, n_x)
    t = np.repeat(c_first - xs[xe_idx], n_x) + 5 * k
    ys_e, s_e = ys[e], s[e]
    v0 = np.trunc(ys_e + s_e * t + 0.5)
    v1 = np.trunc(ys_e + s_e * (t + 1) + 0.5)
    col_x = (t + xs[e] - 2) // 5
    vmin_x = np.minimum(v0, v1)
    own_x = poly_of[e]
    # y-major edges: v steps by one, u = (int)(xs + s * t + .5) may change between steps
    ye_idx = np.flatnonzero(~xmaj)
    n_y = dy[ye_idx]
    e = np.repeat(ye_idx, n_y)
    t = np.arange(int(n_y.sum())) - np.repeat(np.cumsum(n_y) - n_y, n_y)
    xs_e, s_e = xs[e], s[e]
    ua = np.trunc(xs_e + s_e * t + 0.5).astype(np.int64)
    ub = np.trunc(xs_e + s_e * (t + 1) + 0.5).astype(np.int64)
    c = np.minimum(ua, ub)
    hit = (ua != ub) & (c % 5 == 2)
    col_y = (c[hit] - 2) // 5
    vmin_y = (ys[e] + t)[hit].astype(np.float64)
    own_y = poly_of[e][hit]
    col = np.concatenate([col_x, col_y])
    vmin = np.concatenate([vmin_x, vmin_y])
    owner = np.concatenate([own_x, own_y])
    keep = (col >= 0) & (col <= w - 1)
    yd = np.ceil(np.clip((vmin[keep] + 0.5) / _SCALE - 0.5, 0, h))
    return owner[keep], col[keep], yd.astype(np.int64)


def polygon_runs(
    polygons: list[Any], h: int, w: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Column runs of x, y polygons rasterised exactly as pycocotools does.

    Parameters
    ----------
    polygons : list of (n, 2) arrays or flat ``[x1, y1, x2, y2, ...]`` lists
        COCO pixel-edge coordinates (pixel ``(r, c)`` covers ``[c, c+1) x [r, r+1)``).

    Returns
    -------
    owner, col, row0, row1 : ndarray of int64
        One entry per run, sorted by owner: the polygon index, the column and the rows
        ``row0:row1`` inside. The union over polygons is ``annToMask`` of a multi-polygon
        object.
    """
    empty = np.zeros(0, np.int64)
    if not len(polygons):
        return empty, empty, empty, empty
    if all(type(p) is list and (not p or type(p[0]) is not list) for p in polygons):
        # COCO's flat [x1, y1, x2, y2, ...] lists: one conversion for all of them
        lens = np.fromiter(map(len, polygons), np.int64, len(polygons))
        flat = np.fromiter(itertools.chain.from_iterable(polygons), np.float64, int(lens.sum()))
        xy = flat.reshape(-1, 2)
        sizes = lens // 2
    else:
        arrs = [np.asarray(p, dtype=np.float64).reshape(-1, 2) for p in polygons]
        sizes = np.fromiter((len(a) for a in arrs), np.int64, len(arrs))
        xy = np.concatenate(arrs)
    # the walk along each edge costs its length in pixels: a vertex far away (damage or
    # an attack) would allocate without bound, so it is refused
    margin = 4.0 * max(h, w) + 16.0
    if xy.size and (
        not np.isfinite(xy).all()
        or xy[:, 0].min() < -margin
        or xy[:, 1].min() < -margin
        or xy[:, 0].max() > w + margin
        or xy[:, 1].max() > h + margin
    ):
        from ..errors import FormatError

        raise FormatError(f"a polygon point lies far outside the {w}x{h} image", field="polygon")
    valid = sizes > 0
    idx = None
    if not valid.all():
        idx = np.flatnonzero(valid)
        if not idx.size:
            return empty, empty, empty, empty
        sizes = sizes[idx]
    first = np.cumsum(sizes) - sizes
    owner, col, row = _poly_toggles(xy, first, h, w)
    if idx is not None:
        owner = idx[owner]
    order = np.lexsort((row, col, owner))
    owner, col, row = owner[order], col[order], row[order]
    # every column of every polygon has an even number of boundary points: pair them up
    o, c0, ra, rb = owner[0::2], col[0::2], row[0::2], row[1::2]
    keep = rb > ra
    return o[keep], c0[keep], ra[keep], rb[keep]


def run_pixels(col: np.ndarray, row0: np.ndarray, row1: np.ndarray, h: int) -> np.ndarray:
    """Column-major flat indices (``col * h + row``) of every pixel in the runs."""
    lengths = row1 - row0
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, np.int64)
    base = np.repeat(col * h + row0 - (np.cumsum(lengths) - lengths), lengths)
    return base + np.arange(total, dtype=np.int64)
