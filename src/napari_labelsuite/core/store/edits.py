"""Instance edits applied to a mask store: the one implementation the session and the CLI share.

:func:`apply_instance_edit` writes an :class:`~napari_labelsuite.core.instances.InstanceEdit`
into a label image of a :class:`~.mask_store.MaskStore` (patch by patch, or from a whole new
image computed chunk by chunk) and keeps the instance table in step;
:func:`split_touching_in_store` is the chunked whole-image split of a store label image,
which never holds the image in memory.
"""

from __future__ import annotations

import tempfile
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import StoreError
from ..instances import InstanceEdit, apply_to_objects
from ..instances.chunked import split_touching_chunked

if TYPE_CHECKING:  # pragma: no cover
    from .mask_store import MaskStore

__all__ = ["apply_instance_edit", "split_touching_in_store"]


def apply_instance_edit(
    store: MaskStore,
    name: str,
    edit: InstanceEdit,
    *,
    result: Any = None,
    save: bool = True,
) -> None:
    """Apply ``edit`` to label image ``name`` of ``store``; its instance table follows.

    Parameters
    ----------
    store : MaskStore
        Opened writable.
    name : str
        The label image.
    edit : InstanceEdit
        What an instance operation did (patches and id bookkeeping).
    result : array-like, optional
        The whole new label image (numpy, zarr or dask; e.g. the ``out`` of a chunked
        split), written slab by slab. Without it only the edit's patch regions are read
        and written.
    save : bool
        Save the store afterwards (pyramid, instance table, journal).

    The new instance table is computed before any pixel is written, so a class conflict
    raises with the store unchanged. Semantic label images have no table.
    """
    if name not in store.label_names():
        raise StoreError("no such label image", path=store.path, field="name", value=name)
    instances = store.role(name) != "semantic"
    objects = apply_to_objects(store.objects(name), edit) if instances else None
    la = store.labels(name)
    if result is not None:
        la.write_all(result)
    else:
        for p in edit.patches:
            if p.mask is None:
                la[p.region] = p.values.astype(la.dtype, copy=False)
                continue
            block = np.array(la[p.region], copy=True)
            block[p.mask] = p.values[p.mask]
            la[p.region] = block
    if objects is not None:
        store.set_objects(name, objects)
    if save:
        store.save()


def split_touching_in_store(
    store: MaskStore,
    name: str,
    min_distance: int = 7,
    *,
    dry_run: bool = False,
    chunks: Any = None,
) -> InstanceEdit:
    """Split the touching objects of store label image ``name``, chunk by chunk.

    The split (:func:`~napari_labelsuite.core.instances.split_touching_chunked`) reads the
    image block by block and writes into a temporary zarr array with the same chunks, so
    memory follows the chunk and object sizes, not the image. Unless ``dry_run``, the result
    is written back with :func:`apply_instance_edit` and the store saved. Returns the edit
    (``len(edit.parents)`` new ids).
    """
    import zarr

    la = store.labels(name)
    with tempfile.TemporaryDirectory(prefix="labelsuite-split-") as tmp:
        # same dtype: new ids that do not fit raise (InstanceError) before anything is written
        out = zarr.create_array(tmp, shape=la.shape, chunks=la.chunks, dtype=la.dtype)
        edit = split_touching_chunked(la, out, min_distance=min_distance, chunks=chunks)
        if edit.parents and not dry_run:
            apply_instance_edit(store, name, edit, result=out)
    return edit
