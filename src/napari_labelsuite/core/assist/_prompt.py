"""Prompts and image views shared by every assist engine.

A :class:`Prompt` holds validated clicks, a box and a previous mask; an :class:`ImageView`
reads windows of an image (numpy, zarr or dask; channels last once read) so that engines
never load more than the window around the prompt.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import AssistError

Window = tuple[slice, ...]

__all__ = ["ImageView", "Prompt", "Window", "make_prompt", "resolve_channel_axis"]


def resolve_channel_axis(
    shape: Sequence[int], point_dim: int | None, channel_axis: Any, axes: str | None = None
) -> int | None:
    """The channel axis of an image of ``shape`` (None for single-channel images).

    ``channel_axis`` wins when given, then the axis names of the file or layer metadata
    (``axes``, e.g. OME-Zarr ``"zcyx"``: the ``c`` axis). Otherwise an image with one axis
    more than the points have coordinates is multi-channel: the last axis when it has at
    most 4 entries (RGB, RGBA), else the one small (at most 16) axis among the first two
    (``(c, y, x)``, ``(z, c, y, x)``, ``(c, z, y, x)``). Two small leading axes are
    ambiguous (``z`` or ``c`` first?): an :class:`AssistError` asks for ``channel_axis``.
    """
    ndim = len(shape)
    if channel_axis is None and axes:
        names = str(axes).lower()
        if len(names) != ndim:
            raise AssistError(
                f"axis names {axes!r} do not match the image shape {tuple(shape)}",
                field="axes",
                value=axes,
            )
        if "c" in names:
            channel_axis = names.index("c")
        elif point_dim is None or point_dim == ndim:
            return None
    if channel_axis is not None:
        try:
            ax = int(channel_axis)
        except (TypeError, ValueError):
            raise AssistError(
                "channel_axis must be an integer axis", field="channel_axis", value=channel_axis
            ) from None
        if not -ndim <= ax < ndim:
            raise AssistError(
                f"channel_axis is not an axis of an image with {ndim} dimensions",
                field="channel_axis",
                value=channel_axis,
            )
        return ax % ndim
    if point_dim is None or ndim == point_dim:
        return None
    if ndim == point_dim + 1:
        if shape[-1] <= 4:
            return ndim - 1
        small = [i for i in range(min(2, ndim - 2)) if shape[i] <= 16]
        if len(small) == 1:
            return small[0]
        why = "axes 0 and 1 are both small" if small else "no axis looks like channels"
        raise AssistError(
            f"cannot tell which axis of the image {tuple(shape)} holds the channels "
            f"({why}); give channel_axis (--channel-axis on the command line)",
            field="channel_axis",
            value=None,
        )
    raise AssistError(
        f"points have {point_dim} coordinates but the image has shape {tuple(shape)}",
        field="points",
        value=f"(N, {point_dim})",
    )


class ImageView:
    """Windows of an image (any array with basic slicing), as float32 channels-last arrays.

    Parameters
    ----------
    image : array-like
        numpy, zarr, dask...; only the requested windows are read.
    channel_axis : int or None
        Axis holding the channels (already resolved).
    lead : tuple of int, optional
        Fixed indices of leading spatial axes: the view is then the plane they select.
    """

    def __init__(self, image: Any, channel_axis: int | None = None, lead: tuple[int, ...] = ()):
        self.image = image
        self.channel_axis = channel_axis
        self.lead = tuple(int(v) for v in lead)
        shape = list(image.shape)
        self.n_channels = 1 if channel_axis is None else int(shape.pop(channel_axis))
        self.full_spatial_shape = tuple(int(s) for s in shape)
        self.shape = self.full_spatial_shape[len(self.lead) :]
        self.ndim = len(self.shape)
        self.dtype = np.dtype(image.dtype)

    def plane(self, lead: tuple[int, ...]) -> ImageView:
        """The view of one plane (leading spatial indices fixed)."""
        return ImageView(self.image, self.channel_axis, tuple(lead))

    def full_window(self, window: Window) -> Window:
        """``window`` of this view as slices of the full spatial array (plane axes added)."""
        return tuple(slice(v, v + 1) for v in self.lead) + tuple(window)

    def read(self, window: Window) -> np.ndarray:
        """The pixels of ``window`` as float32, shape ``(*window shape, channels)``."""
        spatial: list[Any] = list(self.lead) + list(window)
        if self.channel_axis is None:
            out = np.asarray(self.image[tuple(spatial)])
            return out.astype(np.float32, copy=False)[..., None]
        spatial.insert(self.channel_axis, slice(None))
        out = np.asarray(self.image[tuple(spatial)])
        # integer indices dropped the plane axes: the channel axis moved left by that many
        ax = self.channel_axis - sum(1 for i in range(len(self.lead)) if i < self.channel_axis)
        return np.moveaxis(out, ax, -1).astype(np.float32, copy=False)


@dataclass
class Prompt:
    """Validated prompts in the pixel coordinates of an :class:`ImageView`.

    Attributes
    ----------
    points : ndarray
        ``(N, ndim)`` float, (row, col) or (z, row, col).
    labels : ndarray
        ``(N,)`` int: 1 inside, 0 outside.
    box : tuple or None
        ``(x0, y0, x1, y1)`` pixel-edge coordinates of the last two axes (clipped to the image).
    prior : array-like or None
        The previous result (bool, the view's shape); only windows of it are read.
    """

    points: np.ndarray
    labels: np.ndarray
    box: tuple[float, float, float, float] | None = None
    prior: Any = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def positive(self) -> np.ndarray:
        return self.points[self.labels == 1]

    @property
    def negative(self) -> np.ndarray:
        return self.points[self.labels == 0]

    def pixel(self, pts: np.ndarray) -> np.ndarray:
        """Points rounded to pixel indices."""
        return (
            np.floor(np.asarray(pts, float) + 0.5)
            .astype(np.intp)
            .reshape(-1, self.points.shape[1])
        )

    def box_slices(self) -> Window | None:
        """The pixels covered by the box (slices of the last two axes)."""
        if self.box is None:
            return None
        x0, y0, x1, y1 = self.box
        r0, r1 = int(np.floor(y0)), int(np.ceil(y1))
        c0, c1 = int(np.floor(x0)), int(np.ceil(x1))
        return (slice(r0, max(r1, r0 + 1)), slice(c0, max(c1, c0 + 1)))


def _as_points(points: Any) -> np.ndarray:
    try:
        pts = np.asarray(points if points is not None else [], dtype=float)
    except (TypeError, ValueError):
        raise AssistError("points must be numbers", field="points", value=points) from None
    if pts.size == 0:
        return pts.reshape(0, pts.shape[-1] if pts.ndim == 2 else 0)
    if pts.ndim == 1:
        pts = pts[None, :]
    if pts.ndim != 2:
        raise AssistError("points must be an (N, ndim) array", field="points", value=pts.shape)
    if not np.isfinite(pts).all():
        bad = pts[~np.isfinite(pts).all(axis=1)][0]
        raise AssistError("points must be finite", field="points", value=bad.tolist())
    return pts


def _as_labels(point_labels: Any, n: int) -> np.ndarray:
    try:
        raw = np.asarray(point_labels if point_labels is not None else [], dtype=float).ravel()
    except (TypeError, ValueError):
        raise AssistError(
            "point_labels must be 0 (outside) or 1 (inside)",
            field="point_labels",
            value=point_labels,
        ) from None
    if raw.shape != (n,):
        raise AssistError(
            f"point_labels needs one label per point ({n})",
            field="point_labels",
            value=raw.shape[0],
        )
    bad = raw[~np.isin(raw, (0, 1))]
    if bad.size:
        raise AssistError(
            "point_labels must be 0 (outside) or 1 (inside)",
            field="point_labels",
            value=float(bad[0]) if np.isfinite(bad[0]) else str(bad[0]),
        )
    return raw.astype(np.int8)


def _as_box(box: Any, shape: tuple[int, ...]) -> tuple[float, float, float, float] | None:
    if box is None:
        return None
    try:
        b = np.asarray(box, dtype=float).ravel()
    except (TypeError, ValueError):
        raise AssistError("box must be (x0, y0, x1, y1)", field="box", value=box) from None
    if b.shape != (4,) or not np.isfinite(b).all():
        raise AssistError("box must be 4 finite numbers (x0, y0, x1, y1)", field="box", value=box)
    x0, y0, x1, y1 = (float(v) for v in b)
    if x1 <= x0 or y1 <= y0:
        raise AssistError(
            "box is inverted or empty: need x0 < x1 and y0 < y1", field="box", value=tuple(b)
        )
    h, w = shape[-2], shape[-1]
    if x1 <= 0 or y1 <= 0 or x0 >= w or y0 >= h:
        raise AssistError(
            f"box lies outside the image (width {w}, height {h})", field="box", value=tuple(b)
        )
    return (max(x0, 0.0), max(y0, 0.0), min(x1, float(w)), min(y1, float(h)))


def make_prompt(
    view: ImageView,
    points: Any,
    point_labels: Any,
    box: Any = None,
    mask_prior: Any = None,
) -> Prompt:
    """Check clicks, box and prior against ``view`` (errors name the field and value)."""
    pts = _as_points(points)
    if pts.shape[0] == 0 and box is None:
        raise AssistError("give at least one point or a box", field="points", value=[])
    if pts.shape[0] and pts.shape[1] != view.ndim:
        raise AssistError(
            f"points need {view.ndim} coordinates for an image of shape {view.shape}",
            field="points",
            value=pts[0].tolist(),
        )
    pts = pts.reshape(-1, view.ndim)
    labels = _as_labels(point_labels, pts.shape[0])
    idx = np.floor(pts + 0.5)
    outside = ((idx < 0) | (idx >= np.asarray(view.shape))).any(axis=1)
    if outside.any():
        raise AssistError(
            f"point lies outside the image of shape {view.shape}",
            field="points",
            value=pts[outside][0].tolist(),
        )
    if box is None and not (labels == 1).any():
        raise AssistError(
            "give at least one inside (1) point or a box",
            field="point_labels",
            value=labels.tolist(),
        )
    b = _as_box(box, view.shape)
    if mask_prior is not None:
        prior_shape = tuple(getattr(mask_prior, "shape", np.shape(mask_prior)))
        if prior_shape != view.shape:
            raise AssistError(
                f"mask_prior must have the image's shape {view.shape}",
                field="mask_prior",
                value=prior_shape,
            )
    return Prompt(points=pts, labels=labels, box=b, prior=mask_prior)
