"""COCO keypoints (person-keypoints style): ``keypoints``, ``num_keypoints`` and skeletons.

Each annotation holds ``keypoints: [x1, y1, v1, ...]`` (pixels, COCO visibility 0/1/2),
``num_keypoints`` (how many have v > 0), ``bbox`` ``[x, y, w, h]`` and ``area``; each
category lists its ``keypoints`` names and a 1-based ``skeleton`` edge list. Classes of
the taxonomy carry the same as a :class:`~napari_labelsuite.core.objects.Skeleton`
(0-based edges). COCO has no place for left/right swaps: they are written as an extra
``flip_pairs`` key and, when absent, paired by name (``left_x`` with ``right_x``).

Objects become ``Keypoints`` (with ``box``) in ``ImageAnnotation.keypoints``; keypoint
values round-trip exactly (JSON keeps every float), boxes to floating-point rounding.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ..annotation import ImageAnnotation
from ..errors import FormatError, LabelsuiteError, ObjectKindError
from ..objects.keypoints import Keypoints, check_keypoints
from ..taxonomy import Taxonomy
from ..validate import (
    NUMBER,
    STRING,
    Field,
    _is_int,
    _is_num,
    check_fields,
    check_pixels,
    load_json,
)
from ._common import StagedFiles, check_annotations

__all__ = ["read", "write"]


def _pairs(v: list) -> bool:
    return all(
        isinstance(e, list) and len(e) == 2 and all(_is_int(x) for x in e) for e in v
    )  # fmt: skip


_PAIRS = "must be a list of [a, b] integer pairs"
# one schema per record: the types every field must have before it is used
_CATEGORY = {
    "id": Field((int,), required=True),
    "name": STRING,
    "keypoints": Field(
        (list,),
        nullable=True,
        check=lambda v: all(isinstance(n, str) for n in v),
        message="must be a list of names",
    ),  # fmt: skip
    "skeleton": Field((list,), nullable=True, check=_pairs, message=_PAIRS),
    "flip_pairs": Field((list,), nullable=True, check=_pairs, message=_PAIRS),
}
_ANNOTATION = {
    "image_id": Field((int, str)),
    "category_id": Field((int,), required=True),
    "keypoints": Field(
        (list,),
        check=lambda v: all(_is_num(x) for x in v),
        message="must be a list of finite numbers",
    ),  # fmt: skip
    "num_keypoints": Field((int,), nullable=True),
    "bbox": Field(
        (list,),
        nullable=True,
        check=lambda v: len(v) == 4 and all(_is_num(x) for x in v),
        message="must be 4 finite numbers [x, y, w, h]",
    ),  # fmt: skip
    "area": NUMBER,
}
_IMAGE = {
    "id": Field((int, str)),
    "file_name": Field((str,), required=True),
    "height": Field((int,), required=True),
    "width": Field((int,), required=True),
}


def _flip_by_name(names: list[str]) -> list[tuple[int, int]]:
    pairs = []
    for i, n in enumerate(names):
        if n.startswith("left_") and f"right_{n[5:]}" in names:
            pairs.append((i, names.index(f"right_{n[5:]}")))
    return pairs


def write(path: str | Path, annotations: list[ImageAnnotation], taxonomy: Taxonomy) -> Path:
    """Write one COCO keypoints JSON file (atomically) from the annotations' keypoints.

    Every class used needs a skeleton of the same length as its keypoint sets, and every
    keypoint set its box (``Keypoints.box``).
    """
    out = Path(path)
    annotations = check_annotations(annotations, taxonomy, out)
    cats = []
    for c in taxonomy:
        d: dict[str, Any] = {"id": c.id, "name": c.name, "supercategory": ""}
        if c.skeleton is not None:
            d["keypoints"] = list(c.skeleton.names)
            d["skeleton"] = [[p + 1, q + 1] for p, q in c.skeleton.edges]
            d["flip_pairs"] = [list(e) for e in c.skeleton.flip_pairs]
        cats.append(d)
    images: list[dict[str, Any]] = []
    anns: list[dict[str, Any]] = []
    for i, ann in enumerate(annotations, start=1):
        h, w = ann.plane_shape
        images.append({"id": i, "file_name": ann.image_name, "height": h, "width": w})
        for j, kp in enumerate(ann.keypoints):
            where = f"{ann.image_name}: keypoints[{j}]"
            sk = taxonomy[kp.class_id].skeleton if kp.class_id in taxonomy else None
            if sk is None or kp.box is None:
                raise FormatError(
                    "keypoints need a class with a skeleton and the object's box",
                    path=out, where=where, field="class_id", value=kp.class_id,
                )  # fmt: skip
            try:
                xyv = check_keypoints(kp.xyv, len(sk.names), where=where)
            except ObjectKindError as exc:
                raise exc.replace(FormatError, path=out) from None
            x0, y0, x1, y1 = (float(v) for v in kp.box)
            area = kp.attributes.get("area", (x1 - x0) * (y1 - y0))
            rec = {
                "id": len(anns) + 1,
                "image_id": i,
                "category_id": kp.class_id,
                "keypoints": [float(v) if k % 3 < 2 else int(v)
                              for k, v in enumerate(xyv.ravel())],
                "num_keypoints": int((xyv[:, 2] > 0).sum()),
                "bbox": [x0, y0, x1 - x0, y1 - y0],
                "area": float(area),
                "iscrowd": 0,
            }  # fmt: skip
            anns.append(rec)
    doc = {"images": images, "annotations": anns, "categories": cats}
    with StagedFiles(out.parent, replace=(out.name,)) as stage:
        stage.write_text(out.name, json.dumps(doc))
    return out


def read(path: str | Path) -> tuple[list[ImageAnnotation], Taxonomy]:
    """Read a COCO keypoints JSON file: one annotation per image, classes with skeletons.

    Raises
    ------
    FormatError
        Naming the record: wrong keypoint count for the category, visibility outside
        0/1/2, ``num_keypoints`` that disagrees with the visibilities, bad skeletons.
    """
    p = Path(path)
    doc = load_json(p, what="COCO keypoints file")  # regular file, UTF-8, bounded nesting
    if not isinstance(doc, dict) or not all(
        isinstance(doc.get(k), list) for k in ("images", "annotations", "categories")
    ):
        raise FormatError("needs 'images', 'annotations' and 'categories' lists", path=p)
    classes = []
    for i, c in enumerate(doc["categories"]):
        check_fields(c, _CATEGORY, path=p, where=f"categories[{i}]", what="category")
        d: dict[str, Any] = {"id": c.get("id"), "name": c.get("name")}
        names = c.get("keypoints")
        if names:
            edges = [[int(a) - 1, int(b) - 1] for a, b in c.get("skeleton") or []]
            flips = c.get("flip_pairs")
            flips = flips if flips is not None else _flip_by_name([str(n) for n in names])
            d["keypoints"] = {"names": names, "edges": edges, "flip_pairs": flips}
        classes.append(d)
    try:
        tax = Taxonomy(classes)
    except LabelsuiteError as exc:
        raise exc.replace(FormatError, path=p) from None
    by_image: dict[Any, list[Keypoints]] = {}
    for i, a in enumerate(doc["annotations"]):
        where = f"annotations[{i}]"
        check_fields(a, _ANNOTATION, path=p, where=where, what="annotation")
        if "keypoints" not in a:
            continue
        cid = a.get("category_id")
        if cid not in tax or tax[cid].skeleton is None:
            raise FormatError("category has no keypoint names", path=p, where=where,
                              field="category_id", value=cid)  # fmt: skip
        sk = tax[cid].skeleton
        assert sk is not None
        try:
            xyv = check_keypoints(a["keypoints"], len(sk.names), where=f"{where}.keypoints")
        except ObjectKindError as exc:
            raise exc.replace(FormatError, path=p) from None
        n = a.get("num_keypoints")
        if n is not None and int(n) != int((xyv[:, 2] > 0).sum()):
            raise FormatError("num_keypoints disagrees with the visibilities", path=p,
                              where=where, field="num_keypoints", value=n)  # fmt: skip
        x, y, w, h = (float(v) for v in a.get("bbox") or (0, 0, 0, 0))
        attrs = {}
        if "area" in a and not np.isclose(float(a["area"]), w * h):
            attrs["area"] = float(a["area"])
        by_image.setdefault(a.get("image_id"), []).append(
            Keypoints(xyv, int(cid), box=(x, y, x + w, y + h), attributes=attrs)
        )
    out = []
    for i, im in enumerate(doc["images"]):
        where = f"images[{i}]"
        check_fields(im, _IMAGE, path=p, where=where, what="image")
        hw = check_pixels((im["height"], im["width"]), path=p, where=where, field="height, width")
        out.append(
            ImageAnnotation(
                im["file_name"], hw, keypoints=by_image.get(im.get("id"), [])
            )
        )  # fmt: skip
    return out, tax
