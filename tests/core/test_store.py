"""MaskStore: round trips, OME-Zarr validity, incremental saves, locks and bad input."""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path

import numpy as np
import pytest
import zarr

from napari_labelsuite.core.annotation import Box, ImageAnnotation, ObjectInfo
from napari_labelsuite.core.errors import StoreError
from napari_labelsuite.core.store import MaskStore, is_labelsuite_store
from napari_labelsuite.core.store_lock import LOCK_NAME, LockInfo
from napari_labelsuite.core.store_pyramid import downsample_labels, mode_2x2


def _validate(path) -> object:
    import ome_zarr_models

    return ome_zarr_models.open_ome_zarr(zarr.open_group(str(path), mode="r"))


def _files(root: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(root)): (p.stat().st_ino, p.stat().st_mtime_ns)
        for p in root.rglob("*")
        if p.is_file()
    }


# -- round trips ---------------------------------------------------------------------------
def test_roundtrip_2d_instances(tmp_path, small_cells):
    st = MaskStore.create(tmp_path / "a.ome.zarr", shape=(256, 256), chunks=(64, 64))
    st.create_labels("instances", dtype="int32").write_all(small_cells.instances)
    st.save()
    st.close()
    back = MaskStore.open(tmp_path / "a.ome.zarr")
    np.testing.assert_array_equal(np.asarray(back.labels("instances")), small_cells.instances)
    assert back.labels("instances").dtype == np.int32


def test_roundtrip_3d(tmp_path):
    rng = np.random.default_rng(1)
    vol = rng.integers(0, 5, size=(6, 70, 90), dtype=np.uint16)
    with MaskStore.create(tmp_path / "v.ome.zarr", shape=vol.shape, chunks=(2, 32, 32)) as st:
        st.create_labels("seg", dtype="uint16")[...] = vol
        st.save()
    back = MaskStore.open(tmp_path / "v.ome.zarr")
    assert back.axes == "zyx"
    np.testing.assert_array_equal(back.labels("seg")[:], vol)


def test_roundtrip_multichannel_image_and_labels(tmp_path, small_cells):
    with MaskStore.create(
        tmp_path / "m.ome.zarr", shape=(256, 256), image=small_cells.image, chunks=(64, 64)
    ) as st:
        st.create_labels("semantic", dtype="uint8", role="semantic")[:] = small_cells.semantic
        st.save()
    back = MaskStore.open(tmp_path / "m.ome.zarr")
    assert back.shape == (256, 256)
    assert back.image_axes() == "cyx"
    np.testing.assert_array_equal(back.image_levels()[0][:], small_cells.image)
    np.testing.assert_array_equal(back.labels("semantic")[:], small_cells.semantic)


def test_annotation_document_roundtrip(tmp_path, small_cells, cells_taxonomy):
    objects = {
        int(i): ObjectInfo(1, {"note": f"cell {i}"}, status="approved", reviewer="ann")
        for i in np.unique(small_cells.instances)
        if i
    }
    boxes = [Box(3, 4, 40, 50, class_id=2, instance_id=1, attributes={"occluded": True})]
    ann = ImageAnnotation(
        "cells",
        (256, 256),
        semantic=small_cells.semantic,
        instances=small_cells.instances,
        objects=objects,
        boxes=boxes,
        metadata={"source": "synthetic"},
    )
    with MaskStore.create(tmp_path / "d.ome.zarr", shape=(256, 256), chunks=(64, 64)) as st:
        st.write_annotation(ann, taxonomy=cells_taxonomy)
    back = MaskStore.open(tmp_path / "d.ome.zarr")
    got = back.read_annotation()
    assert got.tables_to_dict() == ann.tables_to_dict()
    np.testing.assert_array_equal(np.asarray(got.instances), small_cells.instances)
    np.testing.assert_array_equal(np.asarray(got.semantic), small_cells.semantic)
    assert back.taxonomy == cells_taxonomy


def test_instance_table_is_in_image_label_properties(tmp_path, cells_taxonomy):
    with MaskStore.create(tmp_path / "p.ome.zarr", shape=(32, 32)) as st:
        st.create_labels("instances", role="instances")
        st.taxonomy = cells_taxonomy
        st.set_objects("instances", {5: ObjectInfo(2, {"size": "big"})})
        st.save()
    meta = json.loads((tmp_path / "p.ome.zarr/labels/instances/zarr.json").read_text())
    props = meta["attributes"]["ome"]["image-label"]["properties"]
    assert props[0]["label-value"] == 5
    assert props[0]["class"] == "cytoplasm"
    assert props[0]["attributes"] == {"size": "big"}


# -- OME-Zarr compatibility ----------------------------------------------------------------
@pytest.mark.parametrize("ngff", ["0.5", "0.4"])
def test_written_store_validates(tmp_path, small_cells, cells_taxonomy, ngff):
    path = tmp_path / "v.ome.zarr"
    with MaskStore.create(
        path, shape=(256, 256), image=small_cells.image, chunks=(64, 64), ngff=ngff
    ) as st:
        st.taxonomy = cells_taxonomy
        st.create_labels("semantic", dtype="uint8", role="semantic")[:] = small_cells.semantic
        st.create_labels("instances", role="instances")[:] = small_cells.instances
        st.set_objects("instances", {1: ObjectInfo(1)})
        st.save()
    import importlib

    model = _validate(path)
    mod = "v05" if ngff == "0.5" else "v04"
    assert type(model).__module__ == f"ome_zarr_models.{mod}.image"
    assert model.labels is not None
    image_label = importlib.import_module(f"ome_zarr_models.{mod}.image_label").ImageLabel
    root = zarr.open_group(str(path), mode="r")
    for name in ("semantic", "instances"):
        image_label.from_zarr(root[f"labels/{name}"])  # raises when invalid


def test_opens_store_written_by_ome_zarr_py(tmp_path):
    from ome_zarr.writer import write_image, write_labels

    img = np.arange(120 * 80, dtype=np.uint16).reshape(120, 80)
    lab = np.zeros((120, 80), np.uint32)
    lab[10:30, 5:60] = 3
    root = zarr.open_group(str(tmp_path / "o.zarr"), mode="w")
    write_image(img, root, axes="yx", scale_factors=(2,))
    write_labels(lab, root, name="cells", axes="yx", scale_factors=(2,))
    st = MaskStore.open(tmp_path / "o.zarr")
    assert st.label_names() == ["cells"]
    assert st.shape == (120, 80)
    np.testing.assert_array_equal(st.labels("cells")[:], lab)


def test_ome_zarr_py_reads_our_labels(tmp_path, cells_taxonomy):
    from ome_zarr.io import parse_url
    from ome_zarr.reader import Reader

    img = np.zeros((64, 64), np.uint8)
    with MaskStore.create(tmp_path / "r.ome.zarr", image=img, chunks=(32, 32)) as st:
        st.taxonomy = cells_taxonomy
        st.create_labels("semantic", dtype="uint8", role="semantic")[5:9, 5:9] = 2
        st.save()
    nodes = list(Reader(parse_url(str(tmp_path / "r.ome.zarr/labels/semantic")))())
    label = next(n for n in nodes if n.metadata.get("name") == "semantic")
    assert np.asarray(label.data[0])[5:9, 5:9].tolist() == [[2] * 4] * 4
    assert label.metadata["properties"][2]["class"] == "cytoplasm"


# -- laziness, dirty tracking, pyramids ------------------------------------------------------
def test_open_reads_no_chunk(tmp_path, monkeypatch):
    path = tmp_path / "l.ome.zarr"
    with MaskStore.create(path, shape=(512, 512), chunks=(128, 128)) as st:
        st.create_labels("a")[:] = 1
        st.save()
    for f in (path / "labels/a").rglob("c/*/*"):
        f.chmod(0)  # any chunk read would now fail
    try:
        st = MaskStore.open(path)
        assert st.labels("a").shape == (512, 512)
    finally:
        for f in (path / "labels/a").rglob("c/*/*"):
            f.chmod(0o644)


def test_edit_300_region_rewrites_only_touched_chunks(tmp_path):
    path = tmp_path / "big.ome.zarr"
    st = MaskStore.create(path, shape=(4096, 4096), chunks=(512, 512))
    lab = st.create_labels("cells", dtype="uint32")
    lab.write_all(np.ones((4096, 4096), np.uint32))
    st.save()
    before = _files(path)
    y0, x0 = 1000, 2000
    lab[y0 : y0 + 300, x0 : x0 + 300] = 9
    report = st.save()
    after = _files(path)
    changed = {k for k, v in after.items() if before.get(k) != v}
    expected = set()
    for lv in range(st.n_levels):
        f = 2**lv
        rows = range(y0 // f // 512, math.ceil((y0 + 300) / f) // 512 + 1)
        cols = range(x0 // f // 512, math.ceil((x0 + 300) / f) // 512 + 1)
        expected |= {f"labels/cells/{lv}/c/{r}/{c}" for r in rows for c in cols}
    assert changed == expected
    assert report.keys == expected
    assert report.chunks["cells"][0] == [(1, 3), (1, 4), (2, 3), (2, 4)]


def test_reads_see_unsaved_edits_and_save_clears_dirty(tmp_path):
    st = MaskStore.create(tmp_path / "e.ome.zarr", shape=(100, 100), chunks=(32, 32))
    lab = st.create_labels("x", dtype="uint8")
    lab[40:50, 40:70] = 3
    assert lab[45, 65] == 3
    assert lab.dirty_chunks == {(1, 1), (1, 2)}
    assert st.is_dirty
    st.save()
    assert lab.dirty_chunks == set()
    assert not st.is_dirty


def test_pyramid_levels_follow_edits(tmp_path):
    st = MaskStore.create(tmp_path / "py.ome.zarr", shape=(256, 256), chunks=(32, 32))
    lab = st.create_labels("x", dtype="uint16")
    rng = np.random.default_rng(0)
    data = rng.integers(0, 4, (256, 256), dtype=np.uint16)
    lab[:] = data
    st.save()
    lab[17:90, 33:70] = 7
    data[17:90, 33:70] = 7
    st.save()
    for lv, arr in enumerate(st.label_levels("x")):
        np.testing.assert_array_equal(arr[:], data[:: 2**lv, :: 2**lv])


def test_mode_downsampling_keeps_labels():
    a = np.array([[1, 1, 2, 0], [1, 3, 2, 2], [5, 6, 0, 0], [7, 8, 0, 4]], np.uint8)
    assert mode_2x2(a).tolist() == [[1, 2], [5, 0]]
    assert downsample_labels(a, (2, 2), "nearest").tolist() == [[1, 2], [5, 0]]


def test_build_pyramid_with_mode(tmp_path):
    st = MaskStore.create(tmp_path / "m.ome.zarr", shape=(64, 64), chunks=(16, 16))
    lab = st.create_labels("x", dtype="uint8")
    data = np.zeros((64, 64), np.uint8)
    data[1::2, :] = 5  # nearest sampling would see only zeros
    data[1::4, :] = 6
    lab[:] = data
    st.build_pyramid(method="mode")
    lvl1 = st.label_levels("x")[1][:]
    assert set(np.unique(lvl1)) <= {0, 5, 6}
    np.testing.assert_array_equal(lvl1, mode_2x2(data))


# -- safety ------------------------------------------------------------------------------
def test_local_store_writes_chunks_atomically(tmp_path, monkeypatch):
    """zarr's LocalStore writes a temporary file and renames it over the chunk."""
    import os

    import zarr.storage._local as local

    moves = []
    if hasattr(local, "_move_with_retry"):  # zarr >= 3.2
        real = local._move_with_retry

        def spy(tmp, dst, move):
            moves.append((Path(tmp).name, Path(dst).name))
            return real(tmp, dst, move)

        monkeypatch.setattr(local, "_move_with_retry", spy)
    else:  # zarr 3.1.x: Path.replace inside _atomic_write
        real_replace = os.replace

        def spy_replace(src, dst, *args, **kwargs):
            moves.append((Path(src).name, Path(dst).name))
            return real_replace(src, dst, *args, **kwargs)

        monkeypatch.setattr(os, "replace", spy_replace)
    st = MaskStore.create(tmp_path / "t.ome.zarr", shape=(8, 8), chunks=(8, 8), n_levels=1)
    st.create_labels("x", dtype="uint8")[:] = 1
    moves.clear()
    st.save()
    tmp, final = next(m for m in moves if m[1] == "0")
    assert final == "0"
    assert tmp.startswith("0.") and tmp.endswith(".partial")


def test_metadata_is_written_after_data(tmp_path, cells_taxonomy, monkeypatch):
    from zarr.storage import LocalStore

    order = []
    real = LocalStore.set

    async def spy(self, key, value):
        order.append(key)
        return await real(self, key, value)

    st = MaskStore.create(tmp_path / "o.ome.zarr", shape=(16, 16), chunks=(8, 8), n_levels=1)
    st.create_labels("x", dtype="uint8", role="instances")
    st.labels("x")[:] = 2
    st.set_objects("x", {2: ObjectInfo(1)})
    st.taxonomy = cells_taxonomy
    monkeypatch.setattr(LocalStore, "set", spy)
    st.save()
    chunk_pos = max(i for i, k in enumerate(order) if "/c/" in k)
    meta_pos = [i for i, k in enumerate(order) if k.endswith("zarr.json")]
    assert meta_pos and min(meta_pos) > chunk_pos


def test_second_writer_gets_lock_error_naming_holder(tmp_path):
    path = tmp_path / "k.ome.zarr"
    st = MaskStore.create(path, shape=(16, 16), user="alice")
    with pytest.raises(StoreError, match=rf"user 'alice' on host .*pid {os.getpid()}") as ei:
        MaskStore.open(path, "r+", user="bob")
    assert ei.value.field == "lock"
    assert MaskStore.open(path, "r").shape == (16, 16)
    st.close()
    MaskStore.open(path, "r+", user="bob").close()


def test_stale_lock_of_dead_pid_is_taken_over(tmp_path):
    import socket
    import subprocess
    import sys

    path = tmp_path / "s.ome.zarr"
    MaskStore.create(path, shape=(16, 16)).close()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    info = LockInfo("carol", socket.gethostname(), int(dead.stdout), "then")
    (path / LOCK_NAME).write_text(info.to_json())
    st = MaskStore.open(path, "r+", user="dave")
    assert json.loads((path / LOCK_NAME).read_text())["user"] == "dave"
    st.close()
    assert not (path / LOCK_NAME).exists()


def test_lock_of_other_host_is_respected(tmp_path):
    path = tmp_path / "h.ome.zarr"
    MaskStore.create(path, shape=(16, 16)).close()
    (path / LOCK_NAME).write_text(LockInfo("erin", "elsewhere", 1, "now").to_json())
    with pytest.raises(StoreError, match="'erin' on host 'elsewhere'"):
        MaskStore.open(path, "r+")


def test_autosave_flushes_in_background(tmp_path):
    st = MaskStore.create(tmp_path / "au.ome.zarr", shape=(64, 64), chunks=(32, 32))
    lab = st.create_labels("x", dtype="uint8")
    saved = []
    st.start_autosave(0.05, on_save=saved.append)
    lab[0:5, 0:5] = 4
    deadline = time.monotonic() + 10
    while not saved and time.monotonic() < deadline:
        time.sleep(0.02)
    st.stop_autosave()
    assert saved and saved[0].chunks["x"][0] == [(0, 0)]
    assert MaskStore.open(tmp_path / "au.ome.zarr").labels("x")[2, 2] == 4
    st.close()


def test_interrupted_save_journal_rebuilds_pyramid(tmp_path):
    path = tmp_path / "j.ome.zarr"
    st = MaskStore.create(path, shape=(64, 64), chunks=(16, 16))
    st.create_labels("x", dtype="uint8")
    st.save()
    st.close()
    # what a crash between the level-0 write and the pyramid update leaves behind
    zarr.open_array(str(path / "labels/x/0"), mode="r+")[0:16, 0:16] = 9
    (path / "labelsuite-journal.json").write_text(json.dumps({"x": [[[0, 16], [0, 16]]]}))
    st = MaskStore.open(path, "r+")
    assert st.is_dirty
    st.save()
    assert st.label_levels("x")[1][0:8, 0:8].tolist() == [[9] * 8] * 8
    assert not (path / "labelsuite-journal.json").exists()


# -- failed saves --------------------------------------------------------------------------
def _fail_store_writes(monkeypatch, key_part: str) -> dict[str, bool]:
    """Make local-store writes of keys containing ``key_part`` fail until switched off."""
    from zarr.storage import LocalStore

    real = LocalStore.set
    switch = {"on": True}

    async def set_or_fail(self, key, value):
        if switch["on"] and key_part in key:
            raise OSError(28, "No space left on device")
        return await real(self, key, value)

    monkeypatch.setattr(LocalStore, "set", set_or_fail)
    return switch


def test_failed_chunk_write_keeps_edits_for_next_save(tmp_path, monkeypatch):
    path = tmp_path / "f.ome.zarr"
    st = MaskStore.create(path, shape=(64, 64), chunks=(32, 32), n_levels=1)
    lab = st.create_labels("x", dtype="uint8")
    st.save()
    lab[0:32, 0:32] = 5
    switch = _fail_store_writes(monkeypatch, "labels/x/0/c/")
    with pytest.raises(StoreError):
        st.save()
    switch["on"] = False
    lab[40, 40] = 7
    st.save()
    st.close()
    expected = np.zeros((64, 64), np.uint8)
    expected[0:32, 0:32] = 5
    expected[40, 40] = 7
    np.testing.assert_array_equal(MaskStore.open(path).labels("x")[:], expected)


def test_failed_chunk_write_error_names_store_and_chunk(tmp_path, monkeypatch):
    path = tmp_path / "f.ome.zarr"
    st = MaskStore.create(path, shape=(64, 64), chunks=(32, 32), n_levels=1)
    lab = st.create_labels("x", dtype="uint8")
    lab[32:40, 0:8] = 3
    _fail_store_writes(monkeypatch, "labels/x/0/c/")
    with pytest.raises(StoreError, match="No space left") as ei:
        st.save()
    assert ei.value.path == str(path)
    assert ei.value.where == "chunk labels/x/0/c/1/0"
    assert ei.value.field == "x"


def test_edit_after_failed_save_wins_over_the_failed_chunk(tmp_path, monkeypatch):
    path = tmp_path / "f.ome.zarr"
    st = MaskStore.create(path, shape=(64, 64), chunks=(32, 32), n_levels=1)
    lab = st.create_labels("x", dtype="uint8")
    lab[0:32, 0:32] = 5
    switch = _fail_store_writes(monkeypatch, "labels/x/0/c/")
    with pytest.raises(StoreError):
        st.save()
    switch["on"] = False
    lab[0, 0] = 9
    st.save()
    st.close()
    assert MaskStore.open(path).labels("x")[0:2, 0:2].tolist() == [[9, 5], [5, 5]]


def test_failed_pyramid_write_is_redone_on_next_save(tmp_path, monkeypatch):
    path = tmp_path / "p.ome.zarr"
    st = MaskStore.create(path, shape=(64, 64), chunks=(16, 16), n_levels=2)
    lab = st.create_labels("x", dtype="uint8")
    st.save()
    lab[0:16, 0:16] = 4
    switch = _fail_store_writes(monkeypatch, "labels/x/1/c/")
    with pytest.raises(StoreError, match="level 1"):
        st.save()
    switch["on"] = False
    st.save()
    st.close()
    expected = np.zeros((32, 32), np.uint8)
    expected[0:8, 0:8] = 4
    np.testing.assert_array_equal(MaskStore.open(path).label_levels("x")[1][:], expected)


def test_failed_metadata_write_is_retried_on_next_save(tmp_path, monkeypatch):
    path = tmp_path / "m.ome.zarr"
    st = MaskStore.create(path, shape=(16, 16), chunks=(8, 8), n_levels=1)
    st.create_labels("x", dtype="uint8", role="instances")
    st.save()
    st.set_objects("x", {2: ObjectInfo(1, status="approved")})
    switch = _fail_store_writes(monkeypatch, "labels/x/zarr.json")
    with pytest.raises(StoreError, match="No space left") as ei:
        st.save()
    assert ei.value.where == "labels/x/zarr.json"
    switch["on"] = False
    st.save()
    st.close()
    assert MaskStore.open(path).objects("x") == {2: ObjectInfo(1, status="approved")}


# -- bad input -----------------------------------------------------------------------------
def test_not_a_zarr_store(tmp_path):
    (tmp_path / "plain").mkdir()
    with pytest.raises(StoreError, match="not a zarr store") as ei:
        MaskStore.open(tmp_path / "plain")
    assert ei.value.path == str(tmp_path / "plain")
    assert not is_labelsuite_store(tmp_path / "plain")


def test_non_integer_label_dtype(tmp_path):
    st = MaskStore.create(tmp_path / "f.ome.zarr", shape=(8, 8))
    with pytest.raises(StoreError, match="integer dtype") as ei:
        st.create_labels("bad", dtype="float32")
    assert (ei.value.field, ei.value.value) == ("dtype", "float32")


def test_float_label_array_in_store_is_rejected_on_open(tmp_path):
    path = tmp_path / "g.ome.zarr"
    MaskStore.create(path, shape=(8, 8)).close()
    g = zarr.open_group(str(path), mode="r+")
    lg = g.create_group("labels", attributes={"ome": {"version": "0.5", "labels": ["f"]}})
    fg = lg.create_group("f")
    fg.create_array("0", shape=(8, 8), dtype="float32", dimension_names=["y", "x"])
    ms = {"axes": [{"name": "y", "type": "space"}, {"name": "x", "type": "space"}],
          "datasets": [{"path": "0", "coordinateTransformations": [
              {"type": "scale", "scale": [1, 1]}]}]}  # fmt: skip
    fg.attrs.update({"ome": {"version": "0.5", "multiscales": [ms], "image-label": {}}})
    with pytest.raises(StoreError, match="integer dtype") as ei:
        MaskStore.open(path)
    assert (ei.value.where, ei.value.value) == ("labels/f", "float32")


def test_image_shape_mismatch(tmp_path):
    with pytest.raises(StoreError, match="image shape does not match") as ei:
        MaskStore.create(tmp_path / "s.ome.zarr", shape=(64, 64), image=np.zeros((2, 64, 65)))
    assert ei.value.field == "shape"


def test_annotation_shape_mismatch(tmp_path):
    st = MaskStore.create(tmp_path / "s.ome.zarr", shape=(64, 64))
    ann = ImageAnnotation("x", (64, 60), instances=np.zeros((64, 60), np.uint16))
    with pytest.raises(StoreError, match="does not match the store shape") as ei:
        st.write_annotation(ann)
    assert (ei.value.field, ei.value.value) == ("shape", (64, 60))


def test_corrupt_metadata(tmp_path):
    path = tmp_path / "c.ome.zarr"
    MaskStore.create(path, shape=(8, 8)).close()
    (path / "zarr.json").write_text("{ not json")
    with pytest.raises(StoreError, match="corrupt zarr metadata") as ei:
        MaskStore.open(path)
    assert ei.value.field == "zarr.json"


def test_missing_label_metadata(tmp_path):
    path = tmp_path / "m.ome.zarr"
    with MaskStore.create(path, shape=(8, 8)) as st:
        st.create_labels("x")
    (path / "labels/x/zarr.json").unlink()
    with pytest.raises(StoreError, match="missing or unreadable node") as ei:
        MaskStore.open(path)
    assert ei.value.where == "labels/x"


def test_truncated_chunk_is_named_and_rest_stays_readable(tmp_path):
    path = tmp_path / "t.ome.zarr"
    with MaskStore.create(path, shape=(64, 64), chunks=(32, 32)) as st:
        st.create_labels("x", dtype="uint16")[:] = 5
        st.save()
    chunk = path / "labels/x/0/c/1/0"
    chunk.write_bytes(chunk.read_bytes()[:7])
    st = MaskStore.open(path)
    with pytest.raises(StoreError, match=r"chunk \(1, 0\) of level 0") as ei:
        st.labels("x")[:]
    assert ei.value.where == "chunk labels/x/0/c/1/0"
    assert (st.labels("x")[0:32, :] == 5).all()
    assert (st.labels("x")[32:, 32:] == 5).all()


def test_write_with_wrong_shape(tmp_path):
    st = MaskStore.create(tmp_path / "w.ome.zarr", shape=(16, 16))
    lab = st.create_labels("x")
    with pytest.raises(StoreError, match="does not fit the region"):
        lab[0:4, 0:4] = np.ones((3, 3), np.uint32)
    with pytest.raises(StoreError, match="data shape does not match"):
        lab.write_all(np.ones((16, 15), np.uint32))


def test_read_only_store_refuses_writes(tmp_path):
    path = tmp_path / "ro.ome.zarr"
    with MaskStore.create(path, shape=(16, 16)) as st:
        st.create_labels("x")
    ro = MaskStore.open(path)
    with pytest.raises(StoreError, match="read-only"):
        ro.labels("x")[0, 0] = 1
