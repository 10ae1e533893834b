"""Pascal VOC from other tools: no <size> (size from the image), 0-based corners."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from napari_labelsuite.core.errors import FormatError
from napari_labelsuite.core.formats import voc
from napari_labelsuite.core.formats._common import ReadReport


def _img(path: Path, w: int, h: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.zeros((h, w, 3), np.uint8)).save(path)


def _roboflow_xml(name: str, xmin: int, ymin: int, xmax: int, ymax: int) -> str:
    return f"""<annotation>
\t<folder></folder>
\t<filename>{name}</filename>
\t<path>{name}</path>
\t<source>
\t\t<database>roboflow.com</database>
\t</source>
\t<size>
\t\t<width>416</width>
\t\t<height>416</height>
\t\t<depth>3</depth>
\t</size>
\t<segmented>0</segmented>
\t<object>
\t\t<name>cat</name>
\t\t<pose>Unspecified</pose>
\t\t<truncated>0</truncated>
\t\t<difficult>0</difficult>
\t\t<occluded>0</occluded>
\t\t<bndbox>
\t\t\t<xmin>{xmin}</xmin>
\t\t\t<xmax>{xmax}</xmax>
\t\t\t<ymin>{ymin}</ymin>
\t\t\t<ymax>{ymax}</ymax>
\t\t</bndbox>
\t</object>
</annotation>
"""


def test_roboflow_zero_based_corners_are_accepted_and_reported(tmp_path):
    (tmp_path / "a_jpg.rf.1.xml").write_text(_roboflow_xml("a_jpg.rf.1.jpg", 0, 35, 120, 200))
    (tmp_path / "b_jpg.rf.2.xml").write_text(_roboflow_xml("b_jpg.rf.2.jpg", 10, 20, 416, 416))
    report = ReadReport()
    anns, tax = voc.read(tmp_path, report=report)
    by = {a.image_name: a for a in anns}
    assert by["a_jpg.rf.1.jpg"].boxes[0].xyxy == (0.0, 35.0, 120.0, 200.0)
    # the whole dataset is read with one convention
    assert by["b_jpg.rf.2.jpg"].boxes[0].xyxy == (10.0, 20.0, 416.0, 416.0)
    assert any("0-based" in n and "1 file" in n for n in report.notes)


def test_one_based_files_stay_one_based(tmp_path):
    (tmp_path / "a.xml").write_text(_roboflow_xml("a.jpg", 1, 35, 120, 200))
    report = ReadReport()
    (ann,), _ = voc.read(tmp_path, report=report)
    assert ann.boxes[0].xyxy == (0.0, 34.0, 120.0, 200.0)
    assert report.notes == []


def test_missing_size_is_taken_from_the_image(tmp_path):
    (tmp_path / "Annotations").mkdir()
    (tmp_path / "Annotations/000005.xml").write_text(
        "<annotation><folder>VOC2007</folder><filename>000005.jpg</filename>"
        "<object><name>chair</name><bndbox><xmin>263</xmin><ymin>211</ymin>"
        "<xmax>324</xmax><ymax>339</ymax></bndbox></object></annotation>"
    )
    _img(tmp_path / "JPEGImages/000005.jpg", 500, 375)
    report = ReadReport()
    (ann,), _ = voc.read(tmp_path, report=report)
    assert ann.shape == (375, 500)
    assert ann.boxes[0].xyxy == (262.0, 210.0, 324.0, 339.0)
    assert any("no <size>" in n for n in report.notes)


def test_missing_size_without_image_is_an_error(tmp_path):
    f = tmp_path / "x.xml"
    f.write_text(
        "<annotation><filename>x.jpg</filename><object><name>a</name><bndbox><xmin>1</xmin>"
        "<ymin>1</ymin><xmax>2</xmax><ymax>2</ymax></bndbox></object></annotation>"
    )
    with pytest.raises(FormatError, match="no image found") as info:
        voc.read(f)
    assert info.value.field == "size"
