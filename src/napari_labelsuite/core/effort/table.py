"""Effort tables: active time, and actions and seconds per finished object.

Active time
    Each record is credited with the time since the previous record of the same
    annotator, when that gap is at most ``idle`` seconds (60 by default); longer gaps are
    pauses and count for nothing, and so does the first record of a stream. The time a
    person spent *before* an action is thus the cost of that action.
Objects finished
    The distinct ``(image, layer, object)`` keys marked finished by the records of a
    group (a record's own ``object_id`` with ``finished``, plus its bulk ``objects``).
    An object finished twice (e.g. re-drawn) counts once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import EffortLogError
from .log import EffortRecord

__all__ = [
    "GROUP_KEYS",
    "IDLE_SECONDS",
    "TABLE_COLUMNS",
    "effort_table",
    "object_effort",
    "records_frame",
]

IDLE_SECONDS = 60.0
#: the measures of :func:`effort_table`, after the group columns
TABLE_COLUMNS = (
    "objects",
    "actions",
    "pixels",
    "active_seconds",
    "actions_per_object",
    "seconds_per_object",
)
#: what a table can be grouped by -> the column of :func:`records_frame`
GROUP_KEYS = {
    "route": "route",
    "annotator": "annotator",
    "image": "image",
    "layer": "layer",
    "action": "action",
    "class": "class_id",
    "class_id": "class_id",
    "object": "object_id",
    "object_id": "object_id",
}
_FRAME_COLUMNS = (
    "time",
    "annotator",
    "route",
    "action",
    "count",
    "pixels",
    "image",
    "layer",
    "object_id",
    "class_id",
    "finished",
    "objects",
    "active_seconds",
)


def _active(times: np.ndarray, idle: float) -> np.ndarray:
    """Gap to the previous time when ``<= idle``, else 0 (``times`` sorted)."""
    gaps = np.diff(times, prepend=times[0] if len(times) else 0.0)
    return np.where((gaps > 0) & (gaps <= idle), gaps, 0.0)


def records_frame(records: Iterable[EffortRecord], idle: float = IDLE_SECONDS) -> pd.DataFrame:
    """One row per record, sorted by time, with its ``active_seconds``.

    Raises
    ------
    EffortLogError
        When ``idle`` is not a positive number.
    """
    if not isinstance(idle, (int, float)) or not idle > 0:
        raise EffortLogError("idle must be a positive number of seconds", field="idle", value=idle)
    rows = [
        {
            "time": r.time,
            "annotator": r.annotator,
            "route": r.route,
            "action": r.action,
            "count": r.count,
            "pixels": r.pixels,
            "image": r.image,
            "layer": r.layer,
            "object_id": r.object_id,
            "class_id": r.class_id,
            "finished": r.finished,
            "objects": r.finished_ids(),
        }
        for r in records
    ]
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in _FRAME_COLUMNS})
    frame = pd.DataFrame(rows)
    frame = frame.sort_values("time", kind="stable").reset_index(drop=True)
    frame["active_seconds"] = 0.0
    for _, idx in frame.groupby("annotator", sort=False).groups.items():
        times = frame.loc[idx, "time"].to_numpy(dtype=float)
        frame.loc[idx, "active_seconds"] = _active(times, float(idle))
    for col in ("object_id", "class_id"):
        frame[col] = frame[col].astype("Int64")
    return frame


def _group_columns(by: str | Sequence[str]) -> list[str]:
    names = [by] if isinstance(by, str) else list(by)
    cols = []
    for name in names:
        if name not in GROUP_KEYS:
            raise EffortLogError(
                f"cannot group effort by this; use some of {sorted(set(GROUP_KEYS))}",
                field="by",
                value=name,
            )
        cols.append(GROUP_KEYS[name])
    return cols


def _finished_keys(frame: pd.DataFrame) -> list[tuple[Any, Any, int]]:
    keys: list[tuple[Any, Any, int]] = []
    for image, layer, ids in zip(frame["image"], frame["layer"], frame["objects"]):
        keys.extend((image, layer, int(i)) for i in ids)
    return keys


def _measures(part: pd.DataFrame) -> dict[str, Any]:
    objects = len(set(_finished_keys(part)))
    actions = int(part["count"].sum())
    seconds = float(part["active_seconds"].sum())
    return {
        "objects": objects,
        "actions": actions,
        "pixels": int(part["pixels"].sum()),
        "active_seconds": round(seconds, 3),
        "actions_per_object": actions / objects if objects else float("nan"),
        "seconds_per_object": round(seconds / objects, 3) if objects else float("nan"),
    }


def effort_table(
    records: Iterable[EffortRecord] | pd.DataFrame,
    by: str | Sequence[str] = ("route", "annotator"),
    *,
    idle: float = IDLE_SECONDS,
    total: bool = False,
) -> pd.DataFrame:
    """Objects finished, actions, pixels, active seconds, actions and seconds per object.

    Parameters
    ----------
    records : iterable of EffortRecord, or a :func:`records_frame`
    by : str or sequence of str
        Group columns: ``route``, ``annotator``, ``image``, ``layer``, ``action``,
        ``class``, ``object``.
    idle : float
        Gaps longer than this (seconds) are pauses, not work.
    total : bool
        Append a row ``"all"`` over every record (when there are any).

    Returns
    -------
    pandas.DataFrame
        The group columns, then :data:`TABLE_COLUMNS`; one row per group, sorted.
    """
    frame = records if isinstance(records, pd.DataFrame) else records_frame(records, idle)
    cols = _group_columns(by)
    rows = []
    if len(frame):
        for key, part in frame.groupby(cols, dropna=False, sort=True):
            keys: tuple[Any, ...] = key if isinstance(key, tuple) else (key,)
            row = {c: (None if pd.isna(k) else k) for c, k in zip(cols, keys)}
            rows.append({**row, **_measures(part)})
    if total and len(frame):
        rows.append({**dict.fromkeys(cols, "all"), **_measures(frame)})
    out = pd.DataFrame(rows, columns=[*cols, *TABLE_COLUMNS])
    for c in cols:  # a group without a value (no image, no class) shows None, not NaN
        out[c] = pd.Series(
            [None if pd.isna(v) else v for v in out[c]], index=out.index, dtype=object
        )
    return out.reset_index(drop=True)


def object_effort(
    records: Iterable[EffortRecord] | pd.DataFrame, *, idle: float = IDLE_SECONDS
) -> pd.DataFrame:
    """One row per finished object, in the order they were finished.

    Columns: ``image``, ``layer``, ``object_id``, ``route`` and ``annotator`` (of the
    record that first finished it), ``finished_at`` (its time), ``elapsed_seconds``
    (active time of all records up to then), ``actions`` and ``active_seconds`` (every
    record naming the object, before and after; an action finishing several objects at
    once is shared equally among them).
    """
    frame = records if isinstance(records, pd.DataFrame) else records_frame(records, idle)
    cols = [
        "image",
        "layer",
        "object_id",
        "route",
        "annotator",
        "finished_at",
        "elapsed_seconds",
        "actions",
        "active_seconds",
    ]
    if not len(frame):
        return pd.DataFrame(columns=cols)
    elapsed = frame["active_seconds"].cumsum().to_numpy()
    first: dict[tuple[Any, Any, int], dict[str, Any]] = {}
    cost: dict[tuple[Any, Any, int], list[float]] = {}
    for i, r in enumerate(frame.itertuples(index=False)):
        ids = tuple(r.objects)
        for oid in ids:
            key = (r.image, r.layer, int(oid))
            if key not in first:
                first[key] = {
                    "image": r.image,
                    "layer": r.layer,
                    "object_id": int(oid),
                    "route": r.route,
                    "annotator": r.annotator,
                    "finished_at": float(r.time),
                    "elapsed_seconds": round(float(elapsed[i]), 3),
                }
        own = None if pd.isna(r.object_id) else int(r.object_id)
        shared = [int(o) for o in ids if o != own]
        share = 1.0 / (len(shared) + (own is not None)) if (shared or own is not None) else 0.0
        for oid in ([own] if own is not None else []) + shared:
            c = cost.setdefault((r.image, r.layer, oid), [0.0, 0.0])
            c[0] += r.count * share
            c[1] += r.active_seconds * share
    rows = []
    for key, row in first.items():
        actions, seconds = cost.get(key, [0.0, 0.0])
        rows.append({**row, "actions": round(actions, 6), "active_seconds": round(seconds, 3)})
    out = pd.DataFrame(rows, columns=cols)
    return out.sort_values("finished_at", kind="stable").reset_index(drop=True)
