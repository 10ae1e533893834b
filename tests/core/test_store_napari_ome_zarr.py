"""Stores we write open in napari-ome-zarr (its reader called directly, no viewer needed)."""

from __future__ import annotations

import numpy as np
import pytest
import zarr

from napari_labelsuite.core.annotation import ObjectInfo
from napari_labelsuite.core.store import MaskStore
from napari_labelsuite.core.synthetic import NUCLEI_CLASSES
from napari_labelsuite.core.taxonomy import Taxonomy

napari_ome_zarr_reader = pytest.importorskip("napari_ome_zarr._reader")

CASES = [
    pytest.param("0.5", 2, id="ngff0.5-2d"),
    pytest.param("0.4", 2, id="ngff0.4-2d"),
    pytest.param("0.5", 3, id="ngff0.5-3d"),
    pytest.param("0.4", 3, id="ngff0.4-3d"),
]


def _masks(small_cells, ndim: int) -> tuple[np.ndarray, np.ndarray]:
    """Semantic and instance masks: the 2D sample, or 3 shifted planes of it in 3D."""
    sem, inst = np.asarray(small_cells.semantic), np.asarray(small_cells.instances)
    if ndim == 2:
        return sem, inst.astype(np.uint32)
    sem3 = np.stack([np.roll(sem, 7 * k, axis=1) for k in range(3)])
    inst3 = np.stack([np.roll(inst, 7 * k, axis=1) for k in range(3)]).astype(np.uint32)
    return sem3, inst3


def _write(path, small_cells, taxonomy, ngff: str, ndim: int, with_image: bool = True):
    sem, inst = _masks(small_cells, ndim)
    image = None
    if with_image:
        image = small_cells.image[0] if ndim == 2 else np.stack([small_cells.image[0]] * 3)
    chunks = (64, 64) if ndim == 2 else (1, 64, 64)
    ids = [int(i) for i in np.unique(inst) if i]
    objects = {i: ObjectInfo(1 + i % 2, {"dividing": i % 3 == 0}) for i in ids}
    with MaskStore.create(path, shape=sem.shape, chunks=chunks, image=image, ngff=ngff) as st:
        st.taxonomy = taxonomy
        st.create_labels("semantic", dtype="uint8", role="semantic")[...] = sem
        st.create_labels("instances", dtype="uint32", role="instances")[...] = inst
        st.set_objects("instances", objects)
        st.save()
        n_levels = st.n_levels
    return sem, inst, objects, n_levels


@pytest.fixture(scope="module")
def written(tmp_path_factory, small_cells):
    """``written(ngff, ndim, with_image)`` -> (path, semantic, instances, objects, n_levels).

    Each store is written once per module; the tests only read it.
    """
    cache: dict[tuple, tuple] = {}
    tax = Taxonomy(NUCLEI_CLASSES, name="cells")

    def get(ngff: str, ndim: int, with_image: bool = True):
        key = (ngff, ndim, with_image)
        if key not in cache:
            path = tmp_path_factory.mktemp("nz") / "c.ome.zarr"
            cache[key] = (path, *_write(path, small_cells, tax, ngff, ndim, with_image))
        return cache[key]

    return get


def _read(path) -> dict[str, tuple]:
    reader = napari_ome_zarr_reader.napari_get_reader(str(path))
    assert reader is not None
    return {props["name"]: (data, props, kind) for data, props, kind in reader()}


@pytest.mark.parametrize(("ngff", "ndim"), CASES)
def test_label_layers_hold_what_we_wrote(written, ngff, ndim):
    path, sem, inst, _, n_levels = written(ngff, ndim)
    layers = _read(path)
    for name, expected in (("semantic", sem), ("instances", inst)):
        data, props, kind = layers[name]
        assert kind == "labels"
        assert len(data) == n_levels
        assert data[0].dtype == expected.dtype
        np.testing.assert_array_equal(np.asarray(data[0]), expected)
        assert list(props["scale"]) == [1.0] * ndim


@pytest.mark.parametrize(("ngff", "ndim"), CASES)
def test_semantic_colors_and_class_names_come_from_the_taxonomy(
    written, cells_taxonomy, ngff, ndim
):
    path = written(ngff, ndim)[0]
    _, props, _ = _read(path)["semantic"]
    cmap = props["colormap"]
    assert sorted(cmap) == [0, *cells_taxonomy.ids()]
    for cls in cells_taxonomy:
        np.testing.assert_allclose(cmap[cls.id], cls.color, atol=0.5 / 255)
    feats = props["features"]
    assert dict(zip(feats["label_value"], feats["class"])) == {
        c.id: c.name for c in cells_taxonomy
    }


@pytest.mark.parametrize(("ngff", "ndim"), CASES)
def test_instance_features_carry_class_and_attributes(written, cells_taxonomy, ngff, ndim):
    path, _, _, objects, _ = written(ngff, ndim)
    _, props, _ = _read(path)["instances"]
    feats = props["features"]
    assert list(feats["label_value"]) == sorted(objects)
    expected_class = {i: cells_taxonomy[o.class_id].name for i, o in objects.items()}
    assert dict(zip(feats["label_value"], feats["class"])) == expected_class
    assert dict(zip(feats["label_value"], feats["attributes"])) == {
        i: o.attributes for i, o in objects.items()
    }


@pytest.mark.parametrize(("ngff", "ndim"), CASES)
def test_image_layer_holds_the_stored_image(written, small_cells, ngff, ndim):
    path = written(ngff, ndim)[0]
    data, _, kind = _read(path)["image"]
    assert kind == "image"
    expected = small_cells.image[0] if ndim == 2 else np.stack([small_cells.image[0]] * 3)
    np.testing.assert_array_equal(np.asarray(data[0]), expected)


@pytest.mark.parametrize(("ngff", "ndim"), CASES)
def test_store_without_image_opens_and_validates(written, ngff, ndim):
    import ome_zarr_models

    path, sem, inst, _, _ = written(ngff, ndim, with_image=False)
    ome_zarr_models.open_ome_zarr(zarr.open_group(str(path), mode="r"))  # raises when invalid
    layers = _read(path)
    np.testing.assert_array_equal(np.asarray(layers["semantic"][0][0]), sem)
    np.testing.assert_array_equal(np.asarray(layers["instances"][0][0]), inst)
    st = MaskStore.open(path)
    assert not st.has_image
    assert st.image_levels() == []


def test_placeholder_image_stores_no_chunk(tmp_path):
    path = tmp_path / "p.ome.zarr"
    with MaskStore.create(path, shape=(256, 256), chunks=(64, 64), n_levels=3) as st:
        st.create_labels("a")[0:10, 0:10] = 1
        st.save()
    root_files = {
        str(p.relative_to(path))
        for p in path.rglob("*")
        if p.is_file() and "labels" not in p.parts
    }
    assert root_files == {"zarr.json", "0/zarr.json", "1/zarr.json", "2/zarr.json"}


def test_layer_tuples_build_napari_labels_layers(written, cells_taxonomy):
    from napari.layers import Labels

    path, sem, _, _, _ = written("0.5", 2)
    data, props, _ = _read(path)["semantic"]
    layer = Labels(data, multiscale=True, **props)
    np.testing.assert_allclose(layer.colormap.map(2), cells_taxonomy[2].color, atol=0.5 / 255)
    assert list(layer.features["class"]) == ["nucleus", "cytoplasm"]
    assert layer.data[0].shape == sem.shape
