"""Guideline versions: which labels were made under an older definition of their class.

The taxonomy carries a ``version`` that counts up each time a class's guideline (its
``description``) changes, and each class keeps the version in which its guideline last
changed (``LabelClass.guideline_version``). An annotation records the taxonomy version it
was saved under in ``metadata["taxonomy_version"]`` (absent: version 1). A label of a class
whose guideline changed after that version was made under the old guideline.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..annotation import ImageAnnotation
from ..qc.checks import Finding
from ..qc.pairs import iter_blocks
from ..taxonomy import Taxonomy

__all__ = [
    "TAXONOMY_VERSION_KEY",
    "annotation_taxonomy_version",
    "outdated_classes",
    "outdated_guidelines",
    "stamp_taxonomy_version",
]

#: Key of the taxonomy version in an annotation's metadata (sidecars and stores).
TAXONOMY_VERSION_KEY = "taxonomy_version"
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


def outdated_classes(version: int, taxonomy: Taxonomy) -> dict[int, int]:
    """Class id -> guideline version, for classes whose guideline changed after ``version``."""
    return {c.id: c.guideline_version for c in taxonomy if c.guideline_version > version}


def outdated_guidelines(ann: ImageAnnotation, taxonomy: Taxonomy) -> list[Finding]:
    """QC findings for labels of ``ann`` made under an older guideline of their class.

    One finding per instance, box, rotated box, polygon or keypoint set of such a class,
    and one per semantic class present in the semantic mask (read block by block, and
    only when some class is outdated).
    """
    made = annotation_taxonomy_version(ann)
    old = outdated_classes(made, taxonomy)
    if not old:
        return []
    out: list[Finding] = []

    def msg(cid: int, what: str) -> str:
        c = taxonomy[cid]
        return (
            f"{what} of class '{c.name}' was labelled under guideline version {made}; the "
            f"guideline changed in version {old[cid]}"
        )

    def add(cid: int, what: str, **where: Any) -> None:
        out.append(
            Finding(CHECK_NAME, msg(cid, what), "warning", ann.image_name, class_id=cid,
                    value={"made_under": made, "guideline_version": old[cid]}, **where)
        )  # fmt: skip

    for iid, o in sorted(ann.objects.items()):
        if o.class_id in old:
            add(o.class_id, f"instance {iid}", instance_id=int(iid), status=o.status)
    for k, b in enumerate(ann.boxes):
        if b.class_id in old:
            add(b.class_id, f"box {k}", box_index=k)
    for kind in ("rotated", "polygons", "keypoints"):
        for k, obj in enumerate(getattr(ann, kind, []) or []):
            cid = getattr(obj, "class_id", None)
            if cid in old:
                add(int(cid), f"{kind} {k}")
    if ann.semantic is not None:
        present = _classes_present(ann.semantic, set(old))
        for cid in sorted(present):
            add(cid, "semantic label")
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
