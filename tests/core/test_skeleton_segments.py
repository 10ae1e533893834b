"""skeleton_segments: the skeleton edges to draw between labelled keypoints (pure numpy)."""

from __future__ import annotations

import numpy as np
import pytest

from napari_labelsuite.core.errors import ObjectKindError
from napari_labelsuite.core.objects import Keypoints, Skeleton, skeleton_segments

ARM = Skeleton(["shoulder", "elbow", "wrist"], edges=[(0, 1), (1, 2)])
TRI = Skeleton(["a", "b", "c"], edges=[(0, 1), (1, 2), (2, 0)])


def _loop_reference(sets, skeletons):
    """Edges by a plain loop over sets and edges (the obvious definition)."""
    out = []
    for j, kp in enumerate(sets):
        sk = skeletons.get(kp.class_id)
        if sk is None:
            continue
        for p, q in sk.edges:
            if kp.xyv[p, 2] > 0 and kp.xyv[q, 2] > 0:
                ends = [[*kp.plane, *kp.xyv[i, :2]] for i in (p, q)]
                out.append((kp.class_id, j, tuple(map(tuple, ends))))
    return sorted(out)


def test_edges_join_labelled_keypoints_only():
    xyv = np.array([[1.0, 2.0, 2], [3.0, 4.0, 1], [5.0, 6.0, 0]])
    segs, cls, obj = skeleton_segments([Keypoints(xyv, 1)], {1: ARM})
    # elbow-wrist is dropped: the wrist is not labelled; occluded (1) still joins
    np.testing.assert_array_equal(segs, [[[1.0, 2.0], [3.0, 4.0]]])
    np.testing.assert_array_equal(cls, [1])
    np.testing.assert_array_equal(obj, [0])


def test_classes_without_a_skeleton_draw_nothing_and_objects_stay_apart():
    a = Keypoints(np.array([[0, 0, 2], [1, 1, 2], [2, 2, 2]], float), 1)
    b = Keypoints(np.array([[10, 10, 2], [11, 11, 2], [12, 12, 2]], float), 2)
    c = Keypoints(np.array([[20, 20, 2], [21, 21, 2], [22, 22, 2]], float), 3)
    segs, cls, obj = skeleton_segments([a, b, c], {1: ARM, 2: TRI})
    pairs = sorted(zip(cls.tolist(), obj.tolist(), strict=True))
    assert pairs == [(1, 0), (1, 0), (2, 1), (2, 1), (2, 1)]
    # every segment's ends belong to its own object (no edge crosses objects)
    for s, o in zip(segs, obj, strict=True):
        lo = {0: 0, 1: 10}[int(o)]
        assert (s >= lo).all() and (s <= lo + 2).all()


def test_matches_a_loop_on_random_sets_with_planes():
    rng = np.random.default_rng(0)
    sk = Skeleton([f"k{i}" for i in range(17)],
                  edges=[(i, i + 1) for i in range(16)] + [(0, 16), (3, 9)])  # fmt: skip
    sets = []
    for _ in range(200):
        xyv = np.c_[rng.uniform(0, 100, (17, 2)), rng.integers(0, 3, 17)]
        xyv[xyv[:, 2] == 0, :2] = 0
        sets.append(Keypoints(xyv, int(rng.integers(1, 3)), plane=(int(rng.integers(0, 4)),)))
    skeletons = {1: sk, 2: Skeleton([f"k{i}" for i in range(17)], edges=[(5, 6)])}
    segs, cls, obj = skeleton_segments(sets, skeletons)
    got = sorted(
        (int(c), int(o), tuple(map(tuple, s.tolist())))
        for s, c, o in zip(segs, cls, obj, strict=True)
    )
    want = _loop_reference(sets, skeletons)
    assert len(want) > 500
    assert got == want


def test_rows_of_a_points_layer_per_plane():
    # napari order (plane, row, col); object 0 has its elbow moved to another plane
    coords = np.array([[0, 5, 5], [0, 6, 6], [1, 7, 7], [2, 1, 1], [2, 2, 2], [2, 3, 3]], float)
    objects = np.array([0, 0, 0, 1, 1, 1])
    class_ids = np.full(6, 1)
    keypoint = np.array([0, 1, 2, 2, 1, -1])  # -1: a name the class does not have
    vis = np.array([2, 2, 2, 2, 1, 2])
    segs, cls, obj = skeleton_segments(coords, {1: ARM}, objects=objects, class_ids=class_ids,
                                       keypoint=keypoint, visibility=vis)  # fmt: skip
    # object 0: shoulder-elbow on plane 0 (elbow-wrist crosses planes: not drawn);
    # object 1: elbow (row 4) - wrist (row 3)
    np.testing.assert_array_equal(segs, [[[0, 5, 5], [0, 6, 6]], [[2, 2, 2], [2, 1, 1]]])
    np.testing.assert_array_equal(obj, [0, 1])
    np.testing.assert_array_equal(cls, [1, 1])


def test_empty_and_bad_input():
    segs, cls, obj = skeleton_segments([], {1: ARM})
    assert segs.shape == (0, 2, 2) and cls.shape == obj.shape == (0,)
    with pytest.raises(ObjectKindError, match="one object, class"):
        skeleton_segments(np.zeros((3, 2)), {1: ARM}, objects=[0, 0], class_ids=[1, 1, 1],
                          keypoint=[0, 1, 2], visibility=[2, 2, 2])  # fmt: skip
    with pytest.raises(ObjectKindError, match="visibility"):
        skeleton_segments([Keypoints(np.array([[0, 0, 3.0]] * 3), 1)], {1: ARM})
