"""npe2 reader: opens napari-labelsuite mask stores (``*.ome.zarr`` with our marker).

``get_reader`` declines anything that is not a local directory whose root metadata carries
the ``labelsuite`` block (one small JSON read), and never raises. The reading function
returns the image pyramid, every label image (multiscale, lazy, with the taxonomy colours
and the instance table as features) and the boxes as layer-data tuples.
"""

from __future__ import annotations

from typing import Any

from .core.store import MARKER, MaskStore, is_labelsuite_store

__all__ = ["get_reader", "read_store"]


def get_reader(path: str | list[str]) -> Any:
    """The reading function for one of our stores, else None."""
    try:
        if isinstance(path, (list, tuple)):
            if len(path) != 1:
                return None
            path = path[0]
        path = str(path).rstrip("/\\")
        if not path.endswith(".zarr") or "://" in path:
            return None
        return read_store if is_labelsuite_store(path) else None
    except Exception:  # a reader must never raise while napari picks a plugin
        return None


def read_store(path: str | list[str]) -> list[tuple]:
    """Layer-data tuples (image, labels, boxes) of a mask store, opened read-only."""
    import dask.array as da

    from .core.boxes import boxes_to_napari
    from .core.tables import boxes_frame, objects_to_frame, semantic_frame

    if isinstance(path, (list, tuple)):
        path = path[0]
    st = MaskStore.open(str(path).rstrip("/\\"), "r")
    tax = st.taxonomy
    out: list[tuple] = []
    levels = st.image_levels()
    if levels:
        axes = st.image_axes()
        data = [da.from_zarr(lv) for lv in levels]
        meta: dict[str, Any] = {"name": st.annotation_meta.get("image_name") or "image"}
        if "c" in axes:
            meta["channel_axis"] = axes.index("c")
        out.append((data if len(data) > 1 else data[0], meta, "image"))
    for name in st.label_names():
        lv = [da.from_zarr(a) for a in st.label_levels(name)]
        role = st.role(name)
        meta = {
            "name": name,
            "opacity": 0.6,
            "metadata": {
                MARKER: {"role": role or "instances", "store": st.path, "store_label": name}
            },  # fmt: skip
        }
        if role == "semantic":
            meta["colormap"] = tax.colormap()
            meta["features"] = semantic_frame(tax)
        else:
            meta["features"] = objects_to_frame(st.objects(name), tax)
        out.append((lv if len(lv) > 1 else lv[0], meta, "labels"))
    ann = st.read_annotation()
    if ann.boxes:
        ndim = len(st.shape)
        out.append(
            (
                boxes_to_napari(ann.boxes, ndim=ndim),
                {
                    "name": "boxes",
                    "shape_type": "rectangle",
                    "features": boxes_frame(ann.boxes, tax),
                    "edge_color": [
                        tuple(tax[b.class_id].color) if b.class_id in tax else (1, 1, 1, 1)
                        for b in ann.boxes
                    ],  # fmt: skip
                    "face_color": "transparent",
                    "metadata": {MARKER: {"role": "boxes", "store": st.path}},
                },
                "shapes",
            )
        )
    return out
