"""``napari-labelsuite stats --effort``: the effort table of a dataset from the command line."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile

from napari_labelsuite import LabelSession
from napari_labelsuite import _simulate as sim
from napari_labelsuite.cli import main


@pytest.fixture
def labelled(tmp_path, cells_taxonomy):
    """A two-image dataset where 'ana' drew 3 polygons (4 vertices each) and 2 boxes."""
    root = tmp_path / "plates"
    root.mkdir()
    for k in range(2):
        tifffile.imwrite(root / f"img{k}.tif", np.zeros((48, 48), np.uint16))
    s = LabelSession(taxonomy=cells_taxonomy, user="ana")
    clock = iter(range(1000, 2000, 10))  # an action every 10 s
    s._effort_clock = lambda: float(next(clock))
    s.open_dataset(root)
    s.set_active_class("nucleus")
    for k in range(3):
        y = 5 + 12 * k
        sim.labels_polygon(s.instances, [(y, 5), (y, 15), (y + 8, 15), (y + 8, 5)], label=k + 1)
    boxes = s.add_boxes_layer(ndim=2)
    sim.draw_rectangle(boxes, (2, 20), (10, 30))
    sim.draw_rectangle(boxes, (20, 20), (30, 40))
    s.save_current()
    return root


def test_stats_effort_prints_the_table(labelled, capsys):
    assert main(["stats", str(labelled), "--effort"]) == 0
    out = capsys.readouterr().out
    assert "labeling effort" in out and "effort.jsonl" in out
    rows = {
        line.split()[0]: line.split()
        for line in out.splitlines()
        if line[:3] in ("pol", "box", "all")
    }
    assert rows["polygon"][1:5] == ["ana", "3", "12", "20"]  # first polygon: no time before
    assert rows["box"][1:5] == ["ana", "2", "2", "20"]
    assert rows["all"][2:4] == ["5", "14"]


def test_stats_effort_json_and_plot(labelled, tmp_path, capsys):
    plot = tmp_path / "effort.svg"
    assert main(["stats", str(labelled), "--json", "--effort-plot", str(plot)]) == 0
    doc = json.loads(capsys.readouterr().out)
    table = {r["route"]: r for r in doc["effort"]["table"]}
    assert table["polygon"]["actions_per_object"] == 4.0
    assert table["box"]["seconds_per_object"] == 10.0
    assert doc["effort"]["problems"] == []
    assert plot.read_text().count('class="point"') == 5


def test_stats_effort_reports_bad_lines_and_still_works(labelled, capsys):
    log = labelled / "labelsuite" / "effort.jsonl"
    with open(log, "a") as fh:
        fh.write("{oops\n")
    assert main(["stats", str(labelled), "--effort"]) == 0
    captured = capsys.readouterr()
    assert "effort.jsonl: line 7: line is not JSON" in captured.err
    assert "polygon" in captured.out


def test_stats_effort_without_a_log(tmp_path, capsys):
    root = tmp_path / "empty"
    root.mkdir()
    tifffile.imwrite(root / "a.tif", np.zeros((8, 8), np.uint16))
    assert main(["stats", str(root), "--effort"]) == 0
    assert "no actions logged" in capsys.readouterr().out
