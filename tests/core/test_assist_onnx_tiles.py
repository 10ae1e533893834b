"""The ONNX engine on border tiles, planes of stacks and multi-channel stacks, with the tiny
SAM-shaped models of ``tiny_sam`` (SAM's own mask post-processing, so a tile that is not
square comes out right only when the engine resizes and pads as SAM does)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from napari_labelsuite.core.assist import SamOnnxEngine, prepare, segment_local  # noqa: E402
from tiny_sam import tiny_decoder, tiny_encoder  # noqa: E402


@pytest.fixture
def models(tmp_path):
    return tiny_encoder(tmp_path / "enc.onnx"), tiny_decoder(tmp_path / "dec.onnx")


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / (a | b).sum())


def _placed(shape, window, mask) -> np.ndarray:
    full = np.zeros(shape, bool)
    full[window] = mask
    return full


# 200 x 150 with 64-pixel tiles and a 16-pixel halo: a 4 x 3 grid whose last row is 8
# pixels high and whose last column is 22 wide (their regions are 24 x 38, 80 x 38, ...)
SHAPE, TILE, HALO = (200, 150), 64, 16
OBJECTS = {  # name: (rows, cols, click, the tile's region with its halo)
    "bottom-right": ((180, 199), (120, 146), (195, 133), (slice(176, 200), slice(112, 150))),
    "bottom-left": ((180, 199), (10, 40), (194, 25), (slice(176, 200), slice(0, 80))),
    "top-right": ((10, 50), (132, 148), (30, 140), (slice(0, 80), slice(112, 150))),
}


def _border_image() -> np.ndarray:
    img = np.zeros(SHAPE, np.uint8)
    for (r0, r1), (c0, c1), _, _ in OBJECTS.values():
        img[r0:r1, c0:c1] = 200
    return img


@pytest.mark.parametrize("name", sorted(OBJECTS))
def test_border_tiles_smaller_than_the_tile_size(models, name):
    enc, dec = models
    eng = SamOnnxEngine(enc, dec, cache_dir=False, tile=TILE, halo=HALO)
    img = _border_image()
    (r0, r1), (c0, c1), click, region = OBJECTS[name]
    window, mask = segment_local(img, [click], [1], engine=eng)
    assert window == region and mask.shape == tuple(s.stop - s.start for s in region)
    assert eng.encoder_runs == 1  # only the prompt's tile
    truth = np.zeros(SHAPE, bool)
    truth[r0:r1, c0:c1] = True
    got = _placed(SHAPE, window, mask)
    # the object inside that tile's region, nothing of the other objects' tiles
    assert _iou(got, truth & _placed(SHAPE, region, np.ones(mask.shape, bool))) >= 0.85


def test_encode_all_covers_the_grid_with_border_tiles(models):
    enc, dec = models
    eng = SamOnnxEngine(enc, dec, cache_dir=False, tile=TILE, halo=HALO)
    view, _, _ = prepare(_border_image(), [[0, 0]])
    encoded = eng.encode(view)
    seen = []
    encoded.encode_all(lambda done, total: seen.append((done, total)))
    assert encoded.grid == (4, 3) and seen[-1] == (12, 12) and eng.encoder_runs == 12
    regions = [encoded.region(i, j) for i, j in encoded.all_tiles()]
    assert regions[-1] == (slice(176, 200), slice(112, 150))
    covered = np.zeros(SHAPE, int)
    for i, j in encoded.all_tiles():  # the cores tile the image exactly once
        core = (
            slice(i * TILE, min((i + 1) * TILE, 200)),
            slice(j * TILE, min((j + 1) * TILE, 150)),
        )
        covered[core] += 1
        rs, cs = encoded.region(i, j)
        assert rs.start <= core[0].start and rs.stop >= core[0].stop
        assert cs.start <= core[1].start and cs.stop >= core[1].stop
    assert (covered == 1).all()


def _stack() -> np.ndarray:
    """(3, 64, 80): a different square on each plane."""
    st = np.zeros((3, 64, 80), np.uint8)
    st[0, 8:24, 8:24] = 200
    st[1, 30:50, 40:70] = 200
    st[2, 20:44, 10:30] = 200
    return st


def test_2d_prompt_segments_the_current_plane_of_a_stack(models, tmp_path):
    enc, dec = models
    # 64 x 80 planes: two tiles across, the halo reaches over the whole width
    eng = SamOnnxEngine(enc, dec, cache_dir=tmp_path / "c", tile=TILE, halo=HALO)
    st = _stack()
    window, mask = segment_local(st, [[1, 40, 55]], [1], engine=eng)
    assert window[0] == slice(1, 2)  # that plane only
    got = np.zeros(st.shape, bool)
    got[window] = mask.reshape(tuple(s.stop - s.start for s in window))
    assert not got[0].any() and not got[2].any()
    assert _iou(got[1], st[1] > 0) >= 0.85
    # the plane as a 2D image (another engine: this one counts the stack's encodings)
    ref = SamOnnxEngine(enc, dec, cache_dir=False, tile=TILE, halo=HALO)
    w2, m2 = segment_local(st[1], [[40, 55]], [1], engine=ref)
    np.testing.assert_array_equal(got[1], _placed(st.shape[1:], w2, m2))
    window2, mask2 = segment_local(st, [[2, 30, 20]], [1], engine=eng)
    got2 = np.zeros(st.shape, bool)
    got2[window2] = mask2.reshape(tuple(s.stop - s.start for s in window2))
    assert _iou(got2[2], st[2] > 0) >= 0.85 and not got2[1].any()
    assert eng.encoder_runs == 2  # one tile per plane


def test_cache_signature_covers_the_plane(models, tmp_path):
    """Identical planes still get their own embeddings: a file of plane 1 put where plane
    2's belongs is refused and recomputed."""
    enc, dec = models
    st = _stack()
    st[2] = st[1]
    notes: list[str] = []

    def engine():
        return SamOnnxEngine(
            enc, dec, cache_dir=tmp_path / "c", tile=TILE, halo=HALO, dataset="s",
            notify=notes.append,
        )  # fmt: skip

    first = engine()
    segment_local(st, [[1, 40, 55]], [1], engine=first)
    segment_local(st, [[2, 40, 55]], [1], engine=first)
    files = sorted(p.name for p in (tmp_path / "c" / "s").glob("*.npz"))
    assert files == ["1_0_0.npz", "2_0_0.npz"] and first.encoder_runs == 2
    (tmp_path / "c" / "s" / "1_0_0.npz").replace(tmp_path / "c" / "s" / "2_0_0.npz")
    again = engine()
    segment_local(st, [[2, 40, 55]], [1], engine=again)
    assert again.encoder_runs == 1
    assert (
        len(notes) == 1 and "2_0_0.npz" in notes[0] and "other data, model or tiling" in notes[0]
    )


@pytest.mark.parametrize("layout", ["zyxc", "zcyx"])
def test_plane_of_a_multichannel_stack(models, layout):
    """The object is not in the first channel; the engine sees all channels of the plane."""
    enc, dec = models
    eng = SamOnnxEngine(enc, dec, cache_dir=False, tile=TILE, halo=HALO)
    st = np.zeros((3, 64, 80, 3), np.uint8)
    st[..., 0] = 30  # a flat first channel: the object is not in it
    st[1, 30:50, 40:70, 1:] = 220
    truth = np.zeros((64, 80), bool)
    truth[30:50, 40:70] = True
    image, ch = (st, -1) if layout == "zyxc" else (np.moveaxis(st, -1, 1), 1)
    window, mask = segment_local(image, [[1, 40, 55]], [1], engine=eng, channel_axis=ch)
    assert window[0] == slice(1, 2)
    plane = _placed((64, 80), window[1:], mask.reshape(mask.shape[-2:]))
    # exactly what the same plane gives as a 2D RGB image
    w2, m2 = segment_local(st[1], [[40, 55]], [1], engine=eng, channel_axis=-1)
    np.testing.assert_array_equal(plane, _placed((64, 80), w2, m2))
    # the tiny model's threshold erodes a pixel at each edge: the object, not the first channel
    assert _iou(plane, truth) >= 0.8


def test_session_segments_the_current_plane_with_the_onnx_engine(models, tmp_path):
    from napari.layers import Image

    from napari_labelsuite import LabelSession
    from napari_labelsuite.core.synthetic import NUCLEI_CLASSES
    from napari_labelsuite.core.taxonomy import Taxonomy

    enc, dec = models
    st = _stack()
    s = LabelSession(taxonomy=Taxonomy(NUCLEI_CLASSES, name="cells"))
    s.layers.append(Image(st, name="stack"))
    layer = s.add_instance_layer(np.zeros(st.shape, np.int32))
    s.set_active_class("nucleus")
    eng = s.set_assist_engine(
        "onnx", encoder=enc, decoder=dec, cache_dir=tmp_path / "c", tile=TILE, halo=HALO
    )
    seen: list[tuple[int, int]] = []
    s.assist_encode(lambda done, total: seen.append((done, total)), plane=1)
    assert seen == [(1, 2), (2, 2)] and eng.encoder_runs == 2  # plane 1's two tiles
    iid = s.segment_object([[1, 40, 55]], [1])
    assert eng.encoder_runs == 2  # the click reused them
    assert np.flatnonzero((layer.data == iid).any(axis=(1, 2))).tolist() == [1]
    assert _iou(layer.data[1] == iid, st[1] > 0) >= 0.85


def test_session_reports_a_corrupt_cache_and_recomputes(models, tmp_path):
    from napari.layers import Image

    from napari_labelsuite import LabelSession
    from napari_labelsuite.core.assist import EmbeddingCacheWarning

    enc, dec = models
    st = _stack()
    s = LabelSession()
    s.layers.append(Image(st, name="stack"))
    s.add_instance_layer(np.zeros(st.shape, np.int32))
    kw = {"encoder": enc, "decoder": dec, "cache_dir": tmp_path / "c", "tile": TILE, "halo": HALO}
    s.set_assist_engine("onnx", **kw)
    s.assist_encode(plane=1)
    (first, *_) = sorted((tmp_path / "c").rglob("1_0_0.npz"))
    first.write_bytes(b"garbage")
    eng = s.set_assist_engine("onnx", **kw)  # a new engine reads the cache again
    with pytest.warns(EmbeddingCacheWarning, match="1_0_0.npz.*unreadable"):
        s.preview_object([[1, 40, 55]], [1])
    assert eng.encoder_runs == 1  # that tile recomputed, the other one never needed
