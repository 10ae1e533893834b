"""Mask store dock widget, npe2 reader and writer, with a real viewer."""

from __future__ import annotations

import numpy as np
import pytest

from napari_labelsuite._reader import get_reader, open_store
from napari_labelsuite._widgets.store import MaskStoreWidget
from napari_labelsuite._writer import write_store
from napari_labelsuite.core.annotation import Box, ObjectInfo
from napari_labelsuite.core.store import MaskStore


@pytest.fixture
def store_path(tmp_path, small_cells, cells_taxonomy):
    path = tmp_path / "cells.ome.zarr"
    with MaskStore.create(path, shape=(256, 256), image=small_cells.image, chunks=(64, 64)) as st:
        st.taxonomy = cells_taxonomy
        st.create_labels("semantic", dtype="uint8", role="semantic")[:] = small_cells.semantic
        st.create_labels("instances", role="instances")[:] = small_cells.instances
        st.set_objects("instances", {1: ObjectInfo(1, {"note": "x"})})
        st.set_annotation_meta({"image_name": "cells", "boxes": [Box(1, 2, 9, 9, 2).to_dict()]})
        st.save()
    return path


# -- reader / writer -----------------------------------------------------------------------
def test_reader_declines_foreign_paths_without_raising(tmp_path):
    (tmp_path / "plain.ome.zarr").mkdir()
    (tmp_path / "plain.ome.zarr" / "zarr.json").write_text("{broken")
    assert get_reader(str(tmp_path / "plain.ome.zarr")) is None
    assert get_reader(str(tmp_path / "missing.zarr")) is None
    assert get_reader(str(tmp_path / "image.tif")) is None
    assert get_reader([str(tmp_path / "a.zarr"), str(tmp_path / "b.zarr")]) is None


def test_reader_returns_image_labels_and_boxes(store_path, small_cells, cells_taxonomy):
    reader = get_reader(str(store_path))
    assert reader is open_store
    layers = reader(str(store_path))  # no viewer: layer-data tuples, as read_store gives
    kinds = [(m["name"], t) for _, m, t in layers]
    assert kinds == [(["cells [0]", "cells [1]"], "image"), ("semantic", "labels"),
                     ("instances", "labels"), ("boxes", "shapes")]  # fmt: skip
    sem_data, sem_meta, _ = layers[1]
    # a small label image is one level: napari shows its value once
    np.testing.assert_array_equal(np.asarray(sem_data), small_cells.semantic)
    assert sem_meta["metadata"]["labelsuite"]["taxonomy"] == cells_taxonomy.to_dict()
    assert sem_meta["colormap"][2].tolist() == list(cells_taxonomy[2].color)
    inst_meta = layers[2][1]
    row = inst_meta["features"].set_index("index").loc[1]
    assert (row["class"], row["note"]) == ("nucleus", "x")
    assert layers[0][1]["channel_axis"] == 0


def test_viewer_save_layers_and_reopen(make_napari_viewer, tmp_path, small_cells):
    viewer = make_napari_viewer()
    viewer.add_labels(np.array(small_cells.instances), name="cells")
    out = str(tmp_path / "saved.ome.zarr")
    viewer.layers.save(out, plugin="napari-labelsuite")
    st = MaskStore.open(out)
    np.testing.assert_array_equal(st.labels("cells")[:], small_cells.instances)
    viewer.layers.clear()
    viewer.open(out, plugin="napari-labelsuite")
    assert [lay.name for lay in viewer.layers] == ["cells"]


def test_writer_rejects_mismatched_shapes(tmp_path):
    from napari_labelsuite.core.errors import StoreError

    a = (np.zeros((8, 8), np.uint8), {"name": "a"}, "labels")
    b = (np.zeros((8, 9), np.uint8), {"name": "b"}, "labels")
    with pytest.raises(StoreError, match="shape does not match"):
        write_store(str(tmp_path / "x.ome.zarr"), [a, b])


# -- widget ------------------------------------------------------------------------------
def test_widget_open_paint_save(make_napari_viewer, store_path):
    viewer = make_napari_viewer()
    w = MaskStoreWidget(viewer)
    w.path_edit.setText(str(store_path))
    w.open_store()
    assert "cells.ome.zarr [r+]" in w.status.text()
    inst = w.session.instances
    inst.paint((200, 200), 77, refresh=False)
    w.refresh_status()
    assert "unsaved edits (1 chunks)" in w.status.text()
    w.save()
    assert "saved; last save" in w.status.text()
    w.session.close_store()
    assert MaskStore.open(store_path).labels("instances")[200, 200] == 77


def test_widget_asks_before_closing_with_unsaved_edits(make_napari_viewer, store_path):
    viewer = make_napari_viewer()
    w = MaskStoreWidget(viewer)
    w.path_edit.setText(str(store_path))
    w.open_store()
    w.session.instances.paint((10, 10), 55, refresh=False)
    asked = []
    w.ask_unsaved = lambda: asked.append(1) or "cancel"
    assert w.confirm_close() is False
    w.ask_unsaved = lambda: "save"
    assert w.confirm_close() is True
    assert len(asked) == 1
    assert not w.session.store_has_unsaved_edits()
    w.session.close_store()


def test_widget_reports_bad_path_as_notification(make_napari_viewer, tmp_path, monkeypatch):
    import napari_labelsuite._widgets._base as base

    shown = []
    monkeypatch.setattr(base, "show_error", shown.append)
    viewer = make_napari_viewer()
    w = MaskStoreWidget(viewer)
    w.path_edit.setText(str(tmp_path / "nothing"))
    w.open_store()
    assert shown and "not a zarr store" in shown[0]
    assert w.status.text() == "no store open"


def test_edit_region_follows_the_viewer_slider(make_napari_viewer, tmp_path):
    from napari_labelsuite import LabelSession

    path = tmp_path / "stack.ome.zarr"
    vol = np.zeros((6, 128, 128), np.uint16)
    vol[:, 40, 40] = np.arange(1, 7)
    with MaskStore.create(path, shape=vol.shape, chunks=(1, 64, 64)) as st:
        st.create_labels("cells", dtype="uint16", role="instances")[...] = vol
        st.save()
    viewer = make_napari_viewer()
    s = LabelSession.attach(viewer)
    s.open_store(str(path), max_in_memory=1, region=(64, 64))
    viewer.dims.set_current_step(0, 3)
    layer = s.edit_region("cells", z_margin=1)
    assert layer.data.shape[0] == 3
    assert tuple(layer.translate)[0] == 2
    viewer.dims.ndisplay = 3
    layer = s.edit_region("cells")
    assert layer.data.shape[0] == 6
    s.close_store()
