"""Assist on a stack napari shows as one Image layer per channel, and the channel setting.

The session gathers the channels from the sibling layers (``img``, ``img [1]``: same shape,
scale and translate) or from ``set_assist_image_layers``; a prompt reads only its window of
each layer.
"""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest
from napari.layers import Image
from scipy import ndimage as ndi
from skimage.draw import disk

from napari_labelsuite import LabelSession
from napari_labelsuite.core.assist import segment
from napari_labelsuite.core.errors import AssistError

SHAPE = (80, 120)
ONLY_IN_1 = (40, 85)  # an object visible only in channel 1


def _stack() -> np.ndarray:
    img = np.full((2, *SHAPE), 20.0, np.float32)
    img[0][disk((40, 30), 12, shape=SHAPE)] = 200
    img[1][disk(ONLY_IN_1, 11, shape=SHAPE)] = 180
    return ndi.gaussian_filter(img, (0, 1, 1))


def _session(cells_taxonomy, channels, names=("img", "img")) -> LabelSession:
    s = LabelSession(taxonomy=cells_taxonomy)
    for data, name in zip(channels, names):
        # napari's add_image(data, channel_axis=0, name="img") names them img, img [1]
        s.layers.append(Image(data, name=name))
    s.add_instance_layer(np.zeros(channels[0].shape, np.int32))
    s.set_active_class("nucleus")
    return s


def test_click_segments_an_object_seen_only_in_the_second_channel(cells_taxonomy):
    stack = _stack()
    s = _session(cells_taxonomy, list(stack))
    assert [la.name for la in s.layers][:2] == ["img", "img [1]"]
    iid = s.segment_object([ONLY_IN_1], [1])
    expected = segment(stack, [ONLY_IN_1], [1], channel_axis=0)
    assert expected.sum() > 300
    np.testing.assert_array_equal(s.instances.data == iid, expected)
    # the first layer alone has nothing there
    s.set_assist_image_layers(["img"])
    with pytest.raises(AssistError, match="no contrast"):
        s.preview_object([ONLY_IN_1], [1])


def test_explicit_layers_give_the_channels_in_their_order(cells_taxonomy):
    stack = _stack()
    s = _session(cells_taxonomy, list(stack), names=("DAPI", "GFP"))
    data, ch, _ = s.assist_image()
    assert data.shape == SHAPE and ch is None  # not siblings: names differ
    s.set_assist_image_layers(["GFP", "DAPI"])
    data, ch, _ = s.assist_image()
    assert data.shape == (*SHAPE, 2) and ch == 2
    np.testing.assert_array_equal(data[10:20, 5:9], np.moveaxis(stack[::-1, 10:20, 5:9], 0, -1))
    window, mask = s.preview_object([ONLY_IN_1], [1])
    expected = segment(stack[::-1], [ONLY_IN_1], [1], channel_axis=0)
    full = np.zeros(SHAPE, bool)
    full[window] = mask
    np.testing.assert_array_equal(full, expected)
    entry = [e for e in s.history() if e["action"] == "set_assist_image_layers"][-1]
    assert entry["params"] == {"layers": ["GFP", "DAPI"]}


def test_layers_of_another_grid_are_not_channels(cells_taxonomy):
    stack = _stack()
    s = _session(cells_taxonomy, list(stack))
    s.layers["img [1]"].translate = (0, 5)
    data, ch, _ = s.assist_image()
    assert data is s.layers["img"].data and ch is None
    with pytest.raises(AssistError, match="translate") as err:
        s.set_assist_image_layers(["img", "img [1]"])
    assert err.value.field == "translate" and "img [1]" in str(err.value)
    assert s.assist_image_layers is None  # unchanged


def test_a_prompt_reads_only_its_window_of_each_channel_layer(cells_taxonomy):
    # 2048 x 2048 per channel, 8 x 8 chunks of 256
    reads: dict[int, set] = {0: set(), 1: set()}

    def channel(c: int) -> da.Array:
        def block(block_info=None):
            info = block_info[None]
            reads[c].add(tuple(info["chunk-location"]))
            (r0, r1), (c0, c1) = info["array-location"]
            out = np.full((r1 - r0, c1 - c0), 20.0, np.float32)
            if c == 1:
                rr, cc = np.ogrid[r0:r1, c0:c1]
                out[(rr - 1000) ** 2 + (cc - 1100) ** 2 <= 144] = 180
            return out

        return da.map_blocks(block, chunks=((256,) * 8, (256,) * 8), dtype=np.float32)

    s = _session(cells_taxonomy, [channel(0), channel(1)])
    reads[0].clear()
    reads[1].clear()
    window, mask = s.preview_object([(1000, 1100)], [1])
    assert mask.sum() > 300 and mask[1000 - window[0].start, 1100 - window[1].start]
    # both channels were read, each only around the prompt (of 64 chunks)
    assert reads[0] and reads[1]
    assert len(reads[0]) <= 9 and len(reads[1]) <= 9


def test_channel_setting_holds_for_every_prompt_without_channel_axis(cells_taxonomy):
    zc = np.zeros((3, 2, *SHAPE), np.float32) + 20
    zc[1, 1][disk(ONLY_IN_1, 11, shape=SHAPE)] = 180
    s = LabelSession(taxonomy=cells_taxonomy)
    s.layers.append(Image(zc, name="zc"))
    s.add_instance_layer(np.zeros((3, *SHAPE), np.int32))
    s.set_active_class("nucleus")
    with pytest.raises(AssistError, match="channel") as err:
        s.assist_click((1, *ONLY_IN_1))
    assert err.value.field == "channel_axis"
    assert s.set_assist_channel_axis(1) == 1 and s.assist_channel_axis == 1
    cand = s.assist_click((1, *ONLY_IN_1))
    expected = segment(zc[1], [ONLY_IN_1], [1], channel_axis=0)
    plane = np.zeros(SHAPE, bool)
    plane[cand.window[1:]] = cand.mask[0]
    np.testing.assert_array_equal(plane, expected)
    s.discard_candidate()
    # an explicit channel_axis still wins; "none" refuses a 4D image on a 3D layer
    assert s.set_assist_channel_axis("none") is None
    with pytest.raises(AssistError, match="'none'"):
        s.assist_click((1, *ONLY_IN_1))
    assert s.assist_click((1, *ONLY_IN_1), channel_axis=1).mask.sum() == expected.sum()
    assert s.set_assist_channel_axis("auto") == "auto"
    with pytest.raises(AssistError, match="axis number"):
        s.set_assist_channel_axis("c")
    assert s.assist_channel_axis == "auto"


def test_wand_fills_over_all_channel_layers(cells_taxonomy):
    from napari_labelsuite.core.assist import wand

    stack = _stack()
    s = _session(cells_taxonomy, list(stack))
    iid = s.wand(ONLY_IN_1, 60.0)
    expected = wand(stack, ONLY_IN_1, 60.0, 1, channel_axis=0)
    assert 300 < expected.sum() < 600  # the disc, not the flat background
    np.testing.assert_array_equal(s.instances.data == iid, expected)


def test_a_model_encodes_the_split_layers_once(cells_taxonomy, tmp_path):
    pytest.importorskip("onnxruntime")
    from tiny_sam import use_tiny_engine

    s = _session(cells_taxonomy, list(_stack()))
    use_tiny_engine(s, tmp_path)
    s.assist_encode()
    runs = s.assist_engine.encoder_runs
    # the layers are one array object while they hold the same data (the encoding's key)
    assert s.assist_image()[0] is s.assist_image()[0]
    assert runs == 4  # 80 x 120 in 64-pixel tiles
    s.assist_click(ONLY_IN_1)
    s.assist_click((40, 30))
    # both clicks decode the stored encoding of the two layers: no tile encoded again
    assert s.assist_engine.encoder_runs == runs and s.candidate.mask.any()
