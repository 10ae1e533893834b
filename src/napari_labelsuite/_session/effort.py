"""Session part: the labeling-effort log (what each annotation action cost a person).

Every session method that creates or changes annotations calls :meth:`_log_effort` once per
human action (a click, a stroke, a box, an accepted object, ...). The full log, its storage
next to the provenance log and the ``effort()`` table are built on top of this entry point.
"""

from __future__ import annotations

from typing import Any

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
)


class EffortMixin:
    """Counts human actions per route, object, class, image and annotator."""

    def _log_effort(
        self,
        route: str,
        action: str,
        *,
        count: int = 1,
        pixels: int = 0,
        layer: Any = None,
        object_id: int | None = None,
        class_id: int | None = None,
        image: str | None = None,
        finished: bool = False,
    ) -> None:
        """Log ``count`` human actions of kind ``action`` (e.g. ``"click"``, ``"stroke"``,
        ``"vertex"``, ``"box"``, ``"accept"``, ``"correction"``, ``"scribble"``,
        ``"interpolate"``) made through ``route`` (one of :data:`ROUTES`).

        ``finished=True`` marks ``object_id`` as an object finished by this action.
        """
        return None
