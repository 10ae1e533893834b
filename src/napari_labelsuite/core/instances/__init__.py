"""Instance tools: label, split, merge, relabel, fill and remove objects of instance masks.

* :mod:`.edits`: the in-memory operations; each returns an :class:`InstanceEdit` (the
  patches it changed plus the id bookkeeping) and never modifies its input;
* :mod:`.chunked`: the same operations on zarr or dask arrays larger than memory, block by
  block, as generators that report progress.
"""

from __future__ import annotations

from typing import Any

from . import edits as _edits
from .chunked import (
    block_shape,
    block_slices,
    count_steps,
    iter_label_components,
    iter_relabel_sequential,
    iter_remove_small,
    iter_split_touching_chunked,
    label_components_chunked,
    relabel_sequential_chunked,
    remove_small_chunked,
    split_touching_chunked,
)
from .edits import (
    InstanceEdit,
    Patch,
    Region,
    apply_to_objects,
    component_classes,
    delete,
    fill_holes,
    find_bboxes,
    label_components,
    merge,
    relabel_sequential,
    remove_border_objects,
    remove_small,
    split_by_line,
    split_disconnected,
    split_touching,
)

__all__ = [
    "InstanceEdit",
    "Patch",
    "Region",
    "apply_to_objects",
    "block_shape",
    "block_slices",
    "component_classes",
    "count_steps",
    "delete",
    "fill_holes",
    "find_bboxes",
    "iter_label_components",
    "iter_relabel_sequential",
    "iter_remove_small",
    "iter_split_touching_chunked",
    "label_components",
    "label_components_chunked",
    "merge",
    "relabel_sequential",
    "relabel_sequential_chunked",
    "remove_border_objects",
    "remove_small",
    "remove_small_chunked",
    "split_by_line",
    "split_disconnected",
    "split_touching",
    "split_touching_chunked",
]


def __getattr__(name: str) -> Any:
    # ``core.instances`` was one module: its other names stay readable from here.
    try:
        return getattr(_edits, name)
    except AttributeError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
