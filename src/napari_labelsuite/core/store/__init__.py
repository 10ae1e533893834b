"""The OME-Zarr mask store: labels beside their image, saved chunk by chunk.

* :mod:`.mask_store`: :class:`MaskStore` (open, create, edit, save);
* :mod:`.array`: :class:`LabelArray`, the chunk-tracking array behind every mask layer, and
  :class:`SaveReport`;
* :mod:`.journal`: :class:`SaveJournal`, the crash journal of interrupted saves;
* :mod:`.ngff`: NGFF 0.4 and 0.5 as two format objects (``FormatV04``, ``FormatV05``);
* :mod:`.lock`: :class:`StoreLock`, one writer per store;
* :mod:`.pyramid`: label downsampling for the multiscale levels;
* :mod:`.edits`: instance edits applied to a store (the one implementation the session and
  the CLI share).
"""

from __future__ import annotations

from typing import Any

from . import array as _array
from . import journal as _journal
from . import mask_store as _mask_store
from .array import LabelArray, SaveReport
from .edits import apply_instance_edit, split_touching_in_store
from .journal import JOURNAL_NAME, SaveJournal, parse_journal
from .lock import LOCK_NAME, LockInfo, StoreLock
from .mask_store import (
    FORMAT_VERSION,
    MARKER,
    PLACEHOLDER_NAME,
    ROLES,
    MaskStore,
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
    "SaveJournal",
    "SaveReport",
    "StoreLock",
    "apply_instance_edit",
    "default_n_levels",
    "downsample_labels",
    "is_labelsuite_store",
    "level_shapes",
    "parse_journal",
    "split_touching_in_store",
]


def __getattr__(name: str) -> Any:
    # ``core.store`` was one module: its other names stay readable from here.
    for module in (_mask_store, _array, _journal):
        if hasattr(module, name):
            return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
