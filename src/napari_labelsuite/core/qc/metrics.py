"""Agreement between semantic (class-id) masks: confusion, IoU, Dice, Cohen's and Fleiss' kappa.

All functions take label images of any dimensionality and size (numpy, zarr, dask) and read
them block by block through :func:`~napari_labelsuite.core.qc.pairs.pair_counts`. Pixel
counts are int64 throughout.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import QCError
from .pairs import iter_blocks, pair_counts

__all__ = [
    "class_iou_dice",
    "cohen_kappa",
    "confusion",
    "fleiss_kappa",
    "fleiss_kappa_from_counts",
    "kappa_from_confusion",
    "majority_vote",
    "semantic_agreement",
    "semantic_disagreement",
]


def confusion(a: Any, b: Any, labels: Sequence[int] | None = None) -> np.ndarray:
    """Confusion matrix of two class masks (rows: ``a``, columns: ``b``).

    Same convention as ``sklearn.metrics.confusion_matrix(a.ravel(), b.ravel(), labels=...)``:
    ``labels`` defaults to the sorted union of the values present, and pixels whose value
    is not in ``labels`` (in either image) are ignored.

    Returns
    -------
    ndarray of int64, shape ``(len(labels), len(labels))``
    """
    cm, _ = _confusion_with_labels(a, b, labels)
    return cm


def _confusion_with_labels(
    a: Any, b: Any, labels: Sequence[int] | None
) -> tuple[np.ndarray, np.ndarray]:
    pc = pair_counts(a, b, include_background=True)
    if labels is None:
        lab = np.union1d(pc.a, pc.b)
    else:
        lab = np.asarray(list(labels), dtype=np.int64)
        if lab.size == 0:
            raise QCError("labels must not be empty", field="labels", value=list(labels))
        if len(np.unique(lab)) != lab.size:
            raise QCError("labels must be distinct", field="labels", value=lab.tolist())
    order = np.argsort(lab, kind="stable")
    sorted_lab = lab[order]
    ia = np.searchsorted(sorted_lab, pc.a)
    ib = np.searchsorted(sorted_lab, pc.b)
    ia_c, ib_c = np.minimum(ia, len(lab) - 1), np.minimum(ib, len(lab) - 1)
    keep = (sorted_lab[ia_c] == pc.a) & (sorted_lab[ib_c] == pc.b)
    n = len(lab)
    cm = np.zeros((n, n), dtype=np.int64)
    np.add.at(cm, (order[ia_c[keep]], order[ib_c[keep]]), pc.count[keep])
    return cm, lab


def kappa_from_confusion(cm: np.ndarray, weights: str | None = None) -> float:
    """Cohen's kappa from a confusion matrix (``weights``: None, "linear" or "quadratic")."""
    cm = np.asarray(cm, dtype=np.float64)
    n = cm.shape[0]
    total = cm.sum()
    if total == 0:
        raise QCError("no pixels to compare", field="confusion", value=cm.shape)
    expected = np.outer(cm.sum(axis=1), cm.sum(axis=0)) / total
    if weights is None:
        w = 1.0 - np.eye(n)
    elif weights in ("linear", "quadratic"):
        d = np.abs(np.arange(n)[:, None] - np.arange(n)[None, :]).astype(np.float64)
        w = d if weights == "linear" else d**2
    else:
        raise QCError(
            "weights must be None, 'linear' or 'quadratic'", field="weights", value=weights
        )
    denom = float((w * expected).sum())
    if denom == 0:
        # both raters used one class everywhere: kappa is undefined (NaN, as scikit-learn)
        return float("nan")
    return 1.0 - float((w * cm).sum()) / denom


def cohen_kappa(
    a: Any, b: Any, labels: Sequence[int] | None = None, weights: str | None = None
) -> float:
    """Cohen's kappa between two class masks (as ``sklearn.metrics.cohen_kappa_score``)."""
    return kappa_from_confusion(confusion(a, b, labels), weights)


def class_iou_dice(cm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-class IoU and Dice from a confusion matrix (NaN for a class absent from both)."""
    cm = np.asarray(cm, dtype=np.float64)
    tp = np.diag(cm)
    rows, cols = cm.sum(axis=1), cm.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = tp / (rows + cols - tp)
        dice = 2 * tp / (rows + cols)
    return iou, dice


def fleiss_kappa_from_counts(counts: Any) -> float:
    """Fleiss' kappa from a ``(subjects, categories)`` table of rater counts.

    Every row must sum to the same number of raters (at least two).
    """
    n = np.asarray(counts, dtype=np.float64)
    if n.ndim != 2 or n.shape[0] == 0:
        raise QCError("counts must be a non-empty 2D table", field="counts", value=n.shape)
    raters = n.sum(axis=1)
    m = raters[0]
    if m < 2 or np.any(raters != m):
        raise QCError(
            "every subject needs the same number (>= 2) of ratings",
            field="counts",
            value=sorted(set(raters.tolist()))[:5],
        )
    return _fleiss(float(n.shape[0]), float(m), n.sum(axis=0), float((n**2).sum()))


def _fleiss(subjects: float, m: float, cat_totals: np.ndarray, sum_sq: float) -> float:
    p_bar = (sum_sq - subjects * m) / (subjects * m * (m - 1))
    p_j = cat_totals / (subjects * m)
    p_e = float((p_j**2).sum())
    if p_e == 1.0:
        return 1.0 if p_bar == 1.0 else float("nan")
    return (p_bar - p_e) / (1.0 - p_e)


def fleiss_kappa(masks: Sequence[Any], block_elems: int | None = None) -> float:
    """Fleiss' kappa of two or more class masks of one image (pixels are the subjects)."""
    masks = _check_masks(masks)
    shape = tuple(masks[0].shape)
    cat_totals: dict[int, int] = {}
    sum_sq = 0
    subjects = 0
    for sl in iter_blocks(shape, block_elems):
        stack = np.stack([np.asarray(m[sl]).ravel() for m in masks])
        subjects += stack.shape[1]
        for c in np.unique(stack):
            per_pixel = (stack == c).sum(axis=0, dtype=np.int64)
            cat_totals[int(c)] = cat_totals.get(int(c), 0) + int(per_pixel.sum())
            sum_sq += int((per_pixel * per_pixel).sum())
    totals = np.array(list(cat_totals.values()), dtype=np.float64)
    return _fleiss(float(subjects), float(len(masks)), totals, float(sum_sq))


def _check_masks(masks: Sequence[Any]) -> list[Any]:
    masks = list(masks)
    if len(masks) < 2:
        raise QCError("agreement needs at least two annotations", field="masks", value=len(masks))
    shape = tuple(masks[0].shape)
    for i, m in enumerate(masks[1:], start=1):
        if tuple(m.shape) != shape:
            raise QCError(
                f"all masks must have the shape of the first, {shape}",
                field=f"masks[{i}]",
                value=tuple(m.shape),
            )
    return masks


def semantic_disagreement(masks: Sequence[Any]) -> np.ndarray:
    """1 where any mask differs from the first, else 0 (uint8), read block by block.

    The masks may be zarr or dask arrays; only one block of each is in memory at a time.
    """
    masks = _check_masks(masks)
    diff = np.zeros(tuple(masks[0].shape), np.uint8)
    for sl in iter_blocks(tuple(masks[0].shape)):
        ref = np.asarray(masks[0][sl])
        for m in masks[1:]:
            diff[sl] |= np.asarray(m[sl]) != ref
    return diff


def majority_vote(masks: Sequence[Any], tie: int = 0) -> np.ndarray:
    """Per-pixel majority class of several class masks (``tie`` where no class has a majority).

    A class wins a pixel when strictly more annotators chose it than any other class.
    """
    masks = _check_masks(masks)
    shape = tuple(masks[0].shape)
    dtype = np.result_type(*[np.dtype(m.dtype) for m in masks])
    out = np.empty(shape, dtype=dtype)
    for sl in iter_blocks(shape):
        stack = np.stack([np.asarray(m[sl]) for m in masks])
        best = np.full(stack.shape[1:], tie, dtype=dtype)
        best_n = np.zeros(stack.shape[1:], dtype=np.int32)
        second_n = np.zeros(stack.shape[1:], dtype=np.int32)
        for c in np.unique(stack):
            n = (stack == c).sum(axis=0, dtype=np.int32)
            win = n > best_n
            second_n = np.where(win, best_n, np.maximum(second_n, n))
            best = np.where(win, c, best)
            best_n = np.where(win, n, best_n)
        out[sl] = np.where(best_n > second_n, best, tie)
    return out


def semantic_agreement(
    a: Any, b: Any, labels: Sequence[int] | None = None, names: dict[int, str] | None = None
) -> dict[str, Any]:
    """Confusion matrix, per-class IoU / Dice table and Cohen's kappa of two class masks.

    Returns
    -------
    dict
        ``labels`` (list), ``confusion`` (ndarray), ``kappa`` (float), ``table``
        (DataFrame: class_id, class, pixels_a, pixels_b, iou, dice), ``accuracy``,
        ``mean_iou`` (over the non-background classes present).
    """
    cm, lab = _confusion_with_labels(a, b, labels)
    iou, dice = class_iou_dice(cm)
    names = names or {}
    table = pd.DataFrame(
        {
            "class_id": lab.astype(np.int64),
            "class": [names.get(int(c), "background" if c == 0 else str(int(c))) for c in lab],
            "pixels_a": cm.sum(axis=1),
            "pixels_b": cm.sum(axis=0),
            "iou": iou,
            "dice": dice,
        }
    )
    fg = table[(table.class_id != 0) & table.iou.notna()]
    return {
        "labels": [int(c) for c in lab],
        "confusion": cm,
        "kappa": kappa_from_confusion(cm),
        "accuracy": float(np.trace(cm) / cm.sum()) if cm.sum() else float("nan"),
        "mean_iou": float(fg.iou.mean()) if len(fg) else float("nan"),
        "table": table,
    }
