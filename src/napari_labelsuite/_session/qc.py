"""Quality control: agreement, consistency checks, review queue."""

from __future__ import annotations

import contextlib
import datetime as _dt
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import numpy as np
from psygnal import Signal

from .._napari_compat import camera, canvas_size
from ..core.annotation import REVIEW_STATUSES
from ..core.errors import LabelsuiteError, QCError, SessionError
from ..core.qc import (
    AgreementResult,
    Finding,
    PairAgreement,
    agreement_result,
    check,
    check_dataset,
    class_summary,
    consensus_instances,
    findings_frame,
    fleiss_kappa,
    instance_agreement,
    instance_disagreement,
    keypoint_sigmas,
    majority_vote,
    match_boxes,
    match_keypoint_sets,
    match_polygons,
    semantic_agreement,
    semantic_disagreement,
    write_report,
)
from ..core.team.guidelines import outdated_guidelines
from .augment import polygon_from_record
from .events import emit
from .host import SessionPart
from .layers import ROLES, _layer_data, role_of


def _is_shapes(layer: Any) -> bool:
    from napari.layers import Shapes

    return isinstance(layer, Shapes)


#: parts compare_layers compares: the mask/box roles plus rotated boxes, keypoint sets and
#: polygons
COMPARE_KINDS = (*ROLES, "rotated", "keypoints", "polygons")
#: roles whose objects get a review status by index (set_object_review_status)
OBJECT_REVIEW_ROLES = ("rotated", "polygons", "keypoints")


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


class QCMixin(SessionPart):
    """Quality control: agreement, consistency checks, review queue."""

    #: emitted (no arguments) when the findings list or a finding's status changes
    findings_changed = Signal()

    def _init_mixin(self) -> None:
        self._qc_findings: list[Finding] = []
        self._qc_agreement: AgreementResult | None = None
        self._qc_classes = None  # per-class table of the last check_dataset

    # -- findings -------------------------------------------------------------------------
    @property
    def findings(self) -> list[Finding]:
        """The findings of the last :meth:`run_checks` (the review queue)."""
        return list(self._qc_findings)

    def on_findings_changed(self, fn: Callable[[], Any]) -> None:
        """Call ``fn()`` whenever the findings list or a finding's status changes.

        Same as ``findings_changed.connect(fn)``.
        """
        self._legacy_listeners.connect(self.findings_changed, fn, lambda: fn())

    def disconnect_findings(self, fn: Callable[[], Any]) -> None:
        """Stop calling ``fn`` (connected by :meth:`on_findings_changed`)."""
        self._legacy_listeners.disconnect(self.findings_changed, fn)

    def _qc_notify(self) -> None:
        emit(self.findings_changed)

    def run_checks(
        self,
        *,
        min_area: int = 16,
        box_iou_threshold: float = 0.7,
        box_mask_iou: float = 0.5,
        checks: list[str] | None = None,
    ) -> list[Finding]:
        """Run the consistency checks on the managed layers; the findings become the queue.

        See :func:`napari_labelsuite.core.qc.check` for the parameters.
        """
        ann = self.to_annotation()
        outdated = getattr(self, "_outdated_guideline_findings", None)  # TeamMixin
        guideline = checks is None or "outdated_guideline" in checks
        found = check(
            ann,
            self.taxonomy,
            min_area=min_area,
            box_iou_threshold=box_iou_threshold,
            box_mask_iou=box_mask_iou,
            checks=None if checks is None else [c for c in checks if c != "outdated_guideline"],
        )
        if outdated is not None and guideline:
            # labels made under an older guideline of their class (taxonomy versions)
            found = [*found, *outdated(ann)]
        self._qc_findings = found
        self._qc_classes = None
        self._record(
            "run_checks",
            n_findings=len(found),
            min_area=min_area,
            box_iou_threshold=box_iou_threshold,
            box_mask_iou=box_mask_iou,
            checks=checks,
        )
        self._qc_notify()
        return list(found)

    def check_dataset(self, imbalance_ratio: float = 10.0) -> list[Finding]:
        """Dataset-level checks of the open dataset; the findings become the queue.

        Reports every image without labels (``unlabeled_image``; the current image is
        judged by its layers, the others by their saved annotations) and classes rarer
        than ``imbalance_ratio`` times the largest (``class_imbalance``). The per-class
        table goes into the report. Going to an image finding shows that image.
        """
        ds = self.dataset
        if ds is None:
            raise SessionError("no dataset is open; open one first", field="dataset")
        anns = dict(ds.annotations())
        if self.index is not None:
            # without annotation layers the saved state (if any) stands
            with contextlib.suppress(LabelsuiteError):
                anns[self.index] = self.to_annotation(image_name=ds.relative_name(self.index))
        found: list[Finding] = []
        for i in range(len(ds)):
            name = ds.relative_name(i)
            if i in anns:
                part = check_dataset([anns[i]])
                if i != self.index:  # the shown image: run_checks judges it by its layers
                    part += outdated_guidelines(anns[i], self.taxonomy)
            else:
                part = [Finding("unlabeled_image", f"image {name} has no annotation")]
            for f in part:
                f.image, f.extra["index"] = name, i
            found += part
        table, imbalance = class_summary(list(anns.values()), self.taxonomy, imbalance_ratio)
        self._qc_findings = found + imbalance
        self._qc_classes = table
        self._record(
            "check_dataset", images=len(ds), unlabeled=len(found), imbalance_ratio=imbalance_ratio
        )
        self._qc_notify()
        return list(self._qc_findings)

    def _finding(self, finding: Finding | int) -> Finding:
        if isinstance(finding, Finding):
            return finding
        n = len(self._qc_findings)
        if not isinstance(finding, (int, np.integer)) or not 0 <= finding < n:
            raise SessionError(
                f"no finding with this index (there are {n})", field="finding", value=finding
            )
        return self._qc_findings[int(finding)]

    # -- review status --------------------------------------------------------------------
    def set_review_status(
        self,
        status: str,
        *,
        instance_id: int | None = None,
        box_index: int | None = None,
        reviewer: str | None = None,
        layer: Any = None,
    ) -> None:
        """Set the review status of one object or box (stored in its layer's features).

        Parameters
        ----------
        status : {"todo", "approved", "needs-fix"}
        instance_id, box_index : int
            Exactly one: the object of the instance layer or the box of the boxes layer.
        reviewer : str, optional
            Defaults to the session's user; the time is recorded as ``reviewed_at``.
        layer : Layer, optional
            Defaults to the active instance or boxes layer.
        """
        if status not in REVIEW_STATUSES:
            raise SessionError(
                f"status must be one of {REVIEW_STATUSES}", field="status", value=status
            )
        if (instance_id is None) == (box_index is None):
            raise SessionError(
                "give exactly one of instance_id and box_index",
                field="instance_id",
                value=(instance_id, box_index),
            )
        who, when = reviewer or self.user, _now()
        if instance_id is not None:
            lay = self._require("instances", layer)
            objects = self.objects(lay)
            iid = int(instance_id)
            if iid not in objects:
                raise SessionError(
                    "instance has no entry in the table; give it a class first",
                    where=f"layer '{lay.name}'",
                    field="instance_id",
                    value=iid,
                )
            o = objects[iid]
            o.status, o.reviewer, o.reviewed_at = status, who, when
            self._bind_instances(lay, objects)
            target = {"instance_id": iid}
        else:
            lay = self._require("boxes", layer)
            i = int(cast(int, box_index))  # exactly one of the two was given
            if not 0 <= i < len(lay.data):
                raise SessionError(
                    f"box index out of range 0..{len(lay.data) - 1}",
                    where=f"layer '{lay.name}'",
                    field="box_index",
                    value=i,
                )
            frame = lay.features.copy()
            for col, val in (("status", status), ("reviewer", who), ("reviewed_at", when)):
                # object columns: an all-None column must accept a string
                frame[col] = frame[col].astype(object) if col in frame.columns else None
                frame.loc[i, col] = val
            self._bind_boxes(lay, frame)
            target = {"box_index": i}
        for f in self._qc_findings:
            if (
                instance_id is not None and f.instance_id == instance_id and f.box_index is None
            ) or (box_index is not None and f.box_index == box_index):
                f.status = status
        self._record("set_review_status", layer=lay.name, status=status, reviewer=who, **target)
        self._qc_notify()

    def set_object_review_status(
        self, status: str, index: int, layer: Any, *, reviewer: str | None = None
    ) -> None:
        """Set the review status of one rotated box, polygon or keypoint set.

        Parameters
        ----------
        status : {"todo", "approved", "needs-fix"}
        index : int
            The shape index on a ``rotated`` or ``polygons`` layer, or the ``object``
            number of a keypoint set on a ``keypoints`` layer (all its points change).
        layer : Layer or str
            A layer of one of those roles.
        reviewer : str, optional
            Defaults to the session's user; the time is recorded as ``reviewed_at``.
        """
        if status not in REVIEW_STATUSES:
            raise SessionError(
                f"status must be one of {REVIEW_STATUSES}", field="status", value=status
            )
        lay = self._qc_layer(layer)
        role = role_of(lay)
        if role not in OBJECT_REVIEW_ROLES:
            raise SessionError(
                f"review status by index needs a layer of role {OBJECT_REVIEW_ROLES}",
                where=f"layer '{getattr(lay, 'name', lay)}'",
                field="role",
                value=role,
            )
        frame = lay.features.copy()
        i = int(index)
        rows: Any
        if role == "keypoints":
            rows = np.flatnonzero(frame["object"].to_numpy() == i) if len(frame) else []
        else:
            rows = [i] if 0 <= i < len(lay.data) else []
        if len(rows) == 0:
            raise SessionError(
                "no object with this index", where=f"layer '{lay.name}'", field="index", value=i
            )
        who, when = reviewer or self.user, _now()
        for col, val in (("status", status), ("reviewer", who), ("reviewed_at", when)):
            frame[col] = frame[col].astype(object) if col in frame.columns else None
            frame.loc[rows, col] = val
        lay.features = frame
        self._record(
            "set_object_review_status", layer=lay.name, role=role, index=i, status=status,
            reviewer=who,
        )  # fmt: skip
        self._qc_notify()

    def review_queue(self, layer: Any) -> list[dict[str, Any]]:
        """The objects of a rotated-box, polygon or keypoint layer with their review status.

        One dict per rotated box or polygon (``index`` = shape index) or keypoint set
        (``index`` = its ``object`` number): ``index``, ``class_id``, ``plane``, ``status``.
        Objects never reviewed are ``todo``.
        """
        lay = self._qc_layer(layer)
        role = role_of(lay)
        if role not in OBJECT_REVIEW_ROLES:
            raise SessionError(
                f"the review queue lists layers of role {OBJECT_REVIEW_ROLES}",
                where=f"layer '{getattr(lay, 'name', lay)}'",
                field="role",
                value=role,
            )
        feats = lay.features.reset_index(drop=True)
        status = (
            feats["status"].astype(object).where(feats["status"].notna(), "todo")
            if "status" in feats.columns
            else None
        )
        out: list[dict[str, Any]] = []
        if role == "keypoints":
            data = np.asarray(lay.data, float)
            for obj, idx in feats.groupby("object", sort=True).indices.items():
                r = int(idx[0])
                out.append({
                    "index": int(obj),
                    "class_id": int(feats.iloc[r]["class_id"]),
                    "plane": tuple(int(round(p)) for p in data[r, :-2]),
                    "status": "todo" if status is None else str(status.iloc[r]),
                })  # fmt: skip
            return out
        for i, v in enumerate(lay.data):
            out.append({
                "index": i,
                "class_id": int(feats.iloc[i]["class_id"]) if i < len(feats) else 0,
                "plane": tuple(int(round(p)) for p in np.asarray(v, float)[0, :-2]),
                "status": "todo" if status is None or i >= len(status) else str(status.iloc[i]),
            })  # fmt: skip
        return out

    def set_finding_status(self, finding: Finding | int, status: str) -> Finding:
        """Set the review status of the object or box a finding is about."""
        f = self._finding(finding)
        if f.box_index is not None:
            self.set_review_status(status, box_index=f.box_index)
        elif f.instance_id is not None:
            self.set_review_status(status, instance_id=f.instance_id)
        else:
            raise SessionError(
                "this finding concerns no object or box", where=f.message, field="finding"
            )
        f.status = status
        return f

    def review_summary(self) -> dict[str, dict[str, int]]:
        """Counts of review statuses of the objects and boxes of the active layers, and of
        every rotated-box, polygon and keypoint layer (by role)."""
        out: dict[str, dict[str, int]] = {}
        if self.instances is not None:
            out["objects"] = dict(Counter(o.status for o in self.objects().values()))
        if self.boxes is not None and "status" in self.boxes.features.columns:
            out["boxes"] = dict(Counter(self.boxes.features["status"].fillna("todo")))
        for lay in self.layers:
            role = role_of(lay)
            if role in OBJECT_REVIEW_ROLES:
                counts = Counter(o["status"] for o in self.review_queue(lay))
                into = out.setdefault(role, {})
                for k, v in counts.items():
                    into[k] = into.get(k, 0) + v
        return out

    # -- navigation -----------------------------------------------------------------------
    def go_to_finding(self, finding: Finding | int, margin: float = 2.0) -> Finding:
        """Move the viewer to a finding: its plane, centred, zoomed to show its extent."""
        f = self._finding(finding)
        if f.bbox is None and "index" in f.extra and self.dataset is not None:
            self.goto(int(f.extra["index"]))  # an image-level finding: show that image
            return f
        viewer = self.require_viewer()
        if f.bbox is None:
            raise SessionError("this finding has no location", where=f.message, field="bbox")
        candidates: tuple[Any, ...] = (self.boxes,) if f.box_index is not None else ()
        candidates += (self.instances, self.semantic, self.boxes)
        ref = next((x for x in candidates if x is not None), None)
        center = np.asarray(f.center, float)
        lo = np.array([b[0] for b in f.bbox], float) - 0.5
        hi = np.array([b[1] for b in f.bbox], float) - 0.5
        if ref is not None:
            center = np.asarray(ref.data_to_world(center), float)
            lo, hi = (np.asarray(ref.data_to_world(p), float) for p in (lo, hi))
        nd = viewer.dims.ndim
        world = center[-nd:] if len(center) >= nd else center
        offset = nd - len(world)
        for k, val in enumerate(world[:-2]):
            viewer.dims.set_point(offset + k, float(val))
        cam = camera(viewer)
        cam.center = tuple(float(v) for v in world[-2:])
        extent = float(np.max(np.abs(hi - lo)[-2:])) * margin
        cam.zoom = float(min(canvas_size(viewer)) / max(extent, 1.0))
        return f

    # -- agreement ------------------------------------------------------------------------
    def _qc_layer(self, layer: Any) -> Any:
        if isinstance(layer, str):
            try:
                return self.layers[layer]
            except KeyError:
                raise SessionError("no layer with this name", field="layer", value=layer) from None
        return layer

    def compare_layers(
        self,
        *layers: Any,
        kind: str | None = None,
        iou_threshold: float = 0.5,
        add_layers: bool = True,
        sigmas: dict[int, Any] | None = None,
        method: str = "raster",
    ) -> dict[str, Any]:
        """Agreement of two or more annotation layers of one image (the first is the reference).

        Parameters
        ----------
        *layers : Layer or str
            Labels layers (semantic or instance), boxes, rotated-boxes or polygons Shapes
            layers, or keypoints Points layers, by object or name.
        kind : {"semantic", "instances", "boxes", "rotated", "keypoints", "polygons"}, optional
            Defaults to the first layer's role (an unmanaged Labels layer counts as
            instances). ``rotated`` matches by the IoU of the rotated rectangles
            (``match_boxes(..., rotated=True)``), ``keypoints`` by OKS
            (:func:`~napari_labelsuite.core.qc.match_keypoint_sets`), ``polygons`` by
            polygon IoU (:func:`~napari_labelsuite.core.qc.match_polygons`: the shapes of
            one instance on a plane are one object, its holes cut out).
        iou_threshold : float
            Matching threshold for the disagreement map, consensus and boxes (the OKS
            threshold for keypoints).
        sigmas : dict, optional
            Keypoints only: class id -> per-keypoint OKS sigmas. Defaults to the COCO
            person sigmas for 17-keypoint skeletons, else ``core.qc.DEFAULT_KEYPOINT_SIGMA`` each.
        method : {"raster", "shapely"}
            Polygons only: the pycocotools raster IoU (COCO's ``segm`` rule), or the
            exact area IoU with shapely (must be installed).
        add_layers : bool
            Add a "disagreement" Labels layer (where annotators differ; unmatched objects
            highlighted) and a "consensus" layer (majority vote / matched consensus) with
            :meth:`show_agreement_maps`. Pass False when calling from a worker thread and
            show the maps from the GUI thread.

        Returns
        -------
        dict
            The metrics per compared pair (see
            :func:`~napari_labelsuite.core.qc.semantic_agreement`,
            :func:`~napari_labelsuite.core.qc.instance_agreement`,
            :func:`~napari_labelsuite.core.qc.match_boxes`), kept for the report, plus
            ``maps`` (disagreement and consensus arrays) for masks.
        """
        lays = [self._qc_layer(x) for x in layers]
        if len(lays) < 2:
            raise SessionError("compare at least two layers", field="layers", value=len(lays))
        if kind is None:
            kind = role_of(lays[0]) or ("boxes" if _is_shapes(lays[0]) else "instances")
        if kind not in COMPARE_KINDS:
            raise SessionError(f"kind must be one of {COMPARE_KINDS}", field="kind", value=kind)
        names = [x.name for x in lays]
        tax_names = {c.id: c.name for c in self.taxonomy}
        pairs: list[PairAgreement] = []
        fleiss: float | None = None
        maps: dict[str, Any] = {}
        if kind == "boxes":
            lists = [self.boxes_list(x) for x in lays]
            for i, other in enumerate(lists[1:], start=1):
                m = match_boxes(lists[0], other, iou_threshold)
                metrics = {**m.summary(), "per_class": m.extra["per_class"]}
                pairs.append(PairAgreement(f"{names[0]} vs {names[i]}", kind, metrics))
        elif kind == "rotated":
            rlists = [self.rotated_boxes_list(x) for x in lays]
            for i, other in enumerate(rlists[1:], start=1):
                m = match_boxes(rlists[0], other, iou_threshold, rotated=True)
                metrics = {**m.summary(), "per_class": m.extra["per_class"]}
                pairs.append(PairAgreement(f"{names[0]} vs {names[i]}", kind, metrics))
        elif kind == "keypoints":
            klists = [self.keypoints_list(x) for x in lays]
            sig = self._keypoint_sigmas(klists, sigmas)
            for i, other in enumerate(klists[1:], start=1):
                m = match_keypoint_sets(klists[0], other, sig, iou_threshold)
                metrics = {**m.summary(), "per_class": m.extra["per_class"]}
                pairs.append(PairAgreement(f"{names[0]} vs {names[i]}", kind, metrics))
        elif kind == "polygons":
            plists = [[polygon_from_record(d) for d in self.polygons_list(x)] for x in lays]
            for i, polys in enumerate(plists[1:], start=1):
                m = match_polygons(plists[0], polys, iou_threshold, method=method)
                metrics = {
                    **m.summary(),
                    "per_class": m.extra["per_class"],
                    "matched": [[int(x), int(y)] for x, y in zip(m.a, m.b)],
                    "unmatched_a": m.unmatched_a.tolist(),
                    "unmatched_b": m.unmatched_b.tolist(),
                }
                pairs.append(PairAgreement(f"{names[0]} vs {names[i]}", kind, metrics))
        else:
            data = [_layer_data(x) for x in lays]
            shape = tuple(data[0].shape)
            for x, d in zip(names[1:], data[1:]):
                if tuple(d.shape) != shape:
                    raise QCError(
                        f"layers must have the shape of '{names[0]}', {shape}",
                        where=f"layer '{x}'",
                        field="shape",
                        value=tuple(d.shape),
                    )
            for i, d in enumerate(data[1:], start=1):
                if kind == "semantic":
                    pair = semantic_agreement(data[0], d, names=tax_names)
                else:
                    pair = instance_agreement(data[0], d)
                pairs.append(PairAgreement(f"{names[0]} vs {names[i]}", kind, pair))
            if kind == "semantic" and len(data) > 2:
                fleiss = fleiss_kappa(data)
            maps = self._agreement_maps(kind, lays, data, iou_threshold)
        self._qc_agreement = AgreementResult(tuple(pairs), fleiss, tuple(names), kind)
        self._record(
            "compare_layers", layers=names, kind=kind, iou_threshold=iou_threshold,
            add_layers=add_layers, **({"method": method} if kind == "polygons" else {}),
        )  # fmt: skip
        result = self._qc_agreement.as_dict()
        if kind in ("semantic", "instances"):
            result["maps"] = maps
            if add_layers:
                self.show_agreement_maps(result)
        return result

    def _keypoint_sigmas(self, klists: list, given: dict[int, Any] | None) -> dict[int, Any]:
        """Per-class OKS sigmas: the given ones, else COCO person or a uniform default."""
        for kl in klists:
            for k in kl:
                self._skeleton_of(int(k.class_id), f"class {k.class_id}")
        return keypoint_sigmas([k for kl in klists for k in kl], self.taxonomy, given)

    def _agreement_maps(self, kind: str, lays: list, data: list, thr: float) -> dict[str, Any]:
        if kind == "semantic":
            return {"disagreement": semantic_disagreement(data), "kind": kind,
                    "consensus": majority_vote(data), "like": lays[0]}  # fmt: skip
        match = instance_agreement(data[0], data[1], thresholds=[thr])["matches"][0]
        objects = {}
        if role_of(lays[0]) == "instances":
            objects = self.objects(lays[0])
        cons = consensus_instances(data, thr)
        present = set(np.unique(cons).tolist()) - {0}
        return {
            "disagreement": instance_disagreement(data[0], data[1], match),
            "consensus": cons,
            "objects": {k: v for k, v in objects.items() if k in present},
            "kind": kind,
            "like": lays[0],
        }

    def show_agreement_maps(self, result: dict[str, Any]) -> list:
        """Add the "disagreement" and "consensus" layers of a :meth:`compare_layers` result.

        Disagreement codes: 1 (yellow) annotators differ / boundary differs, 2 (red) object
        only in the first layer, 3 (magenta) object only in the second.
        """
        from napari.layers import Labels

        maps = result.get("maps")
        if not maps:
            raise SessionError("the result holds no maps", field="maps", value=None)
        like = maps["like"]
        geo = {"scale": like.scale, "translate": like.translate}
        for name in ("disagreement", "consensus"):
            if name in self.layers:
                self.layers.remove(name)
        colors = {None: "transparent", 0: "transparent", 1: "yellow", 2: "red", 3: "magenta"}
        dis = Labels(maps["disagreement"], name="disagreement", colormap=colors, opacity=0.8,
                     **geo)  # fmt: skip
        self.layers.append(dis)
        if maps["kind"] == "semantic":
            cons = self.add_semantic_layer(maps["consensus"], name="consensus", **geo)
        else:
            cons = self.add_instance_layer(
                maps["consensus"], name="consensus", objects=maps["objects"], **geo
            )
        self._record("show_agreement_maps", layers=[dis.name, cons.name])
        return [dis, cons]

    def compare_annotations(self, annotations: list) -> dict[str, Any]:
        """Agreement of ImageAnnotations of one image (e.g. loaded from several annotators)."""
        result = agreement_result(annotations, self.taxonomy)
        self._qc_agreement = result
        self._record("compare_annotations", n=len(annotations))
        return result.as_dict()

    # -- report ---------------------------------------------------------------------------
    def qc_report(self) -> dict[str, Any]:
        """The report as a dict: findings, their counts, review status, classes, agreement."""
        ann = self.to_annotation()
        if self._qc_classes is not None:  # a dataset check already summarised the classes
            classes, findings = self._qc_classes, list(self._qc_findings)
        else:
            classes, imbalance = class_summary([ann], self.taxonomy)
            findings = self._qc_findings + imbalance
        report: dict[str, Any] = {
            "title": f"Quality control: {ann.image_name}",
            "image": {"name": ann.image_name, "shape": "x".join(map(str, ann.shape))},
            "summary": dict(Counter(f.check for f in findings)),
            "review": self.review_summary(),
            "classes": classes,
            "findings": findings_frame(findings),
        }
        if self._qc_agreement is not None:
            report["agreement"] = self._qc_agreement.as_dict()
        team = getattr(self, "_team_agreement", None)  # AdjudicationMixin
        if team is not None:
            report["team_agreement"] = team.report_section(chart=True)
        effort = self.effort()  # EffortMixin: actions and seconds per object, by route
        if len(effort):
            report["effort"] = effort
        return report

    def export_qc_report(self, path: str | Path, fmt: str | None = None) -> list[Path]:
        """Write the QC report: ``<stem>.json`` plus ``<stem>.html`` (or ``.md``)."""
        written = write_report(self.qc_report(), path, fmt)
        self._record("export_qc_report", path=str(path), files=[str(p) for p in written])
        return written
