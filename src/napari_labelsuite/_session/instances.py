"""Instance tools (split, merge, relabel, clean) on the session's instance layers, undoable."""

from __future__ import annotations


class InstancesMixin:
    """Instance tools (split, merge, relabel, clean) on the session's instance layers, undoable."""
