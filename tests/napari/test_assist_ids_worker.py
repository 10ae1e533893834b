"""With a viewer, a lazy (zarr) instance layer's ids are scanned in a worker thread when the
layer is adopted: the GUI thread does not wait, and the next id is right once it is done."""

from __future__ import annotations

import numpy as np
import zarr

from napari_labelsuite import LabelSession
from napari_labelsuite.core.annotation import ObjectInfo
from napari_labelsuite.core.synthetic import NUCLEI_CLASSES
from napari_labelsuite.core.taxonomy import Taxonomy


def _labels(tmp_path):
    labels = zarr.create_array(
        tmp_path / "l.zarr", shape=(128, 160), chunks=(32, 32), dtype="uint32", fill_value=0
    )
    labels[5:9, 5:9] = 3  # in the table
    labels[100:110, 140:150] = 12  # in the data only
    return labels


def _session(make_napari_viewer):
    viewer = make_napari_viewer()
    session = LabelSession.attach(viewer)
    session.taxonomy = Taxonomy(NUCLEI_CLASSES, name="cells")
    session.set_active_class("nucleus")
    return session


def test_adoption_scans_in_a_worker(make_napari_viewer, qtbot, tmp_path):
    session = _session(make_napari_viewer)
    layer = session.add_instance_layer(_labels(tmp_path), objects={3: ObjectInfo(class_id=1)})
    known = session._id_tops[layer]  # listening to writes from the start
    qtbot.waitUntil(lambda: known.ready, timeout=10000)
    assert known.top == 12
    assert session.next_instance_id(layer) == 13


def test_a_write_during_the_scan_is_counted(make_napari_viewer, qtbot, tmp_path):
    session = _session(make_napari_viewer)
    layer = session.add_instance_layer(_labels(tmp_path), objects={3: ObjectInfo(class_id=1)})
    known = session._id_tops[layer]
    layer.data_setitem((np.array([60]), np.array([60])), 40)  # before the worker reports
    qtbot.waitUntil(lambda: known.ready, timeout=10000)
    assert session.next_instance_id(layer) == 41


def test_asked_before_the_worker_is_done_scans_on_its_own(make_napari_viewer, qtbot, tmp_path):
    session = _session(make_napari_viewer)
    layer = session.add_instance_layer(_labels(tmp_path), objects={3: ObjectInfo(class_id=1)})
    assert not session._id_tops[layer].ready  # the worker has not reported yet
    assert session.next_instance_id(layer) == 13
    assert session._id_tops[layer].ready
    qtbot.wait(200)  # the worker's late result changes nothing
    assert session.next_instance_id(layer) == 13
