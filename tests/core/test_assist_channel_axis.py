"""Which axis of an image holds the channels: an explicit axis, then the metadata's axis
names, then size rules that never take a short z axis for channels silently."""

from __future__ import annotations

import numpy as np
import pytest

from napari_labelsuite.core.assist import resolve_channel_axis, segment
from napari_labelsuite.core.errors import AssistError


def test_a_short_z_stack_with_channels_is_ambiguous_not_guessed():
    # (z, c, y, x) with z = 5 used to be read as channels first
    with pytest.raises(AssistError, match=r"\(5, 2, 64, 64\).*--channel-axis") as info:
        resolve_channel_axis((5, 2, 64, 64), 3, None)
    assert info.value.field == "channel_axis"


def test_the_one_small_leading_axis_holds_the_channels():
    assert resolve_channel_axis((40, 2, 64, 64), 3, None) == 1  # (z, c, y, x)
    assert resolve_channel_axis((2, 40, 64, 64), 3, None) == 0  # (c, z, y, x)
    assert resolve_channel_axis((3, 64, 64), 2, None) == 0  # (c, y, x)
    assert resolve_channel_axis((64, 64, 3), 2, None) == 2  # RGB


def test_no_small_axis_asks_for_the_axis():
    with pytest.raises(AssistError, match="no axis looks like channels"):
        resolve_channel_axis((40, 64, 64), 2, None)


def test_metadata_axes_win_over_the_size_rules():
    assert resolve_channel_axis((5, 2, 64, 64), 3, None, axes="zcyx") == 1
    assert resolve_channel_axis((5, 2, 64, 64), 3, None, axes="CZYX") == 0
    # metadata without a channel axis: a 3D image is a volume even with a small last axis
    assert resolve_channel_axis((30, 64, 3), 3, None, axes="zyx") is None


def test_an_explicit_axis_wins_over_metadata():
    assert resolve_channel_axis((5, 2, 64, 64), 3, 0, axes="zcyx") == 0
    assert resolve_channel_axis((5, 2, 64, 64), 3, -3) == 1


def test_axis_names_of_another_length_are_an_error():
    with pytest.raises(AssistError, match="'cyx'.*\\(5, 2, 64, 64\\)") as info:
        resolve_channel_axis((5, 2, 64, 64), 3, None, axes="cyx")
    assert info.value.field == "axes"


def test_segment_of_a_short_zc_stack_needs_the_axis_and_uses_all_channels():
    # (z, c, y, x): the object is bright in channel 1 only, on plane 2
    stack = np.zeros((5, 2, 48, 48), np.float32)
    yy, xx = np.mgrid[:48, :48]
    disc = (yy - 24) ** 2 + (xx - 24) ** 2 <= 8**2
    stack[2, 1][disc] = 100.0
    stack += np.random.default_rng(0).normal(0, 1, stack.shape).astype(np.float32)
    with pytest.raises(AssistError, match="--channel-axis"):
        segment(stack, [[2, 24, 24]], [1])
    mask = segment(stack, [[2, 24, 24]], [1], channel_axis=1)
    assert mask.shape == (5, 48, 48)
    assert not mask[[0, 1, 3, 4]].any()  # a 2D prompt segments its plane only
    inter = (mask[2] & disc).sum()
    assert inter / (mask[2] | disc).sum() > 0.9


def _stack() -> np.ndarray:
    """A (z, c, y, x) stack with two short leading axes."""
    stack = np.zeros((5, 2, 48, 48), np.uint8)
    stack[:, 1, 12:36, 12:36] = 200
    return stack


def _embed(path, tmp_path, *extra):
    pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    from napari_labelsuite.cli import main
    from tiny_sam import tiny_decoder, tiny_encoder

    enc, dec = tiny_encoder(tmp_path / "enc.onnx"), tiny_decoder(tmp_path / "dec.onnx")
    cache = str(tmp_path / "cache")
    args = ["embed", str(path), "--encoder", str(enc), "--decoder", str(dec),
            "--cache", cache, "--tile", "64", "--halo", "16", *extra]  # fmt: skip
    return main(args)


def test_embed_refuses_to_guess_a_short_zc_stack(tmp_path, capsys):
    path = tmp_path / "zc.npy"
    np.save(path, _stack())
    assert _embed(path, tmp_path) == 1
    err = capsys.readouterr().err
    assert "(5, 2, 48, 48)" in err and "--channel-axis" in err and "zc.npy" in err
    assert not list((tmp_path / "cache").rglob("*.npz"))


def test_embed_with_channel_axis_encodes_each_z_plane(tmp_path, capsys):
    path = tmp_path / "zc.npy"
    np.save(path, _stack())
    assert _embed(path, tmp_path, "--channel-axis", "1") == 0
    # 5 planes (z), one 48 x 48 tile each: z was not taken for channels
    assert "1 images, 5 tiles (5 computed, 0 already cached)" in capsys.readouterr().out


def test_embed_takes_the_channel_axis_from_the_tiff_axes(tmp_path, capsys):
    import tifffile

    path = tmp_path / "zc.tif"
    tifffile.imwrite(path, _stack(), imagej=True, metadata={"axes": "ZCYX"})
    assert _embed(path, tmp_path) == 0
    assert "1 images, 5 tiles (5 computed, 0 already cached)" in capsys.readouterr().out


# -- the session: an explicit channel_axis, else the layer's or the store's metadata ------
def _zc_session(cells_taxonomy, **image_kwargs):
    from napari.layers import Image

    from napari_labelsuite import LabelSession

    stack = np.zeros((5, 2, 48, 48), np.float32)
    yy, xx = np.mgrid[:48, :48]
    disc = (yy - 24) ** 2 + (xx - 24) ** 2 <= 8**2
    stack[2, 1][disc] = 100.0  # visible in channel 1 only
    stack += np.random.default_rng(1).normal(0, 1, stack.shape).astype(np.float32)
    s = LabelSession(taxonomy=cells_taxonomy)
    s.layers.append(Image(stack, name="zc", **image_kwargs))
    layer = s.add_instance_layer(np.zeros((5, 48, 48), np.uint32))
    s.set_active_class("nucleus")
    return s, layer, disc


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / (a | b).sum())


def test_session_refuses_an_ambiguous_stack_and_leaves_the_layer(cells_taxonomy):
    s, layer, _ = _zc_session(cells_taxonomy)
    n = len(s._history)
    with pytest.raises(AssistError, match=r"\(5, 2, 48, 48\).*channel_axis"):
        s.segment_object([[2, 24, 24]], [1])
    assert not layer.data.any() and s.objects(layer) == {} and len(s._history) == n


def test_session_segment_object_with_channel_axis(cells_taxonomy):
    s, layer, disc = _zc_session(cells_taxonomy)
    iid = s.segment_object([[2, 24, 24]], [1], channel_axis=1)
    assert not (layer.data[[0, 1, 3, 4]] == iid).any()
    assert _iou(layer.data[2] == iid, disc) > 0.9
    # click mode keeps the axis of its first prompt
    s.assist_click([2, 24, 24], channel_axis=1)
    s.assist_click([2, 5, 5], positive=False)
    assert s.candidate is not None and s.candidate.channel_axis == 1


def test_session_reads_the_channel_axis_from_axis_labels(cells_taxonomy):
    s, layer, disc = _zc_session(cells_taxonomy, axis_labels=("z", "c", "y", "x"))
    assert s.assist_image()[1] == 1
    iid = s.wand([2, 24, 24], tolerance=30)
    assert _iou(layer.data[2] == iid, disc) > 0.9


def test_session_uses_every_channel_of_a_store_image(tmp_path, cells_taxonomy):
    from napari_labelsuite import LabelSession
    from napari_labelsuite.core.store import MaskStore

    img = np.zeros((2, 64, 64), np.uint16)
    yy, xx = np.mgrid[:64, :64]
    disc = (yy - 30) ** 2 + (xx - 34) ** 2 <= 9**2
    img[1][disc] = 200  # channel 0 is empty: the object is seen in channel 1 only
    img += np.random.default_rng(2).integers(0, 3, img.shape, dtype=np.uint16)
    path = tmp_path / "two.ome.zarr"
    st = MaskStore.create(path, shape=(64, 64), image=img, chunks=(32, 32))
    st.taxonomy = cells_taxonomy
    st.create_labels("cells", dtype="uint32")
    st.save()
    st.close()
    s = LabelSession(taxonomy=cells_taxonomy)
    s.open_store(str(path))
    s.set_active_class("nucleus")
    data, ch, shown = s.assist_image()
    assert ch == 0 and data.shape == (2, 64, 64) and shown is s.image  # all channels
    iid = s.segment_object([[30, 34]], [1])
    assert _iou(s.instances.data == iid, disc) > 0.9
