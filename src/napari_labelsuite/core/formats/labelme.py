"""labelme JSON: one file per image with ``shapes`` (polygon, rectangle, circle, point, line,
linestrip, mask).

Reading
    ``polygon`` shapes become instances, rasterised by pycocotools' rule (the same masks as
    labelme2coco + ``annToMask``), with their vertices kept in ``ann.polygons``; shapes
    that share a ``label`` and a ``group_id`` are one instance (labelme's own grouping),
    and a ``rectangle`` in such a group is that instance's linked box. ``rectangle``
    otherwise becomes a box; ``circle`` (centre and a point on the rim) an instance of the
    pixels whose centre lies inside; ``mask`` (base64 PNG over the inclusive box
    ``[[x1, y1], [x2, y2]]``, as labelme writes it) an instance with exactly those pixels;
    ``point`` a point and ``line`` / ``linestrip`` a polyline (kept in
    ``metadata["points"]`` / ``metadata["polylines"]``). Shape ``flags`` and
    ``description`` become attributes; the image ``flags`` go to ``metadata["flags"]``. The
    image size comes from ``imageHeight`` / ``imageWidth``, else from the embedded
    ``imageData`` or the file at ``imagePath``. Classes are numbered in order of first
    appearance unless a ``taxonomy.yaml`` lies next to the files.

Writing
    One ``<stem>.json`` per image (or the given ``.json`` file for one image) and
    ``taxonomy.yaml``. An instance with its own polygons (``ann.polygons``) that still
    describe its mask is written with those vertices. Other instances without holes are
    written as traced polygons (one per part, with
    the instance id as ``group_id`` when there are several parts or a linked box); objects
    with holes as ``mask`` shapes, so nothing is lost. Boxes are rectangles; points and
    polylines are written back as they were read. Images of more than two dimensions are
    refused (labelme is 2D).
"""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import numpy as np

from ..annotation import Box, ImageAnnotation, ObjectInfo
from ..errors import FormatError, TaxonomyError
from ..fileio import atomic_write_text
from ..objects.polygons import Polygon, Ring
from ..taxonomy import Taxonomy
from . import rle
from ._common import (
    ReadReport,
    StagedFiles,
    check_annotations,
    has_holes,
    iter_instance_crops,
    mask_polygons,
    outline_index,
    reading,
    unique_stems,
    validate_read,
)

__all__ = ["SHAPE_TYPES", "TAXONOMY_FILE", "is_labelme", "read", "write"]

TAXONOMY_FILE = "taxonomy.yaml"
SHAPE_TYPES = ("polygon", "rectangle", "circle", "point", "line", "linestrip", "mask")
_VERSION = "5.5.0"


def is_labelme(doc: Any) -> bool:
    """True for a parsed JSON document shaped like a labelme file."""
    return (
        isinstance(doc, dict)
        and isinstance(doc.get("shapes"), list)
        and ("imagePath" in doc or "imageHeight" in doc or "version" in doc)
    )


# -- helpers ----------------------------------------------------------------------------
def _png_b64(arr: np.ndarray) -> str:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _b64_array(data: str, path: Any, where: str, field: str) -> np.ndarray:
    from PIL import Image

    try:
        with Image.open(io.BytesIO(base64.b64decode(data, validate=False))) as im:
            return np.asarray(im)
    except Exception as exc:
        raise FormatError(
            f"cannot decode the embedded PNG: {exc}", path=path, where=where, field=field
        ) from None


def _points(shape: dict[str, Any], path: Any, where: str, n_min: int) -> np.ndarray:
    pts = shape.get("points")
    try:
        arr = np.asarray(pts, dtype=np.float64)
    except (TypeError, ValueError):
        arr = np.zeros((0, 0))
    if arr.ndim != 2 or arr.shape[1] != 2 or len(arr) < n_min or not np.isfinite(arr).all():
        raise FormatError(
            f"points must be a list of at least {n_min} [x, y] pairs",
            path=path,
            where=where,
            field="points",
            value=pts,
        )
    return arr


def _image_size(doc: dict[str, Any], f: Path) -> tuple[int, int, str | None]:
    """(height, width, image path) of a labelme file."""
    image_path = doc.get("imagePath")
    resolved = None
    if isinstance(image_path, str) and image_path:
        cand = f.parent / image_path.replace("\\", "/")
        resolved = str(cand) if cand.is_file() else None
    h, w = doc.get("imageHeight"), doc.get("imageWidth")
    if type(h) is int and type(w) is int and h > 0 and w > 0:
        return h, w, resolved
    if isinstance(doc.get("imageData"), str) and doc["imageData"]:
        arr = _b64_array(doc["imageData"], f, "top level", "imageData")
        return int(arr.shape[0]), int(arr.shape[1]), resolved
    if resolved is not None:
        from PIL import Image

        with reading(resolved), Image.open(resolved) as im:
            w, h = im.size
        return int(h), int(w), resolved
    raise FormatError(
        "image size unknown: no imageHeight/imageWidth, no imageData and no image at imagePath",
        path=f,
        field="imageHeight",
        value=doc.get("imageHeight"),
    )


# -- reading ----------------------------------------------------------------------------
def _files(p: Path) -> list[Path]:
    if p.is_file():
        return [p]
    files = sorted(f for f in p.glob("*.json") if f.is_file())
    if not files:
        raise FormatError("no labelme JSON files found", path=p)
    return files


def _load(f: Path) -> dict[str, Any]:
    from ..validate import load_json

    doc = load_json(f, what="labelme file")  # regular file, UTF-8, bounded nesting
    if not is_labelme(doc):
        raise FormatError("not a labelme file (no 'shapes' list)", path=f, field="shapes")
    return doc


def read(
    path: str | Path, *, report: ReadReport | None = None
) -> tuple[list[ImageAnnotation], Taxonomy]:
    """Read one labelme JSON file or a folder of them.

    Raises
    ------
    FormatError
        Naming the file, the shape (``shapes[i]``) and the field: invalid JSON, unknown
        ``shape_type``, points of the wrong count or type, an undecodable mask, an unknown
        image size, a label missing from ``taxonomy.yaml``.
    """
    p = Path(path)
    files = _files(p)
    base = p if p.is_dir() else p.parent
    tax: Taxonomy | None = None
    if (base / TAXONOMY_FILE).is_file():
        try:
            tax = Taxonomy.load(base / TAXONOMY_FILE)
        except TaxonomyError as exc:
            raise exc.replace(FormatError, path=base / TAXONOMY_FILE) from exc
    docs = [(f, _load(f)) for f in files]
    if tax is None:
        names: dict[str, None] = {}
        for _, doc in docs:
            for s in doc["shapes"]:
                if isinstance(s, dict) and isinstance(s.get("label"), str):
                    names.setdefault(s["label"], None)
        tax = Taxonomy([{"id": i + 1, "name": n} for i, n in enumerate(names)])
    out = [_read_doc(f, doc, tax, report) for f, doc in docs]
    validate_read(out, tax, p)
    return out, tax


def _class_id(tax: Taxonomy, label: Any, f: Path, where: str) -> int:
    if not isinstance(label, str):
        raise FormatError(
            "label must be a string", path=f, where=where, field="label", value=label
        )
    try:
        return tax.by_name(label).id
    except TaxonomyError:
        raise FormatError(
            "label is not in the taxonomy", path=f, where=where, field="label", value=label
        ) from None


def _attrs(shape: dict[str, Any]) -> dict[str, Any]:
    attrs: dict[str, Any] = {}
    if isinstance(shape.get("flags"), dict):
        attrs.update(shape["flags"])
    if shape.get("description"):
        attrs["description"] = shape["description"]
    return attrs


def _read_doc(
    f: Path, doc: dict[str, Any], tax: Taxonomy, report: ReadReport | None
) -> ImageAnnotation:
    h, w, image_path = _image_size(doc, f)
    name = doc.get("imagePath") if isinstance(doc.get("imagePath"), str) else None
    name = Path(name.replace("\\", "/")).name if name else f.stem
    labels_t = np.zeros((w, h), np.int32)  # column-major planes: runs are contiguous
    flat = labels_t.reshape(-1)
    objects: dict[int, ObjectInfo] = {}
    boxes: list[Box] = []
    points: list[dict[str, Any]] = []
    lines: list[dict[str, Any]] = []
    polygons: list[Polygon] = []
    group_ids: dict[tuple[str, Any], int] = {}
    pending_boxes: list[tuple[Box, tuple[str, Any]]] = []
    pending_marks: list[tuple[dict[str, Any], tuple[str, Any]]] = []
    for i, s in enumerate(doc["shapes"]):
        where = f"shapes[{i}]"
        if not isinstance(s, dict):
            raise FormatError(
                "a shape must be an object", path=f, where=where, value=type(s).__name__
            )
        kind = s.get("shape_type") or "polygon"
        if kind not in SHAPE_TYPES:
            raise FormatError(
                f"shape_type must be one of {SHAPE_TYPES}",
                path=f,
                where=where,
                field="shape_type",
                value=kind,
            )
        cid = _class_id(tax, s.get("label"), f, where)
        gid = s.get("group_id")
        if gid is not None and (isinstance(gid, bool) or not isinstance(gid, (int, str))):
            raise FormatError("group_id must be an integer or null", path=f, where=where,
                              field="group_id", value=gid)  # fmt: skip
        group = (s["label"], gid) if gid is not None else None
        attrs = _attrs(s)
        if kind == "rectangle":
            (x0, y0), (x1, y1) = _points(s, f, where, 2)[:2]
            x0, x1 = sorted((max(x0, 0.0), min(x1, float(w))))
            y0, y1 = sorted((max(y0, 0.0), min(y1, float(h))))
            box = Box(float(x0), float(y0), float(x1), float(y1), class_id=cid, attributes=attrs)
            boxes.append(box)
            if group is not None:
                pending_boxes.append((box, group))
            continue
        if kind == "point":
            (x, y) = _points(s, f, where, 1)[0]
            points.append({"xy": [float(x), float(y)], "class_id": cid, "attributes": attrs})
            if group is not None:
                pending_marks.append((points[-1], group))
            continue
        if kind in ("line", "linestrip"):
            pts = _points(s, f, where, 2)
            lines.append({"xy": pts.tolist(), "class_id": cid, "kind": kind, "attributes": attrs})
            if group is not None:
                pending_marks.append((lines[-1], group))
            continue
        # area shapes: one instance per (label, group_id), else one per shape
        if group is not None and group in group_ids:
            k = group_ids[group]
        else:
            k = len(objects) + 1
            while k in objects:
                k += 1
            objects[k] = ObjectInfo(cid, attrs)
            if group is not None:
                group_ids[group] = k
        if kind == "polygon":
            pts = _points(s, f, where, 3)
            _, col, r0, r1 = rle.polygon_runs([pts], h, w)
            flat[rle.run_pixels(col, r0, r1, h)] = k
            info = objects[k]
            polygons.append(Polygon(Ring(pts), cid, k, (), info.status, dict(info.attributes)))
        elif kind == "circle":
            (cx, cy), (px, py) = _points(s, f, where, 2)[:2]
            r = float(np.hypot(px - cx, py - cy))
            rs = slice(max(int(np.floor(cy - r)), 0), min(int(np.ceil(cy + r)) + 1, h))
            cs = slice(max(int(np.floor(cx - r)), 0), min(int(np.ceil(cx + r)) + 1, w))
            rr, cc = np.mgrid[rs, cs]
            inside = (cc + 0.5 - cx) ** 2 + (rr + 0.5 - cy) ** 2 <= r * r
            labels_t[cc[inside], rr[inside]] = k
        else:  # mask
            (x1, y1), _ = _points(s, f, where, 2)[:2].astype(int)
            if not isinstance(s.get("mask"), str):
                raise FormatError(
                    "a mask shape needs its base64 PNG in 'mask'",
                    path=f,
                    where=where,
                    field="mask",
                )
            m = _b64_array(s["mask"], f, where, "mask")
            m = (m if m.ndim == 2 else m[..., 0]).astype(bool)
            mh, mw = m.shape
            sub = labels_t[max(x1, 0) : x1 + mw, max(y1, 0) : y1 + mh]
            crop = m[
                max(-y1, 0) : max(-y1, 0) + sub.shape[1], max(-x1, 0) : max(-x1, 0) + sub.shape[0]
            ]
            sub[crop.T] = k
    for box, group in pending_boxes:
        box.instance_id = group_ids.get(group, 0)
    # a point or line joins the instance of its group id: of its own label first, else the
    # group's (a "tail" line drawn on a "cat" polygon)
    by_gid: dict[Any, int] = {}
    for (_, gid), k in group_ids.items():
        by_gid.setdefault(gid, k)
    for mark, group in pending_marks:
        owner = group_ids.get(group) or by_gid.get(group[1])
        if owner:
            mark["instance_id"] = owner
    labels = np.ascontiguousarray(labels_t.T)
    present = set(np.unique(labels).tolist()) if objects else set()
    lost = [k for k in objects if k not in present]
    if lost and report is not None:
        report.note(f"{f.name}: {len(lost)} shape(s) cover no pixel centre and were dropped")
    objects = {k: o for k, o in objects.items() if k in present}
    polygons = [pg for pg in polygons if pg.instance_id in objects]
    metadata: dict[str, Any] = {}
    if isinstance(doc.get("flags"), dict) and doc["flags"]:
        metadata["flags"] = dict(doc["flags"])
    if points:
        metadata["points"] = points
    if lines:
        metadata["polylines"] = lines
    return ImageAnnotation(
        name,
        (h, w),
        instances=labels if objects else None,
        objects=objects,
        boxes=boxes,
        image_path=image_path,
        metadata=metadata,
        polygons=polygons,
    )


# -- writing ----------------------------------------------------------------------------
def to_dict(ann: ImageAnnotation, taxonomy: Taxonomy) -> dict[str, Any]:
    """The labelme document of one 2D image (see the module doc)."""
    if ann.ndim != 2:
        raise FormatError(
            "labelme holds 2D images only", where=ann.image_name, field="shape", value=ann.shape
        )
    h, w = ann.plane_shape
    shapes: list[dict[str, Any]] = []
    linked = {b.instance_id for b in ann.boxes if b.instance_id}
    for key in ("points", "polylines"):
        marks = ann.metadata.get(key) or ()
        linked.update(m["instance_id"] for m in marks if m.get("instance_id"))

    def shape(label: str, pts: Any, kind: str, gid: Any, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = dict(attrs)
        desc = attrs.pop("description", "")
        return {
            "label": label,
            "points": pts,
            "group_id": gid,
            "description": desc,
            "shape_type": kind,
            "flags": attrs,
            "mask": None,
        }

    outlines = outline_index(ann)
    if ann.instances is not None:
        labels = np.asarray(ann.instances)
        for k, sl, obj, crop in iter_instance_crops(ann, labels):
            name = taxonomy[obj.class_id].name
            r0, c0 = sl[0].start, sl[1].start
            own = outlines.kept((), k, crop, sl)
            if own is not None and not any(p.ring.hole for p in own):
                # the object's own vertices (read from a file or drawn), unrounded
                gid = k if (len(own) > 1 or k in linked) else None
                for p in own:
                    pts = [[float(x), float(y)] for x, y in p.ring.xy]
                    shapes.append(shape(name, pts, "polygon", gid, obj.attributes))
                continue
            if has_holes(crop):
                rec = shape(
                    name,
                    [[c0, r0], [c0 + crop.shape[1] - 1, r0 + crop.shape[0] - 1]],
                    "mask",
                    k if k in linked else None,
                    obj.attributes,
                )
                rec["mask"] = _png_b64(crop)
                shapes.append(rec)
                continue
            polys = mask_polygons(crop, r0, c0)
            gid = k if (len(polys) > 1 or k in linked) else None
            for poly in polys:
                pts = [[round(float(x), 2), round(float(y), 2)] for x, y in poly]
                shapes.append(shape(name, pts, "polygon", gid, obj.attributes))
    for b in ann.boxes:
        pts = [[b.x0, b.y0], [b.x1, b.y1]]
        shapes.append(
            shape(taxonomy[b.class_id].name, pts, "rectangle", b.instance_id or None, b.attributes)
        )
    for pt in ann.metadata.get("points") or ():
        shapes.append(
            shape(
                taxonomy[pt["class_id"]].name,
                [list(pt["xy"])],
                "point",
                pt.get("instance_id") or None,
                pt.get("attributes") or {},
            )
        )
    for ln in ann.metadata.get("polylines") or ():
        kind = ln.get("kind", "linestrip")
        pts = [list(p) for p in ln["xy"]]
        attrs = ln.get("attributes") or {}
        gid = ln.get("instance_id") or None
        shapes.append(shape(taxonomy[ln["class_id"]].name, pts, kind, gid, attrs))
    return {
        "version": _VERSION,
        "flags": dict(ann.metadata.get("flags") or {}),
        "shapes": shapes,
        "imagePath": ann.image_name,
        "imageData": None,
        "imageHeight": h,
        "imageWidth": w,
    }


def write(path: str | Path, annotations: list[ImageAnnotation], taxonomy: Taxonomy) -> list[Path]:
    """Write labelme JSON files (all or none) and ``taxonomy.yaml``.

    ``path`` is a folder (one ``<stem>.json`` per image), or a ``.json`` file when there
    is one image.
    """
    import yaml

    p = Path(path)
    annotations = check_annotations(annotations, taxonomy, p)
    docs = [to_dict(a, taxonomy) for a in annotations]
    tax_text = yaml.safe_dump(taxonomy.to_dict(), sort_keys=False, allow_unicode=True)
    if p.suffix.lower() == ".json":
        if len(docs) != 1:
            raise FormatError(
                "a .json path holds one image; give a folder",
                path=p,
                field="annotations",
                value=len(docs),
            )
        atomic_write_text(p, json.dumps(docs[0], indent=2))
        atomic_write_text(p.parent / TAXONOMY_FILE, tax_text)
        return [p, p.parent / TAXONOMY_FILE]
    stems = unique_stems(annotations, p)
    with StagedFiles(p) as stage:
        stage.write_text(TAXONOMY_FILE, tax_text)
        for doc, stem in zip(docs, stems):
            stage.write_text(f"{stem}.json", json.dumps(doc, indent=2))
    return stage.written()
