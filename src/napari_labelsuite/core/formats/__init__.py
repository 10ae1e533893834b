"""Interchange formats: COCO, YOLO, Pascal VOC, PNG/TIFF masks and Cell Tracking Challenge.

Every format module has the same two functions::

    write(path, annotations, taxonomy, **options) -> list[Path]   # files written
    read(path) -> (annotations, taxonomy)

``annotations`` is a list of :class:`~napari_labelsuite.core.annotation.ImageAnnotation`.
Writes are all or nothing (temporary files, then renames); reads validate everything and
raise :class:`~napari_labelsuite.core.errors.FormatError` naming the file, the record or
line and the field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import FormatError
from . import coco, ctc, masks, voc, yolo

__all__ = ["FORMATS", "coco", "ctc", "guess_format", "masks", "read", "voc", "write", "yolo"]

#: format name -> module with ``read`` and ``write``.
FORMATS = {"coco": coco, "yolo": yolo, "voc": voc, "masks": masks, "ctc": ctc}

_SUFFIXES = {
    ".json": "coco",
    ".yaml": "yolo",
    ".yml": "yolo",
    ".xml": "voc",
    ".png": "masks",
    ".tif": "masks",
    ".tiff": "masks",
}


def guess_format(path: str | Path, *, for_writing: bool = False) -> str:
    """The format a path most likely holds.

    Files go by suffix (``.json`` COCO, ``data.yaml`` YOLO, ``.xml`` VOC, ``.png``/``.tif``
    masks). Directories go by content: ``data.yaml`` (YOLO), ``masks.json`` (masks),
    ``Annotations/`` or XML files (VOC), a single JSON file (COCO).
    """
    p = Path(path)
    fmt = _SUFFIXES.get(p.suffix.lower())
    if fmt is not None and not p.is_dir():
        return fmt
    if p.is_dir():
        if any((p / name).is_file() for name in ctc.TRACK_FILES):
            return "ctc"
        if (p / "data.yaml").is_file():
            return "yolo"
        if (p / masks.SIDECAR).is_file() or (p / "semantic").is_dir():
            return "masks"
        if (p / "Annotations").is_dir() or any(p.glob("*.xml")):
            return "voc"
        jsons = list(p.glob("*.json"))
        if len(jsons) == 1:
            return "coco"
    hint = "choose a format" if for_writing else "choose a format or check the path"
    raise FormatError(
        f"cannot tell the format from the path; {hint} (one of {sorted(FORMATS)})",
        path=p,
        field="fmt",
    )


def _module(path: Any, fmt: str | None, for_writing: bool = False):
    if fmt is None:
        fmt = guess_format(path, for_writing=for_writing)
    mod = FORMATS.get(str(fmt).lower())
    if mod is None:
        raise FormatError(f"unknown format; use one of {sorted(FORMATS)}", field="fmt", value=fmt)
    return mod


def read(path: str | Path, fmt: str | None = None, **options: Any):
    """Read annotations and taxonomy from ``path`` (format guessed when ``fmt`` is None)."""
    p = Path(path)
    if not p.exists():
        raise FormatError("no such file or folder", path=p)
    if not p.is_dir() and not p.is_file():  # a FIFO would block the reader forever
        raise FormatError("not a regular file or folder (a pipe, socket or device)", path=p)
    mod = _module(path, fmt)
    if mod is coco and Path(path).is_dir():
        path = next(Path(path).glob("*.json"))
    return mod.read(path, **options)


def write(
    path: str | Path, annotations: Any, taxonomy: Any, fmt: str | None = None, **options: Any
) -> list[Path]:
    """Write annotations in format ``fmt`` (guessed from the suffix when None)."""
    return _module(path, fmt, for_writing=True).write(path, annotations, taxonomy, **options)
