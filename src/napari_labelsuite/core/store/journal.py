"""The crash journal of a store: which level-0 regions of which label image were being saved.

A save writes the journal before touching level 0 and clears it after the pyramid above is
rewritten, so a save interrupted in between is finished (the pyramid rebuilt from the new
level 0) on the next open. The journal is one small JSON document beside the arrays:
``{label name: [[[start, stop], ...], ...]}``.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

import zarr

from ..errors import StoreError

__all__ = ["JOURNAL_NAME", "SaveJournal", "parse_journal"]

#: Key of the journal, relative to the store's root group.
JOURNAL_NAME = "labelsuite-journal.json"


class SaveJournal:
    """The journal of one store (its root ``group``; ``path`` names it in errors)."""

    def __init__(self, group: zarr.Group, path: str, key: str = JOURNAL_NAME) -> None:
        self.group, self.path, self.key = group, path, key

    def read(self) -> dict[str, Any]:
        """The journal: label name -> list of level-0 regions ``[[start, stop], ...]``.

        Raises
        ------
        StoreError
            Naming the journal when it is not such a document.
        """
        raw = _store_get(self.group, self.key)
        if raw is None:
            return {}
        return parse_journal(raw, self.path)

    def add(self, name: str, regions: list[tuple[slice, ...]]) -> None:
        """Record that ``regions`` of label image ``name`` are about to be written."""
        doc = self.read()
        doc.setdefault(name, []).extend([[s.start, s.stop] for s in r] for r in regions)
        self.replace(doc)

    def replace(self, doc: dict[str, Any]) -> None:
        """Write ``doc`` as the whole journal."""
        _store_set(self.group, self.key, json.dumps(doc).encode())

    def clear(self) -> None:
        """Remove the journal (a read-only store is left as it is)."""
        _store_delete(self.group, self.key)


def _join(*parts: str) -> str:
    return "/".join(p.strip("/") for p in parts if p and p.strip("/"))


def _store_set(group: zarr.Group, key: str, data: bytes) -> None:
    from zarr.core.buffer import default_buffer_prototype
    from zarr.core.sync import sync

    st = group.store_path.store
    full = _join(group.store_path.path, key)
    sync(st.set(full, default_buffer_prototype().buffer.from_bytes(data)))


def _store_get(group: zarr.Group, key: str) -> bytes | None:
    from zarr.core.buffer import default_buffer_prototype
    from zarr.core.sync import sync

    st = group.store_path.store
    buf = sync(st.get(_join(group.store_path.path, key), default_buffer_prototype()))
    return None if buf is None else buf.to_bytes()


def _store_delete(group: zarr.Group, key: str) -> None:
    from zarr.core.sync import sync

    st = group.store_path.store
    if st.read_only:
        return
    with contextlib.suppress(FileNotFoundError):
        sync(st.delete(_join(group.store_path.path, key)))


def parse_journal(raw: bytes, path: str) -> dict[str, list[list[list[int]]]]:
    """Validate the crash journal: ``{label: [[[start, stop], ...], ...]}``."""
    from ..validate import parse_json

    doc = parse_json(raw, path=path, error=StoreError)
    bad = StoreError(
        "malformed save journal (expected {label: [[[start, stop], ...], ...]})",
        path=path,
        where=JOURNAL_NAME,
        field="journal",
    )
    if not isinstance(doc, dict):
        raise bad
    for regions in doc.values():
        if not isinstance(regions, list):
            raise bad
        for r in regions:
            if not isinstance(r, list) or not all(
                isinstance(ab, list)
                and len(ab) == 2
                and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in ab)
                for ab in r
            ):
                raise bad
    return doc


_parse_journal = parse_journal  # the name of the single-module store, kept readable
