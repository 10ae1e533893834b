"""A writer killed with SIGKILL anywhere inside write_annotation never leaves a pyramid
that the next read-write open does not repair."""

from __future__ import annotations

import os
import select
import signal
import sys
import time

import numpy as np
import pytest

from napari_labelsuite.core.annotation import ImageAnnotation, ObjectInfo
from napari_labelsuite.core.store import MaskStore
from napari_labelsuite.core.store.pyramid import downsample_labels

SHAPE, CHUNK, LEVELS = (256, 256), 64, 3
N_TRIALS = 20

pytestmark = [
    pytest.mark.skipif(sys.platform == "win32" or not hasattr(os, "fork"), reason="needs fork"),
    pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning"),
]


def _annotation(seed: int) -> ImageAnnotation:
    rng = np.random.default_rng(seed)
    inst = np.zeros(SHAPE, np.uint32)
    for k in range(1, 9):
        r, c = rng.integers(0, SHAPE[0] - 40, 2)
        inst[r : r + 40, c : c + 40] = k
    sem = (inst > 0).astype(np.uint8) * (1 + seed % 2)
    return ImageAnnotation(
        "img",
        SHAPE,
        semantic=sem,
        instances=inst,
        objects={k: ObjectInfo(1) for k in np.unique(inst) if k},
    )


def _writer(path: str, seed: int, wfd: int) -> None:  # pragma: no cover - child
    try:
        st = MaskStore.open(path, "r+")
        ann = _annotation(seed)
        os.write(wfd, b"s")
        st.write_annotation(ann)
        os.write(wfd, b"d")
        os._exit(0)
    except BaseException:
        os._exit(3)


def _kill_after(path: str, seed: int, delay: float) -> bool:
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        os.close(rfd)
        _writer(path, seed, wfd)
    os.close(wfd)
    try:
        assert select.select([rfd], [], [], 30)[0], "writer never started"
        assert os.read(rfd, 1) == b"s"
        time.sleep(delay)
        finished = bool(select.select([rfd], [], [], 0)[0]) and os.read(rfd, 1) == b"d"
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    finally:
        os.close(rfd)
    return finished


def _pyramid_ok(st: MaskStore, name: str) -> bool:
    levels = [np.asarray(a[:]) for a in st.label_levels(name)]
    return all(
        np.array_equal(levels[k], downsample_labels(levels[k - 1], (2, 2), "nearest"))
        for k in range(1, len(levels))
    )


def test_sigkill_during_write_annotation_never_leaves_a_wrong_pyramid(tmp_path):
    from napari_labelsuite.core.taxonomy import Taxonomy

    tax = Taxonomy.from_dict({"classes": [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}]})
    path = str(tmp_path / "s.ome.zarr")
    with MaskStore.create(path, shape=SHAPE, chunks=(CHUNK, CHUNK), n_levels=LEVELS) as st:
        t0 = time.perf_counter()
        st.write_annotation(_annotation(0), taxonomy=tax)
        span = time.perf_counter() - t0
    finished = []
    repaired = 0
    for k in range(N_TRIALS):
        finished.append(_kill_after(path, k + 1, span * 1.3 * k / N_TRIALS))
        with MaskStore.open(path, "r") as ro:
            wrong = not all(_pyramid_ok(ro, n) for n in ro.label_names())
        with MaskStore.open(path, "r+") as st:  # takes over the lock, replays the journal
            st.save()
            for name in st.label_names():
                assert _pyramid_ok(st, name), f"trial {k}: {name} pyramid not repaired"
        repaired += wrong
    assert not all(finished), "no kill landed inside write_annotation"
    assert repaired, "no kill left work for the journal: the test proved nothing"
