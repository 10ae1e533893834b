"""COCO results: the list of detections / segmentations with scores a model writes.

``[{"image_id", "category_id", "bbox": [x, y, w, h], "score"}, ...]``, optionally with a
``segmentation`` (RLE, or polygons). Image sizes and names come from the ground-truth
COCO file (``images=``, as ``COCO.loadRes`` needs it too); without one, RLE sizes give
the size (``image_id`` becomes the name) and a box-only result list is refused. Category
ids and 0-based ids are read as in :mod:`.coco` (with the same taxonomy when ``images=``
is given). Every detection keeps its ``score`` attribute; images are marked
``metadata["predictions"] = True``, for comparing against ground truth in QC.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ..annotation import Box, ImageAnnotation, ObjectInfo
from ..errors import FormatError
from ..fileio import atomic_write_text
from ..taxonomy import Taxonomy
from . import coco, rle
from ._common import ReadReport, check_annotations, iter_instance_crops, validate_read

__all__ = ["is_results", "read", "write"]


def is_results(doc: Any) -> bool:
    return (
        isinstance(doc, list)
        and bool(doc)
        and isinstance(doc[0], dict)
        and "image_id" in doc[0]
        and "score" in doc[0]
    )


def _load(p: Path) -> Any:
    from ..validate import load_json

    return load_json(p, what="COCO results file")  # regular file, UTF-8, bounded nesting


def read(
    path: str | Path,
    *,
    images: str | Path | None = None,
    report: ReadReport | None = None,
) -> tuple[list[ImageAnnotation], Taxonomy]:
    """Read a COCO results list as prediction annotations.

    Parameters
    ----------
    images : path, optional
        The ground-truth COCO file: image sizes, names and categories.

    Raises
    ------
    FormatError
        Naming the file, the entry (``results[i]``) and the field.
    """
    p = Path(path)
    doc = _load(p)
    if not is_results(doc):
        raise FormatError(
            "not a COCO results list (entries with image_id and score)", path=p, field="results"
        )
    sizes: dict[int, tuple[str, int, int]] = {}
    tax: Taxonomy | None = None
    shift = 0
    if images is not None:
        gt_path = Path(images)
        gt = _load(gt_path)
        for key in ("images", "categories"):
            if not isinstance(gt, dict) or not isinstance(gt.get(key), list):
                raise FormatError(
                    f"the ground-truth file has no {key} list", path=gt_path, field=key
                )
        shift = coco._zero_based_shift(gt)
        tax = coco._taxonomy(gt, gt_path, shift)
        from ..validate import check_pixels

        for j, img in enumerate(gt["images"]):
            if isinstance(img, dict) and type(img.get("id")) is int:
                h, w = check_pixels(
                    (img.get("height"), img.get("width")), path=gt_path,
                    where=f"images[{j}]", field="height, width",
                )  # fmt: skip
                sizes[img["id"]] = (str(img.get("file_name", img["id"])), h, w)
    per_image: dict[int, list[tuple[str, dict[str, Any]]]] = {}
    cats: dict[int, None] = {}
    for i, r in enumerate(doc):
        where = f"results[{i}]"
        for key in ("image_id", "category_id"):
            if not isinstance(r, dict) or type(r.get(key)) is not int:
                raise FormatError(
                    "must be an integer",
                    path=p,
                    where=where,
                    field=key,
                    value=r.get(key) if isinstance(r, dict) else r,
                )
        if not coco._is_number(r.get("score")):
            raise FormatError(
                "must be a number", path=p, where=where, field="score", value=r.get("score")
            )
        iid = r["image_id"]
        if iid not in sizes:
            seg = r.get("segmentation")
            if (
                images is not None
                or not isinstance(seg, dict)
                or not isinstance(seg.get("size"), list)
            ):
                raise FormatError(
                    "image size unknown: pass the ground-truth COCO file "
                    "(images=) or use RLE segmentations",
                    path=p,
                    where=where,
                    field="image_id",
                    value=iid,
                )
            from ..validate import check_pixels

            # the size of an image known only from its RLE: two positive whole numbers
            # within the pixel limit (an allocation follows)
            if len(seg["size"]) != 2:
                raise FormatError("must be [height, width]", path=p, where=where,
                                  field="segmentation.size", value=seg["size"])  # fmt: skip
            h, w = check_pixels(seg["size"], path=p, where=where, field="segmentation.size")
            sizes[iid] = (str(iid), h, w)
        cats.setdefault(r["category_id"] + shift, None)
        per_image.setdefault(iid, []).append((where, r))
    if tax is None:
        tax = Taxonomy([{"id": c, "name": f"category {c - shift}"} for c in sorted(cats)])
    out = []
    for iid, items in per_image.items():
        name, h, w = sizes[iid]
        out.append(_image(p, iid, name, h, w, items, tax, shift))
    if report is not None:
        report.note("read as predictions (with scores)")
        if shift:
            report.note("category ids start at 0 and were read as id + 1")
    validate_read(out, tax, p)
    return out, tax


def _image(
    p: Path, iid: int, name: str, h: int, w: int, items: list, tax: Taxonomy, shift: int
) -> ImageAnnotation:
    labels_t = np.zeros((w, h), np.int32)
    flat = labels_t.reshape(-1)
    objects: dict[int, ObjectInfo] = {}
    boxes: list[Box] = []
    # paint low scores first so the most confident detection wins an overlap
    for where, r in sorted(items, key=lambda t: float(t[1]["score"])):
        cid = r["category_id"] + shift
        if cid not in tax:
            raise FormatError(
                "category_id is not in categories",
                path=p,
                where=where,
                field="category_id",
                value=r["category_id"],
            )
        attrs = {"score": float(r["score"])}
        seg = r.get("segmentation")
        if seg:
            kind = coco._check_segmentation(seg, h, w, p, where)
            k = len(objects) + 1
            objects[k] = ObjectInfo(cid, attrs)
            if kind == "rle":
                counts = seg["counts"]
                c = rle.string_to_counts(counts) if isinstance(counts, str) else np.asarray(counts)
                rle.paint_counts(flat, c, k)
            else:
                _, col, r0, r1 = rle.polygon_runs(seg, h, w)
                flat[rle.run_pixels(col, r0, r1, h)] = k
            continue
        bbox = r.get("bbox")
        if (
            not isinstance(bbox, list)
            or len(bbox) != 4
            or not all(coco._is_number(v) for v in bbox)
        ):
            raise FormatError(
                "bbox must be 4 numbers [x, y, w, h]",
                path=p,
                where=where,
                field="bbox",
                value=bbox,
            )
        x, y, bw, bh = (float(v) for v in bbox)
        x0, y0, x1, y1 = max(x, 0.0), max(y, 0.0), min(x + bw, float(w)), min(y + bh, float(h))
        if x1 <= x0 or y1 <= y0:
            raise FormatError(
                f"bbox has no area inside the {w}x{h} image",
                path=p,
                where=where,
                field="bbox",
                value=bbox,
            )
        boxes.append(Box(x0, y0, x1, y1, class_id=cid, attributes=attrs))
    labels = np.ascontiguousarray(labels_t.T)
    if objects:
        present = set(np.unique(labels).tolist())
        objects = {k: o for k, o in objects.items() if k in present}
    return ImageAnnotation(
        name,
        (h, w),
        instances=labels if objects else None,
        objects=objects,
        boxes=boxes,
        metadata={"predictions": True, "coco_image_id": iid},
    )


def write(path: str | Path, annotations: list[ImageAnnotation], taxonomy: Taxonomy) -> list[Path]:
    """Write a COCO results list (instances as RLE, boxes as bbox; ``score`` default 1)."""
    p = Path(path)
    annotations = check_annotations(annotations, taxonomy, p)
    out: list[dict[str, Any]] = []
    for i, ann in enumerate(annotations, start=1):
        if ann.ndim != 2:
            raise FormatError(
                "COCO results are 2D", where=ann.image_name, field="shape", value=ann.shape
            )
        iid = ann.metadata.get("coco_image_id", i)
        h, w = ann.plane_shape
        if ann.instances is not None:
            for _k, sl, obj, crop in iter_instance_crops(ann, np.asarray(ann.instances)):
                r0, c0 = sl[0].start, sl[1].start
                counts = rle.counts_from_crop(crop, r0, c0, h, w)
                out.append(
                    {
                        "image_id": iid,
                        "category_id": obj.class_id,
                        "segmentation": {"size": [h, w], "counts": rle.counts_to_string(counts)},
                        "bbox": [c0, r0, crop.shape[1], crop.shape[0]],
                        "score": float(obj.attributes.get("score", 1.0)),
                    }
                )
        for b in ann.boxes:
            out.append(
                {
                    "image_id": iid,
                    "category_id": b.class_id,
                    "bbox": [b.x0, b.y0, b.width, b.height],
                    "score": float(b.attributes.get("score", 1.0)),
                }
            )
    atomic_write_text(p, json.dumps(out))
    return [p]
