"""Interchange of augmentation pipelines with Keras and albumentations.

* :func:`pipeline_from_keras`: a :class:`~.pipeline.Pipeline` equivalent to Keras
  ``ImageDataGenerator(**kwargs)``;
* :func:`albumentations_dict` / :func:`albumentations_compose`: the equivalent
  albumentations ``Compose`` (each transform knows its own mapping,
  ``Transform.to_albumentations``; :data:`ALBUMENTATIONS_MAP` lists them).

``Pipeline.from_keras``, ``Pipeline.to_albumentations`` and
``Pipeline.to_albumentations_compose`` call these.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import AugmentError
from .transforms import Affine, Brightness, HorizontalFlip, Transform, VerticalFlip

if TYPE_CHECKING:
    from .pipeline import Pipeline

__all__ = [
    "ALBUMENTATIONS_MAP",
    "albumentations_compose",
    "albumentations_dict",
    "pipeline_from_keras",
]

#: Our transform -> the albumentations transform it exports to (see docs/augment.md).
ALBUMENTATIONS_MAP = {
    "HorizontalFlip": "HorizontalFlip",
    "VerticalFlip": "VerticalFlip",
    "Rot90": "RandomRotate90 (only with ks = 0, 1, 2, 3)",
    "Affine": "Affine",
    "Crop": "Crop",
    "RandomCrop": "RandomCrop",
    "RandomResizedCrop": "RandomResizedCrop",
    "ElasticDeform": "ElasticTransform (approximate amplitude)",
    "BrightnessContrast": "RandomBrightnessContrast",
    "Brightness": "MultiplicativeNoise (per_channel=False, elementwise=False)",
    "Gamma": "RandomGamma",
    "GaussianNoise": "GaussNoise",
    "GaussianBlur": "GaussianBlur",
    "ChannelJitter": "MultiplicativeNoise (per_channel=True), only when shift is 0",
    "ChannelDropout": "ChannelDropout",
}

_KERAS_IGNORED = {
    "featurewise_center",
    "samplewise_center",
    "featurewise_std_normalization",
    "samplewise_std_normalization",
    "zca_whitening",
    "zca_epsilon",
    "rescale",
    "preprocessing_function",
    "data_format",
    "validation_split",
    "dtype",
}

_KERAS_KEYS = (
    "rotation_range",
    "width_shift_range",
    "height_shift_range",
    "shear_range",
    "zoom_range",
    "horizontal_flip",
    "vertical_flip",
    "brightness_range",
    "fill_mode",
    "cval",
)


def pipeline_from_keras(cls: type[Pipeline], kwargs: dict[str, Any]) -> Pipeline:
    """A pipeline equivalent to Keras ``ImageDataGenerator(**kwargs)``'s augmentation.

    Accepts ``rotation_range``, ``width_shift_range``, ``height_shift_range``,
    ``shear_range``, ``zoom_range``, ``horizontal_flip``, ``vertical_flip``,
    ``brightness_range``, ``fill_mode`` and ``cval``; normalisation arguments
    (``rescale``, ``featurewise_center`` ...) are ignored. Keras draws the x and y zoom
    separately; here one isotropic factor covers the same range.
    """

    kw = dict(kwargs)
    unknown = sorted(set(kw) - _KERAS_IGNORED - set(_KERAS_KEYS))
    if unknown:
        raise AugmentError(
            "unsupported ImageDataGenerator argument",
            where="from_keras",
            field=unknown[0],
            value=kw[unknown[0]],
        )
    affine: dict[str, Any] = {}
    rot = float(kw.get("rotation_range", 0) or 0)
    if rot:
        affine["rotate"] = (-abs(rot), abs(rot))
    for key, frac, px in (
        ("width_shift_range", "translate_x", "translate_px_x"),
        ("height_shift_range", "translate_y", "translate_px_y"),
    ):
        v = kw.get(key, 0) or 0
        if np.ndim(v) != 0:
            raise AugmentError(
                "only a number is supported", where="from_keras", field=key, value=v
            )
        v = abs(float(v))
        if 0 < v < 1:
            affine[frac] = (-v, v)
        elif v >= 1:
            affine[px] = (-v, v)
    shear = float(kw.get("shear_range", 0) or 0)
    if shear:
        affine["shear"] = (-abs(shear), abs(shear))
    zoom: Any = kw.get("zoom_range", 0) or 0
    if np.ndim(zoom) == 0:
        z = float(zoom)
        lo, hi = 1 - z, 1 + z
    else:
        lo, hi = (float(x) for x in zoom)
    if lo <= 0 or hi < lo:
        raise AugmentError(
            "zoom must stay positive", where="from_keras", field="zoom_range", value=zoom
        )
    if (lo, hi) != (1.0, 1.0):
        # Keras scales the sampling grid: a zoom z shows the content 1/z times larger
        affine["scale"] = (1.0 / hi, 1.0 / lo)
    transforms: list[Transform] = []
    try:
        if affine:
            transforms.append(Affine(**affine))
        if kw.get("horizontal_flip"):
            transforms.append(HorizontalFlip(p=0.5))
        if kw.get("vertical_flip"):
            transforms.append(VerticalFlip(p=0.5))
        if kw.get("brightness_range") is not None:
            transforms.append(Brightness(factor=tuple(kw["brightness_range"])))
    except AugmentError as exc:
        raise exc.replace(AugmentError, where="from_keras") from None
    return cls(
        transforms,
        fill_mode=kw.get("fill_mode", "nearest"),
        cval=kw.get("cval", 0.0),
    )


def albumentations_dict(pipe: Pipeline, strict: bool = False) -> dict[str, Any]:
    """The equivalent albumentations ``Compose`` as the dict ``A.from_dict`` reads.

    Transforms without an equivalent (see :data:`ALBUMENTATIONS_MAP`) raise
    AugmentError when ``strict``, else they are left out and listed under
    ``"labelsuite_skipped"`` (remove that key or use :func:`albumentations_compose`).
    """
    items, skipped = [], []
    for i, t in enumerate(pipe.transforms):
        d = _to_albu(t, pipe)
        if d is None:
            if strict:
                raise AugmentError(
                    "no albumentations equivalent",
                    where=f"transforms[{i}]",
                    field="type",
                    value=type(t).__name__,
                )
            skipped.append(i)
            continue
        items.append(d)
    out: dict[str, Any] = {
        "__version__": _albu_version(),
        "transform": {
            "__class_fullname__": "Compose",
            "p": 1.0,
            "transforms": items,
            "bbox_params": {
                "format": "pascal_voc",
                "label_fields": ["class_ids"],
                "min_area": 0.0,
                "min_visibility": pipe.min_visibility,
                "min_width": 0.0,
                "min_height": 0.0,
                "check_each_transform": True,
                "clip": True,
                "max_accept_ratio": None,
            },
            "keypoint_params": None,
            "additional_targets": {},
            "is_check_shapes": True,
        },
    }
    if skipped:
        out["labelsuite_skipped"] = skipped
    return out


def albumentations_compose(pipe: Pipeline, strict: bool = False) -> Any:
    """A live ``albumentations.Compose`` (needs the ``augment`` extra)."""
    try:
        import albumentations as A
    except ImportError:
        raise AugmentError(
            "albumentations is not installed (pip install napari-labelsuite[augment])",
            field="albumentations",
        ) from None
    d = albumentations_dict(pipe, strict=strict)
    d.pop("labelsuite_skipped", None)
    return A.from_dict(d)


def _albu_version() -> str:
    try:
        import albumentations
    except ImportError:
        return "2.0.8"
    return albumentations.__version__


_CV_BORDER = {"constant": 0, "nearest": 1, "reflect": 2, "wrap": 3}
_CV_INTERP = {"nearest": 0, "linear": 1, "cubic": 2}


def _to_albu(t: Transform, pipe: Pipeline) -> dict[str, Any] | None:
    """``t`` in albumentations' serialized form; each transform knows its own mapping."""
    border = {
        "border_mode": _CV_BORDER[pipe.fill_mode],
        "fill": pipe.cval,
        "fill_mask": 0.0,
        "interpolation": _CV_INTERP[pipe.interpolation],
        "mask_interpolation": 0,
    }
    return t.to_albumentations(border)
