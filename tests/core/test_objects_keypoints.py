"""Keypoints and skeletons: validation, flips with left/right swaps, OKS against pycocotools."""

from __future__ import annotations

import numpy as np
import pytest

from napari_labelsuite.core.errors import ObjectKindError
from napari_labelsuite.core.objects import (
    COCO_PERSON_SIGMAS,
    Keypoints,
    Skeleton,
    check_keypoints,
    flip_keypoints,
    match_keypoints,
    oks,
)

SKEL = Skeleton(
    names=["nose", "left_eye", "right_eye", "left_hand", "right_hand"],
    edges=[(0, 1), (0, 2), (1, 3), (2, 4)],
    flip_pairs=[(1, 2), (3, 4)],
)


def _coco_oks(gt: np.ndarray, dt: np.ndarray, area: np.ndarray, sigmas: np.ndarray) -> np.ndarray:
    """pycocotools' own computeOks on an in-memory dataset."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    k = gt.shape[1]
    coco = COCO()
    coco.dataset = {
        "images": [{"id": 1, "width": 200, "height": 200}],
        "categories": [{"id": 1, "name": "p", "keypoints": [str(i) for i in range(k)]}],
        "annotations": [
            {"id": i + 1, "image_id": 1, "category_id": 1, "iscrowd": 0, "area": float(area[i]),
             "bbox": [0, 0, 10, 10], "keypoints": gt[i].ravel().tolist(),
             "num_keypoints": int((gt[i, :, 2] > 0).sum())}
            for i in range(len(gt))
        ],
    }  # fmt: skip
    coco.createIndex()
    dets = coco.loadRes(
        [{"image_id": 1, "category_id": 1, "keypoints": d.ravel().tolist(),
          "score": 1.0 - j * 1e-3} for j, d in enumerate(dt)]
    )  # fmt: skip
    ev = COCOeval(coco, dets, "keypoints")
    ev.params.kpt_oks_sigmas = sigmas
    ev.params.imgIds = [1]
    ev._prepare()
    return np.asarray(ev.computeOks(1, 1))  # (D, G)


def test_oks_matches_pycocotools() -> None:
    pytest.importorskip("pycocotools")
    rng = np.random.default_rng(0)
    g, d, k = 4, 5, 17
    gt = np.concatenate([rng.uniform(0, 200, (g, k, 2)), rng.integers(0, 3, (g, k, 1))], -1)
    dt = gt[rng.integers(0, g, d)].copy()
    dt[..., :2] += rng.normal(0, 4, (d, k, 2))
    dt[..., 2] = 2
    area = rng.uniform(500, 5000, g)
    ref = _coco_oks(gt, dt, area, COCO_PERSON_SIGMAS)
    np.testing.assert_allclose(oks(gt, dt, area, COCO_PERSON_SIGMAS), ref.T, atol=1e-12)


def test_match_keypoints_pairs_the_right_objects() -> None:
    sig = np.full(5, 0.05)
    base = np.array([[10, 10, 2], [8, 8, 2], [12, 8, 2], [5, 20, 1], [15, 20, 2]], float)
    gt = [Keypoints(base, 0), Keypoints(base + [50, 0, 0], 0), Keypoints(base, 1)]
    pred = [
        Keypoints(base + [50.5, 0.5, 0], 0),  # near gt 1
        Keypoints(base + [0.3, 0, 0], 0),  # near gt 0
        Keypoints(base + [0, 0, 0], 0, plane=(2,)),  # other plane: unmatched
    ]
    ma, mb, v = match_keypoints(gt, pred, areas=[200, 200, 200], sigmas=sig, oks_threshold=0.5)
    assert (ma.tolist(), mb.tolist()) == ([0, 1], [1, 0])
    assert np.all(v > 0.5)
    with pytest.raises(ObjectKindError, match="one area"):
        match_keypoints(gt, pred, areas=[1.0], sigmas=sig)


def test_flip_swaps_left_and_right_and_mirrors_x() -> None:
    xyv = np.array([[10, 5, 2], [8, 4, 2], [12, 4, 1], [0, 0, 0], [15, 9, 2]], float)
    out = flip_keypoints(xyv, SKEL, width=20)
    # left_eye <- mirrored right_eye, left_hand <- mirrored right_hand (which is unlabelled)
    np.testing.assert_array_equal(out, [[10, 5, 2], [8, 4, 1], [12, 4, 2], [5, 9, 2], [0, 0, 0]])
    # flipping twice gives the original back
    np.testing.assert_array_equal(flip_keypoints(out, SKEL, width=20), xyv)


def test_flip_agrees_with_flipping_the_image() -> None:
    img = np.zeros((6, 9), int)
    img[2, 1] = 7  # keypoint 1 (left_eye) sits on this pixel's centre
    xyv = np.zeros((5, 3))
    xyv[1] = [1.5, 2.5, 2]
    out = flip_keypoints(xyv, SKEL, width=img.shape[1])
    x, y = np.floor(out[2, :2]).astype(int)  # it is now the right eye
    assert np.flip(img, axis=1)[y, x] == 7


@pytest.mark.parametrize(
    ("xyv", "n", "match"),
    [
        (np.zeros((4, 3)), 5, "defines 5 keypoints, got 4"),
        ([[1, 2, 3]] * 5, 5, "visibility must be 0, 1 or 2"),
        ([[1, 2, 0.5]] * 5, 5, "visibility must be 0, 1 or 2"),
        ([[np.inf, 2, 2]] * 5, 5, "finite"),
        (np.zeros((5, 2)), 5, r"\(K, 3\)"),
    ],
)
def test_bad_keypoints_are_named_errors(xyv: object, n: int, match: str) -> None:
    with pytest.raises(ObjectKindError, match=match):
        check_keypoints(xyv, n, where="objects[3].keypoints")


def test_bad_skeletons_are_named_errors() -> None:
    with pytest.raises(ObjectKindError, match="unique"):
        Skeleton(["a", "a"])
    with pytest.raises(ObjectKindError) as exc:
        Skeleton(["a", "b"], edges=[(0, 2)])
    assert exc.value.where == "edges[0]"
    with pytest.raises(ObjectKindError, match="more than one"):
        Skeleton(["a", "b", "c"], flip_pairs=[(0, 1), (1, 2)])


def test_skeleton_dict_round_trip() -> None:
    assert Skeleton.from_dict(SKEL.to_dict()) == SKEL
