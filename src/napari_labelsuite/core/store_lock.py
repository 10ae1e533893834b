"""The writer lock of a mask store: one writer at a time, named in the error.

The lock is a small JSON file ``.labelsuite.lock`` at the store's root holding the
holder's user, host, pid and start time. Local stores create it atomically
(``O_CREAT | O_EXCL``); remote stores (fsspec) check-then-write, which is best effort.
A lock left by a process that no longer runs on this host is stale and is taken over.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import socket
from dataclasses import dataclass
from typing import Any

from .errors import StoreError

__all__ = ["LOCK_NAME", "LockInfo", "StoreLock"]

LOCK_NAME = ".labelsuite.lock"


@dataclass(frozen=True)
class LockInfo:
    """Who holds a store's writer lock."""

    user: str
    host: str
    pid: int
    since: str

    def describe(self) -> str:
        return f"user {self.user!r} on host {self.host!r}, pid {self.pid}, since {self.since}"

    def to_json(self) -> str:
        return json.dumps(
            {"user": self.user, "host": self.host, "pid": self.pid, "since": self.since}
        )

    @classmethod
    def parse(cls, text: str | bytes) -> LockInfo | None:
        try:
            d = json.loads(text)
            return cls(str(d["user"]), str(d["host"]), int(d["pid"]), str(d.get("since", "")))
        except (ValueError, KeyError, TypeError):
            return None

    @classmethod
    def here(cls, user: str) -> LockInfo:
        now = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
        return cls(user, socket.gethostname(), os.getpid(), now)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


class StoreLock:
    """Writer lock on a store root.

    Parameters
    ----------
    root : str
        Local directory or fsspec path of the store (without protocol when ``fs`` is given).
    user : str
        Name written into the lock.
    fs : fsspec.AbstractFileSystem, optional
        For remote stores; ``None`` means a local directory.
    display : str, optional
        How errors name the store (defaults to ``root``).
    """

    def __init__(self, root: str, user: str, fs: Any = None, display: str | None = None):
        self.root = root.rstrip("/")
        self.user = user
        self.fs = fs
        self.display = display or root
        self.path = f"{self.root}/{LOCK_NAME}"
        self.info: LockInfo | None = None

    # -- io ----------------------------------------------------------------------------
    def _read(self) -> LockInfo | None:
        try:
            if self.fs is None:
                with open(self.path, "rb") as fh:
                    text = fh.read()
            else:
                text = self.fs.cat_file(self.path)
        except (FileNotFoundError, OSError):
            return None
        return LockInfo.parse(text)

    def _create(self, info: LockInfo) -> bool:
        """Write the lock if absent; False when someone else created it first."""
        data = info.to_json().encode()
        if self.fs is None:
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                return False
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            return True
        if self.fs.exists(self.path):
            return False
        self.fs.pipe_file(self.path, data)
        return True

    def _remove(self) -> None:
        with contextlib.suppress(FileNotFoundError, OSError):
            if self.fs is None:
                os.unlink(self.path)
            else:
                self.fs.rm_file(self.path)

    # -- api -----------------------------------------------------------------------------
    def holder(self) -> LockInfo | None:
        """The current holder, or None when the store is not locked."""
        return self._read()

    def acquire(self) -> LockInfo:
        """Take the lock or raise :class:`StoreError` naming the holder.

        A lock whose pid no longer runs on this host (a crashed writer) is replaced.
        """
        me = LockInfo.here(self.user)
        for _ in range(3):
            if self._create(me):
                self.info = me
                return me
            held = self._read()
            if held is None:
                # unreadable or vanished between the two calls: a torn lock from a crash
                self._remove()
                continue
            if held.host == me.host and not _pid_alive(held.pid):
                self._remove()
                continue
            raise StoreError(
                f"the store is open for writing by {held.describe()}; open it read-only "
                f"(mode='r') or close it there first (a crashed writer's lock on another "
                f"host must be removed by hand: {LOCK_NAME})",
                path=self.display,
                field="lock",
                value=held.describe(),
            )
        raise StoreError("could not take the writer lock", path=self.display, field="lock")

    def release(self) -> None:
        """Remove the lock if we hold it."""
        if self.info is None:
            return
        held = self._read()
        if held is None or (held.pid == self.info.pid and held.host == self.info.host):
            self._remove()
        self.info = None
