"""YOLO-pose (Ultralytics keypoints) as a format of the registry.

Rows are ``class cx cy w h`` then ``x y v`` per keypoint, normalised; ``data.yaml`` holds
``kpt_shape`` and ``flip_idx``. Reading goes through the YOLO reader (which needs
``kpt_shape``); writing through
:func:`~napari_labelsuite.core.formats.yolo_objects.write_pose` with the taxonomy's
skeleton.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..annotation import ImageAnnotation
from ..errors import FormatError
from ..objects.keypoints import Skeleton
from ..taxonomy import Taxonomy
from . import yolo
from ._common import ReadReport
from .yolo_objects import write_pose

__all__ = ["read", "skeleton_of", "write"]


def read(
    path: str | Path, *, report: ReadReport | None = None, **options: Any
) -> tuple[list[ImageAnnotation], Taxonomy]:
    """Read a YOLO-pose dataset (its folder or ``data.yaml``) into keypoint sets.

    Raises
    ------
    FormatError
        The dataset holds no keypoint rows (no ``kpt_shape`` in its data.yaml).
    """
    anns, tax = yolo.read(path, report=report, **options)
    if not any(a.keypoints for a in anns):
        raise FormatError(
            "no keypoint rows (data.yaml without kpt_shape): not a YOLO-pose dataset",
            path=path,
            field="kpt_shape",
            value="yolo_pose",
        )
    return anns, tax


def skeleton_of(taxonomy: Taxonomy, path: str | Path | None = None) -> Skeleton:
    """The one skeleton a YOLO-pose dataset holds: that of the taxonomy's keypoint classes.

    Raises
    ------
    FormatError
        No class defines keypoints, or two classes have different keypoint counts (YOLO
        pose has one ``kpt_shape`` for all classes).
    """
    found = [(c.name, c.skeleton) for c in taxonomy if c.skeleton is not None]
    if not found:
        raise FormatError(
            "YOLO pose needs a class with keypoints (a skeleton) in the taxonomy",
            path=path,
            field="keypoints",
        )
    counts = {name: len(sk.names) for name, sk in found}
    if len(set(counts.values())) > 1:
        raise FormatError(
            "YOLO pose holds one keypoint count for all classes",
            path=path,
            field="kpt_shape",
            value=counts,
        )
    return found[0][1]


def write(
    path: str | Path, annotations: list[ImageAnnotation], taxonomy: Taxonomy, **options: Any
) -> list[Path]:
    """Write the keypoint sets of ``annotations`` as a YOLO-pose dataset (all or none)."""
    skeleton = options.pop("skeleton", None) or skeleton_of(taxonomy, path)
    return write_pose(path, annotations, taxonomy, skeleton, **options)
