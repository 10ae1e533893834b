"""YOLO (Ultralytics layout): detection and segmentation label files plus ``data.yaml``.

Layout written under the dataset directory::

    data.yaml                      path, train/val image folders, names {index: name}
    labels/<split>/<stem>.txt      one row per object; images of >2 dimensions get one
                                   file per plane, named <stem>_z003.txt and so on
    labelsuite.json                taxonomy, image shapes, plane of every label file and
                                   per-row instance ids, attributes and review fields
                                   (YOLO itself has no place for them)

Rows are ``cls cx cy w h`` (``task="detect"``) or ``cls x1 y1 ... xn yn``
(``task="segment"``: the outline of each part of an instance, holes filled, since YOLO
polygons cannot hold holes), normalised to [0, 1], with 0-based class indices in
taxonomy order. Without ``labelsuite.json`` (files from other tools) image sizes are taken
from ``images/<split>/<stem>.*`` and each label file is one 2D image.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from scipy import ndimage as ndi

from ..annotation import Box, ImageAnnotation, ObjectInfo
from ..boxes import boxes_from_instances
from ..errors import FormatError, TaxonomyError
from ..taxonomy import Taxonomy
from ._common import (
    StagedFiles,
    check_annotations,
    iter_instance_crops,
    mask_polygons,
    plane_label,
    plane_of,
    planes,
    polygons_to_mask,
    reading,
    unique_stems,
    validate_read,
)

__all__ = ["SIDECAR", "TASKS", "read", "write"]

TASKS = ("detect", "segment")
SIDECAR = "labelsuite.json"
_REVIEW = ("status", "reviewer", "reviewed_at")
_IMAGE_EXTS = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp")


def _fmt(v: float) -> str:
    return f"{v:.12g}"


def _meta(obj: Any, instance_id: int = 0) -> dict[str, Any]:
    d: dict[str, Any] = {}
    if instance_id:
        d["instance_id"] = int(instance_id)
    if obj.attributes:
        d["attributes"] = dict(obj.attributes)
    for k in _REVIEW:
        v = getattr(obj, k)
        if v not in (None, "todo"):
            d[k] = v
    return d


# -- writing --------------------------------------------------------------------------
def write(
    path: str | Path,
    annotations: list[ImageAnnotation],
    taxonomy: Taxonomy,
    *,
    task: str = "detect",
    split: str = "train",
) -> list[Path]:
    """Write a YOLO dataset directory (all files or none).

    Parameters
    ----------
    path : path
        The dataset directory (``data.yaml`` goes there).
    task : {"detect", "segment"}
        Boxes (derived from the instance mask when an image has no boxes) or instance
        outlines.
    split : str
        The split folder name under ``labels/`` and ``images/``.

    Returns
    -------
    list of Path
        The files written.
    """
    import yaml

    root = Path(path)
    if task not in TASKS:
        raise FormatError(f"task must be one of {TASKS}", path=root, field="task", value=task)
    if not split or "/" in split or "\\" in split:
        raise FormatError(
            "split must be a plain folder name", path=root, field="split", value=split
        )
    annotations = check_annotations(annotations, taxonomy, root)
    stems = unique_stems(annotations, root)
    index = taxonomy.id_to_yolo_index()
    data = {
        "path": ".",
        "train": f"images/{split}",
        "val": f"images/{split}",
        "nc": len(taxonomy),
        "names": taxonomy.to_yolo_names(),
    }
    side: dict[str, Any] = {
        "version": 1,
        "task": task,
        "split": split,
        "taxonomy": taxonomy.to_dict(),
        "images": [],
    }
    with StagedFiles(root) as stage:
        stage.write_text("data.yaml", yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
        for ann, stem in zip(annotations, stems):
            rec: dict[str, Any] = {
                "image_name": ann.image_name,
                "shape": list(ann.shape),
                "axes": ann.axes,
                "image_path": ann.image_path,
                "metadata": ann.metadata,
                "files": {},
            }
            if task == "segment":
                rec["objects"] = {str(k): o.to_dict() for k, o in sorted(ann.objects.items())}
            boxes = ann.boxes
            if task == "detect" and not boxes and ann.instances is not None:
                boxes = boxes_from_instances(ann.instances, ann.objects)
            for plane in planes(ann):
                label_stem = stem + plane_label(ann, plane)
                if task == "detect":
                    lines, metas = _detect_rows(ann, boxes, plane, index)
                else:
                    lines, metas = _segment_rows(ann, plane, index)
                stage.write_text(
                    f"labels/{split}/{label_stem}.txt", "".join(f"{ln}\n" for ln in lines)
                )
                rec["files"][label_stem] = {"plane": list(plane), "rows": metas}
            side["images"].append(rec)
        stage.write_text(SIDECAR, json.dumps(side))
    return stage.written()


def _detect_rows(ann, boxes, plane, index) -> tuple[list[str], list[dict[str, Any]]]:
    h, w = ann.plane_shape
    lines, metas = [], []
    for b in boxes:
        if b.plane != plane:
            continue
        cx, cy = (b.x0 + b.x1) / 2 / w, (b.y0 + b.y1) / 2 / h
        vals = (cx, cy, b.width / w, b.height / h)
        lines.append(f"{index[b.class_id]} " + " ".join(_fmt(v) for v in vals))
        metas.append(_meta(b, b.instance_id))
    return lines, metas


def _segment_rows(ann, plane, index) -> tuple[list[str], list[dict[str, Any]]]:
    lines, metas = [], []
    if ann.instances is None:
        return lines, metas
    h, w = ann.plane_shape
    labels = plane_of(ann.instances, plane)
    for k, sl, obj, crop in iter_instance_crops(ann, labels):
        # YOLO polygons cannot hold holes
        crop = ndi.binary_fill_holes(crop)
        for poly in mask_polygons(crop, sl[0].start, sl[1].start):
            xy = poly / np.array([w, h])
            lines.append(f"{index[obj.class_id]} " + " ".join(_fmt(v) for v in xy.ravel()))
            metas.append({"instance_id": k})
    return lines, metas


# -- reading --------------------------------------------------------------------------
def read(path: str | Path) -> tuple[list[ImageAnnotation], Taxonomy]:
    """Read a YOLO dataset (its directory or its ``data.yaml``).

    Raises
    ------
    FormatError
        Naming the file, the line and the field: bad ``data.yaml``, class indices out of
        range, rows with a wrong number of values, values outside [0, 1], polygons with
        fewer than 3 points, unknown image sizes.
    """
    import yaml

    p = Path(path)
    root = p.parent if p.is_file() else p
    data_path = p if p.is_file() else root / "data.yaml"
    with reading(data_path):
        text = data_path.read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise FormatError(
            "not valid YAML",
            path=data_path,
            where=None if mark is None else f"line {mark.line + 1}",
        ) from None
    if not isinstance(data, dict) or "names" not in data:
        raise FormatError("data.yaml needs a 'names' entry", path=data_path, field="names")
    names = data["names"]
    if isinstance(names, list):
        names = dict(enumerate(names))
    if (
        not isinstance(names, dict)
        or any(not isinstance(k, int) or not isinstance(v, str) for k, v in names.items())
        or sorted(names) != list(range(len(names)))
    ):
        raise FormatError(
            "names must map 0..n-1 to class names",
            path=data_path,
            field="names",
            value=data["names"],
        )
    side = None
    side_path = root / SIDECAR
    if side_path.is_file():
        with reading(side_path):
            try:
                side = json.loads(side_path.read_text(encoding="utf-8"))
            except json.JSONDecodeError as exc:
                raise FormatError(
                    f"not valid JSON: {exc.msg}", path=side_path, where=f"line {exc.lineno}"
                ) from None
    try:
        if side is not None:
            tax = Taxonomy.from_dict(side.get("taxonomy"), path=side_path)
        else:
            tax = Taxonomy([{"id": i + 1, "name": names[i]} for i in range(len(names))])
    except TaxonomyError as exc:
        raise FormatError(
            exc.message,
            path=exc.path or data_path,
            where=exc.where,
            field=exc.field,
            value=exc.value,
        ) from exc
    if tax.to_yolo_names() != names:
        raise FormatError(
            "names do not match the taxonomy in labelsuite.json",
            path=data_path,
            field="names",
            value=names,
        )
    to_id = tax.yolo_index_to_id()
    label_files = {f.stem: f for f in sorted((root / "labels").rglob("*.txt"))}
    if side is not None:
        out = _read_with_sidecar(root, side, label_files, to_id, side_path)
    else:
        out = [_read_plain(root, f, to_id) for f in label_files.values()]
    validate_read(out, tax, root)
    return out, tax


def _parse_file(f: Path, h: int, w: int, n_classes: int, task: str | None = None):
    """Rows of one label file: (line number, class index, kind, values).

    A 4-value row is a box unless ``task`` is ``"segment"``, where it is a 2-point polygon.
    """
    with reading(f):
        text = f.read_text(encoding="utf-8")
    rows = []
    for ln, line in enumerate(text.splitlines(), start=1):
        tok = line.split()
        if not tok:
            continue
        where = f"line {ln}"
        try:
            cls = int(tok[0])
            vals = np.array([float(t) for t in tok[1:]])
        except ValueError:
            raise FormatError("values must be numbers", path=f, where=where, value=line) from None
        if not 0 <= cls < n_classes:
            raise FormatError(
                f"class index must be in 0..{n_classes - 1}",
                path=f,
                where=where,
                field="class",
                value=cls,
            )
        if len(vals) == 4 and task != "segment":
            kind = "box"
        elif len(vals) >= 6 and len(vals) % 2 == 0:
            kind = "polygon"
        else:
            raise FormatError(
                "a row needs 4 box values or at least 3 (x, y) polygon points",
                path=f,
                where=where,
                field="values",
                value=len(vals),
            )
        if not np.isfinite(vals).all() or (vals < -1e-9).any() or (vals > 1 + 1e-9).any():
            raise FormatError(
                "normalised values must lie in [0, 1]",
                path=f,
                where=where,
                field="values",
                value=line,
            )
        if kind == "box":
            cx, cy, bw, bh = vals * np.array([w, h, w, h])
            x0, y0, x1, y1 = (
                round(v, 6) for v in (cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2)
            )
            if bw <= 0 or bh <= 0 or x0 < -1e-6 or y0 < -1e-6 or x1 > w + 1e-6 or y1 > h + 1e-6:
                raise FormatError(
                    f"box lies outside the {w}x{h} image or has no area",
                    path=f,
                    where=where,
                    field="values",
                    value=line,
                )
            vals = np.array([max(x0, 0.0), max(y0, 0.0), min(x1, w), min(y1, h)])
        else:
            vals = vals.reshape(-1, 2) * np.array([w, h])
        rows.append((ln, cls, kind, vals))
    return rows


def _fill(ann_labels: np.ndarray, rows, metas, to_id, objects, boxes, plane) -> None:
    """Paint polygon rows into ``ann_labels`` and collect box rows into ``boxes``."""
    h, w = ann_labels.shape
    next_id = max(objects, default=0) + 1
    for (_line, cls, kind, vals), meta in zip(rows, metas):
        cid = to_id[cls]
        extra = {k: meta[k] for k in _REVIEW if k in meta}
        attrs = dict(meta.get("attributes") or {})
        if kind == "box":
            boxes.append(
                Box(
                    *vals,
                    class_id=cid,
                    plane=plane,
                    instance_id=int(meta.get("instance_id", 0)),
                    attributes=attrs,
                    **extra,
                )
            )
            continue
        k = int(meta.get("instance_id") or next_id)
        next_id = max(next_id, k + 1)
        objects.setdefault(k, ObjectInfo(cid))
        res = polygons_to_mask([vals], h, w)
        if res is not None:
            crop, sl = res
            ann_labels[sl][crop] = k


def _id_dtype(parsed: list, path: Path, where: str) -> np.dtype:
    """int32, or int64 when the instance ids of the label files need it."""
    top = 0
    for _, rows, metas in parsed:
        known = [int(m.get("instance_id") or 0) for m in metas]
        # rows without an id count up from the file's largest id
        top = max(top, max(known, default=0) + len(rows))
    if top > np.iinfo(np.int64).max:
        raise FormatError(
            "instance ids must fit in int64",
            path=path,
            where=where,
            field="instance_id",
            value=top,
        )
    return np.dtype(np.int32 if top <= np.iinfo(np.int32).max else np.int64)


def _read_with_sidecar(root: Path, side: dict, label_files: dict, to_id, side_path: Path):
    out = []
    images = side.get("images")
    if not isinstance(images, list):
        raise FormatError("'images' must be a list", path=side_path, field="images")
    for i, rec in enumerate(images):
        where = f"images[{i}]"
        try:
            ann = ImageAnnotation(
                rec["image_name"],
                tuple(rec["shape"]),
                rec.get("axes", ""),
                image_path=rec.get("image_path"),
                metadata=dict(rec.get("metadata") or {}),
            )
            files = dict(rec["files"])
            objects = {
                int(k): ObjectInfo.from_dict(v) for k, v in (rec.get("objects") or {}).items()
            }
        except (KeyError, TypeError, ValueError) as exc:
            raise FormatError(
                f"invalid image record: {exc}", path=side_path, where=where
            ) from None
        h, w = ann.plane_shape
        segment = side.get("task") == "segment"
        parsed = []
        for stem, finfo in files.items():
            f = label_files.get(stem)
            if f is None:
                raise FormatError(
                    "label file listed in labelsuite.json is missing",
                    path=root / "labels",
                    where=where,
                    field="files",
                    value=stem,
                )
            plane = tuple(finfo.get("plane", ()))
            rows = _parse_file(f, h, w, len(to_id), side.get("task"))
            metas = list(finfo.get("rows") or [])
            metas += [{}] * (len(rows) - len(metas))
            parsed.append((plane, rows, metas))
        labels = np.zeros(ann.shape, _id_dtype(parsed, side_path, where)) if segment else None
        boxes: list[Box] = []
        for plane, rows, metas in parsed:
            target = labels[plane] if labels is not None else np.zeros((h, w), np.int32)
            found: dict[int, ObjectInfo] = {}
            _fill(target, rows, metas, to_id, found, boxes, plane)
            for k, o in found.items():
                objects.setdefault(k, o)
        ann.boxes = boxes
        if labels is not None:
            ann.instances = labels
            present = set(np.unique(labels).tolist())
            ann.objects = {k: o for k, o in objects.items() if k in present}
        out.append(ann)
    return out


def _image_size(root: Path, stem: str, label: Path) -> tuple[int, int]:
    rel = label.parent.relative_to(root / "labels")
    for ext in _IMAGE_EXTS:
        for cand in (root / "images" / rel / f"{stem}{ext}", root / "images" / f"{stem}{ext}"):
            if cand.is_file():
                try:
                    from PIL import Image

                    with Image.open(cand) as im:
                        w, h = im.size
                    return h, w
                except Exception as exc:
                    raise FormatError(f"cannot read image size: {exc}", path=cand) from None
    raise FormatError(
        "image size unknown: no image next to the label file and no labelsuite.json",
        path=label,
        field="image",
    )


def _read_plain(root: Path, f: Path, to_id) -> ImageAnnotation:
    h, w = _image_size(root, f.stem, f)
    rows = _parse_file(f, h, w, len(to_id))
    labels = np.zeros((h, w), np.int32)
    objects: dict[int, ObjectInfo] = {}
    boxes: list[Box] = []
    _fill(labels, rows, [{}] * len(rows), to_id, objects, boxes, ())
    has_seg = any(kind == "polygon" for _, _, kind, _ in rows)
    return ImageAnnotation(
        f.stem,
        (h, w),
        instances=labels if has_seg else None,
        objects=objects if has_seg else {},
        boxes=boxes,
    )
