"""Datasets (many images), navigation with autosave, provenance persistence."""

from __future__ import annotations


class DatasetMixin:
    """Datasets (many images), navigation with autosave, provenance persistence."""
