"""Every failure of the command line is one line on stderr with exit code 1 (130 for
Ctrl-C): usage errors, OS errors (wrong kind of target, disk full, read-only file
system), pipes, huge stores."""

from __future__ import annotations

import errno
import os

import numpy as np
import pytest

from napari_labelsuite.cli import main


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert "Traceback" not in err[0]
    return err[0]


def test_usage_error_is_one_line_exit_1(capsys):
    assert main(["export", "nowhere"]) == 1
    line = _one_error_line(capsys)
    assert line.startswith("error: napari-labelsuite export:") and "--to" in line


def test_unknown_subcommand_exit_1(capsys):
    assert main(["frobnicate"]) == 1
    assert "invalid choice" in _one_error_line(capsys)


def test_yaml_error_is_one_line_naming_the_line(tmp_path, capsys):
    f = tmp_path / "classes.yaml"
    f.write_text("classes:\n  - {id: 1, name: cell\n  - oops: [\n")
    assert main(["validate", str(f)]) == 1
    line = _one_error_line(capsys)
    assert str(f) in line and "line " in line


def test_keyboard_interrupt_exits_130_with_one_line(monkeypatch, capsys):
    import napari_labelsuite.cli as cli

    def interrupted(args):
        raise KeyboardInterrupt

    name = "stats"
    help_, ex, add, _ = cli.SUBCOMMANDS[name]
    monkeypatch.setitem(cli.SUBCOMMANDS, name, (help_, ex, add, interrupted))
    assert main([name, "x"]) == 130
    assert _one_error_line(capsys) == "interrupted"


@pytest.mark.parametrize(
    ("err", "text"),
    [(errno.ENOSPC, "No space left on device"), (errno.EROFS, "Read-only file system")],
)
def test_os_errors_are_one_line(monkeypatch, capsys, tmp_path, err, text):
    import napari_labelsuite.cli as cli

    target = str(tmp_path / "out")

    def failing(args):
        raise OSError(err, os.strerror(err), target)

    help_, ex, add, _ = cli.SUBCOMMANDS["stats"]
    monkeypatch.setitem(cli.SUBCOMMANDS, "stats", (help_, ex, add, failing))
    assert main(["stats", "x"]) == 1
    assert _one_error_line(capsys) == f"error: {target}: {text}"


def test_unexpected_exception_is_one_line(monkeypatch, capsys):
    import napari_labelsuite.cli as cli

    def buggy(args):
        raise ZeroDivisionError("boom\nsecond line")

    help_, ex, add, _ = cli.SUBCOMMANDS["stats"]
    monkeypatch.setitem(cli.SUBCOMMANDS, "stats", (help_, ex, add, buggy))
    assert main(["stats", "x"]) == 1
    line = _one_error_line(capsys)
    assert "ZeroDivisionError: boom second line" in line


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_validate_a_fifo_named_json_does_not_block(tmp_path, capsys):
    fifo = tmp_path / "instances.json"
    os.mkfifo(fifo)
    assert main(["validate", str(fifo)]) == 1
    assert "not a regular file" in capsys.readouterr().err


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_import_from_a_fifo_does_not_block(tmp_path, capsys):
    fifo = tmp_path / "instances.json"
    os.mkfifo(fifo)
    (tmp_path / "ds").mkdir()
    np.save(tmp_path / "ds" / "a.npy", np.zeros((4, 4), np.uint8))
    assert main(["import", str(fifo), str(tmp_path / "ds"), "--from", "coco"]) == 1
    assert "not a regular file" in _one_error_line(capsys)


def test_stats_on_a_huge_declared_store_is_refused_quickly(tmp_path, capsys):
    from napari_labelsuite.core.store import MaskStore

    path = tmp_path / "huge.ome.zarr"
    with MaskStore.create(path, shape=(10**6, 10**6), chunks=(512, 512), n_levels=1) as st:
        st.create_labels("x", dtype="uint8", role="semantic")
        st.save()
    assert main(["stats", str(path)]) == 1
    line = _one_error_line(capsys)
    assert "1000000000000 pixels" in line and "--max-pixels" in line


def test_export_onto_a_file_where_a_folder_is_needed(tmp_path, capsys):
    from napari_labelsuite.core.annotation import ImageAnnotation, ObjectInfo
    from napari_labelsuite.core.dataset import Dataset
    from napari_labelsuite.core.taxonomy import Taxonomy

    root = tmp_path / "ds"
    root.mkdir()
    np.save(root / "a.npy", np.zeros((8, 8), np.uint8))
    ds = Dataset.open(root)
    inst = np.zeros((8, 8), np.int32)
    inst[2:5, 2:5] = 1
    ds.save_annotation(0, ImageAnnotation("a", (8, 8), instances=inst, objects={1: ObjectInfo(1)}))
    Taxonomy.from_dict({"classes": [{"id": 1, "name": "cell"}]}).save(ds.taxonomy_path)
    blocker = tmp_path / "out"
    blocker.write_text("a file, not a folder")
    assert main(["export", str(root), str(blocker), "--to", "yolo"]) == 1
    line = _one_error_line(capsys)
    assert str(blocker) in line
    assert blocker.read_text() == "a file, not a folder"
