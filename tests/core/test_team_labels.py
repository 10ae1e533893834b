"""Per-annotator sidecars of a dataset, label-image names, and guideline versions."""

from __future__ import annotations

import multiprocessing
import os

import numpy as np
import pytest

from napari_labelsuite.core.annotation import Box, ImageAnnotation, ObjectInfo
from napari_labelsuite.core.dataset import Dataset, load_sidecar
from napari_labelsuite.core.errors import TeamError
from napari_labelsuite.core.qc.checks import Finding
from napari_labelsuite.core.taxonomy import Taxonomy
from napari_labelsuite.core.team import (
    annotation_taxonomy_version,
    annotator_annotations,
    annotator_dir,
    annotator_label_name,
    list_annotators,
    load_annotator_annotation,
    lock_annotator,
    outdated_guidelines,
    parse_annotator_label_name,
    release_annotator_lock,
    save_annotator_annotation,
    stamp_taxonomy_version,
)
from team_data import write_random_tiffs

SHAPE = (16, 20)


@pytest.fixture
def dataset(tmp_path):
    return Dataset.open(write_random_tiffs(tmp_path / "imgs", 6, SHAPE, seed=0))


def _annotation(key: str, value: int = 1, shape=SHAPE) -> ImageAnnotation:
    inst = np.zeros(shape, np.int32)
    inst[2:6, 3 : 3 + value] = value
    return ImageAnnotation(key, shape, instances=inst, objects={value: ObjectInfo(1)})


def _files(folder):
    return {p: p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# -- sidecars per annotator ---------------------------------------------------------------
def test_each_annotator_saves_apart_and_reads_back_their_own(dataset):
    p_a = save_annotator_annotation(dataset, 1, "alice", _annotation("img1", 3))
    p_b = save_annotator_annotation(dataset, 1, "bob", _annotation("img1", 5))
    assert p_a == annotator_dir(dataset, "alice") / "img1.json"
    assert p_b.parent == dataset.annotation_dir / "annotators" / "bob"
    assert not dataset.has_annotation(1)  # the dataset's own sidecar is untouched
    a = load_annotator_annotation(dataset, 1, "alice")
    b = load_annotator_annotation(dataset, 1, "bob")
    np.testing.assert_array_equal(a.instances, _annotation("img1", 3).instances)
    np.testing.assert_array_equal(b.instances, _annotation("img1", 5).instances)
    assert load_annotator_annotation(dataset, 2, "alice") is None
    assert list_annotators(dataset) == ["alice", "bob"]
    # the same sidecar format as the dataset's own: load_sidecar reads it
    assert load_sidecar(p_a).objects == {3: ObjectInfo(1)}


def test_annotator_annotations_maps_item_index_to_annotation(dataset):
    for i in (0, 3, 5):
        save_annotator_annotation(dataset, i, "carol", _annotation(f"img{i}", i + 1))
    got = annotator_annotations(dataset, "carol")
    assert sorted(got) == [0, 3, 5]
    for i, ann in got.items():
        assert int(ann.instances.max()) == i + 1
        assert ann.image_name == dataset.relative_name(i)


def test_an_annotation_of_another_shape_is_refused_and_nothing_changes(dataset):
    save_annotator_annotation(dataset, 2, "alice", _annotation("img2", 2))
    before = _files(dataset.annotation_dir)
    with pytest.raises(TeamError, match="another shape") as info:
        save_annotator_annotation(dataset, 2, "alice", _annotation("img2", 4, shape=(16, 21)))
    assert info.value.field == "shape"
    assert info.value.value == (16, 21)
    assert _files(dataset.annotation_dir) == before


def test_an_unknown_annotator_name_is_refused_before_any_file_is_written(dataset):
    before = _files(dataset.root)
    with pytest.raises(TeamError, match="annotator name"):
        save_annotator_annotation(dataset, 0, "../escape", _annotation("img0"))
    with pytest.raises(TeamError, match="annotator name"):
        load_annotator_annotation(dataset, 0, "a/b")
    assert _files(dataset.root) == before


def _save_many(ds: Dataset, annotator: str, n: int) -> int:
    errors = 0
    for k in range(n):
        i = k % len(ds)
        try:  # distinct edits: the value encodes (annotator, save number)
            save_annotator_annotation(ds, i, annotator, _annotation(f"img{i}", 1 + k % 15))
        except Exception:
            errors += 1
    return errors


def _work_as(root: str, annotator: str, n: int, ready, go, out) -> None:
    """Worker: hold ``annotator``'s lock on the dataset and save ``n`` sidecars."""
    ds = Dataset.open(root)
    lock = lock_annotator(ds, annotator, "worker")
    ready.set()
    go.wait(timeout=60)
    out.put((annotator, _save_many(ds, annotator, n)))
    release_annotator_lock(lock)


def test_two_processes_annotators_locks_and_concurrent_sidecar_saves(dataset):
    """A spawned process works as alice while this one works as bob: the same annotator
    is refused with the holder named, distinct ones save at once and lose nothing."""
    ctx = multiprocessing.get_context("spawn")
    ready, go, out = ctx.Event(), ctx.Event(), ctx.Queue()
    n = 30
    p = ctx.Process(target=_work_as, args=(str(dataset.root), "alice", n, ready, go, out))
    p.start()
    try:
        assert ready.wait(timeout=120)
        with pytest.raises(TeamError, match=f"'worker' on host .*pid {p.pid}") as info:
            lock_annotator(dataset, "alice", "me")
        assert info.value.field == "annotator" and info.value.value == "alice"
        mine = lock_annotator(dataset, "bob", "me")  # distinct annotators never block
        assert mine is not None
        go.set()
        results = {"bob": _save_many(dataset, "bob", n)}
        results.update([out.get(timeout=120)])
    finally:
        go.set()
        p.join(timeout=60)
    assert p.exitcode == 0
    assert results == {"alice": 0, "bob": 0}
    release_annotator_lock(mine)
    for a in ("alice", "bob"):
        got = annotator_annotations(dataset, a)
        assert sorted(got) == list(range(6))
        for i, ann in got.items():
            last = max(k for k in range(n) if k % 6 == i)  # each item's last save wins
            np.testing.assert_array_equal(ann.instances, _annotation("x", 1 + last % 15).instances)
        # no temporary or orphaned masks file, no lock is left
        names = sorted(os.listdir(annotator_dir(dataset, a)))
        assert all(n.endswith((".json", ".npz")) for n in names)
        assert len([n for n in names if n.endswith(".json")]) == 6
    release_annotator_lock(lock_annotator(dataset, "alice", "me"))  # the worker released it


def test_a_folder_holding_only_a_lock_is_no_annotator(dataset):
    lock = lock_annotator(dataset, "viewer", "me")
    assert (annotator_dir(dataset, "viewer") / ".labelsuite.lock").is_file()
    assert list_annotators(dataset) == []
    assert lock_annotator(dataset, "viewer", "me") is None  # this process holds it already
    release_annotator_lock(lock)
    assert not annotator_dir(dataset, "viewer").exists()  # who only looked leaves no trace


# -- label image names ----------------------------------------------------------------------
def test_label_names_round_trip_and_plain_names_have_no_annotator():
    assert annotator_label_name("instances", "alice") == "instances.alice"
    assert parse_annotator_label_name("instances.alice") == ("instances", "alice")
    assert parse_annotator_label_name("semantic.j.doe") == ("semantic", "j.doe")
    assert parse_annotator_label_name("instances") == ("instances", None)
    assert parse_annotator_label_name(".alice") == (".alice", None)
    with pytest.raises(TeamError):
        annotator_label_name("instances", "no/slash")


# -- guideline versions ---------------------------------------------------------------------
def _taxonomy() -> Taxonomy:
    return Taxonomy([{"id": 1, "name": "cell", "description": "whole cell"},
                     {"id": 2, "name": "debris"}])  # fmt: skip


def test_a_new_guideline_text_is_a_new_version_saved_with_the_taxonomy(tmp_path):
    tax = _taxonomy()
    assert tax.version == 1
    tax.update("cell", description="whole cell, membrane included")
    assert tax.version == 2
    assert tax.by_name("cell").guideline_version == 2
    assert tax.by_name("debris").guideline_version == 1
    tax.update("cell", hotkey="c")  # not a guideline change
    assert tax.version == 2
    assert tax.bump("debris") == 3
    back = Taxonomy.load(tax.save(tmp_path / "t.yaml"))
    assert back.version == 3
    assert [c.guideline_version for c in back] == [2, 3]


def test_a_taxonomy_file_without_versions_reads_as_version_1(tmp_path):
    p = tmp_path / "old.yaml"
    p.write_text("name: x\nclasses:\n  - {id: 1, name: cell}\n")
    tax = Taxonomy.load(p)
    assert tax.version == 1
    assert tax.by_name("cell").guideline_version == 1
    assert "version" not in tax.to_dict()  # old files stay as they were


def test_outdated_guidelines_flags_only_labels_of_changed_classes():
    tax = _taxonomy()
    sem = np.zeros(SHAPE, np.uint8)
    sem[0:2, 0:2] = 2
    inst = np.zeros(SHAPE, np.int32)
    inst[5:8, 5:8] = 1
    inst[10:12, 1:4] = 2
    ann = ImageAnnotation(
        "img0", SHAPE, semantic=sem, instances=inst,
        objects={1: ObjectInfo(1), 2: ObjectInfo(2)},
        boxes=[Box(0, 0, 3, 3, class_id=1), Box(4, 4, 6, 6, class_id=2)],
    )  # fmt: skip
    stamp_taxonomy_version(ann, tax)
    assert annotation_taxonomy_version(ann) == 1
    assert outdated_guidelines(ann, tax) == []
    tax.update("cell", description="new rule")
    found = outdated_guidelines(ann, tax)
    assert all(isinstance(f, Finding) and f.check == "outdated_guideline" for f in found)
    assert [(f.instance_id, f.box_index, f.class_id) for f in found] == [(1, None, 1),
                                                                      (None, 0, 1)]  # fmt: skip
    assert found[0].value == {"made_under": 1, "guideline_version": 2}
    tax.bump("debris")  # debris: instance 2, box 1, semantic pixels
    found = outdated_guidelines(ann, tax)
    assert [(f.class_id, f.instance_id, f.box_index) for f in found] == [
        (1, 1, None), (2, 2, None), (1, None, 0), (2, None, 1), (2, None, None)]  # fmt: skip
    # an annotation saved under the current version is up to date
    stamp_taxonomy_version(ann, tax)
    assert outdated_guidelines(ann, tax) == []


def test_the_taxonomy_version_travels_with_the_sidecar(dataset):
    tax = _taxonomy()
    tax.bump("cell")
    ann = stamp_taxonomy_version(_annotation("img0"), tax)
    save_annotator_annotation(dataset, 0, "alice", ann)
    back = load_annotator_annotation(dataset, 0, "alice")
    assert annotation_taxonomy_version(back) == 2


def test_a_saved_sidecar_of_another_shape_is_a_team_error_when_loaded(dataset):
    p = save_annotator_annotation(dataset, 4, "bob", _annotation("img4", 2))
    # edited by hand into another shape (here: the sidecar of a 16 x 21 image)
    from napari_labelsuite.core.dataset import save_sidecar

    save_sidecar(_annotation("img4", 2, shape=(16, 21)), p)
    before = _files(dataset.annotation_dir)
    with pytest.raises(TeamError, match="another shape") as info:
        load_annotator_annotation(dataset, 4, "bob")
    assert info.value.path == str(p)
    assert info.value.value == (16, 21)
    with pytest.raises(TeamError):
        annotator_annotations(dataset, "bob")
    assert _files(dataset.annotation_dir) == before


def test_saving_again_keeps_the_version_of_labels_that_did_not_change():
    from napari_labelsuite.core.team import label_versions, stamp_label_versions

    tax = _taxonomy()
    inst = np.zeros(SHAPE, np.int32)
    inst[1:4, 1:4] = 1  # cell
    inst[6:9, 6:9] = 2  # cell
    sem = np.zeros(SHAPE, np.uint8)
    sem[0:2, 10:12] = 1
    sem[5:7, 15:18] = 2
    boxes = [Box(0, 0, 3, 3, class_id=1), Box(5, 5, 8, 8, class_id=2)]
    first = ImageAnnotation("img0", SHAPE, semantic=sem, instances=inst,
                            objects={1: ObjectInfo(1), 2: ObjectInfo(1)}, boxes=boxes)  # fmt: skip
    stamp_label_versions(None, first, tax)  # made under version 1
    tax.update("cell", description="membrane included")  # version 2
    tax.bump("debris")  # version 3
    assert {f.instance_id for f in outdated_guidelines(first, tax) if f.instance_id} == {1, 2}
    # the annotator redraws instance 2, moves box 1 and repaints the debris pixels
    second = first.copy()
    second.instances = inst.copy()
    second.instances[6:9, 6:10] = 2
    second.semantic = sem.copy()
    second.semantic[5:7, 15:19] = 2
    second.boxes = [Box(0, 0, 3, 3, class_id=1), Box(5, 5, 9, 9, class_id=2)]
    stamp_label_versions(first, second, tax)
    lv = label_versions(second)
    assert lv["objects"] == {1: 1, 2: 3}
    assert lv["boxes"] == [1, 3]
    assert lv["semantic"] == {2: 3}
    assert lv["semantic_default"] == 1
    assert second.metadata["taxonomy_version"] == 3
    found = outdated_guidelines(second, tax)
    assert [(f.instance_id, f.box_index, f.class_id) for f in found] == [
        (1, None, 1), (None, 0, 1), (None, None, 1)]  # fmt: skip
    # a third save with no change keeps every version as it is
    third = second.copy()
    stamp_label_versions(second, third, tax)
    assert label_versions(third) == lv


def test_hand_edited_label_versions_fall_back_to_the_annotation_version():
    from napari_labelsuite.core.team import label_versions

    ann = _annotation("img0", 2)
    bad = {"objects": {"2": "x", "nope": 3}, "boxes": "bad", "semantic": [1], "default": -4}
    ann.metadata.update(taxonomy_version=2, label_versions=bad)
    assert label_versions(ann) == {"default": 2, "objects": {2: 2}, "boxes": [],
                                   "semantic": {}, "semantic_default": 2}  # fmt: skip
