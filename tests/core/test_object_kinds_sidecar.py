"""Polygons, rotated boxes and keypoint sets travel with an annotation: copies, sidecars."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from napari_labelsuite.core.annotation import REVIEW_STATUSES, ImageAnnotation
from napari_labelsuite.core.dataset import load_sidecar, save_sidecar, summarize
from napari_labelsuite.core.errors import FormatError
from napari_labelsuite.core.objects import Keypoints, Polygon, RotatedBox
from napari_labelsuite.core.objects.polygons import Ring

finite = st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False)
positive = st.floats(1e-3, 1e4, allow_nan=False, allow_infinity=False)
ids = st.integers(0, 2**31 - 1)
statuses = st.sampled_from(REVIEW_STATUSES)
attributes = st.dictionaries(
    st.text(min_size=1, max_size=6),
    st.one_of(st.booleans(), st.integers(-100, 100), st.text(max_size=5), finite),
    max_size=3,
)


@st.composite
def planes(draw):
    return tuple(draw(st.lists(st.integers(0, 50), max_size=2)))


@st.composite
def polygons(draw):
    n = draw(st.integers(3, 12))
    xy = np.array(draw(st.lists(st.tuples(finite, finite), min_size=n, max_size=n)))
    return Polygon(Ring(xy, hole=draw(st.booleans())), draw(ids), draw(ids), draw(planes()),
                   draw(statuses), draw(attributes))  # fmt: skip


@st.composite
def rotated(draw):
    cx, cy, a = draw(finite), draw(finite), draw(st.floats(-180, 180))
    w, h = draw(positive), draw(positive)
    src = None
    if draw(st.booleans()):
        src = np.array(draw(st.lists(st.tuples(finite, finite), min_size=4, max_size=4)))
    return RotatedBox(cx, cy, w, h, a, draw(ids), draw(planes()), draw(ids),
                      draw(st.one_of(st.none(), attributes.filter(bool))), draw(statuses),
                      draw(st.booleans()), source_corners=src)  # fmt: skip


@st.composite
def keypoint_sets(draw):
    k = draw(st.integers(1, 17))
    xy = draw(st.lists(st.tuples(finite, finite, st.sampled_from((0, 1, 2))),
                       min_size=k, max_size=k))  # fmt: skip
    box = draw(st.one_of(st.none(), st.tuples(finite, finite, finite, finite)))
    return Keypoints(np.array(xy, float), draw(ids), draw(planes()), draw(ids),
                     draw(attributes), draw(statuses), box)  # fmt: skip


def _same_polygon(a: Polygon, b: Polygon) -> None:
    assert np.array_equal(a.ring.xy, b.ring.xy) and a.ring.hole == b.ring.hole
    assert (a.class_id, a.instance_id, a.plane, a.status, a.attributes) == (
        b.class_id, b.instance_id, b.plane, b.status, b.attributes)  # fmt: skip


def _same_rotated(a: RotatedBox, b: RotatedBox) -> None:
    assert a == b  # dataclass equality: geometry, class, plane, ids, attributes, status
    if a.source_corners is None:
        assert b.source_corners is None
    else:
        assert np.array_equal(a.source_corners, b.source_corners)


def _same_keypoints(a: Keypoints, b: Keypoints) -> None:
    assert np.array_equal(a.xyv, b.xyv)
    assert (a.class_id, a.plane, a.instance_id, a.attributes, a.status, a.box) == (
        b.class_id, b.plane, b.instance_id, b.attributes, b.status, b.box)  # fmt: skip


def _check_same(a: ImageAnnotation, b: ImageAnnotation) -> None:
    assert len(a.polygons) == len(b.polygons)
    assert len(a.rotated) == len(b.rotated)
    assert len(a.keypoints) == len(b.keypoints)
    for p, q in zip(a.polygons, b.polygons, strict=True):
        _same_polygon(p, q)
    for p, q in zip(a.rotated, b.rotated, strict=True):
        _same_rotated(p, q)
    for p, q in zip(a.keypoints, b.keypoints, strict=True):
        _same_keypoints(p, q)


def _annotation() -> ImageAnnotation:
    inst = np.zeros((8, 9), np.int32)
    inst[1:4, 2:5] = 1
    return ImageAnnotation(
        "img",
        (8, 9),
        instances=inst,
        polygons=[Polygon(Ring(np.array([[1.25, 1.5], [5.0, 1.5], [3.1, 4.7]])), 2, 1, (),
                          "approved", {"occluded": True})],
        rotated=[RotatedBox(4.5, 4.0, 3.0, 2.0, 30.0, 1, (), 1, {"truncated": False},
                            "needs-fix", True)],
        keypoints=[Keypoints(np.array([[1.5, 2.5, 2], [0, 0, 0], [3.5, 1.5, 1]]), 3, (), 1,
                             {"pose": "sit"}, "approved", (1.0, 1.0, 5.0, 4.0))],
    )  # fmt: skip


def test_copy_keeps_polygons_rotated_boxes_and_keypoints_independently():
    ann = _annotation()
    dup = ann.copy()
    _check_same(ann, dup)
    dup.polygons[0].ring.xy[0, 0] = 99.0
    dup.rotated[0].attributes["truncated"] = True
    dup.keypoints[0].xyv[0, 2] = 1
    dup.keypoints.append(dup.keypoints[0])
    assert ann.polygons[0].ring.xy[0, 0] == 1.25
    assert ann.rotated[0].attributes == {"truncated": False}
    assert ann.keypoints[0].xyv[0, 2] == 2 and len(ann.keypoints) == 1


def test_sidecar_json_holds_the_object_kinds(tmp_path):
    jp = save_sidecar(_annotation(), tmp_path / "img.json")
    doc = json.loads(jp.read_text())["annotation"]
    assert doc["polygons"] == [
        {
            "xy": [[1.25, 1.5], [5.0, 1.5], [3.1, 4.7]],
            "hole": False,
            "class_id": 2,
            "instance_id": 1,
            "plane": [],
            "status": "approved",
            "attributes": {"occluded": True},
        }
    ]
    assert doc["rotated"] == [
        {
            "xywha": [4.5, 4.0, 3.0, 2.0, 30.0],
            "difficult": True,
            "source_corners": None,
            "class_id": 1,
            "instance_id": 1,
            "plane": [],
            "status": "needs-fix",
            "attributes": {"truncated": False},
        }
    ]
    assert doc["keypoints"] == [{"xyv": [[1.5, 2.5, 2.0], [0.0, 0.0, 0.0], [3.5, 1.5, 1.0]],
                                 "box": [1.0, 1.0, 5.0, 4.0], "class_id": 3, "instance_id": 1,
                                 "plane": [], "status": "approved",
                                 "attributes": {"pose": "sit"}}]  # fmt: skip
    _check_same(_annotation(), load_sidecar(jp))


def test_an_image_with_only_object_kinds_counts_as_labelled():
    for kind in ("polygons", "rotated", "keypoints"):
        ann = ImageAnnotation("img", (8, 9))
        assert not summarize(ann)["labeled"]
        setattr(ann, kind, getattr(_annotation(), kind))
        assert summarize(ann)["labeled"], kind


@settings(max_examples=40, deadline=None)
@given(
    st.lists(polygons(), max_size=4),
    st.lists(rotated(), max_size=4),
    st.lists(keypoint_sets(), max_size=4),
)
def test_sidecar_round_trip_is_exact(tmp_path_factory, polys, rboxes, kps):
    ann = ImageAnnotation("img", (7, 5, 6), polygons=polys, rotated=rboxes, keypoints=kps)
    jp = save_sidecar(ann, tmp_path_factory.mktemp("sc") / "img.json")
    back = load_sidecar(jp)
    _check_same(ann, back)
    _check_same(ann, ann.copy())
    # the document is plain JSON: a second save writes the same text
    again = save_sidecar(back, jp.with_name("again.json"))
    assert json.loads(again.read_text())["annotation"] == json.loads(jp.read_text())["annotation"]


def test_old_sidecars_without_object_kinds_still_load(tmp_path):
    ann = ImageAnnotation("img", (8, 9))
    jp = save_sidecar(ann, tmp_path / "img.json")
    doc = json.loads(jp.read_text())
    assert not {"polygons", "rotated", "keypoints"} & set(doc["annotation"])
    back = load_sidecar(jp)
    assert back.polygons == [] and back.rotated == [] and back.keypoints == []


@pytest.mark.parametrize(
    ("kind", "index", "change", "field"),
    [
        ("polygons", 0, {"xy": [[0, 0], [1, 1]]}, "xy"),
        ("polygons", 0, {"xy": [[0, 0], [1, "a"], [2, 0]]}, "xy"),
        ("polygons", 0, {"status": "done"}, "status"),
        ("rotated", 0, {"xywha": [4.5, 4.0, 0.0, 2.0, 30.0]}, "xywha"),
        ("rotated", 0, {"class_id": "cat"}, "class_id"),
        ("rotated", 0, {"source_corners": [[0, 0], [1, 0], [1, 1]]}, "source_corners"),
        ("keypoints", 0, {"xyv": [[1.5, 2.5, 3]]}, "xyv"),
        ("keypoints", 0, {"plane": [0.5]}, "plane"),
        ("keypoints", 0, {"instance_id": -1}, "instance_id"),
        ("keypoints", 0, {"attributes": [1]}, "attributes"),
    ],
)
def test_a_malformed_object_is_a_format_error_naming_file_entry_and_field(
    tmp_path, kind, index, change, field
):
    jp = save_sidecar(_annotation(), tmp_path / "img.json")
    doc = json.loads(jp.read_text())
    doc["annotation"][kind][index].update(change)
    jp.write_text(json.dumps(doc))
    with pytest.raises(FormatError) as err:
        load_sidecar(jp)
    assert err.value.path == str(jp)
    assert err.value.field == field
    assert err.value.where.startswith(f"annotation {kind}[{index}]")


# -- review fix: polygon matching rasterises the rings where they lie ----------------------
#: float vertices whose pycocotools raster changes by one pixel when the ring is first
#: shifted by an integer into its bounding box (the last bits of the floats change)
SHIFT_SENSITIVE = np.array([
    [323.5752474815994, 490.47406737176516], [313.611282867322, 484.996218744662],
    [291.4952959573982, 476.5168946882658], [295.83602718576907, 470.0610312256994],
    [318.6311632008553, 470.90442930407687], [329.01855228495305, 476.9204368903068],
])  # fmt: skip


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_polygon_iou_is_pycocotools_iou_on_the_full_frame_for_float_vertices():
    mask_utils = pytest.importorskip("pycocotools.mask")
    from napari_labelsuite.core.qc import match_polygons

    H = W = 700

    def coco(xy: np.ndarray) -> np.ndarray:
        return mask_utils.decode(mask_utils.frPyObjects([xy.ravel().tolist()], H, W))[:, :, 0]

    # the sensitive ring really does change when shifted into its box first
    x0, y0 = (int(v) for v in np.floor(SHIFT_SENSITIVE.min(axis=0)))
    moved = SHIFT_SENSITIVE - [x0, y0]
    crop = mask_utils.decode(mask_utils.frPyObjects([moved.ravel().tolist()], H - y0, W - x0))
    assert (coco(SHIFT_SENSITIVE)[y0:, x0:] != crop[:, :, 0]).sum() == 1
    rng = np.random.default_rng(3)
    rings = [SHIFT_SENSITIVE]
    for _ in range(30):
        c, ang = rng.uniform(200, 650, 2), np.sort(rng.uniform(0, 2 * np.pi, 7))
        r = rng.uniform(3, 25, 7)
        rings.append(np.column_stack([c[0] + r * np.cos(ang), c[1] + r * np.sin(ang)]))
    for xy in rings:
        # against its integer bounding box: the IoU counts every pixel of the raster
        lo, hi = np.floor(xy.min(axis=0)), np.ceil(xy.max(axis=0))
        box = np.array([[lo[0], lo[1]], [hi[0], lo[1]], [hi[0], hi[1]], [lo[0], hi[1]]])
        got = match_polygons([Polygon(Ring(xy), 1)], [Polygon(Ring(box), 1)], 1e-9)
        want = mask_utils.iou(
            [mask_utils.encode(np.asfortranarray(coco(xy)))],
            [mask_utils.encode(np.asfortranarray(coco(box)))],
            [0],
        )[0, 0]
        assert got.iou.tolist() == [want]


def test_an_image_with_only_object_kinds_is_not_an_unlabeled_image_in_qc():
    from napari_labelsuite.core.qc.checks import check_dataset

    blank = np.zeros((8, 9), np.int32)
    for kind in ("polygons", "rotated", "keypoints"):
        ann = ImageAnnotation("img", (8, 9), instances=blank)
        assert [f.check for f in check_dataset([ann])] == ["unlabeled_image"]
        setattr(ann, kind, getattr(_annotation(), kind))
        assert check_dataset([ann]) == [], kind
        assert not ann.is_empty() and ann.class_ids() == {getattr(ann, kind)[0].class_id}
