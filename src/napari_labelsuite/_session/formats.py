"""Import and export of COCO, YOLO, Pascal VOC and mask files."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from ..core import formats
from ..core.annotation import ImageAnnotation
from ..core.errors import FormatError, SessionError
from ..core.taxonomy import Taxonomy
from .host import SessionPart
from .layers import MARK_ROLES, META_KEY, role_of


class FormatsMixin(SessionPart):
    """Import and export of COCO, YOLO, Pascal VOC and mask files."""

    def export_annotations(
        self,
        path: str | Path,
        fmt: str | None = None,
        *,
        image_name: str | None = None,
        report: formats.WriteReport | None = None,
        **options: Any,
    ) -> list[Path]:
        """Write the managed layers (see ``to_annotation``) in an interchange format.

        Points and polylines go to the formats that hold them (labelme, CVAT; Label
        Studio holds points); for the others they are counted, never silently dropped:
        ``report.not_written``, a warning and the provenance entry say how many. The
        polygons layer's vertices are what COCO, labelme, CVAT and YOLO-seg write for each
        object whose mask they still describe exactly (other objects are traced).

        Parameters
        ----------
        path : path
            A ``.json`` file for COCO; a directory for YOLO, VOC and masks.
        fmt : {"coco", "yolo", "voc", "masks"}, optional
            Guessed from ``path`` when None.
        image_name : str, optional
            Name recorded for the image (default: the image layer's name).
        report : WriteReport, optional
            Receives the format, the file count and the marks not written.
        **options
            Passed to the format's ``write`` (``segmentation="polygon"`` for COCO,
            ``task="segment"`` for YOLO, ``image_format="tiff"`` for masks, ...).

        Returns
        -------
        list of Path
            The files written (all of them, or none on error).
        """
        fmt = fmt or formats.guess_format(path, for_writing=True)
        ann = self._annotation_with_object_kinds(image_name)
        rep = report if report is not None else formats.WriteReport()
        files = formats.write(path, [ann], self.taxonomy, fmt=fmt, report=rep, **options)
        lost = {k: n for k, n in rep.not_written.items() if n}
        self._record(
            "export_annotations",
            path=str(path),
            fmt=fmt,
            files=len(files),
            **({"not_written": lost} if lost else {}),
            **options,
        )
        if lost:
            warnings.warn(rep.summary(), stacklevel=2)
        return files

    def _annotation_with_object_kinds(self, image_name: str | None) -> ImageAnnotation:
        """``to_annotation`` plus rotated boxes, keypoints and (without an instance layer)
        the instances the polygons layer outlines."""
        rot, kps = self.layers_of_role("rotated"), self.layers_of_role("keypoints")
        polys = self.layers_of_role("polygons")
        try:
            ann = self.to_annotation(image_name)
        except SessionError:
            # only object layers: the image they were imported with gives name and shape
            seen = [ly.metadata.get(META_KEY, {}) for ly in (*rot, *kps, *polys)]
            seen = [m for m in seen if m.get("image_shape")]
            if not seen:
                raise
            ann = ImageAnnotation(
                image_name or seen[0].get("image_name") or "image",
                tuple(seen[0]["image_shape"]),
            )
        if rot and not ann.rotated:
            ann.rotated = self.rotated_boxes_list(rot[0])
        if kps and not ann.keypoints:
            ann.keypoints = self.keypoints_list(kps[0])
        if polys and len(polys[0].data):
            ids = None
            if ann.instances is None:
                ann.instances, ann.objects, ids = self._polygons_mask_ids(ann.shape, polys[0])
            if not ann.polygons:
                # the outlines as drawn: polygon formats write these vertices (while they
                # still describe their object's mask) instead of tracing the mask
                ann.polygons = self._layer_polygons(polys[0], ids)
        return ann

    def _layer_polygons(self, layer: Any, ids: list[int] | None = None) -> list[Any]:
        """The shapes of a polygons layer as ``core.objects.Polygon`` (with ``ids`` as the
        instance ids when given: those a mask painted from the layer gave them)."""
        from ..core.objects import Polygon

        out = []
        for i, d in enumerate(self.polygons_list(layer)):
            k = ids[i] if ids is not None else d["instance_id"]
            out.append(Polygon(d["ring"], d["class_id"], int(k), tuple(d["plane"]),
                               d["status"], dict(d["attributes"])))  # fmt: skip
        return out

    def read_annotations(
        self,
        path: str | Path,
        fmt: str | None = None,
        *,
        report: formats.ReadReport | None = None,
    ) -> tuple[list[ImageAnnotation], Taxonomy]:
        """Read and validate a file without touching the session (safe in a worker thread).

        The format is sniffed from the content when ``fmt`` is None; ``report`` (a
        :class:`~napari_labelsuite.core.formats.ReadReport`) receives the format taken, the
        counts and what was inferred. Reading nothing (0 images or objects) is an error.
        """
        return formats.read(path, fmt, report=report)

    def show_annotations(
        self,
        annotations: list[ImageAnnotation],
        taxonomy: Taxonomy | None = None,
        *,
        index: int | str = 0,
        replace: bool = True,
        source: str | None = None,
        report: formats.ReadReport | None = None,
        as_polygons: bool = False,
    ) -> list:
        """Show one of ``annotations`` as layers and adopt ``taxonomy``; all or nothing.

        Parameters
        ----------
        index : int or str
            Which image: its position or its ``image_name``.
        replace : bool
            Replace the managed layers of the roles the annotation holds.
        report : ReadReport, optional
            What the reader found (format, inferences); kept in the provenance entry.
        as_polygons : bool
            Also show the instances as a polygons layer to edit as outlines: objects the
            file gives as polygons keep the file's own vertices (``ann.polygons``), the
            others are traced pixel-exactly (holes as separate rings). Rotated boxes and
            keypoint sets always get their own layers.

        On any error the layers and the taxonomy stay as they were.
        """
        if not annotations:
            raise FormatError("the file holds no images", path=source, field="images")
        if isinstance(index, str):
            names = [a.image_name for a in annotations]
            if index not in names:
                raise FormatError(
                    "no image of that name", path=source, field="image_name", value=index
                )
            ann = annotations[names.index(index)]
        else:
            if not -len(annotations) <= index < len(annotations):
                raise FormatError(
                    f"the file holds {len(annotations)} images",
                    path=source,
                    field="index",
                    value=index,
                )
            ann = annotations[index]
        old = self.taxonomy
        if taxonomy is not None and taxonomy != old:
            # layers about to be replaced may use classes the file's taxonomy lacks
            kept = None
            if replace:
                gone = _replaced_roles(ann)
                kept = [ly for ly in self.layers if role_of(ly) not in gone]
            mapping = self._check_taxonomy_swap(taxonomy, layers=kept)
            self._replace_taxonomy(taxonomy, mapping, force=False)
        try:
            layers = self.load_annotation(ann, replace=replace)
            layers += self._show_object_kinds(ann, replace=replace, as_polygons=as_polygons)
        except Exception:
            if self.taxonomy is not old:
                self._replace_taxonomy(old, {}, force=False)  # no layer was changed
            raise
        found = {}
        if report is not None:
            found = {"format": report.format, "layout": report.layout, "notes": report.notes}
        self._record(
            "import_annotations",
            path=source,
            image_name=ann.image_name,
            layers=[layer.name for layer in layers],
            **found,
        )
        self._log_effort("import", "import", image=ann.image_name)
        return layers

    def import_annotations(
        self,
        path: str | Path,
        fmt: str | None = None,
        *,
        index: int | str = 0,
        replace: bool = True,
        as_polygons: bool = False,
    ) -> list:
        """Read a COCO / YOLO / VOC / mask file and show it as layers, with its taxonomy.

        All or nothing: the file is validated completely first, then every layer is added
        and the session's taxonomy becomes the file's; on any error no layer is added or
        changed and the taxonomy is kept.

        Parameters
        ----------
        path : path
            File or directory (see :func:`napari_labelsuite.core.formats.sniff`).
        fmt : str, optional
            Sniffed from the content when None (the format taken is recorded).
        index : int or str
            Which image of a multi-image file (position or image name).
        replace : bool
            Replace the existing managed layers of the same roles.
        as_polygons : bool
            Also show the instances as an editable polygons layer (default: masks only),
            with the file's own vertices for the objects it gives as polygons.

        Returns
        -------
        list of napari layers
            The layers added.
        """
        report = formats.ReadReport()
        annotations, taxonomy = self.read_annotations(path, fmt, report=report)
        return self.show_annotations(
            annotations, taxonomy, index=index, replace=replace, source=str(path), report=report,
            as_polygons=as_polygons,
        )  # fmt: skip

    def _show_object_kinds(
        self, ann: ImageAnnotation, *, replace: bool, as_polygons: bool
    ) -> list:
        """Layers of the rotated boxes and keypoint sets of ``ann`` (and its polygons)."""
        out = []
        nd = len(ann.shape)
        kinds = [("rotated", ann.rotated, self.add_rotated_boxes_layer),
                 ("keypoints", ann.keypoints, self.add_keypoints_layer)]  # fmt: skip
        for role, items, add in kinds:
            if not items:
                continue
            if replace:
                for old in self.layers_of_role(role):
                    self.layers.remove(old)
            layer = add(list(items), ndim=nd)
            # remembered for export when no image or mask layer tells the image
            layer.metadata[META_KEY].update(image_shape=list(ann.shape), image_name=ann.image_name)
            out.append(layer)
        if as_polygons and (ann.instances is not None or ann.polygons):
            if replace:
                for old in self.layers_of_role("polygons"):
                    self.layers.remove(old)
            # the file's own vertices where it has polygons, traced outlines elsewhere
            layer = self.polygons_from_annotation(ann)
            layer.metadata[META_KEY].update(image_shape=list(ann.shape), image_name=ann.image_name)
            out.append(layer)
        return out


def _replaced_roles(ann: ImageAnnotation) -> set[str]:
    """The roles whose layers ``load_annotation(ann, replace=True)`` replaces."""
    roles = set()
    if ann.semantic is not None:
        roles.add("semantic")
    if ann.instances is not None:
        roles.add("instances")
    if ann.boxes or (ann.semantic is None and ann.instances is None):
        roles.add("boxes")
    roles.update(r for r in MARK_ROLES if ann.metadata.get(r))
    if ann.rotated:
        roles.add("rotated")
    if ann.keypoints:
        roles.add("keypoints")
    return roles
