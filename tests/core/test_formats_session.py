"""LabelSession.export_annotations / import_annotations on a headless session."""

from __future__ import annotations

import json

import numpy as np
import pytest

from napari_labelsuite import LabelSession
from napari_labelsuite.core.annotation import Box, ObjectInfo
from napari_labelsuite.core.errors import FormatError
from napari_labelsuite.core.taxonomy import Taxonomy


@pytest.fixture
def session(small_cells, cells_taxonomy):
    s = LabelSession(taxonomy=cells_taxonomy)
    labels = np.array(small_cells.instances)
    objects = {int(k): ObjectInfo(1) for k in np.unique(labels) if k}
    s.add_instance_layer(labels, objects=objects)
    s.add_boxes_layer([Box(3, 4, 20, 30, class_id=2)])
    return s


@pytest.mark.parametrize(
    ("fmt", "target"), [("coco", "a.json"), ("masks", "m"), ("voc", "v"), ("yolo", "y")]
)
def test_export_then_import_restores_layers(tmp_path, session, small_cells, fmt, target):
    session.export_annotations(tmp_path / target, fmt, image_name="cells.png")
    fresh = LabelSession()
    layers = fresh.import_annotations(tmp_path / target)
    assert {layer.name for layer in layers} >= {"boxes"}
    assert [b.xyxy for b in fresh.boxes_list()] == [(3.0, 4.0, 20.0, 30.0)]
    assert fresh.taxonomy == session.taxonomy
    if fmt in ("coco", "masks"):
        np.testing.assert_array_equal(fresh.instances.data, small_cells.instances)


def test_export_records_provenance(tmp_path, session):
    session.export_annotations(tmp_path / "a.json")
    entry = session.history()[-1]
    assert entry["action"] == "export_annotations"
    assert entry["params"]["fmt"] == "coco"


def test_bad_import_leaves_layers_and_taxonomy_unchanged(tmp_path, session):
    session.export_annotations(tmp_path / "a.json")
    doc = json.loads((tmp_path / "a.json").read_text())
    doc["categories"] = [{"id": 9, "name": "other"}]
    doc.pop("labelsuite")
    (tmp_path / "a.json").write_text(json.dumps(doc))
    before = [(layer.name, id(layer)) for layer in session.layers]
    tax = session.taxonomy
    with pytest.raises(FormatError, match="category_id is not in categories"):
        session.import_annotations(tmp_path / "a.json")
    assert [(layer.name, id(layer)) for layer in session.layers] == before
    assert session.taxonomy is tax


def test_failed_load_restores_the_taxonomy(tmp_path, session, monkeypatch):
    session.export_annotations(tmp_path / "a.json")
    other = LabelSession(taxonomy=Taxonomy([{"id": 5, "name": "x"}]))
    tax = other.taxonomy

    def boom(*args, **kwargs):
        raise FormatError("cannot show")

    monkeypatch.setattr(other, "load_annotation", boom)
    with pytest.raises(FormatError, match="cannot show"):
        other.import_annotations(tmp_path / "a.json")
    assert other.taxonomy is tax
    assert len(other.layers) == 0


def test_import_picks_image_by_name(tmp_path, session):
    from napari_labelsuite.core import formats

    anns = [session.to_annotation("a.png"), session.to_annotation("b.png")]
    anns[1].boxes = [Box(0, 0, 5, 5, class_id=1)]
    formats.write(tmp_path / "two.json", anns, session.taxonomy)
    fresh = LabelSession()
    fresh.import_annotations(tmp_path / "two.json", index="b.png")
    assert [b.xyxy for b in fresh.boxes_list()] == [(0.0, 0.0, 5.0, 5.0)]


def test_import_of_unknown_image_index_is_an_error(tmp_path, session):
    session.export_annotations(tmp_path / "a.json")
    with pytest.raises(FormatError, match="holds 1 images") as info:
        LabelSession().import_annotations(tmp_path / "a.json", index=3)
    assert info.value.field == "index"
