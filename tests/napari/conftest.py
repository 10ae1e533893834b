"""Fixtures of the GUI tests (napari's ``make_napari_viewer`` under Xvfb)."""

from __future__ import annotations

import pytest

from napari_labelsuite.core.taxonomy import Taxonomy


@pytest.fixture
def objects_widget(make_napari_viewer, monkeypatch, request):
    """The Objects dock on a new viewer, its session with the test module's ``TAX`` taxonomy.

    Error / warning notifications are collected in ``w.errors`` / ``w.warnings``.
    """
    from napari_labelsuite._widgets import _base
    from napari_labelsuite._widgets.objects import ObjectsWidget

    w = ObjectsWidget(make_napari_viewer())
    w.session.taxonomy = Taxonomy.from_dict(request.module.TAX)
    w.errors, w.warnings = [], []
    monkeypatch.setattr(_base, "show_error", w.errors.append)
    monkeypatch.setattr(_base, "show_warning", w.warnings.append)
    return w


@pytest.fixture
def qc_widget(make_napari_viewer, qtbot, request):
    """The Quality control dock on a new viewer with the test module's ``TAX`` taxonomy."""
    from napari_labelsuite._widgets.qc import QualityControlWidget

    w = QualityControlWidget(make_napari_viewer())
    w.session.taxonomy = Taxonomy.from_dict(request.module.TAX)
    yield w
    w.close_bindings()
