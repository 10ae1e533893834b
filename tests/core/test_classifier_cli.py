"""``napari-labelsuite classify``: a saved classifier applied to a dataset and a store,
locally and on a dask.distributed cluster (same results), bad files refused."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from napari_labelsuite.cli import main
from napari_labelsuite.core.classifier import PixelClassifier
from napari_labelsuite.core.dataset import Dataset
from napari_labelsuite.core.store import MaskStore


def _img(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:48, :48]
    gt = (yy - 24) ** 2 + (xx - 20 - 3 * seed) ** 2 < 10**2
    return gt.astype(np.float32) + rng.normal(0, 0.3, gt.shape).astype(np.float32)


@pytest.fixture
def setup(tmp_path):
    folder = tmp_path / "plates"
    folder.mkdir()
    for seed in range(2):
        np.save(folder / f"img{seed}.npy", _img(seed))
    with MaskStore.create(folder / "big.ome.zarr", image=_img(5), chunks=(16, 16)):
        pass
    strokes = np.zeros((48, 48), np.uint8)
    strokes[22:26, 15:25], strokes[1:3, 2:46] = 2, 1
    clf = PixelClassifier({"sigmas": [0.7, 1.6]}, n_estimators=6, max_depth=6)
    clf.fit(_img(0), strokes)
    return folder, clf.save(tmp_path / "cells.lsclf"), clf


def test_classify_dataset_writes_images_and_stores(setup, capsys):
    folder, path, clf = setup
    assert main(["classify", str(path), str(folder), "--label", "cells"]) == 0
    ds = Dataset.open(folder)
    for i in range(2):
        ann = ds.load_annotation(i)
        np.testing.assert_array_equal(ann.semantic, clf.predict(ds.read_image(i)))
    with MaskStore.open(folder / "big.ome.zarr") as st:
        np.testing.assert_array_equal(st.labels("cells")[:], clf.predict(_img(5)))
    out = capsys.readouterr().out
    assert "img0:" in out and "(store)" in out
    log = (folder / "labelsuite" / "provenance.jsonl").read_text()
    assert log.count('"apply_classifier"') == 3


def test_classify_on_a_local_cluster_equals_the_local_run(setup, tmp_path):
    distributed = pytest.importorskip("distributed")
    folder, path, _ = setup
    other = tmp_path / "copy"
    shutil.copytree(folder, other)
    assert main(["classify", str(path), str(folder)]) == 0
    with distributed.LocalCluster(
        n_workers=1, processes=False, threads_per_worker=2, dashboard_address=None
    ) as cluster:
        args = ["classify", str(path), str(other), "--scheduler", cluster.scheduler_address]
        assert main(args) == 0
    a, b = Dataset.open(folder), Dataset.open(other)
    for i in range(2):
        np.testing.assert_array_equal(a.load_annotation(i).semantic, b.load_annotation(i).semantic)
    with (
        MaskStore.open(folder / "big.ome.zarr") as sa,
        MaskStore.open(other / "big.ome.zarr") as sb,
    ):
        np.testing.assert_array_equal(sa.labels("classifier")[:], sb.labels("classifier")[:])


def test_classify_refuses_a_file_that_is_not_a_classifier(setup, tmp_path, capsys):
    folder, _, _ = setup
    bad = tmp_path / "bad.lsclf"
    bad.write_bytes(b"\x80\x04K\x01.")  # a pickle
    assert main(["classify", str(bad), str(folder)]) == 1
    err = capsys.readouterr().err
    assert "not a pixel classifier file" in err and "bad.lsclf" in err
    assert not (folder / "labelsuite").exists()
