"""Promptable segmentation (core): clicks, corrections, channels, 3D, wand, boxes, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi
from skimage.draw import disk
from skimage.segmentation import flood

from napari_labelsuite.core.assist import (
    ClassicalEngine,
    box_to_object,
    segment,
    segment_local,
    snap_box,
    wand,
)
from napari_labelsuite.core.errors import AssistError, LabelsuiteError


def _disc(shape, centre, radius):
    m = np.zeros(shape, bool)
    m[disk(centre, radius, shape=shape)] = True
    return m


def _iou(a, b):
    return (a & b).sum() / (a | b).sum()


def _blurred(mask_levels, shape, noise=0.02, seed=0):
    """A fluorescence-like image: blobs of given brightness, blurred, with noise."""
    img = np.full(shape, 0.1, np.float32)
    for m, level in mask_levels:
        img[m] = level
    img = ndi.gaussian_filter(img, 1.2)
    return img + np.random.default_rng(seed).normal(0, noise, shape).astype(np.float32)


@pytest.fixture
def two_nuclei():
    """Two touching discs (one brighter) and a separate third one."""
    shape = (120, 140)
    a = _disc(shape, (60, 45), 16)
    b = _disc(shape, (60, 76), 16) & ~a
    c = _disc(shape, (25, 115), 10)
    return _blurred([(a, 1.0), (b, 0.6), (c, 0.8)], shape), a, b, c


def test_one_click_finds_the_object(two_nuclei):
    img, a, b, c = two_nuclei
    mask = segment(img, [[60, 45]], [1])
    assert mask.shape == img.shape and mask.dtype == bool
    assert _iou(mask, a) >= 0.85
    assert not (mask & c).any()


def test_touching_neighbour_is_split_off(two_nuclei):
    img, a, b, c = two_nuclei
    mask = segment(img, [[60, 76]], [1])
    assert _iou(mask, b) >= 0.8
    assert (mask & a).sum() < 0.05 * a.sum()


def test_positive_click_is_always_inside():
    img = _blurred([(_disc((80, 80), (40, 40), 12), 1.0)], (80, 80))
    # an inside click on plain background is still part of the result
    mask = segment(img, [[40, 40], [10, 70]], [1, 1])
    assert mask[40, 40] and mask[10, 70]


def test_negative_click_is_always_outside_and_moves_the_result(two_nuclei):
    img, a, b, c = two_nuclei
    # a previous result that wrongly took both halves of an even blob
    flat = _blurred([(a | b, 1.0)], img.shape)
    first = a | b
    second = segment(flat, [[60, 45], [60, 80]], [1, 0], mask_prior=first)
    assert not second[60, 80]
    assert second[60, 45]
    changed = first ^ second
    assert changed.sum() > 50
    # the change lies on the side of the new click
    rows, cols = np.nonzero(changed)
    assert np.median(cols) > 60


def test_multichannel_uses_all_channels():
    shape = (90, 90)
    obj = _disc(shape, (45, 45), 14)
    ch1 = _blurred([(obj, 1.0)], shape, seed=1)
    ch0 = np.random.default_rng(2).normal(0.5, 0.02, shape).astype(np.float32)
    first = np.stack([ch0, ch1])  # (C, Y, X): detected from the points' 2 coordinates
    last = np.moveaxis(first, 0, -1)  # (Y, X, C)
    for img in (first, last):
        mask = segment(img, [[45, 45]], [1])
        assert mask.shape == shape
        assert _iou(mask, obj) >= 0.85
    given = segment(np.stack([ch0, ch1, ch0, ch0, ch0], -1), [[45, 45]], [1], channel_axis=-1)
    assert _iou(given, obj) >= 0.85


def test_3d_plane_prompt_and_volume_prompt():
    shape = (20, 60, 60)
    zz, yy, xx = np.mgrid[: shape[0], : shape[1], : shape[2]]
    ball = (zz - 10) ** 2 * 4 + (yy - 30) ** 2 + (xx - 30) ** 2 <= 14**2
    img = _blurred([(ball, 1.0)], shape)
    plane = segment(img, [[10, 30, 30]], [1])
    assert plane.shape == shape
    assert np.flatnonzero(plane.any(axis=(1, 2))).tolist() == [10]
    assert _iou(plane[10], ball[10]) >= 0.85
    vol = segment(img, [[10, 30, 30], [12, 30, 30]], [1, 1])
    assert vol.any(axis=(1, 2)).sum() > 5
    assert _iou(vol, ball) >= 0.75


def test_box_to_object_and_snap_box(two_nuclei):
    img, a, b, c = two_nuclei
    mask = box_to_object(img, (100, 10, 130, 40))
    assert _iou(mask, c) >= 0.8
    x0, y0, x1, y1 = snap_box(img, (95, 5, 135, 45))
    rows, cols = np.nonzero(c)
    assert abs(x0 - cols.min()) <= 2 and abs(x1 - (cols.max() + 1)) <= 2
    assert abs(y0 - rows.min()) <= 2 and abs(y1 - (rows.max() + 1)) <= 2


def test_box_limits_the_result(two_nuclei):
    img, a, b, c = two_nuclei
    mask = segment(img, [[60, 45]], [1], box=(25, 40, 50, 80))
    assert not mask[:, 50:].any() and not mask[:40].any()
    assert mask[60, 45]


def test_wand_matches_skimage_flood():
    rng = np.random.default_rng(4)
    img = ndi.gaussian_filter(rng.random((64, 64)), 2)
    for conn in (1, 2):
        ours = wand(img, (30, 30), 0.05, conn)
        ref = flood(img, (30, 30), connectivity=conn, tolerance=0.05)
        np.testing.assert_array_equal(ours, ref)


def test_wand_all_channels():
    img = np.zeros((40, 40, 3), np.float32)
    img[5:20, 5:20, 0] = 1.0  # red square
    img[5:20, 12:20, 2] = 1.0  # its right part is magenta: differs in blue only
    mask = wand(img, (10, 6), 0.5)
    expected = np.zeros((40, 40), bool)
    expected[5:20, 5:12] = True
    np.testing.assert_array_equal(mask, expected)


class _Recorder:
    """An array that records the size of every read (a stand-in for a lazy store)."""

    def __init__(self, data):
        self.data = data
        self.shape = data.shape
        self.dtype = data.dtype
        self.ndim = data.ndim
        self.largest = 0

    def __getitem__(self, key):
        out = self.data[key]
        self.largest = max(self.largest, out.size)
        return out

    def __array__(self, *a, **k):  # pragma: no cover - reading it whole is the failure
        raise AssertionError("the whole array was read")


def test_only_a_window_is_read():
    shape = (3000, 3000)
    img = np.full(shape, 10, np.uint16)
    rr, cc = disk((1500, 2100), 15, shape=shape)
    img[rr, cc] = 200
    rec = _Recorder(img)
    window, mask = segment_local(rec, [[1500, 2100]], [1])
    assert rec.largest < 0.01 * img.size
    assert mask.sum() == pytest.approx(len(rr), rel=0.15)
    rec.largest = 0
    wmask = wand(rec, (1500, 2100), 5)
    assert rec.largest < 0.05 * img.size
    assert wmask.sum() == len(rr)


def test_large_object_grows_the_window():
    shape = (400, 400)
    big = _disc(shape, (200, 200), 150)
    img = _blurred([(big, 1.0)], shape)
    mask = segment(img, [[200, 200]], [1])
    assert _iou(mask, big) >= 0.9


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"points": [], "point_labels": []}, "points"),
        ({"points": [[np.nan, 3]], "point_labels": [1]}, "points"),
        ({"points": [[5, 500]], "point_labels": [1]}, "points"),
        ({"points": [[5, 5]], "point_labels": [2]}, "point_labels"),
        ({"points": [[5, 5]], "point_labels": [1, 0]}, "point_labels"),
        ({"points": [[5, 5]], "point_labels": [0]}, "point_labels"),
        ({"points": [[5, 5]], "point_labels": [1], "box": (30, 10, 20, 40)}, "box"),
        ({"points": [[5, 5]], "point_labels": [1], "box": (100, 100, 120, 130)}, "box"),
        ({"points": [[5, 5, 5, 5]], "point_labels": [1]}, "points"),
        (
            {"points": [[5, 5]], "point_labels": [1], "mask_prior": np.zeros((3, 3), bool)},
            "mask_prior",
        ),
    ],
)
def test_bad_input_names_the_field(kwargs, field):
    img = _blurred([(_disc((50, 60), (25, 30), 8), 1.0)], (50, 60))
    with pytest.raises(AssistError) as info:
        segment(img, **kwargs)
    assert info.value.field == field
    assert isinstance(info.value, LabelsuiteError)


def test_no_contrast_is_refused():
    with pytest.raises(AssistError, match="no contrast") as info:
        segment(np.full((40, 40), 7.0), [[20, 20]], [1])
    assert info.value.field == "image"


def test_wand_bad_input():
    img = np.zeros((10, 10))
    with pytest.raises(AssistError) as info:
        wand(img, (3, 30), 1)
    assert info.value.field == "point"
    with pytest.raises(AssistError) as info:
        wand(img, (3, 3), -1)
    assert info.value.field == "tolerance"
    with pytest.raises(AssistError) as info:
        wand(img, (3, 3), 1, connectivity=3)
    assert info.value.field == "connectivity"


def test_neighbour_joined_by_a_bright_bridge_is_split_off():
    # two equally bright discs joined by a bar as bright as they are: no intensity valley,
    # only the neck of the blob tells them apart
    from napari_labelsuite.core.assist import ClassicalEngine

    shape = (96, 128)
    a, b = _disc(shape, (48, 36), 16), _disc(shape, (48, 92), 16)
    bridge = np.zeros(shape, bool)
    bridge[45:52, 36:92] = True
    image = np.where(a | b | bridge, 200.0, 20.0)
    image = ndi.gaussian_filter(image, 1.0)
    image += np.random.default_rng(3).normal(0, 2.0, shape)
    got = segment(image, np.array([[48, 36]]), np.array([1]), engine=ClassicalEngine())
    assert got[48, 36] and not got[48, 92]
    assert got[b].sum() == 0
    assert _iou(got, a) > 0.8


def test_neck_splitting_keeps_only_the_clicked_part():
    # step 3 of the engine on an evenly bright dumbbell: the disc across the neck is dropped,
    # the clicked disc and its half of the bar stay
    from napari_labelsuite.core.assist import ClassicalEngine

    shape = (96, 128)
    a, b = _disc(shape, (48, 36), 16), _disc(shape, (48, 92), 16)
    bar = np.zeros(shape, bool)
    bar[45:52, 36:92] = True
    blob = a | b | bar
    s = blob.astype(np.float32)
    none = np.empty((0, 2), np.intp)
    got = ClassicalEngine()._split(blob, s, np.array([[48, 36]]), none, 16.0)
    assert got[a].all() and not got[b].any()
    assert got.sum() < 0.6 * blob.sum()


def test_touching_discs_of_equal_brightness_one_click_one_disc():
    # two overlapping nuclei, same brightness, no valley but the outline's waist
    shape = (80, 110)
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    a, b = _disc(shape, (40, 40), 15), _disc(shape, (40, 66), 15)
    left = a & (xx < 53)  # the true split follows the bisector of the centres
    right = b & (xx >= 53)
    img = _blurred([(a | b, 1.0)], shape)
    for click, truth in (([40, 40], left), ([40, 66], right)):
        mask = segment(img, [click], [1])
        assert _iou(mask, truth) >= 0.9


def test_inside_click_on_a_missed_dim_part_brings_it_in():
    # one nucleus, its right half dim: the first click (bright half) stops at the dim half;
    # an inside click there brings in the dim part around it (the correction's reach is
    # half the object's radius) and nothing outside the nucleus
    shape = (80, 80)
    obj = _disc(shape, (40, 40), 18)
    dim = obj & (np.mgrid[: shape[0], : shape[1]][1] >= 44)
    img = _blurred([(obj, 1.0), (dim, 0.4)], shape, noise=0.01)
    first = segment(img, [[40, 32]], [1])
    assert first[dim].mean() < 0.2  # level 0.5 of the bright half leaves the dim half out
    second = segment(img, [[40, 32], [40, 50]], [1, 1], mask_prior=first)
    assert second[dim & _disc(shape, (40, 50), 5)].all()
    assert _iou(second, obj) >= _iou(first, obj) + 0.1
    assert not (second & ~obj).any()
    assert second[obj & ~dim].mean() >= first[obj & ~dim].mean()  # bright half kept


def test_noisy_image_is_smoothed_more_and_the_disc_is_still_found():
    # noise at a tenth of the contrast: the engine smooths more (noise_smoothing) and the
    # outline stays on the disc's edge
    from napari_labelsuite.core.assist import ClassicalEngine

    shape = (90, 90)
    obj = _disc(shape, (45, 45), 12)
    img = _blurred([(obj, 1.0)], shape, noise=0.09, seed=1)
    engine = ClassicalEngine()
    _, ratio, _ = engine._likeness(
        img[..., None], ndi.gaussian_filter(img, 1.0)[..., None], np.array([45, 45])
    )
    assert ratio > 0.05  # the adaptive smoothing is in use
    mask = segment(img, [[45, 45]], [1], engine=engine)
    assert _iou(mask, obj) >= 0.95


@pytest.mark.parametrize("d", [3, 5, 7])
def test_negative_click_near_the_first_keeps_the_object_around_the_first(d):
    """A correction next to the first click bends the level near itself, not over the object."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:96, :96]
    disc = (yy - 48) ** 2 + (xx - 48) ** 2 <= 15**2
    img = np.where(disc, 200.0, 20.0) + rng.normal(0, 3, (96, 96))
    m = segment(img, np.array([[48, 48], [48, 48 + d]]), np.array([1, 0]))
    assert m[48, 48] and not m[48, 48 + d]
    assert not (m & ~ndi.binary_dilation(disc, iterations=2)).any()
    assert m.sum() >= 0.6 * disc.sum()  # it used to collapse to the clicked pixel


def test_memoised_corrections_follow_the_image_not_its_identity():
    # step 4 measures a correction on the result of the clicks before it, which the engine
    # memoises: the same clicks on another image, or on the same array edited in place,
    # must give what a fresh engine gives
    from napari_labelsuite.core.assist import ClassicalEngine

    shape = (80, 80)
    clicks, labels = [[40, 40], [40, 52], [28, 40]], [1, 1, 0]
    engine = ClassicalEngine()
    for radius in (12, 9):
        img = _blurred([(_disc(shape, (40, 40), radius), 1.0)], shape)
        for n in (1, 2, 3):
            got = segment(img, clicks[:n], labels[:n], engine=engine)
            fresh = segment(img, clicks[:n], labels[:n], engine=ClassicalEngine())
            assert (got == fresh).all()
        img[:] = _blurred([(_disc(shape, (40, 44), 10), 1.0)], shape)
        got = segment(img, clicks, labels, engine=engine)
        assert (got == segment(img, clicks, labels, engine=ClassicalEngine())).all()


def _ellipse(shape, centre, radii):
    rr, cc = np.indices(shape)
    return ((rr - centre[0]) / radii[0]) ** 2 + ((cc - centre[1]) / radii[1]) ** 2 <= 1.0


def test_first_click_on_touching_ellipses_of_equal_brightness_keeps_one():
    # two elongated nuclei side by side along their long axes, touching without a dark
    # gap: the split and the star cut around the first click both stop between them
    shape = (100, 100)
    a = _ellipse(shape, (50, 40), (20, 10))
    b = _ellipse(shape, (50, 59), (20, 10)) & ~a
    img = _blurred([(a, 1.0), (b, 1.0)], shape)
    m = segment(img, [[50, 40]], [1])
    assert _iou(m, a) >= 0.8
    assert (m & b).sum() <= 0.1 * b.sum()


def test_halo_of_a_bright_neighbour_is_not_taken():
    # a dim nucleus next to a much brighter one: the bright one's halo lifts the background
    # between them above the dim one's half-way level (window-wide background)
    shape = (100, 100)
    dim = _disc(shape, (50, 38), 11)
    bright = _disc(shape, (50, 64), 13)
    img = np.full(shape, 0.05, np.float32)
    img[dim] = 0.35
    img[bright] = 1.0
    img = ndi.gaussian_filter(img, 1.2) + 0.4 * ndi.gaussian_filter(bright * 1.0, 4.0)
    img = img.astype(np.float32)
    m = segment(img, [[50, 38]], [1])  # without the star cut: IoU 0.34, the halo taken
    assert _iou(m, dim) >= 0.85
    assert not (m & ~ndi.binary_dilation(dim, iterations=3)).any()


def test_strip_correction_moves_the_outline_along_the_strip():
    # a nucleus with a dim rim on one side: the first click leaves the rim out; an inside
    # click in the middle of that thin strip brings the strip in over an arc around it,
    # not only the clicked pixel (step 5)
    from napari_labelsuite.core.assist import ClassicalEngine

    shape = (100, 100)
    body = _disc(shape, (50, 50), 14)
    outer = _disc(shape, (50, 50), 18)
    rr, cc = np.indices(shape)
    rim = outer & ~body & (cc > 50) & (np.abs(rr - 50) < 0.8 * (cc - 50))
    img = _blurred([(body, 1.0), (rim, 0.42)], shape, noise=0.01)
    first = segment(img, [[50, 50]], [1])
    assert (rim & ~first).sum() >= 0.6 * rim.sum()
    clicks, labels = [[50, 50], [50, 66]], [1, 1]
    moved = segment(img, clicks, labels)
    plain = segment(img, clicks, labels, engine=ClassicalEngine(move_outline=False))
    away = rim & ~_disc(shape, (50, 66), 5)  # the strip away from the clicked spot
    assert (moved & away).sum() >= 0.5 * away.sum()
    assert (moved & away).sum() > (plain & away).sum()
    assert not (moved & ~ndi.binary_dilation(outer, iterations=2)).any()


def test_star_cut_holds_back_a_neighbour_the_level_and_split_merge():
    # two tilted ellipses of equal brightness overlapping in a V: the level and the split
    # take both; the star cut around the first click keeps most of the neighbour out
    from napari_labelsuite.core.assist import ClassicalEngine

    shape = (100, 100)
    rr, cc = np.indices(shape)

    def tilted(centre, radii, angle):
        y, x = rr - centre[0], cc - centre[1]
        u = np.cos(angle) * y + np.sin(angle) * x
        v = -np.sin(angle) * y + np.cos(angle) * x
        return (u / radii[0]) ** 2 + (v / radii[1]) ** 2 <= 1.0

    a = tilted((50, 40), (18, 9), 0.4)
    b = tilted((50, 58), (18, 9), -0.4) & ~a
    img = _blurred([(a, 1.0), (b, 1.0)], shape)
    cut = segment(img, [[50, 40]], [1])
    uncut = segment(img, [[50, 40]], [1], engine=ClassicalEngine(star_cut=False))
    assert (uncut & b).sum() >= 0.9 * b.sum()  # merged without the cut
    assert (cut & b).sum() <= 0.5 * b.sum()
    assert _iou(cut, a) >= 0.65 and (cut & a).sum() >= 0.95 * (uncut & a).sum()


def test_strip_correction_moves_the_outline_by_a_fraction_of_a_pixel():
    # a disc whose true outline lies 0.7 px further out on its right side than the image's
    # half-way edge: the first click stops short there by a thin strip; one click in it
    # moves the outline by a fraction of a pixel along the strip (sub-pixel distance read
    # from the image), closer to the truth than whole rings of the pixel distance
    from napari_labelsuite.core.assist import ClassicalEngine

    shape, up, centre, radius = (80, 80), 8, (40.3, 40.6), 12.0
    fine = (np.indices((shape[0] * up, shape[1] * up)) + 0.5) / up - 0.5
    disc = np.hypot(fine[0] - centre[0], fine[1] - centre[1]) <= radius
    img = np.where(disc, 1.0, 0.1).reshape(shape[0], up, shape[1], up).mean((1, 3))
    img = ndi.gaussian_filter(img, 1.0) + np.random.default_rng(0).normal(0, 0.01, shape)
    img = img.astype(np.float32)
    rr, cc = np.indices(shape)
    truth = np.hypot(rr - centre[0], cc - centre[1]) <= radius + 0.7 * (cc > centre[1] + 4)
    first = segment(img, [[40, 40]], [1])
    missed = ndi.distance_transform_edt(truth & ~first)
    click = [int(v) for v in np.unravel_index(int(np.argmax(missed)), shape)]
    clicks, labels = [[40, 40], click], [1, 1]
    sub = segment(img, clicks, labels)
    pixel = segment(img, clicks, labels, engine=ClassicalEngine(subpixel=False))
    assert (sub ^ truth).sum() < (pixel ^ truth).sum() < (first ^ truth).sum()


def test_a_dim_object_among_bright_ones_is_outlined_not_its_background():
    # the bright neighbours make the window's bright tail the colour farthest from the dim
    # object; as the background it would make the dark background more object-like than
    # the object (it then took the window, or nothing)
    shape = (140, 140)
    dim = _disc(shape, (70, 70), 9)
    img = np.full(shape, 10.0)
    img[dim] = 100
    for a in np.linspace(0, 2 * np.pi, 8, endpoint=False):
        img[disk((70 + 34 * np.sin(a), 70 + 34 * np.cos(a)), 9, shape=shape)] = 250
    img = ndi.gaussian_filter(img, 1.0)
    mask = segment(img, [[70, 70]], [1])
    assert _iou(mask, dim) > 0.9
    off = ClassicalEngine(check_polarity=False)  # the old rule, for contrast
    assert _iou(segment(img, [[70, 70]], [1], engine=off), dim) < 0.5


def test_an_outside_click_in_a_brighter_neighbour_keeps_the_object():
    # the click lies in another object far brighter than ours: a level set above it would
    # lift the level over our object (which then shrank); the split parts the neighbour
    shape = (120, 120)
    obj, nb = _disc(shape, (60, 50), 11), _disc(shape, (60, 72), 11)
    img = np.full(shape, 10.0)
    img[obj] = 40
    img[nb & ~obj] = 250
    img = ndi.gaussian_filter(img, 1.2)
    clicks, labels = [[60, 50], [60, 69]], [1, 0]
    for engine, good in ((ClassicalEngine(), True), (ClassicalEngine(brighter_object=0), False)):
        first = segment(img, clicks[:1], labels[:1], engine=engine)
        mask = segment(img, clicks, labels, mask_prior=first, engine=engine)
        assert not mask[60, 69] and not (mask & nb & ~obj).any()
        assert bool(_iou(mask, obj) > 0.9) == good


def test_an_inside_click_past_a_seam_takes_only_its_side_of_the_neighbour():
    # two touching nuclei of one brightness, a seam (a dip) between them; an inside click
    # just past the seam marks a missed strip of the object, not the neighbour: it is in
    # the result, but the neighbour's basin stays a competitor (before: it joined)
    shape = (120, 140)
    own, other = _disc(shape, (60, 45), 12), _disc(shape, (60, 70), 12)
    img = np.full(shape, 10.0)
    img[own | other] = 100
    img = ndi.gaussian_filter(img, 1.0)
    for col in (59, 61):
        clicks = [[60, 45], [60, col]]
        taken = {}
        for name, engine in (
            ("seam", ClassicalEngine()),
            ("off", ClassicalEngine(neighbour_valley=0)),
        ):
            first = segment(img, clicks[:1], [1], engine=engine)
            mask = segment(img, clicks, [1, 1], mask_prior=first, engine=engine)
            assert mask[60, col] and mask[60, 45]
            taken[name] = int((mask & other & ~own).sum())
        assert taken["seam"] < 0.1 * other.sum() < 0.15 * other.sum() < taken["off"]
