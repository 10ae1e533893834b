"""Remote stores through ``s3://`` against a real S3 API (moto's server on loopback)."""

from __future__ import annotations

import numpy as np
import pytest

from napari_labelsuite.core.annotation import ObjectInfo
from napari_labelsuite.core.errors import StoreError
from napari_labelsuite.core.store import MaskStore

pytest.importorskip("s3fs")
pytest.importorskip("moto.moto_server.threaded_moto_server")


def test_create_edit_reopen_over_s3(s3_options, cells_taxonomy):
    url = "s3://labels-bucket/cells.ome.zarr"
    st = MaskStore.create(url, shape=(300, 200), chunks=(64, 64), storage_options=s3_options)
    lab = st.create_labels("instances", dtype="uint16", role="instances")
    lab[10:70, 20:90] = 4
    st.taxonomy = cells_taxonomy
    st.set_objects("instances", {4: ObjectInfo(2)})
    first = st.save()
    assert first.chunks["instances"][0] == [(0, 0), (0, 1), (1, 0), (1, 1)]
    lab[200:210, 150:160] = 5
    second = st.save()
    assert second.chunks["instances"][0] == [(3, 2)]
    st.close()

    back = MaskStore.open(url, "r", storage_options=s3_options)
    expected = np.zeros((300, 200), np.uint16)
    expected[10:70, 20:90] = 4
    expected[200:210, 150:160] = 5
    np.testing.assert_array_equal(back.labels("instances")[:], expected)
    assert back.objects("instances") == {4: ObjectInfo(2)}
    assert back.taxonomy == cells_taxonomy


def test_remote_lock_names_the_holder(s3_options):
    url = "s3://labels-bucket/locked.ome.zarr"
    st = MaskStore.create(url, shape=(32, 32), storage_options=s3_options, user="frank")
    with pytest.raises(StoreError, match="user 'frank'"):
        MaskStore.open(url, "r+", storage_options=s3_options)
    st.close()
    MaskStore.open(url, "r+", storage_options=s3_options).close()
