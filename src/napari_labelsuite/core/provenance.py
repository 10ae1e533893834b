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

A hash chain alone cannot see a log that was re-chained after an edit, cut short, emptied
or replaced, so each append also writes an *anchor* beside the log
(``provenance.anchor.json``: the entry count and the hash of the last entry), atomically
and under the same lock. :func:`verify` checks the log against its anchor. With a team key
(``key=`` or the ``NAPARI_LABELSUITE_PROVENANCE_KEY`` environment variable) every entry
and the anchor also carry an HMAC-SHA256 ``mac``, so that forging a consistent log and
anchor needs the key. Lines with duplicate JSON keys are refused.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from pathlib import Path
from typing import Any

from .errors import SessionError
from .fileio import last_newline, locked_append

__all__ = [
    "KEY_ENV",
    "ProvenanceError",
    "ProvenanceLog",
    "anchor_path",
    "append_entry",
    "entry_hash",
    "read_log",
    "verify",
]

_CHAIN_FIELDS = ("seq", "prev", "hash", "mac")
#: Environment variable holding the team's signing key (any text).
KEY_ENV = "NAPARI_LABELSUITE_PROVENANCE_KEY"


class ProvenanceError(SessionError):
    """A provenance log that cannot be read or whose hash chain is broken."""


def _canonical(entry: dict[str, Any]) -> bytes:
    body = {k: v for k, v in entry.items() if k not in ("hash", "mac")}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_hash(entry: dict[str, Any]) -> str:
    """The chain hash of ``entry`` (which must hold ``prev``); ``hash`` and ``mac`` are
    ignored."""
    return hashlib.sha256(_canonical(entry)).hexdigest()


def _key(key: str | bytes | None) -> bytes | None:
    """The signing key: ``key``, else the environment variable, else None (no signing)."""
    if key is None:
        key = os.environ.get(KEY_ENV) or None
    if key is None:
        return None
    return key.encode() if isinstance(key, str) else bytes(key)


def _mac(key: bytes, text: str) -> str:
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def anchor_path(path: str | os.PathLike) -> Path:
    """Where the anchor of the log at ``path`` lives (``<stem>.anchor.json`` beside it)."""
    p = Path(path)
    return p.with_name(p.stem + ".anchor.json")


def _read_anchor(path: Path) -> dict[str, Any] | None:
    from .validate import load_json

    ap = anchor_path(path)
    if not ap.exists():
        return None
    doc = load_json(ap, error=ProvenanceError, unique_keys=True, what="provenance anchor")
    if (
        not isinstance(doc, dict)
        or not isinstance(doc.get("count"), int)
        or isinstance(doc.get("count"), bool)
        or doc["count"] < 0
        or not isinstance(doc.get("head"), str)
    ):
        raise ProvenanceError(
            "malformed anchor (expected count and head)", path=ap, field="anchor"
        )
    return doc


def _write_anchor(path: Path, count: int, head: str, key: bytes | None) -> None:
    from .fileio import atomic_write_text

    doc: dict[str, Any] = {"count": count, "head": head}
    if key is not None:
        doc["mac"] = _mac(key, f"{count}:{head}")
    atomic_write_text(anchor_path(path), json.dumps(doc) + "\n")


def _last_line(fd: int) -> bytes:
    """The last complete line of the open file (without its newline), or b""."""
    size = os.lseek(fd, 0, os.SEEK_END)
    if size == 0:
        return b""
    end = size - 1 if os.pread(fd, 1, size - 1) == b"\n" else size
    start = last_newline(fd, end) + 1
    return os.pread(fd, end - start, start)


def append_entry(
    path: str | os.PathLike, entry: dict[str, Any], *, key: str | bytes | None = None
) -> dict[str, Any]:
    """Append ``entry`` to the log at ``path`` (created when missing); return the chained line.

    The anchor beside the log is updated under the same lock; with a key (``key`` or the
    ``NAPARI_LABELSUITE_PROVENANCE_KEY`` variable) the line and the anchor are signed.

    Raises
    ------
    ProvenanceError
        When the entry cannot be stored as JSON, the log's last line is not a log entry
        (a torn line left by a crash must be repaired before the chain can continue) or
        the log is shorter than, or differs from, its anchor (lines removed or replaced).
    """
    p = Path(path)
    secret = _key(key)
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
    with locked_append(p) as fd:
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
            except (ValueError, KeyError, TypeError, RecursionError) as exc:
                raise ProvenanceError(
                    "the last line is not a provenance entry", path=p, where="last line"
                ) from exc
        else:
            seq, prev = 0, ""
        anchor = _read_anchor(p)
        if anchor is not None and (
            anchor["count"] > seq or (anchor["count"] == seq and anchor["head"] != prev)
        ):
            raise ProvenanceError(
                f"the log does not match its anchor ({anchor['count']} entries ending in "
                f"{anchor['head'][:12]}...): lines were removed or the log was replaced",
                path=p,
                field="anchor",
            )
        record["seq"] = seq
        record["prev"] = prev
        record["hash"] = entry_hash(record)
        if secret is not None:
            record["mac"] = _mac(secret, record["hash"])
        line = json.dumps(record, ensure_ascii=False).encode() + b"\n"
        os.write(fd, line)
        os.fsync(fd)
        _write_anchor(p, seq + 1, record["hash"], secret)
    return record


def read_log(
    path: str | os.PathLike,
    *,
    check: bool = True,
    allow_torn_tail: bool = False,
    key: str | bytes | None = None,
) -> list[dict[str, Any]]:
    """All entries of the log at ``path``, oldest first (``[]`` when the file is missing
    and no anchor says it had entries).

    Parameters
    ----------
    check : bool
        Verify the hash chain and the anchor, and raise on the first broken line.
    allow_torn_tail : bool
        Skip an incomplete last line (left by a crash during a write) instead of raising.
    key : str or bytes, optional
        The team key (default: ``NAPARI_LABELSUITE_PROVENANCE_KEY``); with a key every
        entry and the anchor must carry a valid signature.

    Raises
    ------
    ProvenanceError
        Naming the line that is not JSON, has duplicate keys or breaks the chain, or the
        anchor the log does not match.
    """
    from .validate import parse_json, read_regular_bytes

    p = Path(path)
    if not p.exists():
        data = b""
    else:
        data = read_regular_bytes(p, error=ProvenanceError, what="provenance log")
    lines = data.split(b"\n")
    torn = lines.pop()  # b"" when the file ends with a newline
    if torn and not allow_torn_tail:
        raise ProvenanceError(
            "incomplete last line (interrupted write)", path=p, where=f"line {len(lines) + 1}"
        )
    entries = []
    for i, raw in enumerate(lines, start=1):
        try:
            e = parse_json(raw, path=p, error=ProvenanceError, unique_keys=True)
        except ProvenanceError as exc:
            raise ProvenanceError(
                f"line is not a valid JSON entry: {exc.message}",
                path=p,
                where=f"line {i}",
                field=exc.field,
            ) from exc
        if not isinstance(e, dict):
            raise ProvenanceError("line is not a JSON object", path=p, where=f"line {i}")
        entries.append(e)
    if check:
        _check_chain(entries, p)
        _check_anchor(entries, p, _key(key))
    return entries


def _check_anchor(entries: list[dict[str, Any]], path: Path, key: bytes | None) -> None:
    anchor = _read_anchor(path)
    ap = anchor_path(path)
    if key is not None:
        for i, e in enumerate(entries):
            mac = e.get("mac")
            if not isinstance(mac, str) or not hmac.compare_digest(mac, _mac(key, e["hash"])):
                raise ProvenanceError(
                    "signature missing or wrong (entry not written with the team key, or forged)",
                    path=path,
                    where=f"line {i + 1}",
                    field="mac",
                )
        if entries and anchor is None:
            raise ProvenanceError("signed log without its anchor", path=ap, field="anchor")
        if anchor is not None:
            mac = anchor.get("mac")
            want = _mac(key, f"{anchor['count']}:{anchor['head']}")
            if not isinstance(mac, str) or not hmac.compare_digest(mac, want):
                raise ProvenanceError("anchor signature missing or wrong", path=ap, field="mac")
    if anchor is None:
        return
    n, count = len(entries), anchor["count"]
    if n < count:
        raise ProvenanceError(
            f"the log has {n} entries but its anchor records {count}: entries were removed "
            "or the file was emptied",
            path=path,
            field="anchor",
        )
    # an append writes the line, then the anchor: a crash between them leaves one more
    if n > count + 1:
        raise ProvenanceError(
            f"{n - count} entries after the anchored {count} were not written by the log",
            path=path,
            where=f"line {count + 1}",
            field="anchor",
        )
    head = entries[count - 1]["hash"] if count else ""
    if head != anchor["head"]:
        raise ProvenanceError(
            f"the log was rewritten or replaced: entry {count} does not have the anchored hash",
            path=path,
            where=f"line {count}",
            field="anchor",
        )


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


def verify(path: str | os.PathLike, *, key: str | bytes | None = None) -> int:
    """Check the whole chain of the log at ``path`` and its anchor (and signatures, with a
    key); return the number of entries.

    Raises
    ------
    ProvenanceError
        At the first line that was edited, removed, reordered or is not JSON, or when the
        log does not match its anchor.
    """
    return len(read_log(path, check=True, key=key))


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

    def __init__(self, path: str | os.PathLike, *, key: str | bytes | None = None) -> None:
        self.path = Path(path)
        self._key = key

    def append(self, entry: dict[str, Any]) -> dict[str, Any]:
        """Append one entry; returns it with ``seq``, ``prev`` and ``hash``."""
        return append_entry(self.path, entry, key=self._key)

    def entries(self, *, check: bool = True) -> list[dict[str, Any]]:
        """All entries, oldest first."""
        return read_log(self.path, check=check, key=self._key)

    def verify(self) -> int:
        """Check the hash chain and the anchor; the number of entries."""
        return verify(self.path, key=self._key)

    def repair(self) -> int:
        """Mend the end of a log left by a crash; returns the bytes removed.

        A last line without its newline is kept (the newline is added) when it is a
        complete entry continuing the chain; only an incomplete line is dropped.
        """
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return 0
        if not data or data.endswith(b"\n"):
            return 0
        keep = data.rfind(b"\n") + 1
        with locked_append(self.path) as fd:
            if self._complete_tail(data[:keep], data[keep:]):
                os.write(fd, b"\n")
                os.fsync(fd)
                return 0
            os.ftruncate(fd, keep)
        return len(data) - keep

    def _complete_tail(self, head: bytes, tail: bytes) -> bool:
        from .validate import parse_json

        try:
            e = parse_json(tail, error=ProvenanceError, unique_keys=True)
        except ProvenanceError:
            return False
        if not isinstance(e, dict):
            return False
        prev_line = head[:-1].rsplit(b"\n", 1)[-1] if head else b""
        try:
            prev: dict[str, Any] = json.loads(prev_line) if prev_line else {"seq": -1, "hash": ""}
            return bool(
                e.get("seq") == prev["seq"] + 1
                and e.get("prev") == prev["hash"]
                and e.get("hash") == entry_hash(e)
            )
        except (ValueError, KeyError, TypeError, RecursionError):
            return False

    def __len__(self) -> int:
        return len(read_log(self.path, check=False, allow_torn_tail=True))

    def __repr__(self) -> str:
        return f"ProvenanceLog({str(self.path)!r})"
