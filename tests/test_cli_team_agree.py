"""CLI: agree --by-annotator and adjudicate --consensus on a dataset with team labels."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from napari_labelsuite.cli import main
from napari_labelsuite.core.annotation import ImageAnnotation
from napari_labelsuite.core.dataset import Dataset
from napari_labelsuite.core.team import (
    Assignments,
    assignments_path,
    load_annotator_annotation,
    save_annotator_annotation,
)
from team_data import rect_annotation

SHAPE = (32, 32)


def _ann(key: str, rects: list[tuple], classes: list[int]) -> ImageAnnotation:
    return rect_annotation(key, SHAPE, rects, classes)


RECTS = {
    "ana": [(2, 10, 2, 10), (20, 26, 20, 26)],
    "bob": [(2, 10, 2, 11), (20, 26, 20, 26), (28, 31, 2, 6)],
    "cy": [(2, 10, 3, 10), (12, 16, 12, 16)],
}


@pytest.fixture
def team_folder(tmp_path):
    for i in range(4):
        np.save(tmp_path / f"im{i}.npy", np.zeros(SHAPE, np.uint8))
    ds = Dataset.open(tmp_path)
    items = {
        "im0": ["ana", "bob", "cy"],
        "im1": ["ana", "bob", "cy"],
        "im2": ["ana"],
        "im3": ["bob"],
    }
    assignments_path(ds).parent.mkdir(parents=True)
    Assignments(["ana", "bob", "cy"], items, overlap=0.5, per_image=3).save(assignments_path(ds))
    for i, key in enumerate(("im0", "im1")):
        for who, rects in RECTS.items():
            save_annotator_annotation(ds, i, who, _ann(key, rects, [1] * len(rects)))
    return tmp_path


def test_agree_by_annotator_prints_pairs_and_writes_csv_and_chart(team_folder, tmp_path, capsys):
    out_csv, chart = tmp_path / "pairs.csv", tmp_path / "chart.png"
    rc = main(["agree", str(team_folder), "--by-annotator", "--csv", str(out_csv),
               "--chart", str(chart)])  # fmt: skip
    assert rc == 0
    text = capsys.readouterr().out
    assert "ana vs bob [all]" in text and "2 overlap images" in text
    rows = list(csv.DictReader(out_csv.open()))
    row = next(
        r for r in rows if (r["annotator_a"], r["annotator_b"], r["class"]) == ("ana", "cy", "all")
    )
    fg_a = (_ann("x", RECTS["ana"], [1, 1]).instances > 0).ravel()
    fg_c = (_ann("x", RECTS["cy"], [1, 1]).instances > 0).ravel()
    ref = cohen_kappa_score(np.tile(fg_a, 2), np.tile(fg_c, 2))
    assert float(row["kappa"]) == pytest.approx(ref)
    assert (int(row["tp"]), int(row["fp"]), int(row["fn"])) == (2, 2, 2)
    assert chart.read_bytes()[:4] == b"\x89PNG"


def test_agree_by_annotator_report_has_the_chart(team_folder, tmp_path, capsys):
    page = tmp_path / "team.html"
    assert main(["agree", str(team_folder), "--by-annotator", "--report", str(page)]) == 0
    html = page.read_text()
    assert "<svg" in html and "kappa per pair and class" in html
    doc = json.loads((tmp_path / "team.json").read_text())
    assert len(doc["team_agreement"]["pairs"]) == 6  # 3 pairs x (all, class 1)


def test_agree_by_annotator_json(team_folder, capsys):
    assert main(["agree", str(team_folder), "--by-annotator", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["images"] == ["im0", "im1"]
    assert {(p["annotator_a"], p["annotator_b"]) for p in doc["pairs"]} == {
        ("ana", "bob"),
        ("ana", "cy"),
        ("bob", "cy"),
    }


def test_adjudicate_consensus_writes_reviewed_and_refuses_overwrite(team_folder, capsys):
    rc = main(["adjudicate", str(team_folder), "--consensus", "matching",
               "--min-annotators", "2", "--user", "rita"])  # fmt: skip
    assert rc == 0
    out = capsys.readouterr().out
    assert "im0: 2 objects, 0 boxes" in out and "2 overlap images written" in out
    ds = Dataset.open(team_folder)
    truth = ds.load_annotation(0)
    assert len(truth.objects) == 2  # the first object (3 votes) and the second (ana + bob)
    assert truth.instances[28, 3] == 0 and truth.instances[13, 13] == 0  # one vote each
    assert not ds.has_annotation(2)  # a single-annotator image is left alone
    ana = load_annotator_annotation(ds, 0, "ana")
    assert np.array_equal(ana.instances, _ann("x", RECTS["ana"], [1, 1]).instances)
    log = (ds.annotation_dir / "team" / "decisions.jsonl").read_text().splitlines()
    assert [json.loads(x)["reviewer"] for x in log] == ["rita", "rita"]
    before = ds.sidecar_path(0).read_bytes()
    rc = main(["adjudicate", str(team_folder), "--consensus", "majority"])
    err = capsys.readouterr().err
    assert rc == 1 and "already have a reviewed annotation" in err and "--force" in err
    assert ds.sidecar_path(0).read_bytes() == before
    assert main(["adjudicate", str(team_folder), "--consensus", "majority", "--force"]) == 0


def test_bad_input_one_line_errors(team_folder, tmp_path_factory, capsys):
    assert main(["agree", str(team_folder)]) == 1
    assert "--by-annotator" in capsys.readouterr().err
    lonely = tmp_path_factory.mktemp("lonely")
    np.save(lonely / "a.npy", np.zeros(SHAPE, np.uint8))
    assert main(["agree", str(lonely), "--by-annotator"]) == 1
    assert "no image was labelled by two or more annotators" in capsys.readouterr().err
    assert main(["adjudicate", str(team_folder), "--consensus", "matching",
                 "--min-annotators", "5"]) == 1  # fmt: skip
    assert "min_annotators must be in 1..3" in capsys.readouterr().err
    assert not Dataset.open(team_folder).has_annotation(0)


def test_adjudicate_a_dataset_of_stores(tmp_path, capsys):
    from napari_labelsuite.core.store import MaskStore
    from napari_labelsuite.core.team import open_for_annotator, write_annotator_annotation

    for n in range(2):
        MaskStore.create(tmp_path / f"s{n}.ome.zarr", image=np.zeros(SHAPE, np.uint8)).close()
        for who in ("ana", "bob"):
            with open_for_annotator(str(tmp_path / f"s{n}.ome.zarr"), who) as st:
                write_annotator_annotation(st, who, _ann("s", RECTS[who], [1] * len(RECTS[who])))
    assert main(["adjudicate", str(tmp_path), "--consensus", "matching"]) == 0
    assert "2 overlap images written" in capsys.readouterr().out
    with MaskStore.open(str(tmp_path / "s0.ome.zarr"), "r") as st:
        assert {"instances", "instances.ana", "instances.bob"} <= set(st.label_names())
        reviewed = np.asarray(st.labels("instances")[:])
    assert len(set(np.unique(reviewed).tolist()) - {0}) == 2
    assert main(["adjudicate", str(tmp_path), "--consensus", "matching"]) == 1
    assert "already have a reviewed annotation" in capsys.readouterr().err
