"""Instance tools: label, split, merge, relabel and clean instance masks.

Every operation is a pure function that does *not* modify its input. It returns an
:class:`InstanceEdit`: the new values of the regions it changed (one patch per touched
bounding box) plus what happened to the ids (``parents`` of new ids, ``removed`` ids,
``merged`` ids). ``edit.apply(labels)`` gives the new label image; the session writes the
same patches into a napari Labels layer as one undo step and uses the id bookkeeping to keep
the instance -> class table consistent.

Conventions
-----------
* Instance masks hold non-negative integers; 0 is background.
* ``region`` (a tuple of slices, e.g. the current plane ``(slice(z, z + 1),)``) restricts an
  operation to that part of the image; the region is then treated as the whole image (an
  object cut by the region's edge is only processed inside it).
* Object operations work inside each object's bounding box, so their cost follows the size of
  the objects, not of the image (finding the box of one id is a single fast scan when no box
  is given).
* New ids (parts of split objects) are numbered from ``next_id`` (default: the image's
  maximum + 1). Of the parts of a split object the largest keeps the original id.
* Connectivity is given as in scikit-image: 1 = faces only ... ``ndim`` = full.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, overload

import numpy as np
from scipy import ndimage as ndi

from ..annotation import ObjectInfo
from ..errors import InstanceError

__all__ = [
    "InstanceEdit",
    "Patch",
    "apply_to_objects",
    "component_classes",
    "delete",
    "fill_holes",
    "find_bboxes",
    "label_components",
    "merge",
    "relabel_sequential",
    "remove_border_objects",
    "remove_small",
    "split_by_line",
    "split_disconnected",
    "split_touching",
    "min_distance_for_areas",
    "suggest_min_distance",
]

Region = tuple[slice, ...]

#: default ``min_depth`` of :func:`split_touching` (pixels of the distance transform;
#: the ridge of a digitised ring or band wobbles by up to about a pixel)
DEFAULT_MIN_DEPTH = 1.5


@dataclass
class Patch:
    """New ``values`` for ``labels[region]`` (only where ``mask`` is True, if given)."""

    region: Region
    values: np.ndarray
    mask: np.ndarray | None = None


# -- the result of an operation ----------------------------------------------------------
@dataclass
class InstanceEdit:
    """What an instance operation changes.

    Attributes
    ----------
    patches : list of Patch
        Regions (in full-image coordinates) and their new values; where a patch has a
        ``mask`` only those pixels change, so patches of neighbouring objects may overlap.
    parents : dict[int, int]
        New id -> the id it was split from (its class is inherited).
    removed : set[int]
        Ids that no longer exist after the edit (deleted or merged away).
    merged : dict[int, int]
        Merged-away id -> the id it now belongs to.
    relabel : dict[int, int] or None
        For :func:`relabel_sequential`: old id -> new id of every object.
    """

    patches: list[Patch] = field(default_factory=list)
    parents: dict[int, int] = field(default_factory=dict)
    removed: set[int] = field(default_factory=set)
    merged: dict[int, int] = field(default_factory=dict)
    relabel: dict[int, int] | None = None

    @property
    def empty(self) -> bool:
        return not self.patches

    def apply(self, labels: Any, *, inplace: bool = False) -> Any:
        """The label image after the edit (a copy unless ``inplace``)."""
        out = labels if inplace else np.array(labels, copy=True)
        for p in self.patches:
            if p.mask is None:
                out[p.region] = p.values
            else:
                block = np.array(out[p.region], copy=True)
                block[p.mask] = p.values[p.mask]
                out[p.region] = block
        return out

    def changes(self, labels: Any):
        """Yield ``(indices, new_values)`` fancy-index pairs of the pixels that change.

        ``labels`` is the image *before* the edit. Only differing pixels are listed, which is
        what napari's ``Labels.data_setitem`` records in its undo history.
        """
        for p in self.patches:
            diff = np.asarray(labels[p.region]) != p.values
            if p.mask is not None:
                diff &= p.mask
            if not diff.any():
                continue
            local = np.nonzero(diff)
            idx = tuple(i + (s.start or 0) for i, s in zip(local, p.region))
            yield idx, p.values[diff]


# -- validation --------------------------------------------------------------------------
def _check_labels(labels: Any, name: str = "labels", *, values: bool = True) -> None:
    dtype = getattr(labels, "dtype", None)
    if dtype is None or getattr(labels, "ndim", 0) < 1:
        raise InstanceError(f"{name} must be an integer array", field=name, value=type(labels))
    if np.dtype(dtype).kind not in "iu":
        raise InstanceError(
            f"{name} must hold integer instance ids", field=name, value=str(np.dtype(dtype))
        )
    if values and np.dtype(dtype).kind == "i" and isinstance(labels, np.ndarray) and labels.size:
        lo = labels.min()
        if lo < 0:
            raise InstanceError(f"{name} must not hold negative ids", field=name, value=int(lo))


def _check_region(region: Region | None, shape: tuple[int, ...]) -> Region:
    if region is None:
        return tuple(slice(0, n) for n in shape)
    region = tuple(region)
    if len(region) > len(shape) or not all(isinstance(s, slice) for s in region):
        raise InstanceError("region must be a tuple of slices", field="region", value=region)
    full = []
    for s, n in zip(region + (slice(None),) * (len(shape) - len(region)), shape):
        start, stop, step = s.indices(n)
        if step != 1 or stop <= start:
            raise InstanceError("region must be a non-empty step-1 box", field="region", value=s)
        full.append(slice(start, stop))
    return tuple(full)


@overload
def _ids(ids: None, name: str = ...) -> None: ...
@overload
def _ids(ids: int | Iterable[int], name: str = ...) -> list[int]: ...
def _ids(ids: int | Iterable[int] | None, name: str = "ids") -> list[int] | None:
    if ids is None:
        return None
    arr = np.atleast_1d(np.asarray(list(ids) if not np.isscalar(ids) else ids))
    if arr.size and arr.dtype.kind not in "iu":
        if arr.dtype.kind == "f" and np.all(arr == np.round(arr)):
            arr = arr.astype(np.int64)
        else:
            raise InstanceError(f"{name} must be integer ids", field=name, value=arr.tolist())
    out = [int(i) for i in arr]
    bad = [i for i in out if i <= 0]
    if bad:
        raise InstanceError(f"{name} must be positive instance ids", field=name, value=bad)
    return list(dict.fromkeys(out))


def _structure(ndim: int, connectivity: int | None) -> np.ndarray:
    c = ndim if connectivity is None else connectivity
    if not isinstance(c, (int, np.integer)) or not 1 <= c <= ndim:
        raise InstanceError(
            f"connectivity must be an integer in 1..{ndim}", field="connectivity", value=c
        )
    return ndi.generate_binary_structure(ndim, int(c))


def _offset(region: Region, local: Region) -> Region:
    return tuple(slice(r.start + s.start, r.start + s.stop) for r, s in zip(region, local))


def _grow(box: Region, shape: Sequence[int], margin: int = 1) -> Region:
    return tuple(
        slice(max(s.start - margin, 0), min(s.stop + margin, n)) for s, n in zip(box, shape)
    )


# -- bounding boxes ----------------------------------------------------------------------
def find_bboxes(labels: np.ndarray, ids: Sequence[int] | None = None) -> dict[int, Region]:
    """Bounding boxes (tuples of slices) of ``ids`` (all ids when None) in ``labels``.

    Ids that do not occur are left out of the result. One id costs one pass over the image;
    many ids use :func:`scipy.ndimage.find_objects`.
    """
    labels = np.asarray(labels)
    if ids is not None and len(ids) <= 4:
        out = {}
        for i in ids:
            box = _bbox_of(labels, int(i))
            if box is not None:
                out[int(i)] = box
        return out
    top = int(labels.max()) if labels.size else 0
    if ids is not None:
        top = min(top, max(ids))
    if top > 4 * labels.size + 1024:
        ids_, slices = _sparse_find_objects(labels)
        boxes = {int(u): s for u, s in zip(ids_, slices)}
    else:
        slices = ndi.find_objects(labels, max_label=top)
        boxes = {k: s for k, s in enumerate(slices, start=1) if s is not None}
    if ids is None:
        return boxes
    return {int(i): boxes[int(i)] for i in ids if int(i) in boxes}


def _sparse_find_objects(labels: np.ndarray) -> tuple[np.ndarray, list[Region]]:
    """``(ids, boxes)`` of the non-zero ids, found on a compact relabelling (for huge ids)."""
    uniq, inv = np.unique(labels, return_inverse=True)
    bg = uniq[0] == 0
    # find_objects skips 0: without background the smallest id must not become 0
    slices = ndi.find_objects(inv.reshape(labels.shape) + (0 if bg else 1))
    return (uniq[1:] if bg else uniq), slices


def _bbox_of(labels: np.ndarray, iid: int) -> Region | None:
    """Box of one id: scan blocks of the first axis (cache-friendly), then the hit rows."""
    n0 = labels.shape[0]
    block = max(1, (1 << 20) // max(1, labels[0].size))
    first: int | None = None
    last = 0
    for r0 in range(0, n0, block):
        hit = np.flatnonzero(
            (labels[r0 : r0 + block] == iid).reshape(min(block, n0 - r0), -1).any(1)
        )
        if hit.size:
            if first is None:
                first = r0 + int(hit[0])
            last = r0 + int(hit[-1])
    if first is None:
        return None
    sub = labels[first : last + 1] == iid
    rest = []
    for ax in range(1, labels.ndim):
        other = tuple(a for a in range(labels.ndim) if a != ax)
        nz = np.flatnonzero(sub.any(axis=other))
        rest.append(slice(int(nz[0]), int(nz[-1]) + 1))
    return (slice(first, last + 1), *rest)


def _boxes_or_error(lab: np.ndarray, ids: list[int], name: str = "ids") -> dict[int, Region]:
    boxes = find_bboxes(lab, ids)
    missing = [i for i in ids if i not in boxes]
    if missing:
        raise InstanceError("unknown instance ids", field=name, value=missing)
    return boxes


def _next_id(labels: Any, next_id: int | None) -> int:
    if next_id is not None:
        return int(next_id)
    return int(np.max(labels)) + 1 if labels.size else 1


def _split_parts(
    crop: np.ndarray,
    iid: int,
    parts: np.ndarray,
    n_parts: int,
    next_id: int,
    name: str = "labels",
) -> tuple[np.ndarray, list[int]]:
    """Write ``parts`` (1..n inside the object) into ``crop``; the largest part keeps ``iid``.

    Raises an InstanceError naming ``name`` when the new ids do not fit ``crop``'s dtype
    (a cast would wrap them onto other ids or the background).
    """
    last = next_id + n_parts - 2
    if n_parts > 1 and last > np.iinfo(crop.dtype).max:
        raise InstanceError(
            f"the new id {last} does not fit the {crop.dtype} {name}: "
            "convert them to a wider integer type (e.g. uint32) first",
            field=name,
            value=str(crop.dtype),
        )
    sizes = np.bincount(parts.ravel(), minlength=n_parts + 1)[1:]
    order = np.argsort(-sizes, kind="stable")
    lut = np.zeros(n_parts + 1, dtype=np.int64)
    lut[order[0] + 1] = iid
    new_ids = list(range(next_id, next_id + n_parts - 1))
    for k, part in enumerate(order[1:]):
        lut[part + 1] = new_ids[k]
    out = crop.copy()
    inside = parts > 0
    out[inside] = lut[parts[inside]].astype(crop.dtype, copy=False)
    return out, new_ids


# -- connected components ----------------------------------------------------------------
def label_components(mask: Any, connectivity: int = 1) -> np.ndarray:
    """Connected components of a mask, per class for semantic masks.

    Parameters
    ----------
    mask : ndarray of bool or int
        A binary mask, or a semantic mask of class ids (0 = background). Pixels of different
        classes never join the same component.
    connectivity : int
        1 (faces, the default, as :func:`scipy.ndimage.label`) up to ``mask.ndim`` (full).

    Returns
    -------
    ndarray of int32
        Instance ids 1..n (0 background); use :func:`component_classes` for their classes.
    """
    mask = np.asarray(mask)
    if mask.dtype != bool:
        _check_labels(mask, "mask")
    structure = _structure(mask.ndim, connectivity)
    fast = _cc3d_label(mask, connectivity)
    if fast is not None:
        return fast
    if mask.dtype == bool or mask.size == 0 or int(mask.max()) <= 1:
        out, _ = ndi.label(mask, structure=structure, output=np.int32)
        return out
    out = np.zeros(mask.shape, np.int32)
    boxes = find_bboxes(mask)
    n = 0
    for cls in sorted(boxes):
        box = boxes[cls]
        lab, k = ndi.label(mask[box] == cls, structure=structure, output=np.int32)
        inside = lab > 0
        out[box][inside] = lab[inside] + n
        n += k
    return out


#: cc3d connectivity for (ndim, scikit-image connectivity)
_CC3D_CONNECTIVITY = {(2, 1): 4, (2, 2): 8, (3, 1): 6, (3, 2): 18, (3, 3): 26}


def _cc3d_label(mask: np.ndarray, connectivity: int) -> np.ndarray | None:
    """cc3d's labelling (several times faster than scipy, see benchmarks), or None."""
    conn = _CC3D_CONNECTIVITY.get((mask.ndim, int(connectivity)))
    if conn is None or mask.size == 0:
        return None
    try:
        import cc3d
    except ImportError:
        return None
    data = mask.view(np.uint8) if mask.dtype == bool else mask
    cc: Any = cc3d.connected_components
    out, n = cc(data, connectivity=conn, return_N=True, out_dtype=np.uint32)
    if n > np.iinfo(np.int32).max:
        return None
    return out.view(np.int32)  # ids < 2**31: the same values, no copy


def component_classes(labels: np.ndarray, semantic: np.ndarray) -> dict[int, int]:
    """Class of every instance: the semantic value at its first pixel."""
    labels = np.asarray(labels)
    if labels.shape != np.shape(semantic):
        raise InstanceError(
            "semantic mask and labels differ in shape",
            field="semantic",
            value=(np.shape(semantic), labels.shape),
        )
    ids, first = np.unique(labels.ravel(), return_index=True)
    cls = np.asarray(semantic).ravel()[first]
    return {int(i): int(c) for i, c in zip(ids, cls) if i != 0}


# -- splitting ---------------------------------------------------------------------------
def suggest_min_distance(labels: Any) -> int:
    """A ``min_distance`` for :func:`split_touching` from the objects' typical size.

    Half the radius of the median object (equivalent disk or ball), at least 2: peaks of
    two touching objects of that size lie about two radii apart, while one object's own
    peaks closer than this are merged.
    """
    lab = np.asarray(labels)
    areas: Any = np.bincount(lab.ravel().astype(np.intp, copy=False)) if lab.size else []
    return min_distance_for_areas(np.asarray(areas)[1:], lab.ndim)


def min_distance_for_areas(areas: Any, ndim: int) -> int:
    """:func:`suggest_min_distance` from the objects' pixel counts (zeros are ignored)."""
    areas = np.asarray(areas)
    areas = areas[areas > 0]
    if not len(areas):
        return 2
    size = float(np.median(areas))
    radius = np.sqrt(size / np.pi) if ndim < 3 else (3 * size / (4 * np.pi)) ** (1 / 3)
    return max(2, int(round(radius / 2)))


def split_touching(
    labels: Any,
    ids: int | Iterable[int] | None = None,
    min_distance: int | None = None,
    seeds: Any = None,
    *,
    region: Region | None = None,
    next_id: int | None = None,
    min_depth: float = DEFAULT_MIN_DEPTH,
) -> InstanceEdit:
    """Split touching objects with a seeded watershed on their distance transform.

    Parameters
    ----------
    labels : ndarray of int
        Instance mask.
    ids : int or iterable of int, optional
        Objects to split (default: all, or those holding a seed when ``seeds`` is given).
    min_distance : int, optional
        Minimal distance in pixels between two automatic seeds (distance-transform peaks).
        Default: from the size of the objects in ``region`` (:func:`suggest_min_distance`).
    min_depth : float
        How much (in pixels of the distance transform) a peak must rise above the saddle
        joining it to a higher peak to seed its own part: a neck between two round
        objects is deep, the ridge along a ring or a band is flat, so rings and bands stay
        whole instead of being cut into wedges. 0 keeps every peak.
    seeds : (N, ndim) array, optional
        Seed coordinates (e.g. a Points layer's data, in pixel coordinates). Each object then
        splits into one part per seed it holds; objects with fewer than two seeds stay whole.
    region : tuple of slices, optional
        Restrict the operation to this region.
    next_id : int, optional
        First id for new parts (default ``labels.max() + 1``).
    """
    _check_labels(labels, values=False)
    if min_distance is not None and (
        not isinstance(min_distance, (int, np.integer)) or min_distance < 1
    ):
        raise InstanceError(
            "min_distance must be a positive integer", field="min_distance", value=min_distance
        )
    if not np.isfinite(min_depth) or min_depth < 0:
        raise InstanceError("min_depth must be >= 0", field="min_depth", value=min_depth)
    region = _check_region(region, labels.shape)
    lab = np.asarray(labels[region])
    _check_labels(lab)
    if min_distance is None:
        min_distance = suggest_min_distance(lab)
    wanted = _ids(ids)
    seed_map: dict[int, list[tuple[int, ...]]] = {}
    if seeds is not None:
        pts = np.asarray(seeds, dtype=float)
        if pts.ndim != 2 or pts.shape[1] != labels.ndim or not np.isfinite(pts).all():
            raise InstanceError(
                f"seeds must be an (N, {labels.ndim}) array of coordinates",
                field="seeds",
                value=pts.shape,
            )
        starts = np.array([s.start for s in region])
        local = np.round(pts).astype(np.int64) - starts
        inside = np.all((local >= 0) & (local < np.array(lab.shape)), axis=1)
        for p in local[inside]:
            iid = int(lab[tuple(p)])
            if iid and (wanted is None or iid in wanted):
                seed_map.setdefault(iid, []).append(tuple(int(v) for v in p))
        if wanted is None:
            wanted = sorted(seed_map)
    boxes = find_bboxes(lab) if wanted is None else _boxes_or_error(lab, wanted)
    nid = next_id  # the image maximum costs a full pass: only computed when a split happens
    edit = InstanceEdit()
    for iid, box in boxes.items():
        if seeds is not None and len(seed_map.get(iid, ())) < 2:
            continue
        grown = _grow(box, lab.shape)
        crop = lab[grown]
        mask = crop == iid
        local = None
        if seeds is not None:
            origin = np.array([s.start for s in grown])
            local = [tuple(np.array(p) - origin) for p in seed_map[iid]]
        parts = _split_object(mask, min_distance, local, min_depth)
        if parts is None:
            continue
        nid = _next_id(labels, nid)
        values, new_ids = _split_parts(crop, iid, parts, int(parts.max()), nid)
        nid += len(new_ids)
        edit.parents.update(dict.fromkeys(new_ids, iid))
        edit.patches.append(Patch(_offset(region, grown), values, mask))
    return edit


def _split_object(
    mask: np.ndarray,
    min_distance: int,
    seeds: list[tuple[int, ...]] | None = None,
    min_depth: float = DEFAULT_MIN_DEPTH,
) -> np.ndarray | None:
    """Watershed parts (1..n) of one object's ``mask`` (its box grown by one pixel).

    ``seeds`` are local coordinates (None: distance-transform peaks at least
    ``min_distance`` apart, each rising ``min_depth`` above the saddle to a higher peak).
    Returns None when the object stays whole. Shared by :func:`split_touching` and its
    chunked variant, so both split every object identically.
    """
    from skimage.feature import peak_local_max
    from skimage.segmentation import watershed

    dist = ndi.distance_transform_edt(mask)
    if seeds is not None:
        markers = np.zeros(mask.shape, np.int32)
        for k, p in enumerate(seeds, start=1):
            markers[p] = k
    else:
        peaks = peak_local_max(
            dist, min_distance=int(min_distance), labels=mask, exclude_border=False
        )
        if len(peaks) < 2:
            return None
        peak_mask = np.zeros(mask.shape, bool)
        peak_mask[tuple(peaks.T)] = True
        # neighbouring maxima on a plateau are one seed
        markers, _ = ndi.label(peak_mask, structure=np.ones((3,) * mask.ndim))
    parts = watershed(-dist, markers, mask=mask)
    if seeds is None and min_depth > 0 and int(parts.max()) >= 2:
        parts = _merge_shallow(parts, dist, min_depth)
    return parts if int(parts.max()) >= 2 else None


def _merge_shallow(parts: np.ndarray, dist: np.ndarray, min_depth: float) -> np.ndarray:
    """Merge watershed parts whose peak rises less than ``min_depth`` above the saddle.

    The saddle between two touching parts is the highest distance value along their
    common border; pairs are merged from the highest saddle down (the dynamics of the
    peaks, as h-maxima define them), so a ridge of nearly equal peaks becomes one part.
    """
    n = int(parts.max())
    peak = np.zeros(n + 1)
    inside = parts > 0
    np.maximum.at(peak, parts[inside], dist[inside])  # much faster than ndi.maximum's sort
    keys, vals = [], []
    for axis in range(parts.ndim):
        lo = [slice(None)] * parts.ndim
        hi = [slice(None)] * parts.ndim
        lo[axis], hi[axis] = slice(None, -1), slice(1, None)
        a, b = parts[tuple(lo)], parts[tuple(hi)]
        border = (a != b) & (a > 0) & (b > 0)
        pa, pb = a[border].astype(np.int64), b[border].astype(np.int64)
        keys.append(np.minimum(pa, pb) * (n + 1) + np.maximum(pa, pb))
        vals.append(np.minimum(dist[tuple(lo)][border], dist[tuple(hi)][border]))
    pair_keys, inverse = np.unique(np.concatenate(keys), return_inverse=True)
    saddle = np.full(len(pair_keys), -np.inf)
    np.maximum.at(saddle, inverse, np.concatenate(vals))
    saddles = {(int(k // (n + 1)), int(k % (n + 1))): float(v) for k, v in zip(pair_keys, saddle)}
    root = list(range(n + 1))

    def find(i: int) -> int:
        while root[i] != i:
            root[i] = root[root[i]]
            i = root[i]
        return i

    for (x, y), v in sorted(saddles.items(), key=lambda kv: -kv[1]):
        rx, ry = find(x), find(y)
        if rx != ry and min(peak[rx], peak[ry]) - v < min_depth:
            keep, drop = (rx, ry) if peak[rx] >= peak[ry] else (ry, rx)
            root[drop] = keep
    final = np.array([find(i) for i in range(n + 1)])
    _, dense = np.unique(final, return_inverse=True)  # 0 stays 0: root[0] is 0
    return dense.reshape(final.shape)[parts].astype(parts.dtype, copy=False)


def split_by_line(
    labels: Any, id: int, line: Any, *, region: Region | None = None, next_id: int | None = None
) -> InstanceEdit:
    """Cut one object along a drawn path into its parts.

    Parameters
    ----------
    labels : ndarray of int
        Instance mask.
    id : int
        The object to cut.
    line : (N, D) array
        Path vertices in pixel coordinates, ``D`` = 2 or ``labels.ndim``; leading coordinates
        (e.g. ``z``) must be constant: the cut happens on that plane.
    region, next_id
        As in :func:`split_touching`.
    """
    from skimage.draw import line as draw_line

    _check_labels(labels, values=False)
    (iid,) = _ids([id], "id")
    pts = np.asarray(line, dtype=float)
    nd = labels.ndim
    if pts.ndim != 2 or pts.shape[0] < 2 or pts.shape[1] not in (2, nd):
        raise InstanceError(
            "line must be an (N >= 2, 2 or ndim) array of vertices", field="line", value=pts.shape
        )
    plane = list(_check_region(region, labels.shape))
    if pts.shape[1] > 2:
        lead = np.round(pts[:, :-2]).astype(np.int64)
        if not (lead == lead[0]).all():
            raise InstanceError(
                "a cutting line must lie in one plane", field="line", value=lead.tolist()
            )
        for ax, v in enumerate(lead[0]):
            if not plane[ax].start <= v < plane[ax].stop:
                raise InstanceError("the line lies outside the region", field="line", value=v)
            plane[ax] = slice(int(v), int(v) + 1)
        pts = pts[:, -2:]
    elif nd > 2 and any(plane[ax].stop - plane[ax].start != 1 for ax in range(nd - 2)):
        raise InstanceError(
            "a 2D line on an nD image needs the plane coordinates", field="line", value=pts.shape
        )
    region = tuple(plane)
    lab = np.asarray(labels[region])
    _check_labels(lab)
    box = _boxes_or_error(lab, [iid], "id")[iid]
    crop = lab[box]
    mask = crop == iid
    cut = np.zeros(mask.shape[-2:], bool)
    origin = np.array([box[-2].start + region[-2].start, box[-1].start + region[-1].start])
    v = np.round(pts).astype(np.int64) - origin
    for a, b in zip(v[:-1], v[1:]):
        rr, cc = draw_line(int(a[0]), int(a[1]), int(b[0]), int(b[1]))
        ok = (rr >= 0) & (rr < cut.shape[0]) & (cc >= 0) & (cc < cut.shape[1])
        cut[rr[ok], cc[ok]] = True
    cut = np.broadcast_to(cut, mask.shape)
    # the line's pixels block face-connectivity; afterwards they join the nearest part
    parts, n = ndi.label(mask & ~cut, structure=_structure(mask.ndim, 1))
    if n < 2:
        return InstanceEdit()
    _, nearest = ndi.distance_transform_edt(parts == 0, return_indices=True)
    parts = np.where(mask, parts[tuple(nearest)], 0)
    values, new_ids = _split_parts(crop, iid, parts, n, _next_id(labels, next_id))
    return InstanceEdit(
        patches=[Patch(_offset(region, box), values, mask)], parents=dict.fromkeys(new_ids, iid)
    )


def split_disconnected(
    labels: Any,
    ids: int | Iterable[int] | None = None,
    connectivity: int = 1,
    *,
    region: Region | None = None,
    next_id: int | None = None,
) -> InstanceEdit:
    """Give every connected piece of an object its own id (the largest keeps the old one)."""
    _check_labels(labels, values=False)
    region = _check_region(region, labels.shape)
    lab = np.asarray(labels[region])
    _check_labels(lab)
    structure = _structure(lab.ndim, connectivity)
    wanted = _ids(ids)
    boxes = find_bboxes(lab) if wanted is None else _boxes_or_error(lab, wanted)
    nid = next_id  # the image maximum costs a full pass: only computed when a split happens
    edit = InstanceEdit()
    for iid, box in boxes.items():
        crop = lab[box]
        parts, n = ndi.label(crop == iid, structure=structure)
        if n < 2:
            continue
        nid = _next_id(labels, nid)
        values, new_ids = _split_parts(crop, iid, parts, n, nid)
        nid += len(new_ids)
        edit.parents.update(dict.fromkeys(new_ids, iid))
        edit.patches.append(Patch(_offset(region, box), values, parts > 0))
    return edit


# -- merging, deleting, relabelling --------------------------------------------------------
def merge(
    labels: Any, ids: Iterable[int], *, into: int | None = None, region: Region | None = None
) -> InstanceEdit:
    """Merge objects into one id (``into``, default the smallest of ``ids``)."""
    _check_labels(labels, values=False)
    wanted = _ids(ids)
    if not wanted or len(wanted) < 2:
        raise InstanceError("merge needs at least two ids", field="ids", value=wanted)
    target = min(wanted) if into is None else _ids([into], "into")[0]
    if target not in wanted:
        raise InstanceError("into must be one of the merged ids", field="into", value=into)
    region = _check_region(region, labels.shape)
    lab = np.asarray(labels[region])
    _check_labels(lab)
    boxes = _boxes_or_error(lab, wanted)
    union = tuple(
        slice(min(b[a].start for b in boxes.values()), max(b[a].stop for b in boxes.values()))
        for a in range(lab.ndim)
    )
    crop = lab[union]
    values = np.where(np.isin(crop, wanted), crop.dtype.type(target), crop)
    gone = [i for i in wanted if i != target]
    return InstanceEdit(
        patches=[Patch(_offset(region, union), values)],
        removed=set(gone),
        merged=dict.fromkeys(gone, target),
    )


def delete(labels: Any, ids: int | Iterable[int], *, region: Region | None = None) -> InstanceEdit:
    """Set the pixels of ``ids`` to background."""
    _check_labels(labels, values=False)
    wanted = _ids(ids)
    region = _check_region(region, labels.shape)
    lab = np.asarray(labels[region])
    _check_labels(lab)
    boxes = _boxes_or_error(lab, wanted)
    return _erase(lab, region, boxes)


def _erase(lab: np.ndarray, region: Region, boxes: dict[int, Region]) -> InstanceEdit:
    edit = InstanceEdit(removed=set(boxes))
    if not boxes:
        return edit
    gone = np.array(sorted(boxes))
    # one patch for the union of the boxes keeps the patches disjoint
    union = tuple(
        slice(min(b[a].start for b in boxes.values()), max(b[a].stop for b in boxes.values()))
        for a in range(lab.ndim)
    )
    crop = lab[union]
    values = np.where(np.isin(crop, gone), crop.dtype.type(0), crop)
    edit.patches.append(Patch(_offset(region, union), values))
    return edit


def relabel_sequential(labels: Any) -> InstanceEdit:
    """Renumber the ids to 1..n, keeping their order; ``edit.relabel`` maps old -> new."""
    _check_labels(labels)
    lab = np.asarray(labels)
    uniq = _unique(lab)
    uniq = uniq[uniq != 0]
    new = np.arange(1, uniq.size + 1)
    mapping = {int(o): int(n) for o, n in zip(uniq, new)}
    region = tuple(slice(0, n) for n in lab.shape)
    if all(o == n for o, n in mapping.items()):
        return InstanceEdit(relabel=mapping)
    values = _remap(lab, mapping)
    return InstanceEdit(patches=[Patch(region, values)], relabel=mapping)


# -- cleaning ----------------------------------------------------------------------------
def fill_holes(
    labels: Any, ids: int | Iterable[int] | None = None, *, region: Region | None = None
) -> InstanceEdit:
    """Fill background holes enclosed by an object with its id (other objects are kept).

    Holes are enclosed in all dimensions of the region: use a one-plane ``region`` to fill
    holes of a volume plane by plane. A hole inside an object that is itself enclosed by
    another one belongs to the innermost enclosing object.
    """
    _check_labels(labels, values=False)
    region = _check_region(region, labels.shape)
    lab = np.asarray(labels[region])
    _check_labels(lab)
    wanted = _ids(ids)
    boxes = find_bboxes(lab) if wanted is None else _boxes_or_error(lab, wanted)
    edit = InstanceEdit()
    filled: dict[int, np.ndarray] = {}
    for iid, box in boxes.items():
        crop = lab[box]
        mask = crop == iid
        enclosed = _filled(mask)
        holes = enclosed & (crop == 0)
        if not holes.any():
            continue
        # the holes of objects nested inside this one are theirs, not this object's
        inner = [int(j) for j in np.unique(crop[enclosed & ~mask]) if j != 0]
        for j, jbox in (find_bboxes(crop, inner) if inner else {}).items():
            holes[jbox] &= ~_filled(crop[jbox] == j)
        if holes.any():
            filled[iid] = holes
    if not filled:
        return edit
    # each hole went to its innermost enclosing object, so the holes do not overlap
    union = tuple(
        slice(min(boxes[i][a].start for i in filled), max(boxes[i][a].stop for i in filled))
        for a in range(lab.ndim)
    )
    values = lab[union].copy()
    for iid, holes in filled.items():
        local = tuple(
            slice(b.start - u.start, b.stop - u.start) for b, u in zip(boxes[iid], union)
        )
        values[local][holes] = iid
    edit.patches.append(Patch(_offset(region, union), values))
    return edit


def _filled(mask: np.ndarray) -> np.ndarray:
    """``mask`` with its enclosed holes filled."""
    # singleton axes (a plane of a volume) must not make every hole touch the border
    flat = mask.reshape([n for n in mask.shape if n > 1] or [1])
    return ndi.binary_fill_holes(flat).reshape(mask.shape)


def _unique(lab: np.ndarray) -> np.ndarray:
    try:
        import fastremap
    except ImportError:
        return np.unique(lab)
    return np.asarray(fastremap.unique(lab))


def _remap(lab: np.ndarray, mapping: dict[int, int]) -> np.ndarray:
    """``lab`` with ids replaced through ``mapping`` (fastremap when installed: faster)."""
    try:
        import fastremap
    except ImportError:
        uniq = np.array(sorted(mapping), dtype=np.int64)
        new = np.array([mapping[k] for k in sorted(mapping)], dtype=np.int64)
        values = np.zeros(lab.shape, lab.dtype)
        fg = lab != 0
        values[fg] = new[np.searchsorted(uniq, lab[fg])].astype(lab.dtype, copy=False)
        return values
    return fastremap.remap(lab, {0: 0, **mapping}, preserve_missing_labels=True, in_place=False)


def _sizes(lab: np.ndarray) -> dict[int, int]:
    if lab.size == 0:
        return {}
    top = int(lab.max())
    if top <= 4 * lab.size + 1024:
        counts = np.bincount(lab.ravel(), minlength=top + 1)
        ids = np.flatnonzero(counts)
        return {int(i): int(counts[i]) for i in ids if i}
    ids, counts = np.unique(lab, return_counts=True)
    return {int(i): int(c) for i, c in zip(ids, counts) if i}


def max_size_arg(max_size: Any, min_size: Any = None) -> int:
    """The checked size limit of :func:`remove_small` (``min_size`` is its old name)."""
    if min_size is not None:
        if max_size is not None:
            raise InstanceError(
                "give max_size only (min_size is its old name)", field="min_size", value=min_size
            )
        max_size = min_size
    if isinstance(max_size, bool) or not isinstance(max_size, (int, np.integer)) or max_size < 0:
        raise InstanceError(
            "max_size must be a non-negative integer", field="max_size", value=max_size
        )
    return int(max_size)


def remove_small(
    labels: Any,
    max_size: int | None = None,
    *,
    region: Region | None = None,
    min_size: int | None = None,
) -> InstanceEdit:
    """Delete objects of ``max_size`` pixels or fewer (counted inside ``region``).

    As scikit-image's ``remove_small_objects(max_size=...)``: ``remove_small(labels, 20)``
    drops every object of 20 pixels or fewer. ``min_size`` is the old name of ``max_size``
    (same meaning).
    """
    _check_labels(labels, values=False)
    max_size = max_size_arg(max_size, min_size)
    region = _check_region(region, labels.shape)
    lab = np.asarray(labels[region])
    _check_labels(lab)
    small = [i for i, n in _sizes(lab).items() if n <= max_size]
    return _erase(lab, region, find_bboxes(lab, small) if small else {})


def remove_border_objects(labels: Any, *, region: Region | None = None) -> InstanceEdit:
    """Delete objects that touch the edge of the image (or of ``region``)."""
    _check_labels(labels, values=False)
    region = _check_region(region, labels.shape)
    lab = np.asarray(labels[region])
    _check_labels(lab)
    touching: set[int] = set()
    for ax in range(lab.ndim):
        for idx in (0, -1):
            face = np.take(lab, idx, axis=ax)
            touching.update(int(i) for i in np.unique(face) if i)
    if not touching:
        return InstanceEdit()
    return _erase(lab, region, find_bboxes(lab, sorted(touching)))


# -- the instance -> class table ---------------------------------------------------------
def apply_to_objects(
    objects: dict[int, ObjectInfo],
    edit: InstanceEdit,
    *,
    merge_class: int | None = None,
    prune: bool = True,
) -> dict[int, ObjectInfo]:
    """The instance -> class table after ``edit`` (a new dict; ``objects`` is unchanged).

    Parts of a split object inherit its class and attributes (their review status starts
    over at ``"todo"``). Merging objects of different classes needs ``merge_class``.
    With ``prune=False`` the rows of removed ids are kept (so that an undo of the pixels
    finds its classes again).

    Raises
    ------
    InstanceError
        Merged objects have different classes and no ``merge_class`` was given.
    """
    out = {int(k): copy.deepcopy(v) for k, v in objects.items()}
    if edit.merged:
        target = next(iter(edit.merged.values()))
        group = [target, *edit.merged]
        classes = {i: out[i].class_id for i in group if i in out}
        if merge_class is None and len(set(classes.values())) > 1:
            raise InstanceError(
                "the merged objects have different classes: choose the class of the result",
                field="class",
                value=classes,
            )
        if merge_class is not None:
            info = out.get(target) or ObjectInfo(class_id=int(merge_class))
            info.class_id = int(merge_class)
            out[target] = info
    for new, parent in edit.parents.items():
        if parent in out:
            child = copy.deepcopy(out[parent])
            child.status, child.reviewer, child.reviewed_at = "todo", None, None
            out[new] = child
    if edit.relabel is not None:
        moved = {edit.relabel[k]: v for k, v in out.items() if k in edit.relabel}
        if prune:
            out = moved
        else:
            out.update(moved)
    if prune:
        for i in edit.removed:
            out.pop(i, None)
    return out
