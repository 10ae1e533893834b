"""Shared fixtures. GUI tests live in tests/napari and use napari's make_napari_viewer."""

from __future__ import annotations

import pytest

from napari_labelsuite.core.synthetic import NUCLEI_CLASSES, make_cells_2d
from napari_labelsuite.core.taxonomy import Taxonomy


@pytest.fixture(scope="session")
def cells_2d():
    """The 1024 x 1024 synthetic sample with ground truth (read-only: copy before editing)."""
    sample = make_cells_2d()
    for arr in (sample.image, sample.instances, sample.semantic, sample.cells):
        arr.flags.writeable = False
    return sample


@pytest.fixture(scope="session")
def small_cells():
    """A 256 x 256 synthetic sample for fast tests (read-only)."""
    sample = make_cells_2d((256, 256), seed=3)
    for arr in (sample.image, sample.instances, sample.semantic, sample.cells):
        arr.flags.writeable = False
    return sample


@pytest.fixture
def cells_taxonomy():
    """The nucleus / cytoplasm taxonomy of the synthetic samples."""
    return Taxonomy(NUCLEI_CLASSES, name="cells")
