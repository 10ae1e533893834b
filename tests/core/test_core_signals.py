"""Taxonomy and MaskStore report changes through psygnal signals; connect/disconnect and
on_change stay thin wrappers over them, and a listener's error propagates as itself."""

from __future__ import annotations

import numpy as np
import pytest
from psygnal import SignalInstance

from napari_labelsuite.core.errors import TaxonomyError
from napari_labelsuite.core.store import MaskStore
from napari_labelsuite.core.taxonomy import Taxonomy


def _tax() -> Taxonomy:
    return Taxonomy([{"id": 1, "name": "cell"}, {"id": 2, "name": "nucleus"}])


def test_taxonomy_changed_signal_carries_event_and_info():
    tax = _tax()
    assert isinstance(tax.changed, SignalInstance)
    seen = []
    tax.changed.connect(lambda event, info: seen.append((event, info)))
    tax.rename(1, "cytoplasm")
    cid = tax.add("membrane").id
    assert seen == [
        ("renamed", {"id": 1, "old": "cell", "new": "cytoplasm"}),
        ("added", {"id": cid}),
    ]


def test_taxonomy_connect_and_disconnect_wrap_the_signal():
    tax = _tax()
    calls = []

    def listener(event, **info):
        calls.append((event, info))

    assert tax.connect(listener) is listener
    tax.connect(listener)  # twice: still one call per change
    assert len(tax.changed) == 1
    tax.rename(2, "nuc")
    assert calls == [("renamed", {"id": 2, "old": "nucleus", "new": "nuc"})]
    tax.disconnect(listener)
    assert len(tax.changed) == 0
    tax.rename(2, "nucleus")
    assert len(calls) == 1
    tax.disconnect(listener)  # unknown: ignored


def test_taxonomy_listener_error_propagates_as_itself():
    tax = _tax()

    def veto(event, **info):
        raise TaxonomyError("vetoed", field="name", value=info.get("new"))

    tax.connect(veto)
    with pytest.raises(TaxonomyError, match="vetoed"):
        tax.rename(1, "x")


def test_taxonomy_copies_do_not_share_listeners():
    tax = _tax()
    calls = []
    tax.changed.connect(lambda event, info: calls.append(event))
    other = tax.copy()
    other.rename(1, "other")
    assert calls == [] and len(other.changed) == 0


def test_mask_store_edited_signal_and_on_change(tmp_path):
    st = MaskStore.create(str(tmp_path / "s.ome.zarr"), shape=(16, 16), chunks=(8, 8))
    lab = st.create_labels("instances", dtype="uint32")
    signal_calls, wrapper_calls = [], []
    st.edited.connect(lambda: signal_calls.append(1))

    def refresh():
        wrapper_calls.append(1)

    st.on_change(refresh)
    lab[0:4, 0:4] = 3
    assert signal_calls == [1] and wrapper_calls == [1]
    st.disconnect_change(refresh)
    lab[4:8, 4:8] = 5
    assert signal_calls == [1, 1] and wrapper_calls == [1]
    st.disconnect_change(refresh)  # not connected: ignored
    assert np.count_nonzero(lab[:, :]) == 32
    st.close()
