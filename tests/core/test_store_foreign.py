"""OME-Zarr label images from other writers: a channel axis in the labels (bioformats2raw,
IDR), and image-label properties without class_id (ome-zarr-py's "class", free-form keys)."""

from __future__ import annotations

import numpy as np
import pytest
import zarr
from ome_zarr.format import FormatV04, FormatV05
from ome_zarr.io import parse_url
from ome_zarr.reader import Reader
from ome_zarr.writer import write_image, write_labels

from napari_labelsuite.core.errors import StoreError
from napari_labelsuite.core.store import MaskStore


def _labels(c: int = 1) -> np.ndarray:
    lab = np.zeros((1, c, 3, 32, 40), np.uint16)
    lab[0, 0, :, 5:10, 5:12] = 1
    lab[0, 0, 1:, 20:30, 20:35] = 2
    return lab


def _idr_store(path, props, fmt=FormatV04, c: int = 1) -> None:
    root = zarr.open_group(path, mode="w", zarr_format=2 if fmt is FormatV04 else 3)
    img = np.random.default_rng(0).integers(0, 255, (1, 2, 3, 32, 40), dtype=np.uint8)
    write_image(img, root, axes="tczyx", fmt=fmt(), scale_factors=())
    meta = {"properties": props} if props else None
    write_labels(
        _labels(c),
        root,
        name="cells",
        axes="tczyx",
        fmt=fmt(),
        scale_factors=(),
        label_metadata=meta,
    )
    if fmt is FormatV05:  # ome-zarr-py 0.21 leaves the labels group without a version
        g = root["labels"]
        ome = dict(g.attrs["ome"])
        ome["version"] = "0.5"
        g.attrs["ome"] = ome


@pytest.mark.parametrize("fmt", [FormatV04, FormatV05])
def test_labels_with_a_channel_axis_open_for_editing(tmp_path, fmt):
    path = tmp_path / "idr.ome.zarr"
    _idr_store(path, [{"label-value": 1, "class": "nucleus"}], fmt)
    store = MaskStore.open(path, "r+")
    try:
        assert store.axes == "tzyx" and store.shape == (1, 3, 32, 40)
        ann = store.read_annotation()
        np.testing.assert_array_equal(np.asarray(ann.instances), _labels()[:, 0])
        assert any("singleton channel axis" in n for n in store.notes)
        ann.instances[0, 2, 0:2, 0:3] = 7
        store.save()
    finally:
        store.close()
    # the file keeps its tczyx layout, and ome-zarr-py's own reader sees the edit
    nodes = list(Reader(parse_url(str(path / "labels" / "cells")))())
    data = np.asarray(nodes[0].data[0])
    assert data.shape == (1, 1, 3, 32, 40)
    expected = _labels()
    expected[0, 0, 2, 0:2, 0:3] = 7
    np.testing.assert_array_equal(data, expected)


def test_multichannel_labels_are_refused_with_the_axes(tmp_path):
    path = tmp_path / "two.ome.zarr"
    _idr_store(path, None, FormatV04, c=2)
    with pytest.raises(StoreError, match="2 channels") as info:
        MaskStore.open(path, "r")
    assert info.value.field == "axes" and info.value.value == "tczyx"


def test_class_names_from_ome_zarr_py_class_key(tmp_path):
    path = tmp_path / "a.ome.zarr"
    props = [
        {"label-value": 1, "class": "nucleus"},
        {"label-value": 2, "class": "cytoplasm", "area": 12.5},
    ]
    _idr_store(path, props)
    store = MaskStore.open(path, "r")
    ann = store.read_annotation()
    assert store.taxonomy.names() == ["nucleus", "cytoplasm"]
    assert {
        k: (store.taxonomy[o.class_id].name, o.attributes) for k, o in ann.objects.items()
    } == {
        1: ("nucleus", {}),
        2: ("cytoplasm", {"area": 12.5}),
    }
    assert any("'class' property" in n for n in store.notes)
    store.close()


def test_free_form_class_keys(tmp_path):
    path = tmp_path / "b.ome.zarr"
    _idr_store(
        path,
        [
            {"label-value": 1, "cell_type": "T cell", "score": 0.9},
            {"label-value": 2, "cell_type": "B cell"},
        ],
    )
    store = MaskStore.open(path, "r")
    ann = store.read_annotation()
    assert store.taxonomy.names() == ["T cell", "B cell"]
    assert ann.objects[1].attributes == {"score": 0.9}
    store.close()


def test_properties_without_class_say_so(tmp_path):
    path = tmp_path / "c.ome.zarr"
    _idr_store(path, [{"label-value": 1, "area": 3}])
    store = MaskStore.open(path, "r")
    ann = store.read_annotation()
    assert ann.instances is not None and ann.objects == {}
    assert any("no property names a class" in n for n in store.notes)
    store.close()


def test_validate_says_what_was_inferred(tmp_path, capsys):
    from napari_labelsuite.cli import main

    path = tmp_path / "idr.ome.zarr"
    _idr_store(path, [{"label-value": 1, "class": "nucleus"}, {"label-value": 2, "class": "rim"}])
    assert main(["validate", str(path)]) == 0
    out = capsys.readouterr().out
    assert "2 instances" in out and "singleton channel axis" in out and "'class' property" in out
