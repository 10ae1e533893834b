"""Atomic writes give files the permissions a plain write would; locked appends find the
last complete line of a log."""

from __future__ import annotations

import os
import stat

from napari_labelsuite.core.fileio import atomic_write_text, last_newline, locked_append


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_new_file_gets_default_mode_less_umask(tmp_path):
    old = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "report.json", "{}")
    finally:
        os.umask(old)
    assert _mode(tmp_path / "report.json") == 0o644
    assert (tmp_path / "report.json").read_text() == "{}"


def test_replaced_file_keeps_its_mode(tmp_path):
    target = tmp_path / "classes.yaml"
    target.write_text("old")
    os.chmod(target, 0o640)
    atomic_write_text(target, "new")
    assert _mode(target) == 0o640
    assert target.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["classes.yaml"]


def test_last_newline_finds_the_end_of_the_last_complete_line_across_blocks(tmp_path):
    path = tmp_path / "log.jsonl"
    long_line = b"x" * 10_000  # longer than the first backward blocks (4096, 8192)
    with locked_append(path) as fd:
        assert last_newline(fd, 0) == -1
        os.write(fd, b"a\n" + long_line + b"\n" + b"torn")
        size = os.lseek(fd, 0, os.SEEK_END)
        data = path.read_bytes()
        assert last_newline(fd, size) == data.rfind(b"\n") == 2 + len(long_line)
        assert last_newline(fd, size - 5) == data.rfind(b"\n", 0, size - 5) == 1
        assert last_newline(fd, 1) == -1


def test_locked_append_creates_the_folder_and_appends_at_the_end(tmp_path):
    path = tmp_path / "new" / "log.jsonl"
    for line in (b"one\n", b"two\n"):
        with locked_append(path) as fd:
            os.write(fd, line)
    assert path.read_bytes() == b"one\ntwo\n"
