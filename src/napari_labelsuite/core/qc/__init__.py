"""Quality control: agreement metrics, matching, consistency checks and reports.

The public functions, gathered from the modules of this package:

* semantic agreement (:mod:`.metrics`): :func:`confusion`, :func:`cohen_kappa`,
  :func:`fleiss_kappa`, :func:`class_iou_dice`, :func:`semantic_agreement`,
  :func:`majority_vote`;
* instances and boxes (:mod:`.matching`): :func:`match_instances`, :func:`match_boxes`,
  :func:`instance_agreement`, :func:`average_precision`, :func:`instance_disagreement`,
  :func:`consensus_instances`; polygons (:mod:`.polygon_matching`): :func:`match_polygons`;
* big arrays (:mod:`.pairs`): :func:`pair_counts`, the sparse, block-wise pair table
  everything above is built on;
* consistency (:mod:`.checks`): :func:`check`, :func:`check_dataset`,
  :func:`class_summary`, :class:`Finding`;
* reports (:mod:`.report`): :func:`write_report`;
* :func:`agreement` / :func:`agreement_result`: everything above for two or more
  annotations of one image; :class:`AgreementResult` (:mod:`.result`), the one result type
  of agreement that the session, the QC widget and the CLI read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..annotation import ImageAnnotation
from ..errors import QCError
from .checks import CHECKS, Finding, check, check_dataset, class_summary, findings_frame
from .matching import (
    COCO_THRESHOLDS,
    DISAGREE_CODES,
    InstanceOverlaps,
    MatchResult,
    average_precision,
    consensus_instances,
    instance_agreement,
    instance_disagreement,
    instance_overlaps,
    match_boxes,
    match_instances,
    match_keypoint_sets,
)
from .metrics import (
    class_iou_dice,
    cohen_kappa,
    confusion,
    fleiss_kappa,
    fleiss_kappa_from_counts,
    kappa_from_confusion,
    majority_vote,
    semantic_agreement,
    semantic_disagreement,
)
from .pairs import PairCounts, pair_counts
from .polygon_matching import PolygonObject, match_polygons, polygon_iou_pairs, polygon_objects
from .report import svg_bar_chart, write_report
from .result import AgreementResult, PairAgreement

__all__ = [
    "CHECKS",
    "AgreementResult",
    "Finding",
    "PairAgreement",
    "agreement",
    "agreement_result",
    "check",
    "check_dataset",
    "class_summary",
    "findings_frame",
    "svg_bar_chart",
    "write_report",
    "COCO_THRESHOLDS",
    "DISAGREE_CODES",
    "InstanceOverlaps",
    "MatchResult",
    "PairCounts",
    "average_precision",
    "class_iou_dice",
    "cohen_kappa",
    "confusion",
    "consensus_instances",
    "fleiss_kappa",
    "fleiss_kappa_from_counts",
    "instance_agreement",
    "instance_disagreement",
    "instance_overlaps",
    "kappa_from_confusion",
    "majority_vote",
    "match_boxes",
    "match_keypoint_sets",
    "match_polygons",
    "PolygonObject",
    "polygon_iou_pairs",
    "polygon_objects",
    "keypoint_sigmas",
    "DEFAULT_KEYPOINT_SIGMA",
    "match_instances",
    "pair_counts",
    "semantic_agreement",
    "semantic_disagreement",
]


def agreement(
    annotations: Sequence[ImageAnnotation],
    taxonomy: Any = None,
    iou_thresholds: Sequence[float] = tuple(COCO_THRESHOLDS),
) -> dict[str, Any]:
    """Agreement of two or more annotations of the same image, part by part.

    The first annotation is the reference; every other one is compared with it. This is
    :func:`agreement_result` as a plain dict (:meth:`AgreementResult.as_dict`).

    Returns
    -------
    dict
        ``semantic``: per other annotation the :func:`semantic_agreement` result (plus
        ``fleiss_kappa`` over all when there are more than two); ``instances``: per other
        annotation the :func:`instance_agreement` result; ``boxes``: per other annotation
        the :func:`match_boxes` summary and per-class table at the first threshold, a
        ``table`` over all thresholds and the COCO-style ``ap`` (boxes in list order as the
        ranking). Parts missing from any annotation are left out.
    """
    return agreement_result(annotations, taxonomy, iou_thresholds).as_dict()


def agreement_result(
    annotations: Sequence[ImageAnnotation],
    taxonomy: Any = None,
    iou_thresholds: Sequence[float] = tuple(COCO_THRESHOLDS),
    polygon_method: str = "raster",
) -> AgreementResult:
    """Agreement of two or more annotations of one image as an :class:`AgreementResult`.

    See :func:`agreement` for the parts compared; pairs are named ``"<image> vs #i"``
    (semantic) and ``"#i"`` (instances, boxes, rotated boxes, keypoints, polygons).
    Polygons are matched by :func:`match_polygons` with ``polygon_method`` (``"raster"``:
    pycocotools' pixel rule, ``"shapely"``: exact areas).
    """
    anns = list(annotations)
    if len(anns) < 2:
        raise QCError(
            "agreement needs at least two annotations", field="annotations", value=len(anns)
        )
    shape = anns[0].shape
    for i, a in enumerate(anns[1:], start=1):
        if a.shape != shape:
            raise QCError(
                f"annotations must share the image shape {shape}",
                where=a.image_name,
                field=f"annotations[{i}].shape",
                value=a.shape,
            )
    names = {c.id: c.name for c in taxonomy} if taxonomy is not None else None
    ref, others = anns[0], anns[1:]
    pairs: list[PairAgreement] = []
    fleiss: float | None = None
    if all(a.semantic is not None for a in anns):
        pairs += [
            PairAgreement(
                f"{ref.image_name} vs #{i}",
                "semantic",
                semantic_agreement(ref.semantic, a.semantic, names=names),
            )
            for i, a in enumerate(others, start=1)
        ]
        if len(anns) > 2:
            fleiss = fleiss_kappa([a.semantic for a in anns])
    if all(a.instances is not None for a in anns):
        pairs += [
            PairAgreement(
                f"#{i}",
                "instances",
                instance_agreement(ref.instances, a.instances, iou_thresholds),
            )
            for i, a in enumerate(others, start=1)
        ]
    if all(a.boxes for a in anns):
        for i, a in enumerate(others, start=1):
            ms = [match_boxes(ref.boxes, a.boxes, float(t)) for t in iou_thresholds]
            metrics = {
                **ms[0].summary(),
                "ap": average_precision(ref.boxes, a.boxes, iou_thresholds=iou_thresholds)["ap"],
                "table": pd.DataFrame([m.summary() for m in ms]),
                "per_class": ms[0].extra["per_class"],
            }
            pairs.append(PairAgreement(f"#{i}", "boxes", metrics))
    thr = float(iou_thresholds[0])
    if all(a.rotated for a in anns):
        for i, a in enumerate(others, start=1):
            m = match_boxes(ref.rotated, a.rotated, thr, rotated=True)
            metrics = {**m.summary(), "per_class": m.extra["per_class"]}
            pairs.append(PairAgreement(f"#{i}", "rotated", metrics))
    if all(a.keypoints for a in anns):
        sigmas = keypoint_sigmas([k for a in anns for k in a.keypoints], taxonomy)
        for i, a in enumerate(others, start=1):
            m = match_keypoint_sets(ref.keypoints, a.keypoints, sigmas, thr)
            metrics = {**m.summary(), "per_class": m.extra["per_class"]}
            pairs.append(PairAgreement(f"#{i}", "keypoints", metrics))
    if all(a.polygons for a in anns):
        for i, a in enumerate(others, start=1):
            m = match_polygons(ref.polygons, a.polygons, thr, method=polygon_method)
            metrics = {**m.summary(), "per_class": m.extra["per_class"]}
            pairs.append(PairAgreement(f"#{i}", "polygons", metrics))
    return AgreementResult(tuple(pairs), fleiss)


#: OKS sigma of every keypoint of a class whose skeleton is not the COCO person one
DEFAULT_KEYPOINT_SIGMA = 0.1


def keypoint_sigmas(
    keypoints: Sequence[Any], taxonomy: Any = None, given: Mapping[int, Any] | None = None
) -> dict[int, np.ndarray]:
    """Per-class OKS sigmas for the classes of ``keypoints``.

    ``given`` wins; else 17 keypoints get pycocotools' COCO person sigmas and any other
    count ``DEFAULT_KEYPOINT_SIGMA`` each (the count is the class skeleton's when the
    taxonomy defines one, else that of the first set of the class).
    """
    from ..objects.keypoints import COCO_PERSON_SIGMAS

    out: dict[int, np.ndarray] = {}
    for k in keypoints:
        cid = int(k.class_id)
        if cid in out:
            continue
        if given is not None and cid in given:
            out[cid] = np.asarray(given[cid], float)
            continue
        sk = taxonomy[cid].skeleton if taxonomy is not None and cid in taxonomy else None
        n = len(sk.names) if sk is not None else len(k.xyv)
        out[cid] = COCO_PERSON_SIGMAS if n == 17 else np.full(n, DEFAULT_KEYPOINT_SIGMA)
    return out
