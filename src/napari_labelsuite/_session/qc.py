"""Quality control: agreement, consistency checks, review queue."""

from __future__ import annotations


class QCMixin:
    """Quality control: agreement, consistency checks, review queue."""
