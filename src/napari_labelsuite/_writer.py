"""npe2 writer: File > Save Layers of labels (and boxes) layers into a mask store."""

from __future__ import annotations

from typing import Any

from ._reader import remember_store_reader
from .core.errors import StoreError
from .core.store import MARKER, MaskStore
from .core.taxonomy import Taxonomy

__all__ = ["write_store"]


def write_store(path: str, layer_data: list[tuple[Any, dict, str]]) -> list[str]:
    """Write labels layers (one label image each) and boxes layers into a new store.

    Roles come from ``metadata["labelsuite"]["role"]`` (instances when absent), instance
    tables from the layers' features, and boxes from Shapes rectangles with their rows.
    The taxonomy (class names and colours) is the session's of the current viewer, else
    the one a layer read from a store carries in its metadata.
    """
    from .core.boxes import napari_to_boxes
    from .core.tables import box_meta_from_frame, frame_to_objects

    labels = [(d, m) for d, m, t in layer_data if t == "labels"]
    shapes = [(d, m) for d, m, t in layer_data if t == "shapes"]
    if not labels:
        raise StoreError("select at least one labels layer to save", path=path, field="layers")
    first = labels[0][0][0] if isinstance(labels[0][0], list) else labels[0][0]
    shape = tuple(first.shape)
    if not path.endswith(".zarr"):
        path = f"{path}.ome.zarr"
    tax = _taxonomy_of([m for _, m in labels + shapes])
    st = MaskStore.create(path, shape=shape, overwrite=True)
    try:
        if tax is not None:
            st.taxonomy = tax
        for data, meta in labels:
            arr = data[0] if isinstance(data, list) else data
            name = str(meta.get("name") or "labels")
            if tuple(arr.shape) != shape:
                raise StoreError(
                    f"labels layer shape does not match {shape}",
                    path=path,
                    where=f"layer '{name}'",
                    field="shape",
                    value=tuple(arr.shape),
                )
            role = ((meta.get("metadata") or {}).get(MARKER) or {}).get("role") or "instances"
            st.create_labels(name, dtype=arr.dtype, role=role).write_all(arr)
            if role == "instances":
                st.set_objects(name, frame_to_objects(meta.get("features")))
        boxes = []
        for data, meta in shapes:
            feats = meta.get("features")
            rows = box_meta_from_frame(feats, len(data))
            ids = [int(r.get("class_id", 0) or 0) for r in rows]
            for box, row in zip(napari_to_boxes(data, ids), rows):
                for k, v in row.items():
                    if hasattr(box, k) and k != "class_id":
                        setattr(box, k, v)
                boxes.append(box.to_dict())
        if boxes:
            st.set_annotation_meta({"image_name": path.rsplit("/", 1)[-1].split(".")[0],
                                    "shape": list(shape), "axes": st.axes,
                                    "boxes": boxes})  # fmt: skip
        st.save()
    finally:
        st.close()
    # File > Open of this store then uses this plugin without asking which reader
    remember_store_reader(path)
    return [path]


def _taxonomy_of(metas: list[dict]) -> Taxonomy | None:
    """The taxonomy the saved layers obey: the viewer's session's, else their metadata's."""
    import napari

    from .session import LabelSession

    viewer = napari.current_viewer()
    session = LabelSession.of(viewer) if viewer is not None else None
    if session is not None and len(session.taxonomy):
        return session.taxonomy
    for meta in metas:
        info = (meta.get("metadata") or {}).get(MARKER) or {}
        if isinstance(info.get("taxonomy"), dict):
            return Taxonomy.from_dict(info["taxonomy"])
    return None
