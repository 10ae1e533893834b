"""COCO panoptic: a JSON file plus one RGB PNG of segment ids per image.

Layout (as ``panopticapi`` and Detectron2 write it)::

    panoptic_val2017.json          images, annotations (file_name, segments_info), categories
    panoptic_val2017/<name>.png    segment id = R + 256 G + 256^2 B (0: void)

Reading gives, per image, a semantic mask (every segment's category) and an instance mask
of the ``isthing`` segments (numbered 1..n in ``segments_info`` order; the panoptic segment
id is kept as the ``segment_id`` attribute, ``iscrowd`` as ``iscrowd``). The PNG folder is
the JSON's name without ``.json``, or the folder next to it that holds the first PNG.

Writing does the inverse: instances become thing segments (id = instance id), semantic
pixels outside every instance become one stuff segment per class; ``isthing`` is 1 for the
classes that have instances.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ..annotation import ImageAnnotation, ObjectInfo
from ..errors import FormatError, TaxonomyError
from ..taxonomy import Taxonomy
from ._common import (
    ReadReport,
    StagedFiles,
    check_annotations,
    reading,
    unique_stems,
    validate_read,
)
from .coco import taxonomy_from_coco

__all__ = ["id_to_rgb", "is_panoptic", "read", "rgb_to_id", "write"]


def is_panoptic(doc: Any) -> bool:
    anns = doc.get("annotations") if isinstance(doc, dict) else None
    return (
        isinstance(anns, list)
        and bool(anns)
        and isinstance(anns[0], dict)
        and "segments_info" in anns[0]
    )


def rgb_to_id(rgb: np.ndarray) -> np.ndarray:
    """panopticapi's ``rgb2id``: ``R + 256 G + 256^2 B`` of an (h, w, 3) array."""
    c = np.asarray(rgb).astype(np.int64)
    return c[..., 0] + 256 * c[..., 1] + 256 * 256 * c[..., 2]


def id_to_rgb(ids: np.ndarray) -> np.ndarray:
    """panopticapi's ``id2rgb``: the inverse of :func:`rgb_to_id`, as uint8 RGB."""
    ids = np.asarray(ids, dtype=np.int64)
    return np.stack([ids % 256, ids // 256 % 256, ids // 65536 % 256], axis=-1).astype(np.uint8)


def _png_dir(json_path: Path, first: str | None) -> Path:
    cands = [json_path.with_suffix(""), json_path.parent / "panoptic", json_path.parent]
    cands += sorted(d for d in json_path.parent.glob("panoptic*") if d.is_dir())
    for d in cands:
        if d.is_dir() and (first is None or (d / first).is_file()):
            return d
    raise FormatError(
        "the folder of panoptic PNGs was not found (looked for the JSON's name without "
        ".json and panoptic* folders next to it)",
        path=json_path,
        field="file_name",
        value=first,
    )


def read(
    path: str | Path, *, report: ReadReport | None = None
) -> tuple[list[ImageAnnotation], Taxonomy]:
    """Read a COCO panoptic JSON file and its PNGs.

    Raises
    ------
    FormatError
        Naming the file, the record and the field: invalid JSON, missing keys, a PNG that
        is missing, has another size than its image or holds segment ids not listed in
        ``segments_info``, unknown categories.
    """
    p = Path(path)
    from ..validate import load_json

    doc = load_json(p, what="COCO panoptic file")  # regular file, UTF-8, bounded nesting
    if not is_panoptic(doc) or not isinstance(doc.get("categories"), list):
        raise FormatError(
            "not a COCO panoptic file (no annotations with segments_info)",
            path=p,
            field="annotations",
        )
    try:
        tax = taxonomy_from_coco(doc["categories"], path=p)
    except TaxonomyError as exc:
        raise exc.replace(FormatError, path=p, where=exc.where or "categories") from exc
    things = {c["id"] for c in doc["categories"] if c.get("isthing", 1)}
    if not isinstance(doc.get("images") or [], list):
        raise FormatError(
            "must be a list", path=p, field="images", value=type(doc["images"]).__name__
        )
    images = {}
    for i, img in enumerate(doc.get("images") or []):
        if not isinstance(img, dict) or type(img.get("id")) is not int:
            raise FormatError(
                "image record needs an integer id", path=p, where=f"images[{i}]", field="id"
            )
        images[img["id"]] = img
    first = doc["annotations"][0].get("file_name")
    png_dir = _png_dir(p, first if isinstance(first, str) else None)
    out = []
    for i, a in enumerate(doc["annotations"]):
        where = f"annotations[{i}]"
        if not isinstance(a, dict) or not isinstance(a.get("file_name"), str):
            raise FormatError(
                "annotation needs a file_name", path=p, where=where, field="file_name"
            )
        image_id = a.get("image_id")
        if image_id is not None and type(image_id) is not int:
            raise FormatError(
                "must be an integer", path=p, where=where, field="image_id", value=image_id
            )
        segs = a.get("segments_info")
        if not isinstance(segs, list):
            raise FormatError("must be a list", path=p, where=where, field="segments_info")
        out.append(
            _read_one(p, png_dir, where, a, segs, images.get(a.get("image_id")), tax, things)
        )
    if report is not None:
        report.note(f"PNG segments read from {png_dir.name}/")
    validate_read(out, tax, p)
    return out, tax


def _read_one(
    p: Path,
    png_dir: Path,
    where: str,
    a: dict[str, Any],
    segs: list[Any],
    img: dict[str, Any] | None,
    tax: Taxonomy,
    things: set[int],
) -> ImageAnnotation:
    from PIL import Image

    from ..validate import check_pixels

    f = png_dir / a["file_name"]
    with reading(f):
        if not f.is_file():
            raise FormatError("panoptic PNG is missing", path=f, where=where, field="file_name")
        try:
            with Image.open(f) as im:
                # the header's size is checked before decoding: a small file may declare
                # gigabytes of pixels
                check_pixels((im.size[1], im.size[0]), path=f, where=where, field="size")
                rgb = np.asarray(im.convert("RGB"))
        except (OSError, FormatError):
            raise
        except Exception as exc:  # PIL raises SyntaxError, ValueError... on broken PNGs
            raise FormatError(f"cannot decode panoptic PNG: {exc}", path=f, where=where) from None
    ids = rgb_to_id(rgb)
    h, w = ids.shape
    if img is not None and (img.get("height"), img.get("width")) != (h, w):
        raise FormatError(
            f"PNG is {w}x{h}, the image record says otherwise",
            path=f,
            where=where,
            field="width",
            value=(img.get("width"), img.get("height")),
        )
    lut_class: dict[int, int] = {}
    lut_inst: dict[int, int] = {}
    objects: dict[int, ObjectInfo] = {}
    for j, s in enumerate(segs):
        sw = f"{where}.segments_info[{j}]"
        if (
            not isinstance(s, dict)
            or type(s.get("id")) is not int
            or type(s.get("category_id")) is not int
        ):
            raise FormatError("segment needs integer id and category_id", path=p, where=sw)
        if s["category_id"] not in tax:
            raise FormatError(
                "category_id is not in categories",
                path=p,
                where=sw,
                field="category_id",
                value=s["category_id"],
            )
        lut_class[s["id"]] = s["category_id"]
        if s["category_id"] in things:
            k = len(objects) + 1
            attrs: dict[str, Any] = {"segment_id": s["id"]}
            if s.get("iscrowd"):
                attrs["iscrowd"] = True
            objects[k] = ObjectInfo(s["category_id"], attrs)
            lut_inst[s["id"]] = k
    present = np.unique(ids)
    unknown = [int(v) for v in present if v and int(v) not in lut_class]
    if unknown:
        raise FormatError(
            "PNG holds segment ids missing from segments_info",
            path=f,
            where=where,
            field="segments_info",
            value=unknown[:5],
        )
    keys = np.asarray(sorted(lut_class), dtype=np.int64)
    idx = np.searchsorted(keys, ids)
    idx = np.clip(idx, 0, max(len(keys) - 1, 0))
    hit = (ids != 0) & (keys[idx] == ids) if len(keys) else np.zeros_like(ids, bool)
    classes = np.asarray([lut_class[int(k)] for k in keys], dtype=np.int32)
    semantic = np.where(hit, classes[idx] if len(keys) else 0, 0).astype(np.int32)
    inst_of = np.asarray([lut_inst.get(int(k), 0) for k in keys], dtype=np.int32)
    instances = np.where(hit, inst_of[idx] if len(keys) else 0, 0).astype(np.int32)
    name = img.get("file_name") if img is not None else None
    return ImageAnnotation(
        name if isinstance(name, str) else Path(a["file_name"]).with_suffix(".jpg").name,
        (h, w),
        semantic=semantic,
        instances=instances if objects else None,
        objects={k: o for k, o in objects.items() if k in set(np.unique(instances).tolist())},
        metadata={"coco_image_id": a.get("image_id")} if a.get("image_id") is not None else {},
    )


def write(path: str | Path, annotations: list[ImageAnnotation], taxonomy: Taxonomy) -> list[Path]:
    """Write ``<name>.json`` and the ``<name>/`` PNG folder (all or none).

    ``path`` is the JSON file; the PNGs go into the folder of the same name.
    """
    from PIL import Image

    p = Path(path)
    if p.suffix.lower() != ".json":
        raise FormatError("give the panoptic .json path", path=p, field="path")
    annotations = check_annotations(annotations, taxonomy, p)
    stems = unique_stems(annotations, p)
    thing_classes = {o.class_id for a in annotations for o in a.objects.values()}
    doc: dict[str, Any] = {
        "info": {"description": "exported by napari-labelsuite"},
        "licenses": [],
        "images": [],
        "annotations": [],
        "categories": [],
    }
    for c in taxonomy:
        cat = {
            "id": c.id,
            "name": c.name,
            "supercategory": taxonomy.root(c.id).name,
            "isthing": int(c.id in thing_classes),
        }
        if c.color is not None:
            cat["color"] = [int(round(v * 255)) for v in c.color[:3]]
        doc["categories"].append(cat)
    folder = p.with_suffix("")
    with StagedFiles(p.parent) as stage:
        for i, (ann, stem) in enumerate(zip(annotations, stems), start=1):
            if ann.ndim != 2:
                raise FormatError(
                    "panoptic images are 2D", where=ann.image_name, field="shape", value=ann.shape
                )
            h, w = ann.plane_shape
            ids = np.zeros((h, w), np.int64)
            segs = []
            inst = None if ann.instances is None else np.asarray(ann.instances)
            if inst is not None:
                for k in np.unique(inst[inst > 0]).tolist():
                    m = inst == k
                    ids[m] = k
                    segs.append(
                        _segment(
                            k,
                            ann.objects[k].class_id,
                            m,
                            ann.objects[k].attributes.get("iscrowd", False),
                        )
                    )
            if ann.semantic is not None:
                sem = np.asarray(ann.semantic)
                free = (sem > 0) if inst is None else (sem > 0) & (inst == 0)
                nxt = int(ids.max()) + 1
                for c in np.unique(sem[free]).tolist():
                    m = free & (sem == c)
                    ids[m] = nxt
                    segs.append(_segment(nxt, int(c), m, False))
                    nxt += 1
            if ids.max() >= 256**3:
                raise FormatError(
                    "segment ids above 2**24 - 1 do not fit an RGB PNG",
                    where=ann.image_name,
                    value=int(ids.max()),
                )
            png = f"{stem}.png"
            Image.fromarray(id_to_rgb(ids)).save(stage.path(f"{folder.name}/{png}"), format="PNG")
            doc["images"].append({"id": i, "file_name": ann.image_name, "width": w, "height": h})
            doc["annotations"].append({"image_id": i, "file_name": png, "segments_info": segs})
        stage.write_text(p.name, json.dumps(doc))
    return stage.written()


def _segment(sid: int, cid: int, m: np.ndarray, crowd: bool) -> dict[str, Any]:
    rows, cols = np.flatnonzero(m.any(1)), np.flatnonzero(m.any(0))
    bbox = [int(cols[0]), int(rows[0]), int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1)]
    return {
        "id": int(sid),
        "category_id": int(cid),
        "area": int(m.sum()),
        "bbox": bbox,
        "iscrowd": int(bool(crowd)),
    }
