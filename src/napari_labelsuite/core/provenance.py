"""The provenance log: an append-only, hash-chained JSON Lines file.

Each line is one JSON object: the entry written by the session (``user``, ``time``,
``action``, ``params`` and extras such as ``image``) plus three fields added here:

``seq``
    0, 1, 2, ... in file order.
``prev``
    The ``hash`` of the previous line (``""`` for the first line).
``hash``
    SHA-256 (hex) of ``prev`` and the canonical JSON of the entry without ``hash``.

The chain makes edits evident: changing, removing or reordering a line breaks
:func:`verify` at that line. Appends are atomic: each line goes to the file in a single
``write`` on a descriptor opened with ``O_APPEND``, under an exclusive ``flock`` where the
platform has one, so two writers never interleave or fork the chain, and a crash leaves at
most one incomplete last line, which :func:`read_log` reports (or skips with
``allow_torn_tail=True``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .errors import SessionError

try:  # POSIX only; elsewhere appends still are single writes
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

__all__ = ["ProvenanceError", "ProvenanceLog", "append_entry", "entry_hash", "read_log", "verify"]

_CHAIN_FIELDS = ("seq", "prev", "hash")


class ProvenanceError(SessionError):
    """A provenance log that cannot be read or whose hash chain is broken."""


def _canonical(entry: dict[str, Any]) -> bytes:
    body = {k: v for k, v in entry.items() if k != "hash"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_hash(entry: dict[str, Any]) -> str:
    """The chain hash of ``entry`` (which must hold ``prev``); ``hash`` itself is ignored."""
    return hashlib.sha256(_canonical(entry)).hexdigest()


@contextlib.contextmanager
def _locked_append(path: Path) -> Iterator[int]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield fd
    finally:
        os.close(fd)  # closing releases the lock


def _last_line(fd: int) -> bytes:
    """The last complete line of the open file (without its newline), or b""."""
    size = os.lseek(fd, 0, os.SEEK_END)
    if size == 0:
        return b""
    block = 4096
    pos = size
    tail = b""
    while pos > 0:
        step = min(block, pos)
        pos -= step
        tail = os.pread(fd, step, pos) + tail
        body = tail[:-1] if tail.endswith(b"\n") else tail
        cut = body.rfind(b"\n")
        if cut >= 0:
            return body[cut + 1 :]
        block *= 2
    return tail[:-1] if tail.endswith(b"\n") else tail


def append_entry(path: str | os.PathLike, entry: dict[str, Any]) -> dict[str, Any]:
    """Append ``entry`` to the log at ``path`` (created when missing); return the chained line.

    Raises
    ------
    ProvenanceError
        When the entry cannot be stored as JSON or the log's last line is not a log entry
        (a torn line left by a crash must be repaired before the chain can continue).
    """
    p = Path(path)
    try:
        # hash what the file will hold: a JSON round trip turns int and bool keys into
        # strings and tuples into lists, exactly as read_log will see them
        record = json.loads(
            json.dumps(
                {k: v for k, v in entry.items() if k not in _CHAIN_FIELDS}, ensure_ascii=False
            )
        )
    except (TypeError, ValueError) as exc:
        raise ProvenanceError(
            "entry is not JSON-serialisable",
            path=p,
            field="params",
            value=entry.get("action"),
        ) from exc
    with _locked_append(p) as fd:
        size = os.lseek(fd, 0, os.SEEK_END)
        if size and os.pread(fd, 1, size - 1) != b"\n":
            raise ProvenanceError(
                "the log ends with an incomplete line; repair it with "
                "ProvenanceLog.repair() before appending",
                path=p,
                where=f"byte {size}",
            )
        last = _last_line(fd)
        if last:
            try:
                prev_entry = json.loads(last)
                seq = int(prev_entry["seq"]) + 1
                prev = str(prev_entry["hash"])
            except (ValueError, KeyError, TypeError) as exc:
                raise ProvenanceError(
                    "the last line is not a provenance entry", path=p, where="last line"
                ) from exc
        else:
            seq, prev = 0, ""
        record["seq"] = seq
        record["prev"] = prev
        record["hash"] = entry_hash(record)
        line = json.dumps(record, ensure_ascii=False).encode() + b"\n"
        os.write(fd, line)
        os.fsync(fd)
    return record


def read_log(
    path: str | os.PathLike, *, check: bool = True, allow_torn_tail: bool = False
) -> list[dict[str, Any]]:
    """All entries of the log at ``path``, oldest first (``[]`` when the file is missing).

    Parameters
    ----------
    check : bool
        Verify the hash chain and raise on the first broken line.
    allow_torn_tail : bool
        Skip an incomplete last line (left by a crash during a write) instead of raising.

    Raises
    ------
    ProvenanceError
        Naming the line that is not JSON or breaks the chain.
    """
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise ProvenanceError(f"cannot read log: {exc.strerror}", path=p) from exc
    lines = data.split(b"\n")
    torn = lines.pop()  # b"" when the file ends with a newline
    if torn and not allow_torn_tail:
        raise ProvenanceError(
            "incomplete last line (interrupted write)", path=p, where=f"line {len(lines) + 1}"
        )
    entries = []
    for i, raw in enumerate(lines, start=1):
        try:
            e = json.loads(raw)
        except ValueError as exc:
            raise ProvenanceError("line is not JSON", path=p, where=f"line {i}") from exc
        if not isinstance(e, dict):
            raise ProvenanceError("line is not a JSON object", path=p, where=f"line {i}")
        entries.append(e)
    if check:
        _check_chain(entries, p)
    return entries


def _check_chain(entries: list[dict[str, Any]], path: Any) -> None:
    prev = ""
    for i, e in enumerate(entries):
        where = f"line {i + 1}"
        if e.get("seq") != i:
            raise ProvenanceError(
                "sequence number out of order (line removed or moved?)",
                path=path,
                where=where,
                field="seq",
                value=e.get("seq"),
            )
        if e.get("prev") != prev:
            raise ProvenanceError(
                "chain broken: 'prev' is not the hash of the line before",
                path=path,
                where=where,
                field="prev",
                value=e.get("prev"),
            )
        if e.get("hash") != entry_hash(e):
            raise ProvenanceError(
                "hash does not match the entry (line edited?)",
                path=path,
                where=where,
                field="hash",
                value=e.get("hash"),
            )
        prev = e["hash"]


def verify(path: str | os.PathLike) -> int:
    """Check the whole chain of the log at ``path``; return the number of entries.

    Raises
    ------
    ProvenanceError
        At the first line that was edited, removed, reordered or is not JSON.
    """
    return len(read_log(path, check=True))


class ProvenanceLog:
    """An append-only provenance log file.

    Parameters
    ----------
    path : str or os.PathLike
        The ``.jsonl`` file (created with its folder on the first append).

    Examples
    --------
    >>> log = ProvenanceLog(tmp / "provenance.jsonl")  # doctest: +SKIP
    >>> log.append({"user": "ana", "action": "split", "params": {"ids": [3]}})  # doctest: +SKIP
    >>> log.verify()  # doctest: +SKIP
    1
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)

    def append(self, entry: dict[str, Any]) -> dict[str, Any]:
        """Append one entry; returns it with ``seq``, ``prev`` and ``hash``."""
        return append_entry(self.path, entry)

    def entries(self, *, check: bool = True) -> list[dict[str, Any]]:
        """All entries, oldest first."""
        return read_log(self.path, check=check)

    def verify(self) -> int:
        """Check the hash chain; the number of entries."""
        return verify(self.path)

    def repair(self) -> int:
        """Drop an incomplete last line left by a crash; returns the bytes removed."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return 0
        if not data or data.endswith(b"\n"):
            return 0
        keep = data.rfind(b"\n") + 1
        with open(self.path, "r+b") as fh:
            fh.truncate(keep)
        return len(data) - keep

    def __len__(self) -> int:
        return len(read_log(self.path, check=False, allow_torn_tail=True))

    def __repr__(self) -> str:
        return f"ProvenanceLog({str(self.path)!r})"
