"""Polygons layers through the session: agreement by polygon IoU, review, preview."""

from __future__ import annotations

import numpy as np
import pytest
from napari.layers import Image, Shapes

from napari_labelsuite import LabelSession
from napari_labelsuite.core.augment import Pipeline
from napari_labelsuite.core.augment.transforms import VerticalFlip
from napari_labelsuite.core.errors import ObjectKindError, QCError, SessionError

shapely = pytest.importorskip("shapely")

TAX = {"classes": [{"id": 1, "name": "field"}, {"id": 2, "name": "road"}]}
FIELD = np.array([[10.0, 10.0], [50.0, 12.0], [46.0, 40.0], [30.0, 30.0], [12.0, 44.0]])
ROAD = np.array([[60.0, 5.0], [90.0, 5.0], [90.0, 20.0], [60.0, 20.0]])
HOLE = np.array([[20.0, 18.0], [20.0, 26.0], [32.0, 22.0]])


# session: tests/session/conftest.py (a LabelSession with TAX)


def _layers(session: LabelSession) -> tuple[Shapes, Shapes]:
    a = session.add_polygons_layer(
        [
            {"xy": FIELD, "class_id": 1, "instance_id": 1},
            {"xy": HOLE, "class_id": 1, "instance_id": 1, "hole": True},
            {"xy": ROAD, "class_id": 2, "instance_id": 2},
        ],
        name="ana",
    )
    b = session.add_polygons_layer(
        [
            {"xy": ROAD + [3.0, 1.0], "class_id": 2, "instance_id": 9},
            {"xy": FIELD * 1.04, "class_id": 1, "instance_id": 4},
            {"xy": np.array([[5.0, 60.0], [20.0, 60.0], [12.0, 75.0]]), "class_id": 1},
        ],
        name="bob",
    )
    return a, b


def test_compare_polygon_layers_matches_objects_by_polygon_iou(session):
    a, b = _layers(session)
    res = session.compare_layers("ana", "bob", iou_threshold=0.5)
    assert res["kind"] == "polygons"
    m = res["ana vs bob"]
    assert (m["tp"], m["fp"], m["fn"]) == (2, 1, 0)
    # ana's field (shape 0, its hole is shape 1) matches bob's shape 1; roads 2 <-> 0
    assert m["matched"] == [[0, 1], [2, 0]] and m["unmatched_b"] == [2]
    field_a = shapely.Polygon(FIELD).difference(shapely.Polygon(HOLE))
    field_b = shapely.Polygon(FIELD * 1.04)
    road_a, road_b = shapely.Polygon(ROAD), shapely.Polygon(ROAD + [3.0, 1.0])
    exact = [
        field_a.intersection(field_b).area / field_a.union(field_b).area,
        road_a.intersection(road_b).area / road_a.union(road_b).area,
    ]
    assert m["mean_iou"] == pytest.approx(np.mean(exact), abs=0.02)  # the pixel raster
    res = session.compare_layers(a, b, method="shapely")
    assert res["ana vs bob"]["mean_iou"] == pytest.approx(np.mean(exact), abs=1e-12)
    assert session.history()[-1]["params"]["method"] == "shapely"
    session.layers.append(Image(np.zeros((50, 100), np.uint8), name="img"))  # the shape
    assert session.qc_report()["agreement"]["kind"] == "polygons"


def test_polygon_review_queue_follows_the_status(session):
    a, _ = _layers(session)
    session.set_object_review_status("needs-fix", 2, a, reviewer="eve")
    queue = session.review_queue(a)
    assert [(q["index"], q["class_id"], q["status"]) for q in queue] == [
        (0, 1, "todo"),
        (1, 1, "todo"),
        (2, 2, "needs-fix"),
    ]


def test_bad_polygon_comparisons_are_named_errors(session):
    a, b = _layers(session)
    with pytest.raises(QCError, match="method"):
        session.compare_layers(a, b, method="clipper")
    bent = np.array([[0.0, 0.0], [12.0, 10.0], [12.0, 0.0], [0.0, 5.0]])  # a bow tie
    session.add_polygons_layer([{"xy": FIELD, "class_id": 1}], name="c")
    session.layers["c"].data = [bent[:, ::-1] - 0.5]
    with pytest.raises(ObjectKindError, match="self-intersecting"):
        session.compare_layers(a, "c")
    with pytest.raises(SessionError, match="kind"):
        session.compare_layers(a, b, kind="outlines")


def test_headless_preview_flips_polygons_with_the_image(session):
    session.layers.append(Image(np.zeros((80, 100), np.uint8), name="img"))
    _layers(session)
    session.set_augment_object_layer("polygons", "bob")
    preview = session.augment_preview(Pipeline([VerticalFlip(p=1)]), n=1, show=False)
    _, ann, diag = preview.variants[0]
    assert diag.polygons_kept == [0, 1, 2]
    np.testing.assert_allclose(ann.polygons[1].ring.xy[:, 1], 80 - FIELD[:, 1] * 1.04)
    assert [p.instance_id for p in ann.polygons] == [9, 4, 0]
    # a polygon outside the previewed window is not taken
    preview = session.augment_preview(Pipeline([]), n=1, show=False, window=(0, 40, 0, 100))
    assert [p.instance_id for p in preview.variants[0][1].polygons] == [9, 4]
    # False leaves the polygons out
    preview = session.augment_preview(Pipeline([]), n=1, show=False, polygons=False)
    assert preview.variants[0][1].polygons == []
