"""Session part: rotated boxes and keypoints on napari layers, bound to the taxonomy.

* Rotated boxes live on a Shapes layer (role ``rotated``) of 4-vertex rectangles; each
  shape's row of ``layer.features`` holds ``class_id``, ``class``, ``instance_id``,
  ``angle`` (degrees), ``status`` and ``difficult``. napari's rotate tool keeps a
  rectangle a rectangle, so reading the layer back gives the edited boxes and angles.
* Keypoints live on a Points layer (role ``keypoints``): one point per labelled keypoint
  with ``object`` (which keypoint set), ``class_id``, ``keypoint`` (its name in the
  class's skeleton), ``visibility`` (1 or 2) and the object's box (``box_x0`` ...
  ``box_y1``); unlabelled keypoints
  (v = 0) have no point. A companion Vectors layer ``"<layer> skeleton"`` draws the class
  skeleton's edges and follows the points (``show_skeleton``).

Both work on nD stacks: each object lives on one plane (the leading coordinates).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd

from ..core.annotation import ObjectInfo
from ..core.errors import ObjectKindError, SessionError
from ..core.objects.keypoints import Keypoints, check_keypoints, skeleton_segments
from ..core.objects.rotated import RotatedBox, corners_to_rbox, mask_to_rbox
from .host import SessionPart
from .layers import META_KEY

__all__ = ["ObjectsMixin"]

_RB_COLUMNS = ("class", "class_id", "instance_id", "angle", "status", "difficult",
               "source_corners")  # fmt: skip
_BOX_COLS = ("box_x0", "box_y0", "box_x1", "box_y1")
_KP_COLUMNS = ("object", "class", "class_id", "keypoint", "visibility", *_BOX_COLS,
               "instance_id", "status")  # fmt: skip


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v))


def _meta(role: str) -> dict[str, Any]:
    return {META_KEY: {"role": role}}


#: polygons-layer column keeping each shape's vertices at full precision (pixel-edge x, y)
_SOURCE_XY = "source_xy"


def _source_vertices(src: Any, data: Any) -> np.ndarray | None:
    """The exact vertices ``src`` of a polygon while the shape's (float32) ``data`` still
    holds them, i.e. the shape was not moved or edited; else None."""
    if not isinstance(src, np.ndarray) or src.ndim != 2 or src.shape[1] != 2:
        return None
    yx = np.asarray(data)[:, -2:]
    if yx.shape != src.shape:
        return None
    want = (src[:, ::-1] - 0.5).astype(yx.dtype)
    return src if np.array_equal(yx, want) else None


class ObjectsMixin(SessionPart):
    """Rotated boxes and keypoints: layers, conversions and edits, each one recorded."""

    def _init_mixin(self) -> None:
        #: id(layer) -> earlier (data, shape types, features) states, newest last
        self._object_history: dict[int, list[tuple[Any, list[str] | None, pd.DataFrame]]] = {}
        #: id(layer) -> the listener naming keypoints placed by hand on it
        self._keypoint_hooks: dict[int, _KeypointFill] = {}
        #: id(keypoints layer) -> the companion layer drawing its skeleton edges
        self._skeleton_syncs: dict[int, _SkeletonSync] = {}

    def _remember_objects(self, layer: Any) -> None:
        """Keep the shapes or points of ``layer`` and their features for undo_objects."""
        types = list(layer.shape_type) if hasattr(layer, "shape_type") else None
        if types is not None:
            data: Any = [np.array(d, copy=True) for d in layer.data]
        else:
            data = np.array(layer.data, copy=True)
        hist = self._object_history.setdefault(id(layer), [])
        hist.append((data, types, layer.features.copy()))
        del hist[:-20]

    def undo_objects(self, layer: Any) -> bool:
        """Undo the last object edit of a Shapes or Points layer (one step per call).

        napari keeps no history for Shapes and Points layers, so the session keeps the
        last 20 states each edit replaced (rotated boxes recomputed into ``layer``,
        keypoint visibility). Returns False when there is nothing left to undo.
        """
        hist = self._object_history.get(id(layer))
        if not hist:
            return False
        data, types, frame = hist.pop()
        if types is not None:
            layer.data = [(d, t) for d, t in zip(data, types, strict=True)]
        else:
            layer.data = data
        layer.features = frame
        self._record("undo_objects", layer=layer.name, n=len(data))
        return True

    # -- rotated boxes -----------------------------------------------------------------
    def _check_classes(self, items: list[Any], what: str) -> None:
        for i, it in enumerate(items):
            if it.class_id not in self.taxonomy:
                raise ObjectKindError("class id is not in the taxonomy", where=f"{what}[{i}]",
                                      field="class_id", value=it.class_id)  # fmt: skip

    def _rotated_shapes(self, rboxes: list[RotatedBox], ndim: int) -> list[np.ndarray]:
        out = []
        for rb in rboxes:
            xy = rb.corners() - 0.5  # pixel edges -> napari pixel-centre coordinates
            v = xy[:, ::-1]
            if ndim > 2:
                lead = np.broadcast_to(np.asarray(rb.plane, float), (4, ndim - 2))
                v = np.hstack([lead, v])
            out.append(v)
        return out

    def _rotated_frame(self, rboxes: list[RotatedBox]) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "class": [self.taxonomy[r.class_id].name for r in rboxes],
                "class_id": [int(r.class_id) for r in rboxes],
                "instance_id": [int(r.instance_id) for r in rboxes],
                "angle": [float(r.angle) for r in rboxes],
                "status": [r.status for r in rboxes],
                "difficult": [bool(r.difficult) for r in rboxes],
                # the corners a file gave, exact: napari keeps vertices as float32
                "source_corners": pd.Series(
                    [
                        None if r.source_corners is None else np.asarray(r.source_corners, float)
                        for r in rboxes
                    ],
                    dtype=object,
                ),  # fmt: skip
            },
            columns=list(_RB_COLUMNS),
        )

    def add_rotated_boxes_layer(
        self, rboxes: list[RotatedBox] | None = None, *, name: str = "rotated boxes",
        ndim: int | None = None,
    ) -> Any:  # fmt: skip
        """Add a Shapes layer of rotated rectangles bound to the taxonomy (role ``rotated``).

        Parameters
        ----------
        rboxes : list of RotatedBox, optional
        ndim : int, optional
            Defaults to ``len(plane) + 2`` of the first box, else 2.
        """
        from napari.layers import Shapes

        boxes = list(rboxes or [])
        self._check_classes(boxes, "rotated")
        nd = int(ndim if ndim is not None else (len(boxes[0].plane) + 2 if boxes else 2))
        frame = self._rotated_frame(boxes)
        colors = [self.taxonomy[r.class_id].color for r in boxes] or "yellow"
        layer = Shapes(
            self._rotated_shapes(boxes, nd), ndim=nd, shape_type="rectangle", name=name,
            features=frame, face_color="transparent", edge_color=colors, edge_width=2,
            text={"string": "{class}", "size": 10, "color": "white"},
            metadata=_meta("rotated"),
        )  # fmt: skip
        self.layers.append(layer)
        self._record("add_rotated_boxes_layer", name=name, n_boxes=len(boxes), ndim=nd)
        return layer

    def rotated_boxes_list(self, layer: Any = None) -> list[RotatedBox]:
        """The rotated boxes of ``layer`` (default: the first ``rotated`` layer), as drawn.

        Angles and sizes are measured from the shapes' vertices, so boxes moved or turned
        in napari come back edited; a shape that is not a rectangle is fitted by its
        minimum-area rectangle.
        """
        layer = layer if layer is not None else self._require_role("rotated")
        feats = layer.features
        out = []
        for i, v in enumerate(layer.data):
            v = np.asarray(v, float)
            if len(v) != 4:
                raise ObjectKindError("a rotated box needs 4 vertices", where=f"shape {i}",
                                      value=len(v))  # fmt: skip
            plane = tuple(int(round(p)) for p in v[0, :-2])
            row = feats.iloc[i] if i < len(feats) else {}
            # the file's corners while the shape still holds them (not moved or turned)
            src = _source_vertices(row.get("source_corners"), layer.data[i])
            xy = src if src is not None else v[:, -2:][:, ::-1] + 0.5
            rb = corners_to_rbox(xy[None], where=f"shape {i}")[0]
            out.append(
                RotatedBox(
                    float(rb[0]), float(rb[1]), float(rb[2]), float(rb[3]), float(rb[4]),
                    class_id=int(row.get("class_id", 0) or 0), plane=plane,
                    instance_id=int(row.get("instance_id", 0) or 0),
                    status=str(row.get("status", "todo") or "todo"),
                    difficult=bool(row.get("difficult", False)), source_corners=src,
                )
            )  # fmt: skip
        return out

    def rotated_boxes_from_instances(
        self, *, name: str = "rotated boxes", layer: Any = None
    ) -> Any:
        """One minimum-area rotated box per instance (per plane) of the instance layer.

        Reads one plane at a time; boxes take their instance's class. Adds a ``rotated``
        layer (or replaces the shapes of ``layer``) as one action.
        """
        inst = self._require("instances")
        objects = self.objects()
        data = inst.data[0] if getattr(inst, "multiscale", False) else inst.data
        boxes: list[RotatedBox] = []
        for plane, k, sl, mask, info in self._classified_instances(data, objects):
            cx, cy, w, h, a = mask_to_rbox(mask, where=f"instance {k}")
            boxes.append(
                RotatedBox(cx + sl[1].start, cy + sl[0].start, w, h, a,
                           class_id=info.class_id, plane=plane, instance_id=k)
            )  # fmt: skip
        if layer is None:
            out = self.add_rotated_boxes_layer(boxes, name=name, ndim=data.ndim)
        else:
            self._remember_objects(layer)
            layer.data = self._rotated_shapes(boxes, layer.ndim)
            layer.shape_type = ["rectangle"] * len(boxes)
            layer.features = self._rotated_frame(boxes)
            out = layer
        self._record("rotated_boxes_from_instances", n_boxes=len(boxes), layer=out.name)
        self._log_effort("instance-tools", "box", count=1, layer=out,
                         objects=[b.instance_id for b in boxes])  # fmt: skip
        return out

    # -- polygons ----------------------------------------------------------------------
    def _instance_outlines(
        self, data: Any, objects: dict[int, ObjectInfo], tolerance: float = 0.0,
        skip: set[tuple[tuple[int, ...], int]] | None = None,
    ) -> list[dict[str, Any]]:  # fmt: skip
        """Outlines (``add_polygons_layer`` dicts) of every classified instance of ``data``.

        One plane at a time (lazy stacks stay lazy); ``(plane, id)`` pairs in ``skip`` are
        left out.
        """
        from ..core.objects.polygons import mask_to_rings

        out: list[dict[str, Any]] = []
        for plane, k, sl, mask, info in self._classified_instances(data, objects):
            if skip and (plane, k) in skip:
                continue
            for ring in mask_to_rings(mask, tolerance):
                out.append({"xy": ring.xy + [sl[1].start, sl[0].start],
                            "class_id": info.class_id, "instance_id": k,
                            "hole": ring.hole, "plane": plane})  # fmt: skip
        return out

    def _classified_instances(
        self, data: Any, objects: dict[int, ObjectInfo]
    ) -> Iterator[tuple[tuple[int, ...], int, tuple[slice, ...], np.ndarray, ObjectInfo]]:
        """``(plane, id, box slices, mask in the box, info)`` of every instance of ``data``
        whose class is in the taxonomy, one plane at a time (lazy stacks stay lazy)."""
        from ..core.boxes import object_slices

        lead = data.shape[:-2]
        for plane in np.ndindex(*lead) if lead else [()]:
            arr = np.asarray(data[plane])
            for k, sl in object_slices(arr).items():
                info = objects.get(k)
                if info is not None and info.class_id in self.taxonomy:
                    yield tuple(plane), int(k), sl, arr[sl] == k, info

    def _polygons_layer(
        self, polygons: list[dict[str, Any]], objects: dict[int, ObjectInfo], name: str,
        ndim: int, *, check: bool = True,
    ) -> Any:  # fmt: skip
        """A bound polygons Shapes layer of ``polygons``, added to the layers (not recorded).

        Every outline is checked first when ``check`` (self-intersecting or degenerate
        polygons, classes outside the taxonomy): nothing is added on error.
        """
        from napari.layers import Shapes

        from ..core.objects.polygons import check_polygon

        attrs = self._attribute_names()
        shapes: list[np.ndarray] = []
        rows: list[dict[str, Any]] = []
        for i, p in enumerate(polygons):
            where = f"polygons[{i}]"
            xy = check_polygon(p.get("xy"), where=where) if check else np.asarray(p["xy"], float)
            cid: Any = p.get("class_id")
            if cid not in self.taxonomy:
                raise ObjectKindError("class id is not in the taxonomy", where=where,
                                      field="class_id", value=cid)  # fmt: skip
            plane = tuple(float(c) for c in p.get("plane", ()))
            lead = np.broadcast_to(np.asarray(plane, float), (len(xy), len(plane)))
            shapes.append(np.hstack([lead, xy[:, ::-1] - 0.5]))
            k = int(p.get("instance_id", 0) or 0)
            info = objects.get(k) or ObjectInfo(int(cid))
            rows.append({"class": self.taxonomy[int(cid)].name, "class_id": int(cid),
                         "instance_id": k, "hole": bool(p.get("hole", False)),
                         "status": info.status,
                         **{a: info.attributes.get(a) for a in attrs},
                         # napari keeps vertices as float32: the exact ones for read-back
                         _SOURCE_XY: xy})  # fmt: skip
        frame = pd.DataFrame(
            rows, columns=["class", "class_id", "instance_id", "hole", "status", *attrs,
                           _SOURCE_XY],
        )  # fmt: skip
        colors = [self.taxonomy[r["class_id"]].color for r in rows] or "yellow"
        layer = Shapes(
            shapes, ndim=ndim, shape_type="polygon", name=name, features=frame,
            face_color="transparent", edge_color=colors, edge_width=1,
            metadata=_meta("polygons"),
        )  # fmt: skip
        self.layers.append(layer)
        # class names, colours and attribute columns follow the taxonomy like the boxes';
        # a polygon drawn by hand gets the active class, its attribute defaults and "todo"
        self._bind_layer(layer)
        return layer

    def polygons_from_instances(self, *, tolerance: float = 0.0, name: str = "polygons") -> Any:
        """A Shapes layer of polygons (role ``polygons``) outlining every instance, per plane.

        Each shape's features hold ``class``, ``class_id``, ``instance_id``, ``hole`` (the
        ring is a hole of its instance) and ``status``. ``tolerance`` (pixels) simplifies
        the outlines; 0 follows the pixel boundary exactly.
        """
        inst = self._require("instances")
        objects = self.objects()
        data = inst.data[0] if getattr(inst, "multiscale", False) else inst.data
        outlines = self._instance_outlines(data, objects, tolerance)
        # traced rings are simple by construction: no need to check them again
        layer = self._polygons_layer(outlines, objects, name, data.ndim, check=False)
        self._record("polygons_from_instances", n_polygons=len(outlines), tolerance=tolerance)
        self._log_effort("instance-tools", "polygon", count=1, layer=layer,
                         objects=sorted({p["instance_id"] for p in outlines}))  # fmt: skip
        return layer

    def add_polygons_layer(
        self, polygons: list[dict[str, Any]], *, objects: dict[int, ObjectInfo] | None = None,
        name: str = "polygons", ndim: int | None = None,
    ) -> Any:  # fmt: skip
        """Add a polygons layer (role ``polygons``) from outlines as a file gives them.

        Each outline is a dict with ``xy`` (pixel-edge ``x, y`` vertices), ``class_id``,
        ``instance_id`` and optionally ``hole`` and ``plane``; ``objects`` supplies the
        status and attributes per instance id. Every outline is checked first
        (self-intersecting or degenerate polygons, classes outside the taxonomy).
        ``ndim`` defaults to ``2 + len(plane)`` of the first outline.
        """
        nd = ndim if ndim is not None else (
            2 + (len(polygons[0].get("plane", ())) if polygons else 0))  # fmt: skip
        layer = self._polygons_layer(list(polygons), objects or {}, name, int(nd))
        self._record("add_polygons_layer", name=name, n_polygons=len(polygons))
        return layer

    def polygons_from_annotation(self, ann: Any, *, name: str = "polygons") -> Any:
        """The polygons layer of an annotation, with the file's own vertices.

        Objects that have polygons in ``ann.polygons`` (read from COCO, labelme, CVAT,
        YOLO-seg or Label Studio) are shown with exactly those vertices; the other objects
        of ``ann.instances`` (RLE, masks, circles) are traced from the mask. An object
        whose file polygons are not simple (self-intersecting, degenerate) is traced from
        the mask instead, with a warning: its pixels are what the file meant.
        """
        import warnings

        from ..core.objects.polygons import check_polygon

        objects = dict(ann.objects)
        own: dict[tuple[tuple[int, ...], int], list[dict[str, Any]]] = {}
        bad: set[tuple[tuple[int, ...], int]] = set()
        for i, p in enumerate(ann.polygons):
            key = (tuple(p.plane), int(p.instance_id))
            if not p.instance_id or p.class_id not in self.taxonomy:
                continue
            try:
                xy = check_polygon(p.ring.xy, where=f"{ann.image_name}: polygons[{i}]")
            except ObjectKindError as exc:
                warnings.warn(f"{exc}; object {p.instance_id} is traced from its mask",
                              stacklevel=2)  # fmt: skip
                bad.add(key)
                continue
            outline = {"xy": xy, "class_id": int(p.class_id), "plane": key[0],
                       "instance_id": int(p.instance_id), "hole": bool(p.ring.hole)}  # fmt: skip
            own.setdefault(key, []).append(outline)
        for key in bad:
            own.pop(key, None)
        outlines = [o for rings in own.values() for o in rings]
        if ann.instances is not None:
            outlines += self._instance_outlines(ann.instances, objects, skip=set(own))
        layer = self._polygons_layer(outlines, objects, name, len(ann.shape), check=False)
        self._record("polygons_from_annotation", image_name=ann.image_name,
                     n_polygons=len(outlines), from_file=sum(map(len, own.values())),
                     traced=len(outlines) - sum(map(len, own.values())))  # fmt: skip
        return layer

    def polygons_list(self, layer: Any = None) -> list[dict[str, Any]]:
        """The polygons of ``layer`` (default: the first ``polygons`` layer).

        One dict per shape: ``ring`` (a ``core.objects.Ring`` in pixel-edge ``x, y``),
        ``plane``, ``class_id``, ``instance_id``, ``status`` and ``attributes`` (the
        taxonomy's attribute columns that have a value). Each outline is checked: a
        self-intersecting or degenerate polygon is a named error.
        """
        from ..core.objects.polygons import Ring, check_polygon

        layer = layer if layer is not None else self._require_role("polygons")
        feats = layer.features
        out = []
        for i, v in enumerate(layer.data):
            v = np.asarray(v, float)
            row = feats.iloc[i]
            xy = _source_vertices(row.get(_SOURCE_XY), layer.data[i])
            if xy is None:
                xy = v[:, -2:][:, ::-1] + 0.5
            xy = check_polygon(xy, where=f"{layer.name}: shape {i}")
            out.append({
                "ring": Ring(xy, hole=not _missing(row.get("hole")) and bool(row.get("hole"))),
                "plane": tuple(int(round(p)) for p in v[0, :-2]),
                "class_id": int(row.get("class_id", 0) or 0),
                "instance_id": int(row.get("instance_id", 0) or 0),
                "status": str(row.get("status", "todo") or "todo"),
                "attributes": {a: row[a] for a in self._attribute_names()
                               if a in row.index and not _missing(row[a])},
            })  # fmt: skip
        return out

    def _attribute_names(self) -> list[str]:
        names: list[str] = []
        for c in self.taxonomy:
            names += [a.name for a in c.attributes if a.name not in names]
        return names

    def polygons_to_instances(self, layer: Any = None, *, instances: Any = None) -> Any:
        """Paint the polygons of ``layer`` into the instance mask, as one undo step.

        Every outline is checked first (a self-intersecting or degenerate polygon, a class
        outside the taxonomy or a plane outside the mask is a named error and nothing
        changes). Shapes sharing an ``instance_id`` on one plane form one object, hole
        rings cut out of it; a shape with ``instance_id`` 0 (drawn by hand) becomes a new
        object and its row gets the new id. The object's class, attributes and status come
        from its outline's row. Pixels inside a polygon take its id (painted over what was
        there), with the pycocotools raster of the rings. Ctrl-Z on the instance layer
        undoes pixels and table together.

        Returns
        -------
        InstanceEdit
            What changed (``parents`` holds the ids of the new objects).
        """
        from ..core.instances.edits import InstanceEdit

        layer = layer if layer is not None else self._require_role("polygons")
        inst = self._require("instances", instances)
        if getattr(inst, "multiscale", False):
            raise SessionError("polygons are painted into single-resolution layers",
                               where=f"layer '{inst.name}'", field="multiscale",
                               value=True)  # fmt: skip
        objects = self.objects(inst)
        patches, new_objects, created, ids = self._polygon_patches(
            layer, inst.data.shape, inst.data.dtype, objects, int(self.next_instance_id(inst))
        )
        edit = InstanceEdit(patches=patches, parents=created)
        out = self._apply_edit(inst, edit, "polygons_to_instances", new_objects=new_objects,
                               polygons=layer.name, n_polygons=len(ids))  # fmt: skip
        self._remember_objects(layer)  # undo_objects(layer) gives the rows their old ids
        feats = layer.features.copy()
        feats["instance_id"] = ids
        layer.features = feats
        return out

    def polygons_mask(
        self, shape: tuple[int, ...], layer: Any = None, *, dtype: Any = np.int32
    ) -> tuple[np.ndarray, dict[int, ObjectInfo]]:
        """The instance mask and table the polygons of ``layer`` describe (no layer changes).

        What export writes from a polygons layer when there is no instance layer; the same
        raster as :meth:`polygons_to_instances` on an empty mask of ``shape``.
        """
        out, objects, _ = self._polygons_mask_ids(shape, layer, dtype=dtype)
        return out, objects

    def _polygons_mask_ids(
        self, shape: tuple[int, ...], layer: Any = None, *, dtype: Any = np.int32
    ) -> tuple[np.ndarray, dict[int, ObjectInfo], list[int]]:
        """:meth:`polygons_mask` and the instance id each shape of ``layer`` painted."""
        from ..core.instances.edits import InstanceEdit

        layer = layer if layer is not None else self._require_role("polygons")
        used = pd.to_numeric(layer.features.get("instance_id"), errors="coerce")
        top = int(used.max()) if used is not None and used.notna().any() else 0
        patches, objects, _, ids = self._polygon_patches(layer, tuple(shape), dtype, {}, top + 1)
        out = InstanceEdit(patches=patches).apply(np.zeros(shape, dtype), inplace=True)
        return out, objects, ids

    def _polygon_patches(
        self, layer: Any, shape: tuple[int, ...], dtype: Any, objects: dict[int, ObjectInfo],
        next_id: int,
    ) -> tuple[list[Any], dict[int, ObjectInfo], dict[int, int], list[int]]:  # fmt: skip
        """Patches painting the polygons of ``layer`` into a mask of ``shape``, checked first."""
        from ..core.instances.edits import Patch
        from ..core.objects.polygons import rings_raster

        polys = self.polygons_list(layer)  # every outline checked before anything changes
        if not polys:
            raise ObjectKindError("the layer has no polygons", where=f"layer '{layer.name}'",
                                  field="data", value=0)  # fmt: skip
        lead, (height, width) = shape[:-2], shape[-2:]
        groups: dict[tuple[tuple[int, ...], int], list[dict[str, Any]]] = {}
        ids: list[int] = []
        for i, p in enumerate(polys):
            where = f"{layer.name}: shape {i}"
            plane = tuple(p["plane"][len(p["plane"]) - len(lead) :]) if lead else ()
            if len(p["plane"]) < len(lead) or any(
                not 0 <= c < n for c, n in zip(plane, lead, strict=True)
            ):
                raise ObjectKindError("the polygon's plane is outside the instance layer",
                                      where=where, field="plane", value=p["plane"])  # fmt: skip
            if p["class_id"] not in self.taxonomy:
                raise ObjectKindError("class id is not in the taxonomy", where=where,
                                      field="class_id", value=p["class_id"])  # fmt: skip
            k = p["instance_id"]
            if k <= 0:
                if p["ring"].hole:
                    raise ObjectKindError("a hole needs the instance id of its outline",
                                          where=where, field="instance_id", value=k)  # fmt: skip
                k, next_id = next_id, next_id + 1
            ids.append(k)
            groups.setdefault((plane, k), []).append(p)
        patches, new_objects, created = [], {}, {}
        for (plane, k), items in groups.items():
            # rasterised where the rings lie (pycocotools-exact), over their box only
            got = rings_raster([it["ring"] for it in items], height, width)
            if got is None or not got[0].any():
                continue
            mask, (rows, cols) = got
            y0, y1, x0, x1 = rows.start, rows.stop, cols.start, cols.stop
            pshape = (1,) * len(plane) + mask.shape
            region = (*(slice(c, c + 1) for c in plane), slice(y0, y1), slice(x0, x1))
            patches.append(Patch(region, np.full(pshape, k, dtype), mask.reshape(pshape)))
            row = next((it for it in items if not it["ring"].hole), items[0])
            info = copy.deepcopy(objects.get(k)) or ObjectInfo(class_id=row["class_id"])
            info.class_id = int(row["class_id"])
            info.attributes.update(row["attributes"])
            info.status = row["status"]
            new_objects[k] = info
            if k not in objects:
                created[k] = k
        return patches, new_objects, created, ids

    # -- keypoints ---------------------------------------------------------------------
    def _skeleton_of(self, class_id: int, where: str) -> Any:
        if class_id not in self.taxonomy or self.taxonomy[class_id].skeleton is None:
            raise ObjectKindError("the class defines no keypoints", where=where,
                                  field="class_id", value=class_id)  # fmt: skip
        return self.taxonomy[class_id].skeleton

    def add_keypoints_layer(
        self, keypoints: list[Keypoints] | None = None, *, name: str = "keypoints",
        ndim: int | None = None,
    ) -> Any:  # fmt: skip
        """Add a Points layer of keypoints (role ``keypoints``), one point per labelled one.

        Every set is checked against its class's skeleton (count, visibility 0/1/2).
        """
        from napari.layers import Points

        sets = list(keypoints or [])
        nd = int(ndim if ndim is not None else (len(sets[0].plane) + 2 if sets else 2))
        pts, rows = [], []
        for j, kp in enumerate(sets):
            sk = self._skeleton_of(kp.class_id, f"keypoints[{j}]")
            xyv = check_keypoints(kp.xyv, len(sk.names), where=f"keypoints[{j}]")
            for i, (x, y, v) in enumerate(xyv):
                if v == 0:
                    continue
                pts.append([*kp.plane, y - 0.5, x - 0.5][-nd:] if nd >= 2 else [y, x])
                box = kp.box if kp.box is not None else (np.nan,) * 4
                row = {
                    "object": j,
                    "class": self.taxonomy[kp.class_id].name,
                    "class_id": kp.class_id,
                    "keypoint": sk.names[i],
                    "visibility": int(v),
                    "instance_id": int(kp.instance_id),
                    "status": kp.status,
                }
                row.update({c: float(b) for c, b in zip(_BOX_COLS, box, strict=True)})  # fmt: skip
                rows.append(row)
        frame = pd.DataFrame(rows, columns=list(_KP_COLUMNS))
        colors = [[0.2, 1, 0.2, 1] if r["visibility"] == 2 else [1, 0.6, 0, 1] for r in rows]
        layer = Points(
            np.asarray(pts, float).reshape(-1, nd), ndim=nd, name=name, features=frame,
            face_color=colors or "white", size=5, metadata=_meta("keypoints"),
        )  # fmt: skip
        # a point placed by hand takes its object's link and status from the object's first
        # point; one starting an object is unlinked and "todo" (not napari's last-row copy)
        layer.feature_defaults = (
            {**layer.feature_defaults.iloc[0].to_dict(), "instance_id": 0, "status": "todo"}
            if len(frame)
            else layer.feature_defaults
        )
        self.layers.append(layer)
        self._watch_keypoints(layer)  # name keypoints placed by hand
        self._watch_effort(layer)  # EffortMixin: log keypoints placed by hand
        self._show_skeleton(layer, True)
        self._record("add_keypoints_layer", name=name, n_objects=len(sets), ndim=nd)
        return layer

    def keypoints_list(self, layer: Any = None) -> list[Keypoints]:
        """The keypoint sets of ``layer`` (default: the first ``keypoints`` layer)."""
        layer = layer if layer is not None else self._require_role("keypoints")
        feats = layer.features.reset_index(drop=True)
        data = np.asarray(layer.data, float)
        out: list[Keypoints] = []
        # whole columns once: a row lookup per point costs ~0.1 ms (1.6 s for 500 people)
        names, vis = feats["keypoint"].to_numpy(object), feats["visibility"].to_numpy()
        for obj, idx in feats.groupby("object", sort=True).indices.items():
            first = feats.iloc[idx[0]]
            cid = int(first["class_id"])
            sk = self._skeleton_of(cid, f"object {obj}")
            where = {nm: i for i, nm in enumerate(sk.names)}
            xyv = np.zeros((len(sk.names), 3))
            for r in idx:
                name = names[r]
                if name not in where:
                    raise ObjectKindError(
                        "unknown keypoint name for the class", where=f"object {obj}",
                        field="keypoint", value=name,
                    )  # fmt: skip
                y, x = data[r, -2:] + 0.5
                xyv[where[name]] = [x, y, int(vis[r])]
            plane = tuple(int(round(p)) for p in data[idx[0], :-2])
            bx = [float(first[c]) for c in _BOX_COLS]
            box = None if np.isnan(bx).any() else (bx[0], bx[1], bx[2], bx[3])
            k, status = first.get("instance_id"), first.get("status")
            status = status if isinstance(status, str) and status else "todo"
            k = 0 if _missing(k) else int(k)
            out.append(Keypoints(xyv, cid, plane=plane, box=box, instance_id=k, status=status))
        return out

    def set_keypoint_visibility(self, index: int, visibility: int, layer: Any = None) -> None:
        """Set the visibility (1 occluded, 2 visible) of point ``index`` of the layer.

        0 (not labelled) removes the point instead: use ``layer.remove``/delete in napari.
        """
        layer = layer if layer is not None else self._require_role("keypoints")
        if visibility not in (1, 2):
            raise ObjectKindError("a placed keypoint's visibility must be 1 or 2",
                                  field="visibility", value=visibility)  # fmt: skip
        if not 0 <= index < len(layer.data):
            raise ObjectKindError("no such point", field="index", value=index)
        self._remember_objects(layer)
        feats = layer.features.copy()
        feats.loc[index, "visibility"] = int(visibility)
        layer.features = feats
        row = feats.iloc[index]
        self._record("set_keypoint_visibility", index=index, visibility=visibility)
        self._log_effort("instance-tools", "correction", count=1, layer=layer,
                         class_id=int(row["class_id"]))  # fmt: skip

    # -- adopting a user's own layers and hand-placed keypoints -----------------------------
    def _default_class(self, *, skeleton: bool = False) -> int | None:
        """The active class (with a keypoint skeleton when ``skeleton``), else the first."""
        ok = [c.id for c in self.taxonomy if not skeleton or c.skeleton is not None]
        active = self.active_class
        return active if active in ok else (ok[0] if ok else None)

    def _adopt_object_layer(self, layer: Any, role: str) -> None:
        """Check a user's Shapes / Points layer for ``role`` and fill in its object columns.

        Polygons: every shape a polygon or rectangle and simple; rotated boxes: every shape
        4 vertices of a rectangle (its angle is measured); keypoints: points without a
        keypoint name get one as if placed by hand, in order (see ``_fill_keypoints``).
        Rows keep the columns they have; a missing class is the active class. Raises
        before the layer changes.
        """
        from ..core.objects.polygons import check_polygon

        feats = layer.features.copy().reset_index(drop=True)
        n = len(layer.data)
        where = f"layer '{layer.name}'"
        if role in ("polygons", "rotated"):
            ok = ("polygon", "rectangle")
            for i, t in enumerate(layer.shape_type):
                if t not in ok:
                    raise ObjectKindError(f"{role} are drawn as {' or '.join(ok)} shapes",
                                          where=f"{where}: shape {i}", field="shape_type",
                                          value=t)  # fmt: skip
        cid = self._default_class(skeleton=role == "keypoints")
        if cid is None:
            raise ObjectKindError("the taxonomy has no class" + (
                " with a keypoint skeleton" if role == "keypoints" else ""),
                where=where, field="class_id", value=None)  # fmt: skip

        def column(name: str, default: Any) -> None:
            if name not in feats.columns:
                feats[name] = pd.Series([default] * n, dtype=object)
            else:
                feats[name] = [default if _missing(v) else v for v in feats[name]]

        if role == "polygons":
            for i, v in enumerate(layer.data):
                check_polygon(np.asarray(v, float)[:, -2:][:, ::-1] + 0.5,
                              where=f"{where}: shape {i}")  # fmt: skip
            column("class_id", cid)
            column("instance_id", 0)
            column("hole", False)
            column("status", "todo")
        elif role == "rotated":
            angles = []
            for i, v in enumerate(layer.data):
                v = np.asarray(v, float)
                if len(v) != 4:
                    raise ObjectKindError("a rotated box needs 4 vertices",
                                          where=f"{where}: shape {i}", value=len(v))  # fmt: skip
                xy = v[:, -2:][:, ::-1] + 0.5
                angles.append(float(corners_to_rbox(xy[None], where=f"{where}: shape {i}")[0][4]))
            column("class_id", cid)
            column("instance_id", 0)
            feats["angle"] = angles if n else pd.Series([], dtype=float)
            column("status", "todo")
            column("difficult", False)
        else:
            for col, default in (("class_id", None), ("keypoint", None), ("object", None),
                                 ("visibility", 2)):  # fmt: skip
                column(col, default)
            for col in _BOX_COLS:
                column(col, np.nan)
            todo = [i for i in range(n) if _missing(feats.at[i, "keypoint"])]
            feats, _ = self._fill_keypoints(np.asarray(layer.data, float), feats, todo, None)
        feats["class_id"] = [int(c) for c in feats["class_id"]]
        feats["class"] = [self.taxonomy[c].name if c in self.taxonomy else ""
                          for c in feats["class_id"]]  # fmt: skip
        layer.features = feats
        if role == "keypoints":
            self._watch_keypoints(layer)
            self._show_skeleton(layer, True)

    def _watch_keypoints(self, layer: Any) -> None:
        """Fill the rows of keypoints placed by hand on ``layer`` (idempotent)."""
        hook = self._keypoint_hooks.get(id(layer))
        if hook is not None and hook.layer() is layer:
            return
        hook = _KeypointFill(self, layer)
        # first: the effort log reads the object id this fills in
        layer.events.data.connect(hook, position="first")
        self._keypoint_hooks[id(layer)] = hook

    def _fill_keypoints(
        self, data: np.ndarray, feats: pd.DataFrame, rows: list[int], prefer: int | None
    ) -> tuple[pd.DataFrame, int | None]:
        """Give rows ``rows`` of a keypoints table an object, class, name and visibility 2.

        Each point joins, in this order: object ``prefer`` (the selected or current one),
        else the object whose box holds it (the smallest), provided that object is on the
        point's plane, of the active class and still misses a keypoint; else it starts a
        new object of the active class (or the first class with a skeleton). It takes the
        next name of the object's skeleton that has no point yet. Returns the table and
        the object the last point joined. The other rows are summarised once per call
        (one pass over the table), so a click on a layer of many objects stays fast.
        """
        active = self._default_class(skeleton=True)
        feats = feats.copy()
        todo = set(rows)
        kp = feats["keypoint"].to_numpy(object)
        ob = feats["object"].to_numpy(object)
        done = [r for r in range(len(feats)) if r not in todo and not _missing(kp[r])
                and not _missing(ob[r])]  # fmt: skip
        # object id -> class, names placed, first row, plane, box (x0, y0, x1, y1)
        objs: dict[int, dict[str, Any]] = {}
        cids = feats["class_id"].to_numpy(object)
        boxes = feats[list(_BOX_COLS)].to_numpy(object) if set(_BOX_COLS) <= set(
            feats.columns) else np.full((len(feats), 4), np.nan, object)  # fmt: skip
        for r in done:
            k = int(ob[r])
            o = objs.get(k)
            if o is None:
                o = objs[k] = {"class_id": int(cids[r]), "names": set(), "row": r,
                               "plane": tuple(int(round(c)) for c in data[r, :-2]),
                               "box": [float(v) if not _missing(v) else np.nan
                                       for v in boxes[r]]}  # fmt: skip
            o["names"].add(kp[r])

        def is_open(k: int | None, plane: tuple[int, ...]) -> bool:
            o = objs.get(k) if k is not None else None
            if o is None or o["plane"] != plane or o["class_id"] not in self.taxonomy:
                return False
            sk = self.taxonomy[o["class_id"]].skeleton
            if sk is None or (active is not None and o["class_id"] != active):
                return False
            return len(o["names"] & set(sk.names)) < len(sk.names)

        top = max(objs, default=-1)
        for i in rows:
            plane = tuple(int(round(c)) for c in data[i, :-2])
            x, y = float(data[i, -1]) + 0.5, float(data[i, -2]) + 0.5
            target = prefer if is_open(prefer, plane) else None
            if target is None:
                inside = []
                for k, o in objs.items():
                    b = o["box"]
                    if b[0] <= x <= b[2] and b[1] <= y <= b[3] and is_open(k, plane):
                        inside.append(((b[2] - b[0]) * (b[3] - b[1]), k))  # NaN boxes fail
                target = min(inside)[1] if inside else None
            if target is None:
                if active is None:
                    continue  # no class with a skeleton: the point stays unnamed
                top += 1
                target = top
                objs[target] = {"class_id": int(active), "names": set(), "row": i,
                                "plane": plane, "box": [np.nan] * 4}  # fmt: skip
            o = objs[target]
            sk = self.taxonomy[o["class_id"]].skeleton
            if sk is None:
                continue
            name = next(nm for nm in sk.names if nm not in o["names"])
            o["names"].add(name)
            row = {"object": int(target), "class_id": o["class_id"],
                   "class": self.taxonomy[o["class_id"]].name, "keypoint": name,
                   "visibility": 2, **dict(zip(_BOX_COLS, o["box"], strict=True))}  # fmt: skip
            for col, v in row.items():
                if col not in feats.columns:
                    feats[col] = pd.Series([None] * len(feats), dtype=object)
                elif feats[col].dtype.kind in "iub" and not isinstance(v, (int, np.integer)):
                    feats[col] = feats[col].astype(object)
                feats.at[i, col] = v
            prefer = int(target)
        return feats, prefer

    # -- skeleton edges ----------------------------------------------------------------------
    def show_skeleton(self, layer: Any = None, visible: bool = True) -> Any:
        """Show (or hide) the skeleton edges of a keypoints layer.

        The edges live on a companion Vectors layer named ``"<keypoints layer> skeleton"``
        (below the points): per object, one line for each edge of its class's skeleton
        whose two keypoints are labelled (visibility > 0) on one plane, in the class
        colour. It is rebuilt whenever the keypoints layer's points or features change
        (points placed, moved or deleted, ``set_keypoint_visibility``, ``undo_objects``)
        or the taxonomy changes; napari cannot edit a Vectors layer. A managed keypoints
        layer shows its skeleton from the start.

        Parameters
        ----------
        layer : napari Points layer, optional
            Default: the first ``keypoints`` layer.
        visible : bool
            False hides the companion layer (it keeps following the points).

        Returns
        -------
        napari.layers.Vectors or None
            The companion layer (None when hiding a layer that never showed one).
        """
        from napari.layers import Points

        layer = layer if layer is not None else self._require_role("keypoints")
        if not isinstance(layer, Points):
            raise ObjectKindError("skeleton edges are drawn for a keypoints (Points) layer",
                                  where=f"layer '{getattr(layer, 'name', '?')}'",
                                  field="layer", value=type(layer).__name__)  # fmt: skip
        out = self._show_skeleton(layer, visible)
        self._record("show_skeleton", layer=layer.name, visible=bool(visible))
        return out

    def skeleton_layer(self, layer: Any = None) -> Any:
        """The companion skeleton layer of a keypoints layer (None when it has none)."""
        layer = layer if layer is not None else self._require_role("keypoints")
        sync = self._skeleton_syncs.get(id(layer))
        if sync is None or sync.keypoints() is not layer:
            return None
        return sync.vectors if sync.vectors in self.layers else None

    def _show_skeleton(self, layer: Any, visible: bool) -> Any:
        sync = self._skeleton_syncs.get(id(layer))
        if sync is None or sync.keypoints() is not layer:
            if not visible:
                return None
            sync = self._skeleton_syncs[id(layer)] = _SkeletonSync(self, layer)
        vectors = sync.vectors
        if visible and vectors not in self.layers:
            sync.update()
            layers = self.layers
            # below its points, so the points stay on top and clickable
            at = layers.index(layer) if layer in layers else len(layers)
            selection = getattr(layers, "selection", None)
            active = selection.active if selection is not None else None
            layers.insert(at, vectors)
            if selection is not None and active is not None:  # the points stay the one edited
                selection.active = active
        vectors.visible = bool(visible)
        return vectors if vectors in self.layers else None

    def _skeleton_vectors(self, layer: Any) -> tuple[np.ndarray, np.ndarray]:
        """The (M, 2, D) napari vectors (start, direction) of the skeleton edges of a
        keypoints layer, and their (M, 4) colours."""
        data = np.asarray(layer.data, float)
        nd = data.shape[1] if data.ndim == 2 else layer.ndim
        empty = np.zeros((0, 2, nd)), np.zeros((0, 4))
        feats = layer.features
        n = len(data)
        need = ("object", "class_id", "keypoint", "visibility")
        if n == 0 or len(feats) != n or not set(need) <= set(feats.columns):
            return empty  # mid-edit (points before their rows) or not a keypoints table
        skeletons = {c.id: c.skeleton for c in self.taxonomy if c.skeleton is not None}
        cls = pd.to_numeric(feats["class_id"], errors="coerce").fillna(-1).to_numpy(int)
        obj = pd.to_numeric(feats["object"], errors="coerce").fillna(-1).to_numpy(int)
        vis = pd.to_numeric(feats["visibility"], errors="coerce").fillna(0).to_numpy(float)
        vis = np.where(obj < 0, 0.0, vis)  # points without an object draw no edge
        # keypoint names -> index in the class skeleton, through the few distinct pairs
        names = feats["keypoint"].to_numpy(object).astype(str)  # missing: "nan"/"None"
        pairs, inv = np.unique(np.char.add(cls.astype(str), np.char.add(":", names)),
                               return_inverse=True)  # fmt: skip
        lookup = np.full(len(pairs), -1, int)
        for u, pair in enumerate(pairs.tolist()):
            cid_s, _, name = pair.partition(":")
            sk = skeletons.get(int(cid_s))
            if sk is not None and name in sk.names:
                lookup[u] = sk.names.index(name)
        kpi = lookup[inv.reshape(-1)]
        segs, seg_cls, _ = skeleton_segments(
            data, skeletons, objects=obj, class_ids=cls, keypoint=kpi, visibility=vis
        )
        if not len(segs):
            return empty
        vectors = np.stack([segs[:, 0], segs[:, 1] - segs[:, 0]], axis=1)
        from napari.utils.colormaps.standardize_color import transform_color

        palette = {c: transform_color(self.taxonomy[c].color)[0] for c in np.unique(seg_cls)}
        colors = np.array([palette[c] for c in seg_cls.tolist()], float)
        return vectors, colors

    def _require_role(self, role: str) -> Any:
        for lay in self.layers:
            meta = getattr(lay, "metadata", None) or {}
            info = meta.get(META_KEY)
            if isinstance(info, dict) and info.get("role") == role:
                return lay
        raise SessionError(f"no {role} layer: add one first", field="role", value=role)


class _KeypointFill:
    """Names keypoints placed by hand on a keypoints layer (object, class, keypoint name,
    visibility 2); holds the session and the layer weakly.

    The object a new point joins is the one of the points selected when it was placed,
    else the one the previous point joined (see ``ObjectsMixin._fill_keypoints``).
    """

    def __init__(self, session: Any, layer: Any) -> None:
        import weakref

        self.session = weakref.ref(session)
        self.layer = weakref.ref(layer)
        self.current: int | None = None
        self._selected: int | None = None

    def __call__(self, event: Any = None) -> None:
        session, layer = self.session(), self.layer()
        if session is None or layer is None:
            return
        action = str(getattr(event, "action", ""))
        feats = layer.features
        if action == "adding":
            # the selection before napari replaces it with the new point
            objs = {feats["object"].iloc[i] for i in layer.selected_data
                    if "object" in feats and i < len(feats)}  # fmt: skip
            objs = {o for o in objs if not _missing(o)}
            self._selected = int(objs.pop()) if len(objs) == 1 else None
            return
        if action != "added" or not len(layer.data):
            return
        n = len(layer.data)
        rows = sorted({int(i) % n for i in getattr(event, "data_indices", ()) or ()})
        prefer = self._selected if self._selected is not None else self.current
        self._selected = None
        new, self.current = session._fill_keypoints(
            np.asarray(layer.data, float), feats.reset_index(drop=True), rows, prefer
        )
        layer.features = new
        colors = np.array(layer.face_color, float)
        colors[rows] = [0.2, 1, 0.2, 1]  # visible (2), as add_keypoints_layer colours it
        layer.face_color = colors


class _SkeletonSync:
    """Keeps a keypoints layer's companion Vectors layer of skeleton edges up to date.

    Holds the session and the keypoints layer weakly (the session holds this object).
    """

    def __init__(self, session: Any, layer: Any) -> None:
        import weakref

        from napari.layers import Vectors

        self.session = weakref.ref(session)
        self.keypoints = weakref.ref(layer)
        self.vectors = Vectors(
            np.zeros((0, 2, layer.ndim)), ndim=layer.ndim, name=f"{layer.name} skeleton",
            edge_width=1.5, vector_style="line", length=1.0,
        )  # fmt: skip
        from .._napari_compat import small_vectors_thumbnail

        small_vectors_thumbnail(self.vectors)  # napari's thumbnail would cost most of a rebuild
        layer.events.data.connect(self._on_data)
        layer.events.features.connect(self.update)
        session.taxonomy_changed.connect(self._on_taxonomy)
        session.layers.events.removed.connect(self._on_removed)

    def _on_data(self, event: Any = None) -> None:
        # napari announces an edit ("adding", "changing" ...) before it happens
        if str(getattr(event, "action", "changed")).endswith("ed"):
            self.update()

    def _on_taxonomy(self, *args: Any) -> None:
        self.update()

    def _on_removed(self, event: Any = None) -> None:
        """The keypoints layer left: its skeleton leaves with it."""
        session, layer = self.session(), self.keypoints()
        if session is None or layer is None or id(getattr(event, "value", None)) != id(layer):
            return
        if self.vectors in session.layers:
            session.layers.remove(self.vectors)
        if session._skeleton_syncs.get(id(layer)) is self:
            del session._skeleton_syncs[id(layer)]
        layer.events.data.disconnect(self._on_data)
        layer.events.features.disconnect(self.update)
        session.taxonomy_changed.disconnect(self._on_taxonomy)
        session.layers.events.removed.disconnect(self._on_removed)

    def update(self, event: Any = None) -> None:
        """Rebuild the edges from the points (cheap: a few array operations)."""
        session, layer = self.session(), self.keypoints()
        if session is None or layer is None:
            return
        vectors, colors = session._skeleton_vectors(layer)
        self.vectors.data = vectors
        if len(colors):
            self.vectors.edge_color = colors
