"""Accepting an assisted object into a zarr-backed (lazy, single-resolution) instance layer
writes only the object's pixels and maps only them into the view: no re-slice of the layer."""

from __future__ import annotations

import numpy as np
import pytest
import zarr
from napari.layers import Image
from scipy import ndimage as ndi
from skimage.draw import disk

from napari_labelsuite import LabelSession
from napari_labelsuite.core.annotation import ObjectInfo
from napari_labelsuite.core.assist import segment

SHAPE = (300, 420)


def _image() -> np.ndarray:
    img = np.full(SHAPE, 20.0, np.float32)
    img[disk((150, 200), 14, shape=SHAPE)] = 200
    img[disk((60, 80), 10, shape=SHAPE)] = 160
    return ndi.gaussian_filter(img, 1.0)


@pytest.fixture
def lazy(tmp_path, cells_taxonomy):
    """A session whose instance layer is a zarr array (uint32: napari maps its colours)."""
    labels = zarr.create_array(
        tmp_path / "labels.zarr", shape=SHAPE, chunks=(64, 64), dtype="uint32", fill_value=0
    )
    labels[55:66, 75:86] = 5  # an existing object, in the table
    s = LabelSession(taxonomy=cells_taxonomy)
    s.layers.append(Image(_image(), name="img"))
    layer = s.add_instance_layer(labels, objects={5: ObjectInfo(class_id=2)})
    s.set_active_class("nucleus")
    return s, layer, labels


def _count_reslices(layer, monkeypatch) -> list[int]:
    """Calls of the layer's re-slice (what a full refresh reads the data with)."""
    calls: list[int] = []
    real = layer.set_view_slice

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(layer, "set_view_slice", counting)
    return calls


def test_accept_writes_only_the_object_and_does_not_reslice(lazy, monkeypatch):
    s, layer, labels = lazy
    before = labels[:]
    s.assist_click((150, 200))
    reslices = _count_reslices(layer, monkeypatch)
    iid = s.accept_candidate()
    assert iid == 6
    expected = segment(_image(), [[150, 200]], [1])
    after = labels[:]
    np.testing.assert_array_equal(after == iid, expected)  # the store holds the object
    np.testing.assert_array_equal(after[~expected], before[~expected])  # nothing else moved
    assert reslices == []  # no re-slice of the whole layer
    # the view shows the object with its new colour and keeps the old one's
    view = layer._slice.image.view
    np.testing.assert_array_equal(view, layer.colormap._data_to_texture(after))
    assert s.objects(layer)[iid].class_id == 1 and s.objects(layer)[5].class_id == 2
    assert sorted(s.objects(layer)) == [5, iid]  # no row for an id nobody painted


def test_accept_into_lazy_layer_is_one_undo_step(lazy):
    s, layer, labels = lazy
    before = labels[:]
    s.assist_click((150, 200))
    iid = s.accept_candidate()
    layer.undo()
    np.testing.assert_array_equal(labels[:], before)
    assert iid not in s.objects(layer)
    layer.redo()
    assert int((labels[:] == iid).sum()) == int(segment(_image(), [[150, 200]], [1]).sum())


def test_show_selected_label_falls_back_to_a_full_refresh(lazy, monkeypatch):
    s, layer, labels = lazy
    layer.show_selected_label = True  # the texture then depends on the selection
    s.assist_click((150, 200))
    reslices = _count_reslices(layer, monkeypatch)
    iid = s.accept_candidate()
    assert reslices  # napari re-slices: the texture values of old labels changed
    assert int((labels[:] == iid).sum()) > 300


def test_undo_and_redo_of_an_accept_do_not_reslice(lazy, monkeypatch):
    s, layer, labels = lazy
    before = labels[:]
    s.assist_click((150, 200))
    iid = s.accept_candidate()
    after = labels[:]
    reslices = _count_reslices(layer, monkeypatch)
    layer.undo()
    np.testing.assert_array_equal(labels[:], before)
    np.testing.assert_array_equal(layer._slice.image.view, layer.colormap._data_to_texture(before))
    assert iid not in s.objects(layer)
    layer.redo()
    np.testing.assert_array_equal(labels[:], after)
    np.testing.assert_array_equal(layer._slice.image.view, layer.colormap._data_to_texture(after))
    assert s.objects(layer)[iid].class_id == 1
    assert reslices == []  # napari's undo and the colours of the table re-slice the layer
