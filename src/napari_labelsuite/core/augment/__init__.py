"""Augmentation: a pipeline of transforms applied jointly to an image, its masks and boxes.

* :mod:`.pipeline`: :class:`Pipeline` (apply, save/load, interop with Keras and
  albumentations), :class:`AugmentDiagnostics`, :func:`annotation_plane`;
* :mod:`.transforms`: the transforms (:class:`Affine`, :class:`HorizontalFlip`, ...) and the
  :data:`TRANSFORMS` registry;
* :mod:`.warp`: the one resampling step (OpenCV when installed, else scipy).
"""

from __future__ import annotations

from .pipeline import (
    ALBUMENTATIONS_MAP,
    BOX_POLICIES,
    FORMAT_NAME,
    MASK_FILLS,
    AugmentDiagnostics,
    Pipeline,
    annotation_plane,
    value_scale,
)
from .transforms import (
    TRANSFORMS,
    Affine,
    Brightness,
    BrightnessContrast,
    ChannelDropout,
    ChannelJitter,
    Crop,
    ElasticDeform,
    Gamma,
    GaussianBlur,
    GaussianNoise,
    HorizontalFlip,
    RandomCrop,
    RandomResizedCrop,
    Rot90,
    Transform,
    VerticalFlip,
)
from .warp import BACKENDS, FILL_MODES, INTERPOLATIONS, resize_linear, resolve_backend

__all__ = [
    "ALBUMENTATIONS_MAP",
    "BACKENDS",
    "BOX_POLICIES",
    "FILL_MODES",
    "FORMAT_NAME",
    "INTERPOLATIONS",
    "MASK_FILLS",
    "TRANSFORMS",
    "Affine",
    "AugmentDiagnostics",
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
    "Pipeline",
    "RandomCrop",
    "RandomResizedCrop",
    "Rot90",
    "Transform",
    "VerticalFlip",
    "annotation_plane",
    "resize_linear",
    "resolve_backend",
    "value_scale",
]
