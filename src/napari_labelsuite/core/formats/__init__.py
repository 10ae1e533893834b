"""Interchange formats: what other tools write, and back.

COCO (instances, panoptic, results), YOLO (Ultralytics, Roboflow, Darknet/CVAT, Label
Studio layouts), Pascal VOC, labelme, CVAT XML 1.1, Label Studio JSON, PNG/TIFF masks,
Cell Tracking Challenge, and the object kinds: DOTA and YOLO-OBB (rotated boxes), COCO
keypoints and YOLO-pose (keypoint sets).

Every format module has the same two functions::

    write(path, annotations, taxonomy, **options) -> list[Path]   # files written
    read(path, *, report=None) -> (annotations, taxonomy)

``annotations`` is a list of :class:`~napari_labelsuite.core.annotation.ImageAnnotation`.
Writes are all or nothing (temporary files, then renames); reads validate everything and
raise :class:`~napari_labelsuite.core.errors.FormatError` naming the file, the record or
line and the field. :func:`sniff` tells the format of a path from its content, and
:func:`read` fills a :class:`ReadReport` with the format, the counts and what was
inferred. Reading 0 objects from a file or folder is an error, never an empty success.
"""

from __future__ import annotations

import inspect
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from ..errors import FormatError
from . import (
    coco,
    coco_keypoints,
    coco_panoptic,
    coco_results,
    ctc,
    cvat,
    dota,
    labelme,
    labelstudio,
    masks,
    voc,
    yolo,
    yolo_obb,
    yolo_pose,
)
from ._common import ReadReport, WriteReport

__all__ = [
    "FORMATS",
    "ReadReport",
    "WriteReport",
    "coco",
    "coco_keypoints",
    "coco_panoptic",
    "coco_results",
    "ctc",
    "cvat",
    "dota",
    "guess_format",
    "labelme",
    "labelstudio",
    "masks",
    "not_written",
    "read",
    "sniff",
    "voc",
    "write",
    "yolo",
    "yolo_obb",
    "yolo_pose",
]

#: format name -> module with ``read`` and ``write``.
FORMATS = {
    "coco": coco,
    "coco_panoptic": coco_panoptic,
    "coco_results": coco_results,
    "yolo": yolo,
    "voc": voc,
    "masks": masks,
    "labelme": labelme,
    "cvat": cvat,
    "labelstudio": labelstudio,
    "ctc": ctc,
    "dota": dota,
    "coco_keypoints": coco_keypoints,
    "yolo_obb": yolo_obb,
    "yolo_pose": yolo_pose,
}

#: file suffix -> format, for choosing a writer from an output path
_SUFFIXES = {
    ".json": "coco",
    ".yaml": "yolo",
    ".yml": "yolo",
    ".xml": "voc",
    ".png": "masks",
    ".tif": "masks",
    ".tiff": "masks",
}
#: format -> the marks (``metadata`` keys, see ``core.marks``) its writer keeps
MARKS_KEPT: dict[str, tuple[str, ...]] = {
    "labelme": ("points", "polylines"),
    "cvat": ("points", "polylines"),
    "labelstudio": ("points",),
}
_JSON_FORMATS = (
    "coco", "coco_keypoints", "coco_panoptic", "coco_results", "labelstudio", "labelme"
)  # fmt: skip
_YOLO_FILES = ("obj.data", "obj.names", "classes.txt")


def _xml_root(f: Path) -> str:
    """Tag of the root element of an XML file (reads only up to it)."""
    try:
        for _, el in ET.iterparse(f, events=("start",)):
            return el.tag
    except (ET.ParseError, OSError) as exc:
        raise FormatError(f"malformed XML: {exc}", path=f) from None
    return ""


def _json_kind(f: Path) -> str:
    """The format of one JSON file, from its content."""
    try:
        with open(f, encoding="utf-8") as fh:
            head = fh.read(1 << 16)
    except (OSError, UnicodeDecodeError) as exc:
        raise FormatError(f"cannot read: {exc}", path=f) from None
    start = head.lstrip("\ufeff \t\r\n")[:1]
    if start == "[":
        from ..validate import load_json

        doc = load_json(f)  # strict UTF-8, bounded nesting
        if labelstudio.is_labelstudio(doc):
            return "labelstudio"
        if coco_results.is_results(doc):
            return "coco_results"
        raise FormatError(
            "a JSON list that is neither a Label Studio export nor COCO results",
            path=f,
            field="format",
        )
    if start != "{":
        raise FormatError("not a JSON object or list", path=f, field="format")
    if '"shapes"' in head and ('"imagePath"' in head or '"imageHeight"' in head):
        return "labelme"
    if len(head) < (1 << 16):
        text = head
    else:
        from ..validate import decode_text, read_regular_bytes

        text = decode_text(read_regular_bytes(f), path=f)
    if '"segments_info"' in text:
        return "coco_panoptic"
    if '"num_keypoints"' in text and '"categories"' in text and '"segmentation"' not in text:
        return "coco_keypoints"  # a person_keypoints file with masks reads as COCO (below)
    if '"images"' in text and '"annotations"' in text and '"categories"' in text:
        return "coco"
    if '"shapes"' in text:
        return "labelme"
    raise FormatError(
        "JSON of no known annotation format (COCO, COCO panoptic, labelme, Label Studio, "
        "COCO results)",
        path=f,
        field="format",
    )


def sniff(path: str | Path) -> tuple[str, Path]:
    """The format of a file or folder, from its content, and the path its reader takes.

    Raises
    ------
    FormatError
        When nothing known is found, naming what was looked for.
    """
    p = Path(path)
    if p.is_file():
        suffix = p.suffix.lower()
        if suffix == ".json":
            return _json_kind(p), p
        if suffix == ".xml":
            return ("cvat" if _xml_root(p) == "annotations" else "voc"), p
        if suffix in (".yaml", ".yml") or p.name in _YOLO_FILES:
            return "yolo", p if suffix in (".yaml", ".yml") or p.name == "obj.data" else p.parent
        if suffix in (".png", ".tif", ".tiff"):
            return "masks", p
        raise FormatError("cannot tell the format of this file", path=p, field="format")
    if not p.is_dir():
        raise FormatError("no such file or folder", path=p)
    if any((p / name).is_file() for name in ctc.TRACK_FILES):
        return "ctc", p
    if (
        any((p / n).is_file() for n in ("data.yaml", "data.yml", *_YOLO_FILES))
        or any(f.is_file() for f in p.glob("*.y*ml"))
        and (p / "labels").is_dir()
    ):
        return "yolo", p
    if (p / masks.SIDECAR).is_file() or (p / "semantic").is_dir() or (p / "instances").is_dir():
        return "masks", p
    if (p / "annotations.xml").is_file():
        return "cvat", p / "annotations.xml"
    if (p / "labelTxt").is_dir() or p.name == "labelTxt":
        return "dota", p
    xmls = sorted((p / "Annotations").glob("*.xml")) or sorted(p.glob("*.xml"))
    if xmls:
        if len(xmls) == 1 and _xml_root(xmls[0]) == "annotations":
            return "cvat", xmls[0]
        return "voc", p
    jsons = sorted(f for f in p.glob("*.json") if f.is_file())
    if not jsons and (p / "annotations").is_dir():
        jsons = sorted(f for f in (p / "annotations").glob("*.json") if f.is_file())
    if len(jsons) == 1:
        return _json_kind(jsons[0]), jsons[0]
    if jsons:
        kinds = {_json_kind(f) for f in jsons[:3]}
        if kinds == {"labelme"}:
            return "labelme", p
        raise FormatError(
            f"{len(jsons)} JSON files of formats {sorted(kinds)}; give the one to read",
            path=p,
            field="format",
        )
    raise FormatError(
        "cannot tell the format of this folder: no data.yaml / obj.data / classes.txt (YOLO), "
        "masks.json or semantic/ (masks), annotations.xml (CVAT), *.xml (VOC) or *.json "
        "(COCO, labelme, Label Studio)",
        path=p,
        field="format",
    )


def guess_format(path: str | Path, *, for_writing: bool = False) -> str:
    """The format a path holds (by content, see :func:`sniff`) or, for writing, suggests.

    For writing (and for paths that do not exist yet), files go by suffix (``.json``
    COCO, ``.yaml`` YOLO, ``.xml`` VOC, ``.png``/``.tif`` masks) and folders by content.
    """
    p = Path(path)
    if for_writing or not p.exists():
        fmt = _SUFFIXES.get(p.suffix.lower())
        if fmt is not None and not p.is_dir():
            return fmt
        if p.is_dir():
            try:
                return sniff(p)[0]
            except FormatError:
                pass
        raise FormatError(
            f"cannot tell the format from the path; choose a format (one of {sorted(FORMATS)})",
            path=p,
            field="fmt",
        )
    return sniff(p)[0]


def _module(fmt: str) -> Any:
    mod = FORMATS.get(str(fmt).lower())
    if mod is None:
        raise FormatError(f"unknown format; use one of {sorted(FORMATS)}", field="fmt", value=fmt)
    return mod


def read(
    path: str | Path, fmt: str | None = None, *, report: ReadReport | None = None, **options: Any
):
    """Read annotations and taxonomy from ``path`` (format sniffed when ``fmt`` is None).

    Parameters
    ----------
    report : ReadReport, optional
        Filled with the format taken, the layout, the counts and what was inferred.
    **options
        Passed to the format's reader (e.g. ``images=`` for ``coco_results``).

    Raises
    ------
    FormatError
        For a path of no known format, invalid content, or when nothing (0 images or 0
        objects) was read: an empty result is never a success.
    """
    p = Path(path)
    if not p.exists():
        raise FormatError("no such file or folder", path=p)
    if not p.is_dir() and not p.is_file():  # a FIFO would block the reader forever
        raise FormatError("not a regular file or folder (a pipe, socket or device)", path=p)
    if fmt is None:
        fmt, target = sniff(p)
    else:
        fmt = str(fmt).lower()
        target = p
        if p.is_dir() and fmt in _JSON_FORMATS and fmt != "labelme":
            jsons = sorted(f for f in p.glob("*.json") if f.is_file())
            if not jsons:
                raise FormatError(f"no JSON file in this folder for {fmt}", path=p, field="fmt")
            target = jsons[0]
    mod = _module(fmt)
    rep = report if report is not None else ReadReport()
    rep.format = fmt
    if "report" in inspect.signature(mod.read).parameters:
        options["report"] = rep
    annotations, taxonomy = mod.read(target, **options)
    if fmt == "coco" and target.is_file() and _has_keypoints(target):
        _attach_coco_keypoints(target, annotations, taxonomy, rep)
    rep.count(annotations)
    if rep.images == 0 or rep.objects == 0:
        what = "images" if rep.images == 0 else "objects"
        raise FormatError(
            f"read 0 {what} as {fmt}"
            + (f" ({rep.layout})" if rep.layout else "")
            + f" from {rep.images} images: nothing was understood; check the format",
            path=target,
            field="format",
            value=fmt,
        )
    return annotations, taxonomy


def _has_keypoints(path: Path) -> bool:
    """Whether a COCO file carries keypoints too (COCO's person_keypoints files do)."""
    with open(path, "rb") as fh:
        return any(b'"num_keypoints"' in chunk for chunk in iter(lambda: fh.read(1 << 20), b""))


def _attach_coco_keypoints(
    path: Path, annotations: list[Any], taxonomy: Any, report: ReadReport
) -> None:
    """Add the keypoints and skeletons of a COCO file with masks to what ``coco`` read.

    A person_keypoints file has segmentations, boxes and keypoints on the same records: the
    masks and boxes come from the COCO reader, the keypoints (and the classes' skeletons)
    from the keypoints reader, matched by image name and class name.
    """
    kp_annotations, kp_taxonomy = coco_keypoints.read(path)
    by_name = {a.image_name: a for a in annotations}
    for ka in kp_annotations:
        target = by_name.get(ka.image_name)
        if target is not None and ka.keypoints:
            target.keypoints = list(ka.keypoints)
    for cls in kp_taxonomy:
        if cls.skeleton is not None and cls.name in taxonomy.names():
            mine = taxonomy.by_name(cls.name)
            for kp in (k for a in annotations for k in a.keypoints):
                if kp.class_id == cls.id:
                    kp.class_id = mine.id
            taxonomy.update(cls.name, skeleton=cls.skeleton)
    n = sum(len(a.keypoints) for a in annotations)
    if n:
        report.notes.append(f"{n} keypoint sets read beside the masks (COCO keypoints)")


def not_written(fmt: str, annotations: Any) -> dict[str, int]:
    """Points and polylines of ``annotations`` that format ``fmt`` cannot hold, counted.

    Returns ``{"points": n, "polylines": m}`` with only the kinds ``fmt`` drops (n, m > 0).
    """
    from ..marks import MARK_KEYS, count_marks

    _module(fmt)
    kept = MARKS_KEPT.get(str(fmt).lower(), ())
    counts = count_marks(annotations)
    return {k: counts[k] for k in MARK_KEYS if k not in kept and counts[k]}


def write(
    path: str | Path,
    annotations: Any,
    taxonomy: Any,
    fmt: str | None = None,
    *,
    report: WriteReport | None = None,
    **options: Any,
) -> list[Path]:
    """Write annotations in format ``fmt`` (guessed from the suffix when None).

    ``report`` (a :class:`WriteReport`) receives the format, the number of files and
    the points / polylines the format could not hold (:func:`not_written`).
    """
    fmt = fmt or guess_format(path, for_writing=True)
    written = _module(fmt).write(path, annotations, taxonomy, **options)
    files = [written] if isinstance(written, Path) else list(written)  # one-file writers
    if report is not None:
        report.format = str(fmt).lower()
        report.files = len(files)
        report.not_written = not_written(fmt, annotations)
    return files
