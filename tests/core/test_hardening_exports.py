"""Exports are all or nothing: a re-export replaces the previous one as a whole (no stale
files), keeps files the format does not own, and a writer killed at any moment leaves
the old export or the new one, never a mix, and no staging folder behind."""

from __future__ import annotations

import os
import select
import signal
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from napari_labelsuite.core import formats
from napari_labelsuite.core.annotation import ImageAnnotation, ObjectInfo
from napari_labelsuite.core.errors import FormatError
from napari_labelsuite.core.taxonomy import Taxonomy

TAX = Taxonomy.from_dict({"classes": [{"id": 1, "name": "cell"}]})


def _anns(names, value: int = 1, size: int = 16) -> list[ImageAnnotation]:
    out = []
    for k, name in enumerate(names):
        inst = np.zeros((size, size), np.int32)
        inst[1 + k % 4 : 5 + k % 4, 2:6] = value
        out.append(
            ImageAnnotation(name, (size, size), instances=inst, objects={value: ObjectInfo(1)})
        )
    return out


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize(
    ("fmt", "stale"),
    [
        ("voc", "Annotations/b.xml"),
        ("yolo", "labels/train/b.txt"),
        ("masks", "instances/b.png"),
    ],
)
def test_reexport_drops_files_of_images_no_longer_exported(tmp_path, fmt, stale):
    out = tmp_path / "out"
    formats.write(out, _anns(["a.png", "b.png"]), TAX, fmt=fmt)
    assert (out / stale).is_file()
    formats.write(out, _anns(["a.png"]), TAX, fmt=fmt)
    assert not (out / stale).exists()
    anns, _ = formats.read(out, fmt)
    assert [Path(a.image_name).stem for a in anns] == ["a"]


def test_reexport_keeps_files_the_format_does_not_own(tmp_path):
    out = tmp_path / "out"
    formats.write(out, _anns(["a.png", "b.png"]), TAX, fmt="yolo")
    (out / "images" / "train").mkdir(parents=True)
    (out / "images" / "train" / "a.png").write_bytes(b"pixels")
    (out / "README.txt").write_text("notes")
    formats.write(out, _anns(["a.png"]), TAX, fmt="yolo")
    assert (out / "images" / "train" / "a.png").read_bytes() == b"pixels"
    assert (out / "README.txt").read_text() == "notes"


def test_export_onto_a_file_is_refused_and_the_file_kept(tmp_path):
    out = tmp_path / "out"
    out.write_text("mine")
    with pytest.raises(FormatError, match="a file exists"):
        formats.write(out, _anns(["a.png"]), TAX, fmt="voc")
    assert out.read_text() == "mine"


def test_failed_export_leaves_the_old_one_and_no_staging_folder(tmp_path, monkeypatch):
    out = tmp_path / "out"
    formats.write(out, _anns(["a.png", "b.png"]), TAX, fmt="masks")
    before = _tree(out)
    import napari_labelsuite.core.formats.masks as masks_mod

    real = masks_mod._write_mask
    calls = {"n": 0}

    def full(path, arr, pal):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError(28, "No space left on device", str(path))
        real(path, arr, pal)

    monkeypatch.setattr(masks_mod, "_write_mask", full)
    with pytest.raises(OSError):
        formats.write(out, _anns(["a.png", "b.png", "c.png"], value=2), TAX, fmt="masks")
    assert _tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_staging_folder_of_a_dead_writer_is_removed(tmp_path):
    out = tmp_path / "out"
    dead = tmp_path / ".out.999999999.abcd1234.tmp"
    dead.mkdir()
    (dead / "half.xml").write_text("<")
    formats.write(out, _anns(["a.png"]), TAX, fmt="voc")
    assert not dead.exists()


def test_folder_set_aside_by_a_crash_is_put_back(tmp_path):
    """Without an atomic exchange a crash can come between the two renames."""
    aside = tmp_path / ".out.999999999.old.tmp"
    formats.write(aside, _anns(["a.png"]), TAX, fmt="voc")
    formats.write(tmp_path / "other", _anns(["b.png"]), TAX, fmt="voc")  # unrelated
    assert (tmp_path / ".out.999999999.old.tmp").exists()
    formats.write(tmp_path / "out", _anns(["b.png", "c.png"]), TAX, fmt="voc")
    assert not aside.exists()
    assert sorted(_tree(tmp_path / "out")) == [
        "Annotations/b.xml",
        "Annotations/c.xml",
        "taxonomy.yaml",
    ]


# -- SIGKILL trials -----------------------------------------------------------------------
N_TRIALS = 20
NAMES_OLD = [f"img{i:03d}.png" for i in range(4)]
NAMES_NEW = [f"img{i:03d}.png" for i in range(2, 8)]


def _exporter(out: str, fmt: str, wfd: int) -> None:  # pragma: no cover - child
    try:
        os.write(wfd, b"s")
        formats.write(out, _anns(NAMES_NEW, value=2, size=32), TAX, fmt=fmt)
        os.write(wfd, b"d")
        os._exit(0)
    except BaseException:
        os._exit(3)


def _kill_export(out: Path, fmt: str, delay: float, wait_done: bool = False) -> None:
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        os.close(rfd)
        _exporter(str(out), fmt, wfd)
    os.close(wfd)
    try:
        assert select.select([rfd], [], [], 30)[0], "exporter never started"
        os.read(rfd, 1)
        if wait_done:  # let this one finish: the new export must be seen at least once
            select.select([rfd], [], [], 30)
        else:
            time.sleep(delay)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    finally:
        os.close(rfd)


@pytest.mark.skipif(sys.platform == "win32" or not hasattr(os, "fork"), reason="needs fork")
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
@pytest.mark.parametrize("fmt", ["yolo", "voc"])
def test_sigkill_during_export_leaves_old_or_new_export(tmp_path, fmt):
    out = tmp_path / "out"
    formats.write(out, _anns(NAMES_OLD, value=1, size=32), TAX, fmt=fmt)
    old = _tree(out)
    ref = tmp_path / "ref"
    formats.write(ref, _anns(NAMES_NEW, value=2, size=32), TAX, fmt=fmt)
    new = _tree(ref)
    t0 = time.perf_counter()
    formats.write(tmp_path / "timing", _anns(NAMES_NEW, value=2, size=32), TAX, fmt=fmt)
    span = time.perf_counter() - t0
    seen = {"old": 0, "new": 0}
    for k in range(N_TRIALS):
        _kill_export(out, fmt, delay=span * 1.4 * k / N_TRIALS, wait_done=k == N_TRIALS - 1)
        tree = _tree(out)
        # the files of each export are equal byte for byte except the sidecar of YOLO,
        # which names the same content; compare the file sets and their bytes
        if tree == old:
            seen["old"] += 1
        else:
            assert set(tree) == set(new), "a mix of the old and the new export"
            assert all(tree[k] == new[k] for k in new), "a file of the new export differs"
            seen["new"] += 1
            old = tree
        # the next export removes the killed writer's staging folder
        formats.write(out, _anns(NAMES_OLD, value=1, size=32), TAX, fmt=fmt)
        old = _tree(out)
        assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]
    assert seen["old"] + seen["new"] == N_TRIALS
    assert seen["old"] and seen["new"], seen  # kills landed before and after the commit
