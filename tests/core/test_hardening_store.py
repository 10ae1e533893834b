"""Broken or hostile store metadata ends in a StoreError naming the key; links never
let a write leave the store; an interrupted write_all is repaired by the journal."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest

from napari_labelsuite.core.errors import StoreError
from napari_labelsuite.core.store import JOURNAL_NAME, MaskStore
from napari_labelsuite.core.store_pyramid import downsample_labels


def _store(tmp_path: Path, name: str = "s.ome.zarr") -> Path:
    path = tmp_path / name
    with MaskStore.create(path, shape=(32, 32), chunks=(16, 16), n_levels=2) as st:
        st.create_labels("cells", dtype="uint16", role="instances")[:8, :8] = 3
        st.save()
    return path


def _edit_json(path: Path, fn) -> None:
    doc = json.loads(path.read_text())
    fn(doc)
    path.write_text(json.dumps(doc))


def _root_attrs(doc):
    return doc["attributes"]


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: _root_attrs(d).__setitem__("labelsuite", "oops"), "labelsuite"),
        (lambda d: _root_attrs(d).__setitem__("labelsuite", [1, 2]), "labelsuite"),
        (lambda d: _root_attrs(d)["labelsuite"].__setitem__("annotation", "x"), "annotation"),
        (lambda d: _root_attrs(d).__setitem__("ome", "not an object"), "ome"),
        (lambda d: _root_attrs(d)["labelsuite"].__setitem__("shape", ["32", 32]), "shape"),
        (lambda d: _root_attrs(d)["labelsuite"].__setitem__("n_levels", 0), "n_levels"),
        (lambda d: _root_attrs(d)["labelsuite"].__setitem__("taxonomy", [1]), "taxonomy"),
        (
            lambda d: _root_attrs(d)["ome"]["multiscales"][0]["datasets"][0][
                "coordinateTransformations"
            ][0].pop("type"),
            "type",
        ),
    ],
)
def test_bad_root_metadata_is_a_store_error_naming_the_key(tmp_path, mutate, field):
    path = _store(tmp_path)
    _edit_json(path / "zarr.json", mutate)
    for mode in ("r", "r+"):
        with pytest.raises(StoreError) as err:
            MaskStore.open(path, mode)
        assert field in str(err.value)
    # the failed r+ open released its writer lock
    assert not (path / ".labelsuite.lock").exists()


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (
            lambda d: d["attributes"]["ome"]["multiscales"][0]["datasets"][1][
                "coordinateTransformations"
            ][0].__setitem__("scale", ["1", "2"]),
            "scale",
        ),
        (
            lambda d: d["attributes"]["ome"]["image-label"].__setitem__(
                "properties", [{"label-value": "3", "class_id": 1}]
            ),
            "label-value",
        ),
        (lambda d: d["attributes"]["labelsuite"].__setitem__("role", "blob"), "role"),
        (lambda d: d["attributes"]["ome"].__setitem__("image-label", "x"), "image-label"),
    ],
)
def test_bad_label_metadata_is_a_store_error(tmp_path, mutate, field):
    path = _store(tmp_path)
    _edit_json(path / "labels" / "cells" / "zarr.json", mutate)
    with pytest.raises(StoreError) as err:
        MaskStore.open(path, "r")
    assert field in str(err.value)
    assert "labels/cells" in str(err.value)


def test_ome_string_is_refused_by_validate_cli(tmp_path, capsys):
    from napari_labelsuite.cli import main

    path = _store(tmp_path)
    _edit_json(path / "zarr.json", lambda d: _root_attrs(d).__setitem__("ome", "x"))
    assert main(["validate", str(path)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "field 'ome'" in err[0]


def test_malformed_journal_opens_read_only_and_is_named_for_writing(tmp_path):
    path = _store(tmp_path)
    (path / JOURNAL_NAME).write_text('{"cells": [[["a", 1]]]}')
    with MaskStore.open(path, "r") as st:  # reading never needs the journal
        assert int(st.labels("cells")[0, 0]) == 3
    with pytest.raises(StoreError) as err:
        MaskStore.open(path, "r+")
    assert "journal" in str(err.value) and "read-only" in str(err.value)
    assert not (path / ".labelsuite.lock").exists()
    # repair: rebuild every pyramid level on the next save, which clears the journal
    with MaskStore.open(path, "r+", repair_journal=True) as st:
        st.save()
    assert not (path / JOURNAL_NAME).exists()
    MaskStore.open(path, "r+").close()


def test_journal_that_is_not_json_is_named(tmp_path):
    path = _store(tmp_path)
    (path / JOURNAL_NAME).write_bytes(b"\xff\xfe{{{")
    with pytest.raises(StoreError, match="journal"):
        MaskStore.open(path, "r+")


def test_symlinked_level_folder_leaving_the_store_is_refused(tmp_path):
    path = _store(tmp_path)
    outside = tmp_path / "elsewhere"
    level = path / "labels" / "cells" / "1"
    os.rename(level, outside)
    os.symlink(outside, level)
    before = {p: p.read_bytes() for p in outside.rglob("*") if p.is_file()}
    with pytest.raises(StoreError) as err:
        MaskStore.open(path, "r+")
    assert "labels/cells/1" in str(err.value) and "outside" in str(err.value)
    assert {p: p.read_bytes() for p in outside.rglob("*") if p.is_file()} == before
    with MaskStore.open(path, "r") as st:  # reading stays possible
        assert st.labels("cells").shape == (32, 32)


def test_symlink_inside_the_store_is_allowed(tmp_path):
    path = _store(tmp_path)
    (path / "labels" / "alias").symlink_to(path / "labels" / "cells")
    MaskStore.open(path, "r+").close()


def test_write_all_journals_before_touching_level_0(tmp_path, monkeypatch):
    """A crash inside write_all (after some slabs) leaves a journal that the next save
    uses to rebuild the pyramid from the new level 0."""
    path = _store(tmp_path)
    st = MaskStore.open(path, "r+")
    la = st.labels("cells")
    array_mod = sys.modules[type(la).__module__]
    monkeypatch.setattr(array_mod, "_SLAB_BYTES", 16 * 32 * 2)  # one chunk row per slab
    calls = {"n": 0}
    real = type(la._arr).__setitem__

    def crash_after_first_slab(arr, key, value):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt  # the process dies here
        real(arr, key, value)

    monkeypatch.setattr(type(la._arr), "__setitem__", crash_after_first_slab)
    with pytest.raises(KeyboardInterrupt):
        la.write_all(np.full((32, 32), 9, np.uint16))
    monkeypatch.undo()
    st._writer_lock.release()  # the dead process's lock
    st._finalizer.detach()
    assert json.loads((path / JOURNAL_NAME).read_text()) == {"cells": [[[0, 32], [0, 32]]]}
    with MaskStore.open(path, "r+") as st2:
        st2.save()
    with MaskStore.open(path, "r") as st3:
        lv0 = np.asarray(st3.label_levels("cells")[0][:])
        lv1 = np.asarray(st3.label_levels("cells")[1][:])
    assert (lv0[:16] == 9).all() and (lv0[16:, 8:] == 0).all()
    np.testing.assert_array_equal(lv1, downsample_labels(lv0, (2, 2), "nearest"))
    assert not (path / JOURNAL_NAME).exists()


def test_read_write_open_on_a_read_only_file_system_is_a_store_error(tmp_path, monkeypatch):
    import errno

    from napari_labelsuite.core.store import StoreLock

    path = _store(tmp_path)

    def erofs(self, *args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))

    monkeypatch.setattr(StoreLock, "acquire", erofs)
    with pytest.raises(StoreError) as err:
        MaskStore.open(path, "r+")
    assert "Read-only file system" in str(err.value) and "mode 'r'" in str(err.value)
    with MaskStore.open(path, "r") as st:
        assert st.labels("cells").shape == (32, 32)
