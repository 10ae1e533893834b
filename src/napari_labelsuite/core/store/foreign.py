"""OME-Zarr label images written by other tools (ome-zarr-py, bioformats2raw, IDR...).

Two things such stores do that ours do not:

* **A channel axis in the labels** (``tczyx``, as bioformats2raw and IDR write them). The
  store's geometry has no channel axis (the image's ``c`` is dropped), so a label image
  whose ``c`` has one element is seen through :class:`DropAxis`: reads and writes go to
  channel 0 of the array on disk, which keeps its layout for the other tools. A label
  image with several channels is refused with a message.
* **Properties without ``class_id``**: ome-zarr-py writes ``{"label-value": 1, "class":
  "nucleus"}`` and other tools free-form keys. The class name is taken from the first of
  :data:`CLASS_KEYS` present; the classes are added to the store's taxonomy in order of
  first appearance, the other keys become object attributes, and a label image without
  a role is read as instances (OME-NGFF label values are objects).

Every inference is written to ``store.notes`` so that the import can say what it did.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..annotation import ObjectInfo
from ..errors import StoreError

__all__ = ["CLASS_KEYS", "DropAxis", "drop_channel_axis", "infer_tables"]

#: property keys that name an object's class, most specific first
CLASS_KEYS = (
    "class_id",
    "class",
    "class_name",
    "classname",
    "category",
    "category_name",
    "label_name",
    "label",
    "cell_type",
    "type",
    "name",
)


class _KeyShim:
    """``metadata.encode_chunk_key`` of the wrapped array, for chunk indices without the axis."""

    def __init__(self, meta: Any, axis: int) -> None:
        self._meta, self._axis = meta, axis

    def encode_chunk_key(self, idx: tuple[int, ...]) -> str:
        full = (*idx[: self._axis], 0, *idx[self._axis :])
        return str(self._meta.encode_chunk_key(full))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._meta, name)


class DropAxis:
    """A zarr array seen without one axis of length 1 (basic slicing only)."""

    def __init__(self, arr: Any, axis: int) -> None:
        if arr.shape[axis] != 1:
            raise ValueError(f"axis {axis} has {arr.shape[axis]} elements, not 1")
        self._arr, self._axis = arr, axis

    @property
    def shape(self) -> tuple[int, ...]:
        s = tuple(self._arr.shape)
        return s[: self._axis] + s[self._axis + 1 :]

    @property
    def chunks(self) -> tuple[int, ...]:
        c = tuple(self._arr.chunks)
        return c[: self._axis] + c[self._axis + 1 :]

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(self._arr.dtype)

    @property
    def metadata(self) -> _KeyShim:
        return _KeyShim(self._arr.metadata, self._axis)

    def _full(self, key: Any) -> tuple[Any, ...]:
        key = key if isinstance(key, tuple) else (key,)
        if any(k is Ellipsis for k in key):
            i = next(j for j, k in enumerate(key) if k is Ellipsis)
            fill = (slice(None),) * (self.ndim - len(key) + 1)
            key = key[:i] + fill + key[i + 1 :]
        key = key + (slice(None),) * (self.ndim - len(key))
        return key[: self._axis] + (0,) + key[self._axis :]

    def __getitem__(self, key: Any) -> np.ndarray:
        return np.asarray(self._arr[self._full(key)])

    def __setitem__(self, key: Any, value: Any) -> None:
        self._arr[self._full(key)] = value

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        out = self[...]
        return out if dtype is None else out.astype(dtype)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._arr, name)


def drop_channel_axis(
    store: Any, name: str, ms0: dict[str, Any], levels: list[Any], scales: list[list[float]]
) -> tuple[list[Any], list[list[float]]]:
    """Levels and scales of a label image without its ``c`` axis (see the module doc).

    Raises
    ------
    StoreError
        For a label image whose channel axis has more than one element.
    """
    axes = [a.get("name") if isinstance(a, dict) else str(a) for a in ms0.get("axes") or []]
    if "c" not in axes or "c" in store.axes or len(axes) != levels[0].ndim:
        return levels, scales
    axis = axes.index("c")
    n = int(levels[0].shape[axis])
    if n != 1:
        raise StoreError(
            f"label image has {n} channels; only a single-channel label image can be opened "
            "(split it into one label image per channel)",
            path=store.path,
            where=f"labels/{name}",
            field="axes",
            value="".join(str(a) for a in axes),
        )
    store.notes.append(
        f"labels/{name}: axes {''.join(str(a) for a in axes)} - the singleton channel axis "
        "is dropped, as for the image (edits are written to channel 0)"
    )
    levels = [DropAxis(lv, axis) for lv in levels]
    scales = [s[:axis] + s[axis + 1 :] if len(s) == len(axes) else s for s in scales]
    return levels, scales


def _class_key(props: list[dict[str, Any]]) -> str | None:
    for key in CLASS_KEYS:
        if any(key in p for p in props):
            return key
    return None


def infer_tables(store: Any) -> None:
    """Roles, classes and objects of label images written without labelsuite metadata.

    Only label images with neither a role nor our object table are touched; the store's
    taxonomy gains the class names found (nothing is written until the next save).
    """
    tax = store._taxonomy
    for name, lm in store._label_meta.items():
        if lm.get("role") is not None or lm.get("objects") is not None:
            continue
        props = [
            p
            for p in (lm["image-label"].get("properties") or [])
            if isinstance(p, dict) and type(p.get("label-value")) is int and p["label-value"] > 0
        ]
        lm["role"] = "instances"
        key = _class_key(props)
        if key is None:
            store.notes.append(
                f"labels/{name}: read as instances; no property names a class "
                f"(looked for {', '.join(CLASS_KEYS[1:6])}...)"
            )
            continue
        if key == "class_id" and all(type(p.get("class_id")) is int for p in props if key in p):
            continue  # our own layout: MaskStore.objects reads it
        objects: dict[int, ObjectInfo] = {}
        new: list[str] = []
        for p in props:
            cls = p.get(key)
            if cls is None:
                cls = "object"
            cls = str(cls)
            if cls not in tax.names():
                tax.add(cls)
                new.append(cls)
            attrs = {k: v for k, v in p.items() if k not in ("label-value", key)}
            objects[int(p["label-value"])] = ObjectInfo(tax.by_name(cls).id, attrs)
        lm["objects"] = objects
        store.notes.append(
            f"labels/{name}: read as instances; {len(objects)} objects took their class from "
            f"the '{key}' property" + (f" (new classes: {', '.join(new)})" if new else "")
        )
