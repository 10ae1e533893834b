"""Adjudication: turning two or more annotators' labels into one reviewed truth.

* :func:`difference_map`: where annotators A and B disagree, coloured by kind
  (:data:`DIFF_CODES`: only A, only B, class differs);
* :func:`decide_object`: one reviewer decision on one object (accept A, accept B, merge
  the two, or redraw: clear the region for the reviewer to paint), as an
  :class:`~napari_labelsuite.core.instances.InstanceEdit` of the reviewed label image;
* :func:`consensus`: a batch starting point, pixel-wise ``"majority"`` or object-wise
  ``"matching"`` (objects matched across annotators, kept when found by enough of them);
* :class:`DecisionLog`: every decision with reviewer and time, one JSON line each, in
  ``decisions.jsonl`` beside the assignments.

Objects are matched with the one matcher of :mod:`napari_labelsuite.core.qc.matching`.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy import ndimage, sparse
from scipy.sparse.csgraph import connected_components

from ..annotation import Box, ImageAnnotation, ObjectInfo
from ..convert import instances_to_semantic
from ..errors import TeamError
from ..fileio import locked_append
from ..instances.edits import InstanceEdit, Patch
from ..qc.matching import _lookup, match_boxes, match_instances
from ..qc.metrics import majority_vote
from ..qc.pairs import iter_blocks

__all__ = [
    "CONSENSUS_METHODS",
    "DECISIONS",
    "DIFF_CODES",
    "DecisionLog",
    "ObjectDecision",
    "consensus",
    "consensus_dataset",
    "decide_object",
    "decisions_path",
    "difference_map",
]

#: Codes of :func:`difference_map`.
DIFF_CODES = {1: "only A", 2: "only B", 3: "class differs"}
#: The decisions :func:`decide_object` knows.
DECISIONS = ("accept_a", "accept_b", "merge", "redraw")
CONSENSUS_METHODS = ("majority", "matching")


def _class_mask(ann: ImageAnnotation, sl: tuple[slice, ...] | None = None) -> np.ndarray | None:
    if ann.semantic is not None:
        return np.asarray(ann.semantic[sl] if sl is not None else ann.semantic)
    if ann.instances is not None:
        inst = ann.instances[sl] if sl is not None else ann.instances
        return np.asarray(instances_to_semantic(np.asarray(inst), ann.objects))
    return None


def _check_pair(a: ImageAnnotation, b: ImageAnnotation, names: tuple[str, str]) -> None:
    if tuple(a.shape) != tuple(b.shape):
        raise TeamError(
            f"{names[1]}'s labels have shape {tuple(b.shape)}, {names[0]}'s {tuple(a.shape)}",
            where=a.image_name,
            field="shape",
            value=tuple(b.shape),
        )
    if _class_mask_kind(a) is None or _class_mask_kind(b) is None:
        who = names[0] if _class_mask_kind(a) is None else names[1]
        raise TeamError(
            f"{who} has no mask (semantic or instances) on this image",
            where=a.image_name,
            field="masks",
        )


def _class_mask_kind(ann: ImageAnnotation) -> str | None:
    if ann.instances is not None:
        return "instances"
    return "semantic" if ann.semantic is not None else None


# -- the difference overlay -------------------------------------------------------------
def difference_map(
    a: ImageAnnotation,
    b: ImageAnnotation,
    iou_threshold: float = 0.5,
    names: tuple[str, str] = ("A", "B"),
    lazy: bool | None = None,
) -> Any:
    """A uint8 map of where ``a`` and ``b`` disagree (codes :data:`DIFF_CODES`).

    3 (class differs): both label the pixel, with different classes. With instances on
    both sides, objects are matched one to one at ``iou_threshold``: 1 (only A) marks
    pixels of an A object that its matched B object (if any) does not cover, 2 (only B)
    the same for B. Without instances: 1 where only A labels the pixel, 2 where only B.

    With ``lazy`` (default: when a mask is not a numpy array, e.g. a store's zarr label
    image) the map is a dask array computed block by block as it is viewed; the matching
    itself reads the masks block by block first.

    Raises
    ------
    TeamError
        The two label images differ in shape, or one has no mask.
    """
    _check_pair(a, b, names)
    shape = tuple(a.shape)
    both_inst = a.instances is not None and b.instances is not None
    a_ids = a_partner = b_ids = b_partner = np.zeros(0, np.int64)
    if both_inst:
        m = match_instances(a.instances, b.instances, iou_threshold)
        oa, ob = np.argsort(m.a), np.argsort(m.b)
        a_ids, a_partner = m.a[oa], m.b[oa]
        b_ids, b_partner = m.b[ob], m.a[ob]

    def block(sl: tuple[slice, ...]) -> np.ndarray:
        ca, cb = _class_mask(a, sl), _class_mask(b, sl)
        assert ca is not None and cb is not None
        blk = np.zeros(ca.shape, np.uint8)
        if both_inst:
            assert a.instances is not None and b.instances is not None
            av = np.asarray(a.instances[sl]).astype(np.int64)
            bv = np.asarray(b.instances[sl]).astype(np.int64)
            pa = _lookup(a_ids, a_partner, av, -1)
            pb = _lookup(b_ids, b_partner, bv, -1)
            blk[(bv != 0) & (av != pb)] = 2
            blk[(av != 0) & (bv != pa)] = 1
        else:
            blk[(cb != 0) & (ca == 0)] = 2
            blk[(ca != 0) & (cb == 0)] = 1
        blk[(ca != 0) & (cb != 0) & (ca != cb)] = 3
        return blk

    masks = [x for x in (a.semantic, a.instances, b.semantic, b.instances) if x is not None]
    if lazy is None:
        lazy = not all(isinstance(x, np.ndarray) for x in masks)
    if lazy:
        import dask.array as da

        chunks = getattr(a.instances if a.instances is not None else a.semantic, "chunks", None)
        if not isinstance(chunks, tuple) or len(chunks) != len(shape):
            chunks = tuple(min(s, 1024) for s in shape)

        def lazy_block(block_info: Any = None) -> np.ndarray:
            where = block_info[None]["array-location"]
            return block(tuple(slice(lo, hi) for lo, hi in where))

        return da.map_blocks(
            lazy_block, dtype=np.uint8, chunks=da.core.normalize_chunks(chunks, shape)
        )
    out = np.zeros(shape, np.uint8)
    for sl in iter_blocks(shape):
        out[sl] = block(sl)
    return out


# -- one decision on one object -------------------------------------------------------
class ObjectDecision:
    """What one decision changes in the reviewed label image.

    Attributes
    ----------
    edit : InstanceEdit
        The pixels to write (one patch over the affected window).
    objects : dict[int, ObjectInfo]
        The reviewed table rows the decision creates (the decided object).
    removed : list of int
        Reviewed ids the decision replaced.
    reviewed_id : int or None
        The id of the decided object in the reviewed image (None after ``redraw``).
    a_id, b_id : int or None
        The A and B objects of the unit decided on.
    """

    def __init__(
        self,
        edit: InstanceEdit,
        objects: dict[int, ObjectInfo],
        removed: list[int],
        reviewed_id: int | None,
        a_id: int | None,
        b_id: int | None,
        class_id: int | None,
    ) -> None:
        self.edit = edit
        self.objects = objects
        self.removed = removed
        self.reviewed_id = reviewed_id
        self.a_id = a_id
        self.b_id = b_id
        self.class_id = class_id


def _extents(arr: Any, ids: Sequence[int]) -> dict[int, tuple[tuple[slice, ...], int]]:
    """Bounding box and pixel count of each of ``ids`` in ``arr``, read block by block.

    Only one block of a lazy (zarr, dask) array is in memory at a time.
    """
    wanted = np.asarray(sorted({int(i) for i in ids if int(i) != 0}), np.int64)
    lo: dict[int, np.ndarray] = {}
    hi: dict[int, np.ndarray] = {}
    area: dict[int, int] = {}
    if not len(wanted):
        return {}
    for sl in iter_blocks(tuple(arr.shape)):
        block = np.asarray(arr[sl])
        hit = np.isin(block, wanted)
        if not hit.any():
            continue
        start = np.array([s.start or 0 for s in sl])
        for v in np.unique(block[hit]):
            coords = np.nonzero(block == v)
            first = np.array([c.min() for c in coords]) + start
            last = np.array([c.max() for c in coords]) + start + 1
            k = int(v)
            lo[k] = np.minimum(lo[k], first) if k in lo else first
            hi[k] = np.maximum(hi[k], last) if k in hi else last
            area[k] = area.get(k, 0) + int(coords[0].size)
    return {k: (tuple(slice(int(a), int(b)) for a, b in zip(lo[k], hi[k])), area[k]) for k in area}


def _max_id(arr: Any) -> int:
    """The largest id in ``arr``, read block by block (0 when empty)."""
    return max((int(np.asarray(arr[sl]).max()) for sl in iter_blocks(tuple(arr.shape))), default=0)


def _cover(*boxes: tuple[slice, ...]) -> tuple[slice, ...]:
    """The smallest box holding all ``boxes``."""
    nd = len(boxes[0])
    return tuple(
        slice(min(b[d].start for b in boxes), max(b[d].stop for b in boxes)) for d in range(nd)
    )


def decide_object(
    reviewed: Any,
    reviewed_objects: Mapping[int, ObjectInfo],
    a: ImageAnnotation,
    b: ImageAnnotation,
    object_id: int,
    decision: str,
    *,
    source: str = "a",
    reviewer: str | None = None,
    names: tuple[str, str] = ("A", "B"),
) -> ObjectDecision:
    """One reviewer decision on the object ``object_id`` of annotator ``source``.

    The *unit* decided on is that object and its partner in the other annotator's labels
    (the object overlapping it with the highest IoU, if any). The reviewed objects lying
    mostly (at least half their pixels) inside the unit are replaced by:

    * ``"accept_a"``: A's object of the unit, with A's class;
    * ``"accept_b"``: B's object, with B's class;
    * ``"merge"``: the union of both, with the class of ``source``'s object;
    * ``"redraw"``: nothing; the unit's pixels are cleared for the reviewer to paint.

    Parameters
    ----------
    reviewed : ndarray of int
        The reviewed instance label image (not changed: apply the returned edit).
    reviewed_objects : mapping
        Its instance id -> class table.
    a, b : ImageAnnotation
        The two annotators' labels (instances and objects).
    object_id : int
        An instance id in ``source``'s labels.
    source : {"a", "b"}
    reviewer : str, optional
        Recorded on the decided object (``reviewer``, ``reviewed_at``, status "approved").

    Raises
    ------
    TeamError
        Unknown decision or source, an id that ``source`` does not have, no instances,
        or label images of different shapes.
    """
    if decision not in DECISIONS:
        raise TeamError(f"decision must be one of {DECISIONS}", field="decision", value=decision)
    if source not in ("a", "b"):
        raise TeamError("source must be 'a' or 'b'", field="source", value=source)
    _check_pair(a, b, names)
    if a.instances is None or b.instances is None:
        raise TeamError("deciding per object needs instance labels from both", field="instances")
    if tuple(reviewed.shape) != tuple(a.shape):
        raise TeamError(
            f"the reviewed labels have shape {tuple(reviewed.shape)}, the annotators' "
            f"{tuple(a.shape)}",
            field="shape",
            value=tuple(reviewed.shape),
        )
    src, other = (a, b) if source == "a" else (b, a)
    found = _extents(src.instances, [object_id]) if not isinstance(object_id, bool) else {}
    if int(object_id) not in found:
        who = names[0] if source == "a" else names[1]
        raise TeamError(
            f"{who}'s labels have no object with this id", field="object_id", value=object_id
        )
    box, obj_area = found[int(object_id)]
    # the partner: the other's object of highest IoU with this one (its full extent counts)
    obj = np.asarray(src.instances[box]) == int(object_id)
    cand, inter = np.unique(np.asarray(other.instances[box])[obj], return_counts=True)
    inter, cand = inter[cand != 0], cand[cand != 0]
    partner: int | None = None
    unit = box
    if len(cand):
        ext = _extents(other.instances, cand.tolist())
        areas = np.array([ext[int(c)][1] for c in cand])
        best = int(np.argmax(inter / (areas + obj_area - inter)))
        partner = int(cand[best])
        unit = _cover(box, ext[partner][0])
    # reviewed objects mostly inside the unit are replaced (their whole extent is cleared)
    src_w = np.asarray(src.instances[unit]) == int(object_id)
    other_w = (
        np.asarray(other.instances[unit]) == partner
        if partner is not None
        else np.zeros_like(src_w)
    )
    a_mask, b_mask = (src_w, other_w) if source == "a" else (other_w, src_w)
    a_id, b_id = (object_id, partner) if source == "a" else (partner, object_id)
    union = a_mask | b_mask
    ids, inside = np.unique(np.asarray(reviewed[unit])[union], return_counts=True)
    rev_ext = _extents(reviewed, [int(i) for i in ids if i != 0])
    replaced = [int(i) for i, n in zip(ids, inside) if i != 0 and n * 2 >= rev_ext[int(i)][1]]
    window = _cover(unit, *(rev_ext[i][0] for i in replaced))
    rev = np.array(reviewed[window], copy=True)
    inner = tuple(slice(u.start - w.start, u.stop - w.start) for u, w in zip(unit, window))
    clear = np.zeros(rev.shape, bool)
    clear[inner] = union
    for i in replaced:
        clear |= rev == i
    paint = np.zeros(rev.shape, bool)
    if decision == "accept_a":
        paint[inner], cid = a_mask, _object_class(a, a_id)
    elif decision == "accept_b":
        paint[inner], cid = b_mask, _object_class(b, b_id)
    elif decision == "merge":
        paint[inner], cid = union, _object_class(src, object_id)
    else:
        cid = None
    if not paint.any():
        cid = None
    new_id: int | None = None
    if cid is not None:
        top = max([_max_id(reviewed), *map(int, reviewed_objects)])
        new_id = min(replaced) if replaced else top + 1
    values = rev
    values[clear] = 0
    if new_id is not None:
        values[paint] = new_id
    rows: dict[int, ObjectInfo] = {}
    if new_id is not None and cid is not None:
        now = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
        rows[new_id] = ObjectInfo(
            int(cid), status="approved", reviewer=reviewer, reviewed_at=now if reviewer else None
        )
    removed = sorted(i for i in replaced if i != new_id)
    edit = InstanceEdit(patches=[Patch(window, values)], removed=set(removed))
    return ObjectDecision(
        edit,
        rows,
        removed,
        new_id,
        None if a_id is None else int(a_id),
        None if b_id is None else int(b_id),
        None if cid is None else int(cid),
    )


def _object_class(ann: ImageAnnotation, oid: int | None) -> int | None:
    if oid is None:
        return None
    info = ann.objects.get(int(oid))
    return int(info.class_id) if info is not None else None


# -- batch consensus -------------------------------------------------------------------
def _votes_needed(n: int, min_annotators: int | None) -> int:
    k = n // 2 + 1 if min_annotators is None else int(min_annotators)
    if isinstance(min_annotators, bool) or not 1 <= k <= n:
        raise TeamError(
            f"min_annotators must be in 1..{n} (the number of annotators)",
            field="min_annotators",
            value=min_annotators,
        )
    return k


def _vote_semantic(masks: list[Any], names: list[str], tie: int | str) -> np.ndarray:
    """Per-pixel majority class; ties 0, or the value of annotator ``tie``."""
    if isinstance(tie, str):
        if tie not in names:
            raise TeamError(
                "the tie-breaking annotator has no labels here", field="tie", value=tie
            )
        dtype = np.result_type(*[np.dtype(m.dtype) for m in masks])
        sentinel = np.iinfo(dtype).max if np.dtype(dtype).kind in "iu" else -1
        voted = majority_vote(masks, tie=int(sentinel))
        pick = np.asarray(masks[names.index(tie)])
        return np.where(voted == sentinel, pick, voted).astype(dtype)
    return majority_vote(masks, tie=int(tie))


def _groups(
    n_items: list[int], edges: list[tuple[int, int, np.ndarray, np.ndarray]]
) -> list[list[tuple[int, int]]]:
    """Connected groups of (annotator, item index) through matched pairs."""
    offsets = np.concatenate([[0], np.cumsum(n_items)]).astype(np.int64)
    total = int(offsets[-1])
    if total == 0:
        return []
    rows = [offsets[i] + ia for i, _, ia, _ in edges]
    cols = [offsets[j] + ib for _, j, _, ib in edges]
    r = np.concatenate(rows) if rows else np.zeros(0, np.int64)
    c = np.concatenate(cols) if cols else np.zeros(0, np.int64)
    g = sparse.coo_matrix((np.ones(len(r)), (r, c)), shape=(total, total))
    _, comp = connected_components(g, directed=False)
    who = np.searchsorted(offsets, np.arange(total), side="right") - 1
    out: dict[int, list[tuple[int, int]]] = {}
    for node in range(total):
        out.setdefault(int(comp[node]), []).append(
            (int(who[node]), int(node - offsets[who[node]]))
        )
    return sorted(out.values())


def _majority_class(classes: list[int]) -> int:
    """The most common class; a tie goes to the one met first (annotator order)."""
    counts: dict[int, int] = {}
    for c in classes:
        counts[c] = counts.get(c, 0) + 1
    best = max(counts.values())
    return next(c for c in classes if counts[c] == best)


def _match_objects(anns: list[ImageAnnotation], k: int, iou: float) -> tuple[Any, dict]:
    """Instance consensus through matching: groups found by >= k annotators."""
    masks = [np.asarray(a.instances) for a in anns]
    ids = [np.unique(m) for m in masks]
    ids = [i[i != 0] for i in ids]
    edges = []
    for i in range(len(masks)):
        for j in range(i + 1, len(masks)):
            m = match_instances(masks[i], masks[j], iou)
            edges.append((i, j, np.searchsorted(ids[i], m.a), np.searchsorted(ids[j], m.b)))
    boxes = [ndimage.find_objects(m) if m.size and m.max() > 0 else [] for m in masks]
    groups = [g for g in _groups([len(i) for i in ids], edges) if len({w for w, _ in g}) >= k]
    shape = masks[0].shape
    out = np.zeros(shape, np.int32)
    objects: dict[int, ObjectInfo] = {}
    # bigger objects first, so that a small one overlapping a big one stays visible
    sized = []
    for g in groups:
        members = [(w, int(ids[w][x])) for w, x in g]
        sl = _union_slices([boxes[w][oid - 1] for w, oid in members])
        count = np.zeros(tuple(s.stop - s.start for s in sl), np.int32)
        for w, oid in members:
            count += masks[w][sl] == oid
        keep = count * 2 >= len(members)  # at least half the matched members
        cls = _majority_class([_object_class(anns[w], oid) or 0 for w, oid in members])
        sized.append((-int(keep.sum()), members[0], sl, keep, cls))
    for new_id, (_, _, sl, keep, cls) in enumerate(sorted(sized, key=lambda t: t[:2]), start=1):
        region = out[sl]
        region[keep] = new_id
        objects[new_id] = ObjectInfo(int(cls))
    present = set(np.unique(out).tolist()) - {0}
    return out, {i: o for i, o in objects.items() if i in present}


def _union_slices(slices: list[Any]) -> tuple[slice, ...]:
    sl = [s for s in slices if s is not None]
    nd = len(sl[0])
    return tuple(slice(min(s[d].start for s in sl), max(s[d].stop for s in sl)) for d in range(nd))


def _match_box_lists(box_lists: list[list[Box]], k: int, iou: float) -> list[Box]:
    edges = []
    for i in range(len(box_lists)):
        for j in range(i + 1, len(box_lists)):
            m = match_boxes(box_lists[i], box_lists[j], iou)
            edges.append((i, j, m.a, m.b))
    out = []
    for g in _groups([len(b) for b in box_lists], edges):
        if len({w for w, _ in g}) < k:
            continue
        members = [box_lists[w][x] for w, x in g]
        xyxy = np.mean([bx.xyxy for bx in members], axis=0)
        first = members[0]
        out.append(
            Box(
                float(xyxy[0]),
                float(xyxy[1]),
                float(xyxy[2]),
                float(xyxy[3]),
                class_id=_majority_class([int(bx.class_id) for bx in members]),
                plane=tuple(first.plane),
            )
        )
    return out


def consensus(
    annotations: Mapping[str, ImageAnnotation],
    method: str = "majority",
    *,
    min_annotators: int | None = None,
    iou_threshold: float = 0.5,
    tie: int | str = 0,
) -> ImageAnnotation:
    """A consensus of several annotators' labels of one image, as a starting point.

    Parameters
    ----------
    annotations : mapping
        Annotator name -> their annotation (two or more, same shape).
    method : {"majority", "matching"}
        ``"majority"``: the class of each pixel is the one a strict majority of annotators
        chose (``tie`` otherwise); instances are the connected objects of the voted class
        mask. ``"matching"``: objects are matched across annotators (one-to-one per pair
        at ``iou_threshold``, groups joined through their matches) and kept when found by
        at least ``min_annotators``; an object's pixels are those covered by at least half
        of its group's members and its class is the group's most common one. The class
        mask is the pixel majority in both methods.
    min_annotators : int, optional
        For ``"matching"`` (and the boxes of either method); default a majority.
    iou_threshold : float
        Minimum IoU of a match.
    tie : int or str
        A pixel without a majority gets this class, or the class of this annotator.

    Matched boxes are averaged (their class the most common one) in both methods.

    Raises
    ------
    TeamError
        Fewer than two annotations, shapes differ, a bad method, ``min_annotators`` or
        ``tie``.
    """
    if method not in CONSENSUS_METHODS:
        raise TeamError(f"method must be one of {CONSENSUS_METHODS}", field="method", value=method)
    names = list(annotations)
    anns = [annotations[n] for n in names]
    if len(anns) < 2:
        raise TeamError("consensus needs two or more annotators", field="annotators", value=names)
    for n, a in zip(names[1:], anns[1:]):
        if tuple(a.shape) != tuple(anns[0].shape):
            raise TeamError(
                f"{n}'s labels have shape {tuple(a.shape)}, {names[0]}'s {tuple(anns[0].shape)}",
                where=anns[0].image_name,
                field="shape",
                value=tuple(a.shape),
            )
    k = _votes_needed(len(anns), min_annotators)
    shape = tuple(anns[0].shape)
    out = ImageAnnotation(anns[0].image_name, shape, axes=anns[0].axes)
    class_masks = [_class_mask(a) for a in anns]
    if all(m is not None for m in class_masks):
        voted = _vote_semantic(class_masks, names, tie)
        if all(a.semantic is not None for a in anns):
            out.semantic = voted
        if all(a.instances is not None for a in anns):
            if method == "matching":
                out.instances, out.objects = _match_objects(anns, k, iou_threshold)
            else:
                out.instances, out.objects = _components(voted)
    if all(a.boxes for a in anns):
        out.boxes = _match_box_lists([list(a.boxes) for a in anns], k, iou_threshold)
    out.metadata["consensus"] = {
        "method": method,
        "annotators": names,
        "min_annotators": k,
        "iou_threshold": float(iou_threshold),
    }
    return out


def _components(class_mask: np.ndarray) -> tuple[np.ndarray, dict[int, ObjectInfo]]:
    """Instances as the connected objects of each class of a class mask."""
    out = np.zeros(class_mask.shape, np.int32)
    objects: dict[int, ObjectInfo] = {}
    top = 0
    for c in np.unique(class_mask):
        if c == 0:
            continue
        lab, n = ndimage.label(class_mask == c)
        out[lab > 0] = lab[lab > 0] + top
        for i in range(1, n + 1):
            objects[top + i] = ObjectInfo(int(c))
        top += n
    return out, objects


# -- the decision log -----------------------------------------------------------------
def decisions_path(ds: Any) -> Path:
    """The adjudication log of dataset ``ds``, beside its assignments."""
    from .assignments import assignments_path

    return assignments_path(ds).parent / "decisions.jsonl"


class DecisionLog:
    """Adjudication decisions, one JSON object per line, appended under a file lock.

    Each entry holds ``reviewer``, ``time`` (ISO 8601, UTC), ``image``, ``decision`` and
    the decision's details (annotators, object ids, class, method).
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)

    def append(self, reviewer: str, image: str, decision: str, **details: Any) -> dict[str, Any]:
        entry = {
            "reviewer": str(reviewer),
            "time": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            "image": str(image),
            "decision": str(decision),
            **details,
        }
        line = (json.dumps(entry, sort_keys=True, default=_plain) + "\n").encode()
        with locked_append(self.path) as fd:
            os.write(fd, line)
        return entry

    def entries(self) -> list[dict[str, Any]]:
        """Every decision, oldest first.

        Raises
        ------
        TeamError
            A line that is not a JSON object (names the line).
        """
        if not self.path.is_file():
            return []
        out = []
        for n, line in enumerate(self.path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                e = json.loads(line)
            except json.JSONDecodeError as exc:
                raise TeamError(
                    f"not JSON: {exc.msg}", path=self.path, where=f"line {n}"
                ) from None
            if not isinstance(e, dict):
                raise TeamError("not a JSON object", path=self.path, where=f"line {n}")
            out.append(e)
        return out


def _plain(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, np.ndarray):
        return v.tolist()
    return str(v)


def team_annotations_of(
    by_annotator: Mapping[str, Mapping[Any, ImageAnnotation]], keys: Sequence[Any] | None = None
) -> dict[Any, dict[str, ImageAnnotation]]:
    """``{annotator: {image: ann}}`` turned into ``{image: {annotator: ann}}``."""
    out: dict[Any, dict[str, ImageAnnotation]] = {}
    for who, anns in by_annotator.items():
        for key, ann in anns.items():
            if keys is None or key in keys:
                out.setdefault(key, {})[who] = ann
    return out


def _has_reviewed(ds: Any, i: int) -> bool:
    """Item ``i`` has a reviewed annotation: a sidecar, or a store's own label images."""
    if ds[i].kind != "store":
        return bool(ds.has_annotation(i))
    from ..store import MaskStore
    from .labels import parse_annotator_label_name

    with MaskStore.open(str(ds[i].path), "r") as st:
        return any(parse_annotator_label_name(n)[1] is None for n in st.label_names())


def consensus_dataset(
    ds: Any,
    method: str = "majority",
    *,
    min_annotators: int | None = None,
    iou_threshold: float = 0.5,
    tie: int | str = 0,
    force: bool = False,
    reviewer: str = "unknown",
    progress: Any = None,
) -> dict[str, Any]:
    """Write the annotators' consensus as the reviewed annotation of each overlap image.

    All consensus annotations are computed first; nothing is written when one fails, or
    when an overlap image already has a reviewed annotation and ``force`` is False.
    Each image written is one decision (``consensus``) in ``decisions.jsonl``.

    Returns
    -------
    dict
        ``images`` (keys written), ``objects`` (consensus objects per key), ``boxes``
        (consensus boxes per key), ``method``, ``min_annotators``.

    Raises
    ------
    TeamError
        No overlap image, an annotator's labels of another shape, bad parameters, or
        reviewed annotations that would be overwritten (naming them).
    """
    from .agreement import check_team_annotations, dataset_team_annotations

    anns, _ = dataset_team_annotations(ds)
    check_team_annotations(anns)
    index = {item.key: i for i, item in enumerate(ds)}
    keys = [k for k in index if len(anns.get(k, {})) >= 2]
    existing = [k for k in keys if _has_reviewed(ds, index[k])]
    if existing and not force:
        raise TeamError(
            f"{len(existing)} overlap image(s) already have a reviewed annotation; "
            "use --force (force=True) to replace them",
            path=ds.annotation_dir,
            field="force",
            value=existing[:5],
        )
    results = {}
    for done, k in enumerate(keys, start=1):
        by = {w: anns[k][w] for w in anns[k]}
        for a in by.values():  # lazy store arrays: the consensus is computed in memory
            for role in ("semantic", "instances"):
                if getattr(a, role) is not None:
                    setattr(a, role, np.asarray(getattr(a, role)))
        results[k] = consensus(
            by, method, min_annotators=min_annotators, iou_threshold=iou_threshold, tie=tie
        )
        if progress is not None:
            progress(done, len(keys))
    log = DecisionLog(decisions_path(ds))
    for k, ann in results.items():
        ann.image_name = k
        ds.save_annotation(index[k], ann)
        log.append(reviewer, k, "consensus", **ann.metadata["consensus"])
    first = next(iter(results.values()), None)
    return {
        "images": list(results),
        "objects": {k: len(a.objects) for k, a in results.items()},
        "boxes": {k: len(a.boxes) for k, a in results.items()},
        "method": method,
        "min_annotators": None if first is None else first.metadata["consensus"]["min_annotators"],
    }
