"""The id a new object gets on a lazy (zarr) Labels layer comes from the data, not only from
the instance table: an id present in the pixels but missing from the table is never reused
(that would merge two objects), and finding it reads the array chunk-wise once, never in
the click path."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import zarr
from napari.layers import Image, Labels
from scipy import ndimage as ndi
from skimage.draw import disk

from napari_labelsuite import LabelSession
from napari_labelsuite._session import instances as instances_part
from napari_labelsuite.core.annotation import ObjectInfo
from napari_labelsuite.core.assist import segment

SHAPE = (256, 320)
CHUNKS = (64, 64)
CLICK = (150, 200)


def _image() -> np.ndarray:
    img = np.full(SHAPE, 20.0, np.float32)
    img[disk(CLICK, 14, shape=SHAPE)] = 200
    img[disk((60, 80), 10, shape=SHAPE)] = 160
    return ndi.gaussian_filter(img, 1.0)


class CountingArray:
    """A zarr array that records the region of every read (for napari a plain array)."""

    def __init__(self, arr: Any) -> None:
        self.arr = arr
        self.reads: list[int] = []  # elements per read

    shape = property(lambda self: self.arr.shape)
    dtype = property(lambda self: self.arr.dtype)
    ndim = property(lambda self: self.arr.ndim)
    chunks = property(lambda self: self.arr.chunks)
    size = property(lambda self: self.arr.size)

    def __getitem__(self, key: Any) -> np.ndarray:
        out = np.asarray(self.arr[key])
        self.reads.append(int(out.size))
        return out

    def __setitem__(self, key: Any, value: Any) -> None:
        self.arr[key] = value

    def __len__(self) -> int:
        return int(self.arr.shape[0])


def _zarr_labels(tmp_path) -> Any:
    labels = zarr.create_array(
        tmp_path / "labels.zarr", shape=SHAPE, chunks=CHUNKS, dtype="uint32", fill_value=0
    )
    labels[55:66, 75:86] = 5  # in the table
    labels[230:240, 300:310] = 9  # in the data only: the table lacks it
    return labels


@pytest.fixture
def session(cells_taxonomy):
    s = LabelSession(taxonomy=cells_taxonomy)
    s.layers.append(Image(_image(), name="img"))
    s.set_active_class("nucleus")
    return s


def test_next_id_counts_ids_missing_from_the_table(tmp_path, session):
    labels = _zarr_labels(tmp_path)
    layer = session.add_instance_layer(labels, objects={5: ObjectInfo(class_id=2)})
    assert session.next_instance_id(layer) == 10  # 9 is in the pixels, not in the table


def test_accept_on_lazy_layer_does_not_merge_with_an_untabled_object(tmp_path, session):
    labels = _zarr_labels(tmp_path)
    layer = session.add_instance_layer(labels, objects={5: ObjectInfo(class_id=2)})
    session.assist_click(CLICK)
    iid = session.accept_candidate()
    assert iid == 10
    after = labels[:]
    np.testing.assert_array_equal(after == iid, segment(_image(), [list(CLICK)], [1]))
    assert int((after == 9).sum()) == 100  # the untabled object keeps its pixels and id
    assert session.objects(layer)[iid].class_id == 1


def test_the_id_source_reads_no_pixels_after_the_scan_and_follows_writes(tmp_path, session):
    counting = CountingArray(_zarr_labels(tmp_path))
    layer = session.add_instance_layer(counting, objects={5: ObjectInfo(class_id=2)})
    counting.reads.clear()  # adopted headless: scanned at once
    assert session.next_instance_id(layer) == 10
    assert counting.reads == []  # no pixel read to know the next id
    # a hand edit with a large id (brush, fill: napari's data_setitem) raises the bound
    idx = (np.array([3, 3]), np.array([4, 5]))
    layer.data_setitem(idx, 41)
    counting.reads.clear()
    assert session.next_instance_id(layer) == 42
    assert counting.reads == []


def test_the_scan_reads_chunk_aligned_blocks_of_bounded_size(tmp_path, session, monkeypatch):
    monkeypatch.setattr(instances_part, "_SCAN_ELEMS", 64 * 64 * 2)
    counting = CountingArray(_zarr_labels(tmp_path))
    layer = Labels(counting, name="mine")
    scans: list[list[int]] = []
    real = instances_part.chunked_max

    def scan(data, progress=None):  # the reads of the scan alone (napari reads its view)
        start = len(counting.reads)
        out = real(data, progress)
        scans.append(counting.reads[start:])
        return out

    monkeypatch.setattr(instances_part, "chunked_max", scan)
    session.manage_layer(layer, "instances")  # adopted: the scan
    assert len(scans) == 1
    # the whole array is never read at once: blocks of at most two chunks cover it once
    assert max(scans[0]) <= 64 * 64 * 2
    assert sum(scans[0]) == SHAPE[0] * SHAPE[1]
    counting.reads.clear()
    assert session.next_instance_id(layer) == 10
    assert counting.reads == []


def test_new_layer_data_is_scanned_again(tmp_path, session):
    labels = _zarr_labels(tmp_path)
    layer = session.add_instance_layer(labels, objects={})
    assert session.next_instance_id(layer) == 10
    other = zarr.create_array(
        tmp_path / "other.zarr", shape=SHAPE, chunks=CHUNKS, dtype="uint32", fill_value=0
    )
    other[0:4, 0:4] = 3
    layer.data = other
    assert session.next_instance_id(layer) == 4


def test_accept_into_unmanaged_lazy_layer_reads_only_a_window(tmp_path, session):
    counting = CountingArray(_zarr_labels(tmp_path))
    layer = Labels(counting, name="plain")  # not managed: no table, ids from the data only
    session.layers.append(layer)
    assert session.scan_instance_ids(layer) == 9  # what the GUI runs in a worker
    session.assist_click(CLICK, layer=layer)
    counting.reads.clear()
    iid = session.accept_candidate(layer=layer)
    assert iid == 10
    expected = segment(_image(), [list(CLICK)], [1])
    np.testing.assert_array_equal(counting.arr[:] == iid, expected)
    rows, cols = np.nonzero(expected)
    box = (rows.max() - rows.min() + 1) * (cols.max() - cols.min() + 1)
    # accept read the object's bounding box (napari: its pixels), never the whole layer
    assert counting.reads and max(counting.reads) <= box
    assert sum(counting.reads) < SHAPE[0] * SHAPE[1] // 4


def test_store_edit_region_counts_the_store_objects(tmp_path, cells_taxonomy):
    from napari_labelsuite.core.store import MaskStore

    shape = (600, 700)
    img = np.full(shape, 20, np.uint16)
    img[disk((420, 510), 14, shape=shape)] = 200
    img = ndi.gaussian_filter(img, 1.0)
    path = tmp_path / "big.ome.zarr"
    st = MaskStore.create(path, image=img, chunks=(128, 128))
    st.taxonomy = cells_taxonomy
    st.create_labels("cells", dtype="uint32")
    st.labels("cells")[10:20, 10:20] = 77  # far outside the edit region
    st.set_objects("cells", {77: ObjectInfo(class_id=1)})
    st.save()
    st.close()
    s = LabelSession(taxonomy=cells_taxonomy)
    s.open_store(str(path), max_in_memory=4096, region=(256, 256))
    layer = s.edit_region("cells", center=(420, 510), size=(256, 256))
    assert not (np.asarray(layer.data) == 77).any()
    s.set_objects({}, layer)  # the region's table lost the row: the store still knows it
    assert s.next_instance_id(layer) == 78


def test_an_in_place_large_split_is_counted(tmp_path, session):
    labels = zarr.create_array(
        tmp_path / "m.zarr", shape=(96, 128), chunks=(32, 32), dtype="uint32", fill_value=0
    )
    merged = np.zeros((96, 128), np.uint32)
    merged[disk((48, 44), 16, shape=merged.shape)] = 1
    merged[disk((48, 74), 16, shape=merged.shape)] = 1  # two touching discs, one id
    labels[:] = merged
    layer = Labels(labels, name="plain")
    session.layers.append(layer)
    assert session.scan_instance_ids(layer) == 1
    # written chunk by chunk into the zarr array itself, past napari's paint events
    session.split_touching_large(layer, "inplace", min_distance=5)
    top = int(labels[:].max())
    assert top > 1
    assert session.scan_instance_ids(layer) == top
