"""YOLO-OBB (Ultralytics oriented boxes) as a format of the registry.

Rows are ``class x1 y1 x2 y2 x3 y3 x4 y4``, normalised. Reading goes through the YOLO
reader (which tells oriented-box rows from polygons); writing through
:func:`~napari_labelsuite.core.formats.yolo_objects.write_obb`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..annotation import ImageAnnotation
from ..errors import FormatError
from ..taxonomy import Taxonomy
from . import yolo
from ._common import ReadReport
from .yolo_objects import write_obb

__all__ = ["read", "write"]


def read(
    path: str | Path, *, report: ReadReport | None = None, **options: Any
) -> tuple[list[ImageAnnotation], Taxonomy]:
    """Read a YOLO-OBB dataset (its folder or ``data.yaml``) into rotated boxes.

    Raises
    ------
    FormatError
        The dataset holds no oriented-box rows (e.g. detection or segmentation rows).
    """
    anns, tax = yolo.read(path, report=report, **options)
    if not any(a.rotated for a in anns):
        raise FormatError(
            "no oriented-box rows (class x1 y1 ... x4 y4): not a YOLO-OBB dataset",
            path=path,
            field="format",
            value="yolo_obb",
        )
    return anns, tax


def write(
    path: str | Path, annotations: list[ImageAnnotation], taxonomy: Taxonomy, **options: Any
) -> list[Path]:
    """Write the rotated boxes of ``annotations`` as a YOLO-OBB dataset (all or none)."""
    return write_obb(path, annotations, taxonomy, **options)
