"""CVAT XML 1.1 ("CVAT for images", and tracks of "CVAT for video").

Reading
    ``<box>`` becomes a box; ``<polygon>`` an instance rasterised by pycocotools' rule
    (its vertices kept in ``ann.polygons``);
    ``<mask>`` an instance from CVAT's run-length ``rle`` (row-major counts over the
    inclusive box ``left, top, width, height``, starting with background); ``<points>``
    points and ``<polyline>`` a polyline (kept in ``metadata["points"]`` /
    ``metadata["polylines"]``); ``<tag>`` an image tag (``metadata["tags"]``). Area shapes
    are painted by ``z_order`` (higher on top, then file order). Polygons and masks with the
    same label and ``group_id`` are one instance, and a box of that label in that group is
    its linked box. ``occluded``, ``z_order``, ``group_id`` and every ``<attribute>`` become
    attributes (``true`` / ``false`` as booleans). ``<track>`` elements (video) are read as
    one object per frame where the track is not ``outside``, with a ``track_id`` attribute;
    frames are images named ``frame_000000`` ... sized by ``<original_size>``. Classes
    follow ``<meta>``'s labels (with their colours), then unknown names in order of
    appearance.

Writing
    ``<annotations><version>1.1</version><meta>`` with the labels, then one ``<image>`` per
    2D image: instances with their own polygons (``ann.polygons``) that still describe
    their mask with those vertices, other instances without holes as traced polygons (one
    per part, grouped), the rest as ``<mask>``; boxes, points and polylines as read.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np

from ..annotation import Box, ImageAnnotation, ObjectInfo
from ..errors import FormatError, TaxonomyError
from ..fileio import atomic_write_text
from ..objects.polygons import Polygon, Ring
from ..taxonomy import Taxonomy, color_to_hex
from . import rle
from ._common import (
    ReadReport,
    check_annotations,
    has_holes,
    iter_instance_crops,
    mask_polygons,
    outline_index,
    validate_read,
)

__all__ = ["is_cvat", "mask_from_rle", "mask_to_rle", "read", "write"]

_AREA = ("polygon", "mask")
_KNOWN = ("box", "polygon", "mask", "points", "polyline", "tag", "skeleton", "ellipse", "cuboid")


def is_cvat(root: ET.Element) -> bool:
    return root.tag == "annotations" and (
        root.find("image") is not None
        or root.find("track") is not None
        or root.find("meta") is not None
    )


# -- CVAT mask RLE ----------------------------------------------------------------------
def mask_from_rle(counts: list[int], height: int, width: int) -> np.ndarray:
    """A ``(height, width)`` mask from CVAT counts (row-major, background first)."""
    c = np.asarray(counts, dtype=np.int64)
    if (c < 0).any() or int(c.sum()) != height * width:
        raise ValueError(f"counts cover {int(c.sum())} pixels, the box has {height * width}")
    values = np.arange(len(c)) % 2 == 1
    return np.repeat(values, c).reshape(height, width)


def mask_to_rle(mask: np.ndarray) -> list[int]:
    """CVAT counts of a 2D mask (row-major, background first)."""
    flat = np.asarray(mask, bool).ravel()
    edges = np.flatnonzero(np.diff(flat.astype(np.int8))) + 1
    bounds = np.concatenate([[0], edges, [flat.size]])
    counts = np.diff(bounds).tolist()
    if flat.size and flat[0]:
        counts = [0, *counts]
    return [int(v) for v in counts]


# -- reading ----------------------------------------------------------------------------
def _float_pairs(s: str | None, f: Path, where: str) -> np.ndarray:
    try:
        pts = [[float(v) for v in p.split(",")] for p in (s or "").split(";") if p.strip()]
        arr = np.asarray(pts, dtype=np.float64)
    except ValueError:
        arr = np.zeros((0, 0))
    if arr.ndim != 2 or arr.shape[1] != 2 or not np.isfinite(arr).all():
        raise FormatError(
            "points must be 'x,y;x,y;...'", path=f, where=where, field="points", value=s
        )
    return arr


def _num(el: ET.Element, key: str, f: Path, where: str) -> float:
    v = el.get(key)
    try:
        out = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise FormatError("must be a number", path=f, where=where, field=key, value=v) from None
    if not np.isfinite(out):
        raise FormatError("must be a finite number", path=f, where=where, field=key, value=v)
    return out


def _value(text: str | None) -> Any:
    t = (text or "").strip()
    return {"true": True, "false": False}.get(t.lower(), t)


def _attrs(el: ET.Element) -> dict[str, Any]:
    attrs: dict[str, Any] = {}
    if el.get("occluded") is not None:
        attrs["occluded"] = el.get("occluded") == "1"
    for key in ("z_order", "group_id"):
        if el.get(key) not in (None, "", "0"):
            try:
                attrs[key] = int(el.get(key))  # type: ignore[arg-type]
            except ValueError:
                attrs[key] = el.get(key)
    for a in el.findall("attribute"):
        if a.get("name"):
            attrs[a.get("name")] = _value(a.text)  # type: ignore[index]
    return attrs


def _meta_classes(root: ET.Element) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    seen = set()
    for lab in root.iter("label"):
        name = (lab.findtext("name") or "").strip()
        if not name or name in seen:
            continue
        seen.add(name)
        d: dict[str, Any] = {"id": len(out) + 1, "name": name}
        color = (lab.findtext("color") or "").strip()
        if color.startswith("#") and len(color) == 7:
            d["color"] = color
        out.append(d)
    return out


def read(
    path: str | Path, *, report: ReadReport | None = None
) -> tuple[list[ImageAnnotation], Taxonomy]:
    """Read a CVAT XML 1.1 file (or a folder holding ``annotations.xml``).

    Raises
    ------
    FormatError
        Naming the file, the image / shape and the field: malformed XML, a root that is
        not ``<annotations>``, missing sizes, non-numeric coordinates, mask counts that do
        not fill their box.
    """
    p = Path(path)
    f = p / "annotations.xml" if p.is_dir() else p
    from ..validate import parse_xml, read_regular_bytes

    # parsed from bytes, so that the file's own encoding declaration is honoured
    data = read_regular_bytes(f, what="CVAT file")
    root = parse_xml(data, path=f)  # entity declarations (bombs, XXE) refused
    if root.tag != "annotations":
        raise FormatError(
            "root element must be <annotations>", path=f, field="annotations", value=root.tag
        )
    meta = root.find("meta")
    classes = _meta_classes(meta if meta is not None else ET.Element("meta"))
    names = {c["name"] for c in classes}
    for el in root.iter():
        lab = el.get("label")
        if el.tag in _KNOWN + ("track",) and lab and lab not in names:
            names.add(lab)
            classes.append({"id": len(classes) + 1, "name": lab})
    try:
        tax = Taxonomy(classes)
    except TaxonomyError as exc:
        raise exc.replace(FormatError, path=f, where="meta") from exc
    out: list[ImageAnnotation] = []
    skipped: set[str] = set()
    for i, img in enumerate(root.findall("image")):
        where = f"image[{i}]"
        w, h = (_num(img, k, f, where) for k in ("width", "height"))
        if w <= 0 or h <= 0 or not w.is_integer() or not h.is_integer():
            raise FormatError(
                "width and height must be positive integers",
                path=f,
                where=where,
                field="width",
                value=(w, h),
            )
        name = img.get("name") or f"image{img.get('id', i)}"
        shapes = [(el, where + f" {el.tag}[{j}]") for j, el in enumerate(img)]
        out.append(_image(f, name, int(h), int(w), shapes, tax, skipped))
    tracks = root.findall("track")
    if tracks:
        out += _tracks(f, root, tracks, tax, skipped)
    if skipped and report is not None:
        report.note(f"shape types not read: {', '.join(sorted(skipped))}")
    validate_read(out, tax, f)
    return out, tax


def _tracks(
    f: Path, root: ET.Element, tracks: list[ET.Element], tax: Taxonomy, skipped: set[str]
) -> list[ImageAnnotation]:
    size = root.find(".//original_size")
    if size is None:
        raise FormatError(
            "tracks need <meta>...<original_size>", path=f, where="meta", field="original_size"
        )
    w = int(_num(ET.Element("s", {"w": size.findtext("width") or ""}), "w", f, "original_size"))
    h = int(_num(ET.Element("s", {"h": size.findtext("height") or ""}), "h", f, "original_size"))
    frames: dict[int, list[tuple[ET.Element, str]]] = {}
    for t, tr in enumerate(tracks):
        for j, el in enumerate(tr):
            if el.get("outside") == "1":
                continue
            shape = ET.Element(el.tag, dict(el.attrib))
            shape.set("label", tr.get("label", ""))
            if tr.get("group_id"):
                shape.set("group_id", tr.get("group_id", ""))
            shape.extend(list(el))
            ET.SubElement(shape, "attribute", {"name": "track_id"}).text = tr.get("id", str(t))
            frame = int(_num(el, "frame", f, f"track[{t}] {el.tag}[{j}]"))
            frames.setdefault(frame, []).append((shape, f"track[{t}] {el.tag}[{j}]"))
    return [
        _image(f, f"frame_{k:06d}", h, w, frames[k], tax, skipped, track=True)
        for k in sorted(frames)
    ]


def _image(
    f: Path,
    name: str,
    h: int,
    w: int,
    shapes: list[tuple[ET.Element, str]],
    tax: Taxonomy,
    skipped: set[str],
    track: bool = False,
) -> ImageAnnotation:
    labels_t = np.zeros((w, h), np.int32)
    flat = labels_t.reshape(-1)
    objects: dict[int, ObjectInfo] = {}
    boxes: list[Box] = []
    pending: list[tuple[Box, tuple[str, Any]]] = []
    points: list[dict[str, Any]] = []
    lines: list[dict[str, Any]] = []
    tags: list[str] = []
    groups: dict[tuple[str, Any], int] = {}
    area: list[tuple[int, int, ET.Element, str, int]] = []
    polygons: list[Polygon] = []
    for order, (el, where) in enumerate(shapes):
        if el.tag not in _KNOWN or el.tag in ("skeleton", "cuboid"):
            if el.tag != "attribute":
                skipped.add(el.tag)
            continue
        label = el.get("label")
        if not label:
            raise FormatError("shape has no label", path=f, where=where, field="label")
        cid = tax.by_name(label).id
        attrs = _attrs(el)
        if el.tag == "tag":
            tags.append(label)
            continue
        if el.tag == "box":
            x0, y0, x1, y1 = (_num(el, k, f, where) for k in ("xtl", "ytl", "xbr", "ybr"))
            x0, y0, x1, y1 = max(x0, 0.0), max(y0, 0.0), min(x1, float(w)), min(y1, float(h))
            if el.get("rotation") not in (None, "0", "0.0"):
                attrs["rotation"] = _num(el, "rotation", f, where)
            box = Box(x0, y0, x1, y1, class_id=cid, attributes=attrs)
            boxes.append(box)
            if attrs.get("group_id"):
                pending.append((box, (label, attrs["group_id"])))
            continue
        if el.tag == "points":
            for q, (x, y) in enumerate(_float_pairs(el.get("points"), f, where).tolist()):
                points.append(
                    {
                        "xy": [x, y],
                        "class_id": cid,
                        "attributes": {**attrs, "shape": order, "index": q},
                    }
                )
            continue
        if el.tag == "polyline":
            xy = _float_pairs(el.get("points"), f, where)
            lines.append(
                {"xy": xy.tolist(), "class_id": cid, "kind": "polyline", "attributes": attrs}
            )
            continue
        gid = attrs.get("group_id")
        key = (label, gid) if gid else None
        if key is not None and key in groups:
            k = groups[key]
        else:
            k = len(objects) + 1
            objects[k] = ObjectInfo(cid, attrs)
            if key is not None:
                groups[key] = k
        z = attrs.get("z_order", 0)
        area.append((z if isinstance(z, int) else 0, order, el, where, k))
    for _, _, el, where, k in sorted(area, key=lambda t: (t[0], t[1])):
        if el.tag == "ellipse":
            _paint_ellipse(labels_t, el, f, where, k)
        elif el.tag == "polygon":
            xy = _float_pairs(el.get("points"), f, where)
            if len(xy) < 3:
                raise FormatError(
                    "a polygon needs at least 3 points",
                    path=f,
                    where=where,
                    field="points",
                    value=el.get("points"),
                )
            _, col, r0, r1 = rle.polygon_runs([xy], h, w)
            flat[rle.run_pixels(col, r0, r1, h)] = k
            info = objects[k]
            polygons.append(Polygon(Ring(xy), info.class_id, k, (), info.status,
                                    dict(info.attributes)))  # fmt: skip
        else:
            left, top, mw, mh = (
                int(_num(el, key, f, where)) for key in ("left", "top", "width", "height")
            )
            try:
                counts = [int(v) for v in (el.get("rle") or "").split(",") if v.strip()]
                m = mask_from_rle(counts, mh, mw)
            except ValueError as exc:
                raise FormatError(
                    f"invalid mask rle: {exc}",
                    path=f,
                    where=where,
                    field="rle",
                    value=(el.get("rle") or "")[:40],
                ) from None
            sub = labels_t[max(left, 0) : left + mw, max(top, 0) : top + mh]
            crop = m[
                max(-top, 0) : max(-top, 0) + sub.shape[1],
                max(-left, 0) : max(-left, 0) + sub.shape[0],
            ]
            sub[crop.T] = k
    for box, key in pending:
        box.instance_id = groups.get(key, 0)
    labels = np.ascontiguousarray(labels_t.T)
    if objects:
        present = set(np.unique(labels).tolist())
        objects = {k: o for k, o in objects.items() if k in present}
    polygons = [pg for pg in polygons if pg.instance_id in objects]
    meta: dict[str, Any] = {}
    if points:
        meta["points"] = points
    if lines:
        meta["polylines"] = lines
    if tags:
        meta["tags"] = tags
    return ImageAnnotation(
        name,
        (h, w),
        instances=labels if objects else None,
        objects=objects,
        boxes=boxes,
        metadata=meta,
        polygons=polygons,
    )


def _paint_ellipse(labels_t: np.ndarray, el: ET.Element, f: Path, where: str, k: int) -> None:
    """Paint the pixels whose centre lies inside a CVAT ellipse (``cx, cy, rx, ry``, and
    ``rotation`` in degrees, clockwise on screen) into a column-major plane."""
    cx, cy, rx, ry = (_num(el, key, f, where) for key in ("cx", "cy", "rx", "ry"))
    rot = _num(el, "rotation", f, where) if el.get("rotation") else 0.0
    if rx <= 0 or ry <= 0:
        raise FormatError(
            "ellipse radii must be positive", path=f, where=where, field="rx", value=(rx, ry)
        )
    w, h = labels_t.shape
    reach = max(rx, ry)
    c0, c1 = max(int(np.floor(cx - reach)), 0), min(int(np.ceil(cx + reach)) + 1, w)
    r0, r1 = max(int(np.floor(cy - reach)), 0), min(int(np.ceil(cy + reach)) + 1, h)
    if c1 <= c0 or r1 <= r0:
        return
    cc, rr = np.meshgrid(np.arange(c0, c1) + 0.5 - cx, np.arange(r0, r1) + 0.5 - cy, indexing="ij")
    t = np.deg2rad(rot)
    # undo the rotation (clockwise with y pointing down is the usual rotation matrix)
    u = cc * np.cos(t) + rr * np.sin(t)
    v = -cc * np.sin(t) + rr * np.cos(t)
    inside = (u / rx) ** 2 + (v / ry) ** 2 <= 1
    labels_t[c0:c1, r0:r1][inside] = k


# -- writing ----------------------------------------------------------------------------
def _fmt(v: float) -> str:
    return f"{float(v):.2f}" if float(v) * 100 == int(float(v) * 100) else repr(float(v))


def _shape_el(
    parent: ET.Element, tag: str, label: str, attrs: dict[str, Any], **xml: str
) -> ET.Element:
    attrs = dict(attrs)
    occluded = "1" if attrs.pop("occluded", False) else "0"
    el = ET.SubElement(parent, tag, {"label": label, "source": "manual", "occluded": occluded})
    for key, val in xml.items():
        el.set(key, val)
    el.set("z_order", str(attrs.pop("z_order", 0)))
    gid = attrs.pop("group_id", None)
    if gid:
        el.set("group_id", str(gid))
    for k, v in attrs.items():
        if k in ("shape", "index"):
            continue
        a = ET.SubElement(el, "attribute", {"name": k})
        a.text = ("true" if v else "false") if isinstance(v, bool) else str(v)
    return el


def to_xml(annotations: list[ImageAnnotation], taxonomy: Taxonomy) -> str:
    """The CVAT XML 1.1 document (see the module doc)."""
    root = ET.Element("annotations")
    ET.SubElement(root, "version").text = "1.1"
    meta = ET.SubElement(ET.SubElement(root, "meta"), "task")
    ET.SubElement(meta, "size").text = str(len(annotations))
    labels_el = ET.SubElement(meta, "labels")
    for c in taxonomy:
        lab = ET.SubElement(labels_el, "label")
        ET.SubElement(lab, "name").text = c.name
        if c.color is not None:
            ET.SubElement(lab, "color").text = color_to_hex(c.color)[:7]
        ET.SubElement(lab, "attributes")
    for i, ann in enumerate(annotations):
        if ann.ndim != 2:
            raise FormatError(
                "CVAT for images holds 2D images",
                where=ann.image_name,
                field="shape",
                value=ann.shape,
            )
        h, w = ann.plane_shape
        img = ET.SubElement(
            root,
            "image",
            {"id": str(i), "name": ann.image_name, "width": str(w), "height": str(h)},
        )
        linked = {b.instance_id for b in ann.boxes if b.instance_id}
        group_of: dict[int, Any] = {}
        outlines = outline_index(ann)
        if ann.instances is not None:
            for k, sl, obj, crop in iter_instance_crops(ann, np.asarray(ann.instances)):
                name = taxonomy[obj.class_id].name
                r0, c0 = sl[0].start, sl[1].start
                attrs = dict(obj.attributes)
                own = outlines.kept((), k, crop, sl)
                if own is not None and not any(p.ring.hole for p in own):
                    polys = [p.ring.xy for p in own]  # its own vertices (file or drawn)
                else:
                    polys = [] if has_holes(crop) else mask_polygons(crop, r0, c0)
                if len(polys) > 1 or k in linked:
                    attrs["group_id"] = attrs.get("group_id") or k
                    group_of[k] = attrs["group_id"]
                if not polys:
                    ch, cw = crop.shape
                    rle_text = ", ".join(str(v) for v in mask_to_rle(crop))
                    _shape_el(
                        img,
                        "mask",
                        name,
                        attrs,
                        rle=rle_text,
                        left=str(c0),
                        top=str(r0),
                        width=str(cw),
                        height=str(ch),
                    )
                for poly in polys:
                    pts = ";".join(f"{_fmt(x)},{_fmt(y)}" for x, y in poly)
                    _shape_el(img, "polygon", name, attrs, points=pts)
        for b in ann.boxes:
            attrs = dict(b.attributes)
            if b.instance_id:
                attrs["group_id"] = group_of.get(b.instance_id, b.instance_id)
            _shape_el(
                img,
                "box",
                taxonomy[b.class_id].name,
                attrs,
                xtl=_fmt(b.x0),
                ytl=_fmt(b.y0),
                xbr=_fmt(b.x1),
                ybr=_fmt(b.y1),
            )
        shapes: dict[Any, list[dict[str, Any]]] = {}
        for pt in ann.metadata.get("points") or ():
            shapes.setdefault((pt.get("attributes") or {}).get("shape", id(pt)), []).append(pt)
        for group in shapes.values():
            text = ";".join(f"{_fmt(p['xy'][0])},{_fmt(p['xy'][1])}" for p in group)
            _shape_el(
                img,
                "points",
                taxonomy[group[0]["class_id"]].name,
                group[0].get("attributes") or {},
                points=text,
            )
        for ln in ann.metadata.get("polylines") or ():
            text = ";".join(f"{_fmt(x)},{_fmt(y)}" for x, y in ln["xy"])
            _shape_el(
                img,
                "polyline",
                taxonomy[ln["class_id"]].name,
                ln.get("attributes") or {},
                points=text,
            )
        for tag in ann.metadata.get("tags") or ():
            ET.SubElement(img, "tag", {"label": tag, "source": "manual"})
    ET.indent(root)
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
    )


def write(path: str | Path, annotations: list[ImageAnnotation], taxonomy: Taxonomy) -> list[Path]:
    """Write one CVAT XML 1.1 file (``annotations.xml`` inside ``path`` when it is a folder)."""
    p = Path(path)
    if p.suffix.lower() != ".xml":
        p = p / "annotations.xml"
    annotations = check_annotations(annotations, taxonomy, p)
    atomic_write_text(p, to_xml(annotations, taxonomy))
    return [p]
