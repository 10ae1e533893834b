"""COCO detection and instance segmentation (one JSON file, many images).

Writing
    Every instance of an instance mask becomes one annotation per plane it occupies, with
    its segmentation as a compressed RLE (exact for any shape) or as polygons. By default
    (``segmentation="auto"``) an object that carries its own polygons (``ann.polygons``, as
    read from a polygon file or drawn on the polygons layer) keeps those vertices while
    they still rasterise to its mask, and every other object is RLE; ``"polygon"`` traces
    the others' outlines too, ``"rle"`` writes RLE only. Objects with holes stay RLE so
    nothing is lost. ``bbox`` and ``area`` come from the
    mask; ``iscrowd`` is the object's ``iscrowd`` attribute (0 when absent). Object
    attributes go under ``attributes``. A box linked to an instance on the same plane
    replaces that annotation's ``bbox`` (its review fields go under ``box``); every other
    box becomes a bbox-only annotation (no ``segmentation``).

    Images of more than two dimensions are written one COCO image per plane; each image
    record names its source image and plane index (``source_image``, ``plane``,
    ``source_shape``, ``axes``). ``categories`` come from :meth:`Taxonomy.to_coco`; the full
    taxonomy (attributes, colours, hotkeys) is kept under the top-level ``labelsuite`` key,
    which COCO readers ignore.

Reading
    Accepts files from other tools too: images without ``source_image`` are 2D images;
    annotations without ``instance_id`` are numbered per image in file order; overlapping
    masks are painted in file order (later annotations win). Without a ``labelsuite`` key
    the taxonomy is built from ``categories`` (supercategories become parents).
    Polygons are rasterised by pycocotools' own rule, so masks equal ``annToMask``; their
    vertices are kept in ``ann.polygons`` (one ``Polygon`` per ring, with the instance id).

    Files from Label Studio and labelme2coco number categories from 0: such ids are read
    as ``id + 1`` (0 is background in masks) and the mapping goes into the import report
    (:class:`~._common.ReadReport`); ``write(..., category_ids=report.export_ids())``
    writes the file's own ids back. Several image records of one ``file_name`` (Label
    Studio writes one per annotation) are merged into one image.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from ..annotation import REVIEW_STATUSES, Box, ImageAnnotation, ObjectInfo
from ..colors import color_to_hex
from ..errors import FormatError, TaxonomyError
from ..fileio import atomic_write_text
from ..objects.polygons import Polygon, Ring
from ..taxonomy import Taxonomy
from ..validate import check_pixels
from . import rle
from ._common import (
    OutlineIndex,
    ReadReport,
    check_annotations,
    has_holes,
    iter_instance_crops,
    mask_polygons,
    outline_index,
    plane_label,
    plane_of,
    planes,
    validate_read,
)

__all__ = ["coco_categories", "read", "taxonomy_from_coco", "write"]

SEGMENTATIONS = ("auto", "rle", "polygon")
_REVIEW_KEYS = ("status", "reviewer", "reviewed_at")
#: largest instance id a mask can hold (masks are read as int32, or int64 when needed)
_MAX_ID = int(np.iinfo(np.int64).max)


# -- writing --------------------------------------------------------------------------
def write(
    path: str | Path,
    annotations: list[ImageAnnotation],
    taxonomy: Taxonomy,
    *,
    segmentation: str = "auto",
    indent: int | None = None,
    info: dict[str, Any] | None = None,
    category_ids: dict[int, int] | None = None,
) -> list[Path]:
    """Write annotations to one COCO JSON file (atomically).

    Parameters
    ----------
    path : path
        The ``.json`` file.
    annotations : list of ImageAnnotation
    taxonomy : Taxonomy
        Gives ``categories``; every class id used must be in it.
    segmentation : {"auto", "rle", "polygon"}
        How instance masks are written. ``"auto"``: an object that has its own polygons
        (``ann.polygons``: read from a polygon file or drawn on the polygons layer) is
        written as those vertices while they still describe its mask exactly, every
        other object as RLE. ``"polygon"``: also traces the other objects' outlines.
        ``"rle"``: RLE only. Objects with holes are RLE in every mode (COCO polygons
        hold no holes).
    indent : int, optional
        JSON indentation (None: compact).
    info : dict, optional
        The COCO ``info`` record.
    category_ids : dict of int to int, optional
        Class id -> the category id to write (e.g. ``report.export_ids()`` to give a file
        read with 0-based ids its own ids back). Classes not listed keep their id.

    Returns
    -------
    list of Path
        The file written.
    """
    path = Path(path)
    if segmentation not in SEGMENTATIONS:
        raise FormatError(
            f"segmentation must be one of {SEGMENTATIONS}",
            path=path,
            field="segmentation",
            value=segmentation,
        )
    annotations = check_annotations(annotations, taxonomy, path)
    doc = to_dict(annotations, taxonomy, segmentation=segmentation, info=info)
    if category_ids:
        _export_ids(doc, taxonomy, category_ids, path)
    atomic_write_text(path, json.dumps(doc, indent=indent))
    return [path]


def to_dict(
    annotations: list[ImageAnnotation],
    taxonomy: Taxonomy,
    *,
    segmentation: str = "auto",
    info: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The COCO document as a dict (see :func:`write`)."""
    images: list[dict[str, Any]] = []
    anns: list[dict[str, Any]] = []
    for ann in annotations:
        outlines = outline_index(ann)
        for plane in planes(ann):
            image_id = len(images) + 1
            images.append(_image_record(ann, plane, image_id))
            anns.extend(_plane_annotations(ann, plane, image_id, len(anns) + 1, segmentation,
                                           outlines))  # fmt: skip
    return {
        "info": dict(info or {"description": "exported by napari-labelsuite"}),
        "licenses": [],
        "images": images,
        "annotations": anns,
        "categories": coco_categories(taxonomy),
        "labelsuite": {"version": 1, "taxonomy": taxonomy.to_dict()},
    }


def _export_ids(
    doc: dict[str, Any], taxonomy: Taxonomy, category_ids: dict[int, int], path: Any
) -> None:
    """Rewrite the category ids of ``doc`` in place (class id -> file id)."""
    new = {c.id: int(category_ids.get(c.id, c.id)) for c in taxonomy}
    if len(set(new.values())) != len(new):
        raise FormatError(
            "category_ids would give two classes the same id",
            path=path,
            field="category_ids",
            value=category_ids,
        )
    for cat in doc["categories"]:
        cat["id"] = new[cat["id"]]
        if "parent" in cat:
            cat["parent"] = new[cat["parent"]]
    for a in doc["annotations"]:
        a["category_id"] = new[a["category_id"]]
    # the taxonomy copy would restore our ids on reading; the file's ids are what was asked
    doc.pop("labelsuite", None)


def _image_record(ann: ImageAnnotation, plane: tuple[int, ...], image_id: int) -> dict[str, Any]:
    h, w = ann.plane_shape
    name = ann.image_name
    if plane:
        p = Path(name)
        name = f"{p.stem}{plane_label(ann, plane)}{p.suffix}"
    rec: dict[str, Any] = {"id": image_id, "file_name": name, "width": w, "height": h}
    first = not plane or not any(plane)
    if ann.ndim > 2:
        rec.update(
            source_image=ann.image_name,
            plane=list(plane),
            source_shape=list(ann.shape),
            axes=ann.axes,
        )
    if first:
        # image-level extras once per source image
        if ann.image_path:
            rec["image_path"] = ann.image_path
        if ann.metadata:
            rec["metadata"] = ann.metadata
        if ann.instances is not None:
            rec["has_instances"] = True
    return rec


def _review(obj: Any) -> dict[str, Any]:
    return {k: getattr(obj, k) for k in _REVIEW_KEYS if getattr(obj, k) not in (None, "todo")}


def _plane_annotations(
    ann: ImageAnnotation,
    plane: tuple[int, ...],
    image_id: int,
    next_id: int,
    segmentation: str,
    outlines: OutlineIndex | None = None,
) -> list[dict[str, Any]]:
    h, w = ann.plane_shape
    out: list[dict[str, Any]] = []
    boxes = ann.boxes_on_plane(plane)
    linked = {b.instance_id: b for b in boxes if b.instance_id}
    used_boxes: set[int] = set()
    if ann.instances is not None:
        labels = plane_of(ann.instances, plane)
        if labels.dtype.kind == "i" and labels.size and labels.min() < 0:
            raise FormatError(
                "instance ids must be >= 0",
                where=ann.image_name,
                field="instances",
                value=int(labels.min()),
            )
        for k, sl, obj, crop in iter_instance_crops(ann, labels):
            r0, c0 = sl[0].start, sl[1].start
            ch, cw = crop.shape
            rec: dict[str, Any] = {
                "id": next_id + len(out),
                "image_id": image_id,
                "category_id": obj.class_id,
                "instance_id": k,
                "iscrowd": int(bool(obj.attributes.get("iscrowd", False))),
                "area": int(crop.sum()),
                "bbox": [c0, r0, cw, ch],
            }
            own = None
            if segmentation != "rle" and outlines:
                own = outlines.kept(plane, k, crop, sl)
            if own is not None and not any(p.ring.hole for p in own):
                # the object's own vertices, unrounded (pycocotools decodes them to the mask)
                rec["segmentation"] = [[float(v) for v in p.ring.xy.ravel()] for p in own]
            elif segmentation == "polygon" and not has_holes(crop):
                rec["segmentation"] = [
                    [round(float(v), 2) for v in poly.ravel()]
                    for poly in mask_polygons(crop, r0, c0)
                ]
            else:
                counts = rle.counts_from_crop(crop, r0, c0, h, w)
                rec["segmentation"] = {"size": [h, w], "counts": rle.counts_to_string(counts)}
            rec["attributes"] = dict(obj.attributes)
            rec.update(_review(obj))
            box = linked.get(k)
            if box is not None:
                used_boxes.add(id(box))
                rec["bbox"] = [box.x0, box.y0, box.width, box.height]
                rec["box"] = {"attributes": dict(box.attributes), **_review(box)}
            out.append(rec)
    for b in boxes:
        if id(b) in used_boxes:
            continue
        rec = {
            "id": next_id + len(out),
            "image_id": image_id,
            "category_id": b.class_id,
            "iscrowd": int(bool(b.attributes.get("iscrowd", False))),
            "area": float(b.area),
            "bbox": [b.x0, b.y0, b.width, b.height],
            "attributes": dict(b.attributes),
        }
        if b.instance_id:
            rec["instance_id"] = b.instance_id
        rec.update(_review(b))
        out.append(rec)
    return out


# -- reading --------------------------------------------------------------------------
def read(
    path: str | Path, *, report: ReadReport | None = None
) -> tuple[list[ImageAnnotation], Taxonomy]:
    """Read a COCO JSON file.

    ``report`` (optional) receives what was inferred: remapped category ids, merged
    image records.

    Raises
    ------
    FormatError
        Naming the file, the record (``images[i]``, ``annotations[i]``) and the field, for
        invalid JSON, missing keys, wrong types, unknown image or category ids, boxes
        outside the image, polygons with fewer than 3 points, RLE sizes that do not match
        the image, or records of one 3D image that disagree.
    """
    from ..validate import load_json

    path = Path(path)
    # regular files only, strict UTF-8, bounded nesting: every failure is a FormatError
    doc = load_json(path, what="COCO file")
    return from_dict(doc, path, report=report)


def _err(msg: str, path: Any, where: str, field: str | None = None, value: Any = ...) -> NoReturn:
    kw: dict[str, Any] = {} if value is ... else {"value": value}
    raise FormatError(msg, path=path, where=where, field=field, **kw)


def _require(rec: Any, key: str, types: Any, path: Any, where: str) -> Any:
    if not isinstance(rec, dict):
        _err("record must be an object", path, where, value=type(rec).__name__)
    if key not in rec:
        _err(f"missing key '{key}'", path, where, key)
    v = rec[key]
    if not isinstance(v, types) or isinstance(v, bool):
        names = types.__name__ if isinstance(types, type) else "/".join(t.__name__ for t in types)
        _err(f"must be {names}", path, where, key, v)
    return v


def _zero_based_shift(doc: dict[str, Any]) -> int:
    """1 when the file numbers its categories from 0 (Label Studio, labelme2coco), else 0."""
    extra = doc.get("labelsuite")
    if isinstance(extra, dict) and isinstance(extra.get("taxonomy"), dict):
        return 0
    for cat in doc["categories"]:
        if isinstance(cat, dict) and type(cat.get("id")) is int and cat["id"] == 0:
            return 1
    return 0


def _shifted_categories(categories: list[Any], shift: int) -> list[Any]:
    if not shift:
        return categories
    out = []
    for cat in categories:
        if isinstance(cat, dict) and type(cat.get("id")) is int:
            cat = dict(cat, id=cat["id"] + shift)
            if type(cat.get("parent")) is int:
                cat["parent"] += shift
        out.append(cat)
    return out


def _taxonomy(doc: dict[str, Any], path: Any, shift: int = 0) -> Taxonomy:
    extra = doc.get("labelsuite")
    categories = _shifted_categories(doc["categories"], shift)
    try:
        if isinstance(extra, dict) and isinstance(extra.get("taxonomy"), dict):
            tax = Taxonomy.from_dict(extra["taxonomy"], path=path)
        else:
            tax = taxonomy_from_coco(categories, path=path)
    except TaxonomyError as exc:
        raise exc.replace(FormatError, path=path, where=exc.where or "categories") from exc
    for i, cat in enumerate(categories):
        cid = _require(cat, "id", int, path, f"categories[{i}]")
        if cid not in tax:
            _err("category is missing from the taxonomy", path, f"categories[{i}]", "id", cid)
    return tax


class _Source:
    """One source image assembled from its COCO image records (one per plane)."""

    def __init__(self, name: str, shape: tuple[int, ...], axes: str) -> None:
        self.name, self.shape, self.axes = name, shape, axes
        self.records: dict[tuple[int, ...], int] = {}
        self.image_path: str | None = None
        self.metadata: dict[str, Any] = {}
        self.has_instances = False


def from_dict(
    doc: Any, path: Any = None, *, report: ReadReport | None = None
) -> tuple[list[ImageAnnotation], Taxonomy]:
    """Parse and validate a COCO document (see :func:`read`)."""
    if not isinstance(doc, dict):
        _err("a COCO file must hold a JSON object", path, "top level", value=type(doc).__name__)
    for key in ("images", "annotations", "categories"):
        _require(doc, key, list, path, "top level")
    shift = _zero_based_shift(doc)
    tax = _taxonomy(doc, path, shift)
    known = set(tax.ids())
    if shift and report is not None:
        ids = sorted(c["id"] for c in doc["categories"] if type(c.get("id")) is int)
        report.category_ids.update({i: i + shift for i in ids})
        shown = ", ".join(f"{i}->{i + shift}" for i in ids[:8]) + (", ..." if len(ids) > 8 else "")
        report.note(f"category ids start at 0 and were read as id + 1 ({shown})")
    merged = 0

    sources: dict[str, _Source] = {}
    image_of: dict[int, tuple[_Source, tuple[int, ...], int, int]] = {}
    for i, img in enumerate(doc["images"]):
        where = f"images[{i}]"
        iid = _require(img, "id", int, path, where)
        w = _require(img, "width", int, path, where)
        h = _require(img, "height", int, path, where)
        name = _require(img, "file_name", str, path, where)
        if w <= 0 or h <= 0:
            _err("width and height must be positive", path, where, "width", (w, h))
        if w > _MAX_SIDE or h > _MAX_SIDE:
            _err(f"width and height must be at most {_MAX_SIDE}", path, where, "width", (w, h))
        if iid in image_of:
            _err("duplicate image id", path, where, "id", iid)
        src_name = img.get("source_image", name)
        if not isinstance(src_name, str):
            _err("must be a string", path, where, "source_image", src_name)
        plane: tuple[int, ...] = ()
        shape: tuple[int, ...] = (h, w)
        axes = ""
        if "source_image" in img:
            shape = tuple(_require(img, "source_shape", list, path, where))
            plane = tuple(_require(img, "plane", list, path, where))
            axes = img.get("axes", "")
            if (
                len(shape) < 3
                or len(plane) != len(shape) - 2
                or any(not isinstance(v, int) or isinstance(v, bool) for v in shape + plane)
                or any(not 0 <= p < n for p, n in zip(plane, shape))
            ):
                _err("plane does not fit source_shape", path, where, "plane", list(plane))
            if shape[-2:] != (h, w):
                _err(
                    f"image size {w}x{h} does not match source_shape",
                    path,
                    where,
                    "source_shape",
                    list(shape),
                )
        src = sources.get(src_name)
        if src is not None and not plane and src.shape == shape and () in src.records:
            # another record of the same image (Label Studio writes one per annotation)
            image_of[iid] = image_of[src.records[()]]
            merged += 1
            continue
        if src is None:
            try:
                src = sources[src_name] = _Source(src_name, shape, axes)
                ImageAnnotation(src_name, shape, axes)
            except Exception as exc:
                _err(f"invalid image geometry: {exc}", path, where, "axes", axes)
        elif src.shape != shape:
            _err(
                f"source image '{src_name}' has different sizes in different records",
                path,
                where,
                "source_shape",
                list(shape),
            )
        if plane in src.records:
            _err(f"plane {list(plane)} of '{src_name}' appears twice", path, where, "plane")
        src.records[plane] = iid
        src.image_path = img.get("image_path", src.image_path)
        if isinstance(img.get("metadata"), dict):
            src.metadata = img["metadata"]
        src.has_instances |= bool(img.get("has_instances"))
        image_of[iid] = (src, plane, h, w)

    if merged and report is not None:
        report.note(f"{merged} image records repeat an earlier file_name and were merged")
    # validate every annotation before building arrays
    parsed: dict[str, list[tuple[tuple[int, ...], dict[str, Any], Any, str]]] = defaultdict(list)
    ann_ids: dict[int, int] = {}
    for i, a in enumerate(doc["annotations"]):
        where = f"annotations[{i}]"
        iid = _require(a, "image_id", int, path, where)
        aid = _require(a, "id", int, path, where)
        if aid in ann_ids:
            _err(f"duplicate annotation id (also annotations[{ann_ids[aid]}])", path, where,
                 "id", aid)  # fmt: skip
        ann_ids[aid] = i
        if "box" in a and not isinstance(a["box"], dict):
            _err("must be an object", path, where, "box", type(a["box"]).__name__)
        cid = _require(a, "category_id", int, path, where)
        if iid not in image_of:
            _err("image_id is not in images", path, where, "image_id", iid)
        if cid + shift not in known:
            _err("category_id is not in categories", path, where, "category_id", cid)
        if shift:
            a = dict(a, category_id=cid + shift)
        src, plane, h, w = image_of[iid]
        bbox = _require(a, "bbox", list, path, where)
        if len(bbox) != 4 or not all(_is_number(v) for v in bbox):
            _err("bbox must be 4 numbers [x, y, w, h]", path, where, "bbox", bbox)
        x, y, bw, bh = (float(v) for v in bbox)
        tol = 1e-6
        if bw <= 0 or bh <= 0:
            _err("bbox has no area", path, where, "bbox", bbox)
        if x < -tol or y < -tol or x + bw > w + tol or y + bh > h + tol:
            _err(f"bbox lies outside the {w}x{h} image", path, where, "bbox", bbox)
        for key in ("iscrowd", "area"):
            if key in a and not _is_number(a[key]):
                _err("must be a number", path, where, key, a[key])
        if "attributes" in a and not isinstance(a["attributes"], dict):
            _err("must be an object", path, where, "attributes", a["attributes"])
        for key in ("instance_id",):
            if key in a and (not isinstance(a[key], int) or a[key] < 1):
                _err("must be an integer >= 1", path, where, key, a[key])
            if key in a and a[key] > _MAX_ID:
                _err(f"must be at most {_MAX_ID} (int64)", path, where, key, a[key])
        for obj in (a, a.get("box") or {}):
            if obj.get("status", "todo") not in REVIEW_STATUSES:
                _err(
                    f"status must be one of {REVIEW_STATUSES}",
                    path,
                    where,
                    "status",
                    obj.get("status"),
                )
        seg = a.get("segmentation")
        kind = "box"
        if seg is not None and seg != []:
            kind = _check_segmentation(seg, h, w, path, where)
        parsed[src.name].append((plane, a, seg, kind))

    for src in sources.values():
        if src.has_instances or any(kind != "box" for *_, kind in parsed.get(src.name, [])):
            # the instance mask is allocated at the declared size: bound it first
            check_pixels(src.shape, path=path, where=f"image '{src.name}'", field="width")
    out = [_build(src, parsed.get(src.name, [])) for src in sources.values()]
    validate_read(out, tax, path)
    return out, tax


#: Largest image side accepted (larger values are not sizes but damage or an attack).
_MAX_SIDE = 2**40


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


_NUMBER_TYPES = frozenset({int, float})


def _all_numbers(values: list[Any]) -> bool:
    """``all(_is_number(v) for v in values)``, at C speed for long coordinate lists."""
    if not set(map(type, values)) <= _NUMBER_TYPES:
        return all(_is_number(v) for v in values)  # subclasses (not bool) still count
    try:
        return bool(np.isfinite(np.asarray(values, dtype=np.float64)).all())
    except OverflowError:  # an int beyond float64
        return False


def _check_segmentation(seg: Any, h: int, w: int, path: Any, where: str) -> str:
    if isinstance(seg, dict):
        size = seg.get("size")
        if size != [h, w]:
            _err(
                f"RLE size does not match the {w}x{h} image (size is [h, w])",
                path,
                where,
                "segmentation.size",
                size,
            )
        counts = seg.get("counts")
        try:
            if isinstance(counts, str):
                c = rle.string_to_counts(counts)
            elif isinstance(counts, list) and all(isinstance(v, int) for v in counts):
                c = np.asarray(counts, dtype=np.int64)
            else:
                raise ValueError("counts must be a string or a list of integers")
            if (c < 0).any() or int(c.sum()) != h * w:
                raise ValueError(f"counts cover {int(c.sum())} pixels, the image has {h * w}")
        except ValueError as exc:
            _err(
                f"invalid RLE: {exc}",
                path,
                where,
                "segmentation.counts",
                counts if isinstance(counts, str) else "...",
            )
        return "rle"
    if not isinstance(seg, list):
        _err(
            "segmentation must be a list of polygons or an RLE object",
            path,
            where,
            "segmentation",
            type(seg).__name__,
        )
    for j, poly in enumerate(seg):
        if not isinstance(poly, list) or not _all_numbers(poly):
            _err(
                "a polygon must be a flat list of numbers", path, where, f"segmentation[{j}]", poly
            )
        if len(poly) % 2 or len(poly) < 6:
            _err(
                "a polygon needs at least 3 (x, y) points", path, where, f"segmentation[{j}]", poly
            )
    return "polygon"


def _plane_polygon_runs(items: list, h: int, w: int) -> dict[Any, Any]:
    """Runs of every polygon annotation, rasterised in one batch per plane.

    Returns ``{plane: (col, row0, row1, bounds)}`` where ``bounds[i] = (lo, hi)``: the runs
    of item ``i`` are ``lo:hi`` of its plane's arrays (in item order).
    """
    per_plane: dict[tuple[int, ...], tuple[list[Any], list[int]]] = {}
    for i, (plane, _a, seg, kind) in enumerate(items):
        if kind == "polygon":
            polys, owners = per_plane.setdefault(plane, ([], []))
            polys.extend(seg)
            owners.extend([i] * len(seg))
    out: dict[Any, Any] = {}
    for plane, (polys, owners) in per_plane.items():
        owner, col, r0, r1 = rle.polygon_runs(polys, h, w)
        item = np.asarray(owners, np.int64)[owner]  # non-decreasing: runs come sorted by owner
        ids = np.unique(np.asarray(owners, np.int64))
        lo = np.searchsorted(item, ids, side="left")
        hi = np.searchsorted(item, ids, side="right")
        bounds = {int(k): (int(a), int(b)) for k, a, b in zip(ids, lo, hi)}
        out[plane] = (col, r0, r1, bounds)
    return out


def _paint_last_wins(
    flat: np.ndarray, col: np.ndarray, r0: np.ndarray, r1: np.ndarray, values: np.ndarray, h: int
) -> None:
    """Paint runs (in order) into a column-major plane; a pixel takes its last run's value."""
    pix = rle.run_pixels(col, r0, r1, h)
    vals = np.repeat(values, r1 - r0)
    order = np.argsort(pix, kind="stable")
    pix, vals = pix[order], vals[order]
    last = np.ones(len(pix), dtype=bool)
    last[:-1] = pix[1:] != pix[:-1]
    flat[pix[last]] = vals[last]


def _build(src: _Source, items: list) -> ImageAnnotation:
    shape = src.shape
    h, w = shape[-2:]
    lead = shape[:-2]
    has_masks = src.has_instances or any(kind != "box" for _, _, _, kind in items)
    objects: dict[int, ObjectInfo] = {}
    boxes: list[Box] = []
    polygons: list[Polygon] = []
    vol_t = None
    used_ids = {
        a["instance_id"] for _, a, _, kind in items if kind != "box" and "instance_id" in a
    }
    if has_masks:
        # ids given to records without instance_id fill the gaps from 1: none exceeds len(items)
        top = max(max(used_ids, default=0), len(items))
        dtype = np.int32 if top <= np.iinfo(np.int32).max else np.int64
        # planes stored column-major so RLE runs are contiguous slices
        vol_t = np.zeros((*lead, w, h), dtype=dtype)
    next_id = 1
    runs = _plane_polygon_runs(items, h, w)
    # without RLE records the order of painting is the order of the polygon runs, so each
    # plane is painted in one pass at the end (later records still win)
    deferred = not any(kind == "rle" for _, _, _, kind in items)
    value_of: dict[int, int] = {}
    for i, (plane, a, seg, kind) in enumerate(items):
        review = {k: a[k] for k in _REVIEW_KEYS if k in a}
        attrs = dict(a.get("attributes") or {})
        if a.get("iscrowd") and "iscrowd" not in attrs:
            attrs["iscrowd"] = True
        x, y, bw, bh = (float(v) for v in a["bbox"])
        if kind == "box":
            boxes.append(
                Box(
                    x,
                    y,
                    x + bw,
                    y + bh,
                    class_id=a["category_id"],
                    plane=plane,
                    instance_id=a.get("instance_id", 0),
                    attributes=attrs,
                    **review,
                )
            )
            continue
        k = a.get("instance_id")
        if k is None:
            while next_id in used_ids:
                next_id += 1
            k = next_id
            used_ids.add(k)
        info = objects.setdefault(k, ObjectInfo(a["category_id"], attrs, **review))
        assert vol_t is not None  # has_masks: every non-box record makes a mask
        if kind == "polygon":  # the file's own vertices, beside the mask they paint
            polygons += [
                Polygon(Ring(np.asarray(poly, float).reshape(-1, 2)), a["category_id"], k,
                        plane, info.status, dict(info.attributes))
                for poly in seg
            ]  # fmt: skip
        flat = vol_t[plane].reshape(-1)
        if kind == "rle":
            counts = seg["counts"]
            counts = (
                rle.string_to_counts(counts)
                if isinstance(counts, str)
                else np.asarray(counts, np.int64)
            )
            rle.paint_counts(flat, counts, k)
        elif deferred:
            value_of[i] = k
        else:
            col, r0, r1, bounds = runs[plane]
            lo, hi = bounds[i]
            flat[rle.run_pixels(col[lo:hi], r0[lo:hi], r1[lo:hi], h)] = k
        if "box" in a:
            b = a["box"] if isinstance(a["box"], dict) else {}
            boxes.append(
                Box(
                    x,
                    y,
                    x + bw,
                    y + bh,
                    class_id=a["category_id"],
                    plane=plane,
                    instance_id=k,
                    attributes=dict(b.get("attributes") or {}),
                    **{kk: b[kk] for kk in _REVIEW_KEYS if kk in b},
                )
            )
    if deferred and value_of and vol_t is not None:
        for plane, (col, r0, r1, bounds) in runs.items():
            values = np.zeros(len(col), dtype=vol_t.dtype)
            for i, (lo, hi) in bounds.items():
                values[lo:hi] = value_of[i]
            _paint_last_wins(vol_t[plane].reshape(-1), col, r0, r1, values, h)
    instances = None
    if vol_t is not None:
        instances = np.ascontiguousarray(np.swapaxes(vol_t, -1, -2))
    return ImageAnnotation(
        image_name=src.name,
        shape=shape,
        axes=src.axes,
        instances=instances,
        objects=objects,
        boxes=boxes,
        image_path=src.image_path,
        metadata=src.metadata,
        polygons=polygons,
    )


# -- the taxonomy as COCO categories ----------------------------------------------------------
def coco_categories(taxonomy: Taxonomy) -> list[dict[str, Any]]:
    """COCO ``categories``; ``supercategory`` is the top-level ancestor's name.

    The full hierarchy is kept in a ``parent`` key (ignored by COCO readers).
    """

    out = []
    for c in taxonomy:
        entry: dict[str, Any] = {
            "id": c.id,
            "name": c.name,
            "supercategory": taxonomy.root(c.id).name,
        }
        if c.parent is not None:
            entry["parent"] = c.parent
        if c.color is not None:
            entry["color"] = color_to_hex(c.color)
        out.append(entry)
    return out


def taxonomy_from_coco(categories: list[dict[str, Any]], path: Any = None) -> Taxonomy:
    """A taxonomy from COCO ``categories``.

    A ``parent`` key (written by :func:`coco_categories`) restores the full hierarchy.
    Otherwise a ``supercategory`` that names another category becomes its parent, and one
    that names no category becomes a new parent class appended after the others.
    """
    if not isinstance(categories, list):
        raise TaxonomyError(
            "COCO 'categories' must be a list",
            path=path,
            field="categories",
            value=type(categories).__name__,
        )
    classes: list[dict[str, Any]] = []
    names = set()
    for i, cat in enumerate(categories):
        if not isinstance(cat, dict) or "id" not in cat or "name" not in cat:
            raise TaxonomyError(
                "category needs 'id' and 'name'",
                path=path,
                where=f"categories[{i}]",
                value=cat,
            )
        if not isinstance(cat["name"], str) or not isinstance(
            cat.get("supercategory"), (str, type(None))
        ):
            bad = "name" if not isinstance(cat["name"], str) else "supercategory"
            raise TaxonomyError(
                "must be a string", path=path, where=f"categories[{i}]", field=bad,
                value=cat[bad],
            )  # fmt: skip
        d = {"id": cat["id"], "name": cat["name"]}
        if "color" in cat:
            d["color"] = cat["color"]
        if "parent" in cat:
            d["parent"] = cat["parent"]
        classes.append(d)
        names.add(cat["name"])
    by_name = {d["name"]: d["id"] for d in classes}
    next_id = max((int(d["id"]) for d in classes if isinstance(d["id"], int)), default=0)
    extra: dict[str, int] = {}
    has_parent_keys = any("parent" in c for c in categories)
    for cat, d in zip(categories, classes):
        sup = cat.get("supercategory")
        if has_parent_keys or not sup or sup == cat["name"]:
            continue
        if sup in by_name:
            d["parent"] = by_name[sup]
        else:
            if sup not in extra:
                next_id += 1
                extra[sup] = next_id
            d["parent"] = extra[sup]
    classes.extend({"id": i, "name": n} for n, i in extra.items())
    return Taxonomy(classes, _path=path)
