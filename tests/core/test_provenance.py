"""The append-only, hash-chained provenance log."""

from __future__ import annotations

import json
import threading

import pytest

from napari_labelsuite.core.provenance import (
    ProvenanceError,
    ProvenanceLog,
    append_entry,
    read_log,
    verify,
)


def _entry(action: str, **params) -> dict:
    return {"user": "ana", "time": "2026-01-01T00:00:00+00:00", "action": action, "params": params}


def test_entries_read_back_in_append_order_with_sequence_numbers(tmp_path):
    log = ProvenanceLog(tmp_path / "sub" / "provenance.jsonl")
    log.append(_entry("split", ids=[3]))
    log.append(_entry("merge", ids=[4, 5]))
    got = log.entries()
    assert [e["action"] for e in got] == ["split", "merge"]
    assert [e["seq"] for e in got] == [0, 1]
    assert got[1]["params"] == {"ids": [4, 5]}
    assert got[1]["prev"] == got[0]["hash"]


def test_missing_log_reads_as_empty(tmp_path):
    assert read_log(tmp_path / "none.jsonl") == []


def test_append_never_rewrites_earlier_bytes(tmp_path):
    p = tmp_path / "p.jsonl"
    append_entry(p, _entry("a"))
    first = p.read_bytes()
    append_entry(p, _entry("b"))
    assert p.read_bytes().startswith(first)


def test_edited_line_breaks_the_chain_at_that_line(tmp_path):
    p = tmp_path / "p.jsonl"
    for a in ("a", "b", "c"):
        append_entry(p, _entry(a))
    lines = p.read_text().splitlines()
    e = json.loads(lines[1])
    e["user"] = "mallory"
    lines[1] = json.dumps(e)
    p.write_text("\n".join(lines) + "\n")
    with pytest.raises(ProvenanceError, match="line 2.*hash"):
        verify(p)


def test_removed_line_is_detected(tmp_path):
    p = tmp_path / "p.jsonl"
    for a in ("a", "b", "c"):
        append_entry(p, _entry(a))
    lines = p.read_text().splitlines()
    p.write_text(lines[0] + "\n" + lines[2] + "\n")
    with pytest.raises(ProvenanceError, match="line 2.*seq"):
        verify(p)


def test_torn_last_line_is_reported_then_repaired(tmp_path):
    p = tmp_path / "p.jsonl"
    append_entry(p, _entry("a"))
    with open(p, "ab") as fh:
        fh.write(b'{"user": "ana", "act')
    with pytest.raises(ProvenanceError, match="incomplete last line"):
        read_log(p)
    assert [e["action"] for e in read_log(p, allow_torn_tail=True)] == ["a"]
    with pytest.raises(ProvenanceError, match="incomplete line"):
        append_entry(p, _entry("b"))
    log = ProvenanceLog(p)
    assert log.repair() == len(b'{"user": "ana", "act')
    log.append(_entry("b"))
    assert log.verify() == 2


def test_non_string_keys_and_tuples_keep_the_chain_verifiable(tmp_path):
    log = ProvenanceLog(tmp_path / "p.jsonl")
    log.append(_entry("remap", map={2: 5, 10: 7}, flags={True: 1}, pair=(1, 2)))
    log.append(_entry("next"))
    assert log.verify() == 2


def test_appended_entry_is_returned_as_it_is_stored(tmp_path):
    log = ProvenanceLog(tmp_path / "p.jsonl")
    got = log.append(_entry("remap", map={2: 5, 10: 7}, pair=(1, 2)))
    assert got["params"] == {"map": {"2": 5, "10": 7}, "pair": [1, 2]}
    assert log.entries() == [got]


def test_unserialisable_parameters_are_refused_without_writing(tmp_path):
    p = tmp_path / "p.jsonl"
    append_entry(p, _entry("a"))
    before = p.read_bytes()
    with pytest.raises(ProvenanceError, match="JSON"):
        append_entry(p, _entry("b", obj=object()))
    assert p.read_bytes() == before


def test_concurrent_appends_keep_one_unbroken_chain(tmp_path):
    p = tmp_path / "p.jsonl"

    def worker(k: int) -> None:
        for j in range(25):
            append_entry(p, _entry(f"w{k}", j=j))

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert verify(p) == 100
