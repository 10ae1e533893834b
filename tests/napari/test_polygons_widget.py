"""The polygon buttons of the "Object kinds" widget: outlines out, drawn polygons painted in."""

from __future__ import annotations

import numpy as np
import pytest
from pycocotools import mask as mask_utils

from napari_labelsuite.core.annotation import ObjectInfo
from napari_labelsuite.core.taxonomy import Taxonomy


@pytest.fixture
def widget(make_napari_viewer, monkeypatch):
    from napari_labelsuite._widgets import _base
    from napari_labelsuite._widgets.objects import ObjectsWidget

    viewer = make_napari_viewer()
    w = ObjectsWidget(viewer)
    w.session.taxonomy = Taxonomy.from_dict({"classes": [{"id": 1, "name": "cell"}]})
    w.errors = []
    monkeypatch.setattr(_base, "show_error", w.errors.append)
    return w


def test_polygon_buttons_outline_and_paint_back(widget):
    lab = np.zeros((30, 40), np.int32)
    lab[3:9, 2:12] = 1
    widget.session.add_instance_layer(lab.copy(), objects={1: ObjectInfo(1)})
    widget._polygons_from_instances()
    (poly,) = widget.session.layers_of_role("polygons")
    assert widget.status.text() == "1 polygons on 'polygons'"
    poly.add_polygons([np.array([[15.0, 20.0], [15.0, 30.0], [25.0, 30.0], [25.0, 20.0]])])
    widget._polygons_to_instances()
    assert widget.errors == []
    assert widget.status.text() == "polygons painted: 2 objects, 1 new"
    data = widget.session.instances.data
    np.testing.assert_array_equal(data == 1, lab == 1)
    # pycocotools' raster of the square in pixel-edge x, y (pixel centres + 0.5)
    xy = [20.5, 15.5, 30.5, 15.5, 30.5, 25.5, 20.5, 25.5]
    want = mask_utils.decode(mask_utils.merge(mask_utils.frPyObjects([xy], 30, 40))) > 0
    assert want.sum() == 100
    np.testing.assert_array_equal(data == 2, want)


def test_painting_a_self_intersecting_polygon_is_a_notification(widget):
    lab = np.zeros((20, 20), np.int32)
    lab[2:6, 2:6] = 1
    widget.session.add_instance_layer(lab.copy(), objects={1: ObjectInfo(1)})
    widget._polygons_from_instances()
    (poly,) = widget.session.layers_of_role("polygons")
    poly.add_polygons([np.array([[10.0, 10.0], [14.0, 14.0], [10.0, 14.0], [16.0, 10.0]])])
    widget._polygons_to_instances()
    assert len(widget.errors) == 1 and "self-intersecting" in widget.errors[0]
    np.testing.assert_array_equal(widget.session.instances.data, lab)
