"""Propagate an object from one plane to the next ones, adapting it to the image.

Starting from object ``label_id`` on plane ``k`` (along ``axis``: z of a stack, t of a time
series), its mask is carried to plane ``k + direction`` and adapted to the image there, then
from that plane to the next, until the object disappears, a plane already holds the object
(an annotated keyframe: it is never overwritten), the array ends, or ``limit`` planes are done.

Adapting uses, in this order of preference:

* the assist engine (:func:`napari_labelsuite.core.assist.segment`) when it can be imported
  and ``engine`` is ``"auto"`` or names an engine: the prompt is the previous mask as the
  prior, its box grown by a margin and a positive click on its innermost pixel;
* otherwise classical *snapping*: the threshold half-way between the object's mean intensity
  and that of a ring around it on the previous plane, applied inside the previous mask grown
  by a margin; the parts that touch the previous mask are kept and their holes filled.

An error of the assist engine after the first plane (e.g. no contrast left around a
vanishing object) also ends the propagation there. The object counts as gone when the
adapted mask keeps less than ``min_ratio`` of the previous area, or when its mean intensity
is closer to the surrounding background's than to the object's. Without an ``image`` the
mask is copied unchanged. Only background pixels are written, with the object's id; each
step reads the object's box on one plane (zarr / dask friendly).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import numpy as np
from scipy import ndimage as ndi

from ..errors import InterpolateError, LabelsuiteError
from ..instances import InstanceEdit, Patch
from ._common import Region, check_axis, check_ids, check_image, check_labels, drain

__all__ = ["iter_propagate", "propagate", "snap_to_image"]

_DIRECTIONS = {"forward": 1, "backward": -1, 1: 1, -1: -1, "+1": 1, "-1": -1}


def _box(mask: np.ndarray) -> Region | None:
    if not mask.any():
        return None
    out = []
    for ax in range(mask.ndim):
        other = tuple(a for a in range(mask.ndim) if a != ax)
        nz = np.flatnonzero(mask.any(axis=other))
        out.append(slice(int(nz[0]), int(nz[-1]) + 1))
    return tuple(out)


def _grow_box(box: Region, shape: tuple[int, ...], margin: int) -> Region:
    return tuple(
        slice(max(s.start - margin, 0), min(s.stop + margin, n)) for s, n in zip(box, shape)
    )


def _margin(area: int, ndim: int) -> int:
    radius = (area / np.pi) ** 0.5 if ndim == 2 else (3 * area / (4 * np.pi)) ** (1 / 3)
    return max(3, int(np.ceil(0.35 * radius)))


def _stats(mask: np.ndarray, img: np.ndarray, margin: int) -> tuple[float, float]:
    """Mean intensity inside ``mask`` and in a ring of ``margin`` pixels around it."""
    ring = ndi.binary_dilation(mask, iterations=margin) & ~mask
    inside = float(img[mask].mean()) if mask.any() else 0.0
    outside = float(img[ring].mean()) if ring.any() else inside
    return inside, outside


def snap_to_image(
    prior: np.ndarray, img: np.ndarray, stats: tuple[float, float], margin: int
) -> np.ndarray:
    """The object of ``img`` that the mask ``prior`` (same shape) points at.

    ``stats`` = (object mean, surrounding mean) measured on the previous plane; pixels on
    the object's side of their mid-point, within ``margin`` of the prior and connected to
    it, form the result (holes filled).
    """
    inside, outside = stats
    thr = 0.5 * (inside + outside)
    fg = img > thr if inside >= outside else img < thr
    reach = ndi.binary_dilation(prior, iterations=margin)
    cand = fg & reach
    cand = ndi.binary_opening(cand, iterations=1) | (cand & prior)
    lab, n = ndi.label(cand)
    if n == 0:
        return np.zeros_like(prior)
    hit = np.unique(lab[prior & (lab > 0)])
    keep = np.isin(lab, hit[hit > 0])
    return ndi.binary_fill_holes(keep)


def _assist_segment() -> Any:
    try:
        from ..assist import segment  # type: ignore[attr-defined]
    except ImportError:
        return None
    return segment


def _assisted(
    segment: Any, prior: np.ndarray, img: np.ndarray, margin: int, engine: Any
) -> np.ndarray:
    """One propagation step through the assist engine (2D planes)."""
    depth = ndi.distance_transform_edt(np.pad(prior, 1))[1:-1, 1:-1]
    point = np.unravel_index(int(np.argmax(depth)), prior.shape)
    box = _box(prior)
    assert box is not None
    ys, xs = box
    xyxy = (
        max(xs.start - margin, 0),
        max(ys.start - margin, 0),
        min(xs.stop + margin, prior.shape[1]),
        min(ys.stop + margin, prior.shape[0]),
    )
    kw: dict[str, Any] = {"box": xyxy, "mask_prior": prior}
    if engine not in (None, "auto"):
        kw["engine"] = engine
    mask = segment(img, np.array([point], float), np.array([1]), **kw)
    return np.asarray(mask, bool)


def iter_propagate(
    labels: Any,
    label_id: int,
    from_plane: int,
    axis: int = 0,
    image: Any = None,
    *,
    direction: int | str = 1,
    limit: int | None = None,
    min_ratio: float = 0.25,
    engine: Any = "auto",
) -> Generator[int, None, InstanceEdit]:
    """:func:`propagate` as a generator: yields 1 per plane written, returns the edit."""
    check_labels(labels)
    axis = check_axis(axis, labels.ndim)
    check_image(image, tuple(labels.shape))
    ids = check_ids(label_id)
    if ids is None or len(ids) != 1:
        raise InterpolateError("propagate one object id", field="label_id", value=label_id)
    iid = ids[0]
    step = _DIRECTIONS.get(direction)  # type: ignore[call-overload]
    if step is None:
        raise InterpolateError(
            "direction must be 'forward' or 'backward' (1 or -1)",
            field="direction",
            value=direction,
        )
    n = labels.shape[axis]
    if isinstance(from_plane, bool) or not isinstance(from_plane, (int, np.integer)):
        raise InterpolateError(
            "from_plane must be an integer", field="from_plane", value=from_plane
        )
    if not 0 <= int(from_plane) < n:
        raise InterpolateError(
            f"from_plane out of range 0..{n - 1}", field="from_plane", value=int(from_plane)
        )
    if limit is not None and (not isinstance(limit, (int, np.integer)) or limit < 0):
        raise InterpolateError("limit must be a count of planes >= 0", field="limit", value=limit)

    def plane_index(k: int | slice, region: Region | None = None) -> tuple[Any, ...]:
        rest: list[Any] = list(region) if region is not None else [slice(None)] * (labels.ndim - 1)
        rest.insert(axis, k)
        return tuple(rest)

    k = int(from_plane)
    current = np.asarray(labels[plane_index(k)]) == iid
    box = _box(current)
    if box is None:
        raise InterpolateError(
            f"object {iid} has no pixels on plane {k} along axis {axis}",
            field="label_id",
            value=iid,
        )
    plane_shape = current.shape
    prior = current[box]
    segment = None
    if image is not None and engine != "snap" and prior.ndim == 2:
        segment = _assist_segment()
    stats = None
    edit = InstanceEdit()
    dtype = np.dtype(labels.dtype)
    done = 0
    while limit is None or done < limit:
        nk = k + step
        if not 0 <= nk < n:
            break
        area = int(prior.sum())
        margin = _margin(area, prior.ndim)
        window = _grow_box(box, plane_shape, margin)
        local = tuple(slice(b.start - w.start, b.stop - w.start) for b, w in zip(box, window))
        grown = np.zeros(tuple(s.stop - s.start for s in window), bool)
        grown[local] = prior
        lab_next = np.asarray(labels[plane_index(nk, window)])
        if (lab_next == iid).any():
            break  # an annotated plane: never overwritten
        free = lab_next == 0
        if image is None:
            new = grown & free
        else:
            img_prev = np.asarray(image[plane_index(k, window)], dtype=np.float32)
            img_next = np.asarray(image[plane_index(nk, window)], dtype=np.float32)
            if stats is None:
                stats = _stats(grown, img_prev, margin)
            if segment is not None:
                try:
                    new = _assisted(segment, grown, img_next, margin, engine)
                except LabelsuiteError:
                    if done == 0:
                        raise  # not one plane done: the reason is worth showing
                    break  # the engine finds no object here: it has ended
            else:
                new = snap_to_image(grown, img_next, stats, margin)
            new &= free
            if new.any():
                mean = float(img_next[new].mean())
                if abs(mean - stats[0]) > abs(mean - stats[1]):
                    break  # it looks like the background now: the object has ended
        if new.sum() < max(1.0, min_ratio * area):
            break
        values = np.zeros(new.shape, dtype)
        values[new] = iid
        edit.patches.append(
            Patch(
                plane_index(slice(nk, nk + 1), window), values[_expand(axis)], new[_expand(axis)]
            )
        )
        if image is not None:
            stats = _stats(new, img_next, margin)
        nb = _box(new)
        assert nb is not None
        prior = new[nb]
        box = tuple(slice(w.start + b.start, w.start + b.stop) for w, b in zip(window, nb))
        k = nk
        done += 1
        yield 1
    return edit


def _expand(axis: int) -> tuple[Any, ...]:
    """Index that inserts the propagation axis back into a plane array."""
    return (slice(None),) * axis + (None,)


def propagate(
    labels: Any,
    label_id: int,
    from_plane: int,
    axis: int = 0,
    image: Any = None,
    *,
    direction: int | str = 1,
    limit: int | None = None,
    min_ratio: float = 0.25,
    engine: Any = "auto",
) -> InstanceEdit:
    """Carry object ``label_id`` from plane ``from_plane`` to the next planes along ``axis``.

    Parameters
    ----------
    labels : array-like of int, at least 3D
    label_id : int
    from_plane : int
        The plane (index along ``axis``) holding the object to copy.
    axis : int
    image : array-like, optional
        Intensities of ``labels``'s shape; without it the mask is copied unchanged.
    direction : {"forward", "backward", 1, -1}
    limit : int, optional
        At most this many planes (``None``: until the object disappears or the array ends).
    min_ratio : float
        The object ends when a step keeps less than this fraction of the previous area.
    engine : "auto", "snap" or an assist engine
        ``"auto"`` uses the assist engine when importable, else snapping; ``"snap"``
        always snaps; anything else is passed to the assist engine.

    Returns
    -------
    InstanceEdit
        One patch per plane written (background pixels set to ``label_id``).
    """
    return drain(
        iter_propagate(
            labels,
            label_id,
            from_plane,
            axis,
            image,
            direction=direction,
            limit=limit,
            min_ratio=min_ratio,
            engine=engine,
        )
    )
