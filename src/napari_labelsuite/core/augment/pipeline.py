"""Augmentation applied jointly to an image, its masks and its boxes.

A :class:`Pipeline` is a list of transforms (see :mod:`.transforms`) plus the
settings of the one resampling step. ``pipeline.apply(image, annotation, seed=k)`` returns
the transformed image, a transformed :class:`~..annotation.ImageAnnotation` and
:class:`AugmentDiagnostics` saying what the variant did to the labels.

How the parts stay consistent
-----------------------------
* All geometric transforms that fire are multiplied into one matrix (an elastic
  deformation turns it into one coordinate map), so image and masks are resampled once,
  from the same map.
* Masks use nearest neighbour only: every value in an output mask is a value of the input
  mask or the background 0 (``diagnostics.invented_values`` checks it on every variant).
* Boxes: the corners (with an elastic deformation, points along the edges) go through the
  forward map, the enclosing box is clipped to the frame, and boxes whose visible fraction
  falls below ``min_visibility`` are dropped or flagged (``box_policy``).
* Each transform draws from its own random stream spawned from the seed, so the same seed
  always gives the same variant, and editing one transform does not reshuffle the others.

Works on one plane: an image ``(Y, X)``, ``(C, Y, X)`` or ``(Y, X, C)`` of any dtype; use
:func:`annotation_plane` to take a plane (and a window) out of an nD annotation.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..annotation import Box, ImageAnnotation
from ..errors import AugmentError
from ..fileio import atomic_write_text
from .geometry import _objects_through, _polygons_through, _Resampler
from .interop import (
    ALBUMENTATIONS_MAP,
    albumentations_compose,
    albumentations_dict,
    pipeline_from_keras,
)
from .transforms import TRANSFORMS, Transform
from .warp import FILL_MODES, INTERPOLATIONS, resolve_backend

__all__ = [
    "ALBUMENTATIONS_MAP",
    "AugmentDiagnostics",
    "Pipeline",
    "annotation_plane",
    "value_scale",
]

FORMAT_NAME = "napari-labelsuite augmentation pipeline"
BOX_POLICIES = ("drop", "flag")
MASK_FILLS = ("constant", "same")


# -- diagnostics -----------------------------------------------------------------------------
@dataclass
class AugmentDiagnostics:
    """What one variant did to the labels.

    Attributes
    ----------
    seed : int
    applied : list of dict
        The transforms that fired, with the parameters drawn (``{"type": ..., ...}``).
    shape : (int, int)
        Output plane shape.
    padding_fraction : float
        Fraction of the output frame filled from outside the input (by ``fill_mode``).
    box_visibility : list of float
        Per input box: visible area after clipping / area of the transformed box.
    boxes_kept : list of int
        Input index of each output box.
    boxes_clipped, boxes_dropped, boxes_flagged : list of int
        Input indices of boxes cut by the frame (kept), removed, and kept below
        ``min_visibility`` (``box_policy="flag"``).
    polygons_kept : list of int
        Input index of each output polygon.
    polygons_clipped, polygons_dropped : list of int
        Input indices of polygons the frame cut (kept) and of those with nothing left in
        the frame (removed).
    instances_lost : list of int
        Instance ids no longer present.
    instances_cut : dict of int to (int, int)
        Ids that fell below ``min_instance_pixels``: ``(pixels before, pixels after)``.
    invented_values : dict of str to list of int
        Mask values present after but not before (``"semantic"``, ``"instances"``); must be
        empty.
    """

    seed: int
    applied: list[dict[str, Any]] = field(default_factory=list)
    shape: tuple[int, int] = (0, 0)
    padding_fraction: float = 0.0
    box_visibility: list[float] = field(default_factory=list)
    boxes_kept: list[int] = field(default_factory=list)
    boxes_clipped: list[int] = field(default_factory=list)
    boxes_dropped: list[int] = field(default_factory=list)
    boxes_flagged: list[int] = field(default_factory=list)
    polygons_kept: list[int] = field(default_factory=list)
    polygons_clipped: list[int] = field(default_factory=list)
    polygons_dropped: list[int] = field(default_factory=list)
    instances_lost: list[int] = field(default_factory=list)
    instances_cut: dict[int, tuple[int, int]] = field(default_factory=dict)
    invented_values: dict[str, list[int]] = field(default_factory=dict)

    @property
    def labels_intact(self) -> bool:
        """True when no mask value was invented."""
        return not any(self.invented_values.values())

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["instances_cut"] = {str(k): list(v) for k, v in self.instances_cut.items()}
        return json.loads(json.dumps(d, default=_json_default))

    def summary(self) -> str:
        """One line for a preview tile."""
        parts = [f"seed {self.seed}"]
        parts.append(f"pad {self.padding_fraction:.0%}")
        if self.boxes_dropped or self.boxes_clipped or self.boxes_flagged:
            parts.append(
                f"boxes clipped {len(self.boxes_clipped)} dropped {len(self.boxes_dropped)}"
                + (f" flagged {len(self.boxes_flagged)}" if self.boxes_flagged else "")
            )
        if self.polygons_dropped or self.polygons_clipped:
            parts.append(
                f"polygons clipped {len(self.polygons_clipped)} "
                f"dropped {len(self.polygons_dropped)}"
            )
        if self.instances_lost:
            parts.append(f"instances lost {len(self.instances_lost)}")
        if self.instances_cut:
            parts.append(f"cut small {len(self.instances_cut)}")
        if not self.labels_intact:
            parts.append(f"INVENTED LABELS {self.invented_values}")
        return ", ".join(parts)


def _json_default(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, np.ndarray):
        return v.tolist()
    raise TypeError(type(v))


# -- inputs --------------------------------------------------------------------------------------
def value_scale(image: np.ndarray) -> float:
    """The reference value range of intensity parameters (see :mod:`.transforms`)."""
    dt = image.dtype
    if dt == np.uint8:
        return 255.0
    if dt == np.bool_ or image.size == 0:
        return 1.0
    mx = float(np.max(image))
    if dt.kind == "f" and mx <= 1.0:
        return 1.0
    return mx if mx > 0 else 1.0


def annotation_plane(
    ann: ImageAnnotation,
    plane: tuple[int, ...] = (),
    window: tuple[int, int, int, int] | None = None,
) -> ImageAnnotation:
    """One 2D plane of ``ann``, optionally cut to ``window = (y0, y1, x0, x1)``.

    Masks are read for that plane and window only; boxes on the plane are shifted into
    the window and clipped (boxes outside it are left out); rotated boxes centred in the
    window and keypoint sets with a labelled keypoint in it are shifted into it;
    polygons whose outline reaches into the window are shifted into it (the pipeline clips
    them to its frame).
    """
    plane = tuple(int(p) for p in plane)
    lead = ann.shape[:-2]
    if len(plane) != len(lead) or any(not 0 <= p < n for p, n in zip(plane, lead)):
        raise AugmentError(
            f"plane needs {len(lead)} indices within {lead}",
            where=ann.image_name,
            field="plane",
            value=plane,
        )
    h, w = ann.plane_shape
    y0, y1, x0, x1 = window if window is not None else (0, h, 0, w)
    if not (0 <= y0 < y1 <= h and 0 <= x0 < x1 <= w):
        raise AugmentError(
            f"window must lie within the {w}x{h} plane",
            where=ann.image_name,
            field="window",
            value=window,
        )
    index = (*plane, slice(y0, y1), slice(x0, x1))

    def cut(a):
        return None if a is None else np.asarray(a[index])

    boxes = []
    for b in ann.boxes_on_plane(plane):
        bx0, bx1 = max(b.x0 - x0, 0.0), min(b.x1 - x0, float(x1 - x0))
        by0, by1 = max(b.y0 - y0, 0.0), min(b.y1 - y0, float(y1 - y0))
        if bx1 > bx0 and by1 > by0:
            boxes.append(dataclasses.replace(b, x0=bx0, y0=by0, x1=bx1, y1=by1, plane=()))
    # rotated boxes whose centre and keypoint sets with a labelled keypoint inside the
    # window come along, shifted into it (the pipeline flags what leaves the image)
    rotated = [
        dataclasses.replace(r, cx=r.cx - x0, cy=r.cy - y0, plane=(), source_corners=None)
        for r in ann.rotated
        if tuple(r.plane) == plane and x0 <= r.cx < x1 and y0 <= r.cy < y1
    ]
    keypoints = []
    for k in ann.keypoints:
        if tuple(k.plane) != plane:
            continue
        xyv = np.asarray(k.xyv, float)
        on = xyv[:, 2] > 0
        inside = on & (xyv[:, 0] >= x0) & (xyv[:, 0] < x1) & (xyv[:, 1] >= y0) & (xyv[:, 1] < y1)
        if not inside.any():
            continue
        moved = xyv - np.where(on[:, None], [x0, y0, 0.0], 0.0)
        box = None if k.box is None else (
            k.box[0] - x0, k.box[1] - y0, k.box[2] - x0, k.box[3] - y0
        )  # fmt: skip
        keypoints.append(dataclasses.replace(k, xyv=moved, plane=(), box=box))
    polygons = []
    for p in ann.polygons:
        if tuple(p.plane) != plane:
            continue
        xy = np.asarray(p.ring.xy, float)
        lo, hi = xy.min(axis=0), xy.max(axis=0)
        if hi[0] <= x0 or lo[0] >= x1 or hi[1] <= y0 or lo[1] >= y1:
            continue
        ring = dataclasses.replace(p.ring, xy=xy - [x0, y0])
        polygons.append(dataclasses.replace(p, ring=ring, plane=(), attributes=dict(p.attributes)))
    return ImageAnnotation(
        image_name=ann.image_name,
        shape=(y1 - y0, x1 - x0),
        axes=ann.axes[-2:],
        semantic=cut(ann.semantic),
        instances=cut(ann.instances),
        objects={k: copy.deepcopy(v) for k, v in ann.objects.items()},
        boxes=boxes,
        rotated=rotated,
        keypoints=keypoints,
        polygons=polygons,
        image_path=ann.image_path,
        metadata={**copy.deepcopy(ann.metadata), "plane": list(plane), "window": [y0, y1, x0, x1]},
    )


def _value_counts(arr: np.ndarray, name: str, where: str) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct values and their pixel counts (bincount when the ids are dense)."""
    if arr.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    lo, hi = int(arr.min()), int(arr.max())
    if lo < 0:
        raise AugmentError("mask values must be >= 0", where=where, field=name, value=lo)
    if hi <= 4 * arr.size + 1024:
        bc = np.bincount(arr.ravel(), minlength=1)
        values = np.flatnonzero(bc)
        return values, bc[values]
    return np.unique(arr, return_counts=True)


@dataclass
class _Source:
    """The validated input, prepared once for any number of variants."""

    image: np.ndarray  # as given: (Y, X), (C, Y, X) or (Y, X, C); never transposed
    channel_axis: int | None  # 0, -1 or None
    dtype: np.dtype
    scale: float
    ann: ImageAnnotation
    semantic: np.ndarray | None
    instances: np.ndarray | None
    counts: dict[str, tuple[np.ndarray, np.ndarray]]
    boxes: np.ndarray  # (N, 4) xyxy


# -- the pipeline --------------------------------------------------------------------------------
class Pipeline:
    """A list of transforms applied jointly to an image, its masks and its boxes.

    Parameters
    ----------
    transforms : list of Transform
        Applied in order (intensity transforms after the single resampling, in order).
    fill_mode : {"constant", "nearest", "reflect", "wrap"}
        How pixels from outside the input are filled (Keras' ``fill_mode``).
    cval : float
        Image value for ``fill_mode="constant"``.
    mask_fill : {"constant", "same"}
        Masks get background 0 outside the input, or follow ``fill_mode`` (copies of
        labels, never interpolated ones).
    interpolation : {"linear", "nearest", "cubic"}
        For the image; masks always use nearest neighbour.
    min_visibility : float
        Boxes with a smaller visible fraction are dropped or flagged.
    box_policy : {"drop", "flag"}
        What to do with those boxes (boxes entirely outside are always dropped).
    min_instance_pixels : int
        Instances left with fewer pixels are reported in ``instances_cut``.
    backend : {"auto", "opencv", "scipy"}
        Resampling library (``"auto"`` takes OpenCV when installed).

    Examples
    --------
    >>> from napari_labelsuite.core.augment import Pipeline
    >>> from napari_labelsuite.core.augment_transforms import Affine, HorizontalFlip
    >>> pipe = Pipeline([HorizontalFlip(p=0.5), Affine(rotate=(-15, 15))])
    >>> image, ann, diag = pipe.apply(image, annotation, seed=3)  # doctest: +SKIP
    """

    def __init__(
        self,
        transforms: list[Transform] | None = None,
        *,
        fill_mode: str = "constant",
        cval: float = 0.0,
        mask_fill: str = "constant",
        interpolation: str = "linear",
        min_visibility: float = 0.3,
        box_policy: str = "drop",
        min_instance_pixels: int = 10,
        backend: str = "auto",
    ) -> None:
        self.transforms = list(transforms or [])
        for i, t in enumerate(self.transforms):
            if not isinstance(t, Transform):
                raise AugmentError(
                    "not a transform", where=f"transforms[{i}]", field="type", value=t
                )
        self.fill_mode = _choice("fill_mode", fill_mode, FILL_MODES)
        self.mask_fill = _choice("mask_fill", mask_fill, MASK_FILLS)
        self.interpolation = _choice("interpolation", interpolation, tuple(INTERPOLATIONS))
        self.box_policy = _choice("box_policy", box_policy, BOX_POLICIES)
        try:
            self.cval = float(cval)
            self.min_visibility = float(min_visibility)
        except (TypeError, ValueError):
            raise AugmentError(
                "cval and min_visibility must be numbers",
                field="cval/min_visibility",
                value=(cval, min_visibility),
            ) from None
        if not 0.0 <= self.min_visibility <= 1.0:
            raise AugmentError(
                "must lie within [0, 1]", field="min_visibility", value=min_visibility
            )
        if isinstance(min_instance_pixels, bool) or int(min_instance_pixels) < 0:
            raise AugmentError(
                "must be an integer >= 0",
                field="min_instance_pixels",
                value=min_instance_pixels,
            )
        self.min_instance_pixels = int(min_instance_pixels)
        resolve_backend(backend)
        self.backend = backend

    def __repr__(self) -> str:
        names = ", ".join(type(t).__name__ for t in self.transforms)
        return f"Pipeline([{names}], fill_mode={self.fill_mode!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Pipeline) and self.to_dict() == other.to_dict()

    # -- applying --------------------------------------------------------------------------------
    def apply(
        self,
        image: Any,
        annotation: ImageAnnotation,
        seed: int = 0,
        *,
        channel_axis: int | None = None,
        skeletons: dict[int, Any] | None = None,
    ) -> tuple[np.ndarray, ImageAnnotation, AugmentDiagnostics]:
        """One variant of ``image`` and ``annotation`` for ``seed``.

        Parameters
        ----------
        image : array-like
            ``(Y, X)``, ``(C, Y, X)`` or ``(Y, X, C)``, any dtype, matching
            ``annotation.shape``.
        annotation : ImageAnnotation
            A 2D annotation (see :func:`annotation_plane` for nD data).
        seed : int
            Non-negative; the same seed always gives the same variant.
        channel_axis : {None, 0, -1}
            Where the channels are; found from the shapes when None.
        skeletons : dict of int to Skeleton, optional
            Class id -> keypoint skeleton; a mirroring variant swaps the left/right
            keypoints of those classes (rotated boxes, keypoints and polygons always
            follow the image; polygons are clipped to the output frame; see
            :mod:`napari_labelsuite.core.objects.transform`).

        Returns
        -------
        image, annotation, diagnostics
            The image keeps its dtype and channel layout.
        """
        src = self._prepare(image, annotation, channel_axis)
        return self._run(src, seed, skeletons)

    def apply_many(
        self,
        image: Any,
        annotation: ImageAnnotation,
        seeds: Any,
        *,
        channel_axis: int | None = None,
        skeletons: dict[int, Any] | None = None,
    ) -> list[tuple[np.ndarray, ImageAnnotation, AugmentDiagnostics]]:
        """:meth:`apply` for several seeds, checking and preparing the input once."""
        src = self._prepare(image, annotation, channel_axis)
        return [self._run(src, s, skeletons) for s in seeds]

    def _prepare(self, image: Any, ann: ImageAnnotation, channel_axis: int | None) -> _Source:
        if not isinstance(ann, ImageAnnotation):
            raise AugmentError(
                "annotation must be an ImageAnnotation", field="annotation", value=type(ann)
            )
        where = ann.image_name
        if ann.ndim != 2:
            raise AugmentError(
                "augmentation works on one plane; take it with annotation_plane()",
                where=where,
                field="shape",
                value=ann.shape,
            )
        img = np.asarray(image)
        hw = ann.plane_shape
        if img.ndim == 2:
            axis = None
        elif img.ndim == 3:
            if channel_axis is None:
                axis = -1 if img.shape[:2] == hw else 0 if img.shape[1:] == hw else None
            elif channel_axis in (0, -3):
                axis = 0
            elif channel_axis in (-1, 2):
                axis = -1
            else:
                raise AugmentError(
                    "channel_axis must be 0 or -1", field="channel_axis", value=channel_axis
                )
            if axis is None:
                raise AugmentError(
                    f"image shape does not match the annotation's {hw} plane",
                    where=where,
                    field="image",
                    value=img.shape,
                )
        else:
            raise AugmentError(
                "image must be (Y, X), (C, Y, X) or (Y, X, C)",
                where=where,
                field="image",
                value=img.shape,
            )
        plane_shape = img.shape if axis is None else np.moveaxis(img, axis, -1).shape[:2]
        if plane_shape != hw:
            raise AugmentError(
                f"image shape does not match the annotation's {hw} plane",
                where=where,
                field="image",
                value=img.shape,
            )
        dtype = img.dtype
        work = img
        if dtype == np.bool_:
            work = img.astype(np.uint8)
        elif dtype.kind not in "uif":
            raise AugmentError("image must be numeric", where=where, field="image", value=dtype)
        masks: dict[str, np.ndarray | None] = {}
        counts = {}
        for name in ("semantic", "instances"):
            m = getattr(ann, name)
            if m is None:
                masks[name] = None
                continue
            m = np.asarray(m)
            if m.shape != hw:
                raise AugmentError(
                    f"{name} mask shape does not match the image plane {hw}",
                    where=where,
                    field=name,
                    value=m.shape,
                )
            if m.dtype.kind not in "ui":
                raise AugmentError(
                    f"{name} mask must be integer", where=where, field=name, value=str(m.dtype)
                )
            masks[name] = m
            counts[name] = _value_counts(m, name, where)
        for i, b in enumerate(ann.boxes):
            if b.plane != ():
                raise AugmentError(
                    "a 2D annotation's boxes have plane ()",
                    where=f"{where} boxes[{i}]",
                    field="plane",
                    value=b.plane,
                )
        for i, poly in enumerate(ann.polygons):
            xy = np.asarray(poly.ring.xy, float)
            if tuple(poly.plane) != () or xy.ndim != 2 or xy.shape[1:] != (2,) or len(xy) < 3:
                raise AugmentError(
                    "a 2D annotation's polygons have plane () and at least 3 (x, y) points",
                    where=f"{where} polygons[{i}]",
                    field="plane" if tuple(poly.plane) != () else "ring",
                    value=tuple(poly.plane) if tuple(poly.plane) != () else xy.shape,
                )
            if not np.isfinite(xy).all():
                raise AugmentError(
                    "polygon coordinates must be finite",
                    where=f"{where} polygons[{i}]",
                    field="ring",
                )
        ann.validate()
        boxes = np.array([b.xyxy for b in ann.boxes], dtype=np.float64).reshape(-1, 4)
        return _Source(
            image=work,
            channel_axis=axis,
            dtype=dtype,
            scale=value_scale(img),
            ann=ann,
            semantic=masks["semantic"],
            instances=masks["instances"],
            counts=counts,
            boxes=boxes,
        )

    def _run(self, src: _Source, seed: int, skeletons: dict[int, Any] | None = None):
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise AugmentError("seed must be an integer >= 0", field="seed", value=seed)
        seed = int(seed)
        backend = resolve_backend(self.backend)
        diag = AugmentDiagnostics(seed=seed)
        rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(len(self))]
        in_shape = src.ann.plane_shape
        shape = in_shape
        steps: list[tuple] = []
        intensity = []
        n_channels = 1 if src.channel_axis is None else src.image.shape[src.channel_axis]
        for t, rng in zip(self.transforms, rngs):
            if rng.random() >= t.p:
                continue
            if t.kind == "geometric":
                m, shape, params = t.sample(rng, shape)
                if steps and steps[-1][0] == "affine":
                    steps[-1] = ("affine", m @ steps[-1][1])
                else:
                    steps.append(("affine", m))
            elif t.kind == "elastic":
                dy, dx, params = t.sample(rng, shape)
                steps.append(("elastic", dy, dx))
            else:
                params = t.sample(rng, n_channels)
                intensity.append((t, params, rng))
            diag.applied.append({"type": type(t).__name__, **params})
        out_shape = (int(shape[0]), int(shape[1]))
        diag.shape = out_shape

        mask_mode = self.fill_mode if self.mask_fill == "same" else "constant"
        order = INTERPOLATIONS[self.interpolation]
        resample = _Resampler(steps, in_shape, out_shape)
        diag.padding_fraction = resample.padding_fraction()
        img = resample(src.image, order, self.fill_mode, self.cval, backend, src.channel_axis)
        masks = {}
        for name in ("semantic", "instances"):
            m = getattr(src, name)
            masks[name] = None if m is None else resample(m, 0, mask_mode, 0.0, backend)

        if intensity:
            # astype keeps the memory layout, so (C, Y, X) views stay cheap
            img = img.astype(_work_dtype(src.dtype))
            chw = img[None] if src.channel_axis is None else np.moveaxis(img, src.channel_axis, 0)
            for t, params, rng in intensity:
                t.apply(chw, params, src.scale, rng)
        img = _cast(img, src.dtype)

        present = {}
        for name, m in masks.items():
            if m is None:
                continue
            in_values, in_counts = src.counts[name]
            out_values, out_counts = _value_counts(m, name, src.ann.image_name)
            present[name] = out_values
            diag.invented_values[name] = [
                int(v) for v in np.setdiff1d(out_values, in_values) if v != 0
            ]
            if name == "instances":
                lost = np.setdiff1d(in_values, out_values)
                diag.instances_lost = [int(v) for v in lost if v != 0]
                before = dict(zip(in_values.tolist(), in_counts.tolist()))
                for v, n in zip(out_values.tolist(), out_counts.tolist()):
                    b = before.get(v, 0)
                    if v and n < self.min_instance_pixels <= b:
                        diag.instances_cut[v] = (b, n)

        boxes = self._boxes(src, resample, out_shape, diag)
        rotated, keypoints = _objects_through(resample, src.ann, out_shape, steps, skeletons)
        polygons, diag.polygons_kept, diag.polygons_clipped = _polygons_through(
            resample, src.ann, out_shape, steps
        )
        kept_polygons = set(diag.polygons_kept)
        diag.polygons_dropped = [i for i in range(len(src.ann.polygons)) if i not in kept_polygons]
        objects = src.ann.objects
        if "instances" in present:
            keep = set(present["instances"].tolist())
            objects = {k: o for k, o in objects.items() if k in keep}
        objects = {
            k: dataclasses.replace(o, attributes=dict(o.attributes)) for k, o in objects.items()
        }
        meta = copy.deepcopy(src.ann.metadata)
        meta["augment"] = {"seed": seed, "applied": [a["type"] for a in diag.applied]}
        out_ann = ImageAnnotation(
            image_name=src.ann.image_name,
            shape=out_shape,
            axes=src.ann.axes,
            semantic=masks["semantic"],
            instances=masks["instances"],
            objects=objects,
            boxes=boxes,
            image_path=src.ann.image_path,
            metadata=meta,
            rotated=rotated,
            keypoints=keypoints,
            polygons=polygons,
        )
        return img, out_ann, diag

    def _boxes(self, src, resample, out_shape, diag) -> list[Box]:
        n = len(src.boxes)
        if n == 0:
            return []
        xyxy, visibility = resample.boxes(src.boxes)
        diag.box_visibility = [round(float(v), 6) for v in visibility]
        out = []
        for i, b in enumerate(src.ann.boxes):
            v = visibility[i]
            x0, y0, x1, y1 = xyxy[i]
            if not (x1 > x0 and y1 > y0) or v <= 0:
                diag.boxes_dropped.append(i)
                continue
            if v < self.min_visibility:
                if self.box_policy == "drop":
                    diag.boxes_dropped.append(i)
                    continue
                diag.boxes_flagged.append(i)
            elif v < 1.0 - 1e-9:
                diag.boxes_clipped.append(i)
            out.append(
                dataclasses.replace(
                    b,
                    x0=float(x0),
                    y0=float(y0),
                    x1=float(x1),
                    y1=float(y1),
                    attributes=dict(b.attributes),
                )
            )
            diag.boxes_kept.append(i)
        return out

    def __len__(self) -> int:
        return len(self.transforms)

    # -- serialisation -------------------------------------------------------------------------
    def settings(self) -> dict[str, Any]:
        return {
            "fill_mode": self.fill_mode,
            "cval": self.cval,
            "mask_fill": self.mask_fill,
            "interpolation": self.interpolation,
            "min_visibility": self.min_visibility,
            "box_policy": self.box_policy,
            "min_instance_pixels": self.min_instance_pixels,
            "backend": self.backend,
        }

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (YAML/JSON-ready) that :meth:`from_dict` reads back."""
        return {
            "format": FORMAT_NAME,
            "version": 1,
            **self.settings(),
            "transforms": [t.to_dict() for t in self.transforms],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any], *, path: Any = None) -> Pipeline:
        if not isinstance(d, dict):
            raise AugmentError("a pipeline must be a mapping", path=path, value=type(d))
        known = {"format", "version", "transforms", *cls(backend="scipy").settings()}
        for key in d:
            if key not in known:
                raise AugmentError("unknown pipeline setting", path=path, field=key, value=d[key])
        items = d.get("transforms") or []
        if not isinstance(items, list):
            raise AugmentError("must be a list", path=path, field="transforms", value=items)
        transforms = []
        for i, td in enumerate(items):
            where = f"transforms[{i}]"
            if not isinstance(td, dict) or "type" not in td:
                raise AugmentError("needs a 'type'", path=path, where=where, value=td)
            kind = td["type"]
            tcls = TRANSFORMS.get(kind)
            if tcls is None:
                raise AugmentError(
                    f"unknown transform; known: {sorted(TRANSFORMS)}",
                    path=path,
                    where=where,
                    field="type",
                    value=kind,
                )
            names = {f.name for f in dataclasses.fields(tcls)}
            params = {k: v for k, v in td.items() if k != "type"}
            for k in params:
                if k not in names:
                    raise AugmentError(
                        f"unknown parameter of {kind}",
                        path=path,
                        where=where,
                        field=k,
                        value=params[k],
                    )
            try:
                transforms.append(tcls(**params))
            except AugmentError as exc:
                raise exc.replace(AugmentError, path=path, where=where) from None
        settings = {k: v for k, v in d.items() if k not in ("format", "version", "transforms")}
        try:
            return cls(transforms, **settings)
        except AugmentError as exc:
            raise exc.replace(AugmentError, path=path) from None

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def to_yaml(self) -> str:
        import yaml

        return yaml.safe_dump(self.to_dict(), sort_keys=False)

    @classmethod
    def from_json(cls, text: str, *, path: Any = None) -> Pipeline:
        try:
            d = json.loads(text)
        except json.JSONDecodeError as exc:
            raise AugmentError(
                f"not valid JSON: {exc.msg}", path=path, where=f"line {exc.lineno}"
            ) from None
        return cls.from_dict(d, path=path)

    @classmethod
    def from_yaml(cls, text: str, *, path: Any = None) -> Pipeline:
        import yaml

        try:
            d = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise AugmentError(f"not valid YAML: {exc}", path=path) from None
        return cls.from_dict(d, path=path)

    def save(self, path: str | os.PathLike) -> Path:
        """Write the pipeline as JSON (``.json``) or YAML (anything else), atomically."""
        p = Path(path)
        text = self.to_json() if p.suffix.lower() == ".json" else self.to_yaml()
        atomic_write_text(p, text)
        return p

    @classmethod
    def load(cls, path: str | os.PathLike) -> Pipeline:
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except OSError as exc:
            raise AugmentError(f"cannot read: {exc.strerror}", path=p) from None
        if p.suffix.lower() == ".json":
            return cls.from_json(text, path=p)
        return cls.from_yaml(text, path=p)

    # -- Keras and albumentations (see :mod:`.interop`) ------------------------------------------
    @classmethod
    def from_keras(cls, kwargs: dict[str, Any]) -> Pipeline:
        """A pipeline equivalent to Keras ``ImageDataGenerator(**kwargs)``'s augmentation.

        See :func:`.interop.pipeline_from_keras`.
        """
        return pipeline_from_keras(cls, kwargs)

    def to_albumentations(self, strict: bool = False) -> dict[str, Any]:
        """The equivalent albumentations ``Compose`` as the dict ``A.from_dict`` reads.

        See :func:`.interop.albumentations_dict`.
        """
        return albumentations_dict(self, strict=strict)

    def to_albumentations_compose(self, strict: bool = False) -> Any:
        """A live ``albumentations.Compose`` (needs the ``augment`` extra)."""
        return albumentations_compose(self, strict=strict)


def _choice(name: str, value: Any, allowed: tuple) -> str:
    if value not in allowed:
        raise AugmentError(f"must be one of {allowed}", field=name, value=value)
    return value


def _work_dtype(dtype: np.dtype) -> type:
    """float64 where float32 would lose the image's values (and its dtype's bounds)."""
    if dtype == np.float64 or (dtype.kind in "iu" and dtype.itemsize > 2):
        return np.float64
    return np.float32


def _cast(img: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """``img`` as ``dtype``, rounded and saturated; ``img`` is scratch and may be overwritten."""
    if img.dtype == dtype:
        return img
    if dtype == np.bool_:
        return img > 0.5
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        if img.dtype.kind != "f":
            return np.clip(img, info.min, info.max, out=img).astype(dtype)
        if _work_dtype(dtype) == np.float64 and img.dtype != np.float64:
            # float32 rounds 2**31 - 1 up to 2**31, which wraps when cast
            img = img.astype(np.float64)
        np.rint(img, out=img)
        hi = float(info.max)
        over = None
        if int(hi) > info.max:  # 64-bit maxima round up even in float64
            over = img >= hi
            hi = np.nextafter(hi, 0.0)
        out = np.clip(img, info.min, hi, out=img).astype(dtype)
        if over is not None:
            out[over] = info.max
        return out
    return img.astype(dtype)
