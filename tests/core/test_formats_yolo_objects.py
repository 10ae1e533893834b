"""YOLO-OBB and YOLO-pose: exact round trips (property tests) and named errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from napari_labelsuite.core.annotation import ImageAnnotation
from napari_labelsuite.core.errors import FormatError
from napari_labelsuite.core.formats import yolo
from napari_labelsuite.core.formats.yolo_objects import write_obb, write_pose
from napari_labelsuite.core.objects import Keypoints, RotatedBox, Skeleton, rbox_to_corners
from napari_labelsuite.core.taxonomy import Taxonomy

TAX = Taxonomy([{"id": 1, "name": "ship"}, {"id": 2, "name": "plane"}])
SKEL = Skeleton(["nose", "left", "right"], edges=[(0, 1), (0, 2)], flip_pairs=[(1, 2)])
H, W = 60, 80
SETTINGS = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _dataset(root: Path) -> None:
    (root / "images" / "train").mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.zeros((H, W), np.uint8)).save(root / "images" / "train" / "a.png")


# rotated boxes whose corners stay inside the image (YOLO values are in [0, 1])
rbox = st.builds(
    lambda cx, cy, w, h, a, c: RotatedBox(cx, cy, w, h, a, class_id=c),
    st.floats(20, 60),
    st.floats(20, 40),
    st.floats(0.5, 25),
    st.floats(0.5, 25),
    st.floats(-179.9, 180),
    st.sampled_from([1, 2]),
)


@SETTINGS
@given(boxes=st.lists(rbox, min_size=1, max_size=5))
def test_obb_round_trip_is_exact(tmp_path_factory: pytest.TempPathFactory, boxes: list) -> None:
    root = tmp_path_factory.mktemp("obb")
    _dataset(root)
    write_obb(root, [ImageAnnotation("a.png", (H, W), rotated=boxes)], TAX)
    label = root / "labels" / "train" / "a.txt"
    first = label.read_bytes()
    (ann,), tax = yolo.read(root)
    assert tax.names() == ["ship", "plane"]
    assert [r.class_id for r in ann.rotated] == [b.class_id for b in boxes]
    want = rbox_to_corners([b.xywha for b in boxes])
    np.testing.assert_allclose([r.corners() for r in ann.rotated], want, rtol=0, atol=1e-7)
    np.testing.assert_allclose(
        rbox_to_corners([r.xywha for r in ann.rotated]), want, rtol=0, atol=1e-6
    )
    write_obb(root, [ann], tax)
    assert label.read_bytes() == first


def _kp_strategy() -> st.SearchStrategy:
    def build(pts: list, vis: list, cls: int) -> Keypoints:
        xyv = np.array([[x, y, v] if v else [0, 0, 0] for (x, y), v in zip(pts, vis, strict=True)])
        lab = xyv[xyv[:, 2] > 0, :2]
        lo = lab.min(0) - 1 if len(lab) else np.array([10.0, 10.0])
        hi = lab.max(0) + 1 if len(lab) else np.array([20.0, 20.0])
        return Keypoints(xyv.astype(float), cls, box=(lo[0], lo[1], hi[0], hi[1]))

    pt = st.tuples(st.floats(1, W - 1), st.floats(1, H - 1))
    return st.builds(
        build,
        st.lists(pt, min_size=3, max_size=3),
        st.lists(st.sampled_from([0, 1, 2]), min_size=3, max_size=3),
        st.sampled_from([1, 2]),
    )


@SETTINGS
@given(kps=st.lists(_kp_strategy(), min_size=1, max_size=4))
def test_pose_round_trip_is_exact(tmp_path_factory: pytest.TempPathFactory, kps: list) -> None:
    root = tmp_path_factory.mktemp("pose")
    _dataset(root)
    write_pose(root, [ImageAnnotation("a.png", (H, W), keypoints=kps)], TAX, SKEL)
    label = root / "labels" / "train" / "a.txt"
    first = label.read_bytes()
    data = (root / "data.yaml").read_text()
    assert "kpt_shape:\n- 3\n- 3\n" in data and "flip_idx:\n- 0\n- 2\n- 1\n" in data
    (ann,), tax = yolo.read(root)
    assert [k.class_id for k in ann.keypoints] == [k.class_id for k in kps]
    for got, want in zip(ann.keypoints, kps, strict=True):
        np.testing.assert_array_equal(got.xyv[:, 2], want.xyv[:, 2])
        np.testing.assert_allclose(got.xyv, want.xyv, rtol=0, atol=1e-7)
        np.testing.assert_allclose(got.box, want.box, rtol=0, atol=1e-7)
    write_pose(root, [ann], tax, SKEL)
    assert label.read_bytes() == first


def test_pose_keypoint_count_must_fit_the_skeleton(tmp_path: Path) -> None:
    kp = Keypoints(np.zeros((2, 3)), 1, box=(1, 1, 5, 5))
    with pytest.raises(FormatError, match="defines 3 keypoints, got 2"):
        write_pose(tmp_path, [ImageAnnotation("a.png", (H, W), keypoints=[kp])], TAX, SKEL)
    assert not (tmp_path / "data.yaml").exists()  # nothing half-written


@pytest.mark.parametrize(
    ("row", "match"),
    [
        ("0 0.5 0.5 0.2 0.2 0.1 0.1 2 0.2 0.2 2", "needs 4 box values and 3 keypoints"),
        ("0 0.5 0.5 0.2 0.2 0.1 0.1 2 0.2 0.2 5 0.3 0.3 1", "visibility must be 0, 1 or 2"),
        ("0 0.5 0.5 0.2 0.2 0.1 0.1 2 0.2 1.5 2 0.3 0.3 1", r"must lie in \[0, 1\]"),
    ],
)
def test_bad_pose_rows_are_named_errors(tmp_path: Path, row: str, match: str) -> None:
    _dataset(tmp_path)
    (tmp_path / "data.yaml").write_text(
        "train: images/train\nval: images/train\nkpt_shape: [3, 3]\nnames: [ship]\n"
    )
    (tmp_path / "labels" / "train").mkdir(parents=True)
    (tmp_path / "labels" / "train" / "a.txt").write_text(row + "\n")
    with pytest.raises(FormatError, match=match) as exc:
        yolo.read(tmp_path)
    assert exc.value.where is not None and exc.value.where.startswith("line 1")


def test_bad_kpt_shape_is_a_named_error(tmp_path: Path) -> None:
    _dataset(tmp_path)
    (tmp_path / "data.yaml").write_text("train: images/train\nkpt_shape: [3, 4]\nnames: [a]\n")
    with pytest.raises(FormatError, match="kpt_shape") as exc:
        yolo.read(tmp_path)
    assert exc.value.field == "kpt_shape"


def test_degenerate_obb_row_is_a_named_error(tmp_path: Path) -> None:
    _dataset(tmp_path)
    (tmp_path / "data.yaml").write_text("train: images/train\nnames: [a]\n")
    (tmp_path / "labels" / "train").mkdir(parents=True)
    (tmp_path / "labels" / "train" / "a.txt").write_text("0 0.1 0.1 0.2 0.2 0.3 0.3 0.4 0.4\n")
    with pytest.raises(FormatError, match="degenerate") as exc:
        yolo.read(tmp_path)
    assert exc.value.path is not None and exc.value.path.endswith("a.txt")
