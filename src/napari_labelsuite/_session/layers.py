"""Taxonomy binding and the annotation layers; layers <-> ImageAnnotation.

Managed layers record their role in ``layer.metadata["labelsuite"]["role"]``:

``semantic``
    Labels layer whose values are class ids. Colormap straight from the taxonomy.
``instances``
    Labels layer whose values are instance ids; ``layer.features`` is the instance -> class
    (+ attributes, review state) table. Each instance is drawn in its class's colour, with a
    small per-instance brightness change so touching instances stay distinguishable.
``boxes``
    Shapes layer of rectangles, one features row per box (class, instance link,
    attributes, status); edge colours come from the taxonomy and the text shows the class.
``points``
    Points layer of single points (labelme ``point``, CVAT ``points``, Label Studio
    ``keypointlabels``), one features row per point like the boxes table (class, instance
    link, attributes); face colours come from the taxonomy.
``polylines``
    Shapes layer of open ``path`` shapes (labelme ``line`` / ``linestrip``, CVAT
    ``polyline``); the same table plus ``kind``; edge colours from the taxonomy.

Every taxonomy change (rename, recolour, remove with ``remap_to``, merge, ...) is pushed to
all managed layers by :meth:`LayersMixin._sync_layers_to_taxonomy`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from psygnal import Signal

from ..core import convert
from ..core.annotation import Box, ImageAnnotation, ObjectInfo
from ..core.boxes import boxes_to_napari, napari_to_xyxy
from ..core.colors import instance_color as _instance_color
from ..core.errors import AnnotationError, SessionError, TaxonomyError
from ..core.marks import (
    points_from_napari,
    points_to_napari,
    polylines_from_napari,
    polylines_to_napari,
)
from ..core.tables import (
    BOX_COLUMNS,
    box_meta_from_frame,
    boxes_frame,
    class_name,
    frame_to_objects,
    objects_to_frame,
    semantic_frame,
)
from .events import emit
from .host import SessionPart

ROLES = ("semantic", "instances", "boxes")
#: roles of the layers of points and polylines (``ImageAnnotation.metadata`` keys)
MARK_ROLES = ("points", "polylines")
#: roles of the object-kind layers (``ObjectsMixin``): polygons, rotated boxes, keypoints
OBJECT_ROLES = ("polygons", "rotated", "keypoints")
#: roles whose layers carry a class table per shape or point
_TABLE_ROLES = ("boxes", "polygons", *MARK_ROLES)
#: ``layer.metadata`` key under which a managed layer records its role (the one definition)
META_KEY = "labelsuite"
_TRANSPARENT = np.zeros(4)
#: colour of instances that have no class yet
_UNCLASSIFIED = np.array([0.6, 0.6, 0.6, 1.0])
_BOX_FILL = {"class": "", "class_id": 0, "instance_id": 0, "status": "todo"}
_BOX_TEXT = {"string": "{class}", "size": 10, "color": "white", "anchor": "upper_left"}


def role_of(layer: Any) -> str | None:
    """The managed role recorded in a layer's metadata, or None."""
    meta = getattr(layer, "metadata", None) or {}
    info = meta.get(META_KEY)
    return info.get("role") if isinstance(info, dict) else None


def _layer_data(layer: Any) -> Any:
    """The full-resolution array of a (possibly multiscale) Labels layer."""
    return layer.data[0] if getattr(layer, "multiscale", False) else layer.data


class LayersMixin(SessionPart):
    """Taxonomy binding and the annotation layers; layers <-> ImageAnnotation."""

    #: ``(class_id)`` when the active class is set (also to the same class) or unset (None)
    active_class_changed = Signal(object)

    def _init_mixin(self) -> None:
        self._active_class: int | None = None
        self._usage_checked: Any = None
        self._paint_hooks: dict[int, Any] = {}

    # -- roles ----------------------------------------------------------------------------
    def manage_layer(self, layer: Any, role: str) -> Any:
        """Bind an existing layer to the taxonomy under ``role`` (added to the layers if absent).

        Parameters
        ----------
        layer : napari Labels, Shapes or Points layer
        role : {"semantic", "instances", "boxes", "points", "polylines", "polygons", \
"rotated", "keypoints"}
            ``"rotated_boxes"`` is taken for ``"rotated"``. A Shapes layer adopted as
            polygons or rotated boxes and a Points layer adopted as keypoints get the
            object columns (class, instance id, angle, keypoint name, visibility ...)
            filled in; its shapes are checked first (see ``ObjectsMixin``).
        """
        from napari.layers import Labels, Points, Shapes

        role = {"rotated_boxes": "rotated"}.get(role, role)
        if role not in ROLES + MARK_ROLES + OBJECT_ROLES:
            raise SessionError(
                f"role must be one of {ROLES + MARK_ROLES + OBJECT_ROLES}",
                field="role",
                value=role,
            )
        want = {"boxes": Shapes, "polylines": Shapes, "points": Points, "polygons": Shapes,
                "rotated": Shapes, "keypoints": Points}.get(role, Labels)  # fmt: skip
        if not isinstance(layer, want):
            raise SessionError(
                f"a {role} layer must be a {want.__name__} layer",
                where=f"layer '{getattr(layer, 'name', '?')}'",
                field="role",
                value=type(layer).__name__,
            )
        if role in OBJECT_ROLES:
            self._adopt_object_layer(layer, role)  # ObjectsMixin: checked, then filled in
        info = dict(layer.metadata.get(META_KEY) or {})
        info["role"] = role
        layer.metadata = {**layer.metadata, META_KEY: info}
        if layer not in self.layers:
            self.layers.append(layer)
        self._bind_layer(layer)
        self._record("manage_layer", layer=layer.name, role=role)
        return layer

    def _select(self, layer: Any) -> None:
        """Make a new layer the active one, headless too (the viewer does it on its own)."""
        selection = getattr(self.layers, "selection", None)
        if selection is not None:
            selection.active = layer

    def layers_of_role(self, role: str) -> list:
        """Managed layers with ``role``, in layer-list order."""
        return [layer for layer in self.layers if role_of(layer) == role]

    def _active_of_role(self, role: str) -> Any:
        found = self.layers_of_role(role)
        if not found:
            return None
        selection = getattr(self.layers, "selection", None)
        active = getattr(selection, "active", None)
        # otherwise the topmost one (the newest, as napari lists them)
        return active if active in found else found[-1]

    @property
    def semantic(self) -> Any:
        """The active semantic Labels layer (the selected one, else the topmost), or None."""
        return self._active_of_role("semantic")

    @property
    def instances(self) -> Any:
        """The active instance Labels layer, or None."""
        return self._active_of_role("instances")

    @property
    def boxes(self) -> Any:
        """The active boxes Shapes layer, or None."""
        return self._active_of_role("boxes")

    @property
    def points_layer(self) -> Any:
        """The active points layer (role ``points``), or None."""
        return self._active_of_role("points")

    @property
    def polylines_layer(self) -> Any:
        """The active polylines layer (role ``polylines``), or None."""
        return self._active_of_role("polylines")

    @property
    def image(self) -> Any:
        """The first Image layer, or None."""
        from napari.layers import Image

        return next((layer for layer in self.layers if isinstance(layer, Image)), None)

    def _require(self, role: str, layer: Any = None) -> Any:
        layer = layer if layer is not None else self._active_of_role(role)
        if layer is None:
            raise SessionError(f"there is no {role} layer", field="layer", value=None)
        if role_of(layer) != role:
            raise SessionError(
                f"layer is not a managed {role} layer",
                where=f"layer '{layer.name}'",
                field="role",
                value=role_of(layer),
            )
        return layer

    # -- creating layers ------------------------------------------------------------------
    def _default_shape(self, shape: Any) -> tuple[int, ...]:
        if shape is not None:
            return tuple(int(s) for s in shape)
        img = self.image
        if img is not None:
            data = _layer_data(img)
            return tuple(data.shape[:-1] if img.rgb else data.shape)
        for role in ("semantic", "instances"):
            other = self._active_of_role(role)
            if other is not None:
                return tuple(_layer_data(other).shape)
        raise SessionError(
            "give data or shape: there is no image to take the shape from", field="shape"
        )

    def add_semantic_layer(
        self, data: Any = None, *, name: str = "semantic", shape: Any = None, **layer_kwargs: Any
    ):
        """Add a Labels layer of class ids bound to the taxonomy.

        Parameters
        ----------
        data : array-like of int, optional
            Class-id mask (numpy, zarr or dask). Zeros of ``shape`` (or of the image's
            shape) when omitted.
        name : str
        shape : tuple of int, optional
        **layer_kwargs
            Passed to ``napari.layers.Labels`` (``scale``, ``opacity``...).
        """
        from napari.layers import Labels

        if data is None:
            data = np.zeros(
                self._default_shape(shape),
                dtype=np.uint8 if max(self.taxonomy.ids(), default=0) <= 255 else np.uint32,
            )
        layer = Labels(data, name=name, **_with_meta(layer_kwargs, "semantic"))
        self.layers.append(layer)
        self._bind_layer(layer)
        self._select(layer)
        self._record("add_semantic_layer", name=name, data=data)
        return layer

    def add_instance_layer(
        self,
        data: Any = None,
        *,
        name: str = "instances",
        objects: dict[int, ObjectInfo] | None = None,
        shape: Any = None,
        **layer_kwargs: Any,
    ):
        """Add a Labels layer of instance ids with its instance -> class table.

        Parameters
        ----------
        data : array-like of int, optional
            Instance-id mask; zeros of ``shape`` (or the image's shape) when omitted.
        objects : dict of int to ObjectInfo, optional
            The instance table (class, attributes, review state).
        """
        from napari.layers import Labels

        if data is None:
            data = np.zeros(self._default_shape(shape), dtype=np.int32)
        objects = dict(objects or {})
        self._check_objects(objects)
        kw = _with_meta(layer_kwargs, "instances")
        kw["features"] = objects_to_frame(objects, self.taxonomy)
        layer = Labels(data, name=name, **kw)
        self.layers.append(layer)
        self._bind_layer(layer)
        self._select(layer)
        self._record("add_instance_layer", name=name, data=data, n_objects=len(objects))
        return layer

    def add_boxes_layer(
        self,
        boxes: list[Box] | None = None,
        *,
        name: str = "boxes",
        ndim: int | None = None,
        **layer_kwargs: Any,
    ):
        """Add a Shapes layer of rectangles whose rows carry class, attributes and status.

        Parameters
        ----------
        boxes : list of Box, optional
        ndim : int, optional
            Layer dimensionality; a box lives on one plane of an nD image (its leading
            coordinates). Defaults to the boxes' ``len(plane) + 2``, else the image's or
            masks' ndim, else 2.
        """
        layer = self._make_boxes_layer(list(boxes or []), name, ndim, layer_kwargs)
        self.layers.append(layer)
        self._bind_layer(layer)
        self._select(layer)
        self._record("add_boxes_layer", name=name, n_boxes=len(boxes or []), ndim=layer.ndim)
        return layer

    def add_points_layer(
        self, points: list[dict] | None = None, *, name: str = "points", ndim: int | None = None
    ):
        """Add a Points layer of single points bound to the taxonomy (role ``points``).

        Parameters
        ----------
        points : list of dict, optional
            Marks ``{"xy": [x, y], "class_id": ..., "attributes": {...}}`` in pixel-edge
            coordinates (see :mod:`napari_labelsuite.core.marks`); points added by hand
            get the active class.
        ndim : int, optional
            Defaults to the image's or masks' ndim, else 2.
        """
        return self._add_marks_layer("points", list(points or []), name, ndim)

    def add_polylines_layer(
        self,
        polylines: list[dict] | None = None,
        *,
        name: str = "polylines",
        ndim: int | None = None,
    ):
        """Add a Shapes layer of open paths bound to the taxonomy (role ``polylines``).

        ``polylines`` are marks ``{"xy": [[x, y], ...], "class_id": ..., "kind": ...}``;
        paths drawn by hand get the active class.
        """
        return self._add_marks_layer("polylines", list(polylines or []), name, ndim)

    def _add_marks_layer(self, role: str, marks: list[dict], name: str, ndim: Any) -> Any:
        if ndim is None:
            try:
                ndim = len(self._default_shape(None))
            except SessionError:
                ndim = 2
        layer = self._make_marks_layer(role, marks, name, int(ndim))
        self.layers.append(layer)
        self._bind_layer(layer)
        self._select(layer)
        self._record(f"add_{role}_layer", name=name, count=len(marks), ndim=layer.ndim)
        return layer

    def _make_boxes_layer(self, boxes: list[Box], name: str, ndim: Any, kwargs: dict) -> Any:
        from napari.layers import Shapes

        if ndim is None:
            if boxes:
                ndim = len(boxes[0].plane) + 2
            else:
                try:
                    ndim = len(self._default_shape(None))
                except SessionError:
                    ndim = 2
        for i, b in enumerate(boxes):
            if b.class_id not in self.taxonomy:
                raise AnnotationError(
                    "class id is not in the taxonomy",
                    where=f"boxes[{i}]",
                    field="class_id",
                    value=b.class_id,
                )
        data = boxes_to_napari(boxes, ndim)
        kw = _with_meta(kwargs, "boxes")
        kw.setdefault("face_color", "transparent")
        kw.setdefault("edge_width", 2)
        kw.setdefault("text", dict(_BOX_TEXT))
        kw["features"] = boxes_frame(boxes, self.taxonomy)
        if boxes:
            kw["edge_color"] = self._box_colors(kw["features"])
        return Shapes(data, ndim=ndim, shape_type="rectangle", name=name, **kw)

    # -- binding --------------------------------------------------------------------------
    def _bind_layer(self, layer: Any) -> None:
        role = role_of(layer)
        if role == "semantic":
            self._bind_semantic(layer)
        elif role == "instances":
            self._bind_instances(layer)
            if id(layer) not in self._paint_hooks:
                hook = _PaintHook(self, layer)
                layer.events.paint.connect(hook)
                self._paint_hooks[id(layer)] = hook
                self._prime_id_top(layer)  # a lazy mask's ids: scanned once, chunk-wise
        elif role in ("boxes", "polygons"):  # polygons carry the boxes' table
            self._bind_boxes(layer)
        elif role in MARK_ROLES:
            self._bind_marks(layer)
        self._watch_effort(layer)  # EffortMixin: log hand edits of the layer

    def _bind_semantic(self, layer: Any) -> None:
        from napari.utils import DirectLabelColormap

        layer.colormap = DirectLabelColormap(color_dict=self.taxonomy.colormap())
        layer.features = semantic_frame(self.taxonomy)

    def _instance_colormap(self, objects: dict[int, ObjectInfo]) -> dict:
        cmap: dict[Any, Any] = {None: _UNCLASSIFIED, 0: _TRANSPARENT}
        for iid, o in objects.items():
            if o.class_id in self.taxonomy:
                cmap[iid] = _instance_color(self.taxonomy[o.class_id].color, iid)
        return cmap

    def _bind_instances(self, layer: Any, objects: dict | None = None) -> None:
        from napari.utils import DirectLabelColormap

        if objects is None:
            objects = frame_to_objects(layer.features)
        layer.features = objects_to_frame(objects, self.taxonomy)
        layer.colormap = DirectLabelColormap(color_dict=self._instance_colormap(objects))

    def _box_colors(self, frame: pd.DataFrame) -> np.ndarray:
        colors = np.tile(_UNCLASSIFIED, (len(frame), 1))
        if "class_id" in frame.columns:
            for i, cid in enumerate(frame["class_id"].tolist()):
                if cid is not None and not pd.isna(cid) and int(cid) in self.taxonomy:
                    colors[i] = self.taxonomy[int(cid)].color
        return colors

    def _bind_boxes(self, layer: Any, frame: pd.DataFrame | None = None) -> None:
        if frame is None:
            frame = layer.features.copy()
        for col in BOX_COLUMNS:
            if col not in frame.columns:
                frame[col] = _BOX_FILL.get(col)
        # one column per taxonomy attribute, so the next box can carry its class's defaults
        for c in self.taxonomy:
            for spec in c.attributes:
                if spec.name not in frame.columns:
                    frame[spec.name] = pd.Series([None] * len(frame), dtype=object)
        if len(frame):
            frame["class"] = [
                class_name(self.taxonomy, int(c)) if not pd.isna(c) else ""
                for c in frame["class_id"]
            ]
        layer.features = frame
        if len(frame):
            layer.edge_color = self._box_colors(frame)
        if not layer.text.string or getattr(layer.text.string, "format", None) != "{class}":
            layer.text = dict(_BOX_TEXT)
        layer.text.refresh(layer.features)
        self._apply_box_defaults(layer)

    def _apply_box_defaults(self, layer: Any) -> None:
        cid = self._active_class if self._active_class in self.taxonomy else None
        if cid is None and len(self.taxonomy):
            cid = self.taxonomy.ids()[0]
        defaults = {
            "class": class_name(self.taxonomy, cid) if cid else "",
            "class_id": int(cid or 0),
            "instance_id": 0,
            "status": "todo",
            "reviewer": None,
            "reviewed_at": None,
            "hole": False,  # a polygon drawn by hand is an outline
        }
        for col in layer.features.columns:
            defaults.setdefault(col, None)
        if cid:
            for spec in self.taxonomy[cid].attributes:
                defaults[spec.name] = spec.default_value()
        layer.feature_defaults = {k: v for k, v in defaults.items() if k in layer.features}
        if cid:
            if role_of(layer) == "points":
                layer.current_face_color = self.taxonomy[cid].color
            else:
                layer.current_edge_color = self.taxonomy[cid].color

    # -- points and polylines ------------------------------------------------------------
    def _make_marks_layer(self, role: str, marks: list[dict], name: str, ndim: int) -> Any:
        """A points or polylines layer of ``marks`` (see ``core.marks``); validated first."""
        from napari.layers import Points, Shapes

        for i, m in enumerate(marks):
            if m.get("class_id") not in self.taxonomy:
                raise AnnotationError(
                    "class id is not in the taxonomy",
                    where=f"{role}[{i}]",
                    field="class_id",
                    value=m.get("class_id"),
                )
        kw = _with_meta({}, role)
        kw["text"] = dict(_BOX_TEXT)
        if role == "points":
            data, kw["features"] = points_to_napari(marks, ndim, self.taxonomy)
            if len(data):
                kw["face_color"] = self._box_colors(kw["features"])
            return Points(data, ndim=ndim, name=name, size=6, border_color="white", **kw)
        paths, kw["features"] = polylines_to_napari(marks, ndim, self.taxonomy)
        if paths:
            kw["edge_color"] = self._box_colors(kw["features"])
        return Shapes(paths, ndim=ndim, shape_type="path", name=name, edge_width=2, **kw)

    def _bind_marks(self, layer: Any) -> None:
        """Class names, colours and defaults of a points / polylines layer from the taxonomy."""
        frame = layer.features.copy()
        for col in BOX_COLUMNS:
            if col not in frame.columns:
                frame[col] = _BOX_FILL.get(col)
        if role_of(layer) == "polylines" and "kind" not in frame.columns:
            frame["kind"] = "linestrip"
        if len(frame):
            frame["class"] = [
                class_name(self.taxonomy, int(c)) if not pd.isna(c) else ""
                for c in frame["class_id"]
            ]
        layer.features = frame
        if len(frame):
            colors = self._box_colors(frame)
            if role_of(layer) == "points":
                layer.face_color = colors
            else:
                layer.edge_color = colors
        layer.text.refresh(layer.features)
        self._apply_box_defaults(layer)

    def points_list(self, layer: Any = None) -> list[dict[str, Any]]:
        """The points of a points layer as mark dicts (``xy``, ``class_id``, ``attributes``)."""
        layer = self._require("points", layer)
        return points_from_napari(layer.data, layer.features)

    def polylines_list(self, layer: Any = None) -> list[dict[str, Any]]:
        """The polylines of a polylines layer as mark dicts (``xy``, ``class_id``, ``kind``)."""
        layer = self._require("polylines", layer)
        return polylines_from_napari(layer.data, layer.features)

    # -- taxonomy -> layers -----------------------------------------------------------------
    def _sync_layers_to_taxonomy(self, event: str, **info: Any) -> None:
        """Bring every managed layer in line with the taxonomy after a change."""
        if event == "reset":
            self._install_usage_check()
            if self._active_class is not None and self._active_class not in self.taxonomy:
                self._set_active_id(None)
        remap = info.get("remap_to")
        if event in ("removed", "merged") and remap is not None:
            self._relabel_class(int(info["id"]), int(remap))
        if event in ("removed", "merged") and self._active_class == info.get("id"):
            self._set_active_id(None if remap is None else int(remap))
        # layers may be read after the viewer closed (e.g. a late event); then nothing to do
        try:
            layers = list(self.layers)
        except SessionError:
            return
        for layer in layers:
            if role_of(layer) in (*ROLES, *MARK_ROLES, "polygons"):
                self._bind_layer(layer)

    def _install_usage_check(self) -> None:
        old = self._usage_checked
        if old is not None and old is not self.taxonomy:
            old.remove_usage_check(self.class_in_use)
        self.taxonomy.add_usage_check(self.class_in_use)
        self._usage_checked = self.taxonomy

    def class_in_use(self, class_id: int, layers: Any = None) -> bool:
        """True when a managed mask, instance table or boxes layer uses ``class_id``.

        ``layers`` limits the search to those layers (default: all managed layers).
        """

        def of_role(role: str) -> list:
            found = self.layers_of_role(role)
            return found if layers is None else [ly for ly in found if ly in layers]

        for layer in [ly for role in _TABLE_ROLES for ly in of_role(role)]:
            if "class_id" in layer.features and (layer.features["class_id"] == class_id).any():
                return True
        for layer in of_role("instances"):
            if any(o.class_id == class_id for o in frame_to_objects(layer.features).values()):
                return True
        return any(
            convert.contains_value(_layer_data(layer), class_id) for layer in of_role("semantic")
        )

    def _check_taxonomy_swap(
        self, new: Any, remap: dict | None = None, *, force: bool = False, layers: Any = None
    ) -> dict[int, int]:
        """``remap`` as {old id: new id}, after checking that ``new`` keeps classes in use.

        A class of the current taxonomy used by ``layers`` (default: every managed layer)
        must keep its id and name in ``new`` or be remapped; otherwise TaxonomyError.
        """
        old = self._taxonomy
        mapping: dict[int, int] = {}
        acknowledged: set[int] = set()
        for src, dst in (remap or {}).items():
            try:
                s = old.resolve(src).id if isinstance(src, str) and old is not None else int(src)
                d = new.resolve(dst).id
            except (TaxonomyError, TypeError, ValueError):
                raise TaxonomyError(
                    "remap must map a current class to a class of the new taxonomy",
                    field="remap",
                    value={src: dst},
                ) from None
            acknowledged.add(s)
            if s != d:
                mapping[s] = d
        if force or old is None:
            return mapping
        problems: list[str] = []
        bad: list[int] = []
        for c in old:
            same = c.id in new and new[c.id].name == c.name
            if same or c.id in acknowledged or not self.class_in_use(c.id, layers):
                continue
            bad.append(c.id)
            now = f"is now '{new[c.id].name}'" if c.id in new else "is missing"
            problems.append(f"{c.id} '{c.name}' {now}")
        if problems:
            raise TaxonomyError(
                "the new taxonomy changes classes in use: "
                + "; ".join(problems)
                + " (pass remap={old_id: new_id}, remove the layers using them, or force)",
                field="taxonomy",
                value=bad,
            )
        return mapping

    def _remap_class_ids(self, mapping: dict[int, int]) -> None:
        """Relabel every managed layer at once by {old class id: new class id}."""
        for layer in self.layers_of_role("semantic"):
            data = _layer_data(layer)
            if isinstance(data, np.ndarray):
                # all positions first, so swaps (1 -> 2, 2 -> 1) do not chain
                hits = [(np.nonzero(data == s), d) for s, d in mapping.items()]
                for idx, d in hits:
                    if idx[0].size:
                        layer.data_setitem(idx, d)  # Ctrl+Z restores the mask
            else:
                convert.replace_values(data, mapping)
                layer.refresh()
        for layer in self.layers_of_role("instances"):
            objects = frame_to_objects(layer.features)
            for o in objects.values():
                o.class_id = mapping.get(o.class_id, o.class_id)
            layer.features = objects_to_frame(objects, self.taxonomy)
        for layer in [ly for role in _TABLE_ROLES for ly in self.layers_of_role(role)]:
            frame = layer.features.copy()
            if "class_id" in frame.columns:
                frame["class_id"] = [
                    c if pd.isna(c) else mapping.get(int(c), c) for c in frame["class_id"]
                ]
                layer.features = frame
        if self._active_class in mapping:
            self._active_class = mapping[self._active_class]

    def _relabel_class(self, src: int, dst: int) -> None:
        """Relabel class ``src`` as ``dst`` in every managed layer (see _remap_class_ids).

        The active class is left to the caller, which announces its move.
        """
        active = self._active_class
        self._remap_class_ids({src: dst})
        self._active_class = active

    # -- taxonomy editing through the session (recorded) ------------------------------------
    def add_class(self, name: str, **kwargs: Any):
        """Add a class to the taxonomy (see :meth:`Taxonomy.add`)."""
        lc = self.taxonomy.add(name, **kwargs)
        self._record("add_class", name=name, id=lc.id, **kwargs)
        return lc

    def rename_class(self, cls: int | str, new_name: str) -> None:
        """Rename a class; every bound layer's features and box text follow."""
        cid = self.taxonomy.resolve(cls).id
        self.taxonomy.rename(cid, new_name)
        self._record("rename_class", id=cid, name=new_name)

    def recolor_class(self, cls: int | str, color: Any) -> None:
        """Change a class's colour; colormaps and box edges follow."""
        cid = self.taxonomy.resolve(cls).id
        self.taxonomy.recolor(cid, color)
        self._record("recolor_class", id=cid, color=color)

    def update_class(self, cls: int | str, **changes: Any) -> None:
        """Change description, hotkey, parent or attributes of a class."""
        cid = self.taxonomy.resolve(cls).id
        self.taxonomy.update(cid, **changes)
        self._record("update_class", id=cid, **changes)

    def remove_class(self, cls: int | str, remap_to: int | str | None = None) -> None:
        """Remove a class; refused while in use unless ``remap_to`` takes its objects.

        Masks, instance tables and boxes of the class are relabelled to ``remap_to``
        (mask edits go through napari's undo history).
        """
        cid = self.taxonomy.resolve(cls).id
        self.taxonomy.remove(cid, remap_to=remap_to, in_use=self.class_in_use)
        self._record("remove_class", id=cid, remap_to=remap_to)

    def move_class(self, cls: int | str, step: int) -> list[int]:
        """Move a class ``step`` places in the taxonomy order (negative: up, towards key 1).

        Stops at either end; returns the new id order.
        """
        cid = self.taxonomy.resolve(cls).id
        ids = self.taxonomy.ids()
        i = ids.index(cid)
        j = min(max(i + int(step), 0), len(ids) - 1)
        if i != j:
            ids.insert(j, ids.pop(i))
            self.taxonomy.reorder(ids)
            self._record("move_class", id=cid, step=int(step))
        return ids

    def merge_classes(self, src: int | str, dst: int | str) -> None:
        """Merge class ``src`` into ``dst``: masks and boxes of ``src`` become ``dst``."""
        s, d = self.taxonomy.resolve(src).id, self.taxonomy.resolve(dst).id
        self.taxonomy.merge(s, d)
        self._record("merge_classes", src=s, dst=d)

    # -- active class ---------------------------------------------------------------------
    @property
    def active_class(self) -> int | None:
        """The class id new labels, boxes and instances get (None when unset)."""
        return self._active_class

    def set_active_class(self, cls: int | str) -> int:
        """Make ``cls`` (id or name) the class of the next label, box and instance.

        Sets ``selected_label`` on the active semantic layer, the ``feature_defaults`` and
        ``current_edge_color`` of the boxes layer, and on an instance layer starts a new
        instance id (painted instances get this class).
        """
        cid = self.taxonomy.resolve(cls).id
        self._active_class = cid
        sem = self.semantic
        if sem is not None:
            sem.selected_label = cid
        for layer in [ly for role in _TABLE_ROLES for ly in self.layers_of_role(role)]:
            self._apply_box_defaults(layer)
        inst = self.instances
        if inst is not None:
            objects = frame_to_objects(inst.features)
            if inst.selected_label == 0 or inst.selected_label in objects:
                inst.selected_label = self.next_instance_id(inst)
        self._notify_active_class()
        return cid

    def on_active_class_changed(self, fn: Any) -> None:
        """Call ``fn(class_id)`` whenever the active class is set or changes.

        ``fn`` gets the new class id, or None when a removal or a new taxonomy unset it.
        Called after the layers were updated, also when the same class is set again.
        """
        self._legacy_listeners.connect(self.active_class_changed, fn, lambda cid: fn(cid))

    def disconnect_active_class(self, fn: Any) -> None:
        """Stop calling ``fn`` on active class changes (no error if it was not connected)."""
        self._legacy_listeners.disconnect(self.active_class_changed, fn)

    def _set_active_id(self, cid: int | None) -> None:
        self._active_class = cid
        self._notify_active_class()

    def _notify_active_class(self) -> None:
        emit(self.active_class_changed, self._active_class)

    def class_for_key(self, key: str) -> int | None:
        """The class a key selects: ``"1"``-``"9"`` pick the n-th class, else its hotkey."""
        if len(key) == 1 and key in "123456789":
            ids = self.taxonomy.ids()
            n = int(key)
            return ids[n - 1] if n <= len(ids) else None
        for c in self.taxonomy:
            if c.hotkey and c.hotkey.lower() == key.lower():
                return c.id
        return None

    def class_hotkeys(self) -> dict[str, int]:
        """Every key that selects a class -> class id (digits first, then class hotkeys)."""
        keys = {str(i + 1): cid for i, cid in enumerate(self.taxonomy.ids()[:9])}
        for c in self.taxonomy:
            if c.hotkey:
                keys[c.hotkey] = c.id
        return keys

    # -- instance table -------------------------------------------------------------------
    def _check_objects(self, objects: dict[int, ObjectInfo]) -> None:
        for iid, o in objects.items():
            if int(iid) <= 0:
                raise AnnotationError("instance ids must be >= 1", field="objects", value=iid)
            if o.class_id not in self.taxonomy:
                raise AnnotationError(
                    "class id is not in the taxonomy",
                    where=f"object {iid}",
                    field="class_id",
                    value=o.class_id,
                )

    def objects(self, layer: Any = None) -> dict[int, ObjectInfo]:
        """The instance table (instance id -> ObjectInfo) of an instance layer."""
        return frame_to_objects(self._require("instances", layer).features)

    def set_objects(self, objects: dict[int, ObjectInfo], layer: Any = None) -> None:
        """Replace the instance table of an instance layer."""
        layer = self._require("instances", layer)
        objects = {int(k): v for k, v in objects.items()}
        self._check_objects(objects)
        self._bind_instances(layer, objects)
        self._record("set_objects", layer=layer.name, n_objects=len(objects))

    def set_object_class(self, instance_id: int, cls: int | str, layer: Any = None) -> None:
        """Give instance ``instance_id`` the class ``cls`` (added to the table if missing)."""
        layer = self._require("instances", layer)
        cid = self.taxonomy.resolve(cls).id
        objects = frame_to_objects(layer.features)
        iid = int(instance_id)
        if iid <= 0:
            raise SessionError("instance ids are >= 1", field="instance_id", value=iid)
        info = objects.get(iid) or ObjectInfo(class_id=cid)
        info.class_id = cid
        objects[iid] = info
        self._bind_instances(layer, objects)
        self._record("set_object_class", layer=layer.name, instance_id=iid, class_id=cid)
        self._log_effort("instance-tools", "set-class", layer=layer, object_id=iid, class_id=cid)

    def set_object_attributes(self, instance_id: int, layer: Any = None, **attrs: Any) -> None:
        """Set attributes of one instance (checked against its class's attribute specs)."""
        layer = self._require("instances", layer)
        objects = frame_to_objects(layer.features)
        iid = int(instance_id)
        if iid not in objects:
            raise SessionError(
                "instance has no entry in the table; set its class first",
                where=f"layer '{layer.name}'",
                field="instance_id",
                value=iid,
            )
        objects[iid].attributes.update(
            self._coerce_attrs(objects[iid].class_id, attrs, f"object {iid}")
        )
        self._bind_instances(layer, objects)
        self._record("set_object_attributes", layer=layer.name, instance_id=iid, **attrs)

    def next_instance_id(self, layer: Any = None) -> int:
        """One more than the largest instance id in the table or the mask (a lazy mask is
        scanned chunk-wise once, then kept up to date: see ``scan_instance_ids``)."""
        layer = self._require("instances", layer)
        top = max(frame_to_objects(layer.features), default=0)
        return max(top, self._data_id_top(layer)) + 1

    def _coerce_attrs(self, class_id: int, attrs: dict[str, Any], where: str) -> dict:
        specs = {a.name: a for a in self.taxonomy[class_id].attributes}
        out = {}
        for k, v in attrs.items():
            if k not in specs:
                raise TaxonomyError(
                    f"class '{self.taxonomy[class_id].name}' has no such attribute",
                    where=where,
                    field=k,
                    value=v,
                )
            out[k] = specs[k].coerce(v, where)
        return out

    # -- boxes ------------------------------------------------------------------------------
    def _box_indices(self, layer: Any, indices: Any) -> list[int]:
        idx = sorted(layer.selected_data) if indices is None else [int(i) for i in indices]
        if not idx:
            raise SessionError("no box selected", where=f"layer '{layer.name}'", field="indices")
        n = len(layer.data)
        bad = [i for i in idx if not 0 <= i < n]
        if bad:
            raise SessionError(f"box index out of range 0..{n - 1}", field="indices", value=bad[0])
        return idx

    def set_box_class(self, cls: int | str, indices: Any = None, layer: Any = None) -> list[int]:
        """Set the class of boxes ``indices`` (default: the selected boxes)."""
        layer = self._require("boxes", layer)
        cid = self.taxonomy.resolve(cls).id
        idx = self._box_indices(layer, indices)
        frame = layer.features.copy()
        frame.loc[idx, "class_id"] = cid
        self._bind_boxes(layer, frame)
        self._record("set_box_class", layer=layer.name, indices=idx, class_id=cid)
        self._log_effort("box", "set-class", count=len(idx), layer=layer, class_id=cid)
        return idx

    def set_box_attributes(self, indices: Any = None, layer: Any = None, **attrs: Any) -> None:
        """Set taxonomy attributes of boxes ``indices`` (default: the selected boxes).

        The review status is not an attribute: :meth:`set_review_status` sets it together
        with the reviewer and the time.
        """
        layer = self._require("boxes", layer)
        if "status" in attrs:
            raise SessionError(
                "the review status is set with set_review_status(status, box_index=...), "
                "which records the reviewer and the time",
                field="status",
                value=attrs["status"],
            )
        idx = self._box_indices(layer, indices)
        frame = layer.features.copy()
        for i in idx:
            cid = int(frame.loc[i, "class_id"])
            for k, v in self._coerce_attrs(cid, attrs, f"boxes[{i}]").items():
                if k not in frame.columns:
                    frame[k] = None
                frame[k] = frame[k].astype(object)
                frame.at[i, k] = v
        self._bind_boxes(layer, frame)
        self._record("set_box_attributes", layer=layer.name, indices=idx, **attrs)

    def boxes_list(self, layer: Any = None) -> list[Box]:
        """The boxes of a boxes layer as :class:`Box` objects."""
        layer = self._require("boxes", layer)
        meta = box_meta_from_frame(layer.features, len(layer.data))
        out = []
        for i, (verts, m) in enumerate(zip(layer.data, meta)):
            try:
                xyxy, plane = napari_to_xyxy(verts)
            except AnnotationError as exc:
                raise exc.replace(AnnotationError, where=f"{layer.name} boxes[{i}]") from None
            out.append(Box(*xyxy, plane=plane, **m))
        return out

    # -- conversions ------------------------------------------------------------------------
    def instances_to_semantic(self, layer: Any = None, *, name: str = "semantic"):
        """A new semantic layer from an instance layer through its class table."""
        layer = self._require("instances", layer)
        sem = convert.instances_to_semantic(_layer_data(layer), frame_to_objects(layer.features))
        self._record("instances_to_semantic", layer=layer.name)
        return self.add_semantic_layer(sem, name=name, scale=layer.scale)

    def semantic_to_instances(self, layer: Any = None, *, name: str = "instances"):
        """A new instance layer: connected components of each class of a semantic layer."""
        layer = self._require("semantic", layer)
        inst, objects = convert.semantic_to_instances(_layer_data(layer))
        objects = {k: o for k, o in objects.items() if o.class_id in self.taxonomy}
        self._record("semantic_to_instances", layer=layer.name, n_objects=len(objects))
        return self.add_instance_layer(inst, name=name, objects=objects, scale=layer.scale)

    def instances_to_boxes(self, layer: Any = None, *, name: str = "boxes"):
        """A new boxes layer: one box per instance and plane, linked by ``instance_id``."""
        layer = self._require("instances", layer)
        objects = frame_to_objects(layer.features)
        boxes = [
            b
            for b in convert.instances_to_boxes(_layer_data(layer), objects)
            if b.class_id in self.taxonomy
        ]
        self._record("instances_to_boxes", layer=layer.name, n_boxes=len(boxes))
        out = self.add_boxes_layer(boxes, name=name, ndim=layer.ndim, scale=layer.scale)
        # one action made every box: each is an object it finished
        self._log_effort("box", "from-instances", layer=out, objects=range(len(boxes)))
        return out

    def class_counts(self, progress: Any = None) -> dict[int, dict[str, int]]:
        """Per class: ``pixels`` in the semantic layer, ``instances`` and ``boxes``.

        Pixels are counted block by block with a bincount, so big and lazy masks work.
        """
        counts = {cid: {"pixels": 0, "instances": 0, "boxes": 0} for cid in self.taxonomy.ids()}
        sem = self.semantic
        if sem is not None:
            for cid, n in convert.class_counts(_layer_data(sem), progress=progress).items():
                if cid in counts:
                    counts[cid]["pixels"] = int(n)
        inst = self.instances
        if inst is not None:
            for o in frame_to_objects(inst.features).values():
                if o.class_id in counts:
                    counts[o.class_id]["instances"] += 1
        box = self.boxes
        if box is not None and "class_id" in box.features:
            for cid in box.features["class_id"].tolist():
                if not pd.isna(cid) and int(cid) in counts:
                    counts[int(cid)]["boxes"] += 1
        return counts

    # -- layers <-> ImageAnnotation -----------------------------------------------------------
    def to_annotation(self, image_name: str | None = None) -> ImageAnnotation:
        """The active managed layers as one :class:`ImageAnnotation` (masks are not copied)."""
        sem, inst, box = self.semantic, self.instances, self.boxes
        img = self.image
        shape = None
        for layer in (sem, inst):
            if layer is not None:
                shape = tuple(_layer_data(layer).shape)
                break
        if shape is None:
            shape = self._default_shape(None) if img is not None else None
        boxes = self.boxes_list(box) if box is not None else []
        if shape is None:
            raise SessionError(
                "cannot tell the image shape: add an image or a mask layer", field="shape"
            )
        if image_name is None:
            image_name = img.name if img is not None else "image"
        image_path = getattr(getattr(img, "source", None), "path", None) if img else None
        ann = ImageAnnotation(
            image_name=image_name,
            shape=shape,
            semantic=None if sem is None else _layer_data(sem),
            instances=None if inst is None else _layer_data(inst),
            objects=frame_to_objects(inst.features) if inst is not None else {},
            boxes=boxes,
            image_path=image_path,
        )
        pts, lines = self.points_layer, self.polylines_layer
        if pts is not None and len(pts.data):
            ann.metadata["points"] = self.points_list(pts)
        if lines is not None and len(lines.data):
            ann.metadata["polylines"] = self.polylines_list(lines)
        return ann

    def load_annotation(
        self, ann: ImageAnnotation, *, image: Any = None, replace: bool = True
    ) -> list:
        """Show an :class:`ImageAnnotation` as managed layers.

        Validated against the taxonomy first; all or nothing: on error no layer is added or
        changed. With ``replace`` the managed layers of the roles ``ann`` holds are removed.

        Parameters
        ----------
        image : array-like, optional
            Pixels to add as an Image layer named ``ann.image_name``.
        """
        from napari.layers import Image, Labels

        ann.validate(self.taxonomy)
        self._check_objects(ann.objects)
        new: list = []
        if image is not None:
            arr = np.asarray(image) if not hasattr(image, "shape") else image
            rgb = arr.ndim == ann.ndim + 1 and arr.shape[-1] in (3, 4)
            if tuple(arr.shape[: ann.ndim]) != ann.shape:
                raise AnnotationError(
                    f"image shape does not match annotation shape {ann.shape}",
                    where=ann.image_name,
                    field="image",
                    value=tuple(arr.shape),
                )
            new.append(Image(arr, name=ann.image_name, rgb=rgb))
        if ann.semantic is not None:
            new.append(Labels(ann.semantic, name="semantic", **_with_meta({}, "semantic")))
        if ann.instances is not None:
            kw = _with_meta({}, "instances")
            kw["features"] = objects_to_frame(ann.objects, self.taxonomy)
            new.append(Labels(ann.instances, name="instances", **kw))
        if ann.boxes or (ann.semantic is None and ann.instances is None):
            new.append(self._make_boxes_layer(list(ann.boxes), "boxes", ann.ndim, {}))
        for role in MARK_ROLES:  # points and polylines, in layers named after the image
            marks = list(ann.metadata.get(role) or ())
            if marks:
                name = f"{ann.image_name} {role}"
                new.append(self._make_marks_layer(role, marks, name, ann.ndim))
        if replace:
            roles = {role_of(layer) for layer in new} - {None}
            for old in [layer for layer in self.layers if role_of(layer) in roles]:
                self.layers.remove(old)
        for layer in new:
            self.layers.append(layer)
            self._bind_layer(layer)
        self._record(
            "load_annotation",
            image_name=ann.image_name,
            layers=[layer.name for layer in new],
            replace=replace,
        )
        return new


class _PaintHook:
    """Gives newly painted instance ids the active class (the "next instance" class)."""

    def __init__(self, session: Any, layer: Any) -> None:
        import weakref

        self._session = weakref.ref(session)
        self._layer = weakref.ref(layer)

    def __call__(self, event: Any = None) -> None:
        session, layer = self._session(), self._layer()
        if session is None or layer is None or role_of(layer) != "instances":
            return
        iid = int(layer.selected_label)
        cid = session.active_class
        if iid <= 0 or cid is None or cid not in session.taxonomy:
            return
        # cheap check first: painting an existing instance is the common case
        if "index" in layer.features and (layer.features["index"] == iid).any():
            return
        objects = frame_to_objects(layer.features)
        objects[iid] = ObjectInfo(
            class_id=cid,
            attributes={a.name: a.default_value() for a in session.taxonomy[cid].attributes},
        )
        session._bind_instances(layer, objects)
        # once per new id (painting an existing instance returned above)
        session._record("new_instance", layer=layer.name, instance_id=iid, class_id=cid)


def _with_meta(kwargs: dict[str, Any], role: str) -> dict[str, Any]:
    kw = dict(kwargs)
    meta = dict(kw.pop("metadata", None) or {})
    info = dict(meta.get(META_KEY) or {})
    info["role"] = role
    meta[META_KEY] = info
    kw["metadata"] = meta
    return kw
