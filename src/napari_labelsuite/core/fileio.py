"""Small file helpers shared by the core: atomic writes, locked appends to line files."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

try:  # POSIX only; elsewhere appends still are single writes
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

__all__ = ["atomic_write_bytes", "atomic_write_text", "last_newline", "locked_append"]


@contextlib.contextmanager
def locked_append(path: Path) -> Iterator[int]:
    """Open ``path`` for appending (created when missing) under an exclusive ``flock``.

    Yields the descriptor (``O_RDWR | O_APPEND``): each ``os.write`` on it lands whole at the
    end, and no other writer of the same file holds the lock meanwhile. Closing releases it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield fd
    finally:
        os.close(fd)  # closing releases the lock


def last_newline(fd: int, end: int) -> int:
    """Offset of the last ``\\n`` before byte ``end`` of the open file, or -1 when none.

    Reads backwards in growing blocks, so finding the last line of a large JSON Lines log
    costs about the size of that line.
    """
    pos, block = end, 4096
    while pos > 0:
        step = min(block, pos)
        pos -= step
        cut = os.pread(fd, step, pos).rfind(b"\n")
        if cut >= 0:
            return pos + cut
        block *= 2
    return -1


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same directory."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and ``os.replace``.

    A failure at any point leaves an existing ``path`` untouched.
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        # mkstemp creates the file as 0600; give it the mode a plain open() would have
        # (or keep the mode of the file it replaces) so reports stay readable by the team
        os.fchmod(fd, _target_mode(p))
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, p)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _target_mode(path: Path) -> int:
    """Permission bits for ``path``: those of the file it replaces, else 0666 less umask."""
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        return 0o666 & ~_current_umask()


def _current_umask() -> int:
    try:  # Linux: read it without changing it (changing it is not thread-safe)
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
