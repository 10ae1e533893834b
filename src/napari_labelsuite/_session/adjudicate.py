"""Session part: agreement by annotator and adjudication of team labels.

The reviewed label image is the dataset's normal annotation of the image shown (its
managed instance layer); annotators' own labels are read, never written. In *review mode*
(:meth:`AdjudicationMixin.review`, entered by :meth:`~AdjudicationMixin.show_annotators`
and :meth:`~AdjudicationMixin.consensus`) images load and save that reviewed annotation
instead of the current annotator's labels. Every decision is
one undo step of the instance layer (pixels and table), one provenance entry, one effort
record (route ``adjudicate``) and one line of ``decisions.jsonl`` beside the assignments.

Examples
--------
In napari's console (the session is ``labelsuite``)::

    labelsuite.agreement_by_annotator(chart="agreement.png")   # pairs x classes, flags
    labelsuite.show_annotators("ana", "bob", mode="difference")
    labelsuite.consensus("matching")                           # a starting point
    labelsuite.adjudicate_object(7, "accept_b", source="b")    # B's object 7 wins
    labelsuite.save_adjudicated()                              # the reviewed truth
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..core.annotation import ImageAnnotation, ObjectInfo
from ..core.errors import SessionError, TeamError
from ..core.instances.edits import InstanceEdit, Patch
from ..core.team.adjudicate import (
    DIFF_CODES,
    DecisionLog,
    ObjectDecision,
    decide_object,
    decisions_path,
    difference_map,
)
from ..core.team.adjudicate import consensus as core_consensus
from ..core.team.agreement import (
    DEFAULT_F1_THRESHOLD,
    DEFAULT_KAPPA_THRESHOLD,
    TeamAgreement,
    agreement_by_annotator,
    dataset_team_annotations,
)
from .host import SessionPart
from .instances import _TableUndo, write_edit_pixels

__all__ = ["DIFF_COLORS", "AdjudicationMixin"]

#: colours of the difference overlay, by :data:`DIFF_CODES`
DIFF_COLORS = {None: "transparent", 0: "transparent", 1: "magenta", 2: "cyan", 3: "yellow"}
_MODES = ("side_by_side", "difference")
#: gap in pixels between the two annotators' labels shown side by side
_GAP = 10


class AdjudicationMixin(SessionPart):
    """Agreement by annotator, two annotators side by side or as a difference, decisions."""

    def _init_mixin(self) -> None:
        self._team_agreement: TeamAgreement | None = None
        #: the pair shown: {"key", "a", "b", "anns": (A, B), "mode", "layers"}
        self._adjudication: dict[str, Any] | None = None
        self._reviewing = False

    # -- review mode ------------------------------------------------------------------------
    @property
    def reviewing(self) -> bool:
        """True in review mode: images show and save the reviewed annotation (the
        dataset's own), not the current annotator's labels."""
        return self._reviewing

    @property
    def team_mode(self) -> bool:
        """Per-annotator loading and saving (TeamMixin), off in review mode."""
        if self._reviewing:
            return False
        return bool(getattr(super(), "team_mode", False))

    def _team_store_labels(self, st: Any) -> list[str]:
        """In review mode a store shows its reviewed label images (no annotator's), empty
        ones (one per role) when there are none yet, which the store writes only with the
        first save holding an edit; else TeamMixin's choice."""
        if not self._reviewing:
            parent = getattr(super(), "_team_store_labels", None)
            return list(parent(st)) if parent is not None else list(st.label_names())
        from ..core.team.labels import parse_annotator_label_name

        base = [n for n in st.label_names() if parse_annotator_label_name(n)[1] is None]
        if not base and not st.read_only:
            top = max(self.taxonomy.ids(), default=0)
            dtype = "uint8" if top < 256 else "uint32"
            st.create_labels("semantic", dtype, role="semantic", deferred=True)
            st.create_labels("instances", "uint32", role="instances", deferred=True)
            base = [n for n in st.label_names() if parse_annotator_label_name(n)[1] is None]
        return base

    def review(self, on: bool = True) -> bool:
        """Enter (or leave) review mode; the image shown is saved, then shown again.

        :meth:`show_annotators` and :meth:`consensus` enter it by themselves.
        """
        on = bool(on)
        if on == self._reviewing:
            return on
        if self.dataset is not None and self.index is not None:
            self.save_current()
        self._reviewing = on
        if not on:
            self._drop_adjudication_layers()
        if self.dataset is not None and self.index is not None:
            self._show(self.index)
        self._record("review", on=on)
        return on

    # -- agreement ------------------------------------------------------------------------
    @property
    def team_agreement(self) -> TeamAgreement | None:
        """The last :meth:`agreement_by_annotator` result (shown in the QC report)."""
        return self._team_agreement

    def agreement_by_annotator(
        self,
        threshold: float | None = None,
        chart: str | Path | None = None,
        *,
        f1_threshold: float | None = None,
        annotators: list[str] | None = None,
        bucket: str | int = "day",
        iou_threshold: float = 0.5,
        csv: str | Path | None = None,
        progress: Any = None,
    ) -> TeamAgreement:
        """Agreement per annotator pair and class on the open dataset's overlap images.

        Parameters
        ----------
        threshold : float, optional
            Kappa below which annotators, pairs and classes are flagged (default 0.6).
        chart : path, optional
            Also write the chart (``.png`` or ``.svg``).
        f1_threshold : float, optional
            Detection F1 below which they are flagged (default 0.7).
        annotators : list of str, optional
            Only these annotators.
        bucket : "day" or int
            Over time per day of the saves, or per N images.
        csv : path, optional
            Also write the per-pair, per-class table as CSV.
        progress : callable, optional
            ``progress(done, total)`` per image.

        Raises
        ------
        TeamError
            No overlap image with two annotators' labels, an unknown annotator, labels of
            another shape (nothing is written then).
        """
        ds = self._require_dataset()
        anns, times = dataset_team_annotations(ds, annotators)
        result = agreement_by_annotator(
            anns,
            self.taxonomy if len(self.taxonomy) else None,
            times=times,
            iou_threshold=iou_threshold,
            kappa_threshold=DEFAULT_KAPPA_THRESHOLD if threshold is None else threshold,
            f1_threshold=DEFAULT_F1_THRESHOLD if f1_threshold is None else f1_threshold,
            bucket=bucket,
            progress=progress,
        )
        written = []
        if chart is not None:
            from ..core.team.chart import agreement_chart

            written.append(str(agreement_chart(result, chart)))
        if csv is not None:
            written.append(str(result.write_csv(csv)))
        self._team_agreement = result
        self._record(
            "agreement_by_annotator",
            images=len(result.images),
            flags=len(result.flags),
            files=written,
        )
        return result

    def agreement_chart(self, path: str | Path, metric: str = "kappa") -> Path:
        """Write the chart of the last :meth:`agreement_by_annotator` (``.png``/``.svg``)."""
        from ..core.team.chart import agreement_chart

        if self._team_agreement is None:
            raise SessionError(
                "compute the agreement first (agreement_by_annotator)", field="agreement"
            )
        written = agreement_chart(self._team_agreement, path, metric)
        self._record("agreement_chart", path=str(written), metric=metric)
        return written

    def team_annotators(self) -> list[str]:
        """Everyone assigned to the open dataset or with saved labels in it (sorted)."""
        from ..core.team.agreement import known_annotators

        ds = self.dataset
        if ds is None:
            return []
        return known_annotators(ds, getattr(self, "assignments", None))  # TeamMixin

    # -- showing two annotators -------------------------------------------------------------
    def _annotator_pair(self, a: str, b: str) -> tuple[str, ImageAnnotation, ImageAnnotation]:
        from ..core.team.labels import load_annotator_annotation

        ds = self._require_dataset()
        item = self.current
        if item is None or self._index is None:
            raise SessionError("no image is shown: open a dataset image first", field="index")
        if a == b:
            raise TeamError("pick two different annotators", field="annotators", value=(a, b))
        known = self.team_annotators()
        out = []
        for who in (a, b):
            if who not in known:
                raise TeamError(
                    f"unknown annotator {who!r}: this dataset's annotators are {known}",
                    path=ds.annotation_dir,
                    field="annotator",
                    value=who,
                )
            ann = load_annotator_annotation(ds, self._index, who)
            if ann is None:
                raise TeamError(
                    f"{who} has not labelled this image", where=item.key, field="annotator",
                    value=who,
                )  # fmt: skip
            out.append(ann)
        shape = tuple(self.to_annotation().shape)
        for who, ann in zip((a, b), out):
            if tuple(ann.shape) != shape:
                raise TeamError(
                    f"{who}'s labels have shape {tuple(ann.shape)}, the image {shape}",
                    where=item.key,
                    field="shape",
                    value=tuple(ann.shape),
                )
        return item.key, out[0], out[1]

    def _drop_adjudication_layers(self) -> None:
        if self._adjudication is None:
            return
        for layer in self._adjudication["layers"]:
            if layer in self.layers:
                self.layers.remove(layer)
        self._adjudication = None

    def show_annotators(self, a: str, b: str, mode: str = "side_by_side") -> list[Any]:
        """Show annotators ``a`` and ``b``'s labels of the image shown.

        ``"side_by_side"``: each annotator's instances as a Labels layer, B's (with a view
        of the image) shifted to the right of A's. ``"difference"``: one Labels layer of
        where they disagree (:data:`DIFF_CODES`: magenta only A, cyan only B, yellow class
        differs). The pair is remembered for :meth:`adjudicate_object`.

        Raises
        ------
        TeamError
            An unknown annotator, one without labels of this image, labels of another shape.
        """
        from napari.layers import Image, Labels

        if mode not in _MODES:
            raise TeamError(f"mode must be one of {_MODES}", field="mode", value=mode)
        key, ann_a, ann_b = self._annotator_pair(a, b)
        diff = difference_map(ann_a, ann_b, names=(a, b))  # checks both first
        self.review(True)
        self._drop_adjudication_layers()
        added: list[Any] = []
        if mode == "side_by_side":
            width = int(ann_a.shape[-1])
            shift = [0.0] * (len(ann_a.shape) - 1) + [float(width + _GAP)]
            for who, ann, move in ((a, ann_a, None), (b, ann_b, shift)):
                data = ann.instances if ann.instances is not None else ann.semantic
                kw: dict[str, Any] = {} if move is None else {"translate": move}
                added.append(Labels(data, name=f"{who} (A)" if move is None else f"{who} (B)",
                                    opacity=0.6, **kw))  # fmt: skip
            image = self.image
            if image is not None:
                added.insert(0, Image(image.data, name=f"{key} (B)", rgb=image.rgb,
                                      translate=shift))  # fmt: skip
        else:
            added.append(
                Labels(diff, name=f"difference {a} / {b}", colormap=DIFF_COLORS, opacity=0.7)
            )
        for layer in added:
            self.layers.append(layer)
        getattr(self, "_item_layers", []).extend(
            added
        )  # dropped with the image's layers on the next one
        self._adjudication = {
            "key": key,
            "a": a,
            "b": b,
            "anns": (ann_a, ann_b),
            "mode": mode,
            "layers": added,
            # a lazy map (store labels) is not read whole just to count it
            "counts": {DIFF_CODES[c]: int((diff == c).sum()) for c in DIFF_CODES}
            if isinstance(diff, np.ndarray)
            else None,
        }
        self._record("show_annotators", a=a, b=b, mode=mode, image=key)
        return added

    @property
    def adjudication(self) -> dict[str, Any] | None:
        """The annotator pair shown (``key``, ``a``, ``b``, ``mode``, disagreement
        ``counts``), or None."""
        if self._adjudication is None:
            return None
        return {k: v for k, v in self._adjudication.items() if k not in ("anns", "layers")}

    def object_at(self, position: Any) -> tuple[str, int] | None:
        """``(source, object id)`` of the annotators' object at ``position`` (data
        coordinates of the image shown): A's object when A has one there, else B's; None
        when neither has. For picking the object to decide on in the difference view."""
        adj = self._require_pair()
        idx = tuple(int(round(float(v))) for v in position)
        ann_a, ann_b = adj["anns"]
        shape = tuple(ann_a.shape)
        if len(idx) != len(shape) or any(not 0 <= i < n for i, n in zip(idx, shape)):
            return None
        for src, ann in (("a", ann_a), ("b", ann_b)):
            if ann.instances is not None:
                v = int(np.asarray(ann.instances[idx]))
                if v:
                    return src, v
        return None

    def _require_pair(self) -> dict[str, Any]:
        adj = self._adjudication
        item = self.current
        if adj is None or item is None or adj["key"] != item.key:
            raise SessionError(
                "show two annotators of this image first (show_annotators)", field="annotators"
            )
        return adj

    # -- decisions ----------------------------------------------------------------------------
    def _write_reviewed(
        self,
        edit: InstanceEdit,
        rows: dict[int, ObjectInfo],
        removed: list[int],
        action: str,
        *,
        replace_table: bool = False,
    ) -> Any:
        """Write ``edit`` into the reviewed instance layer as one undo step (with table)."""
        layer = self._reviewed_layer()
        before = self.objects(layer)
        after = {} if replace_table else {k: v for k, v in before.items() if k not in removed}
        after.update(rows)
        self._check_objects(after)  # a class outside the taxonomy: refused before any pixel
        undo = _TableUndo.of(self, layer)
        top = undo.top() if undo is not None else None
        write_edit_pixels(layer, edit)
        if self.objects(layer) != after:
            self.set_objects(after, layer)
        if undo is not None:
            undo.record(top, before, after, action)
        return layer

    def _reviewed_layer(self) -> Any:
        """The managed instance layer holding the reviewed labels (never a view layer)."""
        layer = self.instances
        if layer is None:
            raise SessionError(
                "the image shown has no instance layer for the reviewed labels",
                field="instances",
            )
        return self.instance_target(layer)

    def _decision_log(self) -> DecisionLog:
        return DecisionLog(decisions_path(self._require_dataset()))

    def adjudicate_object(
        self, object_id: int, decision: str, source: str = "a"
    ) -> ObjectDecision:
        """Decide on one object of the annotator pair shown (:meth:`show_annotators`).

        Parameters
        ----------
        object_id : int
            An instance id in annotator ``source``'s labels.
        decision : {"accept_a", "accept_b", "merge", "redraw"}
            Which version the reviewed labels keep: A's, B's, their union (class of
            ``source``'s object), or none (the region is cleared for the reviewer to paint).
        source : {"a", "b"} or an annotator name

        One undo step of the reviewed instance layer; recorded in provenance, the effort
        log and ``decisions.jsonl``.

        Raises
        ------
        TeamError
            Unknown decision, source or object id (nothing changes).
        """
        adj = self._require_pair()
        src = {adj["a"]: "a", adj["b"]: "b"}.get(source, source)
        ann_a, ann_b = adj["anns"]
        layer = self._reviewed_layer()
        d = decide_object(
            layer.data,
            self.objects(layer),
            ann_a,
            ann_b,
            object_id,
            decision,
            source=src,
            reviewer=self.user,
            names=(adj["a"], adj["b"]),
        )
        self._write_reviewed(d.edit, d.objects, d.removed, "adjudicate_object")
        details = {
            "annotators": [adj["a"], adj["b"]],
            "source": adj[src],
            "object_id": int(object_id),
            "a_id": d.a_id,
            "b_id": d.b_id,
            "reviewed_id": d.reviewed_id,
            "class_id": d.class_id,
        }
        self._record("adjudicate_object", decision=decision, image=adj["key"], **details)
        self._decision_log().append(self.user, adj["key"], decision, **details)
        self._log_effort(
            "adjudicate",
            decision,
            layer=layer,
            object_id=d.reviewed_id,
            class_id=d.class_id,
            finished=d.reviewed_id is not None,
        )
        return d

    def consensus(
        self,
        method: str = "majority",
        *,
        min_annotators: int | None = None,
        iou_threshold: float = 0.5,
        tie: int | str = 0,
        annotators: list[str] | None = None,
    ) -> ImageAnnotation:
        """Replace the reviewed labels of the image shown by the annotators' consensus.

        See :func:`napari_labelsuite.core.team.consensus` for ``method`` ("majority" or
        "matching"), ``min_annotators``, ``iou_threshold`` and ``tie``. The annotators
        are those assigned to the image (or all with labels of it). One undo step of the
        reviewed instance layer (and of the class layer, when the consensus has one).

        Raises
        ------
        TeamError
            Fewer than two annotators' labels of this image, or bad parameters.
        """
        ds = self._require_dataset()
        item = self.current
        if item is None:
            raise SessionError("no image is shown: open a dataset image first", field="index")
        anns, _ = dataset_team_annotations(ds, annotators, keys=[item.key])
        by = anns.get(item.key, {})
        if len(by) < 2:
            raise TeamError(
                "fewer than two annotators labelled this image: no consensus",
                where=item.key,
                field="annotators",
                value=sorted(by),
            )
        result = core_consensus(
            by, method, min_annotators=min_annotators, iou_threshold=iou_threshold, tie=tie
        )
        self.review(True)
        layer = self.instances
        if result.instances is not None and layer is not None:
            full = tuple(slice(0, s) for s in result.shape)
            edit = InstanceEdit(patches=[Patch(full, np.asarray(result.instances))])
            self._write_reviewed(edit, result.objects, [], "consensus", replace_table=True)
        sem = self.semantic
        if result.semantic is not None and sem is not None:
            changed = np.nonzero(np.asarray(sem.data) != result.semantic)
            with sem.block_history():
                sem.data_setitem(changed, result.semantic[changed].astype(sem.data.dtype))
        meta = result.metadata["consensus"]
        self._record("consensus", image=item.key, **meta)
        self._decision_log().append(self.user, item.key, "consensus", **meta)
        self._log_effort("adjudicate", "consensus", layer=layer, objects=sorted(result.objects))
        return result

    def save_adjudicated(self) -> str:
        """Save the reviewed labels of the image shown as the dataset's annotation.

        The ground truth the dataset exports; annotators' own labels are not touched.
        """
        ds = self._require_dataset()
        item = self.current
        if item is None or self._index is None:
            raise SessionError("no image is shown: open a dataset image first", field="index")
        if not self._reviewing:
            raise SessionError(
                "nothing is under review: show two annotators or make a consensus first "
                "(or call review())",
                field="reviewing",
                value=False,
            )
        if item.kind == "store":  # the open store's reviewed label images
            self.save_current(force=True)
            path: Any = item.path
        else:
            ann = self.to_annotation(image_name=item.key)
            ann.metadata["adjudicated"] = {"reviewer": self.user}
            try:
                path = ds.save_annotation(self._index, ann)
            except OSError as exc:
                raise SessionError(
                    f"cannot save: {exc.strerror or exc}; the previous annotation is unchanged",
                    path=exc.filename or ds.sidecar_path(self._index),
                ) from exc
        self._record("save_adjudicated", path=str(path), image=item.key)
        self._decision_log().append(self.user, item.key, "save", path=str(path))
        return str(path)
