"""YOLO oriented boxes (YOLO-OBB) and keypoints (YOLO-pose): rows, reading and writing.

* OBB rows: ``cls x1 y1 x2 y2 x3 y3 x4 y4``, the four corners normalised by the image's
  width and height. Read into ``ImageAnnotation.rotated`` (a ``RotatedBox`` keeps the
  corners it was read from, so an unedited box is written back unchanged).
* Pose rows: ``cls cx cy w h`` then ``x y v`` per keypoint (``kpt_shape: [K, 3]``) or
  ``x y`` (``kpt_shape: [K, 2]``, every keypoint then visible), normalised; an unlabelled
  keypoint is ``0 0 0``. Read into ``ImageAnnotation.keypoints``, each ``Keypoints``
  carrying its object's box (``Keypoints.box``, pixels xyxy).

``yolo.read`` dispatches here for OBB rows and for ``data.yaml`` with ``kpt_shape``;
``write_obb`` / ``write_pose`` write the label files and ``data.yaml`` (``kpt_shape``
and ``flip_idx`` from the class's skeleton).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..annotation import ImageAnnotation
from ..errors import FormatError, ObjectKindError
from ..objects.keypoints import Keypoints, Skeleton, check_keypoints
from ..objects.rotated import RotatedBox, corners_to_rbox
from ..taxonomy import Taxonomy
from ._common import StagedFiles, check_annotations, unique_stems

__all__ = [
    "check_kpt_shape",
    "obb_annotation",
    "parse_pose_file",
    "pose_annotation",
    "write_obb",
    "write_pose",
]

_TOL = 1e-5


def _fmt(v: float) -> str:
    return f"{float(v):.10g}"


def _data_yaml(taxonomy: Taxonomy, split: str, extra: dict[str, Any]) -> str:
    import yaml

    data = {
        "path": ".",
        "train": f"images/{split}",
        "val": f"images/{split}",
        "nc": len(taxonomy),
        "names": {i: c.name for i, c in enumerate(taxonomy)},
        **extra,
    }
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def _index(taxonomy: Taxonomy) -> dict[int, int]:
    return {c.id: i for i, c in enumerate(taxonomy)}


def _check_2d(ann: ImageAnnotation, root: Path) -> None:
    if ann.ndim != 2:
        raise FormatError("YOLO-OBB/pose rows hold 2D images only", path=root,
                          where=ann.image_name, field="shape", value=ann.shape)  # fmt: skip


# -- OBB ----------------------------------------------------------------------------
def write_obb(
    path: str | Path,
    annotations: list[ImageAnnotation],
    taxonomy: Taxonomy,
    *,
    split: str = "train",
) -> list[Path]:
    """Write a YOLO-OBB dataset (``data.yaml`` and ``labels/<split>/<stem>.txt``), all or none."""
    root = Path(path)
    annotations = check_annotations(annotations, taxonomy, root)
    stems = unique_stems(annotations, root)
    index = _index(taxonomy)
    with StagedFiles(root, replace=("labels/*.txt", "data.yaml")) as stage:
        stage.write_text("data.yaml", _data_yaml(taxonomy, split, {}))
        for ann, stem in zip(annotations, stems, strict=True):
            _check_2d(ann, root)
            h, w = ann.plane_shape
            lines = []
            for i, rb in enumerate(ann.rotated):
                if rb.class_id not in index:
                    raise FormatError("class id is not in the taxonomy", path=root,
                                      where=f"{ann.image_name}: rotated[{i}]",
                                      field="class_id", value=rb.class_id)  # fmt: skip
                xy = rb.corners() / np.array([w, h])
                lines.append(f"{index[rb.class_id]} " + " ".join(_fmt(v) for v in xy.ravel()))
            stage.write_text(f"labels/{split}/{stem}.txt", "".join(f"{ln}\n" for ln in lines))
    return stage.written()


def obb_annotation(
    lab: Path, img: Path | None, hw: tuple[int, int], rows: list, to_id: dict[int, int]
) -> ImageAnnotation:
    """An annotation from parsed 8-value rows ``(line, class index, kind, (4, 2) pixels)``."""
    rotated = []
    for ln, cls, _kind, vals in rows:
        quad = np.asarray(vals, float).reshape(4, 2)
        try:
            rb = corners_to_rbox(quad[None], where=f"line {ln}")[0]
        except ObjectKindError as exc:
            raise exc.replace(FormatError, path=lab) from None
        rotated.append(
            RotatedBox(
                float(rb[0]), float(rb[1]), float(rb[2]), float(rb[3]), float(rb[4]),
                class_id=to_id[cls], source_corners=quad,
            )
        )  # fmt: skip
    return ImageAnnotation(
        img.name if img is not None else lab.stem, hw, rotated=rotated,
        image_path=str(img) if img is not None else None,
    )  # fmt: skip


# -- pose ---------------------------------------------------------------------------
def check_kpt_shape(kpt: Any, path: Path) -> tuple[int, int]:
    """``kpt_shape`` of a data.yaml as (K, 2 or 3)."""
    ok = isinstance(kpt, list) and len(kpt) == 2 and all(isinstance(v, int) for v in kpt)
    if not ok or kpt[0] < 1 or kpt[1] not in (2, 3):
        raise FormatError("kpt_shape must be [K, 2] or [K, 3] with K >= 1", path=path,
                          field="kpt_shape", value=kpt)  # fmt: skip
    return int(kpt[0]), int(kpt[1])


def write_pose(
    path: str | Path,
    annotations: list[ImageAnnotation],
    taxonomy: Taxonomy,
    skeleton: Skeleton,
    *,
    split: str = "train",
) -> list[Path]:
    """Write a YOLO-pose dataset: ``kpt_shape: [K, 3]`` and ``flip_idx`` from ``skeleton``.

    Every keypoint set needs its object's box (``Keypoints.box``) and K keypoints.
    """
    root = Path(path)
    annotations = check_annotations(annotations, taxonomy, root)
    stems = unique_stems(annotations, root)
    index = _index(taxonomy)
    k = len(skeleton.names)
    extra = {"kpt_shape": [k, 3], "flip_idx": skeleton.flip_index.tolist()}
    with StagedFiles(root, replace=("labels/*.txt", "data.yaml")) as stage:
        stage.write_text("data.yaml", _data_yaml(taxonomy, split, extra))
        for ann, stem in zip(annotations, stems, strict=True):
            _check_2d(ann, root)
            h, w = ann.plane_shape
            lines = []
            for i, kp in enumerate(ann.keypoints):
                where = f"{ann.image_name}: keypoints[{i}]"
                try:
                    xyv = check_keypoints(kp.xyv, k, where=where)
                except ObjectKindError as exc:
                    raise exc.replace(FormatError, path=root) from None
                if kp.box is None or kp.class_id not in index:
                    raise FormatError(
                        "a pose row needs the object's box and a class of the taxonomy",
                        path=root, where=where, field="box", value=kp.box,
                    )  # fmt: skip
                x0, y0, x1, y1 = kp.box
                box = [(x0 + x1) / 2 / w, (y0 + y1) / 2 / h, (x1 - x0) / w, (y1 - y0) / h]
                pts = xyv / np.array([w, h, 1.0])
                vals = [_fmt(v) for v in box] + [
                    f"{_fmt(x)} {_fmt(y)} {int(v)}" for x, y, v in pts
                ]
                lines.append(f"{index[kp.class_id]} " + " ".join(vals))
            stage.write_text(f"labels/{split}/{stem}.txt", "".join(f"{ln}\n" for ln in lines))
    return stage.written()


def parse_pose_file(
    f: Path, h: int, w: int, n_classes: int, kpt_shape: tuple[int, int]
) -> list[tuple[int, int, tuple[float, float, float, float], np.ndarray]]:
    """Rows of a pose label file: (line, class index, box xyxy pixels, (K, 3) keypoints)."""
    k, dims = kpt_shape
    want = 4 + k * dims
    from ..validate import decode_text, read_regular_bytes

    # regular files only (a pipe never blocks), strict UTF-8 naming the line, as for
    # the other YOLO label files
    text = decode_text(read_regular_bytes(f, what="YOLO pose label file"), path=f)
    rows = []
    for ln, line in enumerate(text.splitlines(), start=1):
        tok = line.split()
        if not tok:
            continue
        where = f"line {ln}"
        if len(tok) - 1 != want:
            raise FormatError(
                f"a pose row needs 4 box values and {k} keypoints of {dims} values "
                f"({want} values, kpt_shape [{k}, {dims}])",
                path=f, where=where, field="values", value=len(tok) - 1,
            )  # fmt: skip
        try:
            cls = int(tok[0])
            vals = np.array([float(t) for t in tok[1:]])
        except ValueError:
            raise FormatError("values must be numbers", path=f, where=where, value=line) from None
        if not 0 <= cls < n_classes:
            raise FormatError(f"class index must be in 0..{n_classes - 1}", path=f,
                              where=where, field="class", value=cls)  # fmt: skip
        pts = vals[4:].reshape(k, dims)
        if dims == 2:
            pts = np.c_[pts, np.full(k, 2.0)]
        coords = np.r_[vals[:4], pts[:, :2].ravel()]
        if not np.isfinite(coords).all() or (coords < -_TOL).any() or (coords > 1 + _TOL).any():
            raise FormatError("normalised values must lie in [0, 1]", path=f, where=where,
                              field="values", value=line)  # fmt: skip
        try:
            xyv = check_keypoints(pts * np.array([w, h, 1.0]), k, where=where)
        except ObjectKindError as exc:
            raise exc.replace(FormatError, path=f) from None
        cx, cy, bw, bh = vals[:4] * np.array([w, h, w, h])
        rows.append((ln, cls, (cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2), xyv))
    return rows


def pose_annotation(
    lab: Path, img: Path | None, hw: tuple[int, int], rows: list, to_id: dict[int, int]
) -> ImageAnnotation:
    """An annotation holding one ``Keypoints`` (with its box) per pose row."""
    kps = [
        Keypoints(xyv, to_id[cls], box=tuple(float(v) for v in box))  # type: ignore[arg-type]
        for _ln, cls, box, xyv in rows
    ]
    return ImageAnnotation(
        img.name if img is not None else lab.stem, hw, keypoints=kps,
        image_path=str(img) if img is not None else None,
    )  # fmt: skip
