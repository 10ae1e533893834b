"""Adjudication core: difference overlay, per-object decisions, consensus, decision log."""

from __future__ import annotations

import json

import numpy as np
import pytest

from napari_labelsuite.core.annotation import Box, ImageAnnotation, ObjectInfo
from napari_labelsuite.core.errors import TeamError
from napari_labelsuite.core.qc import majority_vote
from napari_labelsuite.core.team.adjudicate import (
    DecisionLog,
    consensus,
    decide_object,
    difference_map,
)

SHAPE = (40, 40)


def _ann(inst: np.ndarray, classes: dict[int, int], name: str = "img") -> ImageAnnotation:
    return ImageAnnotation(
        name, SHAPE, instances=inst, objects={k: ObjectInfo(c) for k, c in classes.items()}
    )


def _zarr(arr: np.ndarray):
    """``arr`` in an in-memory zarr array of 16 x 16 chunks."""
    import zarr

    z = zarr.create_array(store={}, shape=arr.shape, chunks=(16, 16), dtype=arr.dtype)
    z[:] = arr
    return z


def _lazy(ann: ImageAnnotation) -> ImageAnnotation:
    """``ann`` with its instances in zarr (16 x 16 chunks)."""
    return ImageAnnotation("img", SHAPE, instances=_zarr(ann.instances), objects=ann.objects)


def _pair() -> tuple[ImageAnnotation, ImageAnnotation]:
    """A and B: one shared object drawn a bit differently, one class conflict, one each."""
    a = np.zeros(SHAPE, np.int32)
    b = np.zeros(SHAPE, np.int32)
    a[2:10, 2:10] = 1  # matched with b's 5, B's is 2 columns wider
    b[2:10, 2:12] = 5
    a[20:26, 20:26] = 2  # matched with b's 6, but class 1 vs 2
    b[20:26, 20:26] = 6
    a[30:34, 2:6] = 3  # only in A
    b[30:34, 30:34] = 7  # only in B
    return _ann(a, {1: 1, 2: 1, 3: 1}), _ann(b, {5: 1, 6: 2, 7: 1})


def test_difference_map_codes_each_kind():
    a, b = _pair()
    d = difference_map(a, b)
    assert (d[2:10, 10:12] == 2).all() and (d[2:10, 2:10] == 0).all()  # B's extra columns
    assert (d[20:26, 20:26] == 3).all()
    assert (d[30:34, 2:6] == 1).all() and (d[30:34, 30:34] == 2).all()
    assert int((d > 0).sum()) == 16 + 36 + 16 + 16


def test_difference_of_class_masks_without_instances():
    sa = np.zeros(SHAPE, np.uint8)
    sb = np.zeros(SHAPE, np.uint8)
    sa[0:4, 0:4] = 1
    sb[2:6, 0:4] = 2
    d = difference_map(
        ImageAnnotation("i", SHAPE, semantic=sa), ImageAnnotation("i", SHAPE, semantic=sb)
    )
    assert (d[0:2, 0:4] == 1).all() and (d[2:4, 0:4] == 3).all() and (d[4:6, 0:4] == 2).all()
    assert int((d > 0).sum()) == 24


@pytest.mark.parametrize(
    ("decision", "pixels", "cls"),
    [("accept_a", 64, 1), ("accept_b", 80, 1), ("merge", 80, 1), ("redraw", 0, None)],
)
def test_decide_object_replaces_the_reviewed_object(decision, pixels, cls):
    a, b = _pair()
    reviewed = np.array(a.instances)  # starting point: A's labels
    objs = dict(a.objects)
    d = decide_object(reviewed, objs, a, b, 1, decision, reviewer="rita")
    after = d.edit.apply(reviewed)
    if cls is None:
        assert d.reviewed_id is None and not (after[2:10, 2:12] != 0).any()
        assert d.removed == [1]
    else:
        assert d.reviewed_id == 1  # keeps the replaced id
        assert int((after == 1).sum()) == pixels
        assert d.objects[1].class_id == cls and d.objects[1].reviewer == "rita"
    # nothing else moved
    assert np.array_equal(after[15:], reviewed[15:])
    assert (d.a_id, d.b_id) == (1, 5)


def test_decide_on_b_object_that_a_lacks_adds_it_with_b_class():
    a, b = _pair()
    reviewed = np.array(a.instances)
    d = decide_object(reviewed, dict(a.objects), a, b, 7, "accept_b", source="b")
    after = d.edit.apply(reviewed)
    assert d.reviewed_id == 4 and d.a_id is None and d.b_id == 7
    assert (after[30:34, 30:34] == 4).all() and d.objects[4].class_id == 1
    d2 = decide_object(reviewed, dict(a.objects), a, b, 6, "accept_b", source="b")
    assert d2.objects[2].class_id == 2 and d2.reviewed_id == 2  # the class conflict: B wins


def test_decide_object_bad_input_is_named():
    a, b = _pair()
    rev = np.array(a.instances)
    with pytest.raises(TeamError, match="no object with this id"):
        decide_object(rev, {}, a, b, 99, "merge", names=("ana", "bob"))
    with pytest.raises(TeamError, match="decision must be one of"):
        decide_object(rev, {}, a, b, 1, "keep")
    small = _ann(np.zeros((20, 20), np.int32), {})
    small.shape = (20, 20)
    with pytest.raises(TeamError, match=r"bob's labels have shape \(20, 20\)"):
        decide_object(rev, {}, a, small, 1, "merge", names=("ana", "bob"))


def test_majority_consensus_of_class_masks_is_majority_vote_with_tie_rule():
    rng = np.random.default_rng(0)
    masks = [rng.integers(0, 3, SHAPE).astype(np.uint8) for _ in range(3)]
    anns = {n: ImageAnnotation("i", SHAPE, semantic=m) for n, m in zip("xyz", masks)}
    out = consensus(anns, "majority")
    assert np.array_equal(out.semantic, majority_vote(masks, tie=0))
    tied = consensus(anns, "majority", tie="y")
    no_major = majority_vote(masks, tie=255) == 255
    assert no_major.any()
    assert np.array_equal(tied.semantic[no_major], masks[1][no_major])
    assert np.array_equal(tied.semantic[~no_major], out.semantic[~no_major])


def test_matching_consensus_keeps_objects_found_by_k_annotators():
    a, b = _pair()
    c = np.zeros(SHAPE, np.int32)
    c[2:10, 2:10] = 9  # agrees with A on the first object
    c[30:34, 2:6] = 8  # and finds A's lone object
    anns = {"a": a, "b": b, "c": _ann(c, {9: 1, 8: 1})}
    out = consensus(anns, "matching", min_annotators=2)
    ids = sorted(set(np.unique(out.instances).tolist()) - {0})
    assert len(ids) == 3  # first object (3 votes), class-conflict pair (2), A+C lone (2)
    first = out.instances[2, 2]
    assert int((out.instances == first).sum()) == 64  # 2 of 3 members cover the 8x8
    conflict = out.instances[22, 22]
    assert out.objects[int(conflict)].class_id == 1  # tie 1 vs 2: the first annotator's
    assert out.instances[31, 31] == 0  # only B has it
    all_three = consensus(anns, "matching", min_annotators=3)
    assert len(set(np.unique(all_three.instances).tolist()) - {0}) == 1
    assert out.metadata["consensus"]["min_annotators"] == 2


def test_majority_consensus_of_instances_is_components_of_voted_classes():
    a, b = _pair()
    out = consensus({"a": a, "b": b}, "majority", tie="a")
    # two annotators: every pixel they disagree on is a tie, settled by A
    assert np.array_equal(out.instances > 0, a.instances > 0)
    assert out.semantic is None  # neither had a class mask of its own


def test_box_consensus_averages_matched_boxes():
    la = [Box(0, 0, 10, 10, 1), Box(50, 50, 60, 60, 2)]
    lb = [Box(2, 0, 12, 10, 1)]
    lc = [Box(1, 0, 11, 10, 1), Box(51, 50, 61, 60, 2)]
    anns = {n: ImageAnnotation("i", (100, 100), boxes=bx) for n, bx in zip("abc", (la, lb, lc))}
    out = consensus(anns, "matching", min_annotators=2)
    got = sorted((bx.xyxy, bx.class_id) for bx in out.boxes)
    assert got == [((1.0, 0.0, 11.0, 10.0), 1), ((50.5, 50.0, 60.5, 60.0), 2)]
    assert len(consensus(anns, "matching", min_annotators=3).boxes) == 1


def test_consensus_bad_input():
    a, b = _pair()
    with pytest.raises(TeamError, match="two or more"):
        consensus({"a": a}, "majority")
    with pytest.raises(TeamError, match="method must be one of"):
        consensus({"a": a, "b": b}, "vote")
    with pytest.raises(TeamError, match=r"min_annotators must be in 1\.\.2"):
        consensus({"a": a, "b": b}, "matching", min_annotators=3)
    with pytest.raises(TeamError, match="tie-breaking annotator"):
        consensus({"a": a, "b": b}, "majority", tie="zed")


def test_decision_log_appends_reviewer_and_time(tmp_path):
    log = DecisionLog(tmp_path / "team" / "decisions.jsonl")
    log.append("rita", "img1", "accept_a", object_id=np.int64(3), annotators=["a", "b"])
    log.append("sam", "img2", "consensus", method="matching")
    lines = (tmp_path / "team" / "decisions.jsonl").read_text().splitlines()
    first = json.loads(lines[0])
    assert (
        first["reviewer"] == "rita"
        and first["object_id"] == 3
        and first["time"].endswith("+00:00")
    )
    assert [e["decision"] for e in log.entries()] == ["accept_a", "consensus"]
    (tmp_path / "team" / "decisions.jsonl").write_text(lines[0] + "\n{oops\n")
    with pytest.raises(TeamError, match="line 2"):
        log.entries()


def test_decide_object_on_lazy_zarr_labels_matches_numpy():
    a, b = _pair()
    reviewed = np.array(a.instances)
    want = decide_object(reviewed, dict(a.objects), a, b, 1, "merge")
    la, lb = _lazy(a), _lazy(b)
    got = decide_object(_zarr(reviewed), dict(a.objects), la, lb, 1, "merge")
    assert (
        got.edit.patches[0].region == want.edit.patches[0].region == (slice(2, 10), slice(2, 12))
    )
    assert np.array_equal(got.edit.patches[0].values, want.edit.patches[0].values)
    assert (got.reviewed_id, got.b_id) == (want.reviewed_id, 5)


def test_lazy_difference_map_of_zarr_labels_is_the_eager_one():
    import dask.array as da

    a, b = _pair()
    la, lb = _lazy(a), _lazy(b)
    got = difference_map(la, lb)
    assert isinstance(got, da.Array) and got.chunks[0] == (16, 16, 8)
    assert np.array_equal(got.compute(), difference_map(a, b))
