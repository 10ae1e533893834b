"""Dataset sidecars: paths stay inside their folder, bounded masks, typed fields, saves and
imports all or nothing, no writes to a far-away common parent."""

from __future__ import annotations

import errno
import io
import json
import os
import zipfile

import numpy as np
import pytest

from napari_labelsuite.core.annotation import ImageAnnotation, ObjectInfo
from napari_labelsuite.core.dataset import Dataset, load_sidecar, save_sidecar
from napari_labelsuite.core.errors import FormatError, SessionError
from napari_labelsuite.core.provenance import read_log
from napari_labelsuite.core.taxonomy import Taxonomy


def _ann(name: str = "a", value: int = 1, shape=(8, 8)) -> ImageAnnotation:
    inst = np.zeros(shape, np.int32)
    inst[1:4, 1:4] = value
    return ImageAnnotation(name, shape, instances=inst, objects={value: ObjectInfo(1)})


@pytest.fixture
def sidecar(tmp_path):
    folder = tmp_path / "labelsuite"
    folder.mkdir()
    return save_sidecar(_ann(), folder / "a.json")


def _set(jp, **fields):
    doc = json.loads(jp.read_text())
    doc.update(fields)
    jp.write_text(json.dumps(doc))


@pytest.mark.parametrize("masks", ["../secret.npz", "/etc/passwd", "sub/../../secret.npz"])
def test_masks_path_leaving_the_folder_is_refused(sidecar, tmp_path, masks):
    np.savez(tmp_path / "secret.npz", instances=np.ones((8, 8), np.int32))
    _set(sidecar, masks=masks)
    with pytest.raises(FormatError) as err:
        load_sidecar(sidecar)
    assert "field 'masks'" in str(err.value)


def test_masks_symlink_leaving_the_folder_is_refused(sidecar, tmp_path):
    np.savez(tmp_path / "secret.npz", instances=np.ones((8, 8), np.int32))
    os.symlink(tmp_path / "secret.npz", sidecar.parent / "link.npz")
    _set(sidecar, masks="link.npz")
    with pytest.raises(FormatError, match="outside the folder"):
        load_sidecar(sidecar)


def test_masks_path_of_the_wrong_type(sidecar):
    _set(sidecar, masks=12)
    with pytest.raises(FormatError, match="field 'masks'"):
        load_sidecar(sidecar)


def test_objects_as_a_list_is_named(sidecar):
    doc = json.loads(sidecar.read_text())
    doc["annotation"]["objects"] = [1, 2]
    sidecar.write_text(json.dumps(doc))
    with pytest.raises(FormatError) as err:
        load_sidecar(sidecar)
    assert "field 'objects'" in str(err.value) and "must be an object" in str(err.value)


def test_box_with_text_coordinates_is_named(sidecar):
    doc = json.loads(sidecar.read_text())
    doc["annotation"]["boxes"] = [{"xyxy": ["a", 1, 2, 3], "class_id": 1}]
    sidecar.write_text(json.dumps(doc))
    with pytest.raises(FormatError) as err:
        load_sidecar(sidecar)
    assert "boxes[0]" in str(err.value) and "field 'xyxy'" in str(err.value)


def test_npz_member_declaring_a_huge_shape_is_refused_before_allocating(sidecar):
    npz = sidecar.with_suffix(".npz")
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<i4", "fortran_order": False, "shape": (10**9, 10**9)}
    )
    with zipfile.ZipFile(npz, "w") as zf:
        zf.writestr("instances.npy", b"\x93NUMPY\x01\x00" + header.getvalue()[8:] + b"\0" * 64)
    with pytest.raises(FormatError) as err:
        load_sidecar(sidecar)
    assert "instances.npy" in str(err.value) and "limit" in str(err.value)


def test_npz_that_is_not_a_zip_is_named(sidecar):
    sidecar.with_suffix(".npz").write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(FormatError, match="cannot read masks"):
        load_sidecar(sidecar)


def test_latin1_and_deep_sidecars_are_format_errors(sidecar):
    sidecar.write_bytes(b'{"format": "caf\xe9"}')
    with pytest.raises(FormatError, match="UTF-8"):
        load_sidecar(sidecar)
    sidecar.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(FormatError, match="nested deeper"):
        load_sidecar(sidecar)


# -- saving -------------------------------------------------------------------------------
def test_disk_full_while_saving_leaves_the_previous_annotation(sidecar, monkeypatch):
    import napari_labelsuite.core.dataset as dataset_mod

    real = dataset_mod.atomic_write_text

    def full(path, text):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(dataset_mod, "atomic_write_text", full)
    with pytest.raises(OSError):
        save_sidecar(_ann(value=7), sidecar)
    monkeypatch.setattr(dataset_mod, "atomic_write_text", real)
    back = load_sidecar(sidecar)
    assert set(back.objects) == {1} and set(np.unique(back.instances)) == {0, 1}


def test_saves_alternate_masks_files_and_remove_the_old_one(sidecar):
    folder = sidecar.parent
    assert json.loads(sidecar.read_text())["masks"] == "a.npz"
    save_sidecar(_ann(value=2), sidecar)
    assert json.loads(sidecar.read_text())["masks"] == "a.alt.npz"
    assert not (folder / "a.npz").exists()
    save_sidecar(_ann(value=3), sidecar)
    assert json.loads(sidecar.read_text())["masks"] == "a.npz"
    assert sorted(p.name for p in folder.iterdir()) == ["a.json", "a.npz"]
    assert set(load_sidecar(sidecar).objects) == {3}


# -- datasets -------------------------------------------------------------------------------
def _images(root, names=("a", "b", "c")):
    root.mkdir(parents=True, exist_ok=True)
    for n in names:
        np.save(root / f"{n}.npy", np.zeros((8, 8), np.uint8))
    return root


def test_files_from_two_folders_need_an_annotation_folder(tmp_path):
    _images(tmp_path / "x" / "one", ["a"])
    _images(tmp_path / "y" / "two", ["b"])
    files = [tmp_path / "x" / "one" / "a.npy", tmp_path / "y" / "two" / "b.npy"]
    with pytest.raises(SessionError, match="annotation_dir"):
        Dataset.open(files)
    ds = Dataset.open(files, annotation_dir=tmp_path / "notes")
    assert ds.annotation_dir == tmp_path / "notes"
    # files of one folder keep the default
    assert Dataset.open(files[:1]).annotation_dir == tmp_path / "x" / "one" / "labelsuite"


def _taxonomy():
    return Taxonomy.from_dict({"classes": [{"id": 1, "name": "cell"}]})


def test_failing_import_writes_nothing(tmp_path):
    ds = Dataset.open(_images(tmp_path / "ds"))
    bad = [_ann("a"), _ann("b"), _ann("nope")]
    with pytest.raises(FormatError, match="nope"):
        ds.import_annotations(bad, _taxonomy(), source="x.json")
    assert not ds.annotation_dir.exists() or not any(ds.annotation_dir.iterdir())


def test_import_interrupted_while_staging_leaves_the_dataset_unchanged(tmp_path, monkeypatch):
    import napari_labelsuite.core.dataset as dataset_mod

    ds = Dataset.open(_images(tmp_path / "ds"))
    ds.save_annotation(0, _ann("a", value=5))
    before = {p.name: p.read_bytes() for p in ds.annotation_dir.iterdir()}
    calls = {"n": 0}
    real = dataset_mod._write_synced

    def dies(path, data):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        real(path, data)

    monkeypatch.setattr(dataset_mod, "_write_synced", dies)
    with pytest.raises(KeyboardInterrupt):
        ds.import_annotations([_ann("a", 1), _ann("b", 1)], _taxonomy(), source="s")
    assert {p.name: p.read_bytes() for p in ds.annotation_dir.iterdir()} == before


def test_import_committed_before_a_crash_is_finished_on_open(tmp_path, monkeypatch):
    """A crash after the manifest (the commit point): the next open moves the files into
    place and appends the provenance entries, once."""
    ds = Dataset.open(_images(tmp_path / "ds"))
    entries = [{"user": "ana", "action": "import", "params": {"image": k}} for k in "ab"]

    def crash(self, manifest):
        raise KeyboardInterrupt

    monkeypatch.setattr(Dataset, "_roll_forward", crash)
    with pytest.raises(KeyboardInterrupt):
        ds.import_annotations(
            [_ann("a", 1), _ann("b", 2)], _taxonomy(), source="s", provenance=entries
        )
    monkeypatch.undo()
    assert not ds.has_annotation(0)  # staged, committed, not yet in place
    again = Dataset.open(tmp_path / "ds")
    assert again.has_annotation(0) and again.has_annotation(1)
    assert set(load_sidecar(again.sidecar_path(1)).objects) == {2}
    assert again.taxonomy_path.is_file()
    log = read_log(again.provenance_path)
    assert [e["params"]["image"] for e in log] == ["a", "b"]
    Dataset.open(tmp_path / "ds")  # nothing left to finish: no duplicate entries
    assert len(read_log(again.provenance_path)) == 2
    assert (
        sorted(p.name for p in again.annotation_dir.iterdir() if p.name.startswith("."))[:1] == []
    )


def test_cli_import_is_one_transaction_with_its_provenance(tmp_path, monkeypatch, capsys):
    from napari_labelsuite.cli import main
    from napari_labelsuite.core import formats

    root = _images(tmp_path / "ds")
    formats.write(tmp_path / "in.json", [_ann("a.npy"), _ann("b.npy")], _taxonomy(), fmt="coco")
    assert main(["import", str(tmp_path / "in.json"), str(root), "--user", "ana"]) == 0
    ds = Dataset.open(root)
    log = read_log(ds.provenance_path)
    assert [(e["action"], e["params"]["image"]) for e in log] == [("import", "a"), ("import", "b")]
    assert ds.has_annotation(0) and ds.has_annotation(1) and not ds.has_annotation(2)
