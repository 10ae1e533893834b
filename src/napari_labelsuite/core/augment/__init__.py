"""Augmentation: a pipeline of transforms applied jointly to an image, its masks and boxes.

* :mod:`.pipeline`: :class:`Pipeline` (apply, save/load), :class:`AugmentDiagnostics`,
  :func:`annotation_plane`;
* :mod:`.geometry`: the variant's one resampling map and the points, boxes, rotated boxes
  and keypoints that go through it;
* :mod:`.interop`: Keras ``ImageDataGenerator`` in, albumentations ``Compose`` out
  (:func:`pipeline_from_keras`, :func:`albumentations_dict`, :func:`albumentations_compose`);
* :mod:`.transforms`: the transforms (:class:`Affine`, :class:`HorizontalFlip`, ...) and the
  :data:`TRANSFORMS` registry;
* :mod:`.warp`: the one resampling step (OpenCV when installed, else scipy).
"""

from __future__ import annotations

from .interop import (
    ALBUMENTATIONS_MAP,
    albumentations_compose,
    albumentations_dict,
    pipeline_from_keras,
)
from .pipeline import (
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
    "albumentations_compose",
    "albumentations_dict",
    "annotation_plane",
    "pipeline_from_keras",
    "resize_linear",
    "resolve_backend",
    "value_scale",
]
