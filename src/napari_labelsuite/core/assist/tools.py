"""Magic wand, box to object and snap box."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import AssistError
from ._prompt import ImageView, Window, _as_box, _as_points, resolve_channel_axis
from .engine import paste_window, segment_local

__all__ = ["box_to_object", "snap_box", "wand", "wand_local"]


def _wand_view(image: Any, point: Any, channel_axis: Any) -> tuple[ImageView, np.ndarray]:
    pts = _as_points(point)
    if pts.shape[0] != 1:
        raise AssistError(
            "the wand takes one point", field="point", value=np.asarray(point).tolist()
        )
    ch = resolve_channel_axis(tuple(image.shape), pts.shape[1], channel_axis)
    view = ImageView(image, ch)
    if pts.shape[1] != view.ndim:
        raise AssistError(
            f"point needs {view.ndim} coordinates for an image of shape {view.shape}",
            field="point",
            value=pts[0].tolist(),
        )
    idx = np.floor(pts[0] + 0.5).astype(int)
    if ((idx < 0) | (idx >= np.asarray(view.shape))).any():
        raise AssistError(
            f"point lies outside the image of shape {view.shape}",
            field="point",
            value=pts[0].tolist(),
        )
    return view, idx


def wand_local(
    image: Any,
    point: Any,
    tolerance: float,
    connectivity: int = 1,
    *,
    channel_axis: int | None = None,
    window: int = 512,
    max_window: int = 4096,
) -> tuple[Window, np.ndarray]:
    """:func:`wand` returning ``(window, mask)`` (only that window is read)."""
    try:
        tol = float(tolerance)
    except (TypeError, ValueError):
        raise AssistError(
            "tolerance must be a number", field="tolerance", value=tolerance
        ) from None
    if not np.isfinite(tol) or tol < 0:
        raise AssistError(
            "tolerance must be a finite number >= 0", field="tolerance", value=tolerance
        )
    view, idx = _wand_view(image, point, channel_axis)
    if connectivity not in range(1, view.ndim + 1):
        raise AssistError(
            f"connectivity must be 1..{view.ndim}", field="connectivity", value=connectivity
        )
    from skimage.segmentation import flood

    half = max(8, int(window) // 2)
    shape = np.asarray(view.shape)
    while True:
        lo = np.clip(idx - half, 0, shape)
        hi = np.clip(idx + half + 1, 0, shape)
        win = tuple(slice(int(a), int(b)) for a, b in zip(lo, hi))
        pix = view.read(win)
        seed = tuple(int(v) for v in idx - lo)
        # all channels: the largest per-channel difference from the clicked colour
        diff = np.abs(pix - pix[seed]).max(axis=-1)
        mask = flood(diff, seed, connectivity=connectivity, tolerance=tol)
        cut = any(
            (sl.start > 0 and np.take(mask, 0, axis=ax).any())
            or (sl.stop < n and np.take(mask, -1, axis=ax).any())
            for ax, (sl, n) in enumerate(zip(win, view.shape))
        )
        if not cut or 2 * half >= max_window:
            return win, mask
        half *= 2


def wand(
    image: Any,
    point: Any,
    tolerance: float,
    connectivity: int = 1,
    *,
    channel_axis: int | None = None,
    window: int = 512,
    max_window: int = 4096,
) -> np.ndarray:
    """Flood fill from ``point`` over pixels within ``tolerance`` of its intensity.

    Parameters
    ----------
    image : array-like
        2D or 3D, optionally with channels (all channels must be within the tolerance).
    point : (ndim,) array-like
        The clicked pixel, (row, col) or (z, row, col).
    tolerance : float
        Largest intensity difference (image units) from the clicked pixel.
    connectivity : int
        1: face neighbours (4 in 2D), ndim: all neighbours (8 in 2D).
    window, max_window : int
        The fill starts in a ``window``-sized box around the point and doubles it while the
        region reaches its edge, up to ``max_window`` (huge images are never read whole).

    Returns
    -------
    ndarray of bool, the image's spatial shape.
    """
    win, mask = wand_local(
        image,
        point,
        tolerance,
        connectivity,
        channel_axis=channel_axis,
        window=window,
        max_window=max_window,
    )
    return paste_window(image.shape, win, mask, channel_axis)


def box_to_object(
    image: Any,
    box: Any,
    engine: Any = None,
    *,
    channel_axis: int | None = None,
    plane: Any = None,
) -> np.ndarray:
    """The dominant object inside ``box`` (x0, y0, x1, y1), as a bool mask of the image's shape.

    The classical engine takes the largest blob that differs from the box's outline and is
    least cut by it; model engines use the box prompt directly.
    """
    win, mask = segment_local(
        image, [], [], box, None, engine, channel_axis=channel_axis, plane=plane
    )
    return paste_window(image.shape, win, mask, channel_axis)


def snap_box(
    image: Any,
    box: Any,
    engine: Any = None,
    *,
    channel_axis: int | None = None,
    plane: Any = None,
) -> tuple[float, float, float, float]:
    """``box`` tightened to the object it contains: the (x0, y0, x1, y1) edges of its mask."""
    win, mask = segment_local(
        image, [], [], box, None, engine, channel_axis=channel_axis, plane=plane
    )
    m2 = mask.reshape(mask.shape[-2:]) if mask.ndim > 2 else mask
    if not m2.any():
        b = _as_box(box, tuple(s.stop for s in win))
        raise AssistError("no object found inside the box", field="box", value=b)
    rows = np.flatnonzero(m2.any(axis=1))
    cols = np.flatnonzero(m2.any(axis=0))
    r0, c0 = win[-2].start, win[-1].start
    return (
        float(c0 + cols[0]),
        float(r0 + rows[0]),
        float(c0 + cols[-1] + 1),
        float(r0 + rows[-1] + 1),
    )
