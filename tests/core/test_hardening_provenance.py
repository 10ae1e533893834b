"""Tampering that a plain hash chain cannot see is caught by the anchor and, with a team
key, by signatures; duplicate keys are refused; repair never drops a complete entry."""

from __future__ import annotations

import json

import pytest

from napari_labelsuite.core.provenance import (
    KEY_ENV,
    ProvenanceError,
    ProvenanceLog,
    anchor_path,
    entry_hash,
    read_log,
    verify,
)


@pytest.fixture
def log(tmp_path, monkeypatch):
    monkeypatch.delenv(KEY_ENV, raising=False)
    lg = ProvenanceLog(tmp_path / "provenance.jsonl")
    for i in range(5):
        lg.append({"user": "ana", "action": f"edit{i}", "params": {"i": i}})
    return lg


def _rechain(lines: list[dict]) -> list[str]:
    """What a forger does: fix seq, prev and hash of every line after an edit."""
    prev = ""
    out = []
    for i, e in enumerate(lines):
        e = {k: v for k, v in e.items() if k not in ("hash", "mac")}
        e["seq"], e["prev"] = i, prev
        e["hash"] = entry_hash(e)
        prev = e["hash"]
        out.append(json.dumps(e))
    return out


def test_untouched_log_verifies_with_anchor(log):
    assert verify(log.path) == 5
    anchor = json.loads(anchor_path(log.path).read_text())
    assert anchor["count"] == 5 and anchor["head"] == read_log(log.path)[-1]["hash"]


def test_rechained_edit_is_detected(log):
    entries = read_log(log.path)
    entries[2]["params"] = {"i": 99}
    log.path.write_text("\n".join(_rechain(entries)) + "\n")
    with pytest.raises(ProvenanceError, match="rewritten or replaced"):
        verify(log.path)


@pytest.mark.parametrize("keep", [0, 3])
def test_deleted_trailing_lines_or_emptied_file_are_detected(log, keep):
    lines = log.path.read_text().splitlines(keepends=True)
    log.path.write_text("".join(lines[:keep]))
    with pytest.raises(ProvenanceError, match=f"has {keep} entries but its anchor records 5"):
        verify(log.path)


def test_appending_to_a_truncated_log_is_refused(log):
    lines = log.path.read_text().splitlines(keepends=True)
    log.path.write_text("".join(lines[:3]))
    with pytest.raises(ProvenanceError, match="does not match its anchor"):
        log.append({"user": "eve", "action": "cover-up", "params": {}})
    assert len(log.path.read_text().splitlines()) == 3


def test_replaced_log_is_detected(log, tmp_path):
    other = ProvenanceLog(tmp_path / "other" / "provenance.jsonl")
    for i in range(5):
        other.append({"user": "eve", "action": f"fake{i}", "params": {}})
    log.path.write_bytes(other.path.read_bytes())
    with pytest.raises(ProvenanceError, match="rewritten or replaced"):
        verify(log.path)


def test_duplicate_json_keys_are_refused(log):
    lines = log.path.read_text().splitlines()
    lines[1] = lines[1][:-1] + ', "action": "other"}'
    log.path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ProvenanceError) as err:
        verify(log.path)
    assert "line 2" in str(err.value) and "duplicate" in str(err.value)


def test_removed_final_newline_keeps_the_entry(log):
    data = log.path.read_bytes()
    log.path.write_bytes(data[:-1])
    assert log.repair() == 0
    assert log.path.read_bytes() == data
    assert verify(log.path) == 5


def test_torn_last_line_is_dropped(log):
    data = log.path.read_bytes()
    log.path.write_bytes(data + b'{"user": "ana", "act')
    assert log.repair() == len(b'{"user": "ana", "act')
    assert verify(log.path) == 5


def test_crash_between_line_and_anchor_is_accepted(log):
    """An append writes the line, then the anchor: one unanchored entry is a crash."""
    anchor = anchor_path(log.path).read_text()
    log.append({"user": "ana", "action": "late", "params": {}})
    anchor_path(log.path).write_text(anchor)
    assert verify(log.path) == 6


def test_signed_log_needs_the_key_to_forge(tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_ENV, "team-secret")
    lg = ProvenanceLog(tmp_path / "provenance.jsonl")
    for i in range(3):
        lg.append({"user": "ana", "action": f"edit{i}", "params": {}})
    assert verify(lg.path) == 3
    assert all("mac" in e for e in read_log(lg.path))
    # a forger without the key re-chains the log and rewrites the anchor consistently
    entries = read_log(lg.path)
    entries[1]["action"] = "forged"
    forged = _rechain(entries)
    lg.path.write_text("\n".join(forged) + "\n")
    anchor_path(lg.path).write_text(
        json.dumps({"count": 3, "head": json.loads(forged[-1])["hash"]})
    )
    with pytest.raises(ProvenanceError, match="signature"):
        verify(lg.path)
    # whoever checks without the key sees only the chain and the anchor
    monkeypatch.delenv(KEY_ENV)
    assert verify(lg.path) == 3
    with pytest.raises(ProvenanceError, match="signature"):
        verify(lg.path, key="team-secret")
    with pytest.raises(ProvenanceError, match="signature"):
        verify(lg.path, key="wrong-key")


def test_signed_log_verifies_only_with_the_right_key(tmp_path, monkeypatch):
    monkeypatch.delenv(KEY_ENV, raising=False)
    lg = ProvenanceLog(tmp_path / "provenance.jsonl", key=b"k1")
    lg.append({"user": "ana", "action": "a", "params": {}})
    assert verify(lg.path, key=b"k1") == 1
    with pytest.raises(ProvenanceError, match="signature"):
        verify(lg.path, key=b"k2")


def test_malformed_anchor_is_named(log):
    anchor_path(log.path).write_text('{"count": "five"}')
    with pytest.raises(ProvenanceError) as err:
        verify(log.path)
    assert "anchor" in str(err.value)


def test_deeply_nested_line_is_a_provenance_error(log):
    with open(log.path, "a") as fh:
        fh.write("[" * 100_000 + "]" * 100_000 + "\n")
    with pytest.raises(ProvenanceError, match="line 6"):
        read_log(log.path)
