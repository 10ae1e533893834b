"""Consistency checks of one annotation (and of a dataset), each finding with its location.

:func:`check` reads the instance and semantic masks block by block to find every object's
bounding box and area, then looks at each object's crop only (holes, disconnected parts),
so it works on zarr / dask masks larger than memory.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import ndimage as ndi

from ..annotation import ImageAnnotation
from ..boxes import box_iou
from ..errors import QCError
from .matching import box_iou_pairs
from .pairs import iter_blocks

__all__ = [
    "CHECKS",
    "Finding",
    "check",
    "check_dataset",
    "class_summary",
    "findings_frame",
    "object_table",
]

#: Every check :func:`check` runs, with what it looks for.
CHECKS = {
    "unclassified": "instance in the mask without a class in the object table",
    "unknown_class": "class id not in the taxonomy (objects, boxes, semantic mask)",
    "tiny": "object smaller than min_area pixels",
    "holes": "object enclosing background pixels",
    "split": "object made of disconnected parts",
    "duplicate_boxes": "two boxes of one class on one plane overlapping above box_iou",
    "box_outside": "box (partly) outside the image or without area",
    "box_mask_mismatch": "box linked to an instance that does not fit the instance's mask",
    "empty_object": "object in the table with no pixels in the mask",
}


@dataclass
class Finding:
    """One problem found by a check, with where to look.

    Attributes
    ----------
    check : str
        Key of :data:`CHECKS` (or ``"unlabeled_image"`` / ``"class_imbalance"``).
    message : str
    severity : str
        ``"error"``, ``"warning"`` or ``"info"``.
    image : str
    instance_id, box_index, class_id : int or None
        The object, box or class concerned.
    bbox : tuple of (start, stop) per axis, or None
        Pixel extent of the problem over the image's full spatial shape.
    value : object
        The measured value (area, IoU, parts...).
    status : str
        The concerned object's or box's review status when known.
    """

    check: str
    message: str
    severity: str = "warning"
    image: str = ""
    instance_id: int | None = None
    box_index: int | None = None
    class_id: int | None = None
    bbox: tuple[tuple[int, int], ...] | None = None
    value: Any = None
    status: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def center(self) -> tuple[float, ...] | None:
        """Centre of ``bbox`` in pixel coordinates (pixel-centre convention)."""
        if self.bbox is None:
            return None
        return tuple((lo + hi - 1) / 2.0 for lo, hi in self.bbox)

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "message": self.message,
            "severity": self.severity,
            "image": self.image,
            "instance_id": self.instance_id,
            "box_index": self.box_index,
            "class_id": self.class_id,
            "bbox": None if self.bbox is None else [list(p) for p in self.bbox],
            "value": _plain(self.value),
            "status": self.status,
        }


def _plain(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, (tuple, list)):
        return [_plain(x) for x in v]
    return v


def findings_frame(findings: Iterable[Finding]) -> pd.DataFrame:
    """Findings as a table (one row per finding)."""
    cols = list(Finding("", "").to_dict())
    return pd.DataFrame([f.to_dict() for f in findings], columns=cols)


def object_table(labels: Any) -> dict[int, tuple[tuple[tuple[int, int], ...], int]]:
    """Bounding box (``(start, stop)`` per axis) and pixel count of every non-zero label.

    Reads ``labels`` (numpy, zarr or dask) one block at a time.
    """
    shape = tuple(labels.shape)
    boxes: dict[int, list[list[int]]] = {}
    areas: dict[int, int] = {}
    for sl in iter_blocks(shape):
        full = tuple(slice(s, s + 1) if isinstance(s, int) else s for s in sl)
        blk = np.asarray(labels[full])
        if blk.dtype.kind not in "ui":
            raise QCError("label image must be integer", field="labels", value=str(blk.dtype))
        v = blk[blk != 0]
        if v.size == 0:
            continue
        if v.min() < 0:
            raise QCError("labels must be >= 0", field="labels", value=int(v.min()))
        ids, cnt = np.unique(v, return_counts=True)
        offsets = [s.start or 0 for s in full]
        if int(ids[-1]) <= 4 * blk.size:
            found = ndi.find_objects(blk)
            sls = [found[int(i) - 1] for i in ids]
        else:  # sparse huge ids: one pass per id is cheaper than a giant list
            sls = [ndi.find_objects((blk == i).astype(np.uint8))[0] for i in ids]
        for i, c, s in zip(ids.tolist(), cnt.tolist(), sls):
            lo = [o + x.start for o, x in zip(offsets, s)]
            hi = [o + x.stop for o, x in zip(offsets, s)]
            areas[i] = areas.get(i, 0) + c
            if i in boxes:
                b = boxes[i]
                b[0] = [min(p, q) for p, q in zip(b[0], lo)]
                b[1] = [max(p, q) for p, q in zip(b[1], hi)]
            else:
                boxes[i] = [lo, hi]
    return {i: (tuple(zip(b[0], b[1])), areas[i]) for i, b in sorted(boxes.items())}


def _crop(labels: Any, bbox: tuple[tuple[int, int], ...]) -> np.ndarray:
    return np.asarray(labels[tuple(slice(lo, hi) for lo, hi in bbox)])


def _box_bbox(b: Any) -> tuple[tuple[int, int], ...]:
    lead = tuple((int(p), int(p) + 1) for p in b.plane)
    y = (int(np.floor(b.y0)), int(np.ceil(b.y1)))
    x = (int(np.floor(b.x0)), int(np.ceil(b.x1)))
    return (*lead, y, x)


def check(
    annotation: ImageAnnotation,
    taxonomy: Any = None,
    *,
    min_area: int = 16,
    box_iou_threshold: float = 0.7,
    box_mask_iou: float = 0.5,
    checks: Sequence[str] | None = None,
) -> list[Finding]:
    """Run the consistency checks on one annotation.

    Parameters
    ----------
    annotation : ImageAnnotation
    taxonomy : Taxonomy, optional
        Without it the ``unknown_class`` check is skipped.
    min_area : int
        Objects with fewer pixels are reported as tiny.
    box_iou_threshold : float
        Two boxes of one class and plane overlapping more than this are duplicates.
    box_mask_iou : float
        A box linked to an instance must reach this IoU with the instance's bounding box
        on the box's plane.
    checks : sequence of str, optional
        Subset of :data:`CHECKS` to run (all by default).

    Returns
    -------
    list of Finding
    """
    run = set(CHECKS) if checks is None else set(checks)
    unknown = run - set(CHECKS)
    if unknown:
        raise QCError(
            f"unknown check; known: {sorted(CHECKS)}", field="checks", value=sorted(unknown)
        )
    name = annotation.image_name
    objects = annotation.objects
    out: list[Finding] = []

    def add(chk: str, msg: str, sev: str = "warning", **kw: Any) -> None:
        if chk in run:
            out.append(Finding(chk, msg, sev, image=name, **kw))

    known = set(taxonomy.ids()) if taxonomy is not None else None
    inst = annotation.instances
    table = object_table(inst) if inst is not None else {}
    for iid, (bbox, area) in table.items():
        info = objects.get(iid)
        status = info.status if info is not None else ""
        cid = info.class_id if info is not None else None
        if info is None:
            add(
                "unclassified",
                f"instance {iid} has no class",
                "error",
                instance_id=iid,
                bbox=bbox,
                value=area,
            )
        elif known is not None and cid not in known:
            add(
                "unknown_class",
                f"instance {iid} has class id {cid}, not in the taxonomy",
                "error",
                instance_id=iid,
                class_id=cid,
                bbox=bbox,
                value=cid,
                status=status,
            )
        if area < min_area:
            add(
                "tiny",
                f"instance {iid} has only {area} pixels (< {min_area})",
                instance_id=iid,
                class_id=cid,
                bbox=bbox,
                value=area,
                status=status,
            )
        if "holes" in run or "split" in run:
            crop = _crop(inst, bbox)
            m = crop == iid
            if "holes" in run:
                # a hole is enclosed background: another object inside (a nucleus in its
                # cytoplasm ring) is not one
                holes = int(np.count_nonzero(ndi.binary_fill_holes(m) & (crop == 0)))
                if holes:
                    add(
                        "holes",
                        f"instance {iid} has holes ({holes} pixels)",
                        instance_id=iid,
                        class_id=cid,
                        bbox=bbox,
                        value=holes,
                        status=status,
                    )
            if "split" in run:
                _, parts = ndi.label(m, structure=np.ones((3,) * m.ndim, bool))
                if parts > 1:
                    add(
                        "split",
                        f"instance {iid} is split into {parts} parts",
                        instance_id=iid,
                        class_id=cid,
                        bbox=bbox,
                        value=parts,
                        status=status,
                    )
    if inst is not None:
        for iid in sorted(set(objects) - set(table)):
            add(
                "empty_object",
                f"object {iid} has no pixels in the instance mask",
                "info",
                instance_id=iid,
                class_id=objects[iid].class_id,
                status=objects[iid].status,
            )
    if known is not None and annotation.semantic is not None and "unknown_class" in run:
        for cid, (bbox, area) in object_table(annotation.semantic).items():
            if cid not in known:
                add(
                    "unknown_class",
                    f"semantic mask uses class id {cid}, not in the taxonomy",
                    "error",
                    class_id=cid,
                    bbox=bbox,
                    value=area,
                )
    out += _box_findings(annotation, known, table, run, box_iou_threshold, box_mask_iou)
    return out


def _box_findings(
    ann: ImageAnnotation,
    known: set[int] | None,
    table: dict,
    run: set[str],
    dup_iou: float,
    mask_iou: float,
) -> list[Finding]:
    out: list[Finding] = []
    name = ann.image_name
    h, w = ann.plane_shape
    lead = ann.shape[:-2]
    boxes = ann.boxes

    def add(chk: str, i: int, msg: str, sev: str = "warning", **kw: Any) -> None:
        if chk in run:
            b = boxes[i]
            out.append(
                Finding(
                    chk,
                    msg,
                    sev,
                    image=name,
                    box_index=i,
                    class_id=b.class_id,
                    bbox=_box_bbox(b),
                    status=b.status,
                    **kw,
                )
            )

    for i, b in enumerate(boxes):
        if known is not None and b.class_id not in known:
            add(
                "unknown_class",
                i,
                f"box {i} has class id {b.class_id}, not in the taxonomy",
                "error",
                value=b.class_id,
            )
        bad_plane = len(b.plane) != len(lead) or any(not 0 <= p < n for p, n in zip(b.plane, lead))
        if bad_plane or b.x0 < 0 or b.y0 < 0 or b.x1 > w or b.y1 > h or b.area <= 0:
            add(
                "box_outside",
                i,
                f"box {i} lies outside the {w}x{h} image or has no area",
                "error",
                value=list(b.xyxy),
            )
        if b.instance_id and "box_mask_mismatch" in run and ann.instances is not None:
            _box_vs_mask(ann, i, table, mask_iou, add)
    if "duplicate_boxes" in run:
        groups: dict[tuple, list[int]] = {}
        for i, b in enumerate(boxes):
            groups.setdefault((tuple(b.plane), b.class_id), []).append(i)
        for idx in groups.values():
            if len(idx) < 2:
                continue
            xy = np.array([boxes[i].xyxy for i in idx], float)
            # sparse pairs, "above" the threshold; each pair once (p < q)
            r, c, v = box_iou_pairs(xy, xy, float(np.nextafter(dup_iou, np.inf)))
            for p, q, iou in zip(r, c, v):
                if p >= q:
                    continue
                i, j = idx[p], idx[q]
                add(
                    "duplicate_boxes",
                    j,
                    f"boxes {i} and {j} overlap (IoU {iou:.2f})",
                    value=round(float(iou), 4),
                    extra={"other_box": i},
                )
    return out


def _box_vs_mask(ann: ImageAnnotation, i: int, table: dict, thr: float, add: Any) -> None:
    b = ann.boxes[i]
    iid = b.instance_id
    if iid not in table:
        add(
            "box_mask_mismatch", i, f"box {i} links instance {iid}, which has no pixels", value=iid
        )
        return
    bbox, _ = table[iid]
    if b.plane:
        lead_ok = all(lo <= p < hi for p, (lo, hi) in zip(b.plane, bbox[:-2]))
        if not lead_ok:
            add(
                "box_mask_mismatch", i, f"instance {iid} is not on the plane of box {i}", value=iid
            )
            return
        crop_box = tuple((int(p), int(p) + 1) for p in b.plane) + bbox[-2:]
        m = _crop(ann.instances, crop_box).reshape(bbox[-2][1] - bbox[-2][0], -1) == iid
        rows, cols = np.nonzero(m)
        if rows.size == 0:
            add(
                "box_mask_mismatch", i, f"instance {iid} is not on the plane of box {i}", value=iid
            )
            return
        y0, x0 = bbox[-2][0] + rows.min(), bbox[-1][0] + cols.min()
        y1, x1 = bbox[-2][0] + rows.max() + 1, bbox[-1][0] + cols.max() + 1
    else:
        (y0, y1), (x0, x1) = bbox
    iou = float(box_iou([b.xyxy], [(x0, y0, x1, y1)])[0, 0])
    if iou < thr:
        add(
            "box_mask_mismatch",
            i,
            f"box {i} does not fit instance {iid} (IoU {iou:.2f} with its mask's box)",
            value=round(iou, 4),
            instance_id=iid,
        )


def check_dataset(
    annotations: Sequence[ImageAnnotation],
    image_names: Sequence[str] | None = None,
) -> list[Finding]:
    """Images of a dataset with nothing labelled (``unlabeled_image`` findings).

    ``image_names`` lists every image of the dataset; those without an annotation count as
    unlabeled too.
    """
    out = []
    have = set()
    for ann in annotations:
        have.add(ann.image_name)
        if ann.is_empty() or _masks_blank(ann):
            out.append(
                Finding(
                    "unlabeled_image",
                    f"image {ann.image_name} has no labels",
                    "warning",
                    image=ann.image_name,
                )
            )
    for n in image_names or ():
        if n not in have:
            out.append(
                Finding("unlabeled_image", f"image {n} has no annotation", "warning", image=n)
            )
    return out


def _masks_blank(ann: ImageAnnotation) -> bool:
    if ann.boxes or ann.polygons or ann.rotated or ann.keypoints:
        return False
    for m in (ann.semantic, ann.instances):
        if m is None:
            continue
        for sl in iter_blocks(tuple(m.shape)):
            if np.any(np.asarray(m[sl])):
                return False
    return True


def class_summary(
    annotations: Sequence[ImageAnnotation],
    taxonomy: Any = None,
    imbalance_ratio: float = 10.0,
) -> tuple[pd.DataFrame, list[Finding]]:
    """Per-class counts over a dataset and ``class_imbalance`` findings.

    Returns
    -------
    (DataFrame, list of Finding)
        Columns class_id, class, objects, boxes, semantic_pixels, images, total (objects +
        boxes); a finding for every class that is ``imbalance_ratio`` times rarer than the
        largest class in each measure the dataset uses (classes never used included).
    """
    rows: dict[int, dict[str, int]] = {}

    def row(c: int) -> dict[str, int]:
        return rows.setdefault(
            int(c), {"objects": 0, "boxes": 0, "semantic_pixels": 0, "images": 0}
        )

    for ann in annotations:
        seen: set[int] = set()
        for o in ann.objects.values():
            row(o.class_id)["objects"] += 1
            seen.add(o.class_id)
        for b in ann.boxes:
            row(b.class_id)["boxes"] += 1
            seen.add(b.class_id)
        if ann.semantic is not None:
            for c, (_, area) in object_table(ann.semantic).items():
                row(c)["semantic_pixels"] += area
                seen.add(c)
        for c in seen:
            row(c)["images"] += 1
    if taxonomy is not None:
        for c in taxonomy.ids():
            row(c)
    df = pd.DataFrame(
        [{"class_id": c, **v} for c, v in sorted(rows.items())],
        columns=["class_id", "objects", "boxes", "semantic_pixels", "images"],
    )
    names = {c.id: c.name for c in taxonomy} if taxonomy is not None else {}
    df.insert(1, "class", [names.get(c, str(c)) for c in df.class_id])
    df["total"] = df.objects + df.boxes
    findings = []
    # a class is rare when it is rare in every measure the dataset uses (objects+boxes,
    # semantic pixels), so a class labelled only in semantic masks is not flagged
    measures = [m for m in ("total", "semantic_pixels") if len(df) and df[m].max() > 0]
    if len(df) >= 2 and measures:
        for r in df.itertuples(index=False):
            if all(getattr(r, m) * imbalance_ratio < df[m].max() for m in measures):
                findings.append(
                    Finding(
                        "class_imbalance",
                        f"class {r[1]} is rare: {r.total} objects/boxes, "
                        f"{r.semantic_pixels} semantic pixels (ratio to the largest class "
                        f"> {imbalance_ratio:g})",
                        "info",
                        class_id=int(r.class_id),
                        value=int(r.total),
                    )
                )
    return df, findings
