"""Import and export of COCO, YOLO, Pascal VOC and mask files."""

from __future__ import annotations


class FormatsMixin:
    """Import and export of COCO, YOLO, Pascal VOC and mask files."""
