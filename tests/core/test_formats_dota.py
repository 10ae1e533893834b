"""DOTA labelTxt: exact round trips (property tests), headers, repairs and named errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from napari_labelsuite.core.annotation import ImageAnnotation
from napari_labelsuite.core.errors import FormatError
from napari_labelsuite.core.formats import dota
from napari_labelsuite.core.formats._common import ReadReport
from napari_labelsuite.core.objects import RotatedBox, rbox_to_corners
from napari_labelsuite.core.taxonomy import Taxonomy

TAX = Taxonomy([{"id": 1, "name": "plane"}, {"id": 2, "name": "small-vehicle"}])

rbox = st.builds(
    RotatedBox,
    st.floats(0, 500),
    st.floats(0, 400),
    st.floats(0.5, 100),
    st.floats(0.5, 100),
    st.floats(-179.9, 180),
    class_id=st.sampled_from([1, 2]),
    difficult=st.booleans(),
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(boxes=st.lists(rbox, max_size=6))
def test_round_trip_is_exact(tmp_path_factory: pytest.TempPathFactory, boxes: list) -> None:
    root = tmp_path_factory.mktemp("dota")
    ann = ImageAnnotation("a.png", (400, 500), rotated=boxes, metadata={"dota": {"gsd": "0.5"}})
    dota.write(root, [ann], TAX)
    first = (root / "labelTxt" / "a.txt").read_bytes()
    back, tax = dota.read(root, taxonomy=TAX, image_size=(400, 500))
    got = back[0].rotated
    assert [(b.class_id, b.difficult) for b in got] == [(b.class_id, b.difficult) for b in boxes]
    if boxes:  # 6 decimals: corners within half a micro-pixel, the fitted box within 2
        want = rbox_to_corners([b.xywha for b in boxes])
        np.testing.assert_allclose([b.corners() for b in got], want, rtol=0, atol=5.1e-7)
        np.testing.assert_allclose(
            rbox_to_corners([b.xywha for b in got]), want, rtol=0, atol=2e-6
        )
    assert back[0].metadata == {"dota": {"gsd": "0.5"}}
    # reading what was written and writing it again gives the same bytes
    dota.write(root, back, tax)
    assert (root / "labelTxt" / "a.txt").read_bytes() == first


def test_reads_a_dota_file_with_headers_and_images(tmp_path: Path) -> None:
    from PIL import Image

    (tmp_path / "labelTxt").mkdir()
    (tmp_path / "images").mkdir()
    Image.fromarray(np.zeros((30, 40), np.uint8)).save(tmp_path / "images" / "P0001.png")
    (tmp_path / "labelTxt" / "P0001.txt").write_text(
        "imagesource:GoogleEarth\ngsd:0.146\n"
        "10 5 20 5 20 10 10 10 plane 0\n"
        "30 10 35 15 30 20 25 15 small-vehicle 1\n"
    )
    anns, tax = dota.read(tmp_path)
    assert tax.names() == ["plane", "small-vehicle"]
    (ann,) = anns
    assert ann.shape == (30, 40) and ann.image_name == "P0001.png"
    assert ann.metadata["dota"] == {"imagesource": "GoogleEarth", "gsd": "0.146"}
    a, b = ann.rotated
    np.testing.assert_allclose(a.xywha, (15, 7.5, 10, 5, 0))
    assert (a.class_id, a.difficult) == (1, False)
    np.testing.assert_allclose(b.xywha, (30, 15, np.hypot(5, 5), np.hypot(5, 5), 45))
    assert (b.class_id, b.difficult) == (2, True)


def test_skewed_quadrilateral_is_repaired_with_a_note(tmp_path: Path) -> None:
    (tmp_path / "labelTxt").mkdir()
    (tmp_path / "labelTxt" / "x.txt").write_text("0 0 4 0 4 2 0.5 2 plane 0\n")
    rep = ReadReport()
    anns, _ = dota.read(tmp_path, image_size=(10, 10), report=rep)
    np.testing.assert_allclose(anns[0].rotated[0].xywha, (2, 1, 4, 2, 0), atol=1e-12)
    assert any("minimum-area rectangle" in n for n in rep.notes)


@pytest.mark.parametrize(
    ("row", "match", "field"),
    [
        ("1 2 3 4 5 6 plane 0", "8 corner values", "values"),
        ("1 2 3 4 5 6 7 plane 0", "corners must be numbers", None),
        ("0 0 4 0 4 2 0 2 plane 2", "difficult must be 0 or 1", "difficult"),
        ("0 0 1 1 2 2 3 3 plane 0", "degenerate", None),
        ("0 0 4 0 4 2 0 2 ship 0", "not in the taxonomy", "category"),
    ],
)
def test_bad_rows_are_named_errors(tmp_path: Path, row: str, match: str, field: str) -> None:
    (tmp_path / "labelTxt").mkdir()
    f = tmp_path / "labelTxt" / "x.txt"
    f.write_text(row + "\n")
    with pytest.raises(FormatError, match=match) as exc:
        dota.read(tmp_path, taxonomy=TAX, image_size=(10, 10))
    assert exc.value.path == str(f)
    if field is not None:
        assert exc.value.field == field


def test_missing_image_size_is_a_named_error(tmp_path: Path) -> None:
    (tmp_path / "labelTxt").mkdir()
    (tmp_path / "labelTxt" / "x.txt").write_text("0 0 4 0 4 2 0 2 plane 0\n")
    with pytest.raises(FormatError, match="image size unknown"):
        dota.read(tmp_path)
