"""The grouped core keeps the old import paths, and session events are psygnal signals."""

from __future__ import annotations

import importlib

import pytest

OLD_TO_NEW = {
    "qc_checks": "qc.checks",
    "qc_matching": "qc.matching",
    "qc_metrics": "qc.metrics",
    "qc_pairs": "qc.pairs",
    "qc_report": "qc.report",
    "augment_transforms": "augment.transforms",
    "augment_warp": "augment.warp",
    "store_lock": "store.lock",
    "store_pyramid": "store.pyramid",
    "instances_chunked": "instances.chunked",
}


@pytest.mark.parametrize(("old", "new"), sorted(OLD_TO_NEW.items()))
def test_old_module_path_is_the_new_module(old, new):
    base = "napari_labelsuite.core."
    assert importlib.import_module(base + old) is importlib.import_module(base + new)


def test_packages_export_what_the_flat_modules_did():
    from napari_labelsuite.core import augment, instances, qc, store

    assert store.MaskStore.__module__ == "napari_labelsuite.core.store.mask_store"
    assert store.LabelArray.__module__ == "napari_labelsuite.core.store.array"
    assert store.SaveJournal.__module__ == "napari_labelsuite.core.store.journal"
    assert store._normalize_key and store._parse_journal  # old private names stay readable
    assert store.is_labelsuite_store and store.MARKER == "labelsuite"
    assert instances.split_touching_chunked and instances.InstanceEdit
    assert instances._check_labels  # private helpers of the old module stay readable
    assert augment.Pipeline and augment.HorizontalFlip and augment.TRANSFORMS
    assert augment.Pipeline.from_keras({"horizontal_flip": True}).transforms[0].p == 0.5
    assert augment.pipeline_from_keras.__module__ == "napari_labelsuite.core.augment.interop"
    assert qc.agreement and qc.check and qc.pair_counts


# -- session signals ------------------------------------------------------------------------
@pytest.fixture
def session():
    from napari_labelsuite import LabelSession
    from napari_labelsuite.core.taxonomy import Taxonomy

    return LabelSession(taxonomy=Taxonomy([{"id": 1, "name": "cell"}]))


def test_taxonomy_changed_signal_and_the_old_listener_method(session):
    seen, old = [], []
    session.taxonomy_changed.connect(lambda event, info: seen.append((event, info)))

    def listener(event, **info):
        old.append(event)

    session.on_taxonomy_changed(listener)
    session.add_class("debris")
    assert seen[-1][0] == old[-1] == seen[-1][0] and len(old) >= 1
    session.disconnect_taxonomy(listener)
    n = len(old)
    session.taxonomy.rename("debris", "junk")
    assert len(old) == n and len(seen) > 1


def test_active_class_findings_and_provenance_signals(session):
    active, found, entries = [], [], []
    session.active_class_changed.connect(active.append)
    session.findings_changed.connect(lambda: found.append(1))
    session.provenance_recorded.connect(entries.append)
    session.set_active_class("cell")
    assert active == [1]
    import numpy as np

    session.add_semantic_layer(np.zeros((8, 8), np.uint8))
    session.run_checks()  # a clean mask: an empty review queue, still announced
    assert found == [1] and session.findings == []
    assert entries and entries[-1] is session.history()[-1]


def test_an_error_in_a_listener_keeps_its_type(session):
    from napari_labelsuite.core.errors import SessionError

    def fail(cid):
        raise SessionError("listener failed", field="cid", value=cid)

    session.active_class_changed.connect(fail)
    with pytest.raises(SessionError, match="listener failed"):
        session.set_active_class("cell")


# -- NGFF 0.4 / 0.5 format objects ------------------------------------------------------------
@pytest.mark.parametrize("ngff", ["0.4", "0.5"])
def test_ngff_format_objects_round_trip_and_match_the_written_store(ngff, tmp_path):
    import json

    import numpy as np
    import zarr

    from napari_labelsuite.core.store import MaskStore
    from napari_labelsuite.core.store.ngff import format_for

    fmt = format_for(ngff=ngff)
    assert format_for(zarr_format=fmt.zarr_format) is fmt
    ome = {"labels": ["a"]}
    assert fmt.ome(fmt.wrap(ome))["labels"] == ["a"]
    attrs = fmt.wrap(ome)
    updated = {**attrs, **fmt.merged(attrs, {"x": 1})}  # as zarr's attrs.update does
    assert fmt.ome(updated) == {**fmt.ome(attrs), "x": 1}

    path = tmp_path / f"s{ngff}.ome.zarr"
    st = MaskStore.create(path, shape=(8, 8), ngff=ngff)
    st.create_labels("m", dtype="uint8").write_all(np.ones((8, 8), np.uint8))
    st.save()
    st.close()
    raw = json.loads((path / "labels" / "m" / fmt.metadata_file).read_text())
    node = fmt.ome(raw.get("attributes", raw))
    assert node["image-label"].get("version") == ("0.4" if ngff == "0.4" else None)
    assert zarr.open_group(path, mode="r").metadata.zarr_format == fmt.zarr_format


# -- one block iterator -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("shape", "chunks", "budget"),
    [
        ((25, 20, 11), (4, 1, 1), 83),
        ((7, 9), (2, 4), None),
        ((5, 6, 7), None, 40),
        ((3,), (2,), 1),
    ],
)
def test_blocks_tile_the_shape_once_chunk_aligned_within_budget(shape, chunks, budget):
    import numpy as np

    from napari_labelsuite.core.blocks import iter_blocks

    cover = np.zeros(shape, int)
    ch = chunks or (1,) * len(shape)
    for b in iter_blocks(shape, chunks, max_elems=budget):
        cover[b] += 1
        assert all(s.start % c == 0 for s, c in zip(b, ch))
        if budget is not None:
            assert np.prod([s.stop - s.start for s in b]) <= max(budget, np.prod(ch))
        else:
            assert all(s.stop - s.start <= c for s, c in zip(b, ch))
    assert (cover == 1).all()


def test_qc_instances_and_store_walk_blocks_with_the_one_iterator():
    from napari_labelsuite.core.blocks import iter_blocks
    from napari_labelsuite.core.instances.chunked import block_slices
    from napari_labelsuite.core.qc.pairs import iter_blocks as qc_blocks

    assert list(qc_blocks((6, 10, 10), 250)) == list(iter_blocks((6, 10, 10), max_elems=250))
    assert block_slices((7, 9), (2, 4)) == list(iter_blocks((7, 9), (2, 4)))


def test_convert_classifier_and_interpolation_walk_blocks_with_the_one_iterator():
    import itertools

    import dask.array as da
    import numpy as np

    from napari_labelsuite.core.classifier.features import iter_tiles
    from napari_labelsuite.core.convert import iter_blocks as row_blocks
    from napari_labelsuite.core.instances import find_bboxes
    from napari_labelsuite.core.interpolate._common import object_boxes

    # the tiles the classifier used to enumerate by hand: every start on the tile grid
    shape, tile = (7, 10, 5), (3, 4, 5)
    starts = itertools.product(*(range(0, n, t) for n, t in zip(shape, tile)))
    grid = [tuple(slice(a, min(a + t, n)) for a, t, n in zip(s, tile, shape)) for s in starts]
    assert list(iter_tiles(shape, tile)) == grid
    arr = np.arange(7 * 3).reshape(7, 3)
    got = [(sl, b.tolist()) for sl, b in row_blocks(arr, block_rows=3)]
    assert got == [(slice(0, 3), arr[:3].tolist()), (slice(3, 6), arr[3:6].tolist()),
                   (slice(6, 7), arr[6:].tolist())]  # fmt: skip
    labels = np.zeros((6, 20, 20), np.int32)
    labels[1:4, 3:15, 5:9] = 1
    labels[5, 18:, 0:2] = 2
    lazy = da.from_array(labels, chunks=(2, 7, 7))
    assert object_boxes(lazy) == find_bboxes(labels)


def test_semantic_disagreement_is_one_core_function_read_in_blocks(monkeypatch):
    import dask.array as da
    import numpy as np

    from napari_labelsuite.core.qc import pairs, semantic_disagreement

    rng = np.random.default_rng(0)
    a, b, c = (rng.integers(0, 3, (40, 50)).astype(np.uint8) for _ in range(3))
    monkeypatch.setattr(pairs, "BLOCK_ELEMS", 300)  # many blocks
    got = semantic_disagreement([da.from_array(a, chunks=10), b, c])
    np.testing.assert_array_equal(got, ((a != b) | (a != c)).astype(np.uint8))
