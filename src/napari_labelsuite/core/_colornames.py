"""Old home of the colour names; see :mod:`napari_labelsuite.core.colors`."""

from .colors import NAMED_COLORS

__all__ = ["NAMED_COLORS"]
