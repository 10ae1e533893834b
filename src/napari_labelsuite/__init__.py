"""napari-labelsuite: label image data for machine learning inside napari.

The scripting API: everything the dock widgets do is a method of :class:`LabelSession`
(in napari's console the viewer's session is ``labelsuite``), and the pure functions live
in :mod:`napari_labelsuite.core`.
"""

from .core.annotation import Box, ImageAnnotation, ObjectInfo
from .core.augment import Pipeline
from .core.classifier import PixelClassifier
from .core.errors import (
    AnnotationError,
    AugmentError,
    ClassifierError,
    FormatError,
    InstanceError,
    InterpolateError,
    LabelsuiteError,
    QCError,
    SessionError,
    StoreError,
    TaxonomyError,
)
from .core.taxonomy import AttributeSpec, LabelClass, Taxonomy
from .session import LabelSession

__version__ = "0.1.0"

__all__ = [
    "AnnotationError",
    "AttributeSpec",
    "AugmentError",
    "Box",
    "ClassifierError",
    "FormatError",
    "ImageAnnotation",
    "InstanceError",
    "InterpolateError",
    "LabelClass",
    "LabelSession",
    "LabelsuiteError",
    "ObjectInfo",
    "Pipeline",
    "PixelClassifier",
    "QCError",
    "SessionError",
    "StoreError",
    "Taxonomy",
    "TaxonomyError",
]
