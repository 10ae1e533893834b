"""npe2 reader: opens napari-labelsuite mask stores (``*.ome.zarr`` with our marker).

``get_reader`` declines anything that is not a local directory whose root metadata carries
the ``labelsuite`` block (one small JSON read), and never raises.

Inside napari (File > Open, drag and drop) the store is opened *through the viewer's
session* (:meth:`LabelSession.open_store`), exactly as the Mask store widget opens it: the
taxonomy is adopted, every image channel and label image is shown and editable, and
Save / autosave apply to what the user edits. Without a viewer, :func:`read_store` returns
the image, label images and boxes as layer-data tuples.

Three readers claim ``*.ome.zarr`` (napari's builtins, napari-ome-zarr and this one), so
napari would ask which one to use. Each store this plugin writes, creates or opens is
recorded in napari's reader preferences (``settings.plugins.extension2reader``, the setting
behind "remember this choice"), so it opens with this reader without a question from then
on; foreign OME-Zarr keeps napari's usual choice.
"""

from __future__ import annotations

from typing import Any

from .core.store import MARKER, MaskStore, is_labelsuite_store

__all__ = ["PLUGIN", "get_reader", "open_store", "read_store", "remember_store_reader"]

PLUGIN = "napari-labelsuite"
#: label images up to this size are returned as one level (no pyramid)
SINGLE_LEVEL_BYTES = 256 * 2**20
_CHANNEL_COLORMAPS = ("magenta", "green", "cyan", "yellow")


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
        return open_store if is_labelsuite_store(path) else None
    except Exception:  # a reader must never raise while napari picks a plugin
        return None


def open_store(path: str | list[str]) -> list[tuple]:
    """Open a store in the current viewer's session; layer-data tuples without a viewer."""
    import napari

    from .session import LabelSession

    if isinstance(path, (list, tuple)):
        path = path[0]
    path = str(path).rstrip("/\\")
    viewer = napari.current_viewer()
    if viewer is None:
        return read_store(path)
    LabelSession.attach(viewer).open_store(path)
    remember_store_reader(path)
    return [(None,)]  # napari's sentinel: read, and the layers are already in the viewer


def remember_store_reader(path: str) -> bool:
    """Record in napari's settings that the store at ``path`` opens with this plugin.

    Returns False (and changes nothing) for remote paths or when napari's settings cannot
    be written.
    """
    import os

    if "://" in str(path):
        return False
    try:
        from napari.settings import get_settings

        key = os.path.realpath(str(path)).rstrip(os.sep) + os.sep  # napari matches dirs so
        plugins = get_settings().plugins
        if plugins.extension2reader.get(key) != PLUGIN:
            plugins.extension2reader = {**plugins.extension2reader, key: PLUGIN}
        return True
    except Exception:  # settings are a convenience: never fail an open or a save on them
        return False


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
        if data[0].nbytes <= SINGLE_LEVEL_BYTES:
            data = data[:1]
        meta: dict[str, Any] = {"name": st.annotation_meta.get("image_name") or "image"}
        if "c" in axes:
            ch = axes.index("c")
            n = int(data[0].shape[ch])
            meta["channel_axis"] = ch
            meta["name"] = [f"{meta['name']} [{c}]" for c in range(n)]
            meta["colormap"] = [_CHANNEL_COLORMAPS[c % len(_CHANNEL_COLORMAPS)] for c in range(n)]
            meta["blending"] = ["translucent"] + ["additive"] * (n - 1)
        out.append((data if len(data) > 1 else data[0], meta, "image"))
    for name in st.label_names():
        lv = [da.from_zarr(a) for a in st.label_levels(name)]
        if lv[0].nbytes <= SINGLE_LEVEL_BYTES:
            # a small label image as one level: napari shows the value once (not "level,
            # value") and never draws a coarse level that is not built yet
            lv = lv[:1]
        role = st.role(name)
        meta = {
            "name": name,
            "opacity": 0.6,
            "metadata": {
                MARKER: {
                    "role": role or "instances",
                    "store": st.path,
                    "store_label": name,
                    "taxonomy": tax.to_dict(),
                }
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
                        tuple(tax[b.class_id].color or (1, 1, 1, 1))
                        if b.class_id in tax
                        else (1, 1, 1, 1)
                        for b in ann.boxes
                    ],  # fmt: skip
                    "face_color": "transparent",
                    "metadata": {
                        MARKER: {"role": "boxes", "store": st.path, "taxonomy": tax.to_dict()}
                    },
                },
                "shapes",
            )
        )
    return out
