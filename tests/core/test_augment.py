"""Augmentation pipeline: image, masks and boxes transformed together."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import ndimage as ndi

from napari_labelsuite.core.annotation import Box, ImageAnnotation, ObjectInfo
from napari_labelsuite.core.augment import Pipeline, annotation_plane
from napari_labelsuite.core.augment_transforms import (
    Affine,
    Brightness,
    BrightnessContrast,
    ChannelDropout,
    ChannelJitter,
    Crop,
    ElasticDeform,
    Gamma,
    GaussianBlur,
    GaussianNoise,
    HorizontalFlip,
    RandomCrop,
    RandomResizedCrop,
    Rot90,
    VerticalFlip,
)
from napari_labelsuite.core.augment_warp import resolve_backend
from napari_labelsuite.core.boxes import boxes_from_instances
from napari_labelsuite.core.errors import AugmentError

try:
    import cv2  # noqa: F401

    BACKENDS = ["scipy", "opencv"]
except ImportError:  # OpenCV is optional
    BACKENDS = ["scipy"]


@pytest.fixture(scope="module")
def sample(small_cells):
    """The 256 x 256 cells with one box per instance (linked through instance_id)."""
    boxes = boxes_from_instances(small_cells.instances)
    objects = {b.instance_id: ObjectInfo(class_id=1) for b in boxes}
    ann = ImageAnnotation(
        "cells",
        small_cells.instances.shape,
        semantic=small_cells.semantic,
        instances=small_cells.instances,
        objects=objects,
        boxes=boxes,
    )
    return small_cells.image, ann


def _mask_box(mask, ident):
    rows, cols = np.nonzero(mask == ident)
    return cols.min(), rows.min(), cols.max() + 1, rows.max() + 1


GEOMETRIES = {
    "rotate-scale-shear": [Affine(rotate=(25, 25), scale=(1.15, 1.15), shear=(10, 10))],
    "shift-rotate": [Affine(rotate=(-40, -40), translate_x=(0.1, 0.1))],
    "resized-crop": [RandomResizedCrop(height=200, width=150, scale=(0.3, 0.6))],
    "flip-rot90-affine": [HorizontalFlip(p=1), Rot90(ks=(1,)), Affine(rotate=(7, 7))],
}


# -- geometric consistency --------------------------------------------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", sorted(GEOMETRIES))
def test_boxes_still_enclose_their_transformed_instances(sample, name, backend):
    image, ann = sample
    pipe = Pipeline(GEOMETRIES[name], min_visibility=0.0, backend=backend)
    _, out, diag = pipe.apply(image, ann, seed=5)
    assert out.boxes
    for b in out.boxes:
        if not np.any(out.instances == b.instance_id):
            continue
        x0, y0, x1, y1 = _mask_box(out.instances, b.instance_id)
        # a nearest-neighbour pixel is in the mask when its *centre* maps into the object,
        # so its square may reach half a pixel past the transformed outline
        assert b.x0 - 0.5 <= x0 and x1 <= b.x1 + 0.5, (b, (x0, x1))
        assert b.y0 - 0.5 <= y0 and y1 <= b.y1 + 0.5, (b, (y0, y1))


@pytest.mark.parametrize("backend", BACKENDS)
def test_boxes_enclose_instances_after_elastic_deformation(sample, backend):
    image, ann = sample
    pipe = Pipeline([ElasticDeform(alpha=6, sigma=8)], min_visibility=0.0, backend=backend)
    _, out, _ = pipe.apply(image, ann, seed=2)
    for b in out.boxes:
        x0, y0, x1, y1 = _mask_box(out.instances, b.instance_id)
        assert b.x0 - 1 <= x0 and x1 <= b.x1 + 1
        assert b.y0 - 1 <= y0 and y1 <= b.y1 + 1


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("mask_fill", ["constant", "same"])
@pytest.mark.parametrize("name", sorted(GEOMETRIES) + ["elastic"])
def test_transformed_ids_are_a_subset_of_the_original_ids(sample, name, mask_fill, backend):
    image, ann = sample
    transforms = GEOMETRIES.get(name, [ElasticDeform(alpha=10, sigma=4)])
    pipe = Pipeline(transforms, fill_mode="reflect", mask_fill=mask_fill, backend=backend)
    _, out, diag = pipe.apply(image, ann, seed=11)
    assert set(np.unique(out.instances)) <= set(np.unique(ann.instances))
    assert set(np.unique(out.semantic)) <= set(np.unique(ann.semantic))
    assert diag.invented_values == {"semantic": [], "instances": []}
    assert diag.labels_intact


def test_linear_interpolation_would_invent_ids_that_the_pipeline_never_does(sample):
    image, ann = sample
    sparse = ImageAnnotation("s", ann.shape, instances=ann.instances.astype(np.int32) * 10)
    inv = np.linalg.inv(np.array([[1.1, 0.2, -5.0], [-0.2, 1.1, 3.0], [0, 0, 1.0]]))
    smeared = ndi.affine_transform(sparse.instances, inv, order=1)
    assert set(np.unique(smeared)) - set(np.unique(sparse.instances))  # the trap exists
    pipe = Pipeline([Affine(rotate=(-10, -10), scale=(1.1, 1.1))])
    _, out, diag = pipe.apply(image, sparse, seed=0)
    assert diag.invented_values["instances"] == []
    assert set(np.unique(out.instances)) <= set(np.unique(sparse.instances))


def test_horizontal_flip_is_exact_and_inverts(sample):
    image, ann = sample
    pipe = Pipeline([HorizontalFlip(p=1.0)])
    img1, ann1, _ = pipe.apply(image, ann)
    np.testing.assert_array_equal(img1, image[..., ::-1])
    np.testing.assert_array_equal(ann1.instances, ann.instances[:, ::-1])
    w = ann.shape[1]
    assert [(b.x0, b.x1) for b in ann1.boxes] == [(w - b.x1, w - b.x0) for b in ann.boxes]
    img2, ann2, _ = pipe.apply(img1, ann1)
    np.testing.assert_array_equal(img2, image)
    np.testing.assert_array_equal(ann2.semantic, ann.semantic)
    assert [b.xyxy for b in ann2.boxes] == [b.xyxy for b in ann.boxes]


def test_vertical_flip_matches_numpy(sample):
    image, ann = sample
    img, out, _ = Pipeline([VerticalFlip(p=1.0)]).apply(image, ann)
    np.testing.assert_array_equal(img, image[:, ::-1])
    np.testing.assert_array_equal(out.instances, ann.instances[::-1])


@pytest.mark.parametrize("k", [1, 2, 3])
def test_rot90_matches_numpy_and_inverts(k):
    rng = np.random.default_rng(k)
    image = rng.integers(0, 255, (40, 60, 3), dtype=np.uint8)
    inst = np.zeros((40, 60), np.int32)
    inst[5:12, 30:50] = 7
    ann = ImageAnnotation("r", (40, 60), instances=inst, boxes=[Box(30, 5, 50, 12, 1)])
    img, out, _ = Pipeline([Rot90(ks=(k,))]).apply(image, ann)
    np.testing.assert_array_equal(img, np.rot90(image, k))
    np.testing.assert_array_equal(out.instances, np.rot90(inst, k))
    [b] = out.boxes
    assert (b.x0, b.y0, b.x1, b.y1) == _mask_box(out.instances, 7)
    back, again, _ = Pipeline([Rot90(ks=(4 - k,))]).apply(img, out)
    np.testing.assert_array_equal(back, image)
    np.testing.assert_array_equal(again.instances, inst)
    assert again.boxes[0].xyxy == (30, 5, 50, 12)


# -- fill modes -------------------------------------------------------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    "mode,np_mode", [("constant", "constant"), ("nearest", "edge"), ("reflect", "symmetric"),
                     ("wrap", "wrap")],
)  # fmt: skip
def test_fill_modes_match_keras_semantics(mode, np_mode, backend):
    image = np.arange(8 * 10, dtype=np.float32).reshape(8, 10) + 1
    labels = np.arange(8 * 10, dtype=np.int32).reshape(8, 10) + 1
    ann = ImageAnnotation("f", (8, 10), instances=labels)
    pipe = Pipeline(
        [Affine(translate_px_x=(3, 3))], fill_mode=mode, mask_fill="same", backend=backend
    )
    img, out, diag = pipe.apply(image, ann)
    expected = np.pad(image, ((0, 0), (3, 0)), mode=np_mode)[:, :10]
    np.testing.assert_allclose(img, expected, atol=1e-4)
    np.testing.assert_array_equal(out.instances, np.pad(labels, ((0, 0), (3, 0)), np_mode)[:, :10])
    assert diag.padding_fraction == pytest.approx(0.3)


def test_masks_get_background_outside_the_frame_by_default():
    labels = np.full((8, 10), 4, np.int32)
    ann = ImageAnnotation("f", (8, 10), instances=labels)
    pipe = Pipeline([Affine(translate_px_x=(3, 3))], fill_mode="reflect")
    _, out, _ = pipe.apply(np.ones((8, 10)), ann)
    assert (out.instances[:, :3] == 0).all() and (out.instances[:, 3:] == 4).all()


# -- determinism ------------------------------------------------------------------------------
FULL = [
    HorizontalFlip(),
    Rot90(),
    Affine(rotate=(-30, 30), scale=(0.8, 1.2), translate_x=(-0.1, 0.1), shear=(-5, 5)),
    ElasticDeform(alpha=5, sigma=6, p=0.5),
    RandomCrop(height=200, width=200),
    BrightnessContrast(),
    Gamma(),
    GaussianNoise(),
    GaussianBlur(p=0.5),
    ChannelJitter(),
    ChannelDropout(p=0.5),
]


def test_same_seed_gives_the_same_variant(sample):
    image, ann = sample
    a = Pipeline(FULL).apply(image, ann, seed=42)
    b = Pipeline.from_dict(Pipeline(FULL).to_dict()).apply(image, ann, seed=42)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1].instances, b[1].instances)
    assert [x.xyxy for x in a[1].boxes] == [x.xyxy for x in b[1].boxes]
    assert a[2].to_dict() == b[2].to_dict()


def test_different_seeds_give_different_variants(sample):
    image, ann = sample
    pipe = Pipeline(FULL)
    variants = pipe.apply_many(image, ann, [1, 2, 3])
    assert len({v[0].tobytes() for v in variants}) == 3


def test_apply_many_matches_apply(sample):
    image, ann = sample
    pipe = Pipeline(FULL)
    many = pipe.apply_many(image, ann, [7])[0]
    one = pipe.apply(image, ann, seed=7)
    np.testing.assert_array_equal(many[0], one[0])


def test_input_arrays_are_not_modified(sample):
    image, ann = sample  # read-only fixture arrays: any in-place write would raise
    Pipeline([BrightnessContrast(), ChannelDropout()]).apply(image, ann, seed=1)
    img, out, _ = Pipeline([]).apply(image, ann)
    assert not np.shares_memory(img, image)
    assert not np.shares_memory(out.instances, ann.instances)


# -- diagnostics ------------------------------------------------------------------------------
@pytest.fixture
def two_squares():
    inst = np.zeros((100, 100), np.int32)
    inst[10:30, 10:30] = 1  # 400 px, left
    inst[10:30, 60:80] = 2  # 400 px, right
    boxes = [Box(10, 10, 30, 30, 1, instance_id=1), Box(60, 10, 80, 30, 1, instance_id=2)]
    ann = ImageAnnotation(
        "sq", (100, 100), instances=inst, boxes=boxes, objects={1: ObjectInfo(1), 2: ObjectInfo(1)}
    )
    return np.zeros((100, 100), np.uint8), ann


def test_crop_that_removes_an_instance_reports_it_lost(two_squares):
    image, ann = two_squares
    _, out, diag = Pipeline([Crop(y=0, x=0, height=100, width=50)]).apply(image, ann)
    assert diag.instances_lost == [2]
    assert diag.boxes_dropped == [1] and diag.boxes_kept == [0]
    assert set(out.objects) == {1}


def test_crop_that_cuts_an_instance_small_reports_its_pixel_counts(two_squares):
    image, ann = two_squares
    pipe = Pipeline([Crop(y=0, x=0, height=100, width=62)], min_instance_pixels=50)
    _, out, diag = pipe.apply(image, ann)
    assert diag.instances_cut == {2: (400, 40)}
    assert diag.instances_lost == []


@pytest.mark.parametrize(
    "min_vis,policy,kept,dropped,flagged,clipped",
    [
        (0.3, "drop", [0, 1], [], [], [1]),
        (0.6, "drop", [0], [1], [], []),
        (0.6, "flag", [0, 1], [], [1], []),
    ],
)
def test_half_visible_box_is_clipped_dropped_or_flagged(
    two_squares, min_vis, policy, kept, dropped, flagged, clipped
):
    image, ann = two_squares
    pipe = Pipeline(
        [Crop(y=0, x=0, height=100, width=70)], min_visibility=min_vis, box_policy=policy
    )
    _, out, diag = pipe.apply(image, ann)
    assert diag.box_visibility == [1.0, 0.5]
    assert (diag.boxes_kept, diag.boxes_dropped) == (kept, dropped)
    assert (diag.boxes_flagged, diag.boxes_clipped) == (flagged, clipped)
    if 1 in kept:
        assert out.boxes[1].xyxy == (60, 10, 70, 30)


def test_padding_fraction_of_a_rotation_is_the_uncovered_area():
    ann = ImageAnnotation("p", (101, 101))
    _, _, diag = Pipeline([Affine(rotate=(45, 45))]).apply(np.ones((101, 101)), ann)
    # a square turned 45 degrees about its centre leaves four triangles uncovered
    assert diag.padding_fraction == pytest.approx(1 - (2 * (np.sqrt(2) - 1)), abs=1e-9)


def test_applied_lists_the_transforms_that_fired_with_their_parameters(two_squares):
    image, ann = two_squares
    pipe = Pipeline([HorizontalFlip(p=0.0), Gamma(gamma=(2.0, 2.0), p=1.0)])
    _, _, diag = pipe.apply(image, ann, seed=3)
    assert diag.applied == [{"type": "Gamma", "gamma": 2.0}]


# -- images: layouts, dtypes, intensities -----------------------------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
def test_channel_first_and_channel_last_give_the_same_pixels(sample, backend):
    image, ann = sample
    pipe = Pipeline([Affine(rotate=(-20, 20)), ChannelJitter()], backend=backend)
    first, _, _ = pipe.apply(image, ann, seed=4)
    last, _, _ = pipe.apply(np.moveaxis(image, 0, -1), ann, seed=4)
    assert first.shape == image.shape and last.shape == image.shape[1:] + (2,)
    np.testing.assert_array_equal(first, np.moveaxis(last, -1, 0))


@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.uint16, np.float32, np.float64, bool])
def test_image_dtype_is_kept(dtype):
    image = (np.random.default_rng(0).random((30, 40)) * 100).astype(dtype)
    ann = ImageAnnotation("d", (30, 40))
    pipe = Pipeline([Affine(rotate=(10, 10)), BrightnessContrast(), GaussianNoise()])
    img, _, _ = pipe.apply(image, ann, seed=1)
    assert img.dtype == np.dtype(dtype) and img.shape == (30, 40)


def test_brightness_contrast_follows_its_formula_on_the_value_scale():
    image = np.array([[0.0, 1.0], [2.0, 4.0]], np.float32)  # scale = max = 4
    ann = ImageAnnotation("b", (2, 2))
    pipe = Pipeline([BrightnessContrast(brightness=(0.25, 0.25), contrast=(0.5, 0.5))])
    img, _, _ = pipe.apply(image, ann)
    np.testing.assert_allclose(img, image * 1.5 + 0.25 * 4)


def test_integer_images_saturate_instead_of_wrapping():
    image = np.array([[100, 250]], np.uint8)
    img, _, _ = Pipeline([Brightness(factor=(2.0, 2.0))]).apply(
        np.repeat(image, 2, 0), ImageAnnotation("s", (2, 2))
    )
    np.testing.assert_array_equal(img, [[200, 255], [200, 255]])


@pytest.mark.parametrize(
    ("dtype", "value"),
    [(np.int32, 2**31 - 11), (np.uint32, 2**32 - 11), (np.int64, 2**63 - 2**20)],
)
def test_wide_integer_images_saturate_at_the_dtype_maximum(dtype, value):
    image = np.array([[value, 10]], dtype)
    img, _, _ = Pipeline([Brightness(factor=(1.5, 1.5))]).apply(
        image, ImageAnnotation("w", (1, 2))
    )
    assert img.dtype == np.dtype(dtype)
    assert img.tolist() == [[int(np.iinfo(dtype).max), 15]]


def test_float64_images_keep_float64_precision_through_intensity_transforms():
    image = np.array([[1.0 + 2**-40, 3.0]], np.float64)
    img, _, _ = Pipeline([Brightness(factor=(2.0, 2.0))]).apply(
        image, ImageAnnotation("f", (1, 2))
    )
    assert img.tolist() == [[2.0 + 2**-39, 6.0]]


def test_gamma_follows_its_formula():
    image = np.array([[0.25, 1.0]], np.float32)
    img, _, _ = Pipeline([Gamma(gamma=(2.0, 2.0))]).apply(image, ImageAnnotation("g", (1, 2)))
    np.testing.assert_allclose(img, [[0.0625, 1.0]])


def test_channel_dropout_zeroes_exactly_one_channel_of_three():
    image = np.ones((3, 8, 8), np.float32)
    pipe = Pipeline([ChannelDropout(channels=(1, 1), fill=0)])
    for seed in range(5):
        img, _, diag = pipe.apply(image, ImageAnnotation("c", (8, 8)), seed=seed)
        [dropped] = diag.applied[0]["dropped"]
        assert img[dropped].max() == 0 and (np.delete(img, dropped, 0) == 1).all()


def test_channel_jitter_scales_each_channel_by_its_own_factor():
    image = np.ones((2, 4, 4), np.float32)
    pipe = Pipeline([ChannelJitter(scale=(0.5, 2.0), shift=(0, 0))])
    img, _, diag = pipe.apply(image, ImageAnnotation("j", (4, 4)), seed=9)
    factors = diag.applied[0]["scale"]
    np.testing.assert_allclose(img[:, 0, 0], factors, rtol=1e-6)
    assert factors[0] != factors[1]


@pytest.mark.skipif(len(BACKENDS) < 2, reason="OpenCV not installed")
def test_opencv_and_scipy_resample_alike(sample):
    image, ann = sample
    t = [Affine(rotate=(17, 17), scale=(1.1, 1.1))]
    a = Pipeline(t, backend="scipy").apply(image, ann)
    b = Pipeline(t, backend="opencv").apply(image, ann)
    assert np.mean(a[1].instances == b[1].instances) > 0.99
    assert np.abs(a[0].astype(float) - b[0].astype(float)).mean() < 0.01 * image.max()


# -- nD input ---------------------------------------------------------------------------------
def test_annotation_plane_takes_one_plane_and_window():
    inst = np.zeros((3, 50, 60), np.int32)
    inst[1, 10:20, 30:40] = 5
    boxes = [Box(30, 10, 40, 20, 1, plane=(1,)), Box(0, 0, 5, 5, 1, plane=(2,))]
    ann = ImageAnnotation("z", (3, 50, 60), instances=inst, boxes=boxes)
    plane = annotation_plane(ann, (1,), window=(5, 45, 35, 60))
    assert plane.shape == (40, 25) and plane.axes == "yx"
    assert plane.instances[5:15, 0:5].min() == 5
    [b] = plane.boxes
    assert (b.xyxy, b.plane) == ((0.0, 5.0, 5.0, 15.0), ())


def test_nd_annotation_is_refused_with_a_pointer_to_annotation_plane():
    ann = ImageAnnotation("z", (3, 10, 10))
    with pytest.raises(AugmentError, match="annotation_plane"):
        Pipeline([]).apply(np.zeros((3, 10, 10)), ann)


# -- bad input --------------------------------------------------------------------------------
def test_image_and_mask_shapes_that_do_not_match_are_refused():
    ann = ImageAnnotation("m", (10, 12), instances=np.zeros((10, 12), np.int32))
    with pytest.raises(AugmentError, match="image") as e:
        Pipeline([]).apply(np.zeros((10, 13)), ann)
    assert e.value.where == "m" and e.value.value == (10, 13)


def test_mask_of_the_wrong_shape_is_refused():
    ann = ImageAnnotation("m", (10, 12), semantic=np.zeros((10, 11), np.uint8))
    with pytest.raises(AugmentError) as e:
        Pipeline([]).apply(np.zeros((10, 12)), ann)
    assert e.value.field == "semantic"


@pytest.mark.parametrize(
    "factory,field",
    [
        (lambda: Affine(rotate=(10, -10)), "rotate"),
        (lambda: Affine(scale=(0, 1)), "scale"),
        (lambda: HorizontalFlip(p=1.5), "p"),
        (lambda: Rot90(ks=(5,)), "ks"),
        (lambda: RandomCrop(height=0), "height"),
        (lambda: ElasticDeform(sigma=-1), "sigma"),
        (lambda: Pipeline([], fill_mode="mirror"), "fill_mode"),
        (lambda: Pipeline([], min_visibility=2), "min_visibility"),
    ],
)
def test_parameters_out_of_range_are_refused(factory, field):
    with pytest.raises(AugmentError) as e:
        factory()
    assert e.value.field == field


def test_crop_larger_than_the_frame_is_refused(two_squares):
    image, ann = two_squares
    with pytest.raises(AugmentError, match="larger than the 100x100"):
        Pipeline([RandomCrop(height=120, width=50)]).apply(image, ann)


# -- serialisation ----------------------------------------------------------------------------
@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_pipeline_file_round_trip(tmp_path, suffix):
    pipe = Pipeline(FULL, fill_mode="wrap", min_visibility=0.5, box_policy="flag")
    path = pipe.save(tmp_path / f"pipe{suffix}")
    again = Pipeline.load(path)
    assert again == pipe
    assert again.to_dict()["transforms"][2]["rotate"] == [-30.0, 30.0]
    if suffix == ".json":
        assert json.loads(path.read_text())["fill_mode"] == "wrap"


def test_unknown_transform_in_a_file_names_the_entry(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("transforms:\n  - type: HorizontalFlip\n  - type: Swirl\n")
    with pytest.raises(AugmentError) as e:
        Pipeline.load(path)
    assert (e.value.where, e.value.field, e.value.value) == ("transforms[1]", "type", "Swirl")
    assert e.value.path == str(path)


def test_unknown_parameter_in_a_file_names_it(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"transforms": [{"type": "Affine", "rotation": 3}]}))
    with pytest.raises(AugmentError) as e:
        Pipeline.load(path)
    assert (e.value.where, e.value.field) == ("transforms[0]", "rotation")


# -- Keras ------------------------------------------------------------------------------------
def test_from_keras_maps_image_data_generator_arguments():
    pipe = Pipeline.from_keras(
        {
            "rotation_range": 20,
            "width_shift_range": 0.1,
            "height_shift_range": 8,
            "shear_range": 5,
            "zoom_range": 0.25,
            "horizontal_flip": True,
            "brightness_range": [0.5, 1.5],
            "fill_mode": "reflect",
            "rescale": 1 / 255,
        }
    )
    affine, flip, bright = pipe.transforms
    assert affine.rotate == (-20, 20) and affine.shear == (-5, 5)
    assert affine.translate_x == (-0.1, 0.1) and affine.translate_px_y == (-8, 8)
    assert affine.scale == pytest.approx((1 / 1.25, 1 / 0.75))
    assert isinstance(flip, HorizontalFlip) and flip.p == 0.5
    assert bright.factor == (0.5, 1.5)
    assert pipe.fill_mode == "reflect"


def test_from_keras_defaults_to_keras_nearest_fill():
    assert Pipeline.from_keras({"horizontal_flip": True}).fill_mode == "nearest"


def test_from_keras_refuses_unsupported_arguments():
    with pytest.raises(AugmentError) as e:
        Pipeline.from_keras({"channel_shift_range": 10})
    assert e.value.field == "channel_shift_range"


# -- albumentations ---------------------------------------------------------------------------
def test_albumentations_export_lists_what_has_no_equivalent():
    pipe = Pipeline([HorizontalFlip(), ChannelJitter(shift=(-0.1, 0.1))])
    d = pipe.to_albumentations()
    assert [t["__class_fullname__"] for t in d["transform"]["transforms"]] == ["HorizontalFlip"]
    assert d["labelsuite_skipped"] == [1]
    with pytest.raises(AugmentError) as e:
        pipe.to_albumentations(strict=True)
    assert (e.value.where, e.value.value) == ("transforms[1]", "ChannelJitter")


def test_albumentations_compose_reproduces_a_flip_exactly(sample):
    A = pytest.importorskip("albumentations")
    image, ann = sample
    pipe = Pipeline([HorizontalFlip(p=1.0), VerticalFlip(p=1.0)])
    compose = pipe.to_albumentations_compose(strict=True)
    assert isinstance(compose, A.Compose)
    res = compose(
        image=np.moveaxis(image, 0, -1),
        masks=[ann.instances],
        bboxes=[b.xyxy for b in ann.boxes],
        class_ids=[b.class_id for b in ann.boxes],
    )
    ours_img, ours, _ = pipe.apply(image, ann)
    np.testing.assert_array_equal(np.moveaxis(res["image"], -1, 0), ours_img)
    np.testing.assert_array_equal(res["masks"][0], ours.instances)
    np.testing.assert_allclose(res["bboxes"], [b.xyxy for b in ours.boxes], atol=1e-3)


@pytest.mark.parametrize(
    "affine,agreement",
    [
        (Affine(rotate=(30, 30), scale=(1.2, 1.2)), 1.0),
        (Affine(shear=(15, 15)), 1.0),
        (Affine(translate_px_x=(7, 7), translate_px_y=(-3, -3)), 1.0),
        # sub-pixel shifts: nearest-neighbour ties fall either way on a few edge pixels
        (Affine(rotate=(30, 30), translate_x=(0.1, 0.1), translate_y=(-0.2, -0.2)), 0.99),
    ],
)
def test_exported_affine_moves_masks_as_ours(affine, agreement):
    pytest.importorskip("albumentations")
    masks = np.zeros((101, 121), np.int32)
    masks[10:40, 20:50], masks[60:90, 70:110] = 1, 2
    ann = ImageAnnotation("a", masks.shape, instances=masks)
    pipe = Pipeline([affine])
    ours = pipe.apply(masks.astype(np.uint8), ann)[1].instances
    theirs = pipe.to_albumentations_compose(strict=True)(
        image=masks.astype(np.uint8), mask=masks, bboxes=np.zeros((0, 4)), class_ids=[]
    )["mask"]
    assert np.mean(ours == theirs) >= agreement


def test_every_transform_exports_to_a_loadable_albumentations_compose():
    pytest.importorskip("albumentations")
    pipe = Pipeline([t for t in FULL if not isinstance(t, ChannelJitter)])
    compose = pipe.to_albumentations_compose(strict=True)
    assert len(compose.transforms) == len(pipe)


def test_unknown_backend_is_refused():
    with pytest.raises(AugmentError) as e:
        resolve_backend("torch")
    assert e.value.field == "backend"
