"""Augmentation preview of the session's image, masks and boxes."""

from __future__ import annotations


class AugmentMixin:
    """Augmentation preview of the session's image, masks and boxes."""
