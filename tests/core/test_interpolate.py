"""Slice interpolation of masks: shape, never touching other labels, nD, lazy arrays, errors."""

from __future__ import annotations

import numpy as np
import pytest
import zarr
from scipy import ndimage as ndi
from skimage.draw import disk

from napari_labelsuite.core.errors import InterpolateError
from napari_labelsuite.core.interpolate import (
    interpolate_slices,
    object_boxes,
    signed_distance,
)


def dice(a: np.ndarray, b: np.ndarray) -> float:
    s = a.sum() + b.sum()
    return 1.0 if s == 0 else 2.0 * (a & b).sum() / s


def disk_mask(shape, center, radius) -> np.ndarray:
    m = np.zeros(shape, bool)
    m[disk(center, radius, shape=shape)] = True
    return m


def test_signed_distance_is_zero_on_pixel_edges():
    m = np.zeros((1, 5, 7), bool)
    m[0, 1:4, 2:5] = True
    sdf = signed_distance(m)[0]
    assert sdf[2, 3] == pytest.approx(-1.5)  # centre pixel, 2 pixels from the outside
    assert sdf[1, 3] == pytest.approx(-0.5)  # boundary pixel
    assert sdf[0, 3] == pytest.approx(0.5)  # its outside neighbour
    assert np.array_equal(sdf < 0, m[0])


def test_signed_distance_edt_package_matches_scipy():
    rng = np.random.default_rng(0)
    masks = ndi.gaussian_filter(rng.random((3, 40, 50)), (0, 3, 3)) > 0.5  # blobs
    assert all(m.any() and not m.all() for m in masks)
    fast = signed_distance(masks)
    reference = signed_distance(masks, edt=ndi.distance_transform_edt)
    assert np.allclose(fast, reference, atol=1e-5)


def test_identical_keyframes_are_copied_exactly():
    lab = np.zeros((6, 30, 30), np.uint16)
    m = disk_mask((30, 30), (15, 14), 7)
    lab[0][m] = 4
    lab[5][m] = 4
    out = interpolate_slices(lab, 4).apply(lab)
    for z in range(6):
        assert np.array_equal(out[z] == 4, m)
    assert set(np.unique(out)) == {0, 4}


def test_growing_disk_has_the_interpolated_radius():
    lab = np.zeros((5, 60, 60), np.uint8)
    lab[0][disk_mask((60, 60), (30, 30), 8)] = 1
    lab[4][disk_mask((60, 60), (30, 30), 20)] = 1
    out = interpolate_slices(lab, 1).apply(lab)
    for z, r in ((1, 11), (2, 14), (3, 17)):
        assert dice(out[z] == 1, disk_mask((60, 60), (30, 30), r)) > 0.97


def test_drifting_disk_keeps_its_size_with_alignment():
    lab = np.zeros((9, 40, 80), np.uint8)
    lab[0][disk_mask((40, 80), (20, 12), 6)] = 2
    lab[8][disk_mask((40, 80), (20, 60), 6)] = 2  # no overlap with the first keyframe
    out = interpolate_slices(lab, 2).apply(lab)
    for z in range(1, 8):
        expected = disk_mask((40, 80), (20, 12 + 6 * z), 6)
        assert dice(out[z] == 2, expected) > 0.95
    plain = interpolate_slices(lab, 2, align=False).apply(lab)
    assert not (plain[4] == 2).any()  # without alignment the shapes cancel out


def test_split_between_keyframes():
    lab = np.zeros((7, 40, 60), np.uint8)
    lab[0][disk_mask((40, 60), (20, 30), 12)] = 3  # one blob
    two = disk_mask((40, 60), (20, 14), 8) | disk_mask((40, 60), (20, 46), 8)
    lab[6][two] = 3  # two parts
    out = interpolate_slices(lab, 3, align=False).apply(lab)
    parts = [ndi.label(out[z] == 3)[1] for z in range(7)]
    assert parts[0] == 1 and parts[6] == 2
    assert all(p >= 1 for p in parts)
    assert parts[1] == 1 and parts[5] == 2  # the split happens in between


def test_other_labels_and_keyframes_are_never_overwritten():
    lab = np.zeros((5, 30, 30), np.uint16)
    m = disk_mask((30, 30), (15, 15), 9)
    lab[0][m] = 1
    lab[4][m] = 1
    lab[2, 10:20, 10:14] = 7  # another object inside the gap
    lab[1, 0:3, 0:3] = 9
    edit = interpolate_slices(lab, 1)
    out = edit.apply(lab)
    changed = out != lab
    assert np.all(lab[changed] == 0)  # only background pixels change ...
    assert np.all(out[changed] == 1)  # ... and only to the object's id
    assert np.array_equal(out[2] == 7, lab[2] == 7)
    assert np.array_equal(out[2] == 1, m & ~(lab[2] == 7))
    assert np.array_equal(out[[0, 4]], lab[[0, 4]])


def test_gaps_between_several_keyframes_and_other_axis():
    lab = np.zeros((20, 12, 40), np.uint8)
    m = disk_mask((20, 40), (10, 20), 6)
    for y in (1, 4, 10):  # interpolate along axis 1
        lab[:, y, :][m] = 5
    out = interpolate_slices(lab, 5, axis=1).apply(lab)
    for y in range(1, 11):
        assert np.array_equal(out[:, y, :] == 5, m)
    assert not (out[:, 0] == 5).any() and not (out[:, 11] == 5).any()  # no extrapolation


def test_time_series_of_3d_objects():
    lab = np.zeros((4, 12, 24, 24), np.uint8)  # t, z, y, x: interpolate along t
    zz, yy, xx = np.mgrid[:12, :24, :24]
    ball = (zz - 6) ** 2 + (yy - 12) ** 2 + (xx - 12) ** 2 <= 25
    lab[0][ball] = 1
    lab[3][ball] = 1
    out = interpolate_slices(lab, 1, axis=0).apply(lab)
    assert np.array_equal(out[1] == 1, ball) and np.array_equal(out[2] == 1, ball)


def test_all_objects_in_one_call_and_conflicts_go_to_the_deeper_object():
    lab = np.zeros((5, 40, 60), np.uint8)
    a = disk_mask((40, 60), (20, 20), 10)
    b = disk_mask((40, 60), (20, 40), 10)
    lab[0][a] = 1
    lab[4][a] = 1
    lab[0][b & ~a] = 2
    lab[4][b & ~a] = 2
    single = interpolate_slices(lab, 1).apply(lab)
    out = interpolate_slices(lab, None).apply(lab)
    for z in (1, 2, 3):
        assert np.array_equal(out[z], lab[0])  # both objects, the seam as in the keyframes
    assert np.array_equal(single[2] == 1, a)
    lab[2, 0, 0] = 8  # an object on one plane only is skipped when all are interpolated
    assert np.array_equal(interpolate_slices(lab, None).apply(lab)[1], lab[0])


def test_errors_name_field_and_value():
    lab = np.zeros((5, 10, 10), np.uint8)
    lab[0, 2:5, 2:5] = 1
    lab[3, 2:5, 2:5] = 1
    lab[2, 6:8, 6:8] = 2
    cases = [
        (lambda: interpolate_slices(lab, 9), "label_id", 9),
        (lambda: interpolate_slices(lab, 2), "label_id", 2),  # one keyframe only
        (lambda: interpolate_slices(lab, 1, axis=3), "axis", 3),
        (lambda: interpolate_slices(lab, 1, axis=-4), "axis", -4),
        (lambda: interpolate_slices(lab.astype(float), 1), "labels", "float64"),
        (lambda: interpolate_slices(lab[0], 1), "labels", (10, 10)),
        (lambda: interpolate_slices(lab, 1, image=np.zeros((5, 10))), "image", (5, 10)),
        (lambda: interpolate_slices(lab, 0), "label_id", 0),
    ]
    for call, field, value in cases:
        with pytest.raises(InterpolateError) as info:
            call()
        assert info.value.field == field and info.value.value == value
    assert "annotated on one plane" in str(
        pytest.raises(InterpolateError, interpolate_slices, lab, 2)
    )


class CountingArray:
    """A zarr array wrapper that records every region read."""

    def __init__(self, arr):
        self.arr = arr
        self.shape, self.dtype, self.ndim, self.chunks = arr.shape, arr.dtype, arr.ndim, arr.chunks
        self.reads: list[tuple[slice, ...]] = []

    def __getitem__(self, key):
        self.reads.append(key)
        return self.arr[key]


def test_zarr_labels_are_read_only_in_the_object_box(tmp_path):
    lab = np.zeros((9, 128, 128), np.uint16)
    m = disk_mask((128, 128), (90, 100), 8)
    lab[0][m] = 6
    lab[8][m] = 6
    lab[4, 5:10, 5:10] = 2
    z = zarr.create_array(
        str(tmp_path / "l.zarr"), shape=lab.shape, chunks=(3, 32, 32), dtype=lab.dtype
    )
    z[:] = lab
    assert object_boxes(z) == object_boxes(lab)
    counting = CountingArray(z)
    box = object_boxes(lab, [6])
    edit = interpolate_slices(counting, 6, boxes=box)
    assert np.array_equal(edit.apply(lab), interpolate_slices(lab, 6).apply(lab))
    ((bz, by, bx),) = box.values()
    for key in counting.reads:
        assert key[1].start >= by.start - 2 and key[1].stop <= by.stop + 2
        assert key[2].start >= bx.start - 2 and key[2].stop <= bx.stop + 2


def sphere_series(noise: float, seed: int = 0):
    """A ball of radius 10 (z-radius 9) and its blurred, noisy image; z = 0..16."""
    zz, yy, xx = np.mgrid[:17, :48, :48]
    ball = ((zz - 8) / 9.0) ** 2 + ((yy - 24) / 10.0) ** 2 + ((xx - 24) / 10.0) ** 2 <= 1
    rng = np.random.default_rng(seed)
    img = ndi.gaussian_filter(ball.astype(np.float32), (0, 1, 1)) + rng.normal(
        0, noise, ball.shape
    )
    return ball, img.astype(np.float32)


def test_image_guided_interpolation_follows_the_edges():
    ball, img = sphere_series(0.05)
    lab = np.zeros(ball.shape, np.uint8)
    for z in (1, 15):  # keyframes where the ball is small: the shape alone underestimates
        lab[z][ball[z]] = 1
    shape_only = interpolate_slices(lab, 1).apply(lab)
    guided = interpolate_slices(lab, 1, image=img).apply(lab)
    d_shape = np.mean([dice(shape_only[z] == 1, ball[z]) for z in range(2, 15)])
    d_guided = np.mean([dice(guided[z] == 1, ball[z]) for z in range(2, 15)])
    assert d_guided > 0.8
    assert d_guided > d_shape + 0.1
    changed = guided != lab
    assert np.all(lab[changed] == 0) and np.all(guided[changed] == 1)


_ITK_SCRIPT = """
import os
import sys
import numpy as np
import itk
data = np.load(sys.argv[1])
f = itk.MorphologicalContourInterpolator.New(itk.image_from_array(data["sparse"]))
f.SetAxis(2)  # ITK's axis 2 is numpy's axis 0
f.Update()
with open(sys.argv[2], "wb") as out:
    np.save(out, itk.array_from_image(f.GetOutput()))
    out.flush()
    os.fsync(out.fileno())
# skip the interpreter's teardown: ITK's wrapping can abort there (SIGABRT) after the work
os._exit(0)
"""


def test_agrees_with_itk_morphological_contour_interpolation(tmp_path):
    import subprocess
    import sys

    pytest.importorskip("itk")
    zz, yy, xx = np.mgrid[:17, :48, :48]
    lean = ((zz - 8) / 9.0) ** 2 + ((yy - 20 - zz / 2) / 7.0) ** 2 + ((xx - 24) / 12.0) ** 2 <= 1
    gt = lean.astype(np.uint16)  # a leaning ellipsoid
    sparse = np.zeros_like(gt)
    for z in (1, 5, 9, 13):
        sparse[z] = gt[z]
    ours = interpolate_slices(sparse, 1).apply(sparse)
    # ITK runs in its own process: its wrapping can upset the heap at interpreter exit
    np.savez(tmp_path / "in.npz", sparse=sparse)
    run = subprocess.run(
        [sys.executable, "-c", _ITK_SCRIPT, str(tmp_path / "in.npz"), str(tmp_path / "out.npy")],
        timeout=300,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, f"ITK exited with {run.returncode}: {run.stderr[-2000:]}"
    ref = np.load(tmp_path / "out.npy")
    filled = [z for z in range(2, 13) if z % 4 != 1]
    d_ours = np.mean([dice(ours[z] == 1, gt[z] == 1) for z in filled])
    d_itk = np.mean([dice(ref[z] == 1, gt[z] == 1) for z in filled])
    agreement = np.mean([dice(ours[z] == 1, ref[z] == 1) for z in filled])
    assert agreement > 0.9
    assert d_ours >= d_itk - 0.01
