"""Keyframe box interpolation and propagation of masks to the next planes."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

from napari_labelsuite.core.annotation import Box
from napari_labelsuite.core.errors import InterpolateError
from napari_labelsuite.core.interpolate import (
    interpolate_boxes,
    is_keyframe,
    mark_keyframes,
    propagate,
)


def key(z, xyxy, tid=1, cls=1, **attrs):
    return Box(*xyxy, class_id=cls, plane=(z,), instance_id=tid, attributes=dict(attrs))


# -- boxes -----------------------------------------------------------------------------
def test_boxes_are_linear_in_corner_coordinates():
    out = interpolate_boxes([key(0, (0, 0, 10, 10)), key(4, (10, 20, 30, 40))])
    assert [b.plane for b in out] == [(0,), (1,), (2,), (3,), (4,)]
    assert [b.xyxy for b in out] == [
        (0, 0, 10, 10),
        (2.5, 5.0, 15.0, 17.5),
        (5.0, 10.0, 20.0, 25.0),
        (7.5, 15.0, 25.0, 32.5),
        (10, 20, 30, 40),
    ]
    assert [b.attributes["keyframe"] for b in out] == [True, False, False, False, True]
    assert all(b.instance_id == 1 and b.class_id == 1 for b in out)


def test_tracks_are_separate_and_loose_boxes_are_kept():
    boxes = [
        key(0, (0, 0, 4, 4), tid=1),
        key(2, (2, 2, 6, 6), tid=1),
        key(1, (50, 50, 60, 60), tid=2, cls=2),
        key(3, (54, 50, 64, 60), tid=2, cls=2),
        Box(5, 5, 9, 9, class_id=1, plane=(1,)),  # no track
    ]
    out = interpolate_boxes(boxes)
    loose = [b for b in out if b.instance_id == 0]
    assert [b.xyxy for b in loose] == [(5, 5, 9, 9)]
    t1 = {b.plane[0]: b.xyxy for b in out if b.instance_id == 1}
    t2 = {b.plane[0]: b.xyxy for b in out if b.instance_id == 2}
    assert t1 == {0: (0, 0, 4, 4), 1: (1, 1, 5, 5), 2: (2, 2, 6, 6)}
    assert t2 == {1: (50, 50, 60, 60), 2: (52, 50, 62, 60), 3: (54, 50, 64, 60)}
    assert all(b.class_id == 2 for b in out if b.instance_id == 2)


def test_editing_an_interpolated_box_makes_it_a_keyframe():
    first = interpolate_boxes([key(0, (0, 0, 10, 10)), key(4, (40, 0, 50, 10))])
    mid = next(i for i, b in enumerate(first) if b.plane == (2,))
    assert not is_keyframe(first[mid])
    first[mid].x0, first[mid].x1 = 0.0, 10.0  # the person moves it back
    edited = mark_keyframes(first, [mid])
    again = interpolate_boxes(edited)
    by_plane = {b.plane[0]: b for b in again}
    assert by_plane[2].attributes["keyframe"] is True and by_plane[2].xyxy == (0, 0, 10, 10)
    assert by_plane[1].xyxy == (0, 0, 10, 10)  # between two equal keyframes
    assert by_plane[3].xyxy == (20, 0, 30, 10)
    assert len(again) == 5  # the old interpolated boxes were replaced, not duplicated


def test_4d_boxes_interpolate_along_the_chosen_axis():
    a = Box(0, 0, 10, 10, class_id=1, plane=(0, 3), instance_id=4)
    b = Box(10, 0, 20, 10, class_id=1, plane=(2, 3), instance_id=4)
    out = interpolate_boxes([a, b], axis=0)
    assert [(bx.plane, bx.xyxy) for bx in out] == [
        ((0, 3), (0, 0, 10, 10)),
        ((1, 3), (5, 0, 15, 10)),
        ((2, 3), (10, 0, 20, 10)),
    ]


def test_box_conflicts_raise():
    with pytest.raises(InterpolateError) as info:
        interpolate_boxes([key(1, (0, 0, 1, 1)), key(1, (2, 2, 3, 3))])
    assert info.value.field == "instance_id" and info.value.value == 1
    with pytest.raises(InterpolateError) as info:
        interpolate_boxes([key(0, (0, 0, 1, 1), cls=1), key(3, (0, 0, 1, 1), cls=2)])
    assert info.value.field == "class_id" and info.value.value == (1, 2)
    with pytest.raises(InterpolateError) as info:
        interpolate_boxes([Box(0, 0, 1, 1, class_id=1, instance_id=1)])
    assert info.value.field == "plane"
    with pytest.raises(InterpolateError) as info:
        mark_keyframes([key(0, (0, 0, 1, 1))], [3])
    assert info.value.field == "indices"


# -- propagation -----------------------------------------------------------------------
def ball_volume(noise=0.05, seed=1):
    """A ball (radius 9, centre z=10) in a 21-plane stack and its noisy image."""
    zz, yy, xx = np.mgrid[:21, :40, :40]
    ball = (zz - 10) ** 2 + (yy - 20) ** 2 + (xx - 20) ** 2 <= 81
    rng = np.random.default_rng(seed)
    img = ndi.gaussian_filter(ball.astype(np.float32), (0, 1, 1))
    img = (100 + 80 * img + rng.normal(0, 80 * noise, ball.shape)).astype(np.float32)
    return ball, img


def dice(a, b):
    return 2 * (a & b).sum() / max(1, a.sum() + b.sum())


def test_propagation_follows_the_object_until_it_ends():
    ball, img = ball_volume()
    lab = np.zeros(ball.shape, np.uint16)
    lab[10][ball[10]] = 3
    out = propagate(lab, 3, 10, image=img, engine="snap").apply(lab)
    zs = [z for z in range(21) if (out[z] == 3).any()]
    assert zs[0] == 10 and zs[-1] >= 17  # the ball ends at z = 19 (radius < 1 px there)
    assert zs == list(range(10, zs[-1] + 1))
    for z in range(11, 17):
        assert dice(out[z] == 3, ball[z]) > 0.85
    assert not (out[20] == 3).any()
    back = propagate(lab, 3, 10, image=img, direction="backward", engine="snap").apply(lab)
    assert (back[4] == 3).any() and not (back[11] == 3).any()
    assert dice(back[5] == 3, ball[5]) > 0.85


def test_propagation_limit_keyframes_and_other_labels():
    ball, img = ball_volume()
    lab = np.zeros(ball.shape, np.uint16)
    lab[10][ball[10]] = 3
    one = propagate(lab, 3, 10, image=img, limit=1, engine="snap")
    assert len(one.patches) == 1 and one.patches[0].region[0] == slice(11, 12)
    lab[13][ball[13]] = 3  # an annotated plane stops the propagation
    lab[12, 18:22, 18:22] = 7  # another object in the way
    out = propagate(lab, 3, 10, image=img, engine="snap").apply(lab)
    assert [z for z in range(21) if (out[z] != lab[z]).any()] == [11, 12]
    assert np.array_equal(out[12] == 7, lab[12] == 7)
    changed = out != lab
    assert np.all(lab[changed] == 0) and np.all(out[changed] == 3)


def test_propagation_without_image_copies_the_mask():
    lab = np.zeros((4, 10, 10), np.uint8)
    lab[0, 2:6, 3:7] = 1
    out = propagate(lab, 1, 0, limit=2).apply(lab)
    assert np.array_equal(out[1], lab[0]) and np.array_equal(out[2], lab[0])
    assert not out[3].any()


def test_propagation_along_time_of_3d_frames():
    lab = np.zeros((3, 6, 12, 12), np.uint8)  # t, z, y, x
    lab[0, 2:4, 3:8, 3:8] = 2
    out = propagate(lab, 2, 0, axis=0, limit=None).apply(lab)
    assert np.array_equal(out[2], lab[0]) and np.array_equal(out[1], lab[0])


def test_propagation_errors():
    lab = np.zeros((4, 10, 10), np.uint8)
    lab[0, 2:6, 3:7] = 1
    cases = [
        ({"label_id": 1, "from_plane": 2}, "label_id", 1),  # not on that plane
        ({"label_id": 1, "from_plane": 9}, "from_plane", 9),
        ({"label_id": 1, "from_plane": 0, "direction": "up"}, "direction", "up"),
        ({"label_id": 1, "from_plane": 0, "axis": 5}, "axis", 5),
        ({"label_id": 1, "from_plane": 0, "limit": -1}, "limit", -1),
    ]
    for kw, field, value in cases:
        with pytest.raises(InterpolateError) as info:
            propagate(lab, **kw)
        assert info.value.field == field and info.value.value == value


def test_propagation_uses_the_assist_engine_when_present(monkeypatch):
    import napari_labelsuite.core.interpolate.propagation as prop

    calls = []

    def fake_segment(image, points, point_labels, box=None, mask_prior=None, **kw):
        calls.append((points.tolist(), point_labels.tolist(), box, mask_prior.sum()))
        return mask_prior  # keeps the shape

    monkeypatch.setattr(prop, "_assist_segment", lambda: fake_segment)
    ball, img = ball_volume()
    lab = np.zeros(ball.shape, np.uint16)
    lab[10][ball[10]] = 3
    out = propagate(lab, 3, 10, image=img, limit=2).apply(lab)
    assert len(calls) == 2
    assert calls[0][1] == [1] and calls[0][3] == ball[10].sum()
    assert np.array_equal(out[11] == 3, ball[10])
    snapped = propagate(lab, 3, 10, image=img, limit=2, engine="snap").apply(lab)
    assert len(calls) == 2  # "snap" never calls the engine
    assert not np.array_equal(snapped[11] == 3, out[11] == 3)


def test_propagation_with_the_installed_assist_engine():
    pytest.importorskip("napari_labelsuite.core.assist")
    ball, img = ball_volume()
    lab = np.zeros(ball.shape, np.uint16)
    lab[10][ball[10]] = 3
    out = propagate(lab, 3, 10, image=img).apply(lab)  # engine="auto": the assist engine
    zs = [z for z in range(21) if (out[z] == 3).any()]
    assert zs == list(range(10, zs[-1] + 1)) and zs[-1] >= 16
    for z in range(11, 16):
        assert dice(out[z] == 3, ball[z]) > 0.85
    assert not (out[20] == 3).any()
