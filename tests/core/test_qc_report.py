"""QC report export: JSON data plus an HTML or Markdown page with tables and a chart."""

from __future__ import annotations

import json

import numpy as np
import pytest

from napari_labelsuite.core.annotation import ImageAnnotation
from napari_labelsuite.core.errors import QCError
from napari_labelsuite.core.qc import agreement, svg_bar_chart, write_report


@pytest.fixture
def report(small_cells, cells_taxonomy):
    sem = np.array(small_cells.semantic)
    other = sem.copy()
    other[:20] = 0
    anns = [
        ImageAnnotation("a", sem.shape, semantic=sem, instances=small_cells.instances),
        ImageAnnotation("b", sem.shape, semantic=other, instances=small_cells.instances),
    ]
    return {"title": "QC of cells", **agreement(anns, cells_taxonomy)}


def test_json_holds_the_numbers(report, tmp_path):
    json_path, _ = write_report(report, tmp_path / "qc.html")
    data = json.loads(json_path.read_text())
    sem = data["semantic"]["a vs #1"]
    assert sem["kappa"] == pytest.approx(report["semantic"]["a vs #1"]["kappa"])
    assert [r["class"] for r in sem["table"]] == ["background", "nucleus", "cytoplasm"]
    assert data["instances"]["#1"]["table"][0]["f1"] == 1.0


def test_html_page_has_class_table_and_chart(report, tmp_path):
    _, page = write_report(report, tmp_path / "qc.html")
    text = page.read_text()
    assert page.suffix == ".html" and "<svg" in text and "IoU per class" in text
    assert "<td>cytoplasm</td>" in text


def test_markdown_page_links_its_chart(report, tmp_path):
    _, page = write_report(report, tmp_path / "qc.md")
    text = page.read_text()
    assert "| class_id | class |" in text and "![per-class chart](qc_chart.svg)" in text
    assert (tmp_path / "qc_chart.svg").read_text().startswith("<svg")


def test_bar_widths_are_proportional():
    svg = svg_bar_chart(["a", "b"], [1.0, 0.5], width=480)
    assert 'width="280.0"' in svg and 'width="140.0"' in svg


def test_missing_folder_raises_naming_it(report, tmp_path):
    with pytest.raises(QCError, match="does not exist"):
        write_report(report, tmp_path / "nope" / "qc.html")
