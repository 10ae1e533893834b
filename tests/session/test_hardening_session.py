"""The session with broken inputs and unwritable folders: imports adopt nothing until they
succeed, a dataset whose annotation folder cannot be written opens read-only."""

from __future__ import annotations

import errno
import os

import numpy as np
import pytest

from napari_labelsuite import LabelSession
from napari_labelsuite.core import formats
from napari_labelsuite.core.annotation import ImageAnnotation, ObjectInfo
from napari_labelsuite.core.errors import FormatError, SessionError
from napari_labelsuite.core.taxonomy import Taxonomy


def _images(root, names=("a", "b")):
    root.mkdir(parents=True, exist_ok=True)
    for n in names:
        np.save(root / f"{n}.npy", np.zeros((8, 8), np.uint8))
    return root


def _ann(name: str) -> ImageAnnotation:
    inst = np.zeros((8, 8), np.int32)
    inst[1:4, 1:4] = 1
    return ImageAnnotation(name, (8, 8), instances=inst, objects={1: ObjectInfo(1)})


def test_failing_import_adopts_no_taxonomy_and_writes_nothing(tmp_path):
    root = _images(tmp_path / "ds")
    tax = Taxonomy.from_dict({"classes": [{"id": 1, "name": "cell"}]})
    formats.write(tmp_path / "in.json", [_ann("a.npy"), _ann("zzz.npy")], tax, fmt="coco")
    s = LabelSession()
    s.open_dataset(root)
    listing = sorted(p.name for p in (root / "labelsuite").iterdir())
    with pytest.raises(FormatError, match="zzz"):
        s.import_dataset(tmp_path / "in.json")
    assert len(s.taxonomy) == 0
    assert sorted(p.name for p in (root / "labelsuite").iterdir()) == listing
    assert not (root / "labelsuite" / "taxonomy.yaml").exists()


def test_successful_import_adopts_the_taxonomy(tmp_path):
    root = _images(tmp_path / "ds")
    tax = Taxonomy.from_dict({"classes": [{"id": 1, "name": "cell"}]})
    formats.write(tmp_path / "in.json", [_ann("a.npy")], tax, fmt="coco")
    s = LabelSession()
    s.open_dataset(root)
    assert s.import_dataset(tmp_path / "in.json") == [0]
    assert s.taxonomy[1].name == "cell"
    assert Taxonomy.load(root / "labelsuite" / "taxonomy.yaml")[1].name == "cell"


def test_unwritable_annotation_folder_opens_read_only_with_a_notice(tmp_path):
    root = _images(tmp_path / "ds")
    blocker = tmp_path / "notes"
    blocker.write_text("a file where the annotation folder should be")
    s = LabelSession(taxonomy=Taxonomy.from_dict({"classes": [{"id": 1, "name": "cell"}]}))
    with pytest.warns(UserWarning, match="open read-only"):
        s.open_dataset(root, annotation_dir=blocker)
    assert s.index == 0
    assert "open_dataset" in [e["action"] for e in s.history()]  # kept in memory
    s.add_instance_layer(_ann("a").instances, objects={1: ObjectInfo(1)})
    with pytest.raises(SessionError, match="read-only"):
        s.save_current()
    assert blocker.read_text().startswith("a file")
    s.goto(1, save=False)  # browsing still works


def test_disk_full_on_save_is_a_session_error_and_keeps_the_old_file(tmp_path, monkeypatch):
    import napari_labelsuite.core.dataset as dataset_mod

    root = _images(tmp_path / "ds")
    s = LabelSession(taxonomy=Taxonomy.from_dict({"classes": [{"id": 1, "name": "cell"}]}))
    s.open_dataset(root)
    s.add_instance_layer(_ann("a").instances, objects={1: ObjectInfo(1)})
    s.save_current()
    before = (root / "labelsuite" / "a.json").read_bytes()

    def full(path, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(dataset_mod, "atomic_write_bytes", full)
    s.instances.data[5:7, 5:7] = 1
    with pytest.raises(SessionError, match="No space left on device"):
        s.save_current(force=True)
    assert (root / "labelsuite" / "a.json").read_bytes() == before


def test_export_onto_a_file_and_import_on_a_full_disk_are_session_errors(tmp_path, monkeypatch):
    import napari_labelsuite.core.dataset as dataset_mod

    root = _images(tmp_path / "ds")
    tax = Taxonomy.from_dict({"classes": [{"id": 1, "name": "cell"}]})
    s = LabelSession(taxonomy=tax)
    s.open_dataset(root)
    s.add_instance_layer(_ann("a").instances, objects={1: ObjectInfo(1)})
    s.save_current()
    blocker = tmp_path / "out.json"
    blocker.mkdir()  # a folder where the COCO file should go
    with pytest.raises(SessionError, match="cannot export"):
        s.export_dataset(blocker, "coco")
    assert blocker.is_dir() and not any(blocker.iterdir())

    formats.write(tmp_path / "in.json", [_ann("b.npy")], tax, fmt="coco")

    def full(path, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(dataset_mod, "_write_synced", full)
    with pytest.raises(SessionError, match="No space left on device"):
        s.import_dataset(tmp_path / "in.json")
    names = [p.name for p in (root / "labelsuite").iterdir()]
    assert "b.json" not in names and not [n for n in names if n.startswith(".import-")]
