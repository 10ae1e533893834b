"""Quality control: agreement metrics, matching, consistency checks and reports.

The public functions, gathered from the modules of this package:

* semantic agreement (:mod:`.metrics`): :func:`confusion`, :func:`cohen_kappa`,
  :func:`fleiss_kappa`, :func:`class_iou_dice`, :func:`semantic_agreement`,
  :func:`majority_vote`;
* instances and boxes (:mod:`.matching`): :func:`match_instances`, :func:`match_boxes`,
  :func:`instance_agreement`, :func:`average_precision`, :func:`instance_disagreement`,
  :func:`consensus_instances`;
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

from collections.abc import Sequence
from typing import Any

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
) -> AgreementResult:
    """Agreement of two or more annotations of one image as an :class:`AgreementResult`.

    See :func:`agreement` for the parts compared; pairs are named ``"<image> vs #i"``
    (semantic) and ``"#i"`` (instances, boxes).
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
    return AgreementResult(tuple(pairs), fleiss)
