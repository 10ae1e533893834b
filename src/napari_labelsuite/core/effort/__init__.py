"""Labeling effort: what each annotation cost a person, in actions and active seconds.

* :mod:`.log` -- :class:`EffortRecord` (one human action) and :class:`EffortLog`, the
  append-only ``effort.jsonl`` kept beside the provenance log.
* :mod:`.table` -- active time (idle gaps over 60 s excluded) and the effort tables
  (objects finished, actions, seconds, per object; by route, annotator, image, class...).
* :mod:`.plot` -- the chart of effort per object over time (SVG, or PNG with matplotlib).
"""

from .log import (
    EFFORT_FILE,
    EFFORT_FORMAT,
    EFFORT_VERSION,
    EffortLog,
    EffortRecord,
    ReadPosition,
    find_effort_log,
    read_effort,
)
from .plot import ROUTE_COLORS, effort_plot, effort_svg
from .table import (
    GROUP_KEYS,
    IDLE_SECONDS,
    TABLE_COLUMNS,
    effort_table,
    object_effort,
    records_frame,
)

#: the labeling routes effort is attributed to
ROUTES = (
    "brush",
    "polygon",
    "box",
    "click-assist",
    "wand",
    "classifier",
    "interpolation",
    "propagation",
    "tracking",
    "instance-tools",
    "import",
    "points",
    "keypoints",
    "polyline",
    "adjudicate",
)

__all__ = [
    "EFFORT_FILE",
    "EFFORT_FORMAT",
    "EFFORT_VERSION",
    "GROUP_KEYS",
    "IDLE_SECONDS",
    "ROUTES",
    "ROUTE_COLORS",
    "TABLE_COLUMNS",
    "EffortLog",
    "EffortRecord",
    "ReadPosition",
    "effort_plot",
    "effort_svg",
    "effort_table",
    "find_effort_log",
    "object_effort",
    "read_effort",
    "records_frame",
]
