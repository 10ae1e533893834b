"""Atomic writes give files the permissions a plain write would."""

from __future__ import annotations

import os
import stat

from napari_labelsuite.core.fileio import atomic_write_text


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
