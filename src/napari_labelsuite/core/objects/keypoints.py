"""Keypoints with a skeleton: validation, left/right flips and OKS matching.

A keypoint set is an (K, 3) array of ``x, y, v`` per keypoint (pixel-edge coordinates, as
``Box.xyxy``: the centre of pixel ``(row, col)`` is ``(col + 0.5, row + 0.5)``), in the
order of the class's keypoint names, with COCO visibility ``v``: 0 = not labelled (x = y = 0),
1 = labelled but occluded, 2 = labelled and visible.

Object keypoint similarity (OKS) follows pycocotools' ``COCOeval.computeOks``:
``OKS = mean over labelled ground-truth keypoints of exp(-d^2 / (2 s^2 k^2))`` with
``s^2`` the object's area and ``k = 2 sigma`` per keypoint.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import ObjectKindError

__all__ = [
    "COCO_PERSON_SIGMAS",
    "Keypoints",
    "Skeleton",
    "check_keypoints",
    "flip_keypoints",
    "match_keypoints",
    "oks",
    "skeleton_segments",
]

#: pycocotools' per-keypoint sigmas for the 17 COCO person keypoints
COCO_PERSON_SIGMAS = (
    np.array([0.26, 0.25, 0.25, 0.35, 0.35, 0.79, 0.79, 0.72, 0.72, 0.62, 0.62, 1.07, 1.07,
              0.87, 0.87, 0.89, 0.89]) / 10.0
)  # fmt: skip


@dataclass
class Skeleton:
    """Keypoint names, edges (pairs of 0-based indices) and left/right swaps of one class."""

    names: list[str]
    edges: list[tuple[int, int]] = field(default_factory=list)
    flip_pairs: list[tuple[int, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        n = len(self.names)
        if n == 0:
            raise ObjectKindError("a skeleton needs at least one keypoint name", field="names")
        if len(set(self.names)) != n:
            raise ObjectKindError("keypoint names must be unique", field="names", value=self.names)
        for fname, pairs in (("edges", self.edges), ("flip_pairs", self.flip_pairs)):
            for i, (p, q) in enumerate(pairs):
                if not (0 <= p < n and 0 <= q < n) or p == q:
                    raise ObjectKindError(
                        f"{fname} must join two different keypoints among {n}",
                        where=f"{fname}[{i}]",
                        value=(p, q),
                    )
        seen: set[int] = set()
        for p, q in self.flip_pairs:
            if p in seen or q in seen:
                raise ObjectKindError(
                    "a keypoint is in more than one left/right pair", field="flip_pairs",
                    value=(p, q),
                )  # fmt: skip
            seen |= {p, q}
        self.edges = [(int(p), int(q)) for p, q in self.edges]
        self.flip_pairs = [(int(p), int(q)) for p, q in self.flip_pairs]

    @property
    def flip_index(self) -> np.ndarray:
        """Permutation taking keypoint order to its mirror image's order."""
        idx = np.arange(len(self.names))
        for p, q in self.flip_pairs:
            idx[p], idx[q] = q, p
        return idx

    def to_dict(self) -> dict[str, Any]:
        return {
            "names": list(self.names),
            "edges": [list(e) for e in self.edges],
            "flip_pairs": [list(e) for e in self.flip_pairs],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Skeleton:
        return cls(
            names=[str(n) for n in d.get("names", [])],
            edges=[tuple(e) for e in d.get("edges", [])],  # type: ignore[misc]
            flip_pairs=[tuple(e) for e in d.get("flip_pairs", [])],  # type: ignore[misc]
        )


@dataclass
class Keypoints:
    """The keypoints of one object, linked to its class, plane and instance/box."""

    xyv: np.ndarray  # (K, 3)
    class_id: int
    plane: tuple[int, ...] = ()
    instance_id: int = 0
    attributes: dict[str, Any] = field(default_factory=dict)
    status: str = "todo"
    #: the object's box (x0, y0, x1, y1 in pixels), when it has one
    box: tuple[float, float, float, float] | None = None


def check_keypoints(
    xyv: Any, n_keypoints: int | None = None, *, where: str = "keypoints"
) -> np.ndarray:
    """``xyv`` as a (K, 3) float array after checking count, finiteness and visibility.

    Raises
    ------
    ObjectKindError
        Wrong count for the class (``n_keypoints``), not (K, 3), non-finite coordinates,
        or a visibility outside 0/1/2.
    """
    a = np.asarray(xyv, float)
    if a.ndim == 1 and a.size % 3 == 0:
        a = a.reshape(-1, 3)
    if a.ndim != 2 or a.shape[1] != 3:
        raise ObjectKindError("keypoints must be (K, 3): x, y, visibility", where=where,
                              value=a.shape)  # fmt: skip
    if n_keypoints is not None and len(a) != n_keypoints:
        raise ObjectKindError(
            f"the class defines {n_keypoints} keypoints, got {len(a)}", where=where,
            field="keypoints", value=len(a),
        )  # fmt: skip
    if not np.isfinite(a).all():
        raise ObjectKindError("keypoint coordinates must be finite", where=where,
                              value=a.tolist())  # fmt: skip
    v = a[:, 2]
    bad = ~np.isin(v, (0, 1, 2))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ObjectKindError(
            "keypoint visibility must be 0, 1 or 2", where=f"{where}[{i}]", field="visibility",
            value=float(v[i]),
        )  # fmt: skip
    return a


def flip_keypoints(xyv: Any, skeleton: Skeleton, width: float, axis: str = "x") -> np.ndarray:
    """Keypoints mirrored across the image (``axis='x'``: left-right), sides swapped.

    Pixel-edge coordinates (as ``Box.xyxy``) flip as ``x -> width - x``, the same
    mapping as ``np.flip`` of the image; unlabelled keypoints (v = 0) stay at (0, 0).
    ``width`` is the image's extent along the flipped axis.
    """
    a = check_keypoints(xyv, len(skeleton.names)).copy()
    col = 0 if axis == "x" else 1
    lab = a[:, 2] > 0
    a[lab, col] = width - a[lab, col]
    return a[skeleton.flip_index]


def oks(gt: Any, dt: Any, area: Any, sigmas: Any) -> np.ndarray:
    """OKS matrix (G, D) between ground-truth keypoints (G, K, 3) and detections (D, K, 3).

    ``area`` (G,) is each ground-truth object's area; ground truths with no labelled
    keypoint get OKS 0 (pycocotools instead measures them against their box; they carry
    no keypoint to compare).
    """
    g = np.asarray(gt, float).reshape(len(gt), -1, 3)
    d = np.asarray(dt, float).reshape(len(dt), -1, 3)
    s = np.asarray(sigmas, float)
    k = g.shape[1]
    if d.shape[1] != k or s.shape != (k,):
        raise ObjectKindError(
            "ground truth, detections and sigmas must have the same number of keypoints",
            field="sigmas", value=(k, d.shape[1], s.shape),
        )  # fmt: skip
    var = (2 * s) ** 2
    ar = np.asarray(area, float).reshape(-1)
    dx = d[None, :, :, 0] - g[:, None, :, 0]
    dy = d[None, :, :, 1] - g[:, None, :, 1]
    e = (dx**2 + dy**2) / var[None, None, :] / (ar[:, None, None] + np.spacing(1)) / 2
    vis = (g[:, :, 2] > 0)[:, None, :]
    n = vis.sum(-1)
    tot = (np.exp(-e) * vis).sum(-1)
    return np.where(n > 0, tot / np.maximum(n, 1), 0.0)


def match_keypoints(
    a: Sequence[Keypoints],
    b: Sequence[Keypoints],
    areas: Sequence[float],
    sigmas: Any,
    oks_threshold: float = 0.5,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One-to-one matching of keypoint sets ``a`` (ground truth) and ``b`` by OKS.

    Matching happens within each plane and class; ``areas`` gives the object area of each
    ``a``. Returns matched indices into ``a``, into ``b`` and their OKS, sorted by ``a``.
    """
    from ..qc.matching import assign, gather_matches

    if len(areas) != len(a):
        raise ObjectKindError("one area per ground-truth object is needed", field="areas",
                              value=(len(areas), len(a)))  # fmt: skip
    ar = np.asarray(areas, float)
    groups: dict[tuple[Any, ...], tuple[list[int], list[int]]] = {}
    for i, kp in enumerate(a):
        groups.setdefault((tuple(kp.plane), kp.class_id), ([], []))[0].append(i)
    for j, kp in enumerate(b):
        groups.setdefault((tuple(kp.plane), kp.class_id), ([], []))[1].append(j)
    out_a, out_b, out_v = [], [], []
    for ia_l, ib_l in groups.values():
        if not ia_l or not ib_l:
            continue
        ia, ib = np.asarray(ia_l), np.asarray(ib_l)
        m = oks([a[int(i)].xyv for i in ia], [b[int(j)].xyv for j in ib], ar[ia], sigmas)
        r, c = np.nonzero((m >= oks_threshold) & (m > 0))
        v = m[r, c]
        sel, _ = assign(r, c, v, len(ia), len(ib))
        out_a.append(ia[r[sel]])
        out_b.append(ib[c[sel]])
        out_v.append(v[sel])
    return gather_matches(out_a, out_b, out_v)


def skeleton_segments(
    keypoints: Sequence[Keypoints] | np.ndarray,
    skeletons: Mapping[int, Skeleton],
    *,
    objects: Any = None,
    class_ids: Any = None,
    keypoint: Any = None,
    visibility: Any = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The skeleton edges to draw: one segment per edge whose two keypoints are labelled.

    Either a list of :class:`Keypoints` sets, or one row per placed point: ``keypoints``
    (N, D) coordinates (the leading D - 2 are the plane) with ``objects`` (N,) the set
    each point belongs to, ``class_ids`` (N,), ``keypoint`` (N,) its index among its
    class's skeleton names (-1: unknown) and ``visibility`` (N,). An edge ``(p, q)`` of a
    class in ``skeletons`` is drawn for an object that has points p and q with visibility
    > 0 on one plane; classes without a skeleton draw nothing. All objects of a class are
    joined at once (a table of object x keypoint), so many thousand points cost a few
    array operations.

    Returns
    -------
    segments : (M, 2, D) float array
        The two ends of each edge; for Keypoints sets the coordinates are
        ``(*plane, x, y)`` (pixel edges, as ``Keypoints.xyv``), for rows the rows of
        ``keypoints``.
    class_ids, object_ids : (M,) int arrays
        The class and the object (index of the set, or ``objects`` value) of each edge.
    """
    if objects is None:
        coords, objects, class_ids, keypoint, visibility = _rows_of_sets(keypoints)
    else:
        coords = np.asarray(keypoints, float)
    n = len(coords)
    if coords.ndim != 2:
        raise ObjectKindError("point coordinates must be (N, D)", field="keypoints",
                              value=coords.shape)  # fmt: skip
    obj = np.asarray(objects).reshape(-1)
    cls = np.asarray(class_ids).reshape(-1)
    kpi = np.asarray(keypoint).reshape(-1)
    vis = np.asarray(visibility, float).reshape(-1)
    if not (len(obj) == len(cls) == len(kpi) == len(vis) == n):
        raise ObjectKindError(
            "one object, class, keypoint index and visibility per point is needed",
            field="keypoint", value=(n, len(obj), len(cls), len(kpi), len(vis)),
        )  # fmt: skip
    d = coords.shape[1]
    segs, seg_cls, seg_obj = [], [], []
    for cid, sk in skeletons.items():
        if not sk.edges:
            continue
        k = len(sk.names)
        rows = np.flatnonzero((cls == cid) & (vis > 0) & (kpi >= 0) & (kpi < k))
        if not len(rows):
            continue
        uobj, inv = np.unique(obj[rows], return_inverse=True)
        table = np.full((len(uobj), k), -1, np.intp)  # object x keypoint -> row
        table[inv, kpi[rows].astype(np.intp)] = rows
        edges = np.asarray(sk.edges, np.intp)
        a, b = table[:, edges[:, 0]], table[:, edges[:, 1]]  # (objects, edges)
        ok = (a >= 0) & (b >= 0)
        oi, _ = np.nonzero(ok)
        ra, rb = a[ok], b[ok]
        if d > 2:  # both ends on one plane
            same = (np.round(coords[ra, :-2]) == np.round(coords[rb, :-2])).all(axis=1)
            oi, ra, rb = oi[same], ra[same], rb[same]
        segs.append(np.stack([coords[ra], coords[rb]], axis=1))
        seg_cls.append(np.full(len(ra), int(cid)))
        seg_obj.append(uobj[oi])
    if not segs:
        return np.zeros((0, 2, d)), np.zeros(0, int), np.zeros(0, int)
    return (
        np.concatenate(segs),
        np.concatenate(seg_cls).astype(int),
        np.concatenate(seg_obj).astype(int),
    )


def _rows_of_sets(
    sets: Sequence[Keypoints] | np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Keypoint sets as rows: ``(*plane, x, y)``, object, class, keypoint index, visibility."""
    coords, obj, cls, kpi, vis = [], [], [], [], []
    for j, kp in enumerate(sets):
        if not isinstance(kp, Keypoints):
            raise ObjectKindError(
                "keypoints are Keypoints sets, or rows given with objects, class_ids, "
                "keypoint and visibility", where=f"keypoints[{j}]", value=type(kp).__name__,
            )  # fmt: skip
        xyv = check_keypoints(kp.xyv, where=f"keypoints[{j}]")
        m = len(xyv)
        plane = np.broadcast_to(np.asarray(kp.plane, float), (m, len(kp.plane)))
        coords.append(np.hstack([plane, xyv[:, :2]]))
        obj.append(np.full(m, j))
        cls.append(np.full(m, int(kp.class_id)))
        kpi.append(np.arange(m))
        vis.append(xyv[:, 2])
    if not coords:
        z = np.zeros(0)
        return np.zeros((0, 2)), z, z, z, z
    if len({c.shape[1] for c in coords}) > 1:
        planes = sorted({c.shape[1] - 2 for c in coords})
        raise ObjectKindError("all keypoint sets must have planes of one length",
                              field="plane", value=planes)  # fmt: skip
    cat = np.concatenate
    return cat(coords), cat(obj), cat(cls), cat(kpi), cat(vis)
