"""DOTA oriented-box labels (``labelTxt``): aerial-image rotated boxes.

Layout::

    images/<stem>.png             the images (their size gives the annotation's shape)
    labelTxt/<stem>.txt           optional header lines ``imagesource:...`` and ``gsd:...``,
                                  then one object per line:
                                  ``x1 y1 x2 y2 x3 y3 x4 y4 category difficult``

Corners are absolute pixels, clockwise in image coordinates starting anywhere; the
category is a class name (DOTA's are hyphenated, e.g. ``small-vehicle``) and
``difficult`` is 0 or 1. Objects become ``RotatedBox`` entries of
``ImageAnnotation.rotated``; a quadrilateral that is not a rectangle (hand-clicked corners)
is replaced by its minimum-area rectangle and counted in the read report. Written values
keep 6 decimals, so reading what was written and writing it again gives the same bytes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..annotation import ImageAnnotation
from ..errors import FormatError, LabelsuiteError, ObjectKindError
from ..objects.rotated import RotatedBox, corners_to_rbox, rbox_to_corners
from ..taxonomy import Taxonomy
from ._common import ReadReport, StagedFiles, check_annotations, unique_stems

__all__ = ["read", "write"]

_IMAGE_EXTS = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")
_HEADERS = ("imagesource", "gsd")


def _five(rb: np.ndarray) -> tuple[float, float, float, float, float]:
    return (float(rb[0]), float(rb[1]), float(rb[2]), float(rb[3]), float(rb[4]))


def _fmt(v: float) -> str:
    s = f"{round(float(v), 6):.6f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def write(path: str | Path, annotations: list[ImageAnnotation], taxonomy: Taxonomy) -> list[Path]:
    """Write ``labelTxt/<stem>.txt`` for every 2D annotation's rotated boxes (all or none).

    ``metadata["dota"]`` (``imagesource``, ``gsd``) is written as the header lines.
    """
    root = Path(path)
    annotations = check_annotations(annotations, taxonomy, root)
    stems = unique_stems(annotations, root)
    with StagedFiles(root, replace=("labelTxt/*.txt",)) as stage:
        for ann, stem in zip(annotations, stems, strict=True):
            if ann.ndim != 2:
                raise FormatError(
                    "DOTA holds 2D images only", path=root, where=ann.image_name,
                    field="shape", value=ann.shape,
                )  # fmt: skip
            lines = []
            head = ann.metadata.get("dota") or {}
            lines += [f"{k}:{head[k]}" for k in _HEADERS if k in head]
            for i, rb in enumerate(ann.rotated):
                if rb.class_id not in taxonomy:
                    raise FormatError(
                        "class id is not in the taxonomy", path=root,
                        where=f"{ann.image_name}: rotated[{i}]", field="class_id",
                        value=rb.class_id,
                    )  # fmt: skip
                name = taxonomy[rb.class_id].name
                if any(ch.isspace() for ch in name):
                    raise FormatError(
                        "DOTA category names cannot contain spaces", path=root,
                        field="name", value=name,
                    )  # fmt: skip
                c = rb.corners().ravel()
                lines.append(" ".join(_fmt(v) for v in c) + f" {name} {int(rb.difficult)}")
            stage.write_text(f"labelTxt/{stem}.txt", "".join(f"{ln}\n" for ln in lines))
    return stage.written()


def _label_dir(root: Path) -> Path:
    if (root / "labelTxt").is_dir():
        return root / "labelTxt"
    if root.is_dir() and root.name == "labelTxt":
        return root
    raise FormatError("not a DOTA dataset: no labelTxt folder", path=root, field="labelTxt")


def _image_of(labels: Path, stem: str) -> Path | None:
    for folder in (labels.parent / "images", labels.parent):
        for ext in _IMAGE_EXTS:
            p = folder / f"{stem}{ext}"
            if p.is_file():
                return p
    return None


def _parse(f: Path, names: dict[str, int]) -> tuple[list[tuple[np.ndarray, str, bool]], dict]:
    rows: list[tuple[np.ndarray, str, bool]] = []
    head: dict[str, str] = {}
    from ..validate import decode_text, read_regular_bytes

    # regular files only (a pipe named *.txt never blocks), strict UTF-8 naming the line
    text = decode_text(read_regular_bytes(f, what="DOTA label file"), path=f)
    for ln, line in enumerate(text.splitlines(), start=1):
        s = line.strip()
        if not s:
            continue
        key = s.split(":", 1)[0]
        if ":" in s and key in _HEADERS:
            head[key] = s.split(":", 1)[1]
            continue
        tok = s.split()
        if len(tok) not in (9, 10):
            raise FormatError(
                "a row needs 8 corner values, a category and an optional difficult flag",
                path=f, where=f"line {ln}", field="values", value=line,
            )  # fmt: skip
        try:
            vals = np.array([float(t) for t in tok[:8]])
        except ValueError:
            raise FormatError("corners must be numbers", path=f, where=f"line {ln}",
                              value=line) from None  # fmt: skip
        if not np.isfinite(vals).all():
            raise FormatError("corners must be finite", path=f, where=f"line {ln}", value=line)
        diff = tok[9] if len(tok) == 10 else "0"
        if diff not in ("0", "1"):
            raise FormatError("difficult must be 0 or 1", path=f, where=f"line {ln}",
                              field="difficult", value=diff)  # fmt: skip
        names.setdefault(tok[8], len(names) + 1)
        rows.append((vals.reshape(4, 2), tok[8], diff == "1"))
    return rows, head


def read(
    path: str | Path,
    *,
    taxonomy: Taxonomy | None = None,
    image_size: tuple[int, int] | None = None,
    report: ReadReport | None = None,
) -> tuple[list[ImageAnnotation], Taxonomy]:
    """Read a DOTA folder (or its ``labelTxt`` folder) into annotations with rotated boxes.

    ``taxonomy`` maps category names to ids (default: one class per name, in order of
    first appearance). ``image_size=(height, width)`` is used where an image is missing.

    Raises
    ------
    FormatError
        Naming the file and line: malformed rows, bad ``difficult`` flags, unknown
        categories (with ``taxonomy``), degenerate boxes, unknown image sizes.
    """
    labels = _label_dir(Path(path))
    files = sorted(labels.glob("*.txt"))
    if not files:
        raise FormatError("no label files in labelTxt", path=labels, field="labelTxt")
    names: dict[str, int] = {}
    parsed = [(f, *_parse(f, names)) for f in files]
    if taxonomy is None:
        taxonomy = Taxonomy([{"id": i, "name": n} for n, i in names.items()])
    out: list[ImageAnnotation] = []
    repaired = 0
    for f, rows, head in parsed:
        img = _image_of(labels, f.stem)
        if img is not None:
            from PIL import Image

            try:
                with Image.open(img) as im:
                    hw = (im.size[1], im.size[0])
            except Exception as exc:  # PIL: OSError, ValueError, SyntaxError on broken headers
                raise FormatError(f"cannot read the image size: {exc}", path=img) from None
        elif image_size is not None:
            hw = (int(image_size[0]), int(image_size[1]))
        else:
            raise FormatError(
                "image size unknown: no image for this label file (pass image_size)",
                path=f, field="image",
            )  # fmt: skip
        rotated = []
        for i, (quad, name, diff) in enumerate(rows):
            try:
                cid = taxonomy.by_name(name).id
            except LabelsuiteError:
                raise FormatError(
                    "category is not in the taxonomy", path=f, where=f"object {i}",
                    field="category", value=name,
                ) from None  # fmt: skip
            try:
                rb = corners_to_rbox(quad[None], where=f"object {i}")[0]
            except ObjectKindError as exc:
                raise exc.replace(FormatError, path=f) from None
            if not np.allclose(rbox_to_corners(rb[None])[0], quad, atol=1e-4):
                repaired += 1
            rotated.append(
                RotatedBox(*_five(rb), class_id=cid, difficult=diff, source_corners=quad)
            )
        meta: dict[str, Any] = {"dota": head} if head else {}
        out.append(
            ImageAnnotation(
                img.name if img is not None else f.stem, hw, rotated=rotated, metadata=meta,
                image_path=str(img) if img is not None else None,
            )
        )  # fmt: skip
    if report is not None:
        report.layout = "dota"
        if repaired:
            report.note(
                f"{repaired} quadrilaterals were not rectangles: replaced by their "
                "minimum-area rectangle"
            )
    return out, taxonomy
