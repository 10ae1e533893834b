"""Guideline versions: which labels were made under an older definition of their class.

The taxonomy carries a ``version`` that counts up each time a class's guideline (its
``description``) changes, and each class keeps the version in which its guideline last
changed (``LabelClass.guideline_version``). An annotation records the taxonomy version it
was saved under in ``metadata["taxonomy_version"]`` (absent: version 1). A label of a class
whose guideline changed after that version was made under the old guideline.

Saving an image again must not make old labels look new, so each label also keeps the
version it was last *changed* under, in ``metadata["label_versions"]``::

    {"default": 1, "objects": {"7": 3}, "boxes": [1, 3], "semantic": {"2": 3}}

(instance id, box index, semantic class -> version; ``default`` for what is not listed).
:func:`stamp_label_versions` carries the versions of unchanged labels over from the
annotation as it was loaded and gives changed or new ones the current version.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..annotation import ImageAnnotation
from ..qc.checks import Finding
from ..qc.pairs import iter_blocks
from ..taxonomy import Taxonomy

__all__ = [
    "LABEL_VERSIONS_KEY",
    "TAXONOMY_VERSION_KEY",
    "annotation_taxonomy_version",
    "label_versions",
    "outdated_classes",
    "outdated_guidelines",
    "stamp_label_versions",
    "stamp_taxonomy_version",
]

#: Key of the taxonomy version in an annotation's metadata (sidecars and stores).
TAXONOMY_VERSION_KEY = "taxonomy_version"
#: Key of the per-label versions in an annotation's metadata.
LABEL_VERSIONS_KEY = "label_versions"
CHECK_NAME = "outdated_guideline"


def annotation_taxonomy_version(ann: ImageAnnotation) -> int:
    """The taxonomy version ``ann`` was saved under (1 when it does not say)."""
    v = ann.metadata.get(TAXONOMY_VERSION_KEY, 1)
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        return 1
    return v


def stamp_taxonomy_version(ann: ImageAnnotation, taxonomy: Taxonomy) -> ImageAnnotation:
    """Record ``taxonomy.version`` in ``ann.metadata`` (in place; returns ``ann``)."""
    ann.metadata[TAXONOMY_VERSION_KEY] = int(taxonomy.version)
    return ann


def _version(v: Any, default: int) -> int:
    return v if isinstance(v, int) and not isinstance(v, bool) and v >= 1 else default


def label_versions(ann: ImageAnnotation) -> dict[str, Any]:
    """The version each label of ``ann`` was last changed under.

    Returns ``{"default": v, "objects": {id: v}, "boxes": [v, ...], "semantic": {id: v},
    "semantic_default": v}`` with integer keys; labels not listed (and annotations saved
    before per-label versions) take ``default``, the annotation's
    :func:`annotation_taxonomy_version`. Malformed entries fall back to ``default``.
    """
    base = annotation_taxonomy_version(ann)
    raw = ann.metadata.get(LABEL_VERSIONS_KEY)
    raw = raw if isinstance(raw, dict) else {}
    default = _version(raw.get("default"), base)

    def ids(d: Any) -> dict[int, int]:
        out: dict[int, int] = {}
        for k, v in d.items() if isinstance(d, dict) else ():
            try:
                out[int(k)] = _version(v, default)
            except (TypeError, ValueError):
                continue
        return out

    boxes = raw.get("boxes")
    return {
        "default": default,
        "objects": ids(raw.get("objects")),
        "boxes": [_version(v, default) for v in boxes] if isinstance(boxes, list) else [],
        "semantic": ids(raw.get("semantic")),
        "semantic_default": _version(raw.get("semantic_default"), default),
    }


def _changed_ids(before: Any, after: Any) -> set[int] | None:
    """Label values whose pixels differ between two masks; None when that is not cheap
    (a mask missing or not in memory, or shapes differ): then everything counts as changed."""
    if not isinstance(before, np.ndarray) or not isinstance(after, np.ndarray):
        return None
    if before.shape != after.shape:
        return None
    diff = before != after
    if not diff.any():
        return set()
    return {int(v) for v in np.unique(before[diff])} | {int(v) for v in np.unique(after[diff])}


def stamp_label_versions(
    before: ImageAnnotation | None, after: ImageAnnotation, taxonomy: Taxonomy
) -> ImageAnnotation:
    """Record in ``after.metadata`` the taxonomy version and each label's version.

    ``before`` is the annotation as it was loaded (None for a new one). An instance keeps
    its version when its class and pixels did not change, a box when an equal box was
    there, a semantic class when none of its pixels changed; everything else gets
    ``taxonomy.version``. Masks are compared in memory only (lazy masks count as
    changed). Changes ``after`` in place and returns it.
    """
    now = int(taxonomy.version)
    old = label_versions(before) if before is not None else None
    objects: dict[str, int] = {}
    boxes: list[int] = []
    semantic: dict[str, int] = {}
    if before is None or old is None:
        default = semantic_default = now
        objects = {str(i): now for i in after.objects}
        boxes = [now] * len(after.boxes)
    else:
        default, semantic_default = old["default"], old["semantic_default"]
        changed = _changed_ids(before.instances, after.instances)
        for iid, o in after.objects.items():
            prev = before.objects.get(iid)
            same = (
                prev is not None
                and prev.class_id == o.class_id
                and changed is not None
                and iid not in changed
            )
            objects[str(iid)] = old["objects"].get(iid, default) if same else now
        unused = list(enumerate(before.boxes))
        for b in after.boxes:
            match = next((j for j, (_, pb) in enumerate(unused) if pb == b), None)
            if match is None:
                boxes.append(now)
            else:
                k, _ = unused.pop(match)
                boxes.append(old["boxes"][k] if k < len(old["boxes"]) else default)
        sem_changed = _changed_ids(before.semantic, after.semantic)
        if after.semantic is not None:
            if sem_changed is None:  # not comparable: every class of the mask counts as new
                semantic_default = now
            else:
                keep = dict(old["semantic"])
                keep.update(dict.fromkeys(sem_changed, now))
                semantic = {str(c): v for c, v in sorted(keep.items()) if c != 0}
    after.metadata[TAXONOMY_VERSION_KEY] = now
    after.metadata[LABEL_VERSIONS_KEY] = {
        "default": default,
        "objects": objects,
        "boxes": boxes,
        "semantic": semantic,
        "semantic_default": semantic_default,
    }
    return after


def outdated_classes(version: int, taxonomy: Taxonomy) -> dict[int, int]:
    """Class id -> guideline version, for classes whose guideline changed after ``version``."""
    return {c.id: c.guideline_version for c in taxonomy if c.guideline_version > version}


def outdated_guidelines(ann: ImageAnnotation, taxonomy: Taxonomy) -> list[Finding]:
    """QC findings for labels of ``ann`` made under an older guideline of their class.

    One finding per instance, box, rotated box, polygon or keypoint set of such a class,
    and one per semantic class present in the semantic mask (read block by block, and
    only when some class is outdated).
    """
    lv = label_versions(ann)
    made = min([lv["default"], lv["semantic_default"], *lv["objects"].values(), *lv["boxes"],
                *lv["semantic"].values()])  # fmt: skip
    old = outdated_classes(made, taxonomy)
    if not old:
        return []
    out: list[Finding] = []

    def add(cid: int, version: int, what: str, **where: Any) -> None:
        if cid not in old or taxonomy[cid].guideline_version <= version:
            return
        c = taxonomy[cid]
        text = (
            f"{what} of class '{c.name}' was labelled under guideline version {version}; "
            f"the guideline changed in version {c.guideline_version}"
        )
        out.append(
            Finding(CHECK_NAME, text, "warning", ann.image_name, class_id=cid,
                    value={"made_under": version, "guideline_version": c.guideline_version},
                    **where)
        )  # fmt: skip

    default = lv["default"]
    for iid, o in sorted(ann.objects.items()):
        v = lv["objects"].get(int(iid), default)
        add(o.class_id, v, f"instance {iid}", instance_id=int(iid), status=o.status)
    for k, b in enumerate(ann.boxes):
        v = lv["boxes"][k] if k < len(lv["boxes"]) else default
        add(b.class_id, v, f"box {k}", box_index=k)
    for kind in ("rotated", "polygons", "keypoints"):
        for k, obj in enumerate(getattr(ann, kind, []) or []):
            cid = getattr(obj, "class_id", None)
            if isinstance(cid, (int, np.integer)):
                add(int(cid), default, f"{kind} {k}")
    if ann.semantic is not None:
        sem_default = lv["semantic_default"]
        sem = lv["semantic"]
        wanted = {c for c in old if taxonomy[c].guideline_version > sem.get(c, sem_default)}
        for cid in sorted(_classes_present(ann.semantic, wanted) if wanted else ()):
            add(cid, lv["semantic"].get(cid, sem_default), "semantic label")
    return out


def _classes_present(mask: Any, wanted: set[int]) -> set[int]:
    """Which of ``wanted`` occur in ``mask``, reading it block by block (lazy arrays)."""
    found: set[int] = set()
    ids = np.array(sorted(wanted))
    for sl in iter_blocks(tuple(mask.shape)):
        block = np.asarray(mask[sl])
        hit = np.isin(ids, block)
        found.update(int(i) for i in ids[hit])
        if len(found) == len(ids):
            break
    return found
