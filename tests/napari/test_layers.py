"""The session's annotation layers: creation, taxonomy binding, objects, boxes, conversions,
layers <-> ImageAnnotation. Mostly headless sessions (real napari layers, no Qt)."""

from __future__ import annotations

import numpy as np
import pytest

from napari_labelsuite import (
    AnnotationError,
    Box,
    ImageAnnotation,
    LabelSession,
    ObjectInfo,
    SessionError,
    TaxonomyError,
)


@pytest.fixture
def session(cells_taxonomy):
    return LabelSession(taxonomy=cells_taxonomy, user="tester")


def _two_boxes_3d():
    return [
        Box(1, 2, 5, 6, class_id=1, plane=(0,)),
        Box(0, 0, 3, 3, class_id=2, plane=(2,), attributes={"dividing": True}),
    ]


# -- creation and binding -----------------------------------------------------------------------
def test_semantic_layer_gets_taxonomy_colormap_and_features(session):
    layer = session.add_semantic_layer(shape=(8, 8))
    assert type(layer.colormap).__name__ == "DirectLabelColormap"
    np.testing.assert_allclose(layer.get_color(1), session.taxonomy[1].color)
    assert layer.features[["index", "class"]].values.tolist() == [
        [0, "background"],
        [1, "nucleus"],
        [2, "cytoplasm"],
    ]
    assert session.semantic is layer


def test_instance_layer_keeps_class_table(session):
    data = np.array([[0, 1], [2, 2]], dtype=np.int32)
    objects = {1: ObjectInfo(1, {"dividing": True}), 2: ObjectInfo(2)}
    layer = session.add_instance_layer(data, objects=objects)
    assert session.objects(layer) == objects
    assert layer.features.set_index("index").loc[2, "class"] == "cytoplasm"
    # instances are drawn in a shade of their class's colour
    c1, c2 = layer.get_color(1), layer.get_color(2)
    assert c1 is not None and not np.allclose(c1, c2)


def test_instance_layer_rejects_unknown_class(session):
    with pytest.raises(AnnotationError, match="not in the taxonomy") as info:
        session.add_instance_layer(np.zeros((3, 3), np.int32), objects={4: ObjectInfo(9)})
    assert info.value.where == "object 4"
    assert len(session.layers) == 0


def test_boxes_layer_on_3d_keeps_planes_and_attributes(session):
    layer = session.add_boxes_layer(_two_boxes_3d())
    assert layer.ndim == 3
    assert layer.features["class"].tolist() == ["nucleus", "cytoplasm"]
    assert list(layer.text.values) == ["nucleus", "cytoplasm"]
    np.testing.assert_allclose(layer.edge_color[1], session.taxonomy[2].color)
    back = session.boxes_list(layer)
    assert [(b.xyxy, b.plane, b.class_id) for b in back] == [
        ((1.0, 2.0, 5.0, 6.0), (0,), 1),
        ((0.0, 0.0, 3.0, 3.0), (2,), 2),
    ]
    assert back[1].attributes == {"dividing": True}


def test_manage_layer_adopts_sample_classes_layer(session):
    from napari.layers import Labels

    from napari_labelsuite._sample_data import sample_cells_2d

    data, kwargs, _ = sample_cells_2d()[1]
    layer = Labels(data, **kwargs)
    session.manage_layer(layer, "semantic")
    assert session.semantic is layer and layer in session.layers
    assert layer.features["class"].tolist() == ["background", "nucleus", "cytoplasm"]


def test_manage_layer_rejects_wrong_layer_type(session):
    from napari.layers import Shapes

    with pytest.raises(SessionError, match="Labels"):
        session.manage_layer(Shapes(), "semantic")


# -- active class -----------------------------------------------------------------------------
def test_active_class_sets_next_box_class_and_colour(session):
    layer = session.add_boxes_layer(ndim=2)
    session.set_active_class("cytoplasm")
    layer.add_rectangles(np.array([[0, 0], [4, 4]]))
    assert layer.features["class"].tolist() == ["cytoplasm"]
    np.testing.assert_allclose(layer.edge_color[0], session.taxonomy[2].color)
    assert session.boxes_list()[0].class_id == 2


def test_active_class_gives_painted_instance_its_class(session):
    layer = session.add_instance_layer(shape=(10, 10))
    session.set_active_class("nucleus")
    assert layer.selected_label == 1
    layer.paint((5, 5), layer.selected_label)
    assert session.objects(layer)[1].class_id == 1
    session.set_active_class("cytoplasm")
    assert layer.selected_label == 2


def test_class_hotkeys(session):
    assert session.class_hotkeys()["1"] == 1 and session.class_hotkeys()["2"] == 2
    assert session.class_for_key("n") == session.taxonomy.by_name("nucleus").id
    assert session.class_for_key("9") is None


# -- taxonomy changes reach the layers ----------------------------------------------------------
def test_remove_in_use_is_refused_and_changes_nothing(session):
    sem = session.add_semantic_layer(np.array([[0, 1], [2, 2]], np.uint8))
    boxes = session.add_boxes_layer([Box(0, 0, 1, 1, class_id=2)])
    with pytest.raises(TaxonomyError, match="in use"):
        session.taxonomy.remove("cytoplasm")
    assert 2 in session.taxonomy
    np.testing.assert_array_equal(sem.data, [[0, 1], [2, 2]])
    assert boxes.features["class_id"].tolist() == [2]


def test_remove_with_remap_relabels_and_is_undoable(session):
    sem = session.add_semantic_layer(np.array([[0, 1], [2, 2]], np.uint8))
    session.remove_class("cytoplasm", remap_to="nucleus")
    np.testing.assert_array_equal(sem.data, [[0, 1], [1, 1]])
    sem.undo()
    np.testing.assert_array_equal(sem.data, [[0, 1], [2, 2]])


def test_unused_class_can_be_removed(session):
    session.add_semantic_layer(np.ones((2, 2), np.uint8))
    session.remove_class("cytoplasm")
    assert session.taxonomy.names() == ["nucleus"]


def test_merge_relabels_instance_table(session):
    inst = session.add_instance_layer(
        np.array([[1, 2]], np.int32), objects={1: ObjectInfo(1), 2: ObjectInfo(2)}
    )
    session.merge_classes("cytoplasm", "nucleus")
    assert {k: o.class_id for k, o in session.objects(inst).items()} == {1: 1, 2: 1}


def test_new_taxonomy_rebinds_layers(session):
    from napari_labelsuite import Taxonomy

    sem = session.add_semantic_layer(shape=(4, 4))
    session.taxonomy = Taxonomy([{"id": 1, "name": "cell", "color": "#00ff00"}])
    assert sem.features["class"].tolist() == ["background", "cell"]
    np.testing.assert_allclose(sem.get_color(1), [0, 1, 0, 1])


# -- object and box editing -------------------------------------------------------------------
def test_set_box_class_and_attributes_on_selection(session):
    layer = session.add_boxes_layer([Box(0, 0, 2, 2, 1), Box(2, 2, 4, 4, 1)])
    layer.selected_data = {1}
    session.set_box_class("cytoplasm")
    session.set_box_attributes([0], dividing="yes")
    session.set_review_status("approved", box_index=0)
    boxes = session.boxes_list()
    assert [b.class_id for b in boxes] == [1, 2]
    assert boxes[0].attributes == {"dividing": True} and boxes[0].status == "approved"
    assert boxes[1].attributes == {} and boxes[1].status == "todo"
    assert list(layer.text.values) == ["nucleus", "cytoplasm"]


def test_set_box_attribute_unknown_name_is_refused(session):
    session.add_boxes_layer([Box(0, 0, 2, 2, 1)])
    with pytest.raises(TaxonomyError, match="no such attribute") as info:
        session.set_box_attributes([0], colour="red")
    assert info.value.where == "boxes[0]" and info.value.field == "colour"


def test_set_object_class_and_attributes(session):
    layer = session.add_instance_layer(np.array([[0, 3]], np.int32))
    session.set_object_class(3, "nucleus")
    session.set_object_attributes(3, truncated=1)
    assert session.objects(layer) == {3: ObjectInfo(1, {"truncated": True})}
    assert session.history()[-1]["action"] == "set_object_attributes"


# -- conversions and counts --------------------------------------------------------------------
def test_conversion_chain_semantic_instances_boxes(session, small_cells):
    sem = session.add_semantic_layer(small_cells.semantic.copy())
    inst = session.semantic_to_instances(sem)
    boxes = session.instances_to_boxes(inst)
    back = session.instances_to_semantic(inst, name="back")
    np.testing.assert_array_equal(back.data, small_cells.semantic)
    objects = session.objects(inst)
    assert len(boxes.data) == len(objects)
    assert boxes.features["instance_id"].tolist() == sorted(objects)


def test_class_counts(session):
    session.add_semantic_layer(np.array([[0, 1, 1], [2, 2, 2]], np.uint8))
    session.add_instance_layer(
        np.array([[0, 1, 2], [0, 0, 0]], np.int32), objects={1: ObjectInfo(1), 2: ObjectInfo(1)}
    )
    session.add_boxes_layer([Box(0, 0, 1, 1, 2)])
    assert session.class_counts() == {
        1: {"pixels": 2, "instances": 2, "boxes": 0},
        2: {"pixels": 3, "instances": 0, "boxes": 1},
    }


# -- layers <-> ImageAnnotation ------------------------------------------------------------------
def test_annotation_round_trip_3d(session):
    sem = np.zeros((3, 8, 8), np.uint8)
    sem[1, 2:4, 2:6] = 2
    inst = np.zeros((3, 8, 8), np.int32)
    inst[1, 2:4, 2:6] = 5
    ann = ImageAnnotation(
        "stack",
        (3, 8, 8),
        semantic=sem,
        instances=inst,
        objects={5: ObjectInfo(2, {"dividing": False}, status="approved")},
        boxes=_two_boxes_3d(),
    )
    layers = session.load_annotation(ann)
    assert [layer.name for layer in layers] == ["semantic", "instances", "boxes"]
    out = session.to_annotation("stack")
    np.testing.assert_array_equal(out.semantic, sem)
    np.testing.assert_array_equal(out.instances, inst)
    assert out.objects == ann.objects
    assert [b.to_dict() for b in out.boxes] == [b.to_dict() for b in ann.boxes]


def test_load_annotation_is_all_or_nothing(session):
    session.add_semantic_layer(np.ones((4, 4), np.uint8))
    before = [(layer.name, layer.data.copy()) for layer in session.layers]
    bad = ImageAnnotation(
        "img", (4, 4), semantic=np.zeros((4, 4), np.uint8), boxes=[Box(0, 0, 9, 2, 1)]
    )
    with pytest.raises(AnnotationError, match="outside"):
        session.load_annotation(bad)
    assert [(layer.name, layer.data.tolist()) for layer in session.layers] == [
        (n, d.tolist()) for n, d in before
    ]


def test_load_annotation_with_image_and_replace(session):
    session.add_semantic_layer(np.ones((4, 4), np.uint8), name="old")
    ann = ImageAnnotation("pic", (4, 4), semantic=np.full((4, 4), 2, np.uint8))
    session.load_annotation(ann, image=np.zeros((4, 4), np.uint16))
    assert [layer.name for layer in session.layers] == ["pic", "semantic"]
    assert session.image.name == "pic"
    assert session.to_annotation().image_name == "pic"


def test_to_annotation_without_layers_is_an_error(session):
    with pytest.raises(SessionError, match="shape"):
        session.to_annotation()


def test_selected_layer_is_active_in_viewer(make_napari_viewer, cells_taxonomy):
    viewer = make_napari_viewer()
    session = LabelSession.attach(viewer)
    session.taxonomy = cells_taxonomy
    a = session.add_semantic_layer(shape=(4, 4), name="a")
    b = session.add_semantic_layer(shape=(4, 4), name="b")
    viewer.layers.selection.active = a
    assert session.semantic is a
    viewer.layers.selection.active = b
    assert session.semantic is b
