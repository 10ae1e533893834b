"""The store writer lock: torn and stale locks, takeover races, release of foreign locks."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import pytest

from napari_labelsuite.core import store_lock
from napari_labelsuite.core.errors import StoreError
from napari_labelsuite.core.store_lock import LOCK_NAME, TORN_GRACE_S, LockInfo, StoreLock


@pytest.fixture(scope="module")
def dead_pid() -> int:
    out = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(out.stdout)


def _stale(root, pid: int) -> LockInfo:
    info = LockInfo("carol", socket.gethostname(), pid, "then")
    (root / LOCK_NAME).write_text(info.to_json())
    return info


def test_empty_fresh_lock_file_counts_as_held(tmp_path):
    open(f"{tmp_path}/{LOCK_NAME}", "w").close()
    with pytest.raises(StoreError, match="being written or is unreadable") as ei:
        StoreLock(str(tmp_path), "b").acquire()
    assert ei.value.field == "lock"
    assert (tmp_path / LOCK_NAME).read_bytes() == b""


def test_unreadable_lock_older_than_grace_is_taken_over(tmp_path):
    lock = tmp_path / LOCK_NAME
    lock.write_bytes(b'{"user": "tor')
    old = time.time() - TORN_GRACE_S - 60
    os.utime(lock, (old, old))
    got = StoreLock(str(tmp_path), "b").acquire()
    assert LockInfo.parse(lock.read_bytes()) == got
    assert got.user == "b"


def test_acquire_leaves_only_the_lock_file(tmp_path):
    sl = StoreLock(str(tmp_path), "a")
    sl.acquire()
    assert sorted(p.name for p in tmp_path.iterdir()) == [LOCK_NAME]
    sl.release()
    assert list(tmp_path.iterdir()) == []


def test_stale_takeover_does_not_remove_a_lock_taken_meanwhile(tmp_path, dead_pid, monkeypatch):
    _stale(tmp_path, dead_pid)
    real_alive = store_lock._pid_alive
    winner = StoreLock(str(tmp_path), "b")
    raced = []

    def alive(pid):
        # the first time "a" finds the stale lock dead, "b" takes it over before "a" acts
        if pid == dead_pid and not raced:
            raced.append(True)
            winner.acquire()
            return False
        return real_alive(pid) if pid != dead_pid else False

    monkeypatch.setattr(store_lock, "_pid_alive", alive)
    with pytest.raises(StoreError, match="user 'b'"):
        StoreLock(str(tmp_path), "a").acquire()
    assert LockInfo.parse((tmp_path / LOCK_NAME).read_bytes()) == winner.info
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != f"{LOCK_NAME}.guard") == [
        LOCK_NAME
    ]


def test_stale_lock_is_taken_over_once(tmp_path, dead_pid):
    _stale(tmp_path, dead_pid)
    first = StoreLock(str(tmp_path), "a").acquire()
    with pytest.raises(StoreError, match="user 'a'"):
        StoreLock(str(tmp_path), "b").acquire()
    assert LockInfo.parse((tmp_path / LOCK_NAME).read_bytes()) == first


def test_release_keeps_another_holders_lock(tmp_path):
    sl = StoreLock(str(tmp_path), "a")
    sl.acquire()
    other = LockInfo("b", "elsewhere", 4242, "later")
    (tmp_path / LOCK_NAME).write_text(other.to_json())
    sl.release()
    assert LockInfo.parse((tmp_path / LOCK_NAME).read_bytes()) == other
    assert sl.info is None


def test_release_keeps_an_unreadable_lock(tmp_path):
    sl = StoreLock(str(tmp_path), "a")
    sl.acquire()
    (tmp_path / LOCK_NAME).write_bytes(b"")
    sl.release()
    assert (tmp_path / LOCK_NAME).read_bytes() == b""
