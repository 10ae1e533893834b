"""Fill the planes between annotated keyframe planes of an object (masks, nD).

An object ``label_id`` is *annotated* on the planes (along ``axis``) where it has pixels.
Between two consecutive annotated planes that are more than one plane apart, its mask is
interpolated from the two keyframe masks by their signed distance functions (SDF):

* each keyframe mask gives an SDF (negative inside, zero on the pixel edges), computed for
  all keyframes of an object by one Euclidean distance transform of their stack;
* plane ``t`` between keyframes ``a`` and ``b`` (weight ``w = (t - a) / (b - a)``) is
  ``(1 - w) * sdf_a + w * sdf_b < 0`` -- objects whose parts split or merge between the
  keyframes blend continuously, since an SDF has no notion of parts;
* with ``align=True`` both SDFs are first moved along the line joining the keyframes'
  centroids (sub-pixel, bilinear), so an object that drifts or leans keeps its size in the
  middle planes instead of shrinking to the overlap of its ends;
* with an ``image`` the shape is refined toward the image's edges: inside a band around the
  interpolated contour (wider the farther a plane is from its keyframes) pixels are assigned
  by a marker watershed of the image's gradient magnitude, in each plane, seeded by the
  certain interior and exterior of the shape.

Only background pixels are written and only with the object's own id: another object's
pixels are never touched, and where several interpolated objects claim the same background
pixel it goes to the one it lies deepest inside. Each object is read through its bounding box
(grown by a small margin in the plane), so zarr and dask arrays are read only there.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable
from typing import Any

import numpy as np
from scipy import ndimage as ndi

from ..errors import InterpolateError
from ..instances import InstanceEdit, Patch
from ._common import Region, check_axis, check_ids, check_image, check_labels, drain, grow
from ._common import object_boxes as _object_boxes

__all__ = [
    "interpolate_slices",
    "iter_interpolate_slices",
    "keyframe_planes",
    "signed_distance",
]


def _edt_function() -> Any:
    """The Euclidean distance transform: the ``edt`` package's when installed (about twice
    as fast on small planes), else :func:`scipy.ndimage.distance_transform_edt`."""
    try:
        import edt  # type: ignore[import-not-found]  # compiled, ships no stubs
    except ImportError:
        return ndi.distance_transform_edt
    return lambda m: edt.edt(m, black_border=False, parallel=1)


def signed_distance(masks: np.ndarray, edt: Any = None) -> np.ndarray:
    """Signed distance to the mask edge of each plane of a stack (axis 0 = planes).

    Negative inside, positive outside, zero on the pixel edges (a boundary pixel is at
    -0.5, its outside neighbour at +0.5). Each plane is framed with background and
    transformed on its own (``edt``: a distance transform of a boolean array, default the
    ``edt`` package's, else scipy's).
    """
    masks = np.asarray(masks, dtype=bool)
    transform = _edt_function() if edt is None else edt
    out = np.empty(masks.shape, np.float32)
    inner = (slice(1, -1),) * (masks.ndim - 1)
    framed = np.zeros(tuple(n + 2 for n in masks.shape[1:]), bool)
    for k, plane in enumerate(masks):
        framed[inner] = plane
        inside = transform(framed)[inner]
        outside = transform(~framed)[inner]
        out[k] = np.where(plane, 0.5 - inside, outside - 0.5)
    return out


def keyframe_planes(obj: np.ndarray) -> np.ndarray:
    """Indices along axis 0 of the planes where a boolean stack has pixels."""
    return np.flatnonzero(obj.reshape(len(obj), -1).any(1))


def _centroid(mask: np.ndarray) -> np.ndarray:
    return np.argwhere(mask).mean(0)


def _shifted(sdf: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """``out[k](p) = sdf(p - offsets[k])`` for integer offsets (edge values beyond).

    All planes are gathered in one indexing operation from a view of every window of the
    edge-padded array.
    """
    m = int(np.abs(offsets).max()) if offsets.size else 0
    if m == 0:
        return np.broadcast_to(sdf, (len(offsets), *sdf.shape))
    padded = np.pad(sdf, m, mode="edge")
    windows = np.lib.stride_tricks.sliding_window_view(padded, sdf.shape)
    index = tuple(m - offsets[:, i] for i in range(offsets.shape[1]))
    return windows[index]


def _moved(sdf: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """``out[k](p) = sdf(p - offsets[k])`` for sub-pixel offsets.

    The whole-pixel part is a gather (:func:`_shifted`); the remaining fraction ``f``
    (|f| <= 0.5) is a first-order step along the gradient, ``sdf(p - f) ~ sdf(p) -
    grad(sdf) . f``, exact for a signed distance away from its ridges.
    """
    whole = np.rint(offsets).astype(int)
    frac = (offsets - whole).astype(np.float32)
    out = np.array(_shifted(sdf, whole), dtype=np.float32)
    grads = np.gradient(sdf) if sdf.ndim > 1 else [np.gradient(sdf)]
    for i, g in enumerate(grads):
        f = frac[:, i].reshape((-1,) + (1,) * sdf.ndim)
        if np.any(f):
            out -= _shifted(g.astype(np.float32), whole) * f
    return out


def _blend(
    sdf_a: np.ndarray,
    sdf_b: np.ndarray,
    w: np.ndarray,
    shift: np.ndarray | None,
) -> np.ndarray:
    """SDFs of the planes at weights ``w`` between ``sdf_a`` (w=0) and ``sdf_b`` (w=1).

    With ``shift`` (centroid of b minus centroid of a) both ends are moved along it: plane
    ``w`` samples ``sdf_a`` at ``p - w * shift`` and ``sdf_b`` at ``p + (1 - w) * shift``.
    """
    wb = w.reshape((-1,) + (1,) * sdf_a.ndim).astype(np.float32)
    if shift is None:
        return (1 - wb) * sdf_a[None] + wb * sdf_b[None]
    out = _moved(sdf_a, w[:, None] * shift[None, :]) * (1 - wb)
    out += _moved(sdf_b, -(1 - w[:, None]) * shift[None, :]) * wb
    return out


def _band_radius(nearest: Any) -> Any:
    """How far (in units of ``band``) the image may move the contour, by keyframe distance."""
    return nearest**0.75


def _inplane_footprint(ndim: int) -> np.ndarray:
    fp = np.zeros((3,) * ndim, bool)
    fp[1] = ndi.generate_binary_structure(ndim - 1, 1)
    return fp


def _edges(img: np.ndarray, sigma: float = 1.0) -> np.ndarray:
    """Gradient magnitude of each plane of a stack (axis 0 = planes), Gaussian-smoothed."""
    sm = ndi.gaussian_filter(img.astype(np.float32), [0.0] + [sigma] * (img.ndim - 1))
    grads = np.gradient(sm, axis=tuple(range(1, img.ndim)))
    if img.ndim == 2:
        grads = [grads]
    return np.sqrt(sum(g * g for g in grads))


def _refine(
    sdf: np.ndarray, img: np.ndarray, forbidden: np.ndarray, radius: np.ndarray
) -> np.ndarray:
    """Shape ``sdf < 0`` moved toward image edges inside a band of ``radius`` per plane."""
    from skimage.segmentation import watershed

    r = radius.reshape((-1,) + (1,) * (sdf.ndim - 1))
    markers = np.zeros(sdf.shape, np.int32)
    markers[sdf > r] = 2
    markers[forbidden] = 2
    markers[(sdf < -r) & ~forbidden] = 1
    shape = sdf < 0
    has_core = (markers == 1).reshape(len(sdf), -1).any(1)
    if not has_core.any():
        return shape
    ws = watershed(_edges(img), markers, connectivity=_inplane_footprint(sdf.ndim)) == 1
    ws[~has_core] = shape[~has_core]  # too thin to have a certain core: keep the shape
    return ws


def _object_fill(
    labels: Any,
    iid: int,
    box: Region,
    axis: int,
    image: Any,
    align: bool,
    band: float,
) -> tuple[Region, np.ndarray, np.ndarray] | None:
    """``(region, fill, sdf)`` of one object (None when it has a single keyframe)."""
    shape = tuple(labels.shape)
    plane_axes = [a for a in range(len(shape)) if a != axis]
    extent = box[axis].stop - box[axis].start
    # the widest band (half-way between the farthest keyframes) must fit in the crop
    margin = 1 + (
        int(np.ceil(band * _band_radius(np.float32(extent / 2)))) + 1 if image is not None else 0
    )
    crop = grow(box, shape, margin, plane_axes)
    block = np.moveaxis(np.asarray(labels[crop]), axis, 0)
    obj = block == iid
    keys = keyframe_planes(obj)
    if len(keys) < 2:
        return None
    gaps = [(int(a), int(b)) for a, b in zip(keys[:-1], keys[1:]) if b - a > 1]
    plane = block.shape[1:]
    if not gaps:
        empty = np.zeros((0, *plane), bool)
        return crop, empty, empty.astype(np.float32)
    t0, t1 = gaps[0][0] + 1, gaps[-1][1]
    fill = np.zeros((t1 - t0, *plane), bool)
    depth = np.full((t1 - t0, *plane), np.inf, np.float32)
    ends = sorted({k for g in gaps for k in g})
    sdfs = dict(zip(ends, signed_distance(obj[ends])))
    img = None
    if image is not None:
        img = np.moveaxis(np.asarray(image[crop], dtype=np.float32), axis, 0)
    for a, b in gaps:
        ts = np.arange(a + 1, b)
        w = (ts - a) / (b - a)
        shift = None
        if align:
            d = _centroid(obj[b]) - _centroid(obj[a])
            if np.hypot.reduce(d) >= 0.5:
                shift = d
        s = _blend(sdfs[a], sdfs[b], w, shift)
        free = block[a + 1 : b] == 0
        if img is not None:
            nearest = np.minimum(ts - a, b - ts).astype(np.float32)
            f = _refine(s, img[a + 1 : b], ~free, band * _band_radius(nearest))
        else:
            f = s < 0
        f &= free
        fill[a + 1 - t0 : b - t0] = f
        depth[a + 1 - t0 : b - t0] = s
    start = crop[axis].start
    region = tuple(slice(start + t0, start + t1) if k == axis else s for k, s in enumerate(crop))
    return region, np.moveaxis(fill, 0, axis), np.moveaxis(depth, 0, axis)


def _intersection(a: Region, b: Region) -> Region | None:
    out = []
    for sa, sb in zip(a, b):
        lo, hi = max(sa.start, sb.start), min(sa.stop, sb.stop)
        if hi <= lo:
            return None
        out.append(slice(lo, hi))
    return tuple(out)


def _local(region: Region, within: Region) -> Region:
    return tuple(slice(r.start - w.start, r.stop - w.start) for r, w in zip(region, within))


def _resolve(fills: list[tuple[int, Region, np.ndarray, np.ndarray]]) -> None:
    """Give each background pixel claimed by several objects to the deepest claim (in place)."""
    if len(fills) < 2:
        return
    starts = np.array([[s.start for s in f[1]] for f in fills])
    stops = np.array([[s.stop for s in f[1]] for f in fills])
    overlap = np.all(
        (starts[:, None] < stops[None, :]) & (starts[None, :] < stops[:, None]), axis=-1
    )
    for i, j in zip(*np.nonzero(np.triu(overlap, 1))):
        _, ra, fa, da = fills[i]
        _, rb, fb, db = fills[j]
        common = _intersection(ra, rb)
        if common is None:
            continue
        la, lb = _local(common, ra), _local(common, rb)
        both = fa[la] & fb[lb]
        if not both.any():
            continue
        a_wins = da[la] <= db[lb]  # the more negative signed distance is deeper
        fb[lb] &= ~(both & a_wins)
        fa[la] &= ~(both & ~a_wins)


def iter_interpolate_slices(
    labels: Any,
    label_id: int | Iterable[int] | None = None,
    axis: int = 0,
    image: Any = None,
    *,
    align: bool = True,
    band: float = 0.5,
    boxes: dict[int, Region] | None = None,
) -> Generator[int, None, InstanceEdit]:
    """:func:`interpolate_slices` as a generator: yields 1 per object, returns the edit."""
    check_labels(labels)
    axis = check_axis(axis, labels.ndim)
    check_image(image, tuple(labels.shape))
    ids = check_ids(label_id)
    if boxes is None:
        boxes = _object_boxes(labels, ids)
    if ids is not None:
        missing = [i for i in ids if i not in boxes]
        if missing:
            raise InterpolateError(
                "label id not found in the labels",
                field="label_id",
                value=missing[0] if len(missing) == 1 else missing,
            )
        boxes = {i: boxes[i] for i in ids}
    fills = []
    for iid, box in boxes.items():
        res = _object_fill(labels, iid, box, axis, image, align, band)
        if res is None:
            if ids is not None:
                raise InterpolateError(
                    f"object {iid} is annotated on one plane only along axis {axis}: "
                    "annotate a second keyframe plane",
                    field="label_id",
                    value=iid,
                )
        elif res[1].any():
            fills.append((iid, *res))
        yield 1
    _resolve(fills)
    dtype = np.dtype(labels.dtype)
    edit = InstanceEdit()
    for iid, region, fill, _ in fills:
        if fill.any():
            values = np.zeros(fill.shape, dtype)
            values[fill] = iid
            edit.patches.append(Patch(region, values, fill))
    return edit


def interpolate_slices(
    labels: Any,
    label_id: int | Iterable[int] | None,
    axis: int = 0,
    image: Any = None,
    *,
    align: bool = True,
    band: float = 0.5,
    boxes: dict[int, Region] | None = None,
) -> InstanceEdit:
    """Fill the gaps between the annotated planes of objects along ``axis``.

    Parameters
    ----------
    labels : array-like of int, at least 3D
        Instance (or class) mask: numpy, zarr or dask; read only in each object's box.
    label_id : int, iterable of int or None
        The object(s) to interpolate; ``None`` interpolates every object (objects annotated
        on a single plane are then skipped).
    axis : int
        The axis along which planes are interpolated (z of a stack, t of a time series).
    image : array-like, optional
        Intensities of ``labels``'s shape: the interpolated contour is moved toward its edges.
    align : bool
        Move keyframe shapes along their centroid displacement (drifting objects).
    band : float
        Width scale (pixels) of the band in which the image may move the contour; it grows
        with the square root of the distance to the nearest keyframe.
    boxes : dict, optional
        Known bounding boxes ``{id: slices}`` (skips the search over the whole array).

    Returns
    -------
    InstanceEdit
        Patches that set background pixels to the object ids (``edit.apply(labels)``).

    Raises
    ------
    InterpolateError
        The labels are not an integer stack, the axis is out of range, an id is absent or
        (for given ids) annotated on a single plane, or the image's shape differs.
    """
    return drain(
        iter_interpolate_slices(labels, label_id, axis, image, align=align, band=band, boxes=boxes)
    )
