"""Session: agreement by annotator and adjudication on a dataset with team labels."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from napari_labelsuite import LabelSession
from napari_labelsuite.core.annotation import ImageAnnotation
from napari_labelsuite.core.dataset import Dataset
from napari_labelsuite.core.errors import SessionError, TeamError
from napari_labelsuite.core.team import (
    Assignments,
    assignments_path,
    load_annotator_annotation,
    save_annotator_annotation,
)
from team_data import rect_annotation

SHAPE = (40, 40)


def _ann(key: str, boxes: list[tuple], classes: list[int]) -> ImageAnnotation:
    return rect_annotation(key, SHAPE, boxes, classes)


A_OBJ = [(2, 10, 2, 10), (20, 26, 20, 26), (30, 34, 2, 6)]
B_OBJ = [(2, 10, 2, 12), (20, 26, 20, 26), (30, 34, 30, 34)]


@pytest.fixture
def team_ds(tmp_path):
    """Three images; img0 and img1 labelled by ana and bob, img2 by ana alone."""
    for i in range(3):
        np.save(tmp_path / f"img{i}.npy", np.full(SHAPE, 10 * i, np.uint8))
    ds = Dataset.open(tmp_path)
    plan = Assignments(
        ["ana", "bob"], {"img0": ["ana", "bob"], "img1": ["bob", "ana"], "img2": ["ana"]},
        overlap=2 / 3, per_image=2,
    )  # fmt: skip
    assignments_path(ds).parent.mkdir(parents=True, exist_ok=True)
    plan.save(assignments_path(ds))
    for i, key in enumerate(("img0", "img1")):
        save_annotator_annotation(ds, i, "ana", _ann(key, A_OBJ, [1, 1, 1]))
        save_annotator_annotation(ds, i, "bob", _ann(key, B_OBJ, [1, 2, 1]))
    save_annotator_annotation(ds, 2, "ana", _ann("img2", A_OBJ, [1, 1, 1]))
    return tmp_path


@pytest.fixture
def session(team_ds):
    s = LabelSession(user="rita")
    s.add_class("cell")
    s.add_class("debris")
    s.open_dataset(team_ds)
    s.goto(0)
    return s


def _semantic(ann):
    lut = np.zeros(int(ann.instances.max()) + 1, np.int64)
    for k, o in ann.objects.items():
        lut[k] = o.class_id
    return lut[ann.instances]


def test_agreement_by_annotator_on_the_overlap_images(session, team_ds, tmp_path):
    res = session.agreement_by_annotator(chart=tmp_path / "chart.svg", csv=tmp_path / "a.csv")
    assert res.images == ("img0", "img1")  # img2 has one annotator
    a = _ann("x", A_OBJ, [1, 1, 1])
    b = _ann("x", B_OBJ, [1, 2, 1])
    ref = cohen_kappa_score(np.tile(_semantic(a).ravel(), 2), np.tile(_semantic(b).ravel(), 2))
    row = res.pair_row("ana", "bob")
    assert row["kappa"] == pytest.approx(ref)
    # per image: the first object matches (IoU 0.8); class 1 vs 2 and the lone ones do not
    assert (row["tp"], row["fp"], row["fn"]) == (2, 4, 4)
    assert res.pair_row("ana", "bob", "cell")["mean_iou"] == pytest.approx(0.8)
    assert ("class", "debris") in {(f["kind"], f["name"]) for f in res.flags}
    assert (tmp_path / "chart.svg").read_text().count("<svg") == 1
    assert (tmp_path / "a.csv").read_text().count("\n") == 1 + len(res.to_rows())
    assert session.history()[-1]["action"] == "agreement_by_annotator"
    assert session.team_agreement is res


def test_unknown_annotator_is_named_and_nothing_written(session, tmp_path):
    with pytest.raises(TeamError, match="unknown annotator.*'zed'"):
        session.agreement_by_annotator(annotators=["ana", "zed"], chart=tmp_path / "c.png")
    assert not (tmp_path / "c.png").exists()
    with pytest.raises(TeamError, match="unknown annotator 'zed'"):
        session.show_annotators("ana", "zed")


def test_other_shape_of_an_annotators_labels_is_refused(session, team_ds):
    from napari_labelsuite.core.dataset import save_sidecar

    ds = Dataset.open(team_ds)
    # written around the shape check, as a hand-copied file would be
    side = ds.annotation_dir / "annotators" / "bob" / "img0.json"
    bad = ImageAnnotation("img0", (20, 20), instances=np.zeros((20, 20), np.int32))
    save_sidecar(bad, side)
    with pytest.raises(TeamError, match=r"bob.*shape.*\(20, 20\)"):
        session.show_annotators("ana", "bob")
    with pytest.raises(TeamError, match=r"bob.*shape.*\(20, 20\)"):
        session.agreement_by_annotator()
    assert "difference ana / bob" not in session.layers


def test_difference_layer_and_side_by_side(session):
    (diff,) = session.show_annotators("ana", "bob", mode="difference")
    assert diff.name == "difference ana / bob"
    assert int((diff.data == 3).sum()) == 36 and int((diff.data == 1).sum()) == 16
    assert int((diff.data == 2).sum()) == 16 + 16
    assert session.adjudication["counts"] == {"only A": 16, "only B": 32, "class differs": 36}
    assert session.object_at((31, 31)) == ("b", 3)  # only bob has an object there
    assert session.object_at((5.2, 4.8)) == ("a", 1)
    assert session.object_at((0, 39)) is None and session.object_at((99, 0)) is None
    layers = session.show_annotators("ana", "bob", mode="side_by_side")
    assert diff not in session.layers  # the previous view is replaced
    names = [ly.name for ly in layers]
    assert names == ["img0 (B)", "ana (A)", "bob (B)"]
    assert tuple(layers[2].translate) == (0.0, 50.0)
    with pytest.raises(TeamError, match="mode must be one of"):
        session.show_annotators("ana", "bob", mode="overlay")


def test_adjudicate_object_is_one_undo_step_logged_everywhere(session, team_ds):
    session.consensus("matching", min_annotators=2)
    layer = session.instances
    layer.undo()  # the consensus is one step too
    assert not layer.data.any() and session.objects() == {}
    layer.redo()
    before = np.array(layer.data)
    assert len(session.objects()) == 2  # the 0.8-IoU pair and the class-conflict pair
    session.show_annotators("ana", "bob", mode="difference")
    d = session.adjudicate_object(3, "accept_b", source="bob")  # bob's lone object
    assert (layer.data[30:34, 30:34] == d.reviewed_id).all()
    assert session.objects()[d.reviewed_id].reviewer == "rita"
    layer.undo()
    assert np.array_equal(layer.data, before)
    assert d.reviewed_id not in session.objects()
    layer.redo()
    assert (layer.data[30:34, 30:34] == d.reviewed_id).all()
    d2 = session.adjudicate_object(2, "accept_a")  # the class conflict: ana's class
    assert session.objects()[d2.reviewed_id].class_id == 1
    entries = [
        json.loads(x)
        for x in (team_ds / "labelsuite" / "team" / "decisions.jsonl").read_text().splitlines()
    ]
    assert [e["decision"] for e in entries] == ["consensus", "accept_b", "accept_a"]
    assert entries[1]["reviewer"] == "rita" and entries[1]["source"] == "bob"
    assert [h["action"] for h in session.history()].count("adjudicate_object") == 2
    table = session.effort(by="action")
    assert {"accept_b", "accept_a", "consensus"} <= set(table["action"])


def test_bad_decision_changes_nothing(session):
    session.show_annotators("ana", "bob")
    before = np.array(session.instances.data)
    with pytest.raises(TeamError, match="no object with this id"):
        session.adjudicate_object(99, "merge")
    with pytest.raises(TeamError, match="decision must be one of"):
        session.adjudicate_object(1, "keep")
    assert np.array_equal(session.instances.data, before)
    session.goto(1)
    with pytest.raises(SessionError, match="show two annotators"):
        session.adjudicate_object(1, "merge")


def test_save_adjudicated_writes_the_dataset_annotation_only(session, team_ds):
    session.consensus("majority", tie="ana")
    path = session.save_adjudicated()
    ds = Dataset.open(team_ds)
    truth = ds.load_annotation(0)
    assert path == str(ds.sidecar_path(0))
    assert np.array_equal(truth.instances > 0, _ann("x", A_OBJ, [1, 1, 1]).instances > 0)
    bob = load_annotator_annotation(ds, 0, "bob")
    assert np.array_equal(bob.instances, _ann("x", B_OBJ, [1, 2, 1]).instances)
    session.goto(2)  # saves on the way: in review mode into the reviewed annotation
    assert not (ds.annotation_dir / "annotators" / "rita").exists()
    with pytest.raises(TeamError, match="fewer than two annotators"):
        session.consensus()


def test_review_mode_shows_the_reviewed_annotation_not_the_annotators(session, team_ds):
    session.set_annotator("ana")
    assert session.objects()  # ana's own labels of img0
    session.review(True)
    assert session.reviewing and not session.team_mode
    assert session.objects() == {} and not session.instances.data.any()  # nothing reviewed yet
    session.review(False)
    assert session.team_mode and len(session.objects()) == 3  # ana's again


def test_qc_report_shows_the_team_agreement_with_its_chart(session, tmp_path):
    res = session.agreement_by_annotator()
    html_path = tmp_path / "qc.html"
    written = session.export_qc_report(html_path)
    page = html_path.read_text()
    assert "team_agreement" in page and "per pair and class" in page  # the chart's title
    assert page.count("<svg") >= 1 and "ana vs bob" in page
    doc = json.loads(written[0].read_text())
    assert "chart_svg" not in doc["team_agreement"]
    assert doc["team_agreement"]["pairs"][0]["kappa"] == pytest.approx(res.pairs[0]["kappa"])
    md = session.export_qc_report(tmp_path / "qc.md")
    assert any(p.name == "qc.md" for p in md)
    assert "chart" in (tmp_path / "qc.md").read_text()


def test_adjudication_of_a_store_writes_its_reviewed_label_images(tmp_path):
    from napari_labelsuite.core.store import MaskStore
    from napari_labelsuite.core.team import open_for_annotator, write_annotator_annotation

    for n in range(2):
        MaskStore.create(tmp_path / f"s{n}.ome.zarr", image=np.zeros(SHAPE, np.uint8)).close()
        for who, rects, classes in (("ana", A_OBJ, [1, 1, 1]), ("bob", B_OBJ, [1, 2, 1])):
            with open_for_annotator(str(tmp_path / f"s{n}.ome.zarr"), who) as st:
                write_annotator_annotation(st, who, _ann("s", rects, classes))
    ds = Dataset.open(tmp_path)
    assignments_path(ds).parent.mkdir(parents=True)
    keys = [item.key for item in ds]
    Assignments(["ana", "bob"], {k: ["ana", "bob"] for k in keys}, overlap=1.0,
                per_image=2).save(assignments_path(ds))  # fmt: skip
    s = LabelSession(user="rita")
    s.add_class("cell")
    s.add_class("debris")
    s.open_dataset(tmp_path)
    s.goto(0)
    assert s.agreement_by_annotator().images == ("s0", "s1")
    (diff,) = s.show_annotators("ana", "bob", mode="difference")
    assert s.adjudication["counts"] is None  # store labels: drawn lazily
    assert int((np.asarray(diff.data) == 3).sum()) == 36
    assert {ly.name for ly in s.layers} >= {"semantic", "instances"}  # the reviewed ones
    assert not any("." in ly.name for ly in s.layers if ly.name in ("instances", "semantic"))
    s.consensus("matching", min_annotators=2)
    d = s.adjudicate_object(3, "accept_b", source="bob")
    s.save_adjudicated()
    s.goto(1)
    with MaskStore.open(str(tmp_path / "s0.ome.zarr"), "r") as st:
        reviewed = np.asarray(st.labels("instances")[:])
        bob = np.asarray(st.labels("instances.bob")[:])
        # rita only looked at s0 in team mode: no label image of hers
        assert st.label_names() == ["instances.ana", "instances.bob", "semantic", "instances"]
    with MaskStore.open(str(tmp_path / "s1.ome.zarr"), "r") as st:  # shown, never edited
        assert st.label_names() == ["instances.ana", "instances.bob"]
    assert (reviewed[30:34, 30:34] == d.reviewed_id).all() and (reviewed[2:10, 2:10] > 0).all()
    assert np.array_equal(bob, _ann("s", B_OBJ, [1, 2, 1]).instances)  # untouched
