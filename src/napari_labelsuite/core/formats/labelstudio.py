"""Label Studio JSON export: a list of tasks, each with ``annotations[].result`` regions.

Region types read (coordinates are percentages of ``original_width`` /
``original_height``, as Label Studio stores them):

* ``rectanglelabels``: a box; a rotated rectangle (``rotation`` != 0, degrees clockwise
  around its top-left corner) becomes a 4-corner polygon instance.
* ``polygonlabels``: an instance rasterised by pycocotools' rule; its vertices (in
  pixels) are kept in ``ann.polygons``.
* ``brushlabels``: an instance from Label Studio's brush RLE (:func:`brush_decode`).
* ``keypointlabels``: a point (kept in ``metadata["points"]``).

Of several annotations of one task, the first that was not cancelled is read (the import
report says how many tasks had more); predictions are not read. Other region types
(``choices``, ``textarea``...) are skipped and reported. A task without any region has no
known image size and is skipped (reported). Classes are numbered in order of first
appearance.

Writing produces the same structure: one task per image with one annotation whose result
holds a ``brushlabels`` region per instance (exact for any shape), a ``rectanglelabels``
region per box and a ``keypointlabels`` region per point. An instance with one outline of
its own (``ann.polygons``: read from a polygon file or drawn) that still describes its
mask is a ``polygonlabels`` region with those vertices instead.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from ..annotation import Box, ImageAnnotation, ObjectInfo
from ..errors import FormatError
from ..fileio import atomic_write_text
from ..objects.polygons import Polygon, Ring
from ..taxonomy import Taxonomy
from . import rle
from ._common import (
    ReadReport,
    check_annotations,
    iter_instance_crops,
    outline_index,
    validate_read,
)

__all__ = ["REGION_TYPES", "brush_decode", "brush_encode", "is_labelstudio", "read", "write"]

REGION_TYPES = ("rectanglelabels", "polygonlabels", "brushlabels", "keypointlabels")
_RLE_SIZES = (3, 4, 8, 16)


def is_labelstudio(doc: Any) -> bool:
    """True for a parsed JSON document shaped like a Label Studio JSON export."""
    if not isinstance(doc, list) or not doc or not isinstance(doc[0], dict):
        return False
    t = doc[0]
    if "data" in t and ("annotations" in t or "predictions" in t or "completions" in t):
        return True
    return _is_min(doc)


def _regions_of(v: Any) -> list[dict[str, Any]]:
    if not isinstance(v, list):
        return []
    return [r for r in v if isinstance(r, dict) and any(k in r for k in REGION_TYPES)]


def _is_min(doc: list[Any]) -> bool:
    """Label Studio's JSON-MIN export: one flat record per task, regions under the control
    tag's name (``"label"``, ``"bbox"``...), with the data fields next to them."""
    t = doc[0]
    return isinstance(t, dict) and (
        "annotation_id" in t or any(_regions_of(v) for v in t.values())
    )


def _from_min(doc: list[Any]) -> list[dict[str, Any]]:
    """JSON-MIN records as the tasks of the full JSON export."""
    tasks = []
    for item in doc:
        if not isinstance(item, dict):
            tasks.append(item)  # reported as "a task must be an object"
            continue
        result = []
        for v in item.values():
            for region in _regions_of(v):
                kind = next(k for k in REGION_TYPES if k in region)
                value = {
                    k: x
                    for k, x in region.items()
                    if k not in ("original_width", "original_height")
                }
                result.append(
                    {
                        "type": kind,
                        "value": value,
                        "original_width": region.get("original_width"),
                        "original_height": region.get("original_height"),
                    }
                )
        data = {k: v for k, v in item.items() if isinstance(v, str)}
        tasks.append({"id": item.get("id"), "data": data, "annotations": [{"result": result}]})
    return tasks


# -- brush RLE (the @thi.ng/rle-pack layout Label Studio uses) --------------------------
def brush_decode(data: Any) -> np.ndarray:
    """Decode Label Studio's brush RLE to the flat uint8 array it packs.

    The stream is: 32 bits value count, 5 bits word size - 1, four 4-bit run-size
    classes - 1; then tokens: ``1`` + 2-bit class + length - 1 + one value (a run), or
    ``0`` + 2-bit class + length - 1 + that many values (literals). Bits are MSB first.
    For a brush region the array is the ``height x width x 4`` RGBA image; its alpha
    channel is the mask.

    Raises
    ------
    ValueError
        When the stream ends early or its header is impossible.
    """
    try:
        buf = np.asarray(data, dtype=np.int64)
    except (TypeError, ValueError, OverflowError):
        raise ValueError("brush RLE must be a list of bytes (0..255)") from None
    if buf.ndim != 1 or buf.size < 6 or (buf < 0).any() or (buf > 255).any():
        raise ValueError("brush RLE must be a list of bytes (0..255), at least 6")
    bits = np.unpackbits(buf.astype(np.uint8))
    nbits = bits.size
    pos = 0

    def take(n: int) -> int:
        nonlocal pos
        if pos + n > nbits:
            raise ValueError("brush RLE ends inside a token")
        v = 0
        for b in bits[pos : pos + n].tolist():
            v = (v << 1) | b
        pos += n
        return v

    num = take(32)
    word = take(5) + 1
    sizes = [take(4) + 1 for _ in range(4)]
    from ..validate import max_pixels

    if num > 4 * max_pixels():  # RGBA values: bounded like any image buffer
        raise ValueError(f"brush RLE declares {num} values, more than the pixel limit allows")
    out = np.zeros(num, dtype=np.uint8)
    i = 0
    while i < num:
        is_run = take(1)
        j = i + 1 + take(sizes[take(2)])
        if j > num:
            raise ValueError(f"a run ends at {j}, past the {num} values")
        if is_run:
            out[i:j] = take(word)
        else:
            for q in range(i, j):
                out[q] = take(word)
        i = j
    return out


def brush_encode(values: np.ndarray) -> list[int]:
    """Encode a flat uint8 array as Label Studio's brush RLE (inverse of :func:`brush_decode`).

    Written as label-studio-converter writes it: word size 8, run-size classes
    (3, 4, 8, 16), runs of one value as a 1-value literal, and padding that always adds
    1 to 8 zero bits.
    """
    arr = np.asarray(values, dtype=np.uint8).ravel()
    parts = [f"{arr.size:032b}", f"{7:05b}", "".join(f"{s - 1:04b}" for s in _RLE_SIZES)]
    if arr.size:
        edges = np.flatnonzero(np.diff(arr)) + 1
        starts = np.concatenate([[0], edges])
        lengths = np.diff(np.concatenate([starts, [arr.size]]))
        for start, n in zip(starts.tolist(), lengths.tolist()):
            v = f"{int(arr[start]):08b}"
            while n > 0:
                chunk = min(n, 1 << 16)
                n -= chunk
                if chunk == 1:
                    parts.append("0" + "00" + "000" + v)
                    continue
                length = chunk - 1
                for sel, size in enumerate(_RLE_SIZES):
                    if length < (1 << size):
                        parts.append(f"1{sel:02b}{length:0{size}b}{v}")
                        break
    bitstr = "".join(parts)
    bitstr += "0" * (8 - len(bitstr) % 8)
    return [int(bitstr[i : i + 8], 2) for i in range(0, len(bitstr), 8)]


def mask_to_brush(mask: np.ndarray) -> list[int]:
    """Brush RLE of a 2D boolean mask (RGBA, 255 where set), as Label Studio stores it."""
    return brush_encode(np.repeat(np.asarray(mask, bool).ravel() * np.uint8(255), 4))


# -- reading ----------------------------------------------------------------------------
def _num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _image_name(task: dict[str, Any], i: int) -> str:
    data: dict[str, Any] = task["data"] if isinstance(task.get("data"), dict) else {}
    for key in ("image", "img", "url"):
        v = data.get(key)
        if isinstance(v, str) and v:
            return v.rsplit("/", 1)[-1].split("?", 1)[0]
    for v in data.values():
        if isinstance(v, str) and v:
            return v.rsplit("/", 1)[-1].split("?", 1)[0]
    up = task.get("file_upload")
    return up if isinstance(up, str) and up else f"task{task.get('id', i)}"


def read(
    path: str | Path, *, report: ReadReport | None = None
) -> tuple[list[ImageAnnotation], Taxonomy]:
    """Read a Label Studio JSON export (a list of tasks).

    Raises
    ------
    FormatError
        Naming the file, the task / region (``tasks[i].result[j]``) and the field: invalid
        JSON, not a task list, regions without labels, sizes or coordinates of the wrong
        type, sizes that disagree within a task, an undecodable brush RLE.
    """
    p = Path(path)
    from ..validate import load_json

    doc = load_json(p, what="Label Studio export")  # regular file, UTF-8, bounded nesting
    if not is_labelstudio(doc):
        raise FormatError(
            "not a Label Studio export (a list of tasks with 'data')", path=p, field="tasks"
        )
    if not (
        "data" in doc[0]
        and any(k in doc[0] for k in ("annotations", "predictions", "completions"))
    ):
        doc = _from_min(doc)
        if report is not None:
            report.note("Label Studio JSON-MIN export (one record per task)")
    names: dict[str, None] = {}
    tasks = []
    several = skipped = 0
    other: set[str] = set()
    for i, task in enumerate(doc):
        where = f"tasks[{i}]"
        if not isinstance(task, dict):
            raise FormatError("a task must be an object", path=p, where=where)
        anns = task.get("annotations") or task.get("completions") or []
        if not isinstance(anns, list):
            raise FormatError("must be a list", path=p, where=where, field="annotations")
        live = [a for a in anns if isinstance(a, dict) and not a.get("was_cancelled")]
        several += len(live) > 1
        result = live[0].get("result") if live else []
        if not isinstance(result, list):
            raise FormatError("must be a list", path=p, where=where, field="result")
        regions = []
        for j, r in enumerate(result):
            rw = f"{where}.result[{j}]"
            if not isinstance(r, dict) or r.get("type") not in REGION_TYPES:
                other.add(str(r.get("type")) if isinstance(r, dict) else "?")
                continue
            value = r.get("value")
            labels = value.get(r["type"]) if isinstance(value, dict) else None
            if not isinstance(labels, list) or not labels or not isinstance(labels[0], str):
                raise FormatError(
                    "region has no label",
                    path=p,
                    where=rw,
                    field=f"value.{r['type']}",
                    value=labels,
                )
            names.setdefault(labels[0], None)
            regions.append((rw, r, value, labels[0]))
        if not regions:
            skipped += 1
            continue
        tasks.append((i, task, regions))
    tax = Taxonomy([{"id": i + 1, "name": n} for i, n in enumerate(names)])
    out = [_task_annotation(p, i, task, regions, tax) for i, task, regions in tasks]
    if report is not None:
        if several:
            report.note(f"{several} task(s) have several annotations; the first was read")
        if skipped:
            report.note(f"{skipped} task(s) without regions were skipped (size unknown)")
        if other:
            report.note(f"region types not read: {', '.join(sorted(other))}")
    validate_read(out, tax, p)
    return out, tax


def _task_annotation(
    p: Path, i: int, task: dict[str, Any], regions: list, tax: Taxonomy
) -> ImageAnnotation:
    size = None
    for rw, r, _, _ in regions:
        hw = (r.get("original_height"), r.get("original_width"))
        if not all(type(v) is int and v > 0 for v in hw):
            raise FormatError(
                "original_width and original_height must be positive integers",
                path=p,
                where=rw,
                field="original_width",
                value=hw,
            )
        if size is not None and hw != size:
            raise FormatError(
                "regions of one task disagree on the image size",
                path=p,
                where=rw,
                field="original_width",
                value=hw,
            )
        size = hw
    assert size is not None
    h, w = size
    labels_t = np.zeros((w, h), np.int32)
    flat = labels_t.reshape(-1)
    objects: dict[int, ObjectInfo] = {}
    boxes: list[Box] = []
    points: list[dict[str, Any]] = []
    polygons: list[Polygon] = []
    sx, sy = w / 100.0, h / 100.0
    for rw, r, value, label in regions:
        cid = tax.by_name(label).id
        kind = r["type"]
        attrs = {"region_id": r["id"]} if isinstance(r.get("id"), str) else {}

        def coords(*keys: str, value: dict[str, Any] = value, rw: str = rw) -> list[float]:
            vals = [value.get(k, 0 if k == "rotation" else None) for k in keys]
            for k, v in zip(keys, vals):
                if not _num(v):
                    raise FormatError(
                        "must be a number", path=p, where=rw, field=f"value.{k}", value=v
                    )
            return [float(v) for v in vals if v is not None]

        if kind == "keypointlabels":
            x, y = coords("x", "y")
            points.append(
                {"xy": [round(x * sx, 6), round(y * sy, 6)], "class_id": cid, "attributes": attrs}
            )
            continue
        if kind == "rectanglelabels":
            x, y, bw, bh, rot = coords("x", "y", "width", "height", "rotation")
            if rot % 360 == 0:
                x0, y0 = max(x * sx, 0.0), max(y * sy, 0.0)
                x1, y1 = min((x + bw) * sx, float(w)), min((y + bh) * sy, float(h))
                boxes.append(
                    Box(
                        round(x0, 6),
                        round(y0, 6),
                        round(x1, 6),
                        round(y1, 6),
                        class_id=cid,
                        attributes=attrs,
                    )
                )
                continue
            t = math.radians(rot)
            c, s = math.cos(t), math.sin(t)
            x0, y0, ww, hh = x * sx, y * sy, bw * sx, bh * sy
            right = (x0 + ww * c, y0 + ww * s)
            down = (x0 - hh * s, y0 + hh * c)
            poly = [[x0, y0], list(right), [right[0] - hh * s, right[1] + hh * c], list(down)]
            attrs["rotation"] = rot
            mask_runs = rle.polygon_runs([poly], h, w)
        elif kind == "polygonlabels":
            pts = value.get("points")
            arr = np.asarray(pts if isinstance(pts, list) else [], dtype=object)
            try:
                xy = np.asarray(arr.tolist(), dtype=np.float64)
            except (TypeError, ValueError):
                xy = np.zeros((0, 0))
            if xy.ndim != 2 or xy.shape[1] != 2 or len(xy) < 3 or not np.isfinite(xy).all():
                raise FormatError(
                    "points must be at least 3 [x, y] percentages",
                    path=p,
                    where=rw,
                    field="value.points",
                    value=pts,
                )
            mask_runs = rle.polygon_runs([xy * [sx, sy]], h, w)
            # the file's vertices in pixels, for the polygons layer and polygon exports
            polygons.append(Polygon(Ring(xy * [sx, sy]), cid, len(objects) + 1, (), "todo",
                                    dict(attrs)))  # fmt: skip
        else:  # brushlabels
            if value.get("format", "rle") != "rle" or not isinstance(value.get("rle"), list):
                raise FormatError(
                    "brush region needs format 'rle' and an 'rle' list",
                    path=p,
                    where=rw,
                    field="value.rle",
                )
            try:
                flat_rgba = brush_decode(value["rle"])
            except ValueError as exc:
                raise FormatError(
                    f"invalid brush RLE: {exc}", path=p, where=rw, field="value.rle"
                ) from None
            if flat_rgba.size != h * w * 4:
                raise FormatError(
                    f"brush RLE holds {flat_rgba.size} values, the {w}x{h} image "
                    f"needs {h * w * 4}",
                    path=p,
                    where=rw,
                    field="value.rle",
                    value=flat_rgba.size,
                )
            mask = flat_rgba.reshape(h, w, 4)[..., 3] > 0
            k = len(objects) + 1
            objects[k] = ObjectInfo(cid, attrs)
            labels_t[mask.T] = k
            continue
        k = len(objects) + 1
        objects[k] = ObjectInfo(cid, attrs)
        _, col, r0, r1 = mask_runs
        flat[rle.run_pixels(col, r0, r1, h)] = k
    labels = np.ascontiguousarray(labels_t.T)
    if objects:
        present = set(np.unique(labels).tolist())
        objects = {k: o for k, o in objects.items() if k in present}
    polygons = [pg for pg in polygons if pg.instance_id in objects]
    meta: dict[str, Any] = {"points": points} if points else {}
    if isinstance(task.get("id"), int):
        meta["labelstudio_task"] = task["id"]
    return ImageAnnotation(
        _image_name(task, i),
        (h, w),
        instances=labels if objects else None,
        objects=objects,
        boxes=boxes,
        metadata=meta,
        polygons=polygons,
    )


# -- writing ----------------------------------------------------------------------------
def to_list(annotations: list[ImageAnnotation], taxonomy: Taxonomy) -> list[dict[str, Any]]:
    """The Label Studio task list (see the module doc)."""
    tasks = []
    for i, ann in enumerate(annotations):
        if ann.ndim != 2:
            raise FormatError(
                "Label Studio images are 2D", where=ann.image_name, field="shape", value=ann.shape
            )
        h, w = ann.plane_shape
        base = {
            "original_width": w,
            "original_height": h,
            "image_rotation": 0,
            "from_name": "label",
            "to_name": "image",
            "origin": "manual",
        }
        result: list[dict[str, Any]] = []

        def region(
            kind: str,
            value: dict[str, Any],
            cid: int,
            rid: str,
            base: dict[str, Any] = base,
            result: list[dict[str, Any]] = result,
        ) -> None:
            value[kind] = [taxonomy[cid].name]
            result.append({**base, "id": rid, "type": kind, "value": value})

        outlines = outline_index(ann)
        if ann.instances is not None:
            labels = np.asarray(ann.instances)
            for k, sl, obj, crop in iter_instance_crops(ann, labels):
                own = outlines.kept((), k, crop, sl) if outlines else None
                if own is not None and len(own) == 1 and not own[0].ring.hole:
                    # one outline of its own (read or drawn): a polygon region keeps it
                    pts = (own[0].ring.xy / [w / 100.0, h / 100.0]).tolist()
                    rid = obj.attributes.get("region_id") or f"i{k}"
                    region("polygonlabels", {"points": pts, "closed": True}, obj.class_id, rid)
                    continue
                mask = np.zeros((h, w), bool)
                mask[sl] = crop
                rid = obj.attributes.get("region_id") or f"i{k}"
                region(
                    "brushlabels", {"format": "rle", "rle": mask_to_brush(mask)}, obj.class_id, rid
                )
        for j, b in enumerate(ann.boxes):
            value = {
                "x": b.x0 / w * 100,
                "y": b.y0 / h * 100,
                "width": b.width / w * 100,
                "height": b.height / h * 100,
                "rotation": 0,
            }
            region("rectanglelabels", value, b.class_id, b.attributes.get("region_id") or f"b{j}")
        for j, pt in enumerate(ann.metadata.get("points") or ()):
            x, y = pt["xy"]
            value = {"x": x / w * 100, "y": y / h * 100, "width": 0.5}
            rid = (pt.get("attributes") or {}).get("region_id") or f"p{j}"
            region("keypointlabels", value, pt["class_id"], rid)
        tid = ann.metadata.get("labelstudio_task", i + 1)
        tasks.append(
            {
                "id": tid,
                "data": {"image": ann.image_path or ann.image_name},
                "annotations": [
                    {"id": i + 1, "result": result, "was_cancelled": False, "ground_truth": False}
                ],
                "predictions": [],
            }
        )
    return tasks


def write(path: str | Path, annotations: list[ImageAnnotation], taxonomy: Taxonomy) -> list[Path]:
    """Write a Label Studio JSON export (one ``.json`` file, atomically)."""
    p = Path(path)
    annotations = check_annotations(annotations, taxonomy, p)
    atomic_write_text(p, json.dumps(to_list(annotations, taxonomy)))
    return [p]
