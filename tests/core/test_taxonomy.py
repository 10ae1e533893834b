"""Taxonomy: files, COCO/YOLO interchange, validation errors, editing, colours."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml

from napari_labelsuite.core.errors import TaxonomyError
from napari_labelsuite.core.taxonomy import AttributeSpec, Taxonomy, parse_color

TREE = [
    {"id": 1, "name": "vehicle", "color": "#ff0000"},
    {"id": 2, "name": "car", "parent": 1, "hotkey": "c", "description": "Any passenger car."},
    {
        "id": 5,
        "name": "sedan",
        "parent": 2,
        "attributes": [
            {"name": "occluded", "kind": "bool"},
            {"name": "colour", "kind": "choice", "choices": ["red", "blue"], "default": "blue"},
        ],
    },
    {"id": 7, "name": "animal"},
    {"id": 8, "name": "dog", "parent": 7, "color": [0, 128, 255]},
]


@pytest.fixture
def tree():
    return Taxonomy(TREE, name="street")


def _write_yaml(path, classes):
    path.write_text(yaml.safe_dump({"name": "t", "classes": classes}))
    return path


# -- round trips -----------------------------------------------------------------------------
def test_yaml_to_json_round_trip_is_equal(tmp_path):
    src = _write_yaml(tmp_path / "classes.yaml", TREE)
    tax = Taxonomy.load(src)
    tax.save(tmp_path / "classes.json")
    again = Taxonomy.load(tmp_path / "classes.json")
    assert again == tax
    assert again.to_dict() == tax.to_dict()
    assert again[5].attributes[1] == AttributeSpec(
        name="colour", kind="choice", choices=["red", "blue"], default="blue"
    )


def test_json_file_holds_classes_in_order(tmp_path, tree):
    tree.save(tmp_path / "t.json")
    data = json.loads((tmp_path / "t.json").read_text())
    assert [c["id"] for c in data["classes"]] == [1, 2, 5, 7, 8]
    assert data["classes"][4]["color"] == "#0080ff"


def test_coco_categories_round_trip_keeps_hierarchy(tree):
    cats = tree.to_coco()
    assert {c["name"]: c["supercategory"] for c in cats}["sedan"] == "vehicle"
    again = Taxonomy.from_coco(cats)
    assert [(c.id, c.name, c.parent) for c in again] == [(c.id, c.name, c.parent) for c in tree]


def test_plain_coco_supercategories_become_parents():
    cats = [
        {"id": 3, "name": "cat", "supercategory": "animal"},
        {"id": 4, "name": "dog", "supercategory": "animal"},
        {"id": 9, "name": "bus", "supercategory": "vehicle"},
    ]
    tax = Taxonomy.from_coco(cats)
    animal, vehicle = tax.by_name("animal"), tax.by_name("vehicle")
    assert tax[3].parent == tax[4].parent == animal.id
    assert tax[9].parent == vehicle.id
    assert {animal.id, vehicle.id} == {10, 11}
    assert tax.to_coco()[0]["supercategory"] == "animal"


def test_yolo_index_mapping_is_explicit(tree):
    assert tree.to_yolo_names() == {0: "vehicle", 1: "car", 2: "sedan", 3: "animal", 4: "dog"}
    assert tree.yolo_index_to_id() == {0: 1, 1: 2, 2: 5, 3: 7, 4: 8}
    assert tree.id_to_yolo_index()[8] == 4


# -- validation: one test per error ------------------------------------------------------------
@pytest.mark.parametrize(
    "classes, entry, fld",
    [
        ([{"id": 1, "name": "a"}, {"id": 1, "name": "b"}], "class 'b'", "id"),
        ([{"id": 1, "name": "a"}, {"id": 2, "name": "a"}], "class 'a'", "name"),
        ([{"id": 0, "name": "zero"}], "class 'zero'", "id"),
        ([{"id": -3, "name": "neg"}], "class 'neg'", "id"),
        ([{"id": 1, "name": "orphan", "parent": 9}], "class 'orphan'", "parent"),
        ([{"id": 1, "name": "bad", "color": "#12345"}], "class 'bad'", "color"),
        ([{"id": 1, "name": "bad", "color": [300, 0, 0]}], "class 'bad'", "color"),
        (
            [{"id": 1, "name": "k", "attributes": [{"name": "size", "kind": "blob"}]}],
            "class 'k' attribute 'size'",
            "kind",
        ),
        (
            [
                {
                    "id": 1,
                    "name": "k",
                    "attributes": [
                        {"name": "c", "kind": "choice", "choices": ["x", "y"], "default": "z"}
                    ],
                }
            ],
            "class 'k' attribute 'c'",
            "default",
        ),
    ],
    ids=[
        "duplicate-id",
        "duplicate-name",
        "zero-id",
        "negative-id",
        "missing-parent",
        "bad-hex",
        "bad-rgb",
        "unknown-kind",
        "choice-default",
    ],
)
def test_validation_error_names_file_entry_and_field(tmp_path, classes, entry, fld):
    path = _write_yaml(tmp_path / "bad.yaml", classes)
    with pytest.raises(TaxonomyError) as info:
        Taxonomy.load(path)
    err = info.value
    assert err.path == str(path)
    assert err.where == entry
    assert err.field == fld
    assert str(path) in str(err) and entry in str(err)


def test_cycle_in_hierarchy_is_reported(tmp_path):
    path = _write_yaml(
        tmp_path / "cycle.yaml",
        [
            {"id": 1, "name": "a", "parent": 3},
            {"id": 2, "name": "b", "parent": 1},
            {"id": 3, "name": "c", "parent": 2},
        ],
    )
    with pytest.raises(TaxonomyError, match="cycle") as info:
        Taxonomy.load(path)
    assert info.value.where == "class 'a'" and info.value.field == "parent"


def test_reparent_into_own_subtree_is_refused_and_rolled_back(tree):
    with pytest.raises(TaxonomyError, match="cycle"):
        tree.reparent("vehicle", "sedan")
    assert tree[1].parent is None and tree[2].parent == 1


def test_failed_save_leaves_old_file_intact(tmp_path, tree, monkeypatch):
    path = tmp_path / "classes.yaml"
    tree.save(path)
    before = path.read_bytes()
    tree.add("bicycle", parent="vehicle")

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("os.replace", boom)
    with pytest.raises(OSError):
        tree.save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["classes.yaml"]


def test_unknown_suffix_is_refused(tmp_path, tree):
    with pytest.raises(TaxonomyError, match="yaml") as info:
        tree.save(tmp_path / "classes.txt")
    assert info.value.field == "suffix"


def test_invalid_yaml_names_the_file(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("classes: [ {id: 1, name: a\n")
    with pytest.raises(TaxonomyError) as info:
        Taxonomy.load(path)
    assert info.value.path == str(path)


# -- editing ------------------------------------------------------------------------------------
def test_add_rename_recolor_emit_events(tree):
    events = []
    tree.connect(lambda ev, **info: events.append((ev, info)))
    lc = tree.add("truck", parent="vehicle")
    tree.rename("truck", "lorry")
    tree.recolor("lorry", "blue")
    assert lc.id == 9 and tree.by_name("lorry").color == (0.0, 0.0, 1.0, 1.0)
    assert [e for e, _ in events] == ["added", "renamed", "recolored"]
    assert events[1][1] == {"id": 9, "old": "truck", "new": "lorry"}


def test_rename_to_existing_name_is_refused(tree):
    with pytest.raises(TaxonomyError, match="duplicate class name"):
        tree.rename("dog", "car")
    assert tree[8].name == "dog"


def test_refused_rename_restores_the_class_object_callers_hold():
    t = Taxonomy([{"id": 1, "name": "a"}, {"id": 2, "name": "b"}])
    held = t[1]
    with pytest.raises(TaxonomyError, match="duplicate class name"):
        t.rename(1, "b")
    assert t[1] is held and held.name == "a"


def test_refused_update_restores_the_class_object_callers_hold(tree):
    held = tree[1]
    with pytest.raises(TaxonomyError, match="cycle"):
        tree.update("vehicle", parent="sedan", description="changed")
    assert tree[1] is held
    assert (held.parent, held.description) == (None, "")


def test_rename_to_a_non_string_is_refused():
    t = Taxonomy([{"id": 1, "name": "a"}])
    with pytest.raises(TaxonomyError) as info:
        t.rename(1, 5)
    assert info.value.field == "name" and info.value.value == 5
    assert t[1].name == "a"


def test_children_and_ancestors(tree):
    assert [c.name for c in tree.children(1)] == ["car"]
    assert [c.name for c in tree.ancestors(5)] == ["car", "vehicle"]
    assert tree.root(5).name == "vehicle"


def test_remove_in_use_needs_remap(tree):
    tree.add_usage_check(lambda cid: cid == 2)
    with pytest.raises(TaxonomyError, match="in use") as info:
        tree.remove("car")
    assert info.value.where == "class 'car'"
    assert 2 in tree
    events = []
    tree.connect(lambda ev, **i: events.append((ev, i)))
    tree.remove("car", remap_to="vehicle")
    assert 2 not in tree and tree[5].parent == 1
    assert events == [("removed", {"id": 2, "remap_to": 1})]


def test_merge_moves_children_without_cycle(tree):
    tree.merge("vehicle", "sedan")
    assert 1 not in tree
    assert tree[2].parent is None and tree[5].parent == 2


def test_missing_colours_are_distinct_and_deterministic():
    classes = [{"id": i, "name": f"c{i}"} for i in range(1, 41)]
    a, b = Taxonomy(classes), Taxonomy(classes)
    colors = [c.color for c in a]
    assert colors == [c.color for c in b]
    assert len(set(colors)) == 40
    # the first ones come from the Okabe-Ito colour-blind-safe palette
    assert a[1].color == parse_color("#E69F00")


def test_colormap_is_direct_label_dict(tree):
    cmap = tree.colormap()
    assert set(cmap) == {None, 0, 1, 2, 5, 7, 8}
    np.testing.assert_allclose(cmap[1], [1, 0, 0, 1])
    assert cmap[0][3] == 0


@pytest.mark.parametrize(
    "value, expected",
    [
        ("#00ff00", (0.0, 1.0, 0.0, 1.0)),
        ("red", (1.0, 0.0, 0.0, 1.0)),
        ([0, 0, 255], (0.0, 0.0, 1.0, 1.0)),
        ((0.5, 0.5, 0.5, 0.5), (0.5, 0.5, 0.5, 0.5)),
    ],
)
def test_parse_color(value, expected):
    assert parse_color(value) == pytest.approx(expected)


def test_attribute_coercion():
    spec = AttributeSpec("occluded", "bool")
    assert spec.coerce("yes") is True
    with pytest.raises(TaxonomyError) as info:
        AttributeSpec("n", "int").coerce("many")
    assert info.value.field == "n"
