"""QC session methods on a headless LabelSession: checks, review status, agreement, report."""

from __future__ import annotations

import json

import numpy as np
import pytest

from napari_labelsuite import LabelSession
from napari_labelsuite.core.annotation import Box, ObjectInfo
from napari_labelsuite.core.errors import SessionError
from napari_labelsuite.core.qc import cohen_kappa


@pytest.fixture
def session(cells_taxonomy):
    return LabelSession(taxonomy=cells_taxonomy, user="ana")


@pytest.fixture
def inst():
    a = np.zeros((40, 40), np.int32)
    a[2:8, 2:8] = 1
    a[20:30, 20:30] = 2
    a[32:38, 2:8] = 3  # no class: planted
    return a


def test_run_checks_finds_planted_defect_and_is_recorded(session, inst):
    session.add_instance_layer(inst, objects={1: ObjectInfo(1), 2: ObjectInfo(1)})
    found = session.run_checks()
    assert [(f.check, f.instance_id) for f in found] == [("unclassified", 3)]
    assert session.history()[-1]["action"] == "run_checks"


def test_finding_status_is_stored_in_layer_features(session, inst):
    layer = session.add_instance_layer(inst, objects={1: ObjectInfo(1), 2: ObjectInfo(1)})
    session.run_checks(min_area=50)  # object 1 (36 px) is tiny
    tiny = next(i for i, f in enumerate(session.findings) if f.check == "tiny")
    session.set_finding_status(tiny, "needs-fix")
    row = layer.features.set_index("index").loc[1]
    assert (row["status"], row["reviewer"]) == ("needs-fix", "ana")
    assert session.to_annotation().objects[1].status == "needs-fix"
    assert session.findings[tiny].status == "needs-fix"


def test_box_review_status(session):
    layer = session.add_boxes_layer([Box(0, 0, 4, 4, class_id=1), Box(5, 5, 9, 9, class_id=2)])
    session.set_review_status("approved", box_index=1, reviewer="bo")
    assert layer.features["status"].tolist() == ["todo", "approved"]
    assert layer.features["reviewer"].tolist()[1] == "bo"
    assert session.review_summary()["boxes"] == {"todo": 1, "approved": 1}


def test_unknown_status_raises(session, inst):
    session.add_instance_layer(inst, objects={1: ObjectInfo(1)})
    with pytest.raises(SessionError, match="status"):
        session.set_review_status("done", instance_id=1)


def test_compare_semantic_layers_adds_disagreement_and_consensus(session, small_cells):
    a = np.array(small_cells.semantic)
    b = a.copy()
    b[:16] = 0
    la = session.add_semantic_layer(a, name="ann1")
    lb = session.add_semantic_layer(b, name="ann2")
    res = session.compare_layers(la, lb)
    assert res["ann1 vs ann2"]["kappa"] == pytest.approx(cohen_kappa(a, b))
    np.testing.assert_array_equal(session.layers["disagreement"].data, (a != b).astype(np.uint8))
    assert session.layers["consensus"].metadata["labelsuite"]["role"] == "semantic"


def test_compare_instance_layers_flags_unmatched(session, inst):
    la = session.add_instance_layer(inst, name="first", objects={1: ObjectInfo(1)})
    other = np.where(inst == 3, 0, inst)
    session.add_instance_layer(other, name="second")
    res = session.compare_layers(la, "second")
    assert res["first vs second"]["table"]["fn"].tolist()[0] == 1
    dis = session.layers["disagreement"].data
    assert set(np.unique(dis[inst == 3])) == {2} and not dis[inst != 3].any()


def test_export_report_writes_json_and_html(session, inst, tmp_path):
    session.add_instance_layer(inst, objects={1: ObjectInfo(1), 2: ObjectInfo(1)})
    session.run_checks()
    json_path, html_path = session.export_qc_report(tmp_path / "qc.html")
    data = json.loads(json_path.read_text())
    assert data["summary"] == {"unclassified": 1, "class_imbalance": 1}
    assert [r["instance_id"] for r in data["findings"]][0] == 3
    assert "<svg" in html_path.read_text()


def test_dataset_check_reports_unlabeled_images(session, tmp_path):
    import tifffile

    d = tmp_path / "imgs"
    d.mkdir()
    for name in ("a.tif", "b.tif", "c.tif"):
        tifffile.imwrite(d / name, np.zeros((16, 20), np.uint8))
    session.open_dataset(d)  # shows a.tif
    inst = np.zeros((16, 20), np.int32)
    inst[2:8, 2:8] = 1
    session.add_instance_layer(inst, objects={1: ObjectInfo(1)})
    session.goto(2)  # saves a.tif's labels, shows c.tif (nothing labelled)
    found = session.check_dataset()
    assert [(f.check, f.image) for f in found if f.check == "unlabeled_image"] == [
        ("unlabeled_image", "b.tif"),
        ("unlabeled_image", "c.tif"),
    ]
    assert session.qc_report()["classes"].set_index("class")["objects"]["nucleus"] == 1
