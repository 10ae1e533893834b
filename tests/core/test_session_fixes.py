"""Regression tests of LabelSession fixes: cheap store status, taxonomy swaps, lazy data."""

from __future__ import annotations

import numpy as np
import pytest
import zarr

from napari_labelsuite import LabelSession


# -- store status reads no pixels ------------------------------------------------------------
@pytest.fixture
def stored(tmp_path):
    s = LabelSession()
    s.add_class("cell")
    s.add_instance_layer(np.zeros((64, 64), np.int32))
    s.create_store(str(tmp_path / "s.ome.zarr"), chunks=(32, 32))
    yield s
    s.close_store()


@pytest.fixture
def zarr_reads(monkeypatch):
    """Every key read from any zarr array while the test runs."""
    reads: list = []
    original = zarr.Array.__getitem__

    def spy(self, key):
        reads.append(key)
        return original(self, key)

    monkeypatch.setattr(zarr.Array, "__getitem__", spy)
    return reads


def test_store_status_of_a_clean_store_reads_nothing(stored, zarr_reads):
    assert stored.store_status()["dirty"] is False
    assert zarr_reads == []


def test_store_status_reports_paint_without_reading_the_store(stored, zarr_reads):
    stored.instances.paint((5, 5), 3, refresh=False)
    zarr_reads.clear()
    assert stored.store_status()["dirty"] is True
    assert zarr_reads == []


def test_store_status_reports_undo_after_save_without_reading(stored, zarr_reads):
    layer = stored.instances
    layer.paint((5, 5), 3, refresh=False)
    stored.save_store()
    assert stored.store_status()["dirty"] is False
    layer.undo()  # napari emits no event for undo
    zarr_reads.clear()
    assert stored.store_status()["dirty"] is True
    assert zarr_reads == []
    assert stored.store_has_unsaved_edits()  # the full compare agrees
