"""Tracking by overlap with divisions, and the Cell Tracking Challenge format."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from napari_labelsuite.core import formats
from napari_labelsuite.core.annotation import ObjectInfo
from napari_labelsuite.core.errors import FormatError, InterpolateError
from napari_labelsuite.core.formats import ctc
from napari_labelsuite.core.interpolate import Track, track_instances


def square(frame, y, x, v, r=3):
    frame[y - r : y + r, x - r : x + r] = v


def constructed_series() -> np.ndarray:
    """A moves and divides at t=2; B stays; C appears at t=3. Ids differ in every frame."""
    lab = np.zeros((4, 40, 60), np.uint16)
    square(lab[0], 10, 10, 5, 4)  # A
    square(lab[0], 30, 40, 9)  # B
    square(lab[1], 10, 12, 1, 4)  # A moved
    square(lab[1], 30, 41, 2)  # B
    square(lab[2], 8, 12, 3, 2)  # daughters of A
    square(lab[2], 13, 12, 4, 2)
    square(lab[2], 30, 41, 7)  # B
    square(lab[3], 7, 12, 1, 2)  # daughter 1
    square(lab[3], 14, 13, 2, 2)  # daughter 2
    square(lab[3], 30, 42, 3)  # B
    square(lab[3], 30, 10, 8)  # C, new
    return lab


def test_links_divisions_and_new_tracks_on_a_constructed_series():
    lab = constructed_series()
    res = track_instances(lab)
    assert res.tracks == {
        1: Track(0, 1, 0),  # A ends where it divides
        2: Track(0, 3, 0),  # B
        3: Track(2, 3, 1),  # daughters of A
        4: Track(2, 3, 1),
        5: Track(3, 3, 0),  # C
    }
    assert res.frames == [{5: 1, 9: 2}, {1: 1, 2: 2}, {3: 3, 4: 4, 7: 2}, {1: 3, 2: 4, 3: 2, 8: 5}]
    assert res.divisions() == {1: [3, 4]}
    out = res.to_edit(lab).apply(lab)
    assert out[0, 10, 10] == 1 and out[1, 10, 12] == 1
    assert out[2, 8, 12] == 3 and out[3, 7, 12] == 3 and out[3, 14, 13] == 4
    assert {int(out[t, 30, 41]) for t in range(4)} == {2}
    assert np.array_equal(out > 0, lab > 0)


def test_objects_table_records_divisions_and_classes():
    lab = constructed_series()
    res = track_instances(lab)
    source = {5: ObjectInfo(class_id=2, attributes={"note": "a"}), 9: ObjectInfo(class_id=1)}
    table = res.objects(source, default_class=1)
    assert table[1].class_id == 2 and table[1].attributes == {
        "note": "a",
        "track_start": 0,
        "track_end": 1,
        "children": "3 4",
    }
    assert table[3].attributes == {"track_start": 2, "track_end": 3, "parent": 1}
    assert table[2].class_id == 1 and table[5].class_id == 1
    assert set(res.objects(source)) == {1, 2}  # without a default, unknown tracks get no row


def random_lineage(seed: int):
    """A generated series with known tracks: cells drift, some divide, ids are shuffled."""
    rng = np.random.default_rng(seed)
    T, H, W = 8, 96, 96
    cells = [
        {"track": k + 1, "y": 15.0 + 30 * (k // 3), "x": 15.0 + 30 * (k % 3), "parent": 0}
        for k in range(6)
    ]
    truth: dict[int, list] = {c["track"]: [0, 0, 0] for c in cells}
    frames_truth = []
    lab = np.zeros((T, H, W), np.uint16)
    next_track = 7
    divide_at = {2: [1, 5], 5: [3]}
    for t in range(T):
        if t in divide_at:
            new = []
            for c in cells:
                if c["track"] in divide_at[t]:
                    truth[c["track"]][1] = t - 1
                    for dy in (-3, 3):
                        new.append(
                            {
                                "track": next_track,
                                "y": c["y"] + dy,
                                "x": c["x"],
                                "parent": c["track"],
                            }
                        )
                        truth[next_track] = [t, 0, c["track"]]
                        next_track += 1
                else:
                    new.append(c)
            cells = new
        ids = rng.permutation(np.arange(1, len(cells) + 1)) * 3  # per-frame ids
        mapping = {}
        for c, i in zip(cells, ids):
            r = 3 if c["parent"] and truth[c["track"]][0] == t else 4
            y, x = int(round(c["y"])), int(round(c["x"]))
            lab[t, y - r : y + r, x - r : x + r] = i
            mapping[int(i)] = c["track"]
            truth[c["track"]][1] = t
            c["y"] += rng.uniform(-1, 1)
            c["x"] += rng.uniform(-1, 1)
        frames_truth.append(mapping)
    return lab, truth, frames_truth


@pytest.mark.parametrize("seed", [0, 1])
def test_every_link_and_division_of_a_generated_series(seed):
    lab, truth, frames_truth = random_lineage(seed)
    res = track_instances(lab)
    # track ids are numbered by the tracker: map them to the true ones through frame links
    ours_to_true = {}
    for ours, true in zip(res.frames, frames_truth):
        assert set(ours) == set(true)
        for orig, tid in ours.items():
            assert ours_to_true.setdefault(tid, true[orig]) == true[orig]
    assert len(ours_to_true) == len(truth) == len(res.tracks)
    for tid, tr in res.tracks.items():
        b, e, p = truth[ours_to_true[tid]]
        assert (tr.start, tr.end) == (b, e)
        assert (ours_to_true[tr.parent] if tr.parent else 0) == p


def test_tracking_time_axis_and_errors():
    lab = constructed_series()
    moved = np.moveaxis(lab, 0, 2)  # time as the last axis but one
    res = track_instances(np.ascontiguousarray(moved), axis=2)
    assert res.tracks == track_instances(lab).tracks
    with pytest.raises(InterpolateError) as info:
        track_instances(lab, axis=3)
    assert info.value.field == "axis"
    with pytest.raises(InterpolateError) as info:
        track_instances(lab[0])
    assert info.value.field == "labels"


# -- Cell Tracking Challenge -----------------------------------------------------------
def test_ctc_round_trip(tmp_path):
    lab = constructed_series()
    res = track_instances(lab)
    tracked = res.to_edit(lab).apply(lab)
    parents = {tid: tr.parent for tid, tr in res.tracks.items() if tr.parent}
    files = ctc.write_tracks(tmp_path / "01_GT" / "TRA", tracked, parents)
    assert sorted(p.name for p in files) == [
        "man_track.txt",
        "man_track000.tif",
        "man_track001.tif",
        "man_track002.tif",
        "man_track003.tif",
    ]
    text = (tmp_path / "01_GT" / "TRA" / "man_track.txt").read_text()
    assert text == "1 0 1 0\n2 0 3 0\n3 2 3 1\n4 2 3 1\n5 3 3 0\n"
    back, rows = ctc.read_tracks(tmp_path / "01_GT" / "TRA")
    assert np.array_equal(back, tracked)
    assert rows == {t: (tr.start, tr.end, tr.parent) for t, tr in res.tracks.items()}
    assert tifffile.imread(files[1]).dtype == np.uint16


def test_ctc_through_the_format_registry(tmp_path):
    lab = constructed_series()
    res = track_instances(lab)
    tracked = res.to_edit(lab).apply(lab)
    from napari_labelsuite.core.annotation import ImageAnnotation
    from napari_labelsuite.core.taxonomy import Taxonomy

    tax = Taxonomy([{"id": 1, "name": "cell"}])
    ann = ImageAnnotation(
        "movie", lab.shape, axes="tyx", instances=tracked, objects=res.objects(default_class=1)
    )
    formats.write(tmp_path / "res", [ann], tax, fmt="ctc", result=True)
    assert (tmp_path / "res" / "res_track.txt").is_file()
    assert (tmp_path / "res" / "mask003.tif").is_file()
    assert formats.guess_format(tmp_path / "res") == "ctc"
    (got,), tax2 = formats.read(tmp_path / "res")
    assert np.array_equal(got.instances, tracked) and got.axes == "tyx"
    assert got.objects[3].attributes == {"track_start": 2, "track_end": 3, "parent": 1}
    assert [c.name for c in tax2] == ["cell"]


def write_folder(root, frames, table):
    root.mkdir(parents=True)
    for t, f in enumerate(frames):
        tifffile.imwrite(root / f"man_track{t:03d}.tif", f)
    (root / "man_track.txt").write_text(table)


@pytest.mark.parametrize(
    "table, field, value, where",
    [
        ("1 0 5 0\n", "E", 5, "line 1"),  # a frame that does not exist
        ("1 0 1 0\n2 1 1 7\n", "P", 7, "line 2"),  # a parent that does not exist
        ("1 0 1 0\n2 1 1 1\n", "P", 1, "line 2"),  # a parent that has not ended
        ("1 0 1\n", "L B E P", "1 0 1", "line 1"),
        ("1 0 1 0\n1 0 1 0\n", "L", 1, "line 2"),
        ("1 1 0 0\n", "E", 0, "line 1"),
    ],
)
def test_ctc_bad_tables_name_line_field_and_value(tmp_path, table, field, value, where):
    f0 = np.zeros((8, 8), np.uint16)
    f0[1:3, 1:3] = 1
    f1 = f0.copy()
    f1[5:7, 5:7] = 2
    write_folder(tmp_path / "TRA", [f0, f1], table)
    with pytest.raises(FormatError) as info:
        ctc.read_tracks(tmp_path / "TRA")
    assert info.value.field == field and info.value.value == value
    assert info.value.where == where and info.value.path.endswith("man_track.txt")


def test_ctc_masks_and_table_must_agree(tmp_path):
    f0 = np.zeros((8, 8), np.uint16)
    f0[1:3, 1:3] = 1
    f1 = f0.copy()
    f1[5:7, 5:7] = 3
    write_folder(tmp_path / "a", [f0, f1], "1 0 1 0\n")  # label 3 not in the table
    with pytest.raises(FormatError) as info:
        ctc.read_tracks(tmp_path / "a")
    assert info.value.field == "label" and info.value.value == 3
    write_folder(tmp_path / "b", [f0, np.zeros_like(f0)], "1 0 1 0\n")  # absent in frame 1
    with pytest.raises(FormatError) as info:
        ctc.read_tracks(tmp_path / "b")
    assert info.value.field == "L" and info.value.value == 1
    gap = np.stack([f0, np.zeros_like(f0), f0])  # a track with a gap cannot be written
    with pytest.raises(FormatError) as info:
        ctc.write_tracks(tmp_path / "c", gap)
    assert info.value.value == 1 and not (tmp_path / "c").exists()
    with pytest.raises(FormatError) as info:
        ctc.write_tracks(tmp_path / "d", np.stack([f0, f0]), {1: 9})
    assert info.value.field == "P" and info.value.value == 9
    assert not (tmp_path / "d").exists()
