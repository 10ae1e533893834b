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

__all__ = ["REVIEW_STATUSES", "Box", "ImageAnnotation", "ObjectInfo"]

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
        """True when nothing is annotated (no masks, objects or boxes)."""
        return self.semantic is None and self.instances is None and not self.boxes

    def class_ids(self) -> set[int]:
        """Class ids referenced by objects and boxes (masks are not scanned)."""
        ids = {o.class_id for o in self.objects.values()}
        ids.update(b.class_id for b in self.boxes)
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
        """JSON-ready dict of everything except the mask arrays."""
        return {
            "image_name": self.image_name,
            "shape": list(self.shape),
            "axes": self.axes,
            "image_path": self.image_path,
            "objects": {str(k): o.to_dict() for k, o in sorted(self.objects.items())},
            "boxes": [b.to_dict() for b in self.boxes],
            "metadata": copy.deepcopy(self.metadata),
        }

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
        )

    def copy(self, deep_masks: bool = False) -> ImageAnnotation:
        """A copy with independent tables; masks are shared unless ``deep_masks``."""
        sem, ins = self.semantic, self.instances
        if deep_masks:
            sem = None if sem is None else np.array(sem, copy=True)
            ins = None if ins is None else np.array(ins, copy=True)
        return ImageAnnotation.from_tables_dict(self.tables_to_dict(), semantic=sem, instances=ins)
