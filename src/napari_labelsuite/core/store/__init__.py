"""The OME-Zarr mask store: labels beside their image, saved chunk by chunk.

* :mod:`.mask_store`: :class:`MaskStore` (open, create, edit, save, journal) and
  :class:`LabelArray`, the chunk-tracking array behind every mask layer;
* :mod:`.ngff`: NGFF 0.4 and 0.5 as two format objects (``FormatV04``, ``FormatV05``);
* :mod:`.lock`: :class:`StoreLock`, one writer per store;
* :mod:`.pyramid`: label downsampling for the multiscale levels;
* :mod:`.edits`: instance edits applied to a store (the one implementation the session and
  the CLI share).
"""

from __future__ import annotations

from typing import Any

from . import mask_store as _mask_store
from .edits import apply_instance_edit, split_touching_in_store
from .lock import LOCK_NAME, LockInfo, StoreLock
from .mask_store import (
    FORMAT_VERSION,
    JOURNAL_NAME,
    MARKER,
    PLACEHOLDER_NAME,
    ROLES,
    LabelArray,
    MaskStore,
    SaveReport,
    is_labelsuite_store,
)
from .pyramid import DOWNSAMPLE_METHODS, default_n_levels, downsample_labels, level_shapes

__all__ = [
    "DOWNSAMPLE_METHODS",
    "FORMAT_VERSION",
    "JOURNAL_NAME",
    "LOCK_NAME",
    "MARKER",
    "PLACEHOLDER_NAME",
    "ROLES",
    "LabelArray",
    "LockInfo",
    "MaskStore",
    "SaveReport",
    "StoreLock",
    "apply_instance_edit",
    "default_n_levels",
    "downsample_labels",
    "is_labelsuite_store",
    "level_shapes",
    "split_touching_in_store",
]


def __getattr__(name: str) -> Any:
    # ``core.store`` was one module: its other names stay readable from here.
    try:
        return getattr(_mask_store, name)
    except AttributeError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
