"""Annotators writing one mask store at once: a lock per label image, nothing lost.

One pair of spawned processes for annotators a and b each add their own label image and
save N distinct edits into it, at the same time, into a local store and then through
``s3://`` (moto's server). N is 50 here (12 over S3); ``LABELSUITE_TEAM_SAVES=500 pytest -m
slow`` runs the issue's 500 saves each (opt-in, not run by default).
"""

from __future__ import annotations

import multiprocessing
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import zarr

from napari_labelsuite.core.annotation import ImageAnnotation, ObjectInfo
from napari_labelsuite.core.errors import StoreError, TeamError
from napari_labelsuite.core.store import MaskStore
from napari_labelsuite.core.team import (
    open_for_annotator,
    read_annotator_annotation,
    write_annotator_annotation,
)

SHAPE = (32, 64)
CHUNKS = (16, 16)
SLOW_N = int(os.environ.get("LABELSUITE_TEAM_SAVES", "0") or 0)


def _pixel(k: int) -> tuple[int, int]:
    return (k // SHAPE[1]) % SHAPE[0], k % SHAPE[1]


def _expected(n: int) -> np.ndarray:
    exp = np.zeros(SHAPE, np.uint16)
    for k in range(n):
        exp[_pixel(k)] = k + 1
    return exp


def _annotate(jobs: list, annotator: str, barrier: Any, out: Any, hold: Any) -> None:
    """Worker: for each ``(url, n, opts)`` of ``jobs``, in step with the other worker, add
    ``instances.<annotator>`` and save ``n`` distinct edits, one per save. With ``hold``
    (``(url, ready, done)``), then keep that label image of ``url`` open until ``done``."""
    for url, n, opts in jobs:
        lock_errors = other_errors = 0
        seconds = 0.0
        try:
            barrier.wait(timeout=120)
            st = open_for_annotator(url, annotator, storage_options=opts)
            lab = st.create_labels(f"instances.{annotator}", dtype="uint16", role="instances")
            t0 = time.perf_counter()
            for k in range(n):
                lab[_pixel(k)] = k + 1
                try:
                    st.save()
                except StoreError as exc:
                    lock_errors += exc.field == "lock"
                    other_errors += exc.field != "lock"
            seconds = time.perf_counter() - t0
            st.close()
        except StoreError as exc:
            lock_errors += exc.field == "lock"
            other_errors += exc.field != "lock"
        out.put((url, annotator, lock_errors, other_errors, seconds))
    if hold is not None:
        url, ready, done = hold
        st = open_for_annotator(url, annotator)
        ready.set()
        done.wait(timeout=120)
        st.close()


def _run_two(jobs: list, hold_url: str | None = None) -> dict[tuple[str, str], tuple]:
    """Annotators a and b in two spawned processes run ``jobs`` (see ``_annotate``); with
    ``hold_url``, a then holds its label image there while this process checks that the
    same annotator is refused (the holder's pid named) and another one is not."""
    ctx = multiprocessing.get_context("spawn")
    barrier, out = ctx.Barrier(2), ctx.Queue()
    ready, done = ctx.Event(), ctx.Event()
    holds = {"a": (hold_url, ready, done) if hold_url else None, "b": None}
    procs = [ctx.Process(target=_annotate, args=(jobs, a, barrier, out, holds[a]))
             for a in ("a", "b")]  # fmt: skip
    for p in procs:
        p.start()
    try:
        results = {}
        for _ in range(2 * len(jobs)):
            url, a, lock_err, other, secs = out.get(timeout=600)
            results[url, a] = (lock_err, other, secs)
        if hold_url is not None:
            assert ready.wait(timeout=120)
            with pytest.raises(StoreError, match=f"pid {procs[0].pid}") as info:
                open_for_annotator(hold_url, "a")
            assert info.value.field == "lock"
            assert "labels/instances.a" in str(info.value.path)
            open_for_annotator(hold_url, "b").close()  # distinct annotators never wait
    finally:
        done.set()
        for p in procs:
            p.join(timeout=60)
    assert [p.exitcode for p in procs] == [0, 0]
    return results


def _check_everything_saved(url: str, n: int, opts: Any = None) -> None:
    with MaskStore.open(url, "r", storage_options=opts) as st:
        assert sorted(st.label_names()) == ["instances.a", "instances.b"]
        exp = _expected(n)
        for a in ("a", "b"):
            np.testing.assert_array_equal(st.labels(f"instances.{a}")[:], exp)
            # the pyramid above level 0 was rebuilt from every save
            np.testing.assert_array_equal(st.label_levels(f"instances.{a}")[1][:], exp[::2, ::2])


def _store(path: Any, opts: Any = None) -> str:
    MaskStore.create(str(path), shape=SHAPE, chunks=CHUNKS, storage_options=opts).close()
    return str(path)


def _files(folder: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# -- two processes, one store -----------------------------------------------------------------
def test_two_annotator_processes_save_concurrently_locally_and_over_s3(tmp_path, request):
    """One pair of spawned processes: 50 saves each into one local store, 12 each into one
    on moto's S3 server, all at once, nothing lost and no lock error; then the same
    annotator in this process is refused while a worker holds its label image (and
    over S3 while this process holds it)."""
    try:
        opts = request.getfixturevalue("s3_options")
    except pytest.skip.Exception:  # without s3fs/moto the local half still runs
        opts = None
    local = _store(tmp_path / "team.ome.zarr")
    jobs = [(local, 50, None)]
    if opts is not None:
        jobs.append((_store("s3://labels-bucket/concurrent.ome.zarr", opts), 12, opts))
    results = _run_two(jobs, hold_url=local)
    assert {k: r[:2] for k, r in results.items()} == {
        (url, a): (0, 0) for url, _, _ in jobs for a in ("a", "b")
    }
    for url, n, o in jobs:
        _check_everything_saved(url, n, o)
    # every lock was released; nothing but the two label images' files was added
    assert not list(Path(local).rglob(".labelsuite.lock"))
    if opts is not None:  # over S3 too, the same annotator twice is refused
        s3_url = jobs[1][0]
        first = open_for_annotator(s3_url, "a", storage_options=opts)
        with pytest.raises(StoreError, match="open for writing by") as info:
            open_for_annotator(s3_url, "a", storage_options=opts)
        assert info.value.field == "lock"
        assert "labels/instances.a" in str(info.value.path)
        open_for_annotator(s3_url, "b", storage_options=opts).close()
        first.close()
        open_for_annotator(s3_url, "a", storage_options=opts).close()


def test_the_same_annotator_twice_gets_a_lock_error_naming_the_holder(tmp_path):
    url = _store(tmp_path / "same.ome.zarr")
    first = open_for_annotator(url, "alice")
    first.create_labels("instances.alice", role="instances")
    with pytest.raises(StoreError, match=f"pid {os.getpid()}") as info:
        open_for_annotator(url, "alice")
    assert info.value.field == "lock"
    assert "labels/instances.alice" in str(info.value.path)
    other = open_for_annotator(url, "bob")  # another annotator is not blocked
    other.close()
    first.close()
    open_for_annotator(url, "alice").close()  # released on close


# -- label images created on the first save with edits ----------------------------------------
def test_a_deferred_label_image_is_written_only_by_the_first_save_with_edits(tmp_path):
    url = _store(tmp_path / "deferred.ome.zarr")
    before = _files(Path(url))
    st = open_for_annotator(url, "alice")
    sem = st.create_labels("semantic.alice", "uint8", role="semantic", deferred=True)
    ins = st.create_labels("instances.alice", role="instances", deferred=True)
    assert st.label_names() == ["semantic.alice", "instances.alice"]
    assert int(ins[:].max()) == 0 and not st.is_dirty
    st.save()  # nothing to save: the store stays as it was
    assert _files(Path(url)) == before
    with MaskStore.open(url) as other:
        assert other.label_names() == []
    ins[4:12, 8:20] = 5
    st.set_objects("instances.alice", {5: ObjectInfo(1)})
    st.save()
    assert ins is st.labels("instances.alice")  # the layers' array object stays the same
    ins[0, 0] = 6  # and writes to the store from now on
    st.save()
    with pytest.raises(StoreError, match="pid"):  # the created images are locked for alice
        open_for_annotator(url, "alice")
    st.close()
    with MaskStore.open(url) as back:
        assert back.label_names() == ["semantic.alice", "instances.alice"]
        assert back.role("semantic.alice") == "semantic"
        assert back.labels("semantic.alice").dtype == np.uint8
        assert int(np.count_nonzero(back.labels("semantic.alice")[:])) == 0
        exp = np.zeros(SHAPE, np.uint32)
        exp[4:12, 8:20] = 5
        exp[0, 0] = 6
        np.testing.assert_array_equal(back.labels("instances.alice")[:], exp)
        np.testing.assert_array_equal(back.label_levels("instances.alice")[1][:], exp[::2, ::2])
        assert sorted(back.objects("instances.alice")) == [5]
    assert sem.shape == SHAPE


def test_an_unused_deferred_label_image_leaves_the_store_as_it_was(tmp_path):
    url = _store(tmp_path / "untouched.ome.zarr")
    before = _files(Path(url))
    with open_for_annotator(url, "bob") as st:
        st.create_labels("instances.bob", role="instances", deferred=True)
        with pytest.raises(StoreError, match="<base>.bob"):
            st.create_labels("instances.carol", role="instances", deferred=True)
    assert _files(Path(url)) == before


# -- what an annotator may write -----------------------------------------------------------
def test_an_annotator_writes_only_their_label_images_never_the_root(tmp_path):
    url = _store(tmp_path / "rights.ome.zarr")
    with open_for_annotator(url, "bob") as st:
        st.create_labels("instances.bob", role="instances")[0:4, 0:4] = 2
        st.save()
    root_meta = (Path(url) / "zarr.json").read_bytes()
    with open_for_annotator(url, "alice") as st:
        with pytest.raises(StoreError, match="annotator 'alice'") as info:
            st.labels("instances.bob")[0, 0] = 9
        assert info.value.where == "labels/instances.bob"
        with pytest.raises(StoreError, match="named <base>.alice"):
            st.create_labels("instances.carol")
        with pytest.raises(StoreError):
            st.set_objects("instances.bob", {2: ObjectInfo(1)})
        lab = st.create_labels("instances.alice", role="instances")
        lab[5:9, 5:9] = 7
        st.set_objects("instances.alice", {7: ObjectInfo(3, status="approved")})
        st.set_annotation_meta({"image_name": "x", "metadata": {"taxonomy_version": 4}})
        st.save()
    assert (Path(url) / "zarr.json").read_bytes() == root_meta  # the shared root is untouched
    with MaskStore.open(url) as st:
        assert st.objects("instances.alice") == {7: ObjectInfo(3, status="approved")}
        assert int(st.labels("instances.bob")[0, 0]) == 2
        assert st.label_annotation_meta("instances.alice")["metadata"] == {"taxonomy_version": 4}
        assert st.role("instances.alice") == "instances"


def test_annotation_documents_round_trip_through_annotator_label_images(tmp_path):
    url = _store(tmp_path / "doc.ome.zarr")
    inst = np.zeros(SHAPE, np.int32)
    inst[3:9, 4:12] = 5
    ann = ImageAnnotation("doc", SHAPE, instances=inst, objects={5: ObjectInfo(2)},
                          metadata={"taxonomy_version": 3})  # fmt: skip
    with open_for_annotator(url, "alice") as st:
        write_annotator_annotation(st, "alice", ann)
    with MaskStore.open(url) as st:
        assert st.label_names() == ["instances.alice"]
        back = read_annotator_annotation(st, "alice")
        assert read_annotator_annotation(st, "bob") is None
    np.testing.assert_array_equal(np.asarray(back.instances), inst)
    assert back.objects == {5: ObjectInfo(2)}
    assert back.metadata["taxonomy_version"] == 3
    assert back.semantic is None


# -- whole-store writers and annotators exclude each other ----------------------------------
def test_a_whole_store_writer_and_annotators_exclude_each_other(tmp_path):
    url = _store(tmp_path / "mixed.ome.zarr")
    ann = open_for_annotator(url, "alice")
    ann.create_labels("instances.alice", role="instances")
    with pytest.raises(StoreError, match="annotator label image 'instances.alice'"):
        MaskStore.open(url, "r+")
    ann.close()
    whole = MaskStore.open(url, "r+")
    with pytest.raises(StoreError, match="open for writing by"):
        open_for_annotator(url, "alice")
    whole.close()
    open_for_annotator(url, "alice").close()
    # read-only opening is never blocked
    with open_for_annotator(url, "alice"):
        MaskStore.open(url, "r").close()


def test_a_crashed_annotators_lock_is_taken_over(tmp_path):
    import socket
    import subprocess

    from napari_labelsuite.core.store import LockInfo

    url = _store(tmp_path / "stale.ome.zarr")
    with open_for_annotator(url, "alice") as st:
        st.create_labels("instances.alice", role="instances")
    # what a killed annotator leaves: a lock naming a process of this host that is gone
    gone = subprocess.Popen(["true"])
    gone.wait()
    lock = Path(url) / "labels" / "instances.alice" / ".labelsuite.lock"
    lock.write_text(LockInfo("alice", socket.gethostname(), gone.pid, "earlier", "annotator")
                    .to_json())  # fmt: skip
    with open_for_annotator(url, "alice") as st:
        assert "instances.alice" in st.label_names()
        assert f"pid {os.getpid()}" in LockInfo.parse(lock.read_text()).describe()
    assert not lock.exists()
    MaskStore.open(url, "r+").close()


# -- bad input ---------------------------------------------------------------------------------
def test_an_annotator_label_image_of_another_shape_is_a_team_error_and_nothing_changes(
    tmp_path,
):
    url = _store(tmp_path / "shape.ome.zarr")
    with open_for_annotator(url, "alice") as st:
        st.create_labels("instances.alice", role="instances")[0:2, 0:2] = 1
        st.save()
    # edited by another tool: level 0 replaced by an array of another shape
    g = zarr.open_group(url, mode="r+")
    g["labels/instances.alice"].create_array("0", shape=(30, 60), chunks=(16, 16),
                                             dtype="uint32", overwrite=True)  # fmt: skip
    before = _files(Path(url))
    with pytest.raises(TeamError, match="another shape") as info:
        open_for_annotator(url, "alice")
    assert info.value.where == "labels/instances.alice"
    assert info.value.value == (30, 60)
    assert _files(Path(url)) == before  # no lock left, nothing written


def test_unknown_annotator_names_are_refused_before_the_store_is_touched(tmp_path):
    url = _store(tmp_path / "names.ome.zarr")
    before = _files(Path(url))
    for bad in ("", "../x", "a b", ".hidden"):
        with pytest.raises(TeamError, match="annotator name"):
            open_for_annotator(url, bad)
    assert _files(Path(url)) == before


@pytest.mark.slow
@pytest.mark.skipif(SLOW_N <= 0, reason="set LABELSUITE_TEAM_SAVES=500 to run")
def test_two_annotators_many_saves_local(tmp_path):
    url = _store(tmp_path / "many.ome.zarr")
    results = _run_two([(url, SLOW_N, None)])
    print(f"\nlocal, {SLOW_N} saves each: {results}")
    assert {k[1]: r[:2] for k, r in results.items()} == {"a": (0, 0), "b": (0, 0)}
    _check_everything_saved(url, SLOW_N)


# -- the same over S3 ----------------------------------------------------------------------------
# s3_endpoint / s3_options: tests/conftest.py
@pytest.mark.slow
@pytest.mark.skipif(SLOW_N <= 0, reason="set LABELSUITE_TEAM_SAVES=500 to run")
def test_two_annotators_many_saves_over_s3(s3_options):
    url = _store("s3://labels-bucket/many.ome.zarr", s3_options)
    results = _run_two([(url, SLOW_N, s3_options)])
    print(f"\nS3, {SLOW_N} saves each: {results}")
    assert {k[1]: r[:2] for k, r in results.items()} == {"a": (0, 0), "b": (0, 0)}
    _check_everything_saved(url, SLOW_N, s3_options)


def test_reading_an_annotator_label_image_of_another_shape_is_a_team_error(tmp_path):
    url = _store(tmp_path / "shape_read.ome.zarr")
    with open_for_annotator(url, "bob") as st:
        st.create_labels("instances.bob", role="instances")
        st.save()
    g = zarr.open_group(url, mode="r+")
    g["labels/instances.bob"].create_array("0", shape=(30, 60), chunks=(16, 16),
                                           dtype="uint32", overwrite=True)  # fmt: skip
    with MaskStore.open(url) as st, pytest.raises(TeamError, match="another shape") as info:
        read_annotator_annotation(st, "bob")
    assert info.value.where == "labels/instances.bob"
