"""Augmentation preview of the session's image, masks, boxes and object kinds.

``session.augment_preview(pipeline, n=9, seed=0)`` takes the current plane (and, on large
images, the current view) of the chosen image and label layers, makes ``n`` variants with
:class:`~napari_labelsuite.core.augment.Pipeline` and shows them as a grid of tiles next to
the image: one image layer per channel, the masks and the boxes on top, and a frame per tile
whose caption is that variant's diagnostics. Headless it returns the variants.

The three steps are also separate methods, so a widget can compute off the GUI thread:
:meth:`augment_source` (read the layers), :meth:`augment_variants` (pure computation) and
:meth:`show_augment_preview` (add the layers).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from psygnal import Signal

from .._napari_compat import camera, canvas_size
from ..core.annotation import ImageAnnotation
from ..core.augment import AugmentDiagnostics, Pipeline, annotation_plane
from ..core.augment.transforms import (
    Affine,
    BrightnessContrast,
    HorizontalFlip,
    VerticalFlip,
)
from ..core.boxes import xyxy_to_napari
from ..core.errors import AugmentError, SessionError
from ..core.objects import Polygon
from .events import emit
from .host import SessionPart
from .layers import META_KEY, _layer_data, role_of

PREVIEW_TAG = "augment_preview"
#: object kinds whose layer the preview takes (set_augment_object_layer)
AUGMENT_OBJECT_ROLES = ("rotated", "keypoints", "polygons")
#: planes larger than this (either side) are previewed on the current view or a central crop
MAX_PREVIEW_SIDE = 1024
_FLAGGED = np.array([1.0, 0.55, 0.0, 1.0])
_UNKNOWN = np.array([0.6, 0.6, 0.6, 1.0])


def default_pipeline() -> Pipeline:
    """A typical starting point: flips, a mild affine and brightness/contrast."""
    return Pipeline(
        [
            HorizontalFlip(p=0.5),
            VerticalFlip(p=0.5),
            Affine(rotate=(-20, 20), scale=(0.9, 1.1), translate_x=(-0.05, 0.05), p=0.8),
            BrightnessContrast(p=0.5),
        ]
    )


@dataclass
class AugmentSource:
    """One plane (or window) of the chosen layers, ready for a pipeline."""

    image: np.ndarray  # (Y, X) or (Y, X, C)
    annotation: ImageAnnotation
    channel_axis: int | None
    image_layers: list = field(default_factory=list)
    rgb: bool = False
    plane: tuple[int, ...] = ()
    window: tuple[int, int, int, int] = (0, 0, 0, 0)
    scale: tuple[float, float] = (1.0, 1.0)
    origin: tuple[float, float] = (0.0, 0.0)  # world position of the source plane's (0, 0)


@dataclass
class AugmentPreview:
    """The variants of one preview and where their tiles sit in the grid."""

    source: AugmentSource
    seeds: list[int]
    variants: list[tuple[np.ndarray, ImageAnnotation, AugmentDiagnostics]]
    columns: int
    tile_shape: tuple[int, int]
    gap: int
    layers: list = field(default_factory=list)

    @property
    def diagnostics(self) -> list[AugmentDiagnostics]:
        return [v[2] for v in self.variants]

    def tile_origin(self, i: int) -> tuple[int, int]:
        """Top-left pixel of tile ``i`` in the grid."""
        r, c = divmod(i, self.columns)
        return r * (self.tile_shape[0] + self.gap), c * (self.tile_shape[1] + self.gap)

    def summary(self) -> str:
        """One line per variant, then the totals."""
        lines = [f"{i + 1}: {d.summary()}" for i, d in enumerate(self.diagnostics)]
        dropped = sum(len(d.boxes_dropped) for d in self.diagnostics)
        lost = sum(len(d.instances_lost) for d in self.diagnostics)
        intact = all(d.labels_intact for d in self.diagnostics)
        lines.append(
            f"total: {dropped} boxes dropped, {lost} instances lost, "
            f"labels {'intact' if intact else 'CHANGED BY INTERPOLATION'}"
        )
        return "\n".join(lines)


class AugmentMixin(SessionPart):
    """Augmentation preview of the session's image, masks and boxes."""

    #: ``(pipeline)`` after the pipeline is set or loaded (views redraw from it)
    pipeline_changed = Signal(object)
    #: ``(role, layer)`` after the preview's rotated-box, keypoint or polygon layer is chosen
    augment_objects_changed = Signal(str, object)

    def _init_mixin(self) -> None:
        self._augment_pipeline = default_pipeline()
        self.last_augment_preview: AugmentPreview | None = None
        # role -> chosen layer (False: left out; missing: the first layer of the role)
        self._augment_objects: dict[str, Any] = {}

    # -- the pipeline ------------------------------------------------------------------------
    @property
    def augment_pipeline(self) -> Pipeline:
        """The pipeline the preview uses (set a Pipeline, a dict or a YAML/JSON path).

        Setting it emits :attr:`pipeline_changed`, so the Augmentation widget shows a
        pipeline set from the console. Treat it as a value: set a new pipeline rather than
        editing its ``transforms`` in place.
        """
        return self._augment_pipeline

    @augment_pipeline.setter
    def augment_pipeline(self, value: Any) -> None:
        self._augment_pipeline = _as_pipeline(value)
        self._record("set_augment_pipeline", pipeline=self._augment_pipeline.to_dict())
        emit(self.pipeline_changed, self._augment_pipeline)

    def save_augment_pipeline(self, path: Any) -> Path:
        """Write the current pipeline to ``path`` (``.json`` or YAML)."""
        out = self._augment_pipeline.save(path)
        self._record("save_augment_pipeline", path=str(out))
        return out

    def load_augment_pipeline(self, path: Any) -> Pipeline:
        """Read a pipeline file and make it the current pipeline."""
        self._augment_pipeline = Pipeline.load(path)
        self._record("load_augment_pipeline", path=str(path))
        emit(self.pipeline_changed, self._augment_pipeline)
        return self._augment_pipeline

    # -- reading the source ------------------------------------------------------------------
    def augment_source(
        self,
        *,
        images: Any = None,
        semantic: Any = None,
        instances: Any = None,
        boxes: Any = None,
        plane: tuple[int, ...] | None = None,
        window: tuple[int, int, int, int] | str | None = None,
        rotated: Any = None,
        keypoints: Any = None,
        polygons: Any = None,
    ) -> AugmentSource:
        """Read one plane of the chosen layers as an image and an :class:`ImageAnnotation`.

        Parameters
        ----------
        images : Image layer or list of them, optional
            Several non-RGB layers become the channels of one image. Default: the first
            Image layer.
        semantic, instances, boxes : layer or False, optional
            Default: the session's active managed layer of that role; False leaves it out.
        rotated, keypoints, polygons : layer or False, optional
            A rotated-boxes Shapes layer, a keypoints Points layer and a polygons Shapes
            layer; default: the layer chosen with :meth:`set_augment_object_layer`, else
            the first layer of that role, if any; False leaves it out.
        plane : tuple of int, optional
            Indices on the leading axes; default: the viewer's current plane.
        window : (y0, y1, x0, x1) or "view", optional
            Part of the plane; default: all of it, or on planes larger than
            ``MAX_PREVIEW_SIDE`` the current view (headless: a central crop).
        """
        from napari.layers import Image

        if images is None:
            first = next(
                (
                    layer
                    for layer in self.layers
                    if isinstance(layer, Image) and not is_preview_layer(layer)
                ),
                None,
            )
            images = [] if first is None else [first]
        elif not isinstance(images, (list, tuple)):
            images = [images]
        images = list(images)
        chosen = {
            role: (self._active_of_role(role) if given is None else given or None)
            for role, given in (("semantic", semantic), ("instances", instances), ("boxes", boxes))
        }
        ref = images[0] if images else chosen["semantic"] or chosen["instances"]
        if ref is None:
            raise SessionError(
                "choose an image layer (or a mask layer) to preview", field="images", value=None
            )
        full = _plane_shape(ref)
        lead_ndim = _data_ndim(ref) - 2
        if plane is None:
            plane = self._current_plane(ref, lead_ndim)
        plane = tuple(int(p) for p in plane)
        if len(plane) != lead_ndim:
            raise SessionError(
                f"plane needs {lead_ndim} indices",
                where=f"layer '{ref.name}'",
                field="plane",
                value=plane,
            )
        win = self._preview_window(ref, full, window)
        y0, y1, x0, x1 = win
        index = (*plane, slice(y0, y1), slice(x0, x1))

        rgb = len(images) == 1 and bool(getattr(images[0], "rgb", False))
        pieces = []
        for layer in images:
            if not isinstance(layer, Image):
                raise SessionError(
                    "not an Image layer",
                    where=f"layer '{layer.name}'",
                    field="images",
                    value=type(layer).__name__,
                )
            if _plane_shape(layer) != full:
                raise AugmentError(
                    f"image layers must share the plane shape {full}",
                    where=f"layer '{layer.name}'",
                    field="images",
                    value=_plane_shape(layer),
                )
            data = _layer_data(layer)
            pieces.append(np.asarray(data[(*index, slice(None))] if layer.rgb else data[index]))
        if not pieces:
            image = np.zeros((y1 - y0, x1 - x0), np.uint8)
            axis = None
        elif rgb or len(pieces) > 1:
            image = pieces[0] if rgb else np.stack(pieces, axis=-1)
            axis = -1
        else:
            image = pieces[0]
            axis = None

        shape_nd = (*[int(s) for s in _layer_data(ref).shape[:lead_ndim]], *full)
        masks: dict[str, Any] = {}
        for role in ("semantic", "instances"):
            layer = chosen[role]
            if layer is None:
                masks[role] = None
                continue
            if _plane_shape(layer) != full or _data_ndim(layer) != len(shape_nd):
                raise AugmentError(
                    f"{role} layer shape does not match the image {shape_nd}",
                    where=f"layer '{layer.name}'",
                    field=role,
                    value=tuple(_layer_data(layer).shape),
                )
            masks[role] = _layer_data(layer)
        objects = self.objects(chosen["instances"]) if chosen["instances"] is not None else {}
        box_list = self.boxes_list(chosen["boxes"]) if chosen["boxes"] is not None else []
        rot_layer = self._augment_object_layer("rotated", rotated)
        kp_layer = self._augment_object_layer("keypoints", keypoints)
        poly_layer = self._augment_object_layer("polygons", polygons)
        rot_list = self.rotated_boxes_list(rot_layer) if rot_layer is not None else []
        kp_list = self.keypoints_list(kp_layer) if kp_layer is not None else []
        poly_list = [
            polygon_from_record(d)
            for d in (self.polygons_list(poly_layer) if poly_layer is not None else [])
        ]
        ann_nd = ImageAnnotation(
            image_name=ref.name,
            shape=shape_nd,
            semantic=masks["semantic"],
            instances=masks["instances"],
            objects=objects,
            boxes=[b for b in box_list if len(b.plane) == lead_ndim],
            rotated=[r for r in rot_list if len(r.plane) == lead_ndim],
            keypoints=[k for k in kp_list if len(k.plane) == lead_ndim],
            polygons=[p for p in poly_list if len(p.plane) == lead_ndim],
        )
        ann = annotation_plane(ann_nd, plane, window=win)
        scale = (float(ref.scale[-2]), float(ref.scale[-1]))
        translate = np.asarray(ref.translate[-2:], float)
        origin = tuple(translate + np.array([y0, x0]) * np.array(scale))
        return AugmentSource(
            image=image,
            annotation=ann,
            channel_axis=axis,
            image_layers=images,
            rgb=rgb,
            plane=plane,
            window=win,
            scale=scale,
            origin=origin,
        )

    def _first_of_role(self, role: str) -> Any:
        return next((x for x in self.layers if role_of(x) == role), None)

    # -- which object layers go into the preview ----------------------------------------------
    def set_augment_object_layer(self, role: str, layer: Any) -> None:
        """Choose the rotated-box, keypoint or polygon layer the preview shows.

        Parameters
        ----------
        role : {"rotated", "keypoints", "polygons"}
        layer : Layer, str, False or None
            A layer of that role (or its name); False leaves the kind out of the preview;
            None goes back to the default, the first layer of that role.

        Emits :attr:`augment_objects_changed` so the Augmentation dock shows the choice.
        """
        if role not in AUGMENT_OBJECT_ROLES:
            raise SessionError(
                f"role must be one of {AUGMENT_OBJECT_ROLES}", field="role", value=role
            )
        if isinstance(layer, str):
            try:
                layer = self.layers[layer]
            except KeyError:
                raise SessionError("no layer with this name", field=role, value=layer) from None
        if layer is not None and layer is not False and role_of(layer) != role:
            raise SessionError(
                f"not a layer of role '{role}'",
                where=f"layer '{getattr(layer, 'name', layer)}'",
                field=role,
                value=role_of(layer),
            )
        self._augment_objects[role] = layer
        self._record(
            "set_augment_object_layer",
            role=role,
            layer=layer.name if layer not in (None, False) else layer,
        )
        emit(self.augment_objects_changed, role, layer)

    def augment_object_layer(self, role: str) -> Any:
        """The layer of ``role`` the preview uses (None: none; see set_augment_object_layer)."""
        return self._augment_object_layer(role, None)

    def _augment_object_layer(self, role: str, given: Any) -> Any:
        if given is not None:
            return given or None
        chosen = self._augment_objects.get(role)
        if chosen is False:
            return None
        if chosen is not None and chosen in self.layers:
            return chosen
        return self._first_of_role(role)

    def _current_plane(self, layer: Any, lead_ndim: int) -> tuple[int, ...]:
        if lead_ndim == 0:
            return ()
        v = self.viewer
        if v is None:
            return (0,) * lead_ndim
        point = layer.world_to_data(v.dims.point)
        shape = _layer_data(layer).shape
        return tuple(
            int(np.clip(round(float(p)), 0, n - 1)) for p, n in zip(point[:lead_ndim], shape)
        )

    def _preview_window(self, layer: Any, full: tuple[int, int], window: Any):
        h, w = full
        if window is None and h <= MAX_PREVIEW_SIDE and w <= MAX_PREVIEW_SIDE:
            return (0, h, 0, w)
        if window is None or window == "view":
            v = self.viewer
            if v is not None:
                cam = camera(v)
                centre = layer.world_to_data(cam.center)[-2:]
                zoom = float(cam.zoom) or 1.0
                ch, cw = (float(s) / zoom / 2 for s in canvas_size(v))
                sy, sx = (abs(float(s)) for s in layer.scale[-2:])
                cy, cx = centre
                win = (cy - ch / sy, cy + ch / sy, cx - cw / sx, cx + cw / sx)
            else:
                half_h, half_w = min(h, MAX_PREVIEW_SIDE) / 2, min(w, MAX_PREVIEW_SIDE) / 2
                win = (h / 2 - half_h, h / 2 + half_h, w / 2 - half_w, w / 2 + half_w)
            y0, y1 = _clamp_span(win[0], win[1], h, MAX_PREVIEW_SIDE)
            x0, x1 = _clamp_span(win[2], win[3], w, MAX_PREVIEW_SIDE)
            return (y0, y1, x0, x1)
        try:
            y0, y1, x0, x1 = (int(v) for v in window)
        except (TypeError, ValueError):
            raise SessionError(
                "window must be (y0, y1, x0, x1) or 'view'", field="window", value=window
            ) from None
        if not (0 <= y0 < y1 <= h and 0 <= x0 < x1 <= w):
            raise SessionError(
                f"window must lie within the {w}x{h} plane", field="window", value=window
            )
        return (y0, y1, x0, x1)

    # -- computing ---------------------------------------------------------------------------
    def augment_variants(
        self,
        source: AugmentSource,
        pipeline: Any = None,
        n: int = 9,
        seed: int = 0,
        *,
        columns: int | None = None,
        gap: int = 8,
    ) -> AugmentPreview:
        """``n`` variants of ``source`` for seeds ``seed .. seed + n - 1`` (no layers touched)."""
        pipe = self._augment_pipeline if pipeline is None else _as_pipeline(pipeline)
        if isinstance(n, bool) or int(n) < 1:
            raise AugmentError("need at least one variant", field="n", value=n)
        seeds = [int(seed) + i for i in range(int(n))]
        # a mirroring variant swaps the left/right keypoints each class's skeleton declares
        skeletons = {c.id: c.skeleton for c in self.taxonomy if c.skeleton is not None}
        variants = pipe.apply_many(
            source.image,
            source.annotation,
            seeds,
            channel_axis=source.channel_axis,
            skeletons=skeletons,
        )
        cols = int(columns) if columns else math.ceil(math.sqrt(len(seeds)))
        th = max(v[1].shape[0] for v in variants)
        tw = max(v[1].shape[1] for v in variants)
        return AugmentPreview(source, seeds, variants, cols, (th, tw), int(gap))

    # -- showing -----------------------------------------------------------------------------
    def clear_augment_preview(self) -> None:
        """Remove the preview layers."""
        for layer in [layer for layer in self.layers if is_preview_layer(layer)]:
            self.layers.remove(layer)

    def show_augment_preview(self, preview: AugmentPreview) -> list:
        """Replace the preview layers by the tiles of ``preview`` (right of the source)."""
        from napari.layers import Image, Labels, Points, Shapes

        src = preview.source
        n = len(preview.variants)
        rows = math.ceil(n / preview.columns)
        th, tw = preview.tile_shape
        gh = rows * th + (rows - 1) * preview.gap
        gw = preview.columns * tw + (preview.columns - 1) * preview.gap
        sy, sx = src.scale
        ws = src.annotation.shape
        translate = (src.origin[0], src.origin[1] + (ws[1] + 4 * preview.gap) * sx)
        common = {"scale": (sy, sx), "translate": translate, "metadata": _preview_meta()}

        first_img = preview.variants[0][0]
        n_ch = 1 if first_img.ndim == 2 else first_img.shape[-1]
        grid_img = np.zeros((gh, gw, n_ch), first_img.dtype)
        masks = {
            role: np.zeros((gh, gw), getattr(src.annotation, role).dtype)
            for role in ("semantic", "instances")
            if getattr(src.annotation, role) is not None
        }
        box_data, box_colors, box_text, frames, captions = [], [], [], [], []
        rot_data: list[np.ndarray] = []
        rot_colors: list[np.ndarray] = []
        kp_data: list[list[float]] = []
        kp_rows: list[dict[str, Any]] = []
        poly_data: list[np.ndarray] = []
        poly_colors: list[np.ndarray] = []
        poly_rows: list[dict[str, Any]] = []
        for i, (img, ann, diag) in enumerate(preview.variants):
            r0, c0 = preview.tile_origin(i)
            h, w = ann.shape
            grid_img[r0 : r0 + h, c0 : c0 + w] = img.reshape(h, w, -1)
            for role, grid in masks.items():
                grid[r0 : r0 + h, c0 : c0 + w] = getattr(ann, role)
            flagged = {diag.boxes_kept.index(k) for k in diag.boxes_flagged}
            for j, b in enumerate(ann.boxes):
                box_data.append(xyxy_to_napari((b.x0 + c0, b.y0 + r0, b.x1 + c0, b.y1 + r0)))
                box_colors.append(_FLAGGED if j in flagged else self._class_color(b.class_id))
                box_text.append(self._class_label(b.class_id) + (" ?" if j in flagged else ""))
            for rb in ann.rotated:
                # pixel-edge (x, y) corners -> napari (row, col) pixel centres in the grid
                xy = rb.corners() + [c0 - 0.5, r0 - 0.5]
                rot_data.append(xy[:, ::-1])
                rot_colors.append(self._class_color(rb.class_id))
            for j, pg in enumerate(ann.polygons):
                # pixel-edge (x, y) vertices -> napari (row, col) pixel centres in the grid
                poly_data.append((pg.ring.xy + [c0 - 0.5, r0 - 0.5])[:, ::-1])
                poly_colors.append(self._class_color(pg.class_id))
                poly_rows.append({"tile": i, "polygon": diag.polygons_kept[j],
                                  "class_id": pg.class_id, "instance_id": pg.instance_id,
                                  "hole": pg.ring.hole})  # fmt: skip
            for j, kp in enumerate(ann.keypoints):
                names = self._keypoint_names(kp.class_id, len(kp.xyv))
                for k, (x, y, v) in enumerate(np.asarray(kp.xyv, float)):
                    if v > 0:
                        kp_data.append([y + r0 - 0.5, x + c0 - 0.5])
                        kp_rows.append({"tile": i, "object": j, "keypoint": names[k],
                                        "visibility": int(v)})  # fmt: skip
            frames.append(xyxy_to_napari((c0, r0, c0 + w, r0 + h)))
            captions.append(f"{i + 1}: {diag.summary()}")

        self.clear_augment_preview()
        new = []
        if src.image_layers:
            if src.rgb or n_ch == 1:
                ref = src.image_layers[0]
                data = grid_img if src.rgb else grid_img[..., 0]
                new.append(
                    Image(
                        data,
                        name=f"augment: {ref.name}",
                        rgb=src.rgb,
                        colormap=None if src.rgb else ref.colormap,
                        contrast_limits=ref.contrast_limits,
                        **common,
                    )
                )
            else:
                for c, ref in enumerate(src.image_layers):
                    new.append(
                        Image(
                            grid_img[..., c],
                            name=f"augment: {ref.name}",
                            colormap=ref.colormap,
                            contrast_limits=ref.contrast_limits,
                            blending="additive",
                            **common,
                        )
                    )
        for role, grid in masks.items():
            new.append(
                Labels(
                    grid,
                    name=f"augment: {role}",
                    colormap=self._preview_colormap(role),
                    opacity=0.5,
                    **common,
                )
            )
        if box_data:
            new.append(
                Shapes(
                    box_data,
                    shape_type="rectangle",
                    name="augment: boxes",
                    edge_color=np.array(box_colors),
                    face_color="transparent",
                    edge_width=2,
                    features={"label": box_text},
                    text={
                        "string": "{label}",
                        "size": 8,
                        "color": "white",
                        "anchor": "upper_left",
                    },
                    **common,
                )
            )
        if rot_data:
            new.append(
                Shapes(
                    rot_data,
                    shape_type="polygon",
                    name="augment: rotated",
                    edge_color=np.array(rot_colors),
                    face_color="transparent",
                    edge_width=2,
                    **common,
                )
            )
        if poly_data:
            new.append(
                Shapes(
                    poly_data,
                    shape_type="polygon",
                    name="augment: polygons",
                    edge_color=np.array(poly_colors),
                    face_color="transparent",
                    edge_width=1,
                    features=pd.DataFrame(poly_rows),
                    **common,
                )
            )
        if kp_data:
            new.append(
                Points(
                    np.asarray(kp_data, float),
                    name="augment: keypoints",
                    features=pd.DataFrame(kp_rows),
                    face_color="#33ff33",
                    size=4,
                    **common,
                )
            )
        new.append(
            Shapes(
                frames,
                shape_type="rectangle",
                name="augment: tiles",
                edge_color="#888888",
                face_color="transparent",
                edge_width=1,
                features={"summary": captions},
                text={
                    "string": "{summary}",
                    "size": 8,
                    "color": "#dddddd",
                    "anchor": "lower_left",
                    "translation": [-2, 0],
                },
                **common,
            )
        )
        for layer in new:
            self.layers.append(layer)
        preview.layers = new
        self.last_augment_preview = preview
        return new

    def _class_color(self, class_id: int) -> np.ndarray:
        if class_id in self.taxonomy:
            return np.asarray(self.taxonomy[class_id].color, float)
        return _UNKNOWN

    def _keypoint_names(self, class_id: int, n: int) -> list[str]:
        sk = self.taxonomy[class_id].skeleton if class_id in self.taxonomy else None
        return (
            list(sk.names) if sk is not None and len(sk.names) == n else [str(k) for k in range(n)]
        )

    def _class_label(self, class_id: int) -> str:
        return self.taxonomy[class_id].name if class_id in self.taxonomy else str(class_id)

    def _preview_colormap(self, role: str) -> Any:
        layer = self._active_of_role(role)
        return layer.colormap if layer is not None else None

    # -- all in one --------------------------------------------------------------------------
    def augment_preview(
        self,
        pipeline: Any = None,
        n: int = 9,
        seed: int = 0,
        *,
        images: Any = None,
        semantic: Any = None,
        instances: Any = None,
        boxes: Any = None,
        plane: tuple[int, ...] | None = None,
        window: Any = None,
        columns: int | None = None,
        show: bool | None = None,
        rotated: Any = None,
        keypoints: Any = None,
        polygons: Any = None,
    ) -> AugmentPreview:
        """Make ``n`` variants of the current plane and show them as a grid.

        Parameters
        ----------
        pipeline : Pipeline, dict or path, optional
            Default: :attr:`augment_pipeline`.
        n, seed : int
            Variants use seeds ``seed, seed + 1, ...``; reseed by passing ``seed + n``.
        images, semantic, instances, boxes, plane, window, rotated, keypoints, polygons
            See :meth:`augment_source`. Rotated boxes, keypoints and polygons follow the
            image (polygons clipped to the tile); a mirroring variant swaps the left/right
            keypoints of the class skeleton.
        show : bool, optional
            Add the tiles as layers; default: only when a viewer is bound.

        Returns
        -------
        AugmentPreview
            ``variants`` (image, annotation, diagnostics) and ``summary()``.
        """
        source = self.augment_source(
            images=images,
            semantic=semantic,
            instances=instances,
            boxes=boxes,
            plane=plane,
            window=window,
            rotated=rotated,
            keypoints=keypoints,
            polygons=polygons,
        )
        preview = self.augment_variants(source, pipeline, n, seed, columns=columns)
        if show if show is not None else not self.headless:
            self.show_augment_preview(preview)
        self.last_augment_preview = preview
        pipe = self._augment_pipeline if pipeline is None else _as_pipeline(pipeline)
        self._record(
            "augment_preview",
            pipeline=pipe.to_dict(),
            n=n,
            seed=seed,
            plane=list(source.plane),
            window=list(source.window),
        )
        return preview


def _as_pipeline(value: Any) -> Pipeline:
    if isinstance(value, Pipeline):
        return value
    if isinstance(value, dict):
        return Pipeline.from_dict(value)
    if isinstance(value, (str, Path)):
        return Pipeline.load(value)
    raise AugmentError("expected a Pipeline, a dict or a file path", field="pipeline", value=value)


def polygon_from_record(d: dict[str, Any]) -> Polygon:
    """A ``core.objects.Polygon`` from one dict of ``LabelSession.polygons_list``."""
    return Polygon(
        d["ring"],
        int(d["class_id"]),
        int(d.get("instance_id", 0) or 0),
        tuple(int(v) for v in d.get("plane", ())),
        str(d.get("status", "todo")),
        dict(d.get("attributes") or {}),
    )


def is_preview_layer(layer: Any) -> bool:
    """True for the layers an augmentation preview added."""
    info = (getattr(layer, "metadata", None) or {}).get(META_KEY)
    return isinstance(info, dict) and bool(info.get(PREVIEW_TAG))


def _preview_meta() -> dict:
    return {META_KEY: {PREVIEW_TAG: True}}


def _data_ndim(layer: Any) -> int:
    nd = len(_layer_data(layer).shape)
    return nd - 1 if getattr(layer, "rgb", False) else nd


def _plane_shape(layer: Any) -> tuple[int, int]:
    shape = _layer_data(layer).shape
    if getattr(layer, "rgb", False):
        shape = shape[:-1]
    return int(shape[-2]), int(shape[-1])


def _clamp_span(a: float, b: float, n: int, most: int) -> tuple[int, int]:
    """An integer span inside ``[0, n)`` around ``[a, b)``, at most ``most`` long."""
    centre = (a + b) / 2
    length = int(min(max(b - a, 1), most, n))
    start = int(round(centre - length / 2))
    start = min(max(start, 0), n - length)
    return start, start + length
