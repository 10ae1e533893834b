"""Pixel classifier: safe save/load, chunked prediction into zarr and mask stores,
suggestions of what to label next."""

from __future__ import annotations

import io
import json
import pickle
import zipfile

import numpy as np
import pytest
import zarr

from napari_labelsuite.core.classifier import (
    PixelClassifier,
    load_classifier,
    load_from_store,
    predict_into,
    predict_to_store,
    rank_candidates,
    save_to_store,
    suggest_images,
    suggest_tiles,
)
from napari_labelsuite.core.classifier.suggest import Candidate
from napari_labelsuite.core.errors import ClassifierError
from napari_labelsuite.core.store import MaskStore
from napari_labelsuite.core.taxonomy import Taxonomy

SMALL = {"n_estimators": 8, "max_depth": 8}


def _scene(shape=(96, 96), seed=0):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    gt = (yy - shape[0] // 2) ** 2 + (xx - shape[1] // 3) ** 2 < (shape[0] // 5) ** 2
    img = gt.astype(np.float32) + rng.normal(0, 0.4, shape).astype(np.float32)
    scr = np.zeros(shape, np.uint8)
    c0, c1 = shape[0] // 2, shape[1] // 3
    scr[c0 - 2 : c0 + 2, c1 - 8 : c1 + 8] = 2
    scr[3:6, 3:-3] = 1
    return img, scr


@pytest.fixture(scope="module")
def trained():
    img, scr = _scene()
    tax = Taxonomy([{"id": 1, "name": "background"}, {"id": 2, "name": "cell"}])
    clf = PixelClassifier({"sigmas": [0.7, 1.6, 3.5]}, tile=(40, 48), **SMALL)
    return clf.fit(img, scr, taxonomy=tax), img, scr


# -- save / load -----------------------------------------------------------------------
def test_round_trip_keeps_predictions_features_and_taxonomy(tmp_path, trained):
    clf, img, _ = trained
    path = clf.save(tmp_path / "cells.lsclf")
    back = load_classifier(path)
    np.testing.assert_array_equal(back.predict(img), clf.predict(img))
    np.testing.assert_array_equal(back.predict_proba(img), clf.predict_proba(img))
    assert back.coarse_margin == clf.coarse_margin == 0.5


def test_round_trip_keeps_exact_labelling(tmp_path, trained):
    clf, img, _ = trained
    exact = clf.copy()
    exact.coarse_margin = None
    back = load_classifier(exact.save(tmp_path / "exact.lsclf"))
    assert back.coarse_margin is None
    np.testing.assert_array_equal(back.predict(img), clf.labels_from_proba(clf.predict_proba(img)))
    assert back.features == clf.features and back.tile == clf.tile
    assert back.taxonomy == clf.taxonomy and back.taxonomy["classes"][1]["name"] == "cell"
    assert back.classes_.tolist() == [1, 2] and back.n_channels_ == 1
    assert back.n_scribbled_pixels_ == clf.n_scribbled_pixels_


def test_a_pickle_file_is_refused(tmp_path, trained):
    clf, _, _ = trained
    p = tmp_path / "forest.pkl"
    p.write_bytes(pickle.dumps(clf.forest_))
    with pytest.raises(ClassifierError, match="not a zip") as err:
        load_classifier(p)
    assert err.value.field == "format" and err.value.path == str(p)


def _rewrite(src: bytes, **changes) -> bytes:
    zin = zipfile.ZipFile(io.BytesIO(src))
    meta = json.loads(zin.read("classifier.json"))
    meta.update(changes.pop("meta", {}))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("classifier.json", json.dumps(meta))
        z.writestr("forest.skops", changes.get("forest", zin.read("forest.skops")))
    return buf.getvalue()


@pytest.mark.parametrize(
    ("meta", "field", "value"),
    [
        ({"format": "napari-labelsuite-annotation"}, "format", "napari-labelsuite-annotation"),
        ({"version": 2}, "version", 2),
    ],
)
def test_files_of_another_kind_or_version_are_refused(tmp_path, trained, meta, field, value):
    clf, _, _ = trained
    good = (clf.save(tmp_path / "a.lsclf")).read_bytes()
    p = tmp_path / "b.lsclf"
    p.write_bytes(_rewrite(good, meta=meta))
    with pytest.raises(ClassifierError) as err:
        load_classifier(p)
    assert err.value.field == field and err.value.value == value


class Sneaky:
    """An object type a classifier file never holds."""

    def __init__(self) -> None:
        self.payload = "rm -rf"


def test_a_forest_member_with_foreign_types_is_refused(tmp_path, trained):
    import skops.io as sio

    clf, _, _ = trained
    good = (clf.save(tmp_path / "a.lsclf")).read_bytes()
    p = tmp_path / "evil.lsclf"
    p.write_bytes(_rewrite(good, forest=sio.dumps({"forest": Sneaky()})))
    with pytest.raises(ClassifierError, match="refusing") as err:
        load_classifier(p)
    assert err.value.field == "forest.skops"
    assert any("Sneaky" in t for t in err.value.value)


def test_classifier_kept_inside_a_mask_store(tmp_path, trained):
    clf, img, _ = trained
    with MaskStore.create(tmp_path / "s.ome.zarr", shape=img.shape, chunks=(32, 32)) as st:
        save_to_store(clf, st)
    with MaskStore.open(tmp_path / "s.ome.zarr") as st:
        back = load_from_store(st)
    np.testing.assert_array_equal(back.predict(img), clf.predict(img))


# -- chunked prediction -------------------------------------------------------------------
def test_prediction_into_zarr_from_zarr_equals_in_memory(tmp_path, trained):
    clf, img, _ = trained
    src = zarr.create_array(tmp_path / "i.zarr", shape=img.shape, chunks=(20, 30), dtype="f4")
    src[:] = img
    out = zarr.create_array(tmp_path / "o.zarr", shape=img.shape, chunks=(32, 32), dtype="u1")
    predict_into(clf, src, out)
    np.testing.assert_array_equal(out[:], clf.predict(img))
    unc = np.zeros(img.shape, np.float32)
    predict_into(clf, src, unc, kind="uncertainty")
    np.testing.assert_array_equal(unc, clf.uncertainty(img))


def test_prediction_into_a_store_from_dask_equals_in_memory(tmp_path, trained):
    import dask.array as da

    clf, img, _ = trained
    lazy = da.from_array(img, chunks=(25, 25))
    with MaskStore.create(tmp_path / "s.ome.zarr", shape=img.shape, chunks=(32, 32)) as st:
        done: list[tuple[int, int]] = []
        la = predict_to_store(clf, lazy, st, "cells", progress=lambda a, b: done.append((a, b)))
        assert st.role("cells") == "semantic" and la.dtype == np.uint8
        assert done[-1][0] == done[-1][1]
    with MaskStore.open(tmp_path / "s.ome.zarr") as st:
        np.testing.assert_array_equal(st.labels("cells")[:], clf.predict(img))


def test_store_of_another_shape_is_refused_and_left_unchanged(tmp_path, trained):
    clf, img, _ = trained
    with MaskStore.create(tmp_path / "s.ome.zarr", shape=(50, 50)) as st:
        with pytest.raises(ClassifierError) as err:
            predict_to_store(clf, img, st, "cells")
        assert err.value.field == "shape" and "cells" not in st.label_names()


# -- suggestions ------------------------------------------------------------------------
def _cand(key, unc, shares, desc):
    return Candidate(key, None, unc, shares, np.asarray(desc, float))


def test_ranking_adds_uncertainty_rarity_and_novelty():
    cands = [
        _cand("sure-common", 0.1, {1: 1.0, 2: 0.0}, [0.0]),
        _cand("unsure", 0.9, {1: 1.0, 2: 0.0}, [0.0]),
        _cand("rare", 0.1, {1: 0.0, 2: 1.0}, [0.0]),
    ]
    # class 1 makes 90 % of the strokes: rarity 0.1 for class 1, 0.9 for class 2
    out = rank_candidates(cands, class_counts={1: 90, 2: 10}, n=3, weights=(1, 1, 0))
    assert [s.key for s in out] == ["unsure", "rare", "sure-common"]
    assert out[0].score == pytest.approx(0.9 + 0.1)
    assert out[1].rarity == pytest.approx(0.9)


def test_ranking_prefers_regions_unlike_the_labelled_ones_and_spreads_picks():
    cands = [
        _cand("near", 0.5, {1: 1.0}, [0.1]),
        _cand("far", 0.5, {1: 1.0}, [10.0]),
        _cand("far-twin", 0.5, {1: 1.0}, [10.1]),
    ]
    out = rank_candidates(cands, labelled=[np.array([0.0])], n=3, weights=(0, 0, 1))
    assert out[0].key == "far-twin" and out[0].novelty == pytest.approx(1.0)
    # once one far region is queued, its twin is no longer new: the near one comes next
    assert out[1].key == "near"


def test_ranking_refuses_bad_arguments():
    with pytest.raises(ClassifierError) as err:
        rank_candidates([], n=0)
    assert err.value.field == "n"
    with pytest.raises(ClassifierError) as err:
        rank_candidates([], weights=(1, -1, 0))
    assert err.value.field == "weights"


def test_tiles_with_strokes_are_not_suggested(trained):
    clf, img, scr = trained
    out = suggest_tiles(clf, img, scribbles=scr, tile=(32, 32), window=16, n=9)
    stroked = {k for k, t in enumerate(_grid(img.shape, 32)) if scr[t].any()}
    assert stroked and len(out) == 9 - len(stroked)
    assert not stroked & {s.key for s in out}
    assert all(s.region == _grid(img.shape, 32)[s.key] for s in out)


def _grid(shape, t):
    ys, xs = range(0, shape[0], t), range(0, shape[1], t)
    return [(slice(y, y + t), slice(x, x + t)) for y in ys for x in xs]


def test_images_unlike_the_labelled_one_come_first(trained):
    clf, img, _ = trained
    flat = np.zeros_like(img)
    images = {"labelled": img, "same": img.copy(), "flat": flat, "bright": flat + 5}
    out = suggest_images(clf, images, labelled=["labelled"], window=64, n=3, weights=(0, 0, 1))
    assert [s.key for s in out][:1] == ["bright"]
    assert out[-1].key == "same" and out[-1].novelty == pytest.approx(0.0)


def test_chunked_prediction_leaves_the_feature_cache_alone(tmp_path, trained):
    clf, img, _ = trained
    clf.cache.clear()
    out = np.zeros(img.shape, np.uint8)
    predict_into(clf, img, out)
    assert len(clf.cache) == 0 and clf.cache.nbytes == 0
