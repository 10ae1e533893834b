"""The SAM-family ONNX engine with tiny models built here (official decoder input names)."""

from __future__ import annotations

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

# the tiny models (official decoder names, SAM's own mask post-processing)
from napari_labelsuite.core.assist import (  # noqa: E402
    DECODER_INPUTS,
    EmbeddingCacheWarning,
    SamOnnxEngine,
    segment,
    segment_local,
)
from napari_labelsuite.core.errors import AssistError  # noqa: E402
from tiny_sam import tiny_decoder as _decoder  # noqa: E402
from tiny_sam import tiny_encoder as _encoder  # noqa: E402


@pytest.fixture
def models(tmp_path):
    return _encoder(tmp_path / "enc.onnx"), _decoder(tmp_path / "dec.onnx")


def _square_image(shape=(64, 64), box=(16, 48, 16, 48)):
    img = np.zeros(shape, np.uint8)
    r0, r1, c0, c1 = box
    img[r0:r1, c0:c1] = 200
    return img


def test_decoder_inputs_are_the_official_names():
    assert DECODER_INPUTS == (
        "image_embeddings",
        "point_coords",
        "point_labels",
        "mask_input",
        "has_mask_input",
        "orig_im_size",
    )


def test_click_segments_with_the_model(models, tmp_path):
    enc, dec = models
    eng = SamOnnxEngine(enc, dec, cache_dir=tmp_path / "cache", tile=64, halo=0)
    img = _square_image()
    mask = segment(img, [[30, 30], [5, 5]], [1, 0], engine=eng)
    truth = img > 0
    assert (mask & truth).sum() / (mask | truth).sum() >= 0.85
    assert mask[30, 30] and not mask[5, 5]
    assert eng.encoder_runs == 1


def test_positive_click_forced_even_where_the_model_says_no(models, tmp_path):
    enc, dec = models
    eng = SamOnnxEngine(enc, dec, cache_dir=False, tile=64, halo=0)
    img = _square_image()
    mask = segment(img, [[30, 30], [3, 60]], [1, 1], engine=eng)
    assert mask[3, 60]


def test_large_image_is_encoded_tile_by_tile(models, tmp_path):
    enc, dec = models
    eng = SamOnnxEngine(enc, dec, cache_dir=False, tile=64, halo=16)
    img = np.zeros((256, 256), np.uint8)
    img[150:180, 140:170] = 200
    # an inner tile: its region with the halo is square (border tiles: test_assist_onnx_tiles)
    window, mask = segment_local(img, [[165, 155]], [1], engine=eng)
    # only the prompt's tile (with its halo) was encoded and decoded
    assert eng.encoder_runs == 1
    assert window == (slice(112, 208), slice(112, 208))
    full = np.zeros(img.shape, bool)
    full[window] = mask
    truth = img > 0
    assert (full & truth).sum() / (full | truth).sum() >= 0.8


def test_embeddings_are_cached_and_reused(models, tmp_path):
    enc, dec = models
    img = _square_image()
    first = SamOnnxEngine(enc, dec, cache_dir=tmp_path / "c", tile=64, halo=0, dataset="img")
    m1 = segment(img, [[30, 30]], [1], engine=first)
    files = list((tmp_path / "c" / "img").glob("*.npz"))
    assert len(files) == 1
    second = SamOnnxEngine(enc, dec, cache_dir=tmp_path / "c", tile=64, halo=0, dataset="img")
    m2 = segment(img, [[30, 30]], [1], engine=second)
    assert second.encoder_runs == 0
    np.testing.assert_array_equal(m1, m2)


def test_mismatched_cache_is_recomputed_with_a_notice(models, tmp_path):
    enc, dec = models
    notes = []
    eng = SamOnnxEngine(
        enc, dec, cache_dir=tmp_path / "c", tile=64, halo=0, dataset="img", notify=notes.append
    )
    segment(_square_image(), [[30, 30]], [1], engine=eng)
    other = _square_image(box=(8, 40, 8, 40))  # same name, other pixels
    eng2 = SamOnnxEngine(
        enc, dec, cache_dir=tmp_path / "c", tile=64, halo=0, dataset="img", notify=notes.append
    )
    mask = segment(other, [[20, 20]], [1], engine=eng2)
    assert eng2.encoder_runs == 1
    assert len(notes) == 1 and "other data, model or tiling" in notes[0]
    truth = other > 0
    assert (mask & truth).sum() / (mask | truth).sum() >= 0.85


def test_corrupt_cache_is_recomputed_with_a_warning(models, tmp_path):
    enc, dec = models
    eng = SamOnnxEngine(enc, dec, cache_dir=tmp_path / "c", tile=64, halo=0, dataset="img")
    segment(_square_image(), [[30, 30]], [1], engine=eng)
    (f,) = (tmp_path / "c" / "img").glob("*.npz")
    f.write_bytes(b"not a numpy file")
    eng2 = SamOnnxEngine(enc, dec, cache_dir=tmp_path / "c", tile=64, halo=0, dataset="img")
    with pytest.warns(EmbeddingCacheWarning, match="unreadable"):
        segment(_square_image(), [[30, 30]], [1], engine=eng2)
    assert eng2.encoder_runs == 1


def test_missing_and_wrong_model_files(models, tmp_path):
    enc, dec = models
    with pytest.raises(AssistError) as info:
        SamOnnxEngine(enc, tmp_path / "nope.onnx")
    assert "nope.onnx" in str(info.value) and "point_coords" in str(info.value)
    bad = tmp_path / "bad.onnx"
    bad.write_text("hello")
    with pytest.raises(AssistError) as info:
        SamOnnxEngine(bad, dec)
    assert "bad.onnx" in str(info.value) and info.value.field == "encoder"
    nocoords = _decoder(tmp_path / "nocoords.onnx", drop=("point_coords",))
    with pytest.raises(AssistError) as info:
        SamOnnxEngine(enc, nocoords)
    assert "point_coords" in str(info.value) and info.value.field == "decoder"


def test_model_files_from_the_environment(models, tmp_path, monkeypatch):
    enc, dec = models
    monkeypatch.setenv("LABELSUITE_SAM_ENCODER", str(enc))
    monkeypatch.setenv("LABELSUITE_SAM_DECODER", str(dec))
    monkeypatch.setenv("LABELSUITE_EMBEDDING_CACHE", str(tmp_path / "envcache"))
    mask = segment(_square_image(), [[30, 30]], [1], engine="onnx")
    assert mask[30, 30]
    assert any((tmp_path / "envcache").rglob("*.npz"))


def test_embed_command_precomputes_the_cache(models, tmp_path, capsys):
    import tifffile

    from napari_labelsuite.cli import main

    enc, dec = models
    folder = tmp_path / "data"
    folder.mkdir()
    tifffile.imwrite(folder / "a.tif", _square_image())
    tifffile.imwrite(folder / "b.tif", _square_image(box=(8, 40, 8, 40)))
    args = ["embed", str(folder), "--encoder", str(enc), "--decoder", str(dec)]
    args += ["--cache", str(tmp_path / "c"), "--tile", "64", "--halo", "0"]
    assert main(args) == 0
    assert "2 images, 2 tiles (2 computed, 0 already cached)" in capsys.readouterr().out
    assert main(args) == 0
    assert "(0 computed, 2 already cached)" in capsys.readouterr().out
    # an interactive engine with the same settings finds the precomputed embeddings
    eng = SamOnnxEngine(enc, dec, cache_dir=tmp_path / "c", tile=64, halo=0)
    mask = segment(tifffile.imread(folder / "a.tif"), [[30, 30]], [1], engine=eng)
    assert eng.encoder_runs == 0 and mask[30, 30]


def test_embed_command_names_a_missing_model(tmp_path, capsys):
    from napari_labelsuite.cli import main

    enc = _encoder(tmp_path / "enc.onnx")
    assert main(["embed", str(tmp_path), "--encoder", str(enc), "--decoder", "gone.onnx"]) == 1
    assert "gone.onnx" in capsys.readouterr().err
