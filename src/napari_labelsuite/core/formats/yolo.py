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
polygons cannot hold holes; an instance whose own polygons, ``ann.polygons``, still
describe its mask keeps their vertices), normalised to [0, 1], with 0-based class indices in
taxonomy order. Without ``labelsuite.json`` (files from other tools) each label file is
one 2D image whose size is read from its image file; these layouts are recognised:

* Ultralytics / Roboflow: ``data.yaml`` whose ``train`` / ``val`` / ``test`` name image
  folders, image-list files or lists of them, relative to ``path`` or to the YAML's folder
  (Roboflow's ``../train/images`` is also tried without ``../``, as Ultralytics does);
  each image's labels are at the path with its last ``images`` folder named ``labels``.
* Darknet / CVAT "YOLO 1.1": ``obj.data`` (``names = data/obj.names``, ``train =
  data/train.txt``) with label files next to the images in ``obj_<split>_data/``.
* Label Studio's YOLO export: ``classes.txt`` (and ``notes.json``), ``images/``, ``labels/``.

Box values may overshoot [0, 1] by rounding (``1e-5`` in normalised units) and are clipped.
Rows of 8 numbers in every file are oriented boxes (YOLO-OBB) and data.yaml with
``kpt_shape`` holds pose rows: both are read into rotated boxes and keypoints (see
``yolo_objects``); rows of another fixed length without ``kpt_shape`` fit neither and are
refused rather than misread as polygons. A layout in which no label file is found is an
error, never an empty dataset.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

import numpy as np
from scipy import ndimage as ndi

from ..annotation import Box, ImageAnnotation, ObjectInfo
from ..boxes import boxes_from_instances
from ..errors import FormatError, TaxonomyError
from ..objects.polygons import Polygon, Ring
from ..taxonomy import Taxonomy
from ._common import (
    ReadReport,
    StagedFiles,
    check_annotations,
    iter_instance_crops,
    mask_polygons,
    outline_index,
    plane_label,
    plane_of,
    planes,
    polygons_to_mask,
    unique_stems,
    validate_read,
)
from .yolo_objects import check_kpt_shape, obb_annotation, parse_pose_file, pose_annotation

__all__ = [
    "SIDECAR",
    "TASKS",
    "find_layout",
    "id_to_yolo_index",
    "read",
    "write",
    "yolo_index_to_id",
    "yolo_names",
]

TASKS = ("detect", "segment")
SIDECAR = "labelsuite.json"
_REVIEW = ("status", "reviewer", "reviewed_at")
_IMAGE_EXTS = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp")
#: tolerance on normalised values (files round to 6 decimals)
_TOL = 1e-5


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
    index = id_to_yolo_index(taxonomy)
    data = {
        "path": ".",
        "train": f"images/{split}",
        "val": f"images/{split}",
        "nc": len(taxonomy),
        "names": yolo_names(taxonomy),
    }
    side: dict[str, Any] = {
        "version": 1,
        "task": task,
        "split": split,
        "taxonomy": taxonomy.to_dict(),
        "images": [],
    }
    with StagedFiles(root, replace=("labels/*.txt", "data.yaml", SIDECAR)) as stage:
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
                    lines, metas = _segment_rows(ann, plane, index, outline_index(ann))
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


def _segment_rows(ann, plane, index, outlines=None) -> tuple[list[str], list[dict[str, Any]]]:
    lines: list[str] = []
    metas: list[dict[str, Any]] = []
    if ann.instances is None:
        return lines, metas
    h, w = ann.plane_shape
    labels = plane_of(ann.instances, plane)
    for k, sl, obj, crop in iter_instance_crops(ann, labels):
        own = outlines.kept(plane, k, crop, sl) if outlines else None
        if own is not None:  # its own vertices (file or drawn); holes are not written
            polys = [p.ring.xy for p in own if not p.ring.hole]
        else:  # YOLO polygons cannot hold holes
            polys = mask_polygons(ndi.binary_fill_holes(crop), sl[0].start, sl[1].start)
        for poly in polys:
            xy = poly / np.array([w, h])
            lines.append(f"{index[obj.class_id]} " + " ".join(_fmt(v) for v in xy.ravel()))
            metas.append({"instance_id": k})
    return lines, metas


# -- reading --------------------------------------------------------------------------
class Layout:
    """Where a YOLO dataset keeps its class names and label files."""

    def __init__(self, kind: str, root: Path, names_path: Path, names: dict[int, str]) -> None:
        self.kind, self.root, self.names_path, self.names = kind, root, names_path, names
        self.task: str | None = None
        #: (K, 2 or 3) of a pose dataset's data.yaml
        self.kpt_shape: tuple[int, int] | None = None
        #: (label file, image file or None, split name)
        self.items: list[tuple[Path, Path | None, str]] = []


def _load_yaml(path: Path) -> Any:
    from ..validate import load_yaml

    # regular files only, strict UTF-8, bounded nesting and alias expansion
    return load_yaml(path, what="YOLO data file")


def _text(path: Path) -> str:
    """A text file of the dataset (regular files only, strict UTF-8)."""
    from ..validate import decode_text, read_regular_bytes

    return decode_text(read_regular_bytes(path, what="YOLO file"), path=path)


def _check_names(names: Any, path: Path) -> dict[int, str]:
    raw = names
    if isinstance(names, list):
        names = dict(enumerate(names))
    if (
        not isinstance(names, dict)
        or not names
        or any(not isinstance(k, int) or not isinstance(v, str) for k, v in names.items())
        or sorted(names) != list(range(len(names)))
    ):
        raise FormatError(
            "names must map 0..n-1 to class names", path=path, field="names", value=raw
        )
    return names


def _names_file(path: Path) -> dict[int, str]:
    """``obj.names`` / ``classes.txt``: one class name per line."""
    lines = [ln.strip() for ln in _text(path).splitlines()]
    return _check_names([ln for ln in lines if ln], path)


def _key_values(path: Path) -> dict[str, str]:
    """Darknet ``obj.data``: ``key = value`` lines."""
    text = _text(path)
    out = {}
    for ln in text.splitlines():
        if "=" in ln:
            k, v = ln.split("=", 1)
            out[k.strip()] = v.strip()
    return out


def _label_of(image: Path) -> Path:
    """Ultralytics' rule: the last ``images`` folder of the path becomes ``labels``."""
    parts = list(image.parts)
    for i in range(len(parts) - 2, -1, -1):
        if parts[i] == "images":
            parts[i] = "labels"
            break
    return Path(*parts).with_suffix(".txt")


def _images_in(folder: Path) -> list[Path]:
    return sorted(f for f in folder.rglob("*") if f.suffix.lower() in _IMAGE_EXTS)


def _resolve(base: Path, rel: str) -> Path | None:
    cands = [base / rel]
    if rel.startswith("../"):
        cands.append(base / rel[3:])  # Roboflow writes ../train/images next to data.yaml
    if rel.startswith("data/"):
        cands.append(base / rel[5:])  # Darknet paths start at darknet's data/ folder
    return next((c for c in cands if c.exists()), None)


def _split_images(base: Path, entry: Any, where: Path, field: str) -> list[Path] | None:
    """Images of one split entry (folder, image-list file, or list); None when absent."""
    entries = entry if isinstance(entry, list) else [entry]
    found: list[Path] = []
    any_there = False
    for e in entries:
        if not isinstance(e, str):
            raise FormatError("must be a path or a list of paths", path=where, field=field,
                              value=e)  # fmt: skip
        target = _resolve(base, e)
        if target is None:
            continue
        any_there = True
        if target.is_dir():
            found += _images_in(target)
        else:
            lines = _text(target).splitlines()
            for ln in (x.strip() for x in lines):
                if ln:
                    img = _resolve(target.parent, ln) or _resolve(base, ln)
                    found.append(img if img is not None else base / ln)
    return found if any_there else None


def find_layout(path: str | Path) -> Layout:
    """Recognise a YOLO dataset at ``path`` (its folder or its names file).

    Raises
    ------
    FormatError
        When no known layout is found, naming what was looked for.
    """
    p = Path(path)
    root = p.parent if p.is_file() else p
    yamls = [p] if p.is_file() and p.suffix.lower() in (".yaml", ".yml") else []
    if not yamls and p.is_dir():
        yamls = [f for f in (root / "data.yaml", root / "data.yml") if f.is_file()]
        if not yamls:
            yamls = [f for f in sorted(root.glob("*.y*ml")) if f.is_file()]
    if p.is_file() and p.name == "obj.data" or (not yamls and (root / "obj.data").is_file()):
        return _darknet_layout(root)
    if not yamls and (root / "classes.txt").is_file():
        layout = Layout(
            "labelstudio", root, root / "classes.txt", _names_file(root / "classes.txt")
        )
        layout.items = _pairs_from_labels(root)
        return layout
    if not yamls:
        raise FormatError(
            "not a YOLO dataset: no data.yaml, obj.data or classes.txt", path=root, field="layout"
        )
    data_path = yamls[0]
    data = _load_yaml(data_path)
    if not isinstance(data, dict) or "names" not in data:
        raise FormatError("data.yaml needs a 'names' entry", path=data_path, field="names")
    names = _check_names(data["names"], data_path)
    kpt = check_kpt_shape(data["kpt_shape"], data_path) if "kpt_shape" in data else None
    kind = "roboflow" if "roboflow" in data else "ultralytics"
    layout = Layout(kind, data_path.parent, data_path, names)
    layout.kpt_shape = kpt
    if (data_path.parent / SIDECAR).is_file():
        layout.kind = "labelsuite"
        return layout
    base = data_path.parent
    if isinstance(data.get("path"), str):
        cand = Path(data["path"])
        cand = cand if cand.is_absolute() else base / cand
        if cand.is_dir():
            base = cand
    seen: set[Path] = set()
    any_split = False
    for split in ("train", "val", "test"):
        if split not in data or data[split] in (None, ""):
            continue
        images = _split_images(base, data[split], data_path, split)
        if images is None and base != data_path.parent:
            images = _split_images(data_path.parent, data[split], data_path, split)
        if images is None:
            continue
        any_split = True
        for img in images:
            lab = _label_of(img)
            if lab in seen:
                continue
            seen.add(lab)
            layout.items.append((lab, img, split))
    if not any_split:
        # data.yaml whose split paths do not exist here: labels/ next to it
        layout.items = _pairs_from_labels(data_path.parent)
    return layout


def _pairs_from_labels(root: Path) -> list[tuple[Path, Path | None, str]]:
    out: list[tuple[Path, Path | None, str]] = []
    labels = root / "labels"
    for f in sorted(labels.rglob("*.txt")) if labels.is_dir() else []:
        rel = f.parent.relative_to(labels)
        img = None
        for ext in _IMAGE_EXTS:
            for cand in (
                root / "images" / rel / f"{f.stem}{ext}",
                root / "images" / f"{f.stem}{ext}",
            ):
                if img is None and cand.is_file():
                    img = cand
        out.append((f, img, rel.parts[0] if rel.parts else ""))
    return out


def _darknet_layout(root: Path) -> Layout:
    obj = root / "obj.data"
    info = _key_values(obj)
    names_rel = info.get("names", "obj.names")
    names_path = _resolve(root, names_rel) or _resolve(root, "obj.names")
    if names_path is None:
        raise FormatError("obj.names is missing", path=obj, field="names", value=names_rel)
    layout = Layout("darknet", root, names_path, _names_file(names_path))
    seen: set[Path] = set()
    for split in ("train", "valid", "test"):
        if split in info:
            images = _split_images(root, info[split], obj, split) or []
            for img in images:
                lab = img.with_suffix(".txt")
                if lab not in seen and lab.is_file():
                    seen.add(lab)
                    layout.items.append((lab, img if img.is_file() else None, split))
    for folder in sorted(root.glob("obj_*_data")):
        for lab in sorted(folder.rglob("*.txt")):
            if lab in seen:
                continue
            seen.add(lab)
            found = next(
                (c for c in (lab.with_suffix(e) for e in _IMAGE_EXTS) if c.is_file()), None
            )
            layout.items.append((lab, found, folder.name[4:-5]))
    return layout


def read(
    path: str | Path,
    *,
    task: str | None = None,
    image_size: tuple[int, int] | None = None,
    report: ReadReport | None = None,
) -> tuple[list[ImageAnnotation], Taxonomy]:
    """Read a YOLO dataset (its folder, its ``data.yaml``, ``obj.data`` or ``classes.txt``).

    ``task="segment"`` reads rows of equal length as polygons even where they look like
    oriented boxes or keypoints (see the module doc). ``image_size=(height, width)`` is
    the size of images that are not in the dataset (CVAT exports without images).

    Raises
    ------
    FormatError
        Naming the file, the line and the field: unknown layout, no label files, bad
        ``data.yaml``, class indices out of range, rows with a wrong number of values,
        values outside [0, 1], polygons with fewer than 3 points, oriented-box or pose
        rows, unknown image sizes.
    """
    layout = find_layout(path)
    root, names = layout.root, layout.names
    if report is not None:
        report.layout = layout.kind
    side = None
    side_path = root / SIDECAR
    if layout.kind == "labelsuite":
        from ..validate import load_json

        side = _check_sidecar(load_json(side_path, what="YOLO sidecar"), side_path)
    try:
        if side is not None:
            # from_dict reports a missing or malformed taxonomy itself
            tax = Taxonomy.from_dict(cast("dict[str, Any]", side.get("taxonomy")), path=side_path)
        else:
            tax = Taxonomy([{"id": i + 1, "name": names[i]} for i in range(len(names))])
    except TaxonomyError as exc:
        raise exc.replace(FormatError, path=exc.path or layout.names_path) from exc
    if yolo_names(tax) != names:
        raise FormatError(
            "names do not match the taxonomy in labelsuite.json",
            path=layout.names_path,
            field="names",
            value=names,
        )
    to_id = yolo_index_to_id(tax)
    if side is not None:
        label_files = {f.stem: f for f in sorted((root / "labels").rglob("*.txt"))}
        out = _read_with_sidecar(root, side, label_files, to_id, side_path)
    else:
        if not layout.items:
            raise FormatError(
                f"no label files found in this {layout.kind} layout (looked for the .txt "
                "next to each image, with 'images' replaced by 'labels')",
                path=root,
                field="labels",
            )
        existing = [it for it in layout.items if it[0].is_file()]
        if not existing:
            raise FormatError(
                f"none of the {len(layout.items)} images has a label file",
                path=layout.items[0][0].parent,
                field="labels",
            )
        size = _check_size(image_size, layout.names_path)
        if layout.kpt_shape is not None:
            out = _read_pose(existing, layout.kpt_shape, to_id, size)
            validate_read(out, tax, root)
            return out, tax
        rows_of = [(it, _parse_plain_rows(it, len(to_id), size)) for it in existing]
        if size is not None and report is not None:
            missing = sum(1 for _, img, _ in existing if img is None or not img.is_file())
            if missing:
                report.note(f"{missing} images not found: their size is the given {size}")
        obb = task != "segment" and _refuse_obb(rows_of, root)
        if obb and report is not None:
            report.note("rows of 4 corners: read as YOLO-OBB oriented boxes")
        if report is not None and len(existing) < len(layout.items):
            report.note(f"{len(layout.items) - len(existing)} images have no label file")
        names_seen: dict[str, int] = {}
        out = []
        for (lab, img, split), (hw, rows) in rows_of:
            if obb:
                ann = obb_annotation(lab, img, hw, rows, to_id)
            else:
                ann = _plain_annotation(lab, img, hw, rows, to_id)
            if ann.image_name in names_seen:
                ann.image_name = f"{split}/{ann.image_name}"
            names_seen[ann.image_name] = 1
            out.append(ann)
    validate_read(out, tax, root)
    return out, tax


def _check_size(size: Any, path: Path) -> tuple[int, int] | None:
    if size is None:
        return None
    try:
        h, w = (int(v) for v in size)
    except (TypeError, ValueError):
        h = w = 0
    if h <= 0 or w <= 0 or tuple(size) != (h, w):
        raise FormatError(
            "image_size must be (height, width), positive integers",
            path=path,
            field="image_size",
            value=size,
        )
    return h, w


def _image_hw(
    img: Path | None, label: Path, image_size: tuple[int, int] | None = None
) -> tuple[int, int]:
    if img is None or not img.is_file():
        if image_size is not None:
            return image_size
        raise FormatError(
            "image size unknown: no image next to the label file and no labelsuite.json "
            "(an export without images: pass image_size=(height, width))",
            path=label,
            field="image",
        )
    try:
        from PIL import Image

        with Image.open(img) as im:
            w, h = im.size
        return h, w
    except Exception as exc:
        raise FormatError(f"cannot read image size: {exc}", path=img) from None


def _parse_plain_rows(
    item: tuple[Path, Path | None, str], n_classes: int, image_size: tuple[int, int] | None = None
):
    lab, img, _ = item
    h, w = _image_hw(img, lab, image_size)
    return (h, w), _parse_file(lab, h, w, n_classes)


def _read_pose(
    items: list[tuple[Path, Path | None, str]],
    kpt_shape: tuple[int, int],
    to_id: dict[int, int],
    size: tuple[int, int] | None,
) -> list[ImageAnnotation]:
    out = []
    for lab, img, _ in items:
        h, w = _image_hw(img, lab, size)
        rows = parse_pose_file(lab, h, w, len(to_id), kpt_shape)
        out.append(pose_annotation(lab, img, (h, w), rows, to_id))
    return out


def _refuse_obb(rows_of: list, root: Path) -> bool:
    """Rows of exactly 8 values everywhere are oriented boxes (True), not 4-point polygons.

    Rows of one other fixed length look like pose rows without ``kpt_shape``: refused.
    """
    lengths = [len(vals) for _, (_, rows) in rows_of for _, _, kind, vals in rows
               if kind == "polygon"]  # fmt: skip
    boxes = sum(1 for _, (_, rows) in rows_of for _, _, kind, _ in rows if kind == "box")
    if not lengths or boxes:
        return False
    first = next(lab for (lab, _, _), (_, rows) in rows_of if rows)
    if all(n == 4 for n in lengths):
        return True
    if len(lengths) >= 3 and len(set(lengths)) == 1:
        n = 2 * lengths[0]
        raise FormatError(
            f"every row has the same {n} values: this looks like YOLO pose rows (a box and "
            "keypoints) from a data.yaml without kpt_shape, not polygons, which vary in "
            "length (pass task='segment' if these are polygons)",
            path=first,
            field="values",
            value=n,
        )
    return False


def _plain_annotation(lab: Path, img: Path | None, hw, rows, to_id) -> ImageAnnotation:
    from ..validate import check_pixels

    h, w = hw
    has_seg = any(kind == "polygon" for _, _, kind, _ in rows)
    if has_seg:  # a mask of the image's declared size: bound it first
        check_pixels((h, w), path=img or lab, field="image size")
        labels = np.zeros((h, w), np.int32)
    else:  # boxes only: nothing is painted, no buffer is needed
        labels = np.broadcast_to(np.int32(0), (h, w))
    objects: dict[int, ObjectInfo] = {}
    boxes: list[Box] = []
    polygons: list[Polygon] = []
    _fill(labels, rows, [{}] * len(rows), to_id, objects, boxes, (), polygons)
    return ImageAnnotation(
        img.name if img is not None else lab.stem,
        (h, w),
        instances=labels if has_seg else None,
        objects=objects if has_seg else {},
        boxes=boxes,
        image_path=str(img) if img is not None else None,
        polygons=polygons,
    )


def _parse_file(f: Path, h: int, w: int, n_classes: int, task: str | None = None):
    """Rows of one label file: (line number, class index, kind, values).

    A 4-value row is a box unless ``task`` is ``"segment"``, where it is a 2-point polygon.
    """
    text = _text(f)
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
        if not np.isfinite(vals).all() or (vals < -_TOL).any() or (vals > 1 + _TOL).any():
            raise FormatError(
                "normalised values must lie in [0, 1]",
                path=f,
                where=where,
                field="values",
                value=line,
            )
        vals = np.clip(vals, 0.0, 1.0)
        if kind == "box":
            cx, cy, bw, bh = (float(v) for v in vals)
            # edges in normalised units, where the files' rounding happens
            nx0, ny0, nx1, ny1 = cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2
            if bw <= 0 or bh <= 0 or min(nx0, ny0) < -_TOL or max(nx1, ny1) > 1 + _TOL:
                raise FormatError(
                    f"box lies outside the {w}x{h} image or has no area",
                    path=f,
                    where=where,
                    field="values",
                    value=line,
                )
            x0, y0, x1, y1 = (
                round(v, 6)
                for v in (
                    max(nx0, 0.0) * w,
                    max(ny0, 0.0) * h,
                    min(nx1, 1.0) * w,
                    min(ny1, 1.0) * h,
                )
            )
            vals = np.array([x0, y0, min(x1, w), min(y1, h)])
        else:
            vals = vals.reshape(-1, 2) * np.array([w, h])
        rows.append((ln, cls, kind, vals))
    return rows


def _fill(ann_labels: np.ndarray, rows, metas, to_id, objects, boxes, plane,
          polygons: list[Polygon] | None = None) -> None:  # fmt: skip
    """Paint polygon rows into ``ann_labels`` and collect box rows into ``boxes`` (and the
    polygon rows' vertices, in pixels, into ``polygons``)."""
    h, w = ann_labels.shape
    next_id = max(objects, default=0) + 1
    for (_line, cls, kind, vals), meta in zip(rows, metas):
        cid = to_id[cls]
        extra = {k: meta[k] for k in _REVIEW if k in meta}
        attrs = dict(meta.get("attributes") or {})
        if kind == "box":
            x0, y0, x1, y1 = (float(v) for v in vals)
            boxes.append(
                Box(
                    x0,
                    y0,
                    x1,
                    y1,
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
        info = objects.setdefault(k, ObjectInfo(cid))
        if polygons is not None:
            polygons.append(Polygon(Ring(np.asarray(vals, float)), cid, k, plane, info.status,
                                    dict(info.attributes)))  # fmt: skip
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


def _check_sidecar(side: Any, path: Path) -> dict[str, Any]:
    """Check ``labelsuite.json`` field by field (one schema for the whole document)."""
    from ..validate import Field, check_fields

    ints = Field((list,), check=lambda v: all(type(x) is int for x in v),
                 message="must be a list of integers")  # fmt: skip
    check_fields(side, {"images": Field((list,), required=True), "taxonomy": Field((dict,)),
                        "task": Field((str,), nullable=True)},
                 path=path, what="YOLO sidecar")  # fmt: skip
    for i, rec in enumerate(side["images"]):
        where = f"images[{i}]"
        check_fields(
            rec,
            {
                "image_name": Field((str,), required=True),
                "shape": Field(ints.types, required=True, check=ints.check, message=ints.message),
                "axes": Field((str,)),
                "image_path": Field((str,), nullable=True),
                "metadata": Field((dict,), nullable=True),
                "files": Field((dict,), required=True),
                "objects": Field((dict,), nullable=True),
            },
            path=path,
            where=where,
            what="image record",
        )
        for stem, finfo in rec["files"].items():
            fw = f"{where}.files[{stem!r}]"
            check_fields(finfo, {"plane": ints, "rows": Field((list,))}, path=path, where=fw,
                         what="files entry")  # fmt: skip
            for j, meta in enumerate(finfo.get("rows") or []):
                check_fields(meta, {"instance_id": Field((int,)), "attributes": Field((dict,))},
                             path=path, where=f"{fw}.rows[{j}]", what="row")  # fmt: skip
    return side


def _read_with_sidecar(root: Path, side: dict, label_files: dict, to_id, side_path: Path):
    from ..validate import check_pixels

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
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
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
        labels = None
        if segment:
            check_pixels(ann.shape, path=side_path, where=where, field="shape")
            labels = np.zeros(ann.shape, _id_dtype(parsed, side_path, where))
        boxes: list[Box] = []
        polygons: list[Polygon] = []
        for plane, rows, metas in parsed:
            if labels is not None:
                target = labels[plane]
            elif any(kind == "polygon" for _, _, kind, _ in rows):  # painted, then dropped
                target = np.zeros((h, w), np.int32)
            else:
                target = np.broadcast_to(np.int32(0), (h, w))
            found: dict[int, ObjectInfo] = {}
            _fill(target, rows, metas, to_id, found, boxes, plane,
                  polygons if labels is not None else None)  # fmt: skip
            for k, o in found.items():
                objects.setdefault(k, o)
        ann.boxes = boxes
        if labels is not None:
            ann.instances = labels
            present = set(np.unique(labels).tolist())
            ann.objects = {k: o for k, o in objects.items() if k in present}
            ann.polygons = [pg for pg in polygons if pg.instance_id in ann.objects]
            for pg in ann.polygons:  # the table's status and attributes (sidecar)
                pg.status = ann.objects[pg.instance_id].status
                pg.attributes = dict(ann.objects[pg.instance_id].attributes)
        out.append(ann)
    return out


# -- the taxonomy as YOLO class indices ---------------------------------------------------------
def yolo_names(taxonomy: Taxonomy) -> dict[int, str]:
    """YOLO ``names``: class index (0-based, in taxonomy order) -> name.

    Index ``k`` corresponds to ``taxonomy.ids()[k]``; see :func:`yolo_index_to_id`.
    """
    return {k: c.name for k, c in enumerate(taxonomy)}


def yolo_index_to_id(taxonomy: Taxonomy) -> dict[int, int]:
    """YOLO class index -> taxonomy class id."""
    return dict(enumerate(taxonomy.ids()))


def id_to_yolo_index(taxonomy: Taxonomy) -> dict[int, int]:
    """Taxonomy class id -> YOLO class index."""
    return {cid: k for k, cid in enumerate(taxonomy.ids())}
