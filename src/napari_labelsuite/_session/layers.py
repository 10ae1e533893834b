"""Taxonomy binding and the annotation layers; layers <-> ImageAnnotation."""

from __future__ import annotations


class LayersMixin:
    """Taxonomy binding and the annotation layers; layers <-> ImageAnnotation."""

    def _sync_layers_to_taxonomy(self, event: str, **info) -> None:
        """Bring every managed layer in line with the taxonomy after a change."""
