"""The writer lock of a mask store: one writer at a time, named in the error.

The lock is a small JSON file ``.labelsuite.lock`` at the store's root holding the
holder's user, host, pid and start time. Local stores write it to a private temporary
file and publish it with a hard link, so the lock appears complete or not at all and the
link fails when a lock exists; remote stores (fsspec) check-then-write, which is best effort.
A lock left by a process that no longer runs on this host is stale and is taken over: under
an ``flock`` on ``.labelsuite.lock.guard`` the stale file is renamed away, checked to still
be the one judged stale, and only then replaced. An unreadable lock younger than
``TORN_GRACE_S`` seconds counts as held (it may be written by an older writer right now).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import socket
import time
import uuid
from dataclasses import dataclass
from typing import Any

from ..errors import StoreError

__all__ = ["LOCK_NAME", "LockInfo", "StoreLock"]

LOCK_NAME = ".labelsuite.lock"
#: An unreadable local lock younger than this (seconds) is treated as held, not as torn.
TORN_GRACE_S = 10.0

try:  # POSIX; elsewhere the rename-and-verify takeover alone guards the race
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]


@dataclass(frozen=True)
class LockInfo:
    """Who holds a store's writer lock."""

    user: str
    host: str
    pid: int
    since: str
    #: what the lock is for: "" (the store), "annotator" (one annotator's label images) or
    #: "labels" (a moment's lock of the store while an annotator adds a label image)
    scope: str = ""

    def describe(self) -> str:
        text = f"user {self.user!r} on host {self.host!r}, pid {self.pid}, since {self.since}"
        return f"{text} ({self.scope})" if self.scope else text

    def to_json(self) -> str:
        d: dict[str, Any] = {
            "user": self.user, "host": self.host, "pid": self.pid, "since": self.since
        }  # fmt: skip
        if self.scope:
            d["scope"] = self.scope
        return json.dumps(d)

    @classmethod
    def parse(cls, text: str | bytes) -> LockInfo | None:
        try:
            d = json.loads(text)
            return cls(str(d["user"]), str(d["host"]), int(d["pid"]), str(d.get("since", "")),
                       str(d.get("scope") or ""))  # fmt: skip
        except (ValueError, KeyError, TypeError):
            return None

    @classmethod
    def here(cls, user: str, scope: str = "") -> LockInfo:
        now = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
        return cls(user, socket.gethostname(), os.getpid(), now, scope)

    def alive(self) -> bool:
        """False only when the holder is known dead (a process of this host that is gone)."""
        return not (self.host == socket.gethostname() and not _pid_alive(self.pid))


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

    def __init__(
        self,
        root: str,
        user: str,
        fs: Any = None,
        display: str | None = None,
        scope: str = "",
    ):
        self.root = root.rstrip("/")
        self.user = user
        self.scope = scope
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
            return self._create_local(data)
        if self.fs.exists(self.path):
            return False
        self.fs.pipe_file(self.path, data)
        return True

    def _create_local(self, data: bytes) -> bool:
        # readers must never see a half-written lock: write privately, then link in
        tmp = f"{self.path}.{uuid.uuid4().hex}.tmp"
        fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            try:
                os.link(tmp, self.path)
            except FileExistsError:
                return False
            except OSError:
                # no hard links on this filesystem: exclusive create, then write
                return self._create_exclusive(data)
            return True
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)

    def _create_exclusive(self, data: bytes) -> bool:
        try:
            fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        return True

    def _remove(self) -> None:
        with contextlib.suppress(FileNotFoundError, OSError):
            if self.fs is None:
                os.unlink(self.path)
            else:
                self.fs.rm_file(self.path)

    def _age(self) -> float | None:
        """Seconds since the local lock file was last written; None when it is gone."""
        try:
            return time.time() - os.stat(self.path).st_mtime
        except OSError:
            return None

    @contextlib.contextmanager
    def _guard(self):
        """Serialise takeovers of a local lock between processes."""
        if fcntl is None:
            yield
            return
        fd = os.open(f"{self.path}.guard", os.O_CREAT | os.O_RDWR, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing drops the flock

    def _take_over(self, seen: LockInfo | None) -> None:
        """Remove the local lock only if it is still the one judged stale as ``seen``."""
        with self._guard():
            tomb = f"{self.path}.{uuid.uuid4().hex}.stale"
            try:
                os.rename(self.path, tomb)
            except FileNotFoundError:
                return
            try:
                with open(tomb, "rb") as fh:
                    moved = LockInfo.parse(fh.read())
                if moved != seen:
                    # it changed since we judged it: it is someone's live lock, put it back
                    with contextlib.suppress(FileExistsError):
                        os.link(tomb, self.path)
            finally:
                with contextlib.suppress(OSError):
                    os.unlink(tomb)

    def live_holder(self) -> LockInfo | None:
        """The holder unless the lock is absent, unreadable or left by a dead process here."""
        held = self._read()
        return held if held is not None and held.alive() else None

    def _held_error(self, held: LockInfo | None) -> StoreError:
        if held is None:
            return StoreError(
                f"the store's writer lock is being written or is unreadable; retry in a "
                f"moment, open it read-only (mode='r'), or, if no writer runs, remove "
                f"{LOCK_NAME} by hand",
                path=self.display,
                field="lock",
                value=LOCK_NAME,
            )
        return StoreError(
            f"the store is open for writing by {held.describe()}; open it read-only "
            f"(mode='r') or close it there first (a crashed writer's lock on another "
            f"host must be removed by hand: {LOCK_NAME})",
            path=self.display,
            field="lock",
            value=held.describe(),
        )

    # -- api -----------------------------------------------------------------------------
    def holder(self) -> LockInfo | None:
        """The current holder, or None when the store is not locked."""
        return self._read()

    def acquire(self) -> LockInfo:
        """Take the lock or raise :class:`StoreError` naming the holder.

        A lock whose pid no longer runs on this host (a crashed writer) is replaced.
        """
        me = LockInfo.here(self.user, self.scope)
        for _ in range(3):
            if self._create(me):
                self.info = me
                return me
            held = self._read()
            if self.fs is not None:
                # remote: best effort, check-then-remove
                if held is None or (held.host == me.host and not _pid_alive(held.pid)):
                    self._remove()
                    continue
                raise self._held_error(held)
            if held is None:
                age = self._age()
                if age is None:  # released between the two calls
                    continue
                if age < TORN_GRACE_S:
                    raise self._held_error(None)
                self._take_over(None)  # torn by a crash long ago
                continue
            if held.host == me.host and not _pid_alive(held.pid):
                self._take_over(held)
                continue
            raise self._held_error(held)
        raise StoreError("could not take the writer lock", path=self.display, field="lock")

    def release(self) -> None:
        """Remove the lock if we hold it; another holder's or an unreadable lock is kept."""
        if self.info is None:
            return
        if self._read() == self.info:
            self._remove()
        self.info = None
