"""Pixel classifier: features, training from scribbles, prediction, bad input."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from scipy import ndimage as ndi

from napari_labelsuite.core.classifier import (
    FeatureCache,
    FeatureSettings,
    PixelClassifier,
    compute_features,
)
from napari_labelsuite.core.classifier.features import block_features
from napari_labelsuite.core.errors import ClassifierError
from napari_labelsuite.core.taxonomy import Taxonomy

SMALL = {"n_estimators": 10, "max_depth": 8}
KINDS_ALL = ("intensity", "gradient", "log", "dog", "hessian", "structure")


def _feature(settings: FeatureSettings, img: np.ndarray, name: str) -> np.ndarray:
    feats = compute_features(img[..., None].astype(np.float32), settings)
    return feats[settings.names().index(name)]


def _blobs(shape=(128, 128), seed=0, noise=0.5):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    gt = ((yy - 40) ** 2 + (xx - 50) ** 2 < 20**2) | ((yy - 95) ** 2 + (xx - 90) ** 2 < 15**2)
    img = gt.astype(np.float32) + rng.normal(0, noise, shape).astype(np.float32)
    scr = np.zeros(shape, np.uint8)
    scr[38:42, 40:60] = 2  # inside the first blob
    scr[93:97, 85:95] = 2
    scr[5:8, 5:120] = 1  # background
    scr[120:123, 10:60] = 1
    return img, gt, scr


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / (a | b).sum())


# -- features -------------------------------------------------------------------------
def test_gradient_of_a_ramp_is_its_slope():
    yy, xx = np.mgrid[:64, :64].astype(np.float32)
    s = FeatureSettings(kinds=("gradient",), sigmas=(1.0, 2.0))
    g = _feature(s, 3 * xx + 4 * yy, "c0 gradient s2")
    # far from the mirrored border a Gaussian keeps a ramp, so the slope is exact
    np.testing.assert_allclose(g[20:44, 20:44], 5.0, rtol=1e-5)


def test_hessian_and_log_of_a_paraboloid():
    yy, xx = np.mgrid[:64, :64].astype(np.float32)
    img = (xx - 32) ** 2 + 3 * (yy - 32) ** 2
    s = FeatureSettings(kinds=("log", "hessian"), sigmas=(1.0,))
    inner = (slice(16, 48), slice(16, 48))
    np.testing.assert_allclose(_feature(s, img, "c0 hessian s1 e0")[inner], 6.0, atol=1e-3)
    np.testing.assert_allclose(_feature(s, img, "c0 hessian s1 e1")[inner], 2.0, atol=1e-3)
    np.testing.assert_allclose(_feature(s, img, "c0 log s1")[inner], 8.0, atol=1e-3)


def test_cascaded_gaussians_match_scipy():
    # the cascade of sampled kernels approximates the direct Gaussian; on image content
    # (not pixel-to-pixel white noise) it agrees to well under 1 % of the range
    noise = np.random.default_rng(1).random((80, 90))
    img = (ndi.gaussian_filter(noise, 1.0) * 10).astype(np.float32)
    s = FeatureSettings(kinds=("intensity", "dog"), sigmas=(0.5, 1.0, 2.0, 4.0))
    for sigma in s.sigmas:
        ref = ndi.gaussian_filter(img.astype(np.float64), sigma, mode="reflect")
        got = _feature(s, img, f"c0 intensity s{sigma:g}")
        inner = (slice(12, -12), slice(12, -12))
        span = float(ref[inner].max() - ref[inner].min())
        assert np.abs(got[inner] - ref[inner]).max() < 0.01 * span
    dog = _feature(s, img, "c0 dog s2")
    np.testing.assert_allclose(
        dog, _feature(s, img, "c0 intensity s2") - _feature(s, img, "c0 intensity s1"), atol=1e-6
    )


def test_structure_tensor_of_stripes_has_one_direction():
    xx = np.mgrid[:64, :64][1].astype(np.float32)
    img = np.sin(xx / 3)
    s = FeatureSettings(kinds=("structure",), sigmas=(1.0,))
    e0 = _feature(s, img, "c0 structure s1 e0")
    e1 = _feature(s, img, "c0 structure s1 e1")
    assert e0[10:54, 10:54].min() > 1e-3
    np.testing.assert_allclose(e1[10:54, 10:54], 0.0, atol=1e-6)


@pytest.mark.parametrize(
    ("shape", "tile", "ndim"),
    [((70, 90), (32, 40), 2), ((12, 30, 34), (5, 16, 20), 3)],
)
def test_blocks_with_halo_equal_the_whole_image_exactly(shape, tile, ndim):
    from napari_labelsuite.core.classifier.features import iter_tiles

    img = np.random.default_rng(2).random(shape).astype(np.float32)
    kinds = ("intensity", "gradient", "log", "dog", "hessian", "structure")
    s = FeatureSettings(kinds=kinds, sigmas=(0.7, 1.6, 3.0), ndim=ndim)
    whole = compute_features(img[..., None], s)
    for region in iter_tiles(shape, tile):
        expected = whole[(slice(None), *region)]
        np.testing.assert_array_equal(block_features(img, region, s), expected)


@pytest.mark.parametrize(
    "inner",
    [(slice(3, 40), slice(0, 25)), (slice(0, 70), slice(88, 90)), (slice(69, 70), slice(5, 6))],
)
def test_features_of_an_inner_region_equal_the_crop_of_the_whole(inner):
    img = np.random.default_rng(4).random((70, 90)).astype(np.float32)
    s = FeatureSettings(kinds=KINDS_ALL, sigmas=(0.7, 1.6, 3.0))
    whole = compute_features(img[..., None], s)
    np.testing.assert_array_equal(
        compute_features(img[..., None], s, inner), whole[(slice(None), *inner)]
    )


@pytest.mark.parametrize(("shape", "ndim"), [((300, 280), 2), ((24, 50, 60), 3)])
def test_features_in_two_threads_equal_one_thread(shape, ndim):
    img = np.random.default_rng(5).random(shape).astype(np.float32)
    s = FeatureSettings(kinds=KINDS_ALL, sigmas=(0.7, 1.6, 5.0), ndim=ndim)
    np.testing.assert_array_equal(
        compute_features(img[..., None], s, threads=2), compute_features(img[..., None], s)
    )


def test_feature_count_and_names():
    s = FeatureSettings(kinds=("intensity", "hessian", "structure"), sigmas=(1, 2), ndim=3)
    assert s.n_features(2) == 2 * 2 * (1 + 3 + 3)
    assert len(s.names(2)) == s.n_features(2)
    assert FeatureSettings.from_dict(s.to_dict()) == s


def test_cache_serves_unchanged_blocks_and_misses_changed_pixels():
    img = np.random.default_rng(3).random((40, 40)).astype(np.float32)
    s = FeatureSettings(sigmas=(1.0,))
    cache = FeatureCache()
    region = (slice(0, 20), slice(0, 20))
    a = block_features(img, region, s, cache)
    b = block_features(img, region, s, cache)
    assert (cache.hits, cache.misses) == (1, 1) and a is b
    img2 = img.copy()
    img2[5, 5] += 1
    c = block_features(img2, region, s, cache)
    assert cache.misses == 2 and not np.array_equal(a, c)


def test_cache_is_bounded_in_bytes():
    cache = FeatureCache(max_bytes=1000)
    for k in range(5):
        cache.put(k, np.zeros(100, np.float32))  # 400 bytes each
    assert len(cache) == 2 and cache.nbytes == 800
    assert cache.get(0) is None and cache.get(4) is not None


# -- training and prediction -----------------------------------------------------------
def test_fit_predict_finds_the_blobs_as_well_as_scikit_image():
    from skimage.feature import multiscale_basic_features
    from skimage.future import fit_segmenter, predict_segmenter
    from sklearn.ensemble import RandomForestClassifier

    img, gt, scr = _blobs()
    clf = PixelClassifier(**SMALL).fit(img, scr)
    pred = clf.predict(img)
    assert pred.dtype == np.uint8 and set(np.unique(pred)) == {1, 2}
    ours = _iou(pred == 2, gt)
    feats = multiscale_basic_features(img, sigma_min=0.5, sigma_max=16)
    ref = predict_segmenter(
        feats, fit_segmenter(scr, feats, RandomForestClassifier(random_state=0, **SMALL))
    )
    assert ours > 0.9
    assert ours >= _iou(ref == 2, gt) - 0.02
    proba = clf.predict_proba(img)
    assert proba.shape == (*img.shape, 2) and proba.dtype == np.float32
    np.testing.assert_allclose(proba.sum(-1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(clf.labels_from_proba(proba), pred)


def test_uncertainty_is_one_minus_the_margin():
    proba = np.array([[0.5, 0.5, 0.0], [1.0, 0.0, 0.0], [0.2, 0.5, 0.3]], np.float32)
    np.testing.assert_allclose(
        PixelClassifier.uncertainty_from_proba(proba), [1.0, 0.0, 0.8], atol=1e-6
    )


def test_region_prediction_equals_the_crop_of_the_whole():
    img, _, scr = _blobs()
    clf = PixelClassifier(tile=(50, 60), **SMALL).fit(img, scr)
    region = (slice(17, 101), slice(33, 128))
    np.testing.assert_array_equal(clf.predict(img, region=region), clf.predict(img)[region])


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_prediction_in_runs_of_pixels_equals_the_forests_own(n_jobs):
    from napari_labelsuite.core.classifier import forest as forest_module

    img, _, scr = _blobs()
    clf = PixelClassifier(**{**SMALL, "n_jobs": n_jobs}).fit(img, scr)
    # more pixels than one run and a partial last run: the image's features, jittered
    n = 2 * forest_module.PREDICT_ROWS + 123
    feats = block_features(img, (slice(0, 128), slice(0, 128)), clf.features)
    rng = np.random.default_rng(3)
    planes = feats.reshape(feats.shape[0], -1)[:, rng.integers(0, 128 * 128, n)]
    planes = planes + rng.normal(0, 0.05, planes.shape).astype(np.float32)
    ours = clf._proba_planar(planes)
    # the reference sums the trees in the same order (one job), so values agree exactly
    reference = copy.copy(clf.forest_)
    reference.n_jobs = 1
    ref = reference.predict_proba(np.ascontiguousarray(planes.T)).astype(np.float32)
    assert ours.shape == (n, 2) and ours.dtype == np.float32
    assert 0 < (ref[:, 1] > 0.5).mean() < 1  # both classes are predicted
    np.testing.assert_array_equal(ours, ref)


# -- labels from a coarse grid ------------------------------------------------------------
@pytest.mark.parametrize("tile", [(50, 60), (37, 41), (128, 128)])
def test_coarse_labels_do_not_depend_on_the_tiling(tile):
    img, _, scr = _blobs()
    whole = PixelClassifier(**SMALL).fit(img, scr)
    tiled = whole.copy()  # the same forest (training in other blocks samples in another order)
    tiled.tile = tile
    np.testing.assert_array_equal(tiled.predict(img), whole.predict(img))
    region = (slice(17, 101), slice(33, 128))  # odd starts: the grid stays on even pixels
    np.testing.assert_array_equal(tiled.predict(img, region=region), whole.predict(img)[region])


def test_coarse_labels_equal_every_pixel_evaluated_on_the_blobs_with_a_third_of_the_work():
    img, gt, scr = _blobs()
    clf = PixelClassifier(**SMALL).fit(img, scr)
    before = clf.n_evaluated_
    coarse = clf.predict(img)
    evaluated = clf.n_evaluated_ - before
    exact = PixelClassifier(coarse_margin=None, **SMALL).fit(img, scr)
    before = exact.n_evaluated_
    full = exact.predict(img)
    assert exact.n_evaluated_ - before == img.size
    np.testing.assert_array_equal(full, exact.labels_from_proba(exact.predict_proba(img)))
    np.testing.assert_array_equal(coarse, full)
    # the grid (a quarter, plus the one-pixel ring of the block) and the pixels near edges
    assert img.size / 4 < evaluated < 0.45 * img.size


def _line_classifier(margin):
    """A trained classifier whose forest is replaced by a known rule on the finest
    Gaussian: p(class 2) = that value clipped to [0, 1]."""
    img, _, scr = _blobs()
    clf = PixelClassifier({"kinds": ["intensity"], "sigmas": [0.3]}, coarse_margin=margin, **SMALL)
    clf.fit(img, scr)

    def rule(planes):
        p2 = np.clip(planes[0], 0, 1).astype(np.float32)
        return np.stack([1 - p2, p2], axis=-1)

    clf._proba_planar = rule
    return clf


def test_coarse_grid_rule_on_thin_lines():
    img = np.zeros((32, 40), np.float32)
    img[9, 4:36] = 1  # a one-pixel line on an odd row: between grid rows
    img[20, 4:36] = 1  # the same on an even row: on the grid
    exact = _line_classifier(None).predict(img)
    assert (exact[9, 4:36] == 2).all() and (exact[20, 4:36] == 2).all()
    assert (exact == 2).sum() == 2 * 32
    coarse = _line_classifier(0.5).predict(img)
    # rows 8 and 10 are sure of the background (margin 0.992): row 9 takes their label
    assert (coarse[9] == 1).all()
    # on the grid row the line is found; its neighbours disagree, so they are evaluated
    np.testing.assert_array_equal(np.delete(coarse, 9, axis=0), np.delete(exact, 9, axis=0))
    # a margin above the background's sureness evaluates row 9 and finds the line
    np.testing.assert_array_equal(_line_classifier(0.995).predict(img), exact)


def _coarse_reference(p2, margin, region):
    """The coarse-grid rule pixel by pixel, from the whole image's p(class 2)."""
    p1 = (1 - p2).astype(np.float32)  # as the rule in _line_classifier gives them
    lab = np.where(p2 > p1, 2, 1)
    sure = np.abs(p2 - p1) >= np.float32(margin)
    out = np.zeros([r.stop - r.start for r in region], np.uint8)
    for y in range(region[0].start, region[0].stop):
        for x in range(region[1].start, region[1].stop):
            ys = [y] if y % 2 == 0 else [v for v in (y - 1, y + 1) if v < p2.shape[0]]
            xs = [x] if x % 2 == 0 else [v for v in (x - 1, x + 1) if v < p2.shape[1]]
            cells = [(a, b) for a in ys for b in xs]
            same = {int(lab[c]) for c in cells}
            taken = (y % 2 == 0 and x % 2 == 0) or (len(same) == 1 and all(sure[c] for c in cells))
            out[y - region[0].start, x - region[1].start] = lab[cells[0]] if taken else lab[y, x]
    return out


@pytest.mark.parametrize(("shape", "tile"), [((23, 31), (7, 9)), ((24, 30), (24, 30))])
def test_coarse_labels_follow_the_rule_pixel_by_pixel(shape, tile):
    img = np.random.default_rng(7).random(shape).astype(np.float32)
    clf = _line_classifier(0.3)
    clf.tile = tile
    p2 = np.clip(compute_features(img[..., None], clf.features)[0], 0, 1)
    for region in [(slice(0, shape[0]), slice(0, shape[1])), (slice(3, 20), slice(5, 26))]:
        np.testing.assert_array_equal(
            clf.predict(img, region=region), _coarse_reference(p2, 0.3, region)
        )


def test_uncertainty_equals_the_partition_of_the_probabilities():
    proba = np.random.default_rng(8).random((500, 4)).astype(np.float32)
    proba[::5, 2] = proba[::5, 0]  # ties
    top2 = np.partition(proba, 2, axis=-1)[:, -2:]
    np.testing.assert_array_equal(
        PixelClassifier.uncertainty_from_proba(proba), (1 - (top2[:, 1] - top2[:, 0]))
    )


@pytest.mark.parametrize("margin", [-0.1, 1.5, "x"])
def test_bad_coarse_margin_is_refused(margin):
    with pytest.raises(ClassifierError) as err:
        PixelClassifier(coarse_margin=margin)
    assert err.value.field == "coarse_margin" and err.value.value == margin


def test_prediction_of_a_strided_block_equals_its_copy(monkeypatch):
    from napari_labelsuite.core.classifier import forest as forest_module

    monkeypatch.setattr(forest_module, "PREDICT_ROWS", 500)  # runs of 5 lines, the last of 4
    img, _, scr = _blobs()
    clf = PixelClassifier(**SMALL).fit(img, scr)
    feats = block_features(img, (slice(0, 128), slice(0, 128)), clf.features)
    view = feats[:, 3:120:2, 5:101]  # strided: runs are copied one at a time
    flat = np.ascontiguousarray(view).reshape(view.shape[0], -1)
    np.testing.assert_array_equal(clf._proba_planar(view), clf._proba_planar(flat))


def test_retraining_after_a_new_stroke_reuses_cached_features():
    img, gt, scr = _blobs()
    clf = PixelClassifier(tile=(64, 64), **SMALL).fit(img, scr)
    misses = clf.cache.misses
    scr2 = scr.copy()
    scr2[60:62, 10:30] = 1  # inside a block that already holds strokes
    clf.fit(img, scr2)
    assert clf.cache.misses == misses
    assert clf.n_scribbled_pixels_[1] == int((scr2 == 1).sum())


def test_prediction_reads_the_cache_but_does_not_fill_it():
    img, _, scr = _blobs()
    big = np.tile(img, (2, 3))
    bscr = np.zeros(big.shape, np.uint8)
    bscr[:128, :128] = scr  # strokes in the first block only
    clf = PixelClassifier(tile=(128, 128), **SMALL).fit(big, bscr)
    kept, hits = len(clf.cache), clf.cache.hits
    labels = clf.predict(big)
    assert len(clf.cache) == kept == 1 and clf.cache.hits == hits + 1
    # blocks computed into reused buffers give the labels of one block at a time
    for region in [(slice(0, 128), slice(128, 256)), (slice(128, 256), slice(256, 384))]:
        np.testing.assert_array_equal(labels[region], clf.predict_block(big, region))


def test_features_into_a_given_array():
    img = np.random.default_rng(9).random((40, 50)).astype(np.float32)[..., None]
    s = FeatureSettings(sigmas=(1.0, 2.0))
    out = np.empty((s.n_features(), 40, 50), np.float32)
    got = compute_features(img, s, out=out)
    assert got is out
    np.testing.assert_array_equal(out, compute_features(img, s))
    with pytest.raises(ValueError, match="shape"):
        compute_features(img, s, out=out[:, :-1])


def test_large_feature_arrays_are_mapped_pages_freed_with_the_array():
    import mmap
    import weakref

    from napari_labelsuite.core.classifier.features import empty_pages

    a = empty_pages((5, 1024, 1024), np.float32)  # 20 MB: mapped
    assert a.shape == (5, 1024, 1024) and a.dtype == np.float32 and a.flags.writeable
    a[4, 1023, 1023] = 7
    assert float(a[4, 1023, 1023]) == 7 and a.flags.c_contiguous
    base = a
    while isinstance(base, np.ndarray):
        base = base.base
    assert isinstance(base, memoryview) and isinstance(base.obj, mmap.mmap)
    mapping = weakref.ref(base.obj)
    del a, base
    assert mapping() is None  # unmapped with the array
    assert empty_pages((3, 4), np.uint8).base is None  # small: plain np.empty


def test_training_pixels_are_capped_per_class():
    img, _, scr = _blobs()
    clf = PixelClassifier(max_samples_per_class=50, **SMALL).fit(img, scr)
    assert clf.n_training_pixels_ == {1: 50, 2: 50}
    assert clf.n_scribbled_pixels_ == {1: int((scr == 1).sum()), 2: int((scr == 2).sum())}


def test_multichannel_uses_the_informative_channel_and_refuses_other_channel_counts():
    img, gt, scr = _blobs(noise=0.3)
    noise = np.random.default_rng(5).random(img.shape).astype(np.float32)
    stack = np.stack([noise, img])  # channel axis first
    clf = PixelClassifier({"channel_axis": 0, "sigmas": [1, 2, 4]}, **SMALL).fit(stack, scr)
    assert _iou(clf.predict(stack) == 2, gt) > 0.9
    with pytest.raises(ClassifierError, match="2 channel") as err:
        clf.predict(stack[:1])
    assert err.value.field == "image.channels" and err.value.value == 1


def test_3d_volume():
    zz, yy, xx = np.mgrid[:24, :40, :40]
    gt = (zz - 12) ** 2 + (yy - 20) ** 2 + (xx - 20) ** 2 < 8**2
    img = gt + np.random.default_rng(6).normal(0, 0.3, gt.shape).astype(np.float32)
    scr = np.zeros(gt.shape, np.uint8)
    scr[12, 18:23, 16:25] = 2
    scr[2, 2:38, 2:38] = 1
    clf = PixelClassifier({"ndim": 3, "sigmas": [1, 2]}, tile=(10, 20, 20), **SMALL)
    pred = clf.fit(img, scr).predict(img)
    assert pred.shape == gt.shape and _iou(pred == 2, gt) > 0.85


# -- bad input ---------------------------------------------------------------------------
def test_scribbles_of_another_shape_are_refused():
    img, _, scr = _blobs()
    with pytest.raises(ClassifierError) as err:
        PixelClassifier(**SMALL).fit(img, scr[:-1])
    assert err.value.field == "scribbles.shape" and err.value.value == (127, 128)


def test_one_class_only_is_refused():
    img, _, scr = _blobs()
    with pytest.raises(ClassifierError, match="two classes") as err:
        PixelClassifier(**SMALL).fit(img, np.where(scr == 2, 0, scr))
    assert err.value.field == "scribbles" and err.value.value == [1]


def test_class_ids_outside_the_taxonomy_are_refused():
    img, _, scr = _blobs()
    tax = Taxonomy([{"id": 1, "name": "background"}, {"id": 3, "name": "cell"}])
    with pytest.raises(ClassifierError, match="not in the taxonomy") as err:
        PixelClassifier(**SMALL).fit(img, scr, taxonomy=tax)
    assert err.value.value == [2]


def test_3d_features_on_a_2d_image_are_refused():
    img, _, scr = _blobs()
    with pytest.raises(ClassifierError) as err:
        PixelClassifier({"ndim": 3}).fit(img, scr)
    assert err.value.field == "image.shape" and err.value.value == (128, 128)


@pytest.mark.parametrize(
    ("features", "field"),
    [
        ({"kinds": ["gaussian"]}, "features.kinds"),
        ({"sigmas": [1, -2]}, "features.sigmas"),
        ({"ndim": 4}, "features.ndim"),
        ({"sigma": [1]}, "features"),
    ],
)
def test_bad_feature_settings_name_the_field(features, field):
    with pytest.raises(ClassifierError) as err:
        PixelClassifier(features)
    assert err.value.field == field


def test_bad_forest_option_and_untrained_use_are_refused():
    with pytest.raises(ClassifierError) as err:
        PixelClassifier(n_trees=3)
    assert err.value.field == "forest_options"
    with pytest.raises(ClassifierError, match="not trained"):
        PixelClassifier().predict(np.zeros((8, 8)))
