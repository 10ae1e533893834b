"""Dataset statistics from per-image summaries (what ``napari-labelsuite stats`` prints)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .annotation import REVIEW_STATUSES

__all__ = ["annotation_stats"]


def annotation_stats(summaries: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Dataset totals from per-image :func:`~napari_labelsuite.core.dataset.summarize` dicts."""
    total: dict[str, Any] = {
        "images": len(summaries),
        "labeled": sum(bool(s["labeled"]) for s in summaries),
        "reviewed": sum(bool(s["reviewed"]) for s in summaries),
        "instances": sum(s["n_objects"] for s in summaries),
        "boxes": sum(s["n_boxes"] for s in summaries),
        **{st: sum(s.get(st, 0) for s in summaries) for st in REVIEW_STATUSES},
        "classes": {},
    }
    for s in summaries:
        for key, col in (
            ("objects_per_class", "instances"),
            ("boxes_per_class", "boxes"),
            ("semantic_pixels", "pixels"),
        ):
            for cid, n in s.get(key, {}).items():
                row = total["classes"].setdefault(
                    str(cid), {"instances": 0, "boxes": 0, "pixels": 0}
                )
                row[col] += int(n)
    total["classes"] = dict(sorted(total["classes"].items(), key=lambda kv: int(kv[0])))
    return total
