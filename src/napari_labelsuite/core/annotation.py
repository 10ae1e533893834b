"""The annotation document: everything labelled on one image.

``ImageAnnotation`` is the object that formats read and write, the mask store persists,
quality control compares and the session converts to and from napari layers.

Conventions
-----------
* ``shape`` is the image's *spatial* shape, without a channel axis, e.g. ``(H, W)`` or
  ``(Z, H, W)``. ``axes`` names those axes (``"yx"``, ``"zyx"``, ``"tzyx"``); the last two are
  always the plane axes ``y`` and ``x``. Masks have exactly ``shape``.
* Semantic masks hold class ids (0 = background). Instance masks hold instance ids
  (0 = background); ``objects`` maps each instance id to its class and attributes.
* Box coordinates are continuous pixel-edge coordinates, as in COCO: pixel ``(r, c)`` covers
  ``[c, c+1) x [r, r+1)``. A box covering columns ``c0..c1-1`` and rows ``r0..r1-1`` is
  ``x0=c0, y0=r0, x1=c1, y1=r1``. ``plane`` holds the indices on the leading (non-plane)
  axes, e.g. ``(z,)`` for ``"zyx"``; it is ``()`` for 2D images.
* Masks may be numpy, zarr or dask arrays; nothing here loads a lazy array.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import AnnotationError

__all__ = [
    "OBJECT_KINDS",
    "REVIEW_STATUSES",
    "Box",
    "ImageAnnotation",
    "ObjectInfo",
    "object_kind_from_dict",
    "object_kind_to_dict",
]

#: Review states of an object or box, in workflow order.
REVIEW_STATUSES = ("todo", "approved", "needs-fix")


@dataclass
class ObjectInfo:
    """Class, attributes and review state of one instance in an instance mask."""

    class_id: int
    attributes: dict[str, Any] = field(default_factory=dict)
    status: str = "todo"
    reviewer: str | None = None
    reviewed_at: str | None = None  # ISO 8601

    def to_dict(self) -> dict[str, Any]:
        return {
            "class_id": int(self.class_id),
            "attributes": dict(self.attributes),
            "status": self.status,
            "reviewer": self.reviewer,
            "reviewed_at": self.reviewed_at,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ObjectInfo:
        return cls(
            class_id=int(d["class_id"]),
            attributes=dict(d.get("attributes") or {}),
            status=d.get("status", "todo"),
            reviewer=d.get("reviewer"),
            reviewed_at=d.get("reviewed_at"),
        )


@dataclass
class Box:
    """One axis-aligned bounding box on one plane (pixel-edge coordinates, see module doc)."""

    x0: float
    y0: float
    x1: float
    y1: float
    class_id: int
    plane: tuple[int, ...] = ()
    instance_id: int = 0  # 0 = not linked to an instance
    attributes: dict[str, Any] = field(default_factory=dict)
    status: str = "todo"
    reviewer: str | None = None
    reviewed_at: str | None = None

    @property
    def xyxy(self) -> tuple[float, float, float, float]:
        return (self.x0, self.y0, self.x1, self.y1)

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    @property
    def area(self) -> float:
        return max(0.0, self.width) * max(0.0, self.height)

    def to_dict(self) -> dict[str, Any]:
        return {
            "xyxy": [float(v) for v in self.xyxy],
            "class_id": int(self.class_id),
            "plane": [int(p) for p in self.plane],
            "instance_id": int(self.instance_id),
            "attributes": dict(self.attributes),
            "status": self.status,
            "reviewer": self.reviewer,
            "reviewed_at": self.reviewed_at,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Box:
        x0, y0, x1, y1 = (float(v) for v in d["xyxy"])
        return cls(
            x0=x0,
            y0=y0,
            x1=x1,
            y1=y1,
            class_id=int(d["class_id"]),
            plane=tuple(int(p) for p in d.get("plane", ())),
            instance_id=int(d.get("instance_id", 0)),
            attributes=dict(d.get("attributes") or {}),
            status=d.get("status", "todo"),
            reviewer=d.get("reviewer"),
            reviewed_at=d.get("reviewed_at"),
        )


def _default_axes(ndim: int) -> str:
    return "tzyx"[-ndim:] if ndim <= 4 else "".join(f"d{i}" for i in range(ndim - 2)) + "yx"


@dataclass
class ImageAnnotation:
    """All annotations of one image.

    Parameters
    ----------
    image_name : str
        The image's name (file name for formats such as COCO and VOC).
    shape : tuple of int
        Spatial shape of the image (no channel axis).
    axes : str, optional
        Axis names for ``shape``; defaults to the last ``len(shape)`` letters of ``"tzyx"``.
    semantic : array-like, optional
        Class-id mask of ``shape``.
    instances : array-like, optional
        Instance-id mask of ``shape``.
    objects : dict of int to ObjectInfo
        Instance id -> class, attributes and review state.
    boxes : list of Box
        Bounding boxes.
    image_path : str, optional
        Where the pixels live, when known.
    metadata : dict
        Free-form extras (kept by formats that can hold them).
    rotated, keypoints : list
        Rotated boxes and keypoint sets (formats that hold them: DOTA, YOLO-OBB,
        YOLO-pose, COCO keypoints).
    polygons : list
        Polygon outlines (``core.objects.Polygon``: one ring each, with class, instance
        id and plane) that travel as vertices, e.g. through an augmentation.
    """

    image_name: str
    shape: tuple[int, ...]
    axes: str = ""
    semantic: Any = None
    instances: Any = None
    objects: dict[int, ObjectInfo] = field(default_factory=dict)
    boxes: list[Box] = field(default_factory=list)
    image_path: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    #: rotated boxes (``core.objects.RotatedBox``) and keypoint sets (``core.objects.Keypoints``)
    rotated: list[Any] = field(default_factory=list)
    keypoints: list[Any] = field(default_factory=list)
    polygons: list[Any] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.shape = tuple(int(s) for s in self.shape)
        if len(self.shape) < 2:
            raise AnnotationError(
                "an image needs at least two spatial axes",
                where=self.image_name,
                field="shape",
                value=self.shape,
            )
        if not self.axes:
            self.axes = _default_axes(len(self.shape))
        if len(self.axes) != len(self.shape):
            raise AnnotationError(
                f"axes must name {len(self.shape)} axes",
                where=self.image_name,
                field="axes",
                value=self.axes,
            )
        self.objects = {int(k): v for k, v in self.objects.items()}

    # -- geometry -------------------------------------------------------------------
    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def plane_shape(self) -> tuple[int, int]:
        """(height, width) of one plane."""
        return self.shape[-2], self.shape[-1]

    @property
    def n_planes(self) -> int:
        return int(np.prod(self.shape[:-2], dtype=np.int64)) if self.ndim > 2 else 1

    # -- content ----------------------------------------------------------------------
    def is_empty(self) -> bool:
        """True when nothing is annotated (no masks, objects, boxes, polygons, rotated
        boxes or keypoint sets)."""
        kinds = self.polygons or self.rotated or self.keypoints
        return self.semantic is None and self.instances is None and not (self.boxes or kinds)

    def class_ids(self) -> set[int]:
        """Class ids referenced by objects, boxes, polygons, rotated boxes and keypoint
        sets (masks are not scanned)."""
        ids = {o.class_id for o in self.objects.values()}
        ids.update(b.class_id for b in self.boxes)
        for kind in OBJECT_KINDS:
            ids.update(int(it.class_id) for it in getattr(self, kind))
        return ids

    def boxes_on_plane(self, plane: tuple[int, ...]) -> list[Box]:
        plane = tuple(int(p) for p in plane)
        return [b for b in self.boxes if b.plane == plane]

    def validate(self, taxonomy: Any = None) -> None:
        """Check that masks, tables and boxes fit together.

        Raises
        ------
        AnnotationError
            Naming the image and the offending field: mask shape or dtype, a box with
            a wrong plane, inverted or outside the image, an unknown class id (when a
            taxonomy is given), an unknown review status.
        """
        where = self.image_name
        for name in ("semantic", "instances"):
            arr = getattr(self, name)
            if arr is None:
                continue
            if tuple(arr.shape) != self.shape:
                raise AnnotationError(
                    f"{name} mask shape does not match image shape {self.shape}",
                    where=where,
                    field=name,
                    value=tuple(arr.shape),
                )
            dt = np.dtype(arr.dtype)
            if dt.kind not in "ui":
                raise AnnotationError(
                    f"{name} mask must have an integer dtype",
                    where=where,
                    field=name,
                    value=str(dt),
                )
        h, w = self.plane_shape
        lead = self.shape[:-2]
        for i, b in enumerate(self.boxes):
            bw = f"{where} boxes[{i}]"
            if len(b.plane) != len(lead) or any(not 0 <= p < n for p, n in zip(b.plane, lead)):
                raise AnnotationError(
                    f"plane index must have {len(lead)} entries within {lead}",
                    where=bw,
                    field="plane",
                    value=b.plane,
                )
            if not (b.x1 > b.x0 and b.y1 > b.y0):
                raise AnnotationError(
                    "box has no area (x1<=x0 or y1<=y0)", where=bw, field="xyxy", value=b.xyxy
                )
            if b.x0 < 0 or b.y0 < 0 or b.x1 > w or b.y1 > h:
                raise AnnotationError(
                    f"box lies outside the {w}x{h} image",
                    where=bw,
                    field="xyxy",
                    value=b.xyxy,
                )
            if b.status not in REVIEW_STATUSES:
                raise AnnotationError(
                    f"status must be one of {REVIEW_STATUSES}",
                    where=bw,
                    field="status",
                    value=b.status,
                )
        for k, o in self.objects.items():
            if k <= 0:
                raise AnnotationError(
                    "instance ids must be >= 1", where=where, field="objects", value=k
                )
            if o.status not in REVIEW_STATUSES:
                raise AnnotationError(
                    f"status must be one of {REVIEW_STATUSES}",
                    where=f"{where} object {k}",
                    field="status",
                    value=o.status,
                )
        if taxonomy is not None:
            known = set(taxonomy.ids())
            for k, o in self.objects.items():
                if o.class_id not in known:
                    raise AnnotationError(
                        "class id is not in the taxonomy",
                        where=f"{where} object {k}",
                        field="class_id",
                        value=o.class_id,
                    )
            for i, b in enumerate(self.boxes):
                if b.class_id not in known:
                    raise AnnotationError(
                        "class id is not in the taxonomy",
                        where=f"{where} boxes[{i}]",
                        field="class_id",
                        value=b.class_id,
                    )

    # -- (de)serialisation of the non-array part --------------------------------------
    def tables_to_dict(self) -> dict[str, Any]:
        """JSON-ready dict of everything except the mask arrays.

        Polygons, rotated boxes and keypoint sets are written under ``polygons``,
        ``rotated`` and ``keypoints`` when there are any (see :func:`object_kind_to_dict`);
        floats are kept exactly (JSON writes their shortest round-tripping repr).
        """
        out: dict[str, Any] = {
            "image_name": self.image_name,
            "shape": list(self.shape),
            "axes": self.axes,
            "image_path": self.image_path,
            "objects": {str(k): o.to_dict() for k, o in sorted(self.objects.items())},
            "boxes": [b.to_dict() for b in self.boxes],
            "metadata": copy.deepcopy(self.metadata),
        }
        for kind in OBJECT_KINDS:
            items = getattr(self, kind)
            if items:
                out[kind] = [object_kind_to_dict(kind, it) for it in items]
        return out

    @classmethod
    def from_tables_dict(
        cls, d: dict[str, Any], semantic: Any = None, instances: Any = None
    ) -> ImageAnnotation:
        """Inverse of :meth:`tables_to_dict`, with masks supplied separately."""
        return cls(
            image_name=d["image_name"],
            shape=tuple(d["shape"]),
            axes=d.get("axes", ""),
            semantic=semantic,
            instances=instances,
            objects={int(k): ObjectInfo.from_dict(v) for k, v in d.get("objects", {}).items()},
            boxes=[Box.from_dict(b) for b in d.get("boxes", [])],
            image_path=d.get("image_path"),
            metadata=dict(d.get("metadata") or {}),
            **{
                kind: [
                    object_kind_from_dict(kind, it, where=f"{kind}[{i}]")
                    for i, it in enumerate(_list_field(d, kind))
                ]
                for kind in OBJECT_KINDS
            },
        )

    def copy(self, deep_masks: bool = False) -> ImageAnnotation:
        """A copy with independent tables (polygons, rotated boxes and keypoint sets
        included); masks are shared unless ``deep_masks``."""
        sem, ins = self.semantic, self.instances
        if deep_masks:
            sem = None if sem is None else np.array(sem, copy=True)
            ins = None if ins is None else np.array(ins, copy=True)
        out = ImageAnnotation.from_tables_dict(
            {k: v for k, v in self.tables_to_dict().items() if k not in OBJECT_KINDS},
            semantic=sem,
            instances=ins,
        )
        # the objects themselves, not a JSON trip: readers may hold shapes a file gave
        # (e.g. self-intersecting outlines) that only the session repairs
        for kind in OBJECT_KINDS:
            setattr(out, kind, copy.deepcopy(getattr(self, kind)))
        return out


# -- polygons, rotated boxes and keypoint sets as JSON ------------------------------------------
#: the object-kind tables of an annotation, as attribute and JSON field names
OBJECT_KINDS = ("polygons", "rotated", "keypoints")


def _plain(v: Any) -> Any:
    """``v`` with numpy scalars and arrays turned into JSON-ready Python values."""
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    return v


def object_kind_to_dict(kind: str, item: Any) -> dict[str, Any]:
    """JSON-ready dict of one polygon, rotated box or keypoint set (``kind`` as in
    :data:`OBJECT_KINDS`); :func:`object_kind_from_dict` reads it back exactly.

    Every kind keeps ``class_id``, ``instance_id``, ``plane``, ``status`` and
    ``attributes``; a polygon adds ``xy`` (pixel-edge vertices) and ``hole``, a rotated
    box ``xywha``, ``difficult`` and the ``source_corners`` it was read with (or null),
    a keypoint set ``xyv`` (x, y, visibility per keypoint) and its ``box`` (or null).
    """
    common = {
        "class_id": int(item.class_id),
        "instance_id": int(item.instance_id),
        "plane": [int(p) for p in item.plane],
        "status": str(item.status),
        "attributes": _plain(dict(item.attributes or {})),
    }
    if kind == "polygons":
        xy = np.asarray(item.ring.xy, float).reshape(-1, 2)
        return {"xy": xy.tolist(), "hole": bool(item.ring.hole), **common}
    if kind == "rotated":
        src = item.source_corners
        return {
            "xywha": [float(v) for v in item.xywha],
            "difficult": bool(item.difficult),
            "source_corners": None if src is None else np.asarray(src, float).tolist(),
            **common,
        }
    if kind == "keypoints":
        box = item.box
        return {
            "xyv": np.asarray(item.xyv, float).reshape(-1, 3).tolist(),
            "box": None if box is None else [float(v) for v in box],
            **common,
        }
    raise AnnotationError(f"object kind must be one of {OBJECT_KINDS}", field="kind", value=kind)


def _list_field(d: dict[str, Any], name: str) -> list[Any]:
    v = d.get(name)
    if v is None:
        return []
    if not isinstance(v, list):
        raise AnnotationError("must be a list", field=name, value=type(v).__name__)
    return v


def _is_int(v: Any) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def _numbers(d: dict[str, Any], name: str, where: str, shape: tuple[int | None, ...]
             ) -> np.ndarray:  # fmt: skip
    """Field ``name`` of ``d`` as a finite float array of ``shape`` (None: any length)."""
    v = d.get(name)
    try:
        a = np.asarray(v, float)
    except (TypeError, ValueError):
        raise AnnotationError("must be numbers", where=where, field=name, value=v) from None
    if a.ndim != len(shape) or any(n is not None and a.shape[i] != n
                                   for i, n in enumerate(shape)):  # fmt: skip
        raise AnnotationError(f"must have shape {shape}", where=where, field=name,
                              value=a.shape)  # fmt: skip
    if not np.isfinite(a).all():
        raise AnnotationError("must be finite numbers", where=where, field=name, value=v)
    return a


def object_kind_from_dict(kind: str, d: Any, *, where: str = "") -> Any:
    """Inverse of :func:`object_kind_to_dict`; every field is checked.

    Raises
    ------
    AnnotationError
        Naming ``where`` and the field: a missing or non-integer class id, a plane that is
        not a list of integers, a negative instance id, an unknown review status,
        attributes that are not an object, coordinates that are not finite numbers of the
        kind's shape, a keypoint visibility outside 0/1/2, a rotated box without area.
    """
    from .objects import Keypoints, Polygon, RotatedBox
    from .objects.polygons import Ring

    where = where or kind
    if not isinstance(d, dict):
        raise AnnotationError("must be an object", where=where, value=type(d).__name__)
    cid: Any = d.get("class_id")
    k: Any = d.get("instance_id", 0)
    if not _is_int(cid):
        raise AnnotationError("must be an integer", where=where, field="class_id", value=cid)
    if not _is_int(k) or k < 0:
        raise AnnotationError("must be an integer >= 0", where=where, field="instance_id",
                              value=k)  # fmt: skip
    plane = d.get("plane", [])
    if not isinstance(plane, list) or not all(_is_int(p) for p in plane):
        raise AnnotationError("must be a list of integers", where=where, field="plane",
                              value=plane)  # fmt: skip
    status = d.get("status", "todo")
    if status not in REVIEW_STATUSES:
        raise AnnotationError(f"must be one of {REVIEW_STATUSES}", where=where, field="status",
                              value=status)  # fmt: skip
    attrs = d.get("attributes") or {}
    if not isinstance(attrs, dict):
        raise AnnotationError("must be an object", where=where, field="attributes",
                              value=type(attrs).__name__)  # fmt: skip
    common: dict[str, Any] = {"class_id": int(cid), "instance_id": int(k),
                              "plane": tuple(int(p) for p in plane), "status": status}  # fmt: skip
    if kind == "polygons":
        xy = _numbers(d, "xy", where, (None, 2))
        if len(xy) < 3:
            raise AnnotationError("a polygon needs at least 3 points", where=where, field="xy",
                                  value=len(xy))  # fmt: skip
        return Polygon(Ring(xy, hole=bool(d.get("hole", False))), attributes=dict(attrs),
                       **common)  # fmt: skip
    if kind == "rotated":
        cx, cy, w, h, a = (float(v) for v in _numbers(d, "xywha", where, (5,)))
        if not (w > 0 and h > 0):
            raise AnnotationError("degenerate rotated box: width and height must be > 0",
                                  where=where, field="xywha", value=[w, h])  # fmt: skip
        src = None
        if d.get("source_corners") is not None:
            src = _numbers(d, "source_corners", where, (4, 2))
        return RotatedBox(cx, cy, w, h, a, attributes=dict(attrs) if attrs else None,
                          difficult=bool(d.get("difficult", False)), source_corners=src,
                          **common)  # fmt: skip
    if kind == "keypoints":
        xyv = _numbers(d, "xyv", where, (None, 3))
        bad = ~np.isin(xyv[:, 2], (0, 1, 2))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise AnnotationError("keypoint visibility must be 0, 1 or 2",
                                  where=f"{where} keypoint {i}", field="xyv",
                                  value=float(xyv[i, 2]))  # fmt: skip
        box = None
        if d.get("box") is not None:
            b = _numbers(d, "box", where, (4,))
            box = (float(b[0]), float(b[1]), float(b[2]), float(b[3]))
        return Keypoints(xyv, attributes=dict(attrs), box=box, **common)
    raise AnnotationError(f"object kind must be one of {OBJECT_KINDS}", field="kind", value=kind)
