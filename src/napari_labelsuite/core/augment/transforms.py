"""The transforms of an augmentation :class:`~napari_labelsuite.core.augment.Pipeline`.

Each transform is a small keyword-only dataclass: its parameters (ranges to draw from) and
a probability ``p``. Three kinds exist:

* geometric transforms return a forward 3 x 3 matrix on ``(row, col)`` pixel-centre
  coordinates and the output plane shape; the pipeline multiplies consecutive matrices so
  the image and the masks are resampled once;
* the elastic transform returns a smooth displacement field (output pixel ``o`` samples the
  input at ``o + d(o)``);
* intensity transforms change the image values only, after the resampling, in list order;
  their ``apply`` works in place on a float32 ``(C, Y, X)`` array (possibly a strided view).

Intensity parameters are relative to the image's *value scale* ``s``: 255 for ``uint8``,
1 for ``bool`` and for float images whose maximum is at most 1, otherwise the source
image's maximum (so a 12-bit camera image in ``uint16`` is not measured against 65535).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any, ClassVar

import numpy as np
from scipy import ndimage as ndi

from ..errors import AugmentError
from .warp import resize_linear

__all__ = [
    "TRANSFORMS",
    "Affine",
    "Brightness",
    "BrightnessContrast",
    "ChannelDropout",
    "ChannelJitter",
    "Crop",
    "ElasticDeform",
    "Gamma",
    "GaussianBlur",
    "GaussianNoise",
    "HorizontalFlip",
    "RandomCrop",
    "RandomResizedCrop",
    "Rot90",
    "Transform",
    "VerticalFlip",
]


def _fail(t: Any, field: str, message: str, value: Any) -> AugmentError:
    return AugmentError(message, where=type(t).__name__, field=field, value=value)


def _as_range(t: Any, name: str, lo: float = -math.inf, hi: float = math.inf) -> None:
    """Normalise field ``name`` to a ``(low, high)`` float tuple within ``[lo, hi]``."""
    v = getattr(t, name)
    try:
        if np.ndim(v) == 0:
            r = (float(v), float(v))
        else:
            a, b = (float(x) for x in v)
            r = (a, b)
    except (TypeError, ValueError):
        raise _fail(t, name, "must be a number or a (low, high) pair", v) from None
    if not all(math.isfinite(x) for x in r) or r[0] > r[1]:
        raise _fail(t, name, "needs finite low <= high", v)
    if r[0] < lo or r[1] > hi:
        raise _fail(t, name, f"must lie within [{lo}, {hi}]", v)
    object.__setattr__(t, name, r)


def _uniform(rng: np.random.Generator, r: tuple[float, float]) -> float:
    return float(r[0]) if r[0] == r[1] else float(rng.uniform(r[0], r[1]))


def _positive_int(t: Any, name: str) -> None:
    v = getattr(t, name)
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
        raise _fail(t, name, "must be a positive integer", v)
    object.__setattr__(t, name, int(v))


@dataclass(kw_only=True)
class Transform:
    """Base class: ``p`` is the probability that the transform is applied."""

    p: float = 1.0
    kind: ClassVar[str] = "intensity"

    def __post_init__(self) -> None:
        try:
            p = float(self.p)
        except (TypeError, ValueError):
            raise _fail(self, "p", "probability must be a number", self.p) from None
        if not 0.0 <= p <= 1.0:
            raise _fail(self, "p", "probability must lie within [0, 1]", self.p)
        self.p = p
        self._check()

    def _check(self) -> None:
        """Validate and normalise the parameters (subclasses)."""

    def sample(self, rng: np.random.Generator, arg: Any) -> Any:
        """Draw this variant's parameters (subclasses; ``arg``: the plane shape for geometric
        and elastic transforms, the number of channels for intensity ones)."""
        raise NotImplementedError

    def apply(self, chw: np.ndarray, params: Any, scale: float, rng: np.random.Generator) -> None:
        """Apply an intensity transform in place to ``(C, Y, X)`` data (subclasses)."""
        raise NotImplementedError

    def to_albumentations(self, border: dict[str, Any]) -> dict[str, Any] | None:
        """Its albumentations transform as a serialized dict, or None without an equivalent.

        ``border`` holds the pipeline's ``border_mode``, ``fill``, ``fill_mask``,
        ``interpolation`` and ``mask_interpolation`` in albumentations' terms.
        """
        return None

    def to_dict(self) -> dict[str, Any]:
        """``{"type": class name, **parameters}`` with lists for ranges (YAML/JSON-ready)."""
        d: dict[str, Any] = {"type": type(self).__name__}
        for f in fields(self):
            v = getattr(self, f.name)
            d[f.name] = list(v) if isinstance(v, tuple) else v
        return d


# -- geometric -------------------------------------------------------------------------------
def _translation(dr: float, dc: float) -> np.ndarray:
    return np.array([[1.0, 0.0, dr], [0.0, 1.0, dc], [0.0, 0.0, 1.0]])


@dataclass(kw_only=True)
class HorizontalFlip(Transform):
    """Mirror left-right."""

    p: float = 0.5
    kind: ClassVar[str] = "geometric"

    def sample(self, rng, shape):
        h, w = shape
        return np.array([[1.0, 0, 0], [0, -1.0, w - 1.0], [0, 0, 1.0]]), shape, {}

    def to_albumentations(self, border: dict[str, Any]) -> dict[str, Any] | None:
        """Its albumentations transform as a serialized dict (None: no equivalent)."""
        return {"__class_fullname__": "HorizontalFlip", "p": self.p}


@dataclass(kw_only=True)
class VerticalFlip(Transform):
    """Mirror top-bottom."""

    p: float = 0.5
    kind: ClassVar[str] = "geometric"

    def sample(self, rng, shape):
        h, w = shape
        return np.array([[-1.0, 0, h - 1.0], [0, 1.0, 0], [0, 0, 1.0]]), shape, {}

    def to_albumentations(self, border: dict[str, Any]) -> dict[str, Any] | None:
        """Its albumentations transform as a serialized dict (None: no equivalent)."""
        return {"__class_fullname__": "VerticalFlip", "p": self.p}


@dataclass(kw_only=True)
class Rot90(Transform):
    """``k`` quarter turns counter-clockwise (as ``numpy.rot90``), ``k`` drawn from ``ks``."""

    ks: tuple[int, ...] = (0, 1, 2, 3)
    kind: ClassVar[str] = "geometric"

    def _check(self) -> None:
        given: Any = self.ks if np.ndim(self.ks) else (self.ks,)
        try:
            ks = tuple(int(k) for k in given)
        except (TypeError, ValueError):
            raise _fail(self, "ks", "must be quarter-turn counts", self.ks) from None
        if not ks or any(k not in (0, 1, 2, 3) for k in ks):
            raise _fail(self, "ks", "must be a non-empty choice among 0, 1, 2, 3", self.ks)
        self.ks = ks

    def sample(self, rng, shape):
        k = int(self.ks[rng.integers(len(self.ks))]) if len(self.ks) > 1 else self.ks[0]
        m = np.eye(3)
        h, w = shape
        for _ in range(k):
            # numpy.rot90: out[i, j] = in[j, w - 1 - i]  ->  (r, c) maps to (w - 1 - c, r)
            m = np.array([[0.0, -1.0, w - 1.0], [1.0, 0.0, 0.0], [0, 0, 1.0]]) @ m
            h, w = w, h
        return m, (h, w), {"k": k}

    def to_albumentations(self, border: dict[str, Any]) -> dict[str, Any] | None:
        """Its albumentations transform as a serialized dict (None: no equivalent)."""
        if sorted(self.ks) != [0, 1, 2, 3]:
            return None
        return {"__class_fullname__": "RandomRotate90", "p": self.p}


@dataclass(kw_only=True)
class Affine(Transform):
    """Rotation, isotropic scale, translation and x-shear about the image centre, as one matrix.

    Parameters
    ----------
    rotate : (low, high)
        Degrees, counter-clockwise on screen.
    scale : (low, high)
        Zoom factor (> 1 enlarges the content).
    translate_x, translate_y : (low, high)
        Shift as a fraction of the frame width / height.
    translate_px_x, translate_px_y : (low, high)
        Shift in pixels (added to the fractional shift).
    shear : (low, high)
        Shear angle in degrees (x moves with y).
    """

    rotate: tuple[float, float] = (0.0, 0.0)
    scale: tuple[float, float] = (1.0, 1.0)
    translate_x: tuple[float, float] = (0.0, 0.0)
    translate_y: tuple[float, float] = (0.0, 0.0)
    translate_px_x: tuple[float, float] = (0.0, 0.0)
    translate_px_y: tuple[float, float] = (0.0, 0.0)
    shear: tuple[float, float] = (0.0, 0.0)
    kind: ClassVar[str] = "geometric"

    def _check(self) -> None:
        _as_range(self, "rotate", -360.0, 360.0)
        _as_range(self, "scale", 0.01, 100.0)
        if self.scale[0] <= 0:
            raise _fail(self, "scale", "must be positive", self.scale)
        _as_range(self, "translate_x", -1.0, 1.0)
        _as_range(self, "translate_y", -1.0, 1.0)
        _as_range(self, "translate_px_x")
        _as_range(self, "translate_px_y")
        _as_range(self, "shear", -80.0, 80.0)

    def sample(self, rng, shape):
        h, w = shape
        angle = _uniform(rng, self.rotate)
        s = _uniform(rng, self.scale)
        tx = _uniform(rng, self.translate_x) * w + _uniform(rng, self.translate_px_x)
        ty = _uniform(rng, self.translate_y) * h + _uniform(rng, self.translate_px_y)
        sh = _uniform(rng, self.shear)
        a, k = math.radians(angle), math.tan(math.radians(sh))
        # In (x, y) with y pointing down, a counter-clockwise turn on screen is
        # x' = cos x + sin y, y' = -sin x + cos y.
        rot = np.array([[math.cos(a), math.sin(a)], [-math.sin(a), math.cos(a)]])
        lin_xy = s * rot @ np.array([[1.0, k], [0.0, 1.0]])
        lin = lin_xy[::-1, ::-1]  # (x, y) -> (row, col) ordering
        centre = np.array([(h - 1) / 2.0, (w - 1) / 2.0])
        m = np.eye(3)
        m[:2, :2] = lin
        m[:2, 2] = centre - lin @ centre + np.array([ty, tx])
        params = {"rotate": angle, "scale": s, "translate_xy": (tx, ty), "shear": sh}
        return m, shape, params

    def to_albumentations(self, border: dict[str, Any]) -> dict[str, Any] | None:
        """Its albumentations transform as a serialized dict (None: no equivalent)."""
        has_pct = self.translate_x != (0, 0) or self.translate_y != (0, 0)
        has_px = self.translate_px_x != (0, 0) or self.translate_px_y != (0, 0)
        if has_pct and has_px:
            return None
        out = {
            "__class_fullname__": "Affine",
            "p": self.p,
            **border,
            "rotate": list(self.rotate),
            "scale": {"x": list(self.scale), "y": list(self.scale)},
            # albumentations' x-shear turns the other way round
            "shear": {"x": [-self.shear[1], -self.shear[0]], "y": [0.0, 0.0]},
            "keep_ratio": True,
            "fit_output": False,
        }
        if has_px:
            out["translate_px"] = {
                "x": [int(round(v)) for v in self.translate_px_x],
                "y": [int(round(v)) for v in self.translate_px_y],
            }
        else:
            out["translate_percent"] = {"x": list(self.translate_x), "y": list(self.translate_y)}
        return out


@dataclass(kw_only=True)
class Crop(Transform):
    """Cut the fixed window ``[y, y + height) x [x, x + width)``."""

    y: int = 0
    x: int = 0
    height: int = 256
    width: int = 256
    kind: ClassVar[str] = "geometric"

    def _check(self) -> None:
        for name in ("y", "x"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
                raise _fail(self, name, "must be an integer >= 0", v)
            setattr(self, name, int(v))
        _positive_int(self, "height")
        _positive_int(self, "width")

    def sample(self, rng, shape):
        h, w = shape
        if self.y + self.height > h or self.x + self.width > w:
            raise _fail(
                self,
                "height/width",
                f"crop window exceeds the {w}x{h} frame",
                (self.y, self.x, self.height, self.width),
            )
        return _translation(-self.y, -self.x), (self.height, self.width), {}

    def to_albumentations(self, border: dict[str, Any]) -> dict[str, Any] | None:
        """Its albumentations transform as a serialized dict (None: no equivalent)."""
        return {
            "__class_fullname__": "Crop",
            "p": self.p,
            "x_min": self.x,
            "y_min": self.y,
            "x_max": self.x + self.width,
            "y_max": self.y + self.height,
        }


@dataclass(kw_only=True)
class RandomCrop(Transform):
    """Cut a ``height x width`` window at a random position."""

    height: int = 256
    width: int = 256
    kind: ClassVar[str] = "geometric"

    def _check(self) -> None:
        _positive_int(self, "height")
        _positive_int(self, "width")

    def sample(self, rng, shape):
        h, w = shape
        if self.height > h or self.width > w:
            raise _fail(
                self,
                "height/width",
                f"crop is larger than the {w}x{h} frame",
                (self.height, self.width),
            )
        y = int(rng.integers(h - self.height + 1))
        x = int(rng.integers(w - self.width + 1))
        return _translation(-y, -x), (self.height, self.width), {"y": y, "x": x}

    def to_albumentations(self, border: dict[str, Any]) -> dict[str, Any] | None:
        """Its albumentations transform as a serialized dict (None: no equivalent)."""
        return {
            "__class_fullname__": "RandomCrop",
            "p": self.p,
            "height": self.height,
            "width": self.width,
        }


@dataclass(kw_only=True)
class RandomResizedCrop(Transform):
    """Crop a random area fraction ``scale`` with aspect ``ratio`` and resize it to ``size``.

    The window is drawn as in torchvision / albumentations (ten tries, then a central crop).
    """

    height: int = 256
    width: int = 256
    scale: tuple[float, float] = (0.08, 1.0)
    ratio: tuple[float, float] = (3 / 4, 4 / 3)
    kind: ClassVar[str] = "geometric"

    def _check(self) -> None:
        _positive_int(self, "height")
        _positive_int(self, "width")
        _as_range(self, "scale", 1e-6, 1.0)
        _as_range(self, "ratio", 1e-3, 1e3)

    def _window(self, rng, h, w):
        area = h * w
        log_r = (math.log(self.ratio[0]), math.log(self.ratio[1]))
        for _ in range(10):
            target = area * _uniform(rng, self.scale)
            ar = math.exp(_uniform(rng, log_r))
            cw = int(round(math.sqrt(target * ar)))
            ch = int(round(math.sqrt(target / ar)))
            if 0 < cw <= w and 0 < ch <= h:
                return int(rng.integers(h - ch + 1)), int(rng.integers(w - cw + 1)), ch, cw
        in_ratio = w / h
        if in_ratio < self.ratio[0]:
            cw, ch = w, int(round(w / self.ratio[0]))
        elif in_ratio > self.ratio[1]:
            ch, cw = h, int(round(h * self.ratio[1]))
        else:
            ch, cw = h, w
        return (h - ch) // 2, (w - cw) // 2, ch, cw

    def sample(self, rng, shape):
        y, x, ch, cw = self._window(rng, *shape)
        sy, sx = self.height / ch, self.width / cw
        # pixel edges [y, y + ch) -> [0, height): centre c' = (c + 0.5 - y) * s - 0.5
        m = np.array(
            [[sy, 0.0, (0.5 - y) * sy - 0.5], [0.0, sx, (0.5 - x) * sx - 0.5], [0, 0, 1.0]]
        )
        return m, (self.height, self.width), {"window": (y, x, ch, cw)}

    def to_albumentations(self, border: dict[str, Any]) -> dict[str, Any] | None:
        """Its albumentations transform as a serialized dict (None: no equivalent)."""
        return {
            "__class_fullname__": "RandomResizedCrop",
            "p": self.p,
            "size": [self.height, self.width],
            "scale": list(self.scale),
            "ratio": list(self.ratio),
            "interpolation": border["interpolation"],
            "mask_interpolation": 0,
        }


# -- elastic ------------------------------------------------------------------------------------
@dataclass(kw_only=True)
class ElasticDeform(Transform):
    """Smooth random displacement (Simard et al. 2003): uniform noise blurred by ``sigma``
    pixels, scaled by ``alpha`` pixels."""

    alpha: float = 30.0
    sigma: float = 6.0
    kind: ClassVar[str] = "elastic"

    def _check(self) -> None:
        for name in ("alpha", "sigma"):
            v = getattr(self, name)
            try:
                ok = math.isfinite(float(v)) and float(v) > 0
            except (TypeError, ValueError):
                ok = False
            if not ok:
                raise _fail(self, name, "must be a positive number", v)
            setattr(self, name, float(v))

    def sample(self, rng, shape):
        # The field is smooth at the scale of sigma, so it is drawn and blurred on a grid
        # up to sigma / 4 times coarser and then interpolated: ~10x faster on large planes.
        k = max(1, int(self.sigma // 4))
        small = tuple(max(2, math.ceil(n / k)) for n in shape)
        fields_ = []
        for _ in range(2):
            noise = rng.uniform(-1.0, 1.0, size=small).astype(np.float32)
            d = ndi.gaussian_filter(noise, self.sigma / k, mode="constant")
            if k > 1:
                d = resize_linear(d, shape)
            # normalise so that alpha is the largest displacement, independent of sigma
            peak = float(np.abs(d).max()) or 1.0
            fields_.append(d * np.float32(self.alpha / peak))
        return fields_[0], fields_[1], {}

    def to_albumentations(self, border: dict[str, Any]) -> dict[str, Any] | None:
        """Its albumentations transform as a serialized dict (None: no equivalent)."""
        return {
            "__class_fullname__": "ElasticTransform",
            "p": self.p,
            **border,
            "alpha": self.alpha,
            "sigma": self.sigma,
            "noise_distribution": "uniform",
        }


# -- intensity ----------------------------------------------------------------------------------
@dataclass(kw_only=True)
class BrightnessContrast(Transform):
    """``v * (1 + c) + b * s`` with ``b`` from ``brightness`` and ``c`` from ``contrast``."""

    brightness: tuple[float, float] = (-0.2, 0.2)
    contrast: tuple[float, float] = (-0.2, 0.2)

    def _check(self) -> None:
        _as_range(self, "brightness", -1.0, 1.0)
        _as_range(self, "contrast", -1.0, 10.0)

    def sample(self, rng, n_channels):
        return {"b": _uniform(rng, self.brightness), "c": _uniform(rng, self.contrast)}

    def apply(self, img, params, scale, rng):
        img *= np.float32(1.0 + params["c"])
        img += np.float32(params["b"] * scale)
        return img

    def to_albumentations(self, border: dict[str, Any]) -> dict[str, Any] | None:
        """Its albumentations transform as a serialized dict (None: no equivalent)."""
        return {
            "__class_fullname__": "RandomBrightnessContrast",
            "p": self.p,
            "brightness_limit": list(self.brightness),
            "contrast_limit": list(self.contrast),
            "brightness_by_max": True,
        }


@dataclass(kw_only=True)
class Brightness(Transform):
    """Multiply every value by a factor drawn from ``factor`` (Keras' ``brightness_range``)."""

    factor: tuple[float, float] = (0.8, 1.2)

    def _check(self) -> None:
        _as_range(self, "factor", 0.0, 100.0)

    def sample(self, rng, n_channels):
        return {"factor": _uniform(rng, self.factor)}

    def apply(self, img, params, scale, rng):
        img *= np.float32(params["factor"])
        return img

    def to_albumentations(self, border: dict[str, Any]) -> dict[str, Any] | None:
        """Its albumentations transform as a serialized dict (None: no equivalent)."""
        return {
            "__class_fullname__": "MultiplicativeNoise",
            "p": self.p,
            "multiplier": list(self.factor),
            "per_channel": False,
            "elementwise": False,
        }


@dataclass(kw_only=True)
class Gamma(Transform):
    """``s * (v / s) ** g`` with ``g`` drawn from ``gamma``."""

    gamma: tuple[float, float] = (0.8, 1.2)

    def _check(self) -> None:
        _as_range(self, "gamma", 0.01, 100.0)

    def sample(self, rng, n_channels):
        return {"gamma": _uniform(rng, self.gamma)}

    def apply(self, img, params, scale, rng):
        s = np.float32(scale)
        np.clip(img, 0, None, out=img)
        img /= s
        np.power(img, np.float32(params["gamma"]), out=img)
        img *= s
        return img

    def to_albumentations(self, border: dict[str, Any]) -> dict[str, Any] | None:
        """Its albumentations transform as a serialized dict (None: no equivalent)."""
        return {
            "__class_fullname__": "RandomGamma",
            "p": self.p,
            "gamma_limit": [100.0 * self.gamma[0], 100.0 * self.gamma[1]],
        }


@dataclass(kw_only=True)
class GaussianNoise(Transform):
    """Add zero-mean Gaussian noise with standard deviation ``std * s``."""

    std: tuple[float, float] = (0.01, 0.05)
    per_channel: bool = True

    def _check(self) -> None:
        _as_range(self, "std", 0.0, 10.0)
        self.per_channel = bool(self.per_channel)

    def sample(self, rng, n_channels):
        return {"std": _uniform(rng, self.std)}

    def apply(self, img, params, scale, rng):
        sd = np.float32(params["std"] * scale)
        if self.per_channel:
            img += rng.standard_normal(img.shape, dtype=np.float32) * sd
        else:
            img += rng.standard_normal(img.shape[1:], dtype=np.float32)[None] * sd
        return img

    def to_albumentations(self, border: dict[str, Any]) -> dict[str, Any] | None:
        """Its albumentations transform as a serialized dict (None: no equivalent)."""
        return {
            "__class_fullname__": "GaussNoise",
            "p": self.p,
            "std_range": list(self.std),
            "mean_range": [0.0, 0.0],
            "per_channel": self.per_channel,
        }


@dataclass(kw_only=True)
class GaussianBlur(Transform):
    """Blur each channel with a Gaussian of ``sigma`` pixels."""

    sigma: tuple[float, float] = (0.5, 1.5)

    def _check(self) -> None:
        _as_range(self, "sigma", 0.0, 100.0)

    def sample(self, rng, n_channels):
        return {"sigma": _uniform(rng, self.sigma)}

    def apply(self, img, params, scale, rng):
        sg = params["sigma"]
        if sg > 0:
            for c in range(img.shape[0]):
                img[c] = ndi.gaussian_filter(img[c], sg, mode="reflect")
        return img

    def to_albumentations(self, border: dict[str, Any]) -> dict[str, Any] | None:
        """Its albumentations transform as a serialized dict (None: no equivalent)."""
        return {
            "__class_fullname__": "GaussianBlur",
            "p": self.p,
            "blur_limit": 0,
            "sigma_limit": list(self.sigma),
        }


@dataclass(kw_only=True)
class ChannelJitter(Transform):
    """Per channel ``v * a_c + t_c * s``, ``a_c`` from ``scale`` and ``t_c`` from ``shift``."""

    scale: tuple[float, float] = (0.9, 1.1)
    shift: tuple[float, float] = (-0.05, 0.05)

    def _check(self) -> None:
        _as_range(self, "scale", 0.0, 100.0)
        _as_range(self, "shift", -1.0, 1.0)

    def sample(self, rng, n_channels):
        return {
            "scale": [_uniform(rng, self.scale) for _ in range(n_channels)],
            "shift": [_uniform(rng, self.shift) for _ in range(n_channels)],
        }

    def apply(self, img, params, scale, rng):
        img *= np.asarray(params["scale"], np.float32)[:, None, None]
        img += np.asarray(params["shift"], np.float32)[:, None, None] * np.float32(scale)
        return img

    def to_albumentations(self, border: dict[str, Any]) -> dict[str, Any] | None:
        """Its albumentations transform as a serialized dict (None: no equivalent)."""
        if self.shift != (0.0, 0.0):
            return None
        return {
            "__class_fullname__": "MultiplicativeNoise",
            "p": self.p,
            "multiplier": list(self.scale),
            "per_channel": True,
            "elementwise": False,
        }


@dataclass(kw_only=True)
class ChannelDropout(Transform):
    """Set a random number of channels (from ``channels``) to ``fill``; never all of them."""

    channels: tuple[float, float] = (1, 1)
    fill: float = 0.0

    def _check(self) -> None:
        _as_range(self, "channels", 1, 1024)
        lo, hi = self.channels
        if lo != int(lo) or hi != int(hi):
            raise _fail(self, "channels", "must be whole channel counts", self.channels)
        self.channels = (int(lo), int(hi))
        self.fill = float(self.fill)

    def sample(self, rng, n_channels):
        hi = min(self.channels[1], n_channels - 1)
        if hi < 1 or self.channels[0] > hi:
            return {"dropped": []}
        n = int(rng.integers(self.channels[0], hi + 1))
        return {"dropped": sorted(int(c) for c in rng.choice(n_channels, n, replace=False))}

    def apply(self, img, params, scale, rng):
        for c in params["dropped"]:
            img[c] = np.float32(self.fill)
        return img

    #: Every transform by name (the ``type`` key of a serialised pipeline).

    def to_albumentations(self, border: dict[str, Any]) -> dict[str, Any] | None:
        """Its albumentations transform as a serialized dict (None: no equivalent)."""
        return {
            "__class_fullname__": "ChannelDropout",
            "p": self.p,
            "channel_drop_range": list(self.channels),
            "fill": self.fill,
        }


TRANSFORMS: dict[str, type[Transform]] = {
    cls.__name__: cls
    for cls in (
        HorizontalFlip,
        VerticalFlip,
        Rot90,
        Affine,
        Crop,
        RandomCrop,
        RandomResizedCrop,
        ElasticDeform,
        BrightnessContrast,
        Brightness,
        Gamma,
        GaussianNoise,
        GaussianBlur,
        ChannelJitter,
        ChannelDropout,
    )
}
