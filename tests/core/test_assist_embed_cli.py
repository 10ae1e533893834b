"""``napari-labelsuite embed`` on a dask.distributed cluster and on stacks: the cache it
writes equals a local run's, one tile file per plane and tile, and the interactive engine
finds it."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from napari_labelsuite.cli import main  # noqa: E402
from napari_labelsuite.core.assist import SamOnnxEngine, segment_local  # noqa: E402
from tiny_sam import tiny_decoder, tiny_encoder  # noqa: E402


@pytest.fixture
def setup(tmp_path):
    import tifffile

    enc, dec = tiny_encoder(tmp_path / "enc.onnx"), tiny_decoder(tmp_path / "dec.onnx")
    folder = tmp_path / "data"
    folder.mkdir()
    flat = np.zeros((64, 64), np.uint8)
    flat[16:48, 16:48] = 200
    stack = np.zeros((3, 64, 80), np.uint8)
    for z in range(3):
        stack[z, 10 + 10 * z : 30 + 10 * z, 20:50] = 200
    tifffile.imwrite(folder / "flat.tif", flat)
    tifffile.imwrite(folder / "stack.tif", stack, photometric="minisblack")
    return enc, dec, folder, stack


def _args(enc, dec, folder, cache):
    return ["embed", str(folder), "--encoder", str(enc), "--decoder", str(dec),
            "--cache", str(cache), "--tile", "64", "--halo", "16"]  # fmt: skip


def _cache_files(root):
    out = {}
    for p in sorted(root.rglob("*.npz")):
        with np.load(p) as z:
            out[str(p.relative_to(root))] = {k: z[k] for k in z.files}
    return out


def test_embed_on_a_local_cluster_equals_the_local_run(setup, tmp_path, capsys):
    distributed = pytest.importorskip("distributed")
    enc, dec, folder, stack = setup
    assert main(_args(enc, dec, folder, tmp_path / "local")) == 0
    # the flat image: one tile; the stack: 3 planes x 2 tiles (80 pixels wide)
    assert "2 images, 7 tiles (7 computed, 0 already cached)" in capsys.readouterr().out
    with distributed.LocalCluster(
        n_workers=1, processes=False, threads_per_worker=2, dashboard_address=None
    ) as cluster:
        args = [
            *_args(enc, dec, folder, tmp_path / "dist"),
            "--scheduler",
            cluster.scheduler_address,
        ]
        assert main(args) == 0
    assert "(7 computed, 0 already cached)" in capsys.readouterr().out
    local, dist = _cache_files(tmp_path / "local"), _cache_files(tmp_path / "dist")
    assert sorted(local) == sorted(dist) and len(local) == 7
    stack_files = sorted(k.split("/")[-1] for k in local if k.startswith("3x64x80"))
    assert stack_files == [f"{z}_0_{j}.npz" for z in range(3) for j in range(2)]
    for key, arrays in local.items():
        assert sorted(arrays) == sorted(dist[key])
        for name, value in arrays.items():
            np.testing.assert_array_equal(value, dist[key][name])
    # a click on plane 2 finds the precomputed embedding
    eng = SamOnnxEngine(enc, dec, cache_dir=tmp_path / "dist", tile=64, halo=16)
    window, mask = segment_local(stack, [[2, 40, 35]], [1], engine=eng)
    assert eng.encoder_runs == 0 and window[0] == slice(2, 3)
    assert mask[0, 40 - window[1].start, 35 - window[2].start]


def test_embed_unreachable_scheduler_exits_1(setup, tmp_path, capsys):
    enc, dec, folder, _ = setup
    args = [*_args(enc, dec, folder, tmp_path / "c"), "--scheduler", "tcp://127.0.0.1:1"]
    assert main([*args, "--connect-timeout", "1"]) == 1
    assert "cannot reach the dask scheduler" in capsys.readouterr().err
    assert not list((tmp_path / "c").rglob("*.npz"))
