"""Assignments: reproducible, balanced, and a hand-edited file is refused by name."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest

from napari_labelsuite.core.errors import TeamError
from napari_labelsuite.core.team import Assignments, validate_annotator

KEYS = [f"img_{i:03d}.png" for i in range(100)]
TEAM = ["alice", "bob", "carol"]


def test_same_inputs_give_the_same_assignment_and_another_seed_another():
    a = Assignments.create(KEYS, TEAM, overlap=0.1, per_image=2, seed=7)
    b = Assignments.create(KEYS, TEAM, overlap=0.1, per_image=2, seed=7)
    c = Assignments.create(KEYS, TEAM, overlap=0.1, per_image=2, seed=8)
    assert a.items == b.items
    assert a.overlap_keys() != c.overlap_keys()


def test_every_image_is_assigned_and_the_overlap_fraction_gets_per_image_annotators():
    a = Assignments.create(KEYS, TEAM, overlap=0.1, per_image=2, seed=0)
    assert list(a.items) == KEYS  # dataset order kept
    sizes = Counter(len(who) for who in a.items.values())
    assert sizes == {1: 90, 2: 10}
    assert len(a.overlap_keys()) == 10
    for key in a.overlap_keys():
        assert len(set(a.annotators_of(key))) == 2


def test_load_is_balanced_for_single_images_overlap_images_and_in_total():
    a = Assignments.create(KEYS, ["a", "b", "c", "d", "e", "f", "g"], overlap=0.23,
                           per_image=3, seed=3)  # fmt: skip
    counts = a.counts()
    for kind in ("total", "single", "overlap"):
        values = [c[kind] for c in counts.values()]
        assert max(values) - min(values) <= 1, (kind, values)
    assert sum(c["overlap"] for c in counts.values()) == 23 * 3
    assert sum(c["single"] for c in counts.values()) == 77


def test_items_of_lists_each_annotators_images_in_dataset_order():
    a = Assignments.create(KEYS[:12], TEAM, overlap=0.25, seed=1)
    for name in TEAM:
        mine = a.items_of(name)
        assert mine == [k for k in KEYS[:12] if name in a.items[k]]
    assert sum(len(a.items_of(n)) for n in TEAM) == 9 + 3 * 2
    with pytest.raises(TeamError, match="not an annotator"):
        a.items_of("mallory")


def test_no_overlap_gives_one_annotator_each():
    a = Assignments.create(KEYS[:10], ["solo"], overlap=0.0)
    assert all(who == ["solo"] for who in a.items.values())
    assert a.overlap_keys() == []


def test_save_and_load_round_trip(tmp_path):
    a = Assignments.create(KEYS, TEAM, overlap=0.1, seed=5)
    p = a.save(tmp_path / "team" / "assignments.json")
    b = Assignments.load(p, keys=KEYS)
    assert b == a
    assert json.loads(p.read_text())["format"] == "labelsuite-assignments"


@pytest.mark.parametrize(
    ("name", "ok"),
    [("alice", True), ("a.b-c_1", True), ("9lives", True), ("", False), (".hidden", False),
     ("a/b", False), ("a b", False), ("x" * 65, False), (None, False), ("é", False)],
)  # fmt: skip
def test_annotator_names(name, ok):
    if ok:
        assert validate_annotator(name) == name
    else:
        with pytest.raises(TeamError, match="annotator name"):
            validate_annotator(name)


@pytest.mark.parametrize(
    ("kwargs", "field", "match"),
    [
        ({"overlap": -0.1}, "overlap", "in \\[0, 1\\]"),
        ({"overlap": 1.5}, "overlap", "in \\[0, 1\\]"),
        ({"overlap": float("nan")}, "overlap", "in \\[0, 1\\]"),
        ({"per_image": 1}, "per_image", "at least 2 annotators"),
        ({"per_image": 4}, "per_image", "larger than the number of annotators"),
        ({"annotators": ["alice", "alice"]}, "annotators", "listed twice"),
        ({"annotators": ["alice", "../bob"]}, "annotator", "annotator name"),
        ({"annotators": []}, "annotators", "at least one"),
    ],
)
def test_bad_parameters_are_named(kwargs, field, match):
    args = {"annotators": TEAM, "overlap": 0.1, "per_image": 2, **kwargs}
    with pytest.raises(TeamError, match=match) as info:
        Assignments.create(KEYS, **args)
    assert info.value.field == field


def _hand_edit(path, edit):
    doc = json.loads(path.read_text())
    edit(doc)
    path.write_text(json.dumps(doc))
    return path.read_bytes()


@pytest.mark.parametrize(
    ("edit", "field", "match"),
    [
        (lambda d: d["items"]["img_000.png"].__setitem__(0, "mallory"), "annotators",
         "unknown annotator"),
        (lambda d: d["items"].__setitem__("ghost.png", ["alice"]), "items",
         "no image of the dataset"),
        (lambda d: d["items"].__setitem__("img_002.png", ["bob", "bob"]), "items",
         "listed twice"),
        (lambda d: d["items"].__setitem__("img_003.png", TEAM), "per_image",
         "per_image = 2"),
        (lambda d: d.__setitem__("annotators", ["alice", "bob", "bob"]), "annotators",
         "listed twice"),
        (lambda d: d.__setitem__("overlap", 2), "overlap", "in \\[0, 1\\]"),
        (lambda d: d.__setitem__("format", "other"), "format", "not an assignments file"),
        (lambda d: d["items"].__setitem__("img_004.png", []), "items", "non-empty list"),
    ],
)  # fmt: skip
def test_a_hand_edited_inconsistent_file_is_refused_by_name_and_left_as_is(
    tmp_path, edit, field, match
):
    p = Assignments.create(KEYS, TEAM, overlap=0.1, seed=0).save(tmp_path / "assignments.json")
    before = _hand_edit(p, edit)
    with pytest.raises(TeamError, match=match) as info:
        Assignments.load(p, keys=KEYS)
    assert info.value.field == field
    assert info.value.path == str(p)
    assert p.read_bytes() == before


def test_images_added_after_the_assignment_are_simply_not_assigned(tmp_path):
    p = Assignments.create(KEYS[:10], TEAM, overlap=0.2, seed=0).save(tmp_path / "a.json")
    a = Assignments.load(p, keys=[*KEYS[:10], "new.png"])
    assert "new.png" not in a.items
    assert a.annotators_of("new.png") == []
    assert sum(len(a.items_of(n)) for n in TEAM) == 8 + 2 * 2


def test_a_file_that_is_not_json_is_a_team_error(tmp_path):
    p = tmp_path / "assignments.json"
    p.write_text("{not json")
    with pytest.raises(TeamError):
        Assignments.load(p)


# -- the command line ------------------------------------------------------------------------
@pytest.fixture
def image_folder(tmp_path):
    import tifffile

    d = tmp_path / "plates"
    d.mkdir()
    for k in range(20):
        tifffile.imwrite(d / f"p{k:02d}.tif", np.zeros((8, 8), np.uint8))
    return d


def test_cli_assign_prints_counts_and_saves_the_assignment(image_folder, capsys):
    from napari_labelsuite.cli import main
    from napari_labelsuite.core.dataset import Dataset
    from napari_labelsuite.core.team import assignments_path

    argv = ["assign", str(image_folder), "--annotators", "a,b,c", "--overlap", "0.2",
            "--per-image", "2", "--seed", "1"]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out.splitlines()
    ds = Dataset.open(image_folder)
    expected = Assignments.create(ds.keys(), ["a", "b", "c"], 0.2, 2, 1)
    saved = Assignments.load(assignments_path(ds), keys=ds.keys())
    assert saved.items == expected.items
    counts = expected.counts()
    assert out[:3] == [
        f"{a}: {c['total']} images ({c['single']} alone, {c['overlap']} shared)"
        for a, c in counts.items()
    ]
    assert out[3].startswith("assign: 20 images, 4 overlap images with 2 annotators each")
    entry = json.loads(ds.provenance_path.read_text().splitlines()[-1])
    assert entry["action"] == "assign" and entry["params"]["overlap_images"] == 4
    # again: the same assignment, next version
    assert main(argv) == 0
    assert Assignments.load(assignments_path(ds)).version == 2


def test_cli_assign_bad_input_is_one_line_and_writes_nothing(image_folder, capsys):
    from napari_labelsuite.cli import main

    before = sorted(p.name for p in image_folder.rglob("*"))
    assert main(["assign", str(image_folder), "--annotators", "a,b", "--overlap", "1.5"]) == 1
    err = capsys.readouterr().err.strip()
    assert err == "error: field 'overlap': overlap must be a fraction in [0, 1] (got 1.5)"
    assert main(["assign", str(image_folder), "--annotators", "a", "--per-image", "2"]) == 1
    assert "larger than the number of annotators" in capsys.readouterr().err
    assert sorted(p.name for p in image_folder.rglob("*")) == before
