"""The session in team mode: assign, annotate as someone, next() follows the assignment,
each annotator's labels saved apart, team progress, guideline QC (headless)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from napari_labelsuite import LabelSession
from napari_labelsuite.core.dataset import Dataset
from napari_labelsuite.core.errors import TeamError
from napari_labelsuite.core.store import MaskStore
from napari_labelsuite.core.team import (
    Assignments,
    annotator_sidecar_path,
    assignments_path,
    load_annotator_annotation,
)
from team_data import write_random_tiffs

SHAPE = (24, 32)


@pytest.fixture
def folder(tmp_path):
    return write_random_tiffs(tmp_path / "plates", 10, SHAPE, seed=1)


@pytest.fixture
def session(cells_taxonomy, monkeypatch):
    monkeypatch.delenv("LABELSUITE_ANNOTATOR", raising=False)
    return LabelSession(taxonomy=cells_taxonomy, user="lead")


def _paint(s: LabelSession, value: int, rows=slice(2, 6)) -> None:
    layer = s.instances
    data = np.array(layer.data)
    data[rows, 3 : 3 + value] = value
    layer.data = data
    s.set_objects({value: s.objects(layer).get(value) or _obj()})


def _obj():
    from napari_labelsuite.core.annotation import ObjectInfo

    return ObjectInfo(1)


def test_assign_saves_a_reproducible_assignment_with_a_provenance_entry(session, folder):
    ds = session.open_dataset(folder)
    asg = session.assign(["alice", "bob"], overlap=0.2, per_image=2, seed=4)
    p = assignments_path(ds)
    assert Assignments.load(p, keys=ds.keys()) == asg
    assert session.assignments == asg
    assert asg == Assignments.create(ds.keys(), ["alice", "bob"], 0.2, 2, 4)
    assert len(asg.overlap_keys()) == 2
    entry = session.provenance()[-1]
    assert entry["action"] == "assign"
    assert entry["params"]["images"] == {"alice": 6, "bob": 6}
    assert entry["params"]["overlap_images"] == 2
    again = session.assign("alice,bob", overlap=0.2, seed=4)
    assert again.version == 2 and again.items == asg.items


def test_bad_assignments_change_nothing(session, folder):
    ds = session.open_dataset(folder)
    session.assign(["alice", "bob"], overlap=0.1)
    before = assignments_path(ds).read_bytes()
    for kwargs in ({"overlap": 1.2}, {"overlap": -1}, {"per_image": 1}, {"per_image": 3},
                   {"annotators": ["alice", "bad/name"]}):  # fmt: skip
        args = {"annotators": ["alice", "bob"], **kwargs}
        with pytest.raises(TeamError):
            session.assign(**args)
    assert assignments_path(ds).read_bytes() == before
    with pytest.raises(TeamError, match="not an annotator"):
        session.set_annotator("mallory")


def test_next_and_prev_follow_the_annotators_assignment(session, folder):
    ds = session.open_dataset(folder)
    asg = session.assign(["alice", "bob", "carol"], overlap=0.3, seed=2)
    session.set_annotator("bob")
    mine = [ds.keys().index(k) for k in asg.items_of("bob")]
    seen = []
    for _ in range(len(mine) + 2):  # stays on the last one at the end
        seen.append(session.next().key)
    assert seen == [ds[i].key for i in mine] + [ds[mine[-1]].key] * 2
    back = [session.prev().key for _ in range(len(mine) - 1)]
    assert back == [ds[i].key for i in reversed(mine[:-1])]


def test_each_annotator_saves_and_sees_only_their_own_labels(session, folder):
    ds = session.open_dataset(folder)
    asg = session.assign(["alice", "bob"], overlap=1.0, per_image=2, seed=0)  # all shared
    assert asg.overlap_keys() == ds.keys()
    session.set_annotator("alice")
    session.goto(0)
    _paint(session, 3)
    session.goto(1)  # saves img0 as alice's
    session.set_annotator("bob")
    session.goto(0)
    assert int(np.asarray(session.instances.data).max()) == 0  # bob starts blank
    _paint(session, 5)
    session.save_current()
    a = load_annotator_annotation(ds, 0, "alice")
    b = load_annotator_annotation(ds, 0, "bob")
    assert int(np.asarray(a.instances).max()) == 3
    assert int(np.asarray(b.instances).max()) == 5
    assert not ds.has_annotation(0)  # the dataset's own sidecar is never written in team mode
    # alice sees hers again
    session.set_annotator("alice")
    assert int(np.asarray(session.instances.data).max()) == 3
    other = session.annotator_labels("bob", 0)
    assert int(np.asarray(other.instances).max()) == 5
    with pytest.raises(TeamError, match="unknown annotator"):
        session.annotator_labels("carol", 0)
    # every save records the taxonomy version it was made under
    doc = json.loads(annotator_sidecar_path(ds, 0, "bob").read_text())
    assert doc["annotation"]["metadata"]["taxonomy_version"] == session.taxonomy.version


def test_team_progress_counts_assigned_and_done_images(session, folder):
    ds = session.open_dataset(folder)
    asg = session.assign(["alice", "bob"], overlap=0.0)
    session.set_annotator("alice")
    first_two = asg.items_of("alice")[:2]
    for key in first_two:
        session.goto(ds.keys().index(key))
        _paint(session, 2)
    session.next()
    prog = session.team_progress()
    assert prog == {"alice": {"assigned": 5, "done": 2}, "bob": {"assigned": 5, "done": 0}}


def test_the_default_annotator_comes_from_the_environment(cells_taxonomy, monkeypatch):
    monkeypatch.setenv("LABELSUITE_ANNOTATOR", "dana")
    assert LabelSession(taxonomy=cells_taxonomy, user="lead").annotator == "dana"
    monkeypatch.delenv("LABELSUITE_ANNOTATOR")
    assert LabelSession(taxonomy=cells_taxonomy, user="j doe").annotator == "j_doe"
    monkeypatch.setenv("LABELSUITE_ANNOTATOR", "../x")
    with pytest.raises(TeamError, match="LABELSUITE_ANNOTATOR"):
        _ = LabelSession(taxonomy=cells_taxonomy, user="lead").annotator


def test_a_hand_edited_assignment_file_is_a_named_error_and_stays_as_is(session, folder):
    ds = session.open_dataset(folder)
    session.assign(["alice", "bob"], overlap=0.2)
    p = assignments_path(ds)
    doc = json.loads(p.read_text())
    doc["items"]["img3"] = ["alice", "zed"]
    p.write_text(json.dumps(doc))
    before = p.read_bytes()
    with pytest.raises(TeamError, match="unknown annotator") as info:
        _ = session.assignments
    assert info.value.path == str(p)
    assert p.read_bytes() == before


def test_qc_flags_labels_made_under_an_older_guideline(session, folder):
    session.open_dataset(folder)
    session.assign(["alice"], overlap=0.0)
    session.set_annotator("alice")
    session.goto(0)
    _paint(session, 2)
    session.goto(1)
    session.goto(0)
    assert [f for f in session.run_checks() if f.check == "outdated_guideline"] == []
    cls = session.taxonomy[1].name
    session.taxonomy.update(cls, description="a new rule for this class")
    found = [f for f in session.run_checks() if f.check == "outdated_guideline"]
    assert [(f.instance_id, f.class_id) for f in found] == [(2, 1)]
    session.save_current(force=True)  # saving again without a change keeps it flagged
    session.goto(1)
    session.goto(0)
    found = [f for f in session.run_checks() if f.check == "outdated_guideline"]
    assert [(f.instance_id, f.class_id) for f in found] == [(2, 1)]
    _paint(session, 2, rows=slice(2, 9))  # redrawn under the new guideline: not flagged,
    assert [f for f in session.run_checks() if f.check == "outdated_guideline"] == []
    session.goto(1)  # ... neither before nor after it is saved
    session.goto(0)
    assert [f for f in session.run_checks() if f.check == "outdated_guideline"] == []


def test_store_items_open_for_the_annotator_with_their_own_label_images(session, tmp_path):
    d = tmp_path / "stores"
    d.mkdir()
    for k in range(2):
        MaskStore.create(d / f"s{k}.ome.zarr", shape=SHAPE, chunks=(16, 16)).close()
    ds = session.open_dataset(d)
    session.assign(["alice", "bob"], overlap=0.0)
    session.set_annotator("alice")
    session.goto(0)
    assert session.store.annotator == "alice"
    names = sorted(ly.name for ly in session.layers_of_role("instances"))
    assert names == ["instances.alice"]
    # another annotator can open the same store at the same time
    with MaskStore.open(ds[0].path, "r+", annotator="bob") as other:
        other.create_labels("instances.bob", role="instances")[0:2, 0:2] = 9
        other.save()
    layer = session.instances
    data = np.array(layer.data)
    data[4:8, 4:8] = 7
    layer.data = data
    session.save_current(force=True)
    session.close_store()
    with MaskStore.open(ds[0].path) as st:
        assert int(st.labels("instances.alice")[5, 5]) == 7
        assert int(st.labels("instances.bob")[0, 0]) == 9
        assert sorted(st.label_names()) == ["instances.alice", "instances.bob", "semantic.alice"]
    assert Dataset.open(d).keys() == ds.keys()


def _listing(root) -> dict[str, bytes | None]:
    return {str(p.relative_to(root)): p.read_bytes() if p.is_file() else None
            for p in sorted(root.rglob("*"))}  # fmt: skip


def test_viewing_store_items_in_team_mode_writes_nothing_until_the_first_save(session, tmp_path):
    d = tmp_path / "stores"
    d.mkdir()
    for k in range(2):
        MaskStore.create(d / f"s{k}.ome.zarr", shape=SHAPE, chunks=(16, 16)).close()
    session.open_dataset(d)
    session.assign(["alice", "bob"], overlap=1.0)
    session.close_store()
    stores = {k: _listing(d / f"s{k}.ome.zarr") for k in range(2)}
    session.open_dataset(d)  # as "lead", a reviewer outside the assignment
    session.goto(1)
    session.set_annotator("alice")
    assert [ly.name for ly in session.layers_of_role("instances")] == ["instances.alice"]
    session.next()
    session.set_annotator("bob")
    session.close_store()
    assert {k: _listing(d / f"s{k}.ome.zarr") for k in range(2)} == stores
    assert session.team_annotators() == ["alice", "bob"]
    assert session.team_progress()["alice"] == {"assigned": 2, "done": 0}
    session.set_annotator("alice")  # the first save creates alice's label images
    session.goto(0)
    layer = session.instances
    data = np.array(layer.data)
    data[4:8, 4:8] = 7
    layer.data = data
    session.next()
    assert _listing(d / "s1.ome.zarr") == stores[1]
    with MaskStore.open(d / "s0.ome.zarr") as st:
        assert st.label_names() == ["semantic.alice", "instances.alice"]
        assert int(st.labels("instances.alice")[5, 5]) == 7
    assert session.team_progress()["alice"] == {"assigned": 2, "done": 1}


def test_the_session_holds_its_annotators_lock_and_a_held_one_is_refused(session, folder):
    import os
    import socket

    from napari_labelsuite.core.store.lock import LockInfo

    ds = session.open_dataset(folder)
    session.assign(["alice", "bob"], overlap=1.0)
    session.set_annotator("alice")
    lock = annotator_sidecar_path(ds, 0, "alice").parent / ".labelsuite.lock"
    assert json.loads(lock.read_text())["pid"] == os.getpid()
    _paint(session, 3)
    # bob is at work in another process (a live pid that is not ours)
    other = LockInfo("bob", socket.gethostname(), os.getppid(), "2026-01-01T00:00:00", "annotator")
    held = annotator_sidecar_path(ds, 0, "bob").parent / ".labelsuite.lock"
    held.parent.mkdir(parents=True)
    held.write_text(other.to_json())
    shown = np.array(session.instances.data)
    with pytest.raises(TeamError, match=f"'bob' on host .*pid {os.getppid()}") as info:
        session.set_annotator("bob")
    assert info.value.field == "annotator"
    assert session.annotator == "alice" and session.index == 0  # nothing changed
    np.testing.assert_array_equal(session.instances.data, shown)
    assert not annotator_sidecar_path(ds, 0, "alice").exists()
    assert held.read_text() == other.to_json() and lock.is_file()
    held.unlink()
    session.set_annotator("bob")  # saves alice's image, leaves her lock, takes bob's
    assert annotator_sidecar_path(ds, 0, "alice").is_file()
    assert not lock.exists() and json.loads(held.read_text())["pid"] == os.getpid()
    session.release_annotator_lock()
    assert not held.exists()


def test_open_dataset_whose_annotator_lock_is_held_elsewhere_changes_nothing(
    session, folder, tmp_path
):
    import os
    import shutil
    import socket

    from napari_labelsuite.core.store.lock import LockInfo

    ds = session.open_dataset(folder)
    session.assign(["alice", "bob"], overlap=1.0)
    session.set_annotator("bob")
    session.save_current()
    session.release_annotator_lock()
    other_folder = tmp_path / "copy"
    shutil.copytree(folder, other_folder)
    session.open_dataset(folder)  # back on the first dataset, holding bob's lock there
    # bob is at work on the copy in another process (a live pid that is not ours)
    other = Dataset.open(other_folder)
    held = annotator_sidecar_path(other, 0, "bob").parent / ".labelsuite.lock"
    held.parent.mkdir(parents=True, exist_ok=True)
    info = LockInfo("bob", socket.gethostname(), os.getppid(), "2026-01-01T00:00:00", "annotator")
    held.write_text(info.to_json())
    shown, index, entries = session.dataset, session.index, len(session.history())
    layers = [ly.name for ly in session.layers_of_role("instances")]
    with pytest.raises(TeamError, match=f"pid {os.getppid()}"):
        session.open_dataset(other_folder)
    assert session.dataset is shown and session.index == index
    assert session.dataset.root == ds.root
    assert len(session.history()) == entries  # no "open_dataset" recorded
    assert [ly.name for ly in session.layers_of_role("instances")] == layers
    assert held.read_text() == info.to_json()


def test_open_dataset_shows_the_annotators_own_labels(cells_taxonomy, folder, monkeypatch):
    monkeypatch.setenv("LABELSUITE_ANNOTATOR", "bob")
    first = LabelSession(taxonomy=cells_taxonomy, user="lead")
    ds = first.open_dataset(folder)
    first.assign(["alice", "bob"], overlap=1.0)
    assert first.annotator == "bob"
    _paint(first, 4)
    first.save_current()
    assert annotator_sidecar_path(ds, 0, "bob").is_file()
    again = LabelSession(taxonomy=cells_taxonomy, user="lead")
    again.open_dataset(folder)
    assert int(np.asarray(again.instances.data).max()) == 4
    monkeypatch.setenv("LABELSUITE_ANNOTATOR", "alice")
    other = LabelSession(taxonomy=cells_taxonomy, user="lead")
    other.open_dataset(folder)
    assert int(np.asarray(other.instances.data).max()) == 0


def test_outdated_labels_lists_each_annotators_saved_labels_of_changed_classes(session, folder):
    session.open_dataset(folder)
    session.assign(["alice", "bob"], overlap=1.0)
    for who, value in (("alice", 2), ("bob", 3)):
        session.set_annotator(who)
        session.goto(0)
        _paint(session, value)
        session.goto(1)
    assert session.outdated_labels() == []
    session.taxonomy.bump(session.taxonomy[1].name)
    found = session.outdated_labels()
    assert sorted((f.extra["annotator"], f.instance_id, f.image) for f in found) == [
        ("alice", 2, "img0.tif"), ("bob", 3, "img0.tif")]  # fmt: skip
    assert [f.extra["annotator"] for f in session.outdated_labels("bob")] == ["bob"]


def test_an_annotators_sidecar_of_another_shape_is_refused_and_nothing_changes(session, folder):
    from napari_labelsuite.core.annotation import ImageAnnotation
    from napari_labelsuite.core.dataset import save_sidecar

    ds = session.open_dataset(folder)
    session.assign(["alice"], overlap=0.0)
    session.set_annotator("alice")
    session.goto(2)
    _paint(session, 3)
    session.goto(0)
    save_sidecar(ImageAnnotation("img2", (5, 5), instances=np.ones((5, 5), np.int32)),
                 annotator_sidecar_path(ds, 2, "alice"))  # fmt: skip
    files = {p: p.read_bytes() for p in ds.annotation_dir.rglob("*.json")}
    shown = np.array(session.instances.data)
    with pytest.raises(TeamError, match="another shape") as info:
        session.goto(2)
    assert info.value.path == str(annotator_sidecar_path(ds, 2, "alice"))
    assert session.index == 0
    np.testing.assert_array_equal(session.instances.data, shown)
    assert {p: p.read_bytes() for p in ds.annotation_dir.rglob("*.json")} == files


def test_set_annotator_reopens_a_shown_store_for_the_new_annotator(session, tmp_path):
    d = tmp_path / "stores"
    d.mkdir()
    MaskStore.create(d / "s0.ome.zarr", shape=SHAPE, chunks=(16, 16)).close()
    session.open_dataset(d)
    session.assign(["alice", "bob"], overlap=0.0)
    session.set_annotator("alice")
    assert session.store.annotator == "alice"
    session.set_annotator("bob")
    assert session.store.annotator == "bob"
    assert [ly.name for ly in session.layers_of_role("instances")] == ["instances.bob"]
    session.close_store()
    with MaskStore.open(d / "s0.ome.zarr", "r+"):  # every lock was released
        pass


def test_a_store_items_save_records_the_taxonomy_version_for_qc(session, tmp_path):
    from napari_labelsuite.core.annotation import ObjectInfo

    d = tmp_path / "stores"
    d.mkdir()
    MaskStore.create(d / "s0.ome.zarr", shape=SHAPE, chunks=(16, 16)).close()
    session.open_dataset(d)
    session.assign(["alice"], overlap=0.0)
    session.set_annotator("alice")
    layer = session.instances
    data = np.array(layer.data)
    data[4:8, 4:8] = 7
    layer.data = data
    session.set_objects({7: ObjectInfo(1)})
    session.save_current(force=True)
    with MaskStore.open(d / "s0.ome.zarr") as st:
        assert st.label_annotation_meta("instances.alice")["metadata"] == {"taxonomy_version": 1}
    assert [f for f in session.run_checks() if f.check == "outdated_guideline"] == []
    session.taxonomy.update(session.taxonomy[1].name, description="changed")
    found = [f for f in session.run_checks() if f.check == "outdated_guideline"]
    assert [(f.instance_id, f.class_id) for f in found] == [(7, 1)]


def test_progress_in_team_mode_shows_the_current_annotators_own_saves(session, folder):
    ds = session.open_dataset(folder)
    session.assign(["alice", "bob"], overlap=1.0)
    session.set_annotator("alice")
    session.goto(3)
    _paint(session, 2)
    session.goto(4)
    rows = session.progress().set_index("image")
    assert list(rows.index[rows["saved"]]) == [ds[3].key]
    assert int(rows.loc[ds[3].key, "n_objects"]) == 1
    session.set_annotator("bob")
    assert not session.progress()["saved"].any()
