import numpy as np
from scipy import ndimage as ndi

from napari_labelsuite.core.synthetic import make_cells_2d, make_cells_3d


def test_cells_2d_is_deterministic_and_has_touching_nuclei():
    a = make_cells_2d((256, 256), seed=7)
    b = make_cells_2d((256, 256), seed=7)
    np.testing.assert_array_equal(a.image, b.image)
    np.testing.assert_array_equal(a.instances, b.instances)
    assert a.image.shape == (2, 256, 256) and a.image.dtype == np.uint16
    # instances are 1..n without gaps
    assert set(np.unique(a.instances)) == set(range(a.n_instances + 1))
    # touching: merging the foreground gives fewer components than instances
    _, n_merged = ndi.label(a.instances > 0)
    assert n_merged < a.n_instances


def test_cells_2d_semantic_matches_instances():
    s = make_cells_2d((256, 256), seed=1)
    np.testing.assert_array_equal(s.semantic == 1, s.instances > 0)
    assert np.all(s.cells[s.instances > 0] == s.instances[s.instances > 0])
    # nuclei are brighter than background in the nuclei channel
    assert s.image[0][s.instances > 0].mean() > 3 * s.image[0][s.semantic == 0].mean()


def test_cells_3d_shape():
    s = make_cells_3d((16, 96, 96), seed=2)
    assert s.image.shape == (2, 16, 96, 96)
    assert s.instances.shape == (16, 96, 96) and s.n_instances > 5
