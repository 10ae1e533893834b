"""COCO keypoints: round trips (property test), pycocotools reads what we write, errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from napari_labelsuite.core.annotation import ImageAnnotation
from napari_labelsuite.core.errors import FormatError
from napari_labelsuite.core.formats import coco_keypoints
from napari_labelsuite.core.objects import Keypoints, Skeleton
from napari_labelsuite.core.taxonomy import Taxonomy

SK = {
    "names": ["nose", "left_eye", "right_eye"],
    "edges": [[0, 1], [0, 2]],
    "flip_pairs": [[1, 2]],
}
TAX = Taxonomy([{"id": 3, "name": "person", "keypoints": SK}, {"id": 7, "name": "cat"}])


def _kps() -> st.SearchStrategy:
    def build(pts: list, vis: list, box: tuple) -> Keypoints:
        xyv = np.array([[x, y, v] if v else [0, 0, 0] for (x, y), v in zip(pts, vis, strict=True)])
        x0, y0, bw, bh = box
        return Keypoints(xyv.astype(float), 3, box=(x0, y0, x0 + bw, y0 + bh))

    f = st.floats(0, 100)
    return st.builds(
        build,
        st.lists(st.tuples(f, f), min_size=3, max_size=3),
        st.lists(st.sampled_from([0, 1, 2]), min_size=3, max_size=3),
        st.tuples(f, f, st.floats(1, 50), st.floats(1, 50)),
    )


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(kps=st.lists(_kps(), max_size=4))
def test_round_trip(tmp_path_factory: pytest.TempPathFactory, kps: list) -> None:
    f = tmp_path_factory.mktemp("coco") / "kp.json"
    coco_keypoints.write(f, [ImageAnnotation("a.png", (120, 160), keypoints=kps)], TAX)
    (ann,), tax = coco_keypoints.read(f)
    assert tax == TAX and tax[3].skeleton == TAX[3].skeleton
    assert ann.shape == (120, 160)
    for got, want in zip(ann.keypoints, kps, strict=True):
        np.testing.assert_array_equal(got.xyv, want.xyv)  # exact
        np.testing.assert_allclose(got.box, want.box, rtol=1e-12, atol=1e-12)
    first = json.loads(f.read_text())
    coco_keypoints.write(f, [ann], tax)
    again = json.loads(f.read_text())
    for a, b in zip(first["annotations"], again["annotations"], strict=True):
        assert a["keypoints"] == b["keypoints"] and a["num_keypoints"] == b["num_keypoints"]
        np.testing.assert_allclose(a["bbox"], b["bbox"], rtol=1e-12, atol=1e-12)
    assert first["categories"] == again["categories"]


def test_pycocotools_reads_what_we_write(tmp_path: Path) -> None:
    from pycocotools.coco import COCO

    xyv = np.array([[10, 10, 2], [8, 9, 1], [0, 0, 0]], float)
    kp = Keypoints(xyv, 3, box=(5, 5, 15, 20))
    f = tmp_path / "kp.json"
    coco_keypoints.write(f, [ImageAnnotation("a.png", (30, 40), keypoints=[kp])], TAX)
    coco = COCO(str(f))
    (a,) = coco.loadAnns(coco.getAnnIds())
    assert a["keypoints"] == [10, 10, 2, 8, 9, 1, 0, 0, 0]
    assert a["num_keypoints"] == 2 and a["bbox"] == [5, 5, 10, 15]
    cat = coco.loadCats(3)[0]
    assert cat["keypoints"] == SK["names"] and cat["skeleton"] == [[1, 2], [1, 3]]


def test_flip_pairs_are_found_by_name_in_plain_coco_files(tmp_path: Path) -> None:
    f = tmp_path / "person.json"
    f.write_text(json.dumps({
        "images": [{"id": 1, "file_name": "p.jpg", "height": 10, "width": 10}],
        "annotations": [],
        "categories": [{"id": 1, "name": "person", "keypoints": [
            "nose", "left_eye", "right_eye", "left_ear", "right_ear"], "skeleton": [[1, 2]]}],
    }))  # fmt: skip
    _, tax = coco_keypoints.read(f)
    assert tax[1].skeleton == Skeleton(
        ["nose", "left_eye", "right_eye", "left_ear", "right_ear"], [(0, 1)], [(1, 2), (3, 4)]
    )


@pytest.mark.parametrize(
    ("kp", "n", "match"),
    [
        ([1, 1, 2, 2, 2, 2], 2, "defines 3 keypoints, got 2"),
        ([1, 1, 2, 2, 2, 3, 0, 0, 0], 2, "visibility must be 0, 1 or 2"),
        ([1, 1, 2, 2, 2, 2, 0, 0, 0], 1, "num_keypoints disagrees"),
    ],
)
def test_bad_keypoints_are_named_errors(tmp_path: Path, kp: list, n: int, match: str) -> None:
    f = tmp_path / "bad.json"
    f.write_text(json.dumps({
        "images": [{"id": 1, "file_name": "p.jpg", "height": 10, "width": 10}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 3, "keypoints": kp,
                         "num_keypoints": n, "bbox": [0, 0, 5, 5]}],
        "categories": [{"id": 3, "name": "person", "keypoints": SK["names"]}],
    }))  # fmt: skip
    with pytest.raises(FormatError, match=match) as exc:
        coco_keypoints.read(f)
    assert exc.value.path == str(f)
    assert exc.value.where is not None and exc.value.where.startswith("annotations[0]")


def test_keypoints_of_a_class_without_skeleton_are_refused(tmp_path: Path) -> None:
    kp = Keypoints(np.zeros((3, 3)), 7, box=(0, 0, 1, 1))
    with pytest.raises(FormatError, match="skeleton"):
        coco_keypoints.write(
            tmp_path / "x.json", [ImageAnnotation("a.png", (5, 5), keypoints=[kp])], TAX
        )
    assert not (tmp_path / "x.json").exists()
