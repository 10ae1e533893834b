"""One-to-one matching of instances and boxes, panoptic quality and COCO-style AP.

Instance IoUs come from sparse pair counts (only overlapping pairs exist). The optimal
assignment runs per connected component of the candidate graph (pairs with IoU at or above
the threshold): single-edge components, the usual case at IoU >= 0.5, are matched directly,
larger ones with ``scipy.optimize.linear_sum_assignment`` on their small dense block. The
assignment maximises the number of matches first and the summed IoU second.

Convention: ``a`` is the reference (ground truth, first annotator), ``b`` the other; objects
of ``a`` left unmatched are false negatives, those of ``b`` false positives.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import linear_sum_assignment
from scipy.sparse.csgraph import connected_components

from ..annotation import Box
from ..boxes import box_iou
from ..errors import QCError
from .pairs import iter_blocks, pair_counts

__all__ = [
    "match_keypoint_sets",
    "COCO_THRESHOLDS",
    "InstanceOverlaps",
    "MatchResult",
    "assign",
    "average_precision",
    "box_iou_pairs",
    "consensus_instances",
    "instance_agreement",
    "instance_disagreement",
    "instance_overlaps",
    "match_boxes",
    "match_instances",
]

#: IoU thresholds 0.50, 0.55, ..., 0.95 (COCO's).
COCO_THRESHOLDS = np.round(np.linspace(0.5, 0.95, 10), 2)


def _div(x: float, y: float) -> float:
    return float(x) / float(y) if y else 0.0


@dataclass
class MatchResult:
    """A one-to-one matching at one IoU threshold.

    ``a`` / ``b`` hold instance ids (instance matching) or box indices (box matching).
    Rates are 0 when undefined (e.g. precision with nothing in ``b``).
    """

    threshold: float
    a: np.ndarray
    b: np.ndarray
    iou: np.ndarray
    unmatched_a: np.ndarray
    unmatched_b: np.ndarray
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def tp(self) -> int:
        return int(len(self.a))

    @property
    def fn(self) -> int:
        return int(len(self.unmatched_a))

    @property
    def fp(self) -> int:
        return int(len(self.unmatched_b))

    @property
    def precision(self) -> float:
        return _div(self.tp, self.tp + self.fp)

    @property
    def recall(self) -> float:
        return _div(self.tp, self.tp + self.fn)

    @property
    def f1(self) -> float:
        return _div(2 * self.tp, 2 * self.tp + self.fp + self.fn)

    @property
    def accuracy(self) -> float:
        """``tp / (tp + fp + fn)``, the "AP" of cell-segmentation benchmarks."""
        return _div(self.tp, self.tp + self.fp + self.fn)

    @property
    def mean_iou(self) -> float:
        """Mean IoU of the matched pairs."""
        return float(self.iou.mean()) if len(self.iou) else 0.0

    @property
    def pq(self) -> float:
        """Panoptic quality: summed matched IoU / (tp + fp/2 + fn/2)."""
        return _div(float(self.iou.sum()), self.tp + 0.5 * self.fp + 0.5 * self.fn)

    def pairs(self) -> pd.DataFrame:
        """The matched pairs as a table (columns a, b, iou)."""
        return pd.DataFrame({"a": self.a, "b": self.b, "iou": self.iou})

    def to_dict(self) -> dict[str, float]:
        """The counts and rates (pairs left out: see :meth:`pairs`)."""
        return self.summary()

    def summary(self) -> dict[str, float]:
        return {
            "threshold": float(self.threshold),
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
            "accuracy": self.accuracy,
            "mean_iou": self.mean_iou,
            "pq": self.pq,
        }


def assign(
    rows: np.ndarray, cols: np.ndarray, iou: np.ndarray, n_rows: int, n_cols: int
) -> tuple[np.ndarray, np.ndarray]:
    """Optimal one-to-one assignment on a sparse candidate graph.

    Parameters
    ----------
    rows, cols, iou : ndarray
        Candidate edges (row index, column index, IoU); every edge is a permitted match.
    n_rows, n_cols : int
        Number of row and column items.

    Returns
    -------
    (ndarray, ndarray)
        Indices of the edges chosen (into ``rows``) and, unused, their component labels.
        The choice maximises the number of matches, then the summed IoU.
    """
    rows = np.asarray(rows, np.int64)
    cols = np.asarray(cols, np.int64)
    n_e = len(rows)
    if n_e == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    graph = sparse.coo_matrix((np.ones(n_e), (rows, cols + n_rows)), shape=(n_rows + n_cols,) * 2)
    _, comp = connected_components(graph, directed=False)
    edge_comp = comp[rows]
    edges_per_comp = np.bincount(edge_comp)
    single = edges_per_comp[edge_comp] == 1
    chosen = [np.flatnonzero(single)]
    multi = np.flatnonzero(~single)
    if len(multi):
        order = multi[np.argsort(edge_comp[multi], kind="stable")]
        bounds = np.flatnonzero(np.diff(edge_comp[order])) + 1
        for grp in np.split(order, bounds):
            r_ids, r_loc = np.unique(rows[grp], return_inverse=True)
            c_ids, c_loc = np.unique(cols[grp], return_inverse=True)
            k = min(len(r_ids), len(c_ids))
            # matches count first: each adds 1, the IoU bonus of all matches stays below 1
            cost = np.zeros((len(r_ids), len(c_ids)))
            edge_at = np.full((len(r_ids), len(c_ids)), -1, np.int64)
            cost[r_loc, c_loc] = -(1.0 + iou[grp] / (2.0 * k))
            edge_at[r_loc, c_loc] = grp
            ri, ci = linear_sum_assignment(cost)
            e = edge_at[ri, ci]
            chosen.append(e[e >= 0])
    sel = np.sort(np.concatenate(chosen))
    return sel, edge_comp[sel]


@dataclass
class InstanceOverlaps:
    """Objects of two instance masks with their areas and every overlapping pair's IoU."""

    ids_a: np.ndarray
    area_a: np.ndarray
    ids_b: np.ndarray
    area_b: np.ndarray
    pair_a: np.ndarray  # index into ids_a
    pair_b: np.ndarray  # index into ids_b
    intersection: np.ndarray
    iou: np.ndarray

    def match(self, iou_threshold: float = 0.5) -> MatchResult:
        """The optimal one-to-one matching among pairs with IoU >= ``iou_threshold``."""
        if not 0.0 < iou_threshold <= 1.0:
            raise QCError(
                "IoU threshold must be in (0, 1]", field="iou_threshold", value=iou_threshold
            )
        cand = np.flatnonzero(self.iou >= iou_threshold)
        sel, _ = assign(
            self.pair_a[cand],
            self.pair_b[cand],
            self.iou[cand],
            len(self.ids_a),
            len(self.ids_b),
        )
        e = cand[sel]
        ia, ib = self.pair_a[e], self.pair_b[e]
        order = np.argsort(ia, kind="stable")
        ia, ib, iou = ia[order], ib[order], self.iou[e][order]
        ma = np.ones(len(self.ids_a), bool)
        ma[ia] = False
        mb = np.ones(len(self.ids_b), bool)
        mb[ib] = False
        return MatchResult(
            threshold=float(iou_threshold),
            a=self.ids_a[ia],
            b=self.ids_b[ib],
            iou=iou,
            unmatched_a=self.ids_a[ma],
            unmatched_b=self.ids_b[mb],
        )


def gather_matches(
    out_a: list[np.ndarray], out_b: list[np.ndarray], out_v: list[np.ndarray]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-group matches (indices into a, into b, scores) joined and sorted by ``a``."""
    ma = np.concatenate(out_a) if out_a else np.zeros(0, np.int64)
    mb = np.concatenate(out_b) if out_b else np.zeros(0, np.int64)
    mv = np.concatenate(out_v) if out_v else np.zeros(0)
    order = np.argsort(ma, kind="stable")
    return ma[order], mb[order], mv[order]


def instance_overlaps(a: Any, b: Any) -> InstanceOverlaps:
    """Areas and pairwise IoU of all overlapping objects of two instance masks (sparse)."""
    pc = pair_counts(a, b)
    ids_a, area_a = pc.areas_a()
    ids_b, area_b = pc.areas_b()
    ov = pc.overlaps()
    ia = np.searchsorted(ids_a, ov.a)
    ib = np.searchsorted(ids_b, ov.b)
    inter = ov.count
    iou = inter / (area_a[ia] + area_b[ib] - inter)
    return InstanceOverlaps(ids_a, area_a, ids_b, area_b, ia, ib, inter, iou)


def match_instances(a: Any, b: Any, iou_threshold: float = 0.5) -> MatchResult:
    """One-to-one matching of the objects of two instance masks by IoU.

    Parameters
    ----------
    a, b : array-like of int
        Instance masks of the same shape (any dimensionality; numpy, zarr or dask).
    iou_threshold : float
        Minimum IoU of a match.

    Returns
    -------
    MatchResult
        Matched ids with their IoU; tp, fp, fn, precision, recall, f1, mean_iou, pq.
    """
    return instance_overlaps(a, b).match(iou_threshold)


def instance_agreement(
    a: Any, b: Any, thresholds: Sequence[float] = tuple(COCO_THRESHOLDS)
) -> dict[str, Any]:
    """Instance agreement over several IoU thresholds.

    Returns
    -------
    dict
        ``table`` (DataFrame, one row per threshold: tp, fp, fn, precision, recall, f1,
        accuracy, mean_iou, pq), ``matches`` (MatchResult per threshold), ``ap`` (COCO-style
        AP over the thresholds with ``b``'s objects in id order as its ranking),
        ``mean_matched_iou`` and ``pq`` at the first threshold.
    """
    ov = instance_overlaps(a, b)
    matches = [ov.match(t) for t in thresholds]
    table = pd.DataFrame([m.summary() for m in matches])
    ap = _coco_ap_single_class(ov, None, np.asarray(thresholds, float), max_dets=None)
    return {
        "table": table,
        "matches": matches,
        "ap": ap,
        "mean_matched_iou": matches[0].mean_iou if matches else 0.0,
        "pq": matches[0].pq if matches else 0.0,
        "n_a": int(len(ov.ids_a)),
        "n_b": int(len(ov.ids_b)),
    }


# -- boxes ------------------------------------------------------------------------------
def box_iou_pairs(
    a: np.ndarray, b: np.ndarray, min_iou: float, rows_per_step: int = 1024
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs of ``xyxy`` boxes with IoU >= ``min_iou`` as (rows, cols, iou) arrays.

    Computed ``rows_per_step`` rows of ``a`` at a time, so memory stays bounded by
    ``rows_per_step x len(b)`` however many boxes there are.
    """
    rs, cs, vs = [], [], []
    for s in range(0, len(a), rows_per_step):
        m = box_iou(a[s : s + rows_per_step], b)
        r, c = np.nonzero(m >= min_iou)
        rs.append(r + s)
        cs.append(c)
        vs.append(m[r, c])
    if not rs:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    return np.concatenate(rs), np.concatenate(cs), np.concatenate(vs)


def _box_groups(boxes: Sequence[Box], by_class: bool) -> dict[tuple, np.ndarray]:
    groups: dict[tuple, list[int]] = {}
    for i, bx in enumerate(boxes):
        key = (tuple(bx.plane), int(bx.class_id) if by_class else 0)
        groups.setdefault(key, []).append(i)
    return {k: np.asarray(v, np.int64) for k, v in groups.items()}


def match_grouped(
    a: Sequence[Any],
    b: Sequence[Any],
    xa: np.ndarray,
    xb: np.ndarray,
    pairs: Callable[[np.ndarray, np.ndarray, float], tuple[np.ndarray, ...]],
    iou_threshold: float,
    by_class: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One-to-one matching of boxes ``a`` and ``b`` (anything with ``plane`` and
    ``class_id``; geometry rows ``xa`` / ``xb``) within each plane (and class).

    ``pairs(xa_group, xb_group, threshold) -> (rows, cols, iou)`` lists the candidate pairs
    of one group. Returns matched indices into ``a``, into ``b`` and their IoU (sorted by
    ``a``).
    """
    ga, gb = _box_groups(a, by_class), _box_groups(b, by_class)
    out_a, out_b, out_iou = [], [], []
    for key, ia in ga.items():
        ib = gb.get(key)
        if ib is None:
            continue
        r, c, v = pairs(xa[ia], xb[ib], iou_threshold)
        sel, _ = assign(r, c, v, len(ia), len(ib))
        out_a.append(ia[r[sel]])
        out_b.append(ib[c[sel]])
        out_iou.append(v[sel])
    return gather_matches(out_a, out_b, out_iou)


def match_boxes(
    a: Sequence[Any],
    b: Sequence[Any],
    iou_threshold: float = 0.5,
    by_class: bool = True,
    rotated: bool = False,
) -> MatchResult:
    """One-to-one matching of two box lists by box IoU, within each plane (and class).

    ``MatchResult.a`` / ``.b`` are box indices; ``extra["per_class"]`` is a DataFrame with
    tp, fp, fn, precision, recall, f1 per class id (when ``by_class``). With ``rotated``
    the lists hold ``core.objects.RotatedBox`` and the IoU is that of the rotated
    rectangles (``core.objects.rbox_iou_pairs``).
    """
    a, b = list(a), list(b)
    if rotated:
        from ..objects.rotated import rbox_iou_pairs

        xa = np.array([bx.xywha for bx in a], float).reshape(-1, 5)
        xb = np.array([bx.xywha for bx in b], float).reshape(-1, 5)
        pairs: Callable[[np.ndarray, np.ndarray, float], tuple[np.ndarray, ...]]
        pairs = rbox_iou_pairs
    else:
        xa = np.array([bx.xyxy for bx in a], float).reshape(-1, 4)
        xb = np.array([bx.xyxy for bx in b], float).reshape(-1, 4)
        pairs = box_iou_pairs
    ma, mb, miou = match_grouped(a, b, xa, xb, pairs, iou_threshold, by_class)
    res = MatchResult(
        threshold=float(iou_threshold),
        a=ma,
        b=mb,
        iou=miou,
        unmatched_a=np.setdiff1d(np.arange(len(a)), ma),
        unmatched_b=np.setdiff1d(np.arange(len(b)), mb),
    )
    if by_class:
        res.extra["per_class"] = _per_class_counts(
            [bx.class_id for bx in a], [bx.class_id for bx in b], ma
        )
    return res


def _per_class_counts(classes_a: Sequence[int], classes_b: Sequence[int], ma: Any) -> pd.DataFrame:
    """tp, fp, fn, precision, recall, f1 per class id, given the matched indices into a."""
    rows = []
    cls_a = np.asarray(classes_a, np.int64).reshape(-1)
    cls_b = np.asarray(classes_b, np.int64).reshape(-1)
    ma = np.asarray(ma, np.int64)
    for c in sorted(set(cls_a.tolist()) | set(cls_b.tolist())):
        tp = int((cls_a[ma] == c).sum())
        fn = int((cls_a == c).sum()) - tp
        fp = int((cls_b == c).sum()) - tp
        rows.append(
            {
                "class_id": c,
                "tp": tp,
                "fp": fp,
                "fn": fn,
                "precision": _div(tp, tp + fp),
                "recall": _div(tp, tp + fn),
                "f1": _div(2 * tp, 2 * tp + fp + fn),
            }
        )
    return pd.DataFrame(rows, columns=["class_id", "tp", "fp", "fn", "precision", "recall", "f1"])


def match_keypoint_sets(
    a: Sequence[Any],
    b: Sequence[Any],
    sigmas: Mapping[int, Any],
    oks_threshold: float = 0.5,
) -> MatchResult:
    """One-to-one matching of keypoint sets by OKS, within each plane and class.

    ``a`` (reference) and ``b`` hold ``core.objects.Keypoints``; ``sigmas`` maps each class
    id to its per-keypoint sigmas. The object area of a reference set is that of its box
    when it has one, else that of the bounding box of its labelled keypoints (COCO uses
    the segment area; a box is the closest stand-in a keypoint layer carries).
    ``MatchResult.iou`` holds the OKS of the matched pairs; ``extra["per_class"]`` the
    counts per class.
    """
    from ..objects.keypoints import match_keypoints

    a, b = list(a), list(b)
    out_a, out_b, out_v = [], [], []
    for cid in sorted({int(k.class_id) for k in a} & {int(k.class_id) for k in b}):
        if cid not in sigmas:
            raise QCError("no keypoint sigmas for this class", field="sigmas", value=cid)
        ia = np.array([i for i, k in enumerate(a) if int(k.class_id) == cid], np.int64)
        ib = np.array([j for j, k in enumerate(b) if int(k.class_id) == cid], np.int64)
        areas = [_keypoint_area(a[int(i)]) for i in ia]
        ra, rb, v = match_keypoints(
            [a[int(i)] for i in ia], [b[int(j)] for j in ib], areas, sigmas[cid], oks_threshold
        )
        out_a.append(ia[ra])
        out_b.append(ib[rb])
        out_v.append(v)
    ma, mb, mv = gather_matches(out_a, out_b, out_v)
    res = MatchResult(
        threshold=float(oks_threshold),
        a=ma,
        b=mb,
        iou=mv,
        unmatched_a=np.setdiff1d(np.arange(len(a)), ma),
        unmatched_b=np.setdiff1d(np.arange(len(b)), mb),
    )
    res.extra["per_class"] = _per_class_counts(
        [k.class_id for k in a], [k.class_id for k in b], ma
    )
    return res


def _keypoint_area(kp: Any) -> float:
    """Object area of a keypoint set: its box, else the extent of its labelled keypoints."""
    if kp.box is not None:
        x0, y0, x1, y1 = (float(v) for v in kp.box)
        return abs(x1 - x0) * abs(y1 - y0)
    xyv = np.asarray(kp.xyv, float)
    xy = xyv[xyv[:, 2] > 0, :2]
    if len(xy) == 0:
        return 0.0
    ext = xy.max(0) - xy.min(0)
    return float(ext[0] * ext[1])


# -- COCO-style average precision --------------------------------------------------------
def _greedy_coco(iou_csr: sparse.csr_matrix, n_gt: int, thresholds: np.ndarray) -> np.ndarray:
    """COCOeval's greedy matching: ``(T, n_dt)`` bool, True where the detection is a TP.

    Detections (rows) are already in descending score order. Each takes the unmatched
    ground truth with the highest IoU at or above the threshold (ties: the later one).
    """
    n_dt = iou_csr.shape[0]
    tps = np.zeros((len(thresholds), n_dt), bool)
    for ti, t in enumerate(thresholds):
        thr = min(float(t), 1 - 1e-10)
        taken = np.zeros(n_gt, bool)
        for d in range(n_dt):
            lo, hi = iou_csr.indptr[d], iou_csr.indptr[d + 1]
            g, v = iou_csr.indices[lo:hi], iou_csr.data[lo:hi]
            ok = (v >= thr) & ~taken[g]
            if not ok.any():
                continue
            g, v = g[ok], v[ok]
            best = np.flatnonzero(v == v.max())
            pick = g[best].max()
            taken[pick] = True
            tps[ti, d] = True
    return tps


def _coco_precision(tps: np.ndarray, n_gt: int) -> np.ndarray:
    """101-point interpolated precision, ``(T, 101)``, exactly as COCOeval.accumulate."""
    rec_thrs = np.linspace(0.0, 1.0, 101)
    out = np.zeros((tps.shape[0], len(rec_thrs)))
    for ti in range(tps.shape[0]):
        tp = np.cumsum(tps[ti]).astype(float)
        fp = np.cumsum(~tps[ti]).astype(float)
        if len(tp) == 0:
            continue
        rc = tp / n_gt
        pr = tp / (fp + tp + np.spacing(1))
        pr = np.maximum.accumulate(pr[::-1])[::-1]
        inds = np.searchsorted(rc, rec_thrs, side="left")
        valid = inds < len(pr)
        out[ti, valid] = pr[inds[valid]]
    return out


def _coco_ap_single_class(
    ov: InstanceOverlaps,
    scores: np.ndarray | None,
    thresholds: np.ndarray,
    max_dets: int | None,
) -> float:
    n_gt, n_dt = len(ov.ids_a), len(ov.ids_b)
    if n_gt == 0:
        return float("nan")
    s = np.zeros(n_dt) if scores is None else np.asarray(scores, float)
    order = np.argsort(-s, kind="mergesort")
    if max_dets is not None:
        order = order[:max_dets]
    rank = np.full(n_dt, -1, np.int64)
    rank[order] = np.arange(len(order))
    keep = rank[ov.pair_b] >= 0
    iou = sparse.csr_matrix(
        (ov.iou[keep], (rank[ov.pair_b[keep]], ov.pair_a[keep])), shape=(len(order), n_gt)
    )
    iou.sort_indices()
    return float(_coco_precision(_greedy_coco(iou, n_gt, thresholds), n_gt).mean())


def _subset(ov: InstanceOverlaps, keep_a: np.ndarray, keep_b: np.ndarray) -> InstanceOverlaps:
    ra = np.cumsum(keep_a) - 1
    rb = np.cumsum(keep_b) - 1
    e = keep_a[ov.pair_a] & keep_b[ov.pair_b]
    return InstanceOverlaps(
        ov.ids_a[keep_a],
        ov.area_a[keep_a],
        ov.ids_b[keep_b],
        ov.area_b[keep_b],
        ra[ov.pair_a[e]],
        rb[ov.pair_b[e]],
        ov.intersection[e],
        ov.iou[e],
    )


def average_precision(
    gt: Any,
    pred: Any,
    *,
    scores: Any = None,
    gt_classes: dict[int, int] | None = None,
    pred_classes: dict[int, int] | None = None,
    iou_thresholds: Sequence[float] = tuple(COCO_THRESHOLDS),
    max_dets: int = 100,
) -> dict[str, Any]:
    """COCO-style AP of one image's predictions (or second annotation) against a reference.

    Follows ``pycocotools.cocoeval.COCOeval`` (area range "all", ``maxDets`` per class):
    greedy matching in descending score order, 101-point interpolated precision, mean over
    IoU thresholds and over the classes that have reference objects.

    Parameters
    ----------
    gt, pred : instance masks (same shape) or sequences of :class:`Box`
        Reference and predictions.
    scores : sequence of float or dict, optional
        Detection confidences: per box (sequence) or per instance id (dict). Without
        scores all detections tie and keep their order (box order or id order).
    gt_classes, pred_classes : dict of int to int, optional
        Instance id -> class id for masks (all objects one class when omitted). Boxes
        carry their ``class_id``.
    iou_thresholds : sequence of float
    max_dets : int

    Returns
    -------
    dict
        ``ap`` (mean over thresholds and classes), ``ap_per_threshold`` (dict threshold
        -> AP), ``ap_per_class`` (dict class id -> AP over the thresholds).
    """
    thr = np.asarray(list(iou_thresholds), float)
    is_boxes = isinstance(gt, (list, tuple)) or isinstance(pred, (list, tuple))
    per_class: dict[int, np.ndarray] = {}
    if is_boxes:
        gt, pred = list(gt), list(pred)
        s = np.zeros(len(pred)) if scores is None else np.asarray(list(scores), float)
        if len(s) != len(pred):
            raise QCError("one score per predicted box is needed", field="scores", value=len(s))
        for c in sorted({bx.class_id for bx in gt}):
            gi = [i for i, bx in enumerate(gt) if bx.class_id == c]
            di = [i for i, bx in enumerate(pred) if bx.class_id == c]
            per_class[c] = _box_class_precision(
                [gt[i] for i in gi], [pred[i] for i in di], s[di], thr, max_dets
            )
    else:
        ov = instance_overlaps(gt, pred)
        gcls = np.array([(gt_classes or {}).get(int(i), 0) for i in ov.ids_a], np.int64)
        pcls = np.array([(pred_classes or {}).get(int(i), 0) for i in ov.ids_b], np.int64)
        if isinstance(scores, dict):
            sc = np.array([float(scores.get(int(i), 0.0)) for i in ov.ids_b])
        elif scores is None:
            sc = np.zeros(len(ov.ids_b))
        else:
            raise QCError(
                "mask scores must be a dict id -> score",
                field="scores",
                value=type(scores).__name__,
            )
        for c in sorted(set(gcls.tolist())):
            sub = _subset(ov, gcls == c, pcls == c)
            n_gt = len(sub.ids_a)
            s_c = sc[pcls == c]
            order = np.argsort(-s_c, kind="mergesort")[:max_dets]
            rank = np.full(len(s_c), -1, np.int64)
            rank[order] = np.arange(len(order))
            keep = rank[sub.pair_b] >= 0
            iou = sparse.csr_matrix(
                (sub.iou[keep], (rank[sub.pair_b[keep]], sub.pair_a[keep])),
                shape=(len(order), n_gt),
            )
            iou.sort_indices()
            per_class[c] = _coco_precision(_greedy_coco(iou, n_gt, thr), n_gt)
    if not per_class:
        return {"ap": float("nan"), "ap_per_threshold": {}, "ap_per_class": {}}
    stack = np.stack(list(per_class.values()))  # (classes, T, 101)
    return {
        "ap": float(stack.mean()),
        "ap_per_threshold": {float(t): float(stack[:, i].mean()) for i, t in enumerate(thr)},
        "ap_per_class": {int(c): float(p.mean()) for c, p in per_class.items()},
    }


def _box_class_precision(
    gt: list[Box], pred: list[Box], scores: np.ndarray, thr: np.ndarray, max_dets: int
) -> np.ndarray:
    order = np.argsort(-scores, kind="mergesort")[:max_dets]
    pred = [pred[i] for i in order]
    rows, cols, vals = [], [], []
    for d, p in enumerate(pred):
        same = [g for g, bx in enumerate(gt) if tuple(bx.plane) == tuple(p.plane)]
        if not same:
            continue
        v = box_iou([p.xyxy], [gt[g].xyxy for g in same])[0]
        nz = v > 0
        rows += [d] * int(nz.sum())
        cols += [same[g] for g in np.flatnonzero(nz)]
        vals += v[nz].tolist()
    iou = sparse.csr_matrix((vals, (rows, cols)), shape=(len(pred), len(gt)))
    iou.sort_indices()
    return _coco_precision(_greedy_coco(iou, len(gt), thr), len(gt))


# -- disagreement and consensus -----------------------------------------------------------
#: Codes of :func:`instance_disagreement`.
DISAGREE_CODES = {1: "matched, boundary differs", 2: "only in a (missed)", 3: "only in b (extra)"}


def _lookup(ids: np.ndarray, values: np.ndarray, x: np.ndarray, default: int) -> np.ndarray:
    """``values[k]`` where ``x == ids[k]`` (ids sorted), ``default`` elsewhere."""
    if len(ids) == 0:
        return np.full(x.shape, default, dtype=values.dtype)
    pos = np.minimum(np.searchsorted(ids, x), len(ids) - 1)
    return np.where(ids[pos] == x, values[pos], default)


def instance_disagreement(a: Any, b: Any, match: MatchResult) -> np.ndarray:
    """A uint8 map of where two instance masks disagree (codes in ``DISAGREE_CODES``).

    1: pixels of a matched pair covered by only one of the two objects; 2: pixels of
    objects of ``a`` without a match; 3: pixels of objects of ``b`` without a match.
    """
    shape = tuple(a.shape)
    out = np.zeros(shape, np.uint8)
    oa = np.argsort(match.a)
    ob = np.argsort(match.b)
    ma_ids, ma_partner = match.a[oa], match.b[oa]
    mb_ids, mb_partner = match.b[ob], match.a[ob]
    for sl in iter_blocks(shape):
        av = np.asarray(a[sl]).astype(np.int64)
        bv = np.asarray(b[sl]).astype(np.int64)
        pa = _lookup(ma_ids, ma_partner, av, -1)  # a's partner in b
        pb = _lookup(mb_ids, mb_partner, bv, -1)
        blk = np.zeros(av.shape, np.uint8)
        blk[((pa >= 0) & (bv != pa)) | ((pb >= 0) & (av != pb))] = 1
        blk[(bv != 0) & (pb < 0)] = 3
        blk[(av != 0) & (pa < 0)] = 2
        out[sl] = blk
    return out


def consensus_instances(
    masks: Sequence[Any], iou_threshold: float = 0.5, min_votes: int | None = None
) -> np.ndarray:
    """Instance consensus of several annotations through matching to the first one.

    Every object of the first annotation gathers its matches in the others. An object
    enters the consensus when at least ``min_votes`` annotators (default: a majority,
    counting the first) have it; its pixels are those covered by at least ``min_votes``
    members of its group. Ids are those of the first annotation. Objects that the first
    annotation lacks are not recovered.
    """
    masks = list(masks)
    if len(masks) < 2:
        raise QCError("consensus needs at least two annotations", field="masks", value=len(masks))
    ref = masks[0]
    need = min_votes if min_votes is not None else len(masks) // 2 + 1
    matches = [match_instances(ref, m, iou_threshold) for m in masks[1:]]
    shape = tuple(ref.shape)
    out = np.zeros(shape, dtype=np.result_type(np.dtype(ref.dtype), np.int32))
    for sl in iter_blocks(shape):
        rv = np.asarray(ref[sl]).astype(np.int64)
        votes = (rv != 0).astype(np.int32)
        label = rv.copy()
        # each other annotator votes for the reference id its matched object stands for
        for m, mt in zip(masks[1:], matches):
            order = np.argsort(mt.b)
            mapped = _lookup(mt.b[order], mt.a[order], np.asarray(m[sl]).astype(np.int64), 0)
            same = (mapped != 0) & (mapped == label)
            votes += same
            fresh = (mapped != 0) & (label == 0)
            label = np.where(fresh, mapped, label)
            votes = np.where(fresh, 1, votes)
        out[sl] = np.where(votes >= need, label, 0)
    return out
