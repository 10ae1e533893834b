"""Fixtures of the headless session tests."""

from __future__ import annotations

import pytest

from napari_labelsuite import LabelSession
from napari_labelsuite.core.taxonomy import Taxonomy


@pytest.fixture
def session(request: pytest.FixtureRequest) -> LabelSession:
    """A fresh :class:`LabelSession` with the taxonomy of the test module's ``TAX`` dict.

    A module that needs another session defines its own ``session`` fixture (it wins).
    """
    s = LabelSession()
    s.taxonomy = Taxonomy.from_dict(request.module.TAX)
    return s
