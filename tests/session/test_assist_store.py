"""Assist on an opened mask store whose labels are too large to edit whole: the click is on
the translated edit region and the object lands at its place in the store."""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi
from skimage.draw import disk

from napari_labelsuite import LabelSession
from napari_labelsuite.core.assist import segment
from napari_labelsuite.core.store import MaskStore

SHAPE = (600, 700)
CENTRE = (420, 510)  # inside the edit region, far from the store's origin


def _image() -> np.ndarray:
    img = np.full(SHAPE, 20, np.uint16)
    img[disk(CENTRE, 14, shape=SHAPE)] = 200
    img[disk((100, 100), 12, shape=SHAPE)] = 180
    return ndi.gaussian_filter(img, 1.0)


def test_click_on_the_edit_region_writes_the_object_into_the_store(tmp_path, cells_taxonomy):
    path = tmp_path / "big.ome.zarr"
    st = MaskStore.create(path, image=_image(), chunks=(128, 128))
    st.taxonomy = cells_taxonomy
    st.create_labels("cells", dtype="uint32")
    st.save()
    st.close()
    s = LabelSession(taxonomy=cells_taxonomy)
    # labels over 4 KiB get an overview and a 256 x 256 region around the given centre
    s.open_store(str(path), max_in_memory=4096, region=(256, 256))
    layer = s.edit_region("cells", center=CENTRE, size=(256, 256))
    origin = np.asarray(layer.translate, int)
    assert layer.data.shape == (256, 256) and origin.any()
    s.set_active_class("nucleus")
    s.assist_click(np.asarray(CENTRE) - origin)  # the region layer's own pixels
    iid = s.accept_candidate()
    s.save_store()
    s.close_store()
    with MaskStore.open(path) as st2:
        stored = st2.labels("cells")[:]
        image = np.asarray(st2.image_levels()[0])
    expected = segment(image, [CENTRE], [1])
    np.testing.assert_array_equal(stored == iid, expected)
    assert stored[CENTRE] == iid and int((stored > 0).sum()) == int(expected.sum())
