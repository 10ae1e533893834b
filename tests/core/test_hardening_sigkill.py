"""A writer killed with SIGKILL anywhere inside write_annotation never leaves a pyramid
that the next read-write open does not repair."""

from __future__ import annotations

import functools
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from napari_labelsuite.core.annotation import ImageAnnotation, ObjectInfo  # noqa: E402
from napari_labelsuite.core.store import MaskStore  # noqa: E402
from napari_labelsuite.core.store.pyramid import downsample_labels  # noqa: E402
from sigkill import kill_during  # noqa: E402

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


def _write_annotation(path: str, seed: int, started: Callable[[], None]) -> None:
    st = MaskStore.open(path, "r+")
    ann = _annotation(seed)
    started()
    st.write_annotation(ann)


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
        work = functools.partial(_write_annotation, path, k + 1)
        finished.append(kill_during(work, span * 1.3 * k / N_TRIALS))
        with MaskStore.open(path, "r") as ro:
            wrong = not all(_pyramid_ok(ro, n) for n in ro.label_names())
        with MaskStore.open(path, "r+") as st:  # takes over the lock, replays the journal
            st.save()
            for name in st.label_names():
                assert _pyramid_ok(st, name), f"trial {k}: {name} pyramid not repaired"
        repaired += wrong
    assert not all(finished), "no kill landed inside write_annotation"
    assert repaired, "no kill left work for the journal: the test proved nothing"
