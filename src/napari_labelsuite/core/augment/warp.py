"""Resampling for the augmentation pipeline: one affine matrix or one coordinate map.

Two backends give the same geometry (pixel centres at integer coordinates, the inverse map
from output to input):

* ``"scipy"``: :func:`scipy.ndimage.affine_transform` / :func:`scipy.ndimage.map_coordinates`,
  always available;
* ``"opencv"``: ``cv2.warpAffine`` / ``cv2.remap``, used when OpenCV is installed (it comes
  with the ``augment`` extra). Measured 5-10x faster on 1024 x 1024 planes, which is what
  makes a 3 x 3 preview interactive.

Masks are always resampled with nearest neighbour, so no label value can be invented.
Arrays are planes ``(Y, X)`` or channel-last stacks ``(Y, X, C)``.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from ..errors import AugmentError

__all__ = ["BACKENDS", "FILL_MODES", "INTERPOLATIONS", "resize_linear", "resolve_backend", "warp"]

#: Keras ``fill_mode`` names.
FILL_MODES = ("constant", "nearest", "reflect", "wrap")
INTERPOLATIONS = {"nearest": 0, "linear": 1, "cubic": 3}
BACKENDS = ("auto", "opencv", "scipy")

_SCIPY_MODE = {
    "constant": "grid-constant",
    "nearest": "nearest",
    "reflect": "reflect",  # half-sample symmetric: dcba|abcd|dcba, as Keras
    "wrap": "grid-wrap",
}
_CV_DTYPES = {np.dtype(t) for t in ("uint8", "uint16", "int16", "float32", "float64")}


def _cv2():
    try:
        import cv2
    except ImportError:  # optional dependency
        return None
    return cv2


def resolve_backend(name: str) -> str:
    """``"auto"`` -> ``"opencv"`` when importable, else ``"scipy"``; checks the name."""
    if name not in BACKENDS:
        raise AugmentError(f"backend must be one of {BACKENDS}", field="backend", value=name)
    if name == "auto":
        return "opencv" if _cv2() is not None else "scipy"
    if name == "opencv" and _cv2() is None:
        raise AugmentError(
            "OpenCV is not installed (pip install napari-labelsuite[augment])",
            field="backend",
            value=name,
        )
    return name


def warp(
    arr: np.ndarray,
    out_shape: tuple[int, int],
    *,
    inverse: np.ndarray | None = None,
    coords: tuple[np.ndarray, np.ndarray] | None = None,
    order: int = 1,
    mode: str = "constant",
    cval: float = 0.0,
    backend: str = "scipy",
) -> np.ndarray:
    """Resample ``arr`` onto ``out_shape`` with an inverse affine map or coordinate arrays.

    Parameters
    ----------
    arr : ndarray
        ``(Y, X)`` or ``(Y, X, C)``.
    inverse : (3, 3) array, optional
        Output ``(row, col, 1)`` -> input ``(row, col, 1)``.
    coords : (rows, cols), optional
        Input coordinates of every output pixel (float32 arrays of ``out_shape``).
    order : {0, 1, 3}
        Nearest, linear or cubic.
    """
    if (inverse is None) == (coords is None):
        raise AugmentError("give exactly one of an inverse matrix or coordinates")
    if backend == "opencv":
        out = _warp_cv(arr, out_shape, inverse, coords, order, mode, cval)
        if out is not None:
            return out
    return _warp_scipy(arr, out_shape, inverse, coords, order, mode, cval)


def resize_linear(arr: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Resize a float32 plane to ``shape`` with pixel-area-aligned linear interpolation."""
    cv2 = _cv2()
    if cv2 is not None:
        return cv2.resize(arr, (int(shape[1]), int(shape[0])), interpolation=cv2.INTER_LINEAR)
    zoom = tuple(n / m for n, m in zip(shape, arr.shape))
    return ndi.zoom(arr, zoom, order=1, mode="nearest", grid_mode=True)


# -- scipy -----------------------------------------------------------------------------------
def _warp_scipy(arr, out_shape, inverse, coords, order, mode, cval):
    smode = _SCIPY_MODE[mode]
    if arr.ndim == 2:
        planes = [arr]
    else:
        planes = [arr[..., c] for c in range(arr.shape[-1])]
    out_dtype = arr.dtype if order == 0 else np.float32
    outs = []
    grid = None
    if coords is not None:
        grid = np.stack(coords)
    for plane in planes:
        if inverse is not None:
            o = ndi.affine_transform(
                plane,
                inverse,
                output_shape=tuple(out_shape),
                output=out_dtype,
                order=order,
                mode=smode,
                cval=cval,
                prefilter=order > 1,
            )
        else:
            o = ndi.map_coordinates(
                plane,
                grid,
                output=out_dtype,
                order=order,
                mode=smode,
                cval=cval,
                prefilter=order > 1,
            )
        outs.append(o)
    return outs[0] if arr.ndim == 2 else np.stack(outs, axis=-1)


# -- OpenCV ----------------------------------------------------------------------------------
def _warp_cv(arr, out_shape, inverse, coords, order, mode, cval):
    cv2 = _cv2()
    src = arr
    back = None
    if src.dtype not in _CV_DTYPES:
        if order == 0 and src.dtype.kind in "iu":
            # nearest neighbour copies values: int32 carries any id up to 2**31 - 1
            if src.size and (int(src.max()) > np.iinfo(np.int32).max or int(src.min()) < 0):
                return None
            src, back = src.astype(np.int32), src.dtype
        elif order == 0:
            return None
        else:
            src = src.astype(np.float32)
    interp = {0: cv2.INTER_NEAREST, 1: cv2.INTER_LINEAR, 3: cv2.INTER_CUBIC}[order]
    border = {
        "constant": cv2.BORDER_CONSTANT,
        "nearest": cv2.BORDER_REPLICATE,
        "reflect": cv2.BORDER_REFLECT,
        "wrap": cv2.BORDER_WRAP,
    }[mode]
    h, w = out_shape
    if inverse is not None:
        a, b, t0 = inverse[0]
        c, d, t1 = inverse[1]
        m_xy = np.array([[d, c, t1], [b, a, t0]], dtype=np.float64)
    else:
        map_x = np.ascontiguousarray(coords[1], dtype=np.float32)
        map_y = np.ascontiguousarray(coords[0], dtype=np.float32)

    def run(x):
        x = np.ascontiguousarray(x)
        n = 1 if x.ndim == 2 else x.shape[-1]
        value = (float(cval),) * min(n, 4)
        if inverse is not None:
            return cv2.warpAffine(
                x,
                m_xy,
                (w, h),
                flags=interp | cv2.WARP_INVERSE_MAP,
                borderMode=border,
                borderValue=value,
            )
        return cv2.remap(x, map_x, map_y, interp, borderMode=border, borderValue=value)

    if src.ndim == 2 or src.shape[-1] in (1, 3, 4):
        out = run(src)
        if src.ndim == 3 and out.ndim == 2:  # OpenCV drops a length-1 channel axis
            out = out[..., None]
    else:
        out = np.concatenate(
            [run(src[..., a:b]).reshape(h, w, -1) for a, b in _channel_chunks(src.shape[-1])],
            axis=-1,
        )
    return out if back is None else out.astype(back)


def _channel_chunks(n: int) -> list[tuple[int, int]]:
    """Channel ranges of 4, 3 or 1 channels.

    OpenCV resamples at most 4 interleaved channels per call, and two-channel arrays come out
    wrong from ``warpAffine`` (measured: shifts of up to 20 grey levels against the same
    channel alone), so pairs are split.
    """
    chunks, start = [], 0
    while start < n:
        left = n - start
        size = 4 if left >= 4 else 3 if left == 3 else 1
        chunks.append((start, start + size))
        start += size
    return chunks
