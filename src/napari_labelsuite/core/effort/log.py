"""The labeling-effort log: one JSON line per human action, append-only.

The file (``effort.jsonl``, kept beside the provenance log) starts with a header line
``{"format": "napari-labelsuite-effort", "version": 1}``; every further line is one
:class:`EffortRecord`::

    {"time": 1764513000.25, "annotator": "ana", "route": "brush", "action": "stroke",
     "count": 1, "pixels": 412, "image": "plate_01.tif", "layer": "instances",
     "object": 7, "class": 1, "finished": true}

Optional fields are left out when empty. Appends are single ``write`` calls on a
descriptor opened with ``O_APPEND`` under an exclusive ``flock`` (as for the provenance
log), so two writers never interleave; a crash leaves at most one incomplete last line,
which the next append cuts off (:meth:`EffortLog.append` reports the bytes dropped) and
:meth:`EffortLog.read` skips. Records are not fsync'ed one by one: a logged action must
cost well under a millisecond, and ``write`` has handed the line to the operating system
when it returns, so a crash of the program loses nothing; :meth:`EffortLog.sync` forces
the file to disk (the session calls it when it saves).

A corrupt line or a foreign file never stops anyone from opening their data:
:meth:`EffortLog.read` returns the readable records together with one
:class:`~napari_labelsuite.core.errors.EffortLogError` per problem, naming file and line;
``strict=True`` raises the first one instead.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import EffortLogError
from ..fileio import last_newline, locked_append

__all__ = [
    "EFFORT_FILE",
    "EFFORT_FORMAT",
    "EFFORT_VERSION",
    "EffortLog",
    "EffortRecord",
    "ReadPosition",
    "find_effort_log",
    "read_effort",
]

EFFORT_FILE = "effort.jsonl"
EFFORT_FORMAT = "napari-labelsuite-effort"
EFFORT_VERSION = 1
_HEADER = (
    json.dumps({"format": EFFORT_FORMAT, "version": EFFORT_VERSION}, separators=(",", ":")) + "\n"
).encode()
#: how many bytes of the first line are read to recognise the header
_HEADER_PEEK = 256


@dataclass(frozen=True, slots=True)
class EffortRecord:
    """One logged human action (or ``count`` actions of one kind, e.g. polygon vertices).

    Parameters
    ----------
    time : float
        When it happened, POSIX seconds.
    route : str
        The labeling route (``"brush"``, ``"polygon"``, ``"box"``, ``"click-assist"``...).
    action : str
        What the person did (``"stroke"``, ``"vertex"``, ``"box"``, ``"click"``...).
    count : int
        Number of actions (vertices of one polygon, clicks...).
    pixels : int
        Pixels the action changed (brush strokes, fills).
    annotator : str
        Who did it.
    image, layer : str, optional
        Where.
    object_id, class_id : int, optional
        The object (instance id, box index) and class the action was about.
    finished : bool
        The action completed ``object_id`` (e.g. the polygon that created it).
    objects : tuple of int
        Further objects finished by this one action (boxes made from all instances).
    """

    time: float
    route: str
    action: str
    count: int = 1
    pixels: int = 0
    annotator: str = ""
    image: str | None = None
    layer: str | None = None
    object_id: int | None = None
    class_id: int | None = None
    finished: bool = False
    objects: tuple[int, ...] = field(default=())

    def finished_ids(self) -> tuple[int, ...]:
        """The ids of the objects this action finished."""
        own = (self.object_id,) if self.finished and self.object_id is not None else ()
        return own + tuple(i for i in self.objects if i not in own)

    def to_json(self) -> dict[str, Any]:
        """The record as it is stored (empty optional fields left out)."""
        out: dict[str, Any] = {
            "time": round(float(self.time), 3),
            "annotator": self.annotator,
            "route": self.route,
            "action": self.action,
            "count": int(self.count),
        }
        if self.pixels:
            out["pixels"] = int(self.pixels)
        for key, val in (
            ("image", self.image),
            ("layer", self.layer),
            ("object", self.object_id),
            ("class", self.class_id),
        ):
            if val is not None:
                out[key] = val
        if self.finished:
            out["finished"] = True
        if self.objects:
            out["objects"] = [int(i) for i in self.objects]
        return out

    @classmethod
    def from_json(cls, d: Any, *, path: Any = None, where: str | None = None) -> EffortRecord:
        """A record from its stored form; :class:`EffortLogError` names the bad field."""

        def bad(msg: str, fld: str, value: Any) -> EffortLogError:
            return EffortLogError(msg, path=path, where=where, field=fld, value=value)

        if not isinstance(d, dict):
            raise EffortLogError("line is not a JSON object", path=path, where=where)
        t = d.get("time")
        if isinstance(t, bool) or not isinstance(t, (int, float)) or not math.isfinite(t):
            raise bad("time must be a number of seconds", "time", t)
        for key in ("route", "action"):
            v = d.get(key)
            if not isinstance(v, str) or not v:
                raise bad(f"{key} must be a non-empty string", key, v)
        ints: dict[str, int | None] = {}
        for key, default in (("count", 1), ("pixels", 0), ("object", None), ("class", None)):
            v = d.get(key, default)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int)):
                raise bad(f"{key} must be an integer", key, v)
            if key in ("count", "pixels") and v is not None and v < 0:
                raise bad(f"{key} must be >= 0", key, v)
            ints[key] = v
        for key in ("annotator", "image", "layer"):
            v = d.get(key)
            if v is not None and not isinstance(v, str):
                raise bad(f"{key} must be a string", key, v)
        fin = d.get("finished", False)
        if not isinstance(fin, bool):
            raise bad("finished must be true or false", "finished", fin)
        objs = d.get("objects", [])
        if not isinstance(objs, list) or any(
            isinstance(i, bool) or not isinstance(i, int) for i in objs
        ):
            raise bad("objects must be a list of integers", "objects", objs)
        return cls(
            time=float(t),
            route=d["route"],
            action=d["action"],
            count=int(ints["count"] or 0),
            pixels=int(ints["pixels"] or 0),
            annotator=d.get("annotator") or "",
            image=d.get("image"),
            layer=d.get("layer"),
            object_id=ints["object"],
            class_id=ints["class"],
            finished=fin,
            objects=tuple(objs),
        )


@dataclass(frozen=True, slots=True)
class ReadPosition:
    """Where :meth:`EffortLog.read_since` stopped: the file, bytes and lines consumed.

    ``start`` is the offset the read began at (0: the whole log was read).
    """

    inode: int
    offset: int
    line: int
    start: int = 0


def _encode(records: Iterable[EffortRecord]) -> bytes:
    return b"".join(
        json.dumps(r.to_json(), separators=(",", ":"), ensure_ascii=False).encode() + b"\n"
        for r in records
    )


def _check_header(first: bytes, path: Path) -> None:
    line = first.split(b"\n", 1)[0]
    try:
        head = json.loads(line)
    except ValueError:
        head = None
    if not isinstance(head, dict) or head.get("format") != EFFORT_FORMAT:
        raise EffortLogError(
            f"not a labeling-effort log (the first line must be the {EFFORT_FORMAT!r} header)",
            path=path,
            where="line 1",
        )
    if head.get("version") != EFFORT_VERSION:
        raise EffortLogError(
            f"effort log version is not {EFFORT_VERSION}",
            path=path,
            where="line 1",
            field="version",
            value=head.get("version"),
        )


class EffortLog:
    """The append-only effort log file at ``path`` (created with its folder on first use).

    Examples
    --------
    >>> log = EffortLog(tmp / "effort.jsonl")  # doctest: +SKIP
    >>> log.append([EffortRecord(time.time(), "box", "box", annotator="ana")])  # doctest: +SKIP
    >>> records, problems = log.read()  # doctest: +SKIP
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def append(self, records: Sequence[EffortRecord]) -> int:
        """Append ``records``; returns the bytes of a torn last line cut off first (0).

        Raises
        ------
        EffortLogError
            When the file is not an effort log (its first line is not the header), or
            cannot be written.
        """
        if not records:
            return 0
        payload = _encode(records)
        try:
            with locked_append(self.path) as fd:
                size = os.lseek(fd, 0, os.SEEK_END)
                dropped = 0
                if size and size < len(_HEADER) and _HEADER.startswith(os.pread(fd, size, 0)):
                    os.ftruncate(fd, 0)  # a header torn by a crash: start afresh
                    dropped, size = size, 0
                if size == 0:
                    payload = _HEADER + payload
                else:
                    _check_header(os.pread(fd, _HEADER_PEEK, 0), self.path)
                    if os.pread(fd, 1, size - 1) != b"\n":
                        dropped = self._cut_torn_tail(fd, size)
                os.write(fd, payload)
        except OSError as exc:
            raise EffortLogError(f"cannot write: {exc.strerror}", path=self.path) from exc
        return dropped

    def _cut_torn_tail(self, fd: int, size: int) -> int:
        """Truncate an incomplete last line (left by a crash); the header line stays."""
        cut = last_newline(fd, size)
        if cut >= 0:
            keep = cut + 1
            os.ftruncate(fd, keep)
            return size - keep
        # no newline at all: a torn header; write a fresh one
        os.ftruncate(fd, 0)
        os.write(fd, _HEADER)
        return size

    def sync(self) -> None:
        """Force the log to disk (no-op when it does not exist)."""
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def read(self, *, strict: bool = False) -> tuple[list[EffortRecord], list[EffortLogError]]:
        """All readable records, oldest first, and the problems found (file and line each).

        A missing file gives ``([], [])``. A foreign file (no header) gives no records and
        one problem. A torn last line and lines that are not records are skipped and
        reported. With ``strict`` the first problem is raised instead.
        """
        records, problems, _ = self.read_since(None, strict=strict)
        return records, problems

    def read_since(
        self, since: ReadPosition | None, *, strict: bool = False
    ) -> tuple[list[EffortRecord], list[EffortLogError], ReadPosition | None]:
        """The records appended after ``since`` (a position this method returned).

        Returns ``(records, problems, position)``. When the file was replaced or cut
        shorter than ``since``, everything is read again: ``position.start`` is then 0, and
        the records are the whole log. A line still being written (no newline yet) is
        reported as incomplete and read again next time. ``position`` is None when the
        file does not exist. Only the new bytes are read, so following a long log is cheap.
        """
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return [], [], None
        except OSError as exc:
            err = EffortLogError(f"cannot read: {exc.strerror}", path=self.path)
            if strict:
                raise err from exc
            return [], [err], None
        try:
            st = os.fstat(fd)
            keep = since is not None and since.inode == st.st_ino and since.offset <= st.st_size
            offset, line = (since.offset, since.line) if keep and since else (0, 0)
            data = os.pread(fd, st.st_size - offset, offset) if st.st_size > offset else b""
        finally:
            os.close(fd)
        records, problems, used, lines = self._parse(data, line, strict)
        pos = ReadPosition(st.st_ino, offset + used, line + lines, start=offset)
        return records, problems, pos

    def _parse(
        self, data: bytes, first: int, strict: bool
    ) -> tuple[list[EffortRecord], list[EffortLogError], int, int]:
        """Records of the complete lines of ``data`` (line ``first + 1`` onwards).

        Returns ``(records, problems, bytes used, complete lines)``.
        """
        problems: list[EffortLogError] = []

        def problem(err: EffortLogError) -> None:
            if strict:
                raise err
            problems.append(err)

        lines = data.split(b"\n")
        torn = lines.pop()
        used = len(data) - len(torn)
        records: list[EffortRecord] = []
        if first == 0:
            if not lines:
                if torn:
                    problem(
                        EffortLogError(
                            "incomplete header line (interrupted write)"
                            if _HEADER.startswith(torn)
                            else "not a labeling-effort log (no header line)",
                            path=self.path,
                            where="line 1",
                        )
                    )
                return records, problems, 0, 0
            try:
                _check_header(lines[0], self.path)
            except EffortLogError as err:
                problem(err)
                return records, problems, 0, 0
        for i, raw in enumerate(lines, start=first + 1):
            if i == 1 or not raw.strip():
                continue
            where = f"line {i}"
            try:
                d = json.loads(raw)
            except ValueError:
                problem(EffortLogError("line is not JSON", path=self.path, where=where))
                continue
            try:
                records.append(EffortRecord.from_json(d, path=self.path, where=where))
            except EffortLogError as err:
                problem(err)
        if torn:
            problem(
                EffortLogError(
                    "incomplete last line (interrupted write); it is cut off at the next append",
                    path=self.path,
                    where=f"line {first + len(lines) + 1}",
                )
            )
        return records, problems, used, len(lines)

    def records(self) -> list[EffortRecord]:
        """The readable records (problems skipped; see :meth:`read`)."""
        return self.read()[0]

    def __repr__(self) -> str:
        return f"EffortLog({str(self.path)!r})"


def read_effort(
    path: str | os.PathLike[str], *, strict: bool = False
) -> tuple[list[EffortRecord], list[EffortLogError]]:
    """Records and problems of the effort log at ``path`` (see :meth:`EffortLog.read`)."""
    return EffortLog(path).read(strict=strict)


def find_effort_log(path: str | os.PathLike[str]) -> Path:
    """The effort log of a dataset folder, a mask store, an annotation folder or file.

    ``plates/`` -> ``plates/labelsuite/effort.jsonl``; ``plates/a.zarr`` (a store) ->
    ``plates/labelsuite/effort.jsonl``; ``plates/labelsuite/`` or a file inside it ->
    ``plates/labelsuite/effort.jsonl``; an ``effort.jsonl`` is itself. The file need not
    exist.
    """
    from ..dataset import ANNOTATION_DIR

    p = Path(path)
    if p.name == EFFORT_FILE:
        return p
    if p.suffix.lower() == ".zarr":
        return p.parent / ANNOTATION_DIR / EFFORT_FILE
    if p.is_dir():
        return (p if p.name == ANNOTATION_DIR else p / ANNOTATION_DIR) / EFFORT_FILE
    return p.parent / EFFORT_FILE
