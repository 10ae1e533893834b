"""Pascal VOC XML: one file per image (per plane for stacks), boxes only.

Corners are written 1-based and inclusive, as VOC loaders expect: a box covering pixel
columns ``c0..c1-1`` is ``xmin = c0 + 1``, ``xmax = c1``. ``truncated``, ``difficult`` and
``occluded`` come from the box's attributes of those names; every attribute is also kept
(JSON-encoded) under ``<attributes>`` as CVAT does. Stacks are written one XML per plane
(the first plane always, then every plane with boxes), each naming its source image and
plane under ``<labelsuite>``. An image annotated only with instances is written with
one box per instance (``instance_id`` kept). The taxonomy is written next to ``Annotations/`` as
``taxonomy.yaml``; without it, classes are numbered in order of first appearance.

Files from other tools: a file without ``<size>`` (or with a zero size) takes the size of
its image (``<path>``, or ``<filename>`` next to the XML, in ``JPEGImages/`` or
``images/``); it is an error only when no image is found. Roboflow writes 0-based corners
(``xmin`` 0): when any box of a dataset without ``<labelsuite>`` records has a 0 corner,
every file of it is read as 0-based pixel edges, and the import report says so.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from ..annotation import Box, ImageAnnotation
from ..boxes import boxes_from_instances
from ..errors import FormatError, TaxonomyError
from ..taxonomy import Taxonomy
from ._common import (
    ReadReport,
    StagedFiles,
    check_annotations,
    plane_label,
    planes,
    unique_stems,
    validate_read,
)

__all__ = ["TAXONOMY_FILE", "read", "write"]

TAXONOMY_FILE = "taxonomy.yaml"
_FLAGS = ("truncated", "difficult", "occluded")
_REVIEW = ("instance_id", "status", "reviewer", "reviewed_at")


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else repr(float(v))


def _sub(parent: ET.Element, tag: str, text: Any = None) -> ET.Element:
    el = ET.SubElement(parent, tag)
    if text is not None:
        el.text = str(text)
    return el


# -- writing --------------------------------------------------------------------------
def write(
    path: str | Path, annotations: list[ImageAnnotation], taxonomy: Taxonomy, *, depth: int = 3
) -> list[Path]:
    """Write ``Annotations/<stem>.xml`` files and ``taxonomy.yaml`` under ``path``.

    Parameters
    ----------
    depth : int
        The ``<size><depth>`` written (number of image channels).

    Returns
    -------
    list of Path
        The files written (all or none).
    """
    import yaml

    root = Path(path)
    annotations = check_annotations(annotations, taxonomy, root)
    stems = unique_stems(annotations, root)
    with StagedFiles(root, replace=("Annotations/*.xml", TAXONOMY_FILE)) as stage:
        stage.write_text(
            TAXONOMY_FILE, yaml.safe_dump(taxonomy.to_dict(), sort_keys=False, allow_unicode=True)
        )
        for ann, stem in zip(annotations, stems):
            # VOC holds boxes only: an image annotated with instances exports their boxes
            all_boxes = ann.boxes
            if not all_boxes and ann.instances is not None:
                all_boxes = boxes_from_instances(ann.instances, ann.objects)
            for plane in planes(ann):
                boxes = [b for b in all_boxes if b.plane == tuple(plane)]
                if plane and any(plane) and not boxes:
                    continue
                name = stem + plane_label(ann, plane)
                xml = _xml(ann, plane, boxes, taxonomy, depth)
                stage.write_text(f"Annotations/{name}.xml", xml)
    return stage.written()


def _xml(ann: ImageAnnotation, plane, boxes: list[Box], taxonomy: Taxonomy, depth: int) -> str:
    h, w = ann.plane_shape
    root = ET.Element("annotation")
    p = Path(str(ann.image_name).replace("\\", "/"))  # a Windows path names its file too
    _sub(root, "folder", "JPEGImages")
    _sub(root, "filename", p.stem + plane_label(ann, plane) + p.suffix if plane else p.name)
    size = _sub(root, "size")
    _sub(size, "width", w)
    _sub(size, "height", h)
    _sub(size, "depth", depth)
    _sub(root, "segmented", 0)
    ls = _sub(root, "labelsuite")
    _sub(ls, "source_image", ann.image_name)
    _sub(ls, "plane", " ".join(str(v) for v in plane))
    _sub(ls, "source_shape", " ".join(str(v) for v in ann.shape))
    _sub(ls, "axes", ann.axes)
    if ann.image_path:
        _sub(ls, "image_path", ann.image_path)
    if ann.metadata and (not plane or not any(plane)):
        _sub(ls, "metadata", json.dumps(ann.metadata))
    for b in boxes:
        obj = _sub(root, "object")
        _sub(obj, "name", taxonomy[b.class_id].name)
        _sub(obj, "pose", b.attributes.get("pose", "Unspecified"))
        for flag in _FLAGS:
            _sub(obj, flag, int(bool(b.attributes.get(flag, False))))
        bb = _sub(obj, "bndbox")
        _sub(bb, "xmin", _num(b.x0 + 1))
        _sub(bb, "ymin", _num(b.y0 + 1))
        _sub(bb, "xmax", _num(b.x1))
        _sub(bb, "ymax", _num(b.y1))
        attrs = _sub(obj, "attributes")
        for k, v in b.attributes.items():
            a = _sub(attrs, "attribute")
            _sub(a, "name", k)
            _sub(a, "value", json.dumps(v))
        meta = _sub(obj, "labelsuite")
        for k in _REVIEW:
            v = getattr(b, k)
            if v not in (None, "todo", 0):
                _sub(meta, k, v)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode") + "\n"


# -- reading --------------------------------------------------------------------------
def read(
    path: str | Path, *, report: ReadReport | None = None
) -> tuple[list[ImageAnnotation], Taxonomy]:
    """Read one VOC XML file or a directory of them (``Annotations/`` or flat).

    Raises
    ------
    FormatError
        Naming the file, the line or object and the field: malformed XML, missing
        ``size``/``bndbox`` fields, non-numeric corners, boxes outside the image or
        inverted, class names missing from ``taxonomy.yaml``.
    """
    p = Path(path)
    if p.is_file():
        files, base = [p], p.parent
    else:
        ann_dir = p / "Annotations" if (p / "Annotations").is_dir() else p
        files, base = sorted(ann_dir.glob("*.xml")), p
        if not files:
            raise FormatError("no VOC XML files found", path=ann_dir)
    tax_path = next(
        (c for c in (base / TAXONOMY_FILE, base.parent / TAXONOMY_FILE) if c.is_file()), None
    )
    tax = None
    if tax_path is not None:
        try:
            tax = Taxonomy.load(tax_path)
        except TaxonomyError as exc:
            raise exc.replace(FormatError, path=tax_path) from exc
    parsed = [_parse(f, base) for f in files]
    foreign = [objs for (_, _, _, _, extra), objs in parsed if not extra.get("labelsuite")]
    zero_based = any(c[0] == 0 or c[1] == 0 for objs in foreign for _, _, c, _ in objs)
    if zero_based and report is not None:
        n = sum(1 for objs in foreign if any(c[0] == 0 or c[1] == 0 for _, _, c, _ in objs))
        report.note(
            f"{n} file(s) have boxes with xmin or ymin 0, so the corners looked 0-based "
            "(Roboflow) and were read as 0-based pixel edges"
        )
    sized = [f.name for f, ((*_, extra), _) in zip(files, parsed) if extra.get("size_from")]
    if sized and report is not None:
        report.note(f"{len(sized)} file(s) have no <size>: the size was read from the image")
    parsed = [
        (head, [(w, n, _box(f, w, c, head[1], zero_based and not head[4].get("labelsuite"), a))
                for w, n, c, a in objs])
        for f, (head, objs) in zip(files, parsed)
    ]  # fmt: skip
    for head, _ in parsed:
        head[4].pop("labelsuite", None)
        head[4].pop("size_from", None)
    if tax is None:
        names: dict[str, None] = {}
        for _, objs in parsed:
            for _, name, _ in objs:
                names.setdefault(name, None)
        tax = Taxonomy([{"id": i + 1, "name": n} for i, n in enumerate(names)])
    sources: dict[str, ImageAnnotation] = {}
    for f, ((src, shape, axes, plane, extra), objs) in zip(files, parsed):
        ann = sources.get(src)
        if ann is None:
            ann = sources[src] = ImageAnnotation(src, shape, axes, **extra)
        elif ann.shape != shape:
            raise FormatError(
                f"source image '{src}' has different sizes in different files",
                path=f,
                field="source_shape",
                value=shape,
            )
        else:
            ann.metadata = ann.metadata or extra.get("metadata", {})
        for where, name, box in objs:
            try:
                box.class_id = tax.by_name(name).id
            except TaxonomyError:
                raise FormatError(
                    "class name is not in the taxonomy",
                    path=f,
                    where=where,
                    field="name",
                    value=name,
                ) from None
            box.plane = plane
            ann.boxes.append(box)
    out = list(sources.values())
    validate_read(out, tax, p)
    return out, tax


def _text(el: ET.Element, tag: str, f: Path, where: str, required: bool = True) -> str | None:
    child = el.find(tag)
    if child is None or child.text is None or not child.text.strip():
        if required:
            raise FormatError(f"missing <{tag}>", path=f, where=where, field=tag)
        return None
    return child.text.strip()


def _number(el: ET.Element, tag: str, f: Path, where: str) -> float:
    s = _text(el, tag, f, where) or ""  # required: never empty
    try:
        return float(s)
    except ValueError:
        raise FormatError("must be a number", path=f, where=where, field=tag, value=s) from None


def _ints(s: str | None) -> tuple[int, ...]:
    return tuple(int(v) for v in s.split()) if s else ()


def _image_for(f: Path, base: Path, root: ET.Element) -> Path | None:
    """The image of a VOC file: its ``<path>``, else ``<filename>`` in the usual folders."""
    cands = []
    p = _text(root, "path", f, "annotation", required=False)
    if p:
        cands += [Path(p), f.parent / Path(p.replace("\\", "/")).name]
    name = _text(root, "filename", f, "annotation", required=False)
    if name:
        for d in (f.parent, f.parent.parent / "JPEGImages", base / "JPEGImages", base / "images",
                  f.parent.parent / "images", base):  # fmt: skip
            cands.append(d / name)
    return next((c for c in cands if c.is_file()), None)


def _size_from_image(f: Path, base: Path, root: ET.Element) -> tuple[int, int]:
    img = _image_for(f, base, root)
    if img is None:
        raise FormatError(
            "missing <size> and no image found to take it from (looked for <path> and "
            "<filename> next to the file, in JPEGImages/ and images/)",
            path=f,
            where="annotation",
            field="size",
        )
    try:
        from PIL import Image

        with Image.open(img) as im:
            w, h = im.size
    except Exception as exc:
        raise FormatError(f"cannot read image size: {exc}", path=img) from None
    return int(w), int(h)


def _box(
    f: Path, where: str, corners: tuple[float, ...], shape: tuple[int, ...], zero_based: bool,
    extra: tuple[dict[str, Any], dict[str, Any]],
) -> Box:  # fmt: skip
    h, w = shape[-2:]
    xmin, ymin, xmax, ymax = corners
    x0, y0 = (xmin, ymin) if zero_based else (xmin - 1, ymin - 1)
    convention = "0-based" if zero_based else "1-based"
    if xmax <= x0 or ymax <= y0:
        raise FormatError(
            f"inverted or empty box ({convention} corners)",
            path=f,
            where=where,
            field="bndbox",
            value=(xmin, ymin, xmax, ymax),
        )
    if x0 < 0 or y0 < 0 or xmax > w or ymax > h:
        raise FormatError(
            f"box lies outside the {w}x{h} image ({convention} corners)",
            path=f,
            where=where,
            field="bndbox",
            value=(xmin, ymin, xmax, ymax),
        )
    attrs, review = extra
    return Box(x0, y0, xmax, ymax, class_id=0, attributes=attrs, **review)


def _parse(f: Path, base: Path):
    from ..validate import parse_xml, read_regular_bytes

    # parsed from bytes, so that the file's own encoding declaration is honoured
    data = read_regular_bytes(f, what="VOC file")
    root = parse_xml(data, path=f)  # entity declarations (bombs, XXE) refused
    if root.tag != "annotation":
        raise FormatError(
            "root element must be <annotation>", path=f, field="annotation", value=root.tag
        )
    size = root.find("size")
    size_from = None
    if size is None or _text(size, "width", f, "size", required=False) in (None, "0"):
        w, h = (float(v) for v in _size_from_image(f, base, root))
        size_from = "image"
    else:
        w = _number(size, "width", f, "size")
        h = _number(size, "height", f, "size")
    if w <= 0 or h <= 0 or not w.is_integer() or not h.is_integer():
        raise FormatError(
            "width and height must be positive integers",
            path=f,
            where="size",
            field="width",
            value=(w, h),
        )
    w, h = int(w), int(h)
    filename = _text(root, "filename", f, "annotation", required=False) or f.stem
    ls = root.find("labelsuite")
    src, axes = filename, ""
    shape: tuple[int, ...] = (h, w)
    plane: tuple[int, ...] = ()
    extra: dict[str, Any] = {}
    if ls is not None:
        try:
            src = _text(ls, "source_image", f, "labelsuite") or filename
            shape = _ints(_text(ls, "source_shape", f, "labelsuite", required=False)) or (h, w)
            plane = _ints(_text(ls, "plane", f, "labelsuite", required=False))
            axes = _text(ls, "axes", f, "labelsuite", required=False) or ""
            meta = _text(ls, "metadata", f, "labelsuite", required=False)
        except ValueError as exc:
            raise FormatError(
                f"invalid <labelsuite> record: {exc}", path=f, where="labelsuite"
            ) from None
        if shape[-2:] != (h, w) or len(plane) != len(shape) - 2:
            raise FormatError(
                "<size> does not match <labelsuite><source_shape>",
                path=f,
                where="labelsuite",
                field="source_shape",
                value=shape,
            )
        extra["image_path"] = _text(ls, "image_path", f, "labelsuite", required=False)
        extra["labelsuite"] = True
        if meta:
            from ..validate import parse_json

            doc = parse_json(meta, path=f)
            if not isinstance(doc, dict):
                raise FormatError("must be a JSON object", path=f, where="labelsuite",
                                  field="metadata", value=meta)  # fmt: skip
            extra["metadata"] = doc
    if size_from:
        extra["size_from"] = size_from
    from ..validate import parse_json

    objs = []
    for i, obj in enumerate(root.findall("object")):
        where = f"object[{i}]"
        name = _text(obj, "name", f, where)
        bb = obj.find("bndbox")
        if bb is None:
            raise FormatError("missing <bndbox>", path=f, where=where, field="bndbox")
        corners = tuple(_number(bb, t, f, where) for t in ("xmin", "ymin", "xmax", "ymax"))
        attrs_el = obj.find("attributes")
        attrs: dict[str, Any] = {}
        if attrs_el is not None:
            for a in attrs_el.findall("attribute"):
                key = _text(a, "name", f, where) or ""  # required: never empty
                raw = _text(a, "value", f, where, required=False) or ""
                try:
                    attrs[key] = parse_json(raw, path=f)
                except FormatError:  # a plain text value
                    attrs[key] = raw
        else:
            for flag in _FLAGS:
                v = _text(obj, flag, f, where, required=False)
                if v is not None:
                    attrs[flag] = v not in ("0", "false", "False")
        review: dict[str, Any] = {}
        meta_el = obj.find("labelsuite")
        if meta_el is not None:
            for k in _REVIEW:
                v = _text(meta_el, k, f, where, required=False)
                if v is not None and k == "instance_id":
                    if not v.isdigit():
                        raise FormatError("must be a positive integer", path=f, where=where,
                                          field="instance_id", value=v)  # fmt: skip
                    review[k] = int(v)
                elif v is not None:
                    review[k] = v
        objs.append((where, name, corners, (attrs, review)))
    return (src, shape, axes, plane, extra), objs
