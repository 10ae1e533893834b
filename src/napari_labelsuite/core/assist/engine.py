"""The engine protocol and :func:`segment`, the one entry point of promptable segmentation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

import numpy as np

from ..errors import AssistError
from ._prompt import ImageView, Prompt, Window, _as_points, make_prompt, resolve_channel_axis

__all__ = ["Engine", "get_engine", "prepare", "segment", "segment_local"]

Progress = Callable[[int, int], None]


@runtime_checkable
class Engine(Protocol):
    """What a segmentation backend provides: encode an image once, decode prompts many times.

    ``encode(view)`` returns whatever the engine needs to answer prompts on that image (for
    a model: the image embeddings, computed tile by tile on demand or all at once); it must
    not read the whole image when the engine works on windows. ``decode(encoded, prompt)``
    returns ``(window, mask)``: slices of ``view`` and the bool mask inside them. Prompts
    are checked before they reach an engine (:class:`~._prompt.Prompt`).
    """

    name: str

    def encode(self, view: ImageView, progress: Progress | None = None) -> Any: ...

    def decode(self, encoded: Any, prompt: Prompt) -> tuple[Window, np.ndarray]: ...


def get_engine(engine: Any = None) -> Engine:
    """An engine from an instance, ``None``/``"classical"`` or ``"onnx"`` (files from the
    environment, see :class:`~.onnx_sam.SamOnnxEngine`)."""
    if engine is None or (isinstance(engine, str) and engine == "classical"):
        from .classical import ClassicalEngine

        return ClassicalEngine()
    if isinstance(engine, str) and engine in ("onnx", "onnx-sam"):
        from .onnx_sam import SamOnnxEngine

        return SamOnnxEngine()  # the model files from the environment
    if isinstance(engine, str):
        raise AssistError(
            "unknown engine name; pass 'classical', 'onnx' or an engine object",
            field="engine",
            value=engine,
        )
    if not isinstance(engine, Engine):
        raise AssistError(
            "engine must provide encode() and decode()", field="engine", value=engine
        )
    return engine


def prepare(
    image: Any,
    points: Any,
    box: Any = None,
    *,
    channel_axis: int | None = None,
    volume: bool | None = None,
    plane: Any = None,
) -> tuple[ImageView, Callable[[Any], Any], Callable[[Any], Any]]:
    """The view a prompt works on, and functions mapping points / priors into it.

    A 3D image is segmented in the plane of its prompt when the points all lie on one
    plane (or a box or ``plane`` is given) unless ``volume=True``; points on several
    planes segment the volume. Returns ``(view, to_view_points, to_view_prior)``.
    """
    pts = _as_points(points)
    point_dim = pts.shape[1] if pts.shape[0] else None
    shape = tuple(int(s) for s in image.shape)
    if point_dim is None:
        if plane is not None:
            point_dim = len(np.atleast_1d(plane)) + 2
        elif channel_axis is None and len(shape) == 3 and shape[-1] in (3, 4):
            point_dim = 2
        elif channel_axis is not None:
            point_dim = len(shape) - 1
        else:
            point_dim = len(shape)
    ch = resolve_channel_axis(shape, point_dim, channel_axis)
    view = ImageView(image, ch)
    if view.ndim not in (2, 3):
        raise AssistError(
            f"images must have 2 or 3 spatial dimensions (got shape {view.shape})",
            field="image",
            value=view.shape,
        )
    if view.ndim == 2:
        return view, lambda p: p, lambda m: m
    # 3D
    lead: int | None = None
    if plane is not None:
        lead = int(np.atleast_1d(plane)[0])
    elif pts.shape[0]:
        z = np.floor(pts[:, 0] + 0.5)
        if volume is not True and (np.all(z == z[0]) or box is not None):
            lead = int(z[0])
        if box is not None and not np.all(z == z[0]):
            raise AssistError(
                "a box is drawn on one plane: its points must lie on that plane too",
                field="points",
                value=sorted({int(v) for v in z}),
            )
    elif box is not None:
        raise AssistError(
            "a box on a 3D image needs the plane it is on (plane=)", field="plane", value=None
        )
    if volume is True and box is None and plane is None:
        lead = None
    if lead is None:
        return view, lambda p: p, lambda m: m
    if not 0 <= lead < view.shape[0]:
        raise AssistError(
            f"plane is outside the image (0..{view.shape[0] - 1})", field="plane", value=lead
        )
    sub = view.plane((lead,))

    def to_points(p: Any) -> Any:
        arr = _as_points(p)
        return arr[:, 1:] if arr.shape[0] and arr.shape[1] == 3 else arr

    def to_prior(m: Any) -> Any:
        if m is None:
            return None
        if tuple(getattr(m, "shape", ())) == view.shape:
            return _Plane(m, lead)
        return m

    return sub, to_points, to_prior


class _Plane:
    """One plane of a (possibly lazy) 3D array, read by window."""

    def __init__(self, array: Any, index: int) -> None:
        self.array = array
        self.index = index
        self.shape = tuple(array.shape[1:])

    def __getitem__(self, key: Any) -> Any:
        return self.array[(self.index, *key)]


def segment_local(
    image: Any,
    points: Any,
    point_labels: Any,
    box: Any = None,
    mask_prior: Any = None,
    engine: Any = None,
    *,
    channel_axis: int | None = None,
    volume: bool | None = None,
    plane: Any = None,
    encoded: Any = None,
) -> tuple[Window, np.ndarray]:
    """Like :func:`segment`, but returns ``(window, mask)``: only the window around the
    object (slices of the image's spatial axes) and the mask inside it.

    This is what interactive code uses on images larger than memory: only that window
    (and, for a model engine, the tiles it needs) is read. ``encoded`` reuses an
    ``engine.encode`` result of the same view.
    """
    eng = get_engine(engine)
    view, to_points, to_prior = prepare(
        image, points, box, channel_axis=channel_axis, volume=volume, plane=plane
    )
    pts = to_points(points)
    prompt = make_prompt(view, pts, point_labels, box, to_prior(mask_prior))
    if encoded is None:
        encoded = eng.encode(view)
    window, mask = eng.decode(encoded, prompt)
    full = view.full_window(window)
    return full, np.asarray(mask, bool).reshape(tuple(s.stop - s.start for s in full))


def segment(
    image: Any,
    points: Any,
    point_labels: Any,
    box: Any = None,
    mask_prior: Any = None,
    engine: Any = None,
    *,
    channel_axis: int | None = None,
    volume: bool | None = None,
    plane: Any = None,
) -> np.ndarray:
    """Segment the object a prompt points at.

    Parameters
    ----------
    image : array-like
        2D or 3D, optionally with a channel axis (``channel_axis``, else detected: an
        image with one axis more than the points have coordinates). numpy, zarr or dask:
        only a window around the prompt is read.
    points : (N, ndim) array-like
        Clicks in pixel coordinates, (row, col) or (z, row, col). May be empty with a box.
    point_labels : (N,) array-like
        1 = inside the object, 0 = outside.
    box : (x0, y0, x1, y1), optional
        A box around the object, pixel-edge coordinates of the last two axes.
    mask_prior : bool array, optional
        The previous result (the image's spatial shape); new clicks refine it.
    engine : Engine or "classical", optional
        The backend (default :class:`ClassicalEngine`, no model needed).
    volume, plane
        3D: see :func:`prepare` (points on one plane segment that plane).

    Returns
    -------
    ndarray of bool
        The mask, the image's spatial shape. Inside clicks are in it, outside clicks not.

    Raises
    ------
    AssistError
        Empty or non-finite points, points outside the image, labels not 0/1, a box
        inverted or outside the image, mismatched dimensions, no contrast.
    """
    window, mask = segment_local(
        image,
        points,
        point_labels,
        box,
        mask_prior,
        engine,
        channel_axis=channel_axis,
        volume=volume,
        plane=plane,
    )
    return paste_window(image.shape, window, mask, channel_axis)


def paste_window(
    image_shape: Any, window: tuple[slice, ...], mask: np.ndarray, channel_axis: int | None
) -> np.ndarray:
    """A window's mask placed in a bool mask of the image's spatial shape (no channel axis)."""
    shape = list(image_shape)
    ch = resolve_channel_axis(shape, len(window), channel_axis)
    if ch is not None:
        shape.pop(ch)
    out = np.zeros(shape, bool)
    out[window] = mask
    return out
