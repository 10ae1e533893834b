"""The features-table convention shared by layers, formats and the store.

napari layers carry per-label / per-shape tables (``layer.features``, a pandas DataFrame).
These functions are the one place that defines their columns:

Labels layers (semantic and instance)
    ``index`` (the label value: class id for semantic layers, instance id for instance
    layers; napari maps rows to labels through this column), ``class`` (class name),
    ``class_id``; instance layers add ``status``, ``reviewer``, ``reviewed_at`` and one
    column per attribute.
Boxes (Shapes) layers, one row per shape
    ``class``, ``class_id``, ``instance_id``, ``status``, ``reviewer``, ``reviewed_at`` and
    one column per attribute.

Attribute columns are all the columns that are not in ``RESERVED_COLUMNS``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from .annotation import ObjectInfo

__all__ = [
    "BOX_COLUMNS",
    "OBJECT_COLUMNS",
    "RESERVED_COLUMNS",
    "box_meta_from_frame",
    "boxes_frame",
    "class_name",
    "frame_to_objects",
    "objects_to_frame",
    "semantic_frame",
]

OBJECT_COLUMNS = ["index", "class", "class_id", "status", "reviewer", "reviewed_at"]
BOX_COLUMNS = ["class", "class_id", "instance_id", "status", "reviewer", "reviewed_at"]
RESERVED_COLUMNS = frozenset(OBJECT_COLUMNS + BOX_COLUMNS)


def class_name(taxonomy: Any, class_id: int) -> str:
    """The class's name, or ``"<unknown id>"`` when the taxonomy lacks it."""
    if taxonomy is not None and class_id in taxonomy:
        return taxonomy[class_id].name
    return "background" if class_id == 0 else f"<unknown {class_id}>"


def _attr_columns(rows: list[dict[str, Any]]) -> list[str]:
    seen: dict[str, None] = {}
    for r in rows:
        for k in r:
            if k not in RESERVED_COLUMNS:
                seen.setdefault(k, None)
    return list(seen)


def _clean(v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, np.generic):
        return v.item()
    return v


def semantic_frame(taxonomy: Any) -> pd.DataFrame:
    """Features for a semantic Labels layer: one row per class plus background."""
    rows = [{"index": 0, "class": "background", "class_id": 0}]
    if taxonomy is not None:
        rows += [{"index": c.id, "class": c.name, "class_id": c.id} for c in taxonomy]
    return pd.DataFrame(rows, columns=["index", "class", "class_id"])


def objects_to_frame(objects: dict[int, ObjectInfo], taxonomy: Any = None) -> pd.DataFrame:
    """Features for an instance Labels layer (row 0 is background)."""
    rows: list[dict[str, Any]] = [
        {
            "index": 0,
            "class": "background",
            "class_id": 0,
            "status": "",
            "reviewer": None,
            "reviewed_at": None,
        }
    ]
    for iid in sorted(objects):
        o = objects[iid]
        row = {
            "index": int(iid),
            "class": class_name(taxonomy, o.class_id),
            "class_id": int(o.class_id),
            "status": o.status,
            "reviewer": o.reviewer,
            "reviewed_at": o.reviewed_at,
        }
        row.update(o.attributes)
        rows.append(row)
    cols = OBJECT_COLUMNS + _attr_columns(rows)
    return pd.DataFrame(rows, columns=cols)


def frame_to_objects(df: pd.DataFrame | None) -> dict[int, ObjectInfo]:
    """Inverse of :func:`objects_to_frame` (background and rows without a class are skipped)."""
    if df is None or len(df) == 0 or "index" not in df.columns:
        return {}
    attrs = [c for c in df.columns if c not in RESERVED_COLUMNS]
    out: dict[int, ObjectInfo] = {}
    for rec in df.to_dict("records"):
        iid = int(rec["index"])
        cid = _clean(rec.get("class_id"))
        if iid == 0 or cid is None:
            continue
        out[iid] = ObjectInfo(
            class_id=int(cid),
            attributes={a: _clean(rec[a]) for a in attrs if _clean(rec.get(a)) is not None},
            status=_clean(rec.get("status")) or "todo",
            reviewer=_clean(rec.get("reviewer")),
            reviewed_at=_clean(rec.get("reviewed_at")),
        )
    return out


def boxes_frame(boxes: list, taxonomy: Any = None) -> pd.DataFrame:
    """Features for a boxes Shapes layer, one row per :class:`Box`."""
    rows = []
    for b in boxes:
        row = {
            "class": class_name(taxonomy, b.class_id),
            "class_id": int(b.class_id),
            "instance_id": int(b.instance_id),
            "status": b.status,
            "reviewer": b.reviewer,
            "reviewed_at": b.reviewed_at,
        }
        row.update(b.attributes)
        rows.append(row)
    return pd.DataFrame(rows, columns=BOX_COLUMNS + _attr_columns(rows))


def box_meta_from_frame(df: pd.DataFrame | None, n: int) -> list[dict[str, Any]]:
    """Per-shape ``Box`` keyword arguments (all but coordinates) from a features table."""
    if df is None or len(df) == 0:
        return [{"class_id": 0} for _ in range(n)]
    attrs = [c for c in df.columns if c not in RESERVED_COLUMNS]
    out = []
    for rec in df.to_dict("records"):
        cid = _clean(rec.get("class_id"))
        out.append(
            {
                "class_id": 0 if cid is None else int(cid),
                "instance_id": int(_clean(rec.get("instance_id")) or 0),
                "status": _clean(rec.get("status")) or "todo",
                "reviewer": _clean(rec.get("reviewer")),
                "reviewed_at": _clean(rec.get("reviewed_at")),
                "attributes": {a: _clean(rec[a]) for a in attrs if _clean(rec.get(a)) is not None},
            }
        )
    return out
