"""Classifier part of the session, headless: train, preview, apply (one undo step),
store and dataset targets, save/load, suggestions and next()."""

from __future__ import annotations

import numpy as np
import pytest

from napari_labelsuite import LabelSession
from napari_labelsuite.core.classifier import PixelClassifier
from napari_labelsuite.core.errors import ClassifierError, SessionError
from napari_labelsuite.core.taxonomy import Taxonomy

SMALL = {"n_estimators": 8, "max_depth": 8}
CLASSES = [{"id": 1, "name": "background"}, {"id": 2, "name": "cell"}]


def _scene(shape=(64, 64), seed=0, shift=0):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    gt = (yy - 32) ** 2 + (xx - 30 - shift) ** 2 < 14**2
    img = gt.astype(np.float32) + rng.normal(0, 0.3, shape).astype(np.float32)
    return img, gt


def _session(img):
    from napari.layers import Image

    s = LabelSession(taxonomy=Taxonomy(CLASSES))
    s.layers.append(Image(img, name="img"))
    s.set_classifier_features(sigmas=(0.7, 1.6, 3.5))
    scr = s.add_scribbles_layer()
    scr.data[30:34, 24:36] = 2
    scr.data[2:4, 2:60] = 1
    return s, scr


def test_training_logs_new_strokes_and_records_provenance(monkeypatch):
    img, gt = _scene()
    s, scr = _session(img)
    calls = []
    monkeypatch.setattr(s, "_log_effort", lambda *a, **k: calls.append((a, k)))
    clf = s.train_classifier(**SMALL)
    assert clf.classes_.tolist() == [1, 2] and s.classifier is clf
    assert calls[-1] == (("classifier", "scribble"), {"count": 2})
    entry = s.history()[-1]
    assert entry["action"] == "train_classifier" and entry["params"]["new_strokes"] == 2
    scr.data[60:62, 5:20] = 1  # one more stroke: retrained on the cached features
    misses = clf.cache.misses
    again = s.train_classifier(**SMALL)
    assert again is not clf and again.cache is clf.cache and clf.cache.misses == misses
    assert calls[-1] == (("classifier", "scribble"), {"count": 1})


def test_preview_layers_show_the_prediction_of_the_region():
    img, gt = _scene()
    s, _ = _session(img)
    s.train_classifier(**SMALL)
    region = (slice(10, 50), slice(5, 60))
    res = s.predict_classifier(region)
    layers = s.classifier_layers()
    pred, unc = layers["prediction"], layers["uncertainty"]
    np.testing.assert_array_equal(pred.data[region], s.classifier.predict(img, region=region))
    assert not pred.data[:10].any()  # outside the region: nothing
    np.testing.assert_array_equal(unc.data[region], res["uncertainty"])
    assert ((pred.data[region] == 2) == gt[region]).mean() > 0.95


def test_apply_fills_background_only_and_is_one_undo_step():
    img, _ = _scene()
    s, _ = _session(img)
    s.train_classifier(**SMALL)
    sem = s.add_semantic_layer()
    sem.data[0:5, 0:5] = 2  # a hand label the prediction must not overwrite
    hand = sem.data.copy()
    n = s.apply_classifier()
    expected = np.where(hand == 0, s.classifier.predict(img), hand)
    np.testing.assert_array_equal(sem.data, expected)
    assert n == int((expected != hand).sum())
    assert s.history()[-1]["action"] == "apply_classifier"
    sem.undo()
    np.testing.assert_array_equal(sem.data, hand)


def test_bad_input_raises_and_changes_nothing():
    img, _ = _scene()
    s, scr = _session(img)
    with pytest.raises(SessionError):
        s.predict_classifier(None)  # nothing trained yet
    scr.data[scr.data == 2] = 0
    with pytest.raises(ClassifierError, match="two classes"):
        s.train_classifier(**SMALL)
    assert s.classifier is None
    scr.data[30:34, 24:36] = 7  # not a class of the taxonomy
    with pytest.raises(ClassifierError, match="not in the taxonomy"):
        s.train_classifier(**SMALL)
    assert s.classifier is None and "train_classifier" not in [e["action"] for e in s.history()]


def test_apply_to_store_and_classifier_kept_in_the_store(tmp_path):
    img, _ = _scene()
    s, _ = _session(img)
    s.train_classifier(**SMALL)
    expected = s.classifier.predict(img)
    s.create_store(tmp_path / "s.ome.zarr", chunks=(32, 32))
    la = s.apply_classifier_to_store("cells")
    np.testing.assert_array_equal(la[...], expected)
    s.save_classifier()
    s2 = LabelSession(taxonomy=Taxonomy(CLASSES))
    s.close_store()
    s2.open_store(tmp_path / "s.ome.zarr")
    clf = s2.load_classifier()
    np.testing.assert_array_equal(clf.predict(img), expected)


def test_load_refuses_classes_outside_the_taxonomy(tmp_path):
    img, _ = _scene()
    s, _ = _session(img)
    s.train_classifier(**SMALL)
    path = s.save_classifier(tmp_path / "c.lsclf")
    other = LabelSession(taxonomy=Taxonomy([{"id": 1, "name": "background"}]))
    with pytest.raises(ClassifierError) as err:
        other.load_classifier(path)
    assert err.value.field == "classes" and err.value.value == [2]
    assert other.classifier is None


def _dataset(tmp_path, n=4):
    folder = tmp_path / "plates"
    folder.mkdir()
    for i in range(n):
        img, _ = _scene(seed=i, shift=4 * i)
        np.save(folder / f"img{i}.npy", img)
    return folder


def test_dataset_suggestions_and_next_follows_the_queue(tmp_path):
    folder = _dataset(tmp_path)
    s = LabelSession(taxonomy=Taxonomy(CLASSES))
    s.open_dataset(folder)
    s.set_classifier_features(sigmas=(0.7, 1.6))
    scr = s.add_scribbles_layer()
    scr.data[30:34, 24:36] = 2
    scr.data[2:4, 2:60] = 1
    s.train_classifier(**SMALL)
    queue = s.suggest_next(2, window=32)
    assert len(queue) == 2 and "img0" not in [q["key"] for q in queue]
    first = queue[0]["key"]
    assert s.next().key == first
    assert s.suggestions[0]["key"] == queue[1]["key"]


def test_apply_to_dataset_saves_every_image(tmp_path):
    folder = _dataset(tmp_path, n=2)
    s = LabelSession(taxonomy=Taxonomy(CLASSES))
    s.open_dataset(folder)
    clf = PixelClassifier({"sigmas": [0.7, 1.6]}, **SMALL)
    img, gt = _scene()
    strokes = np.zeros(img.shape, np.uint8)
    strokes[30:34, 24:36], strokes[2:4, 2:60] = 2, 1
    s._classifier = clf.fit(img, strokes)
    out = s.apply_classifier_to_dataset()
    assert [r["image"] for r in out] == ["img0", "img1"]
    for i in range(2):
        ann = s.dataset.load_annotation(i)
        np.testing.assert_array_equal(ann.semantic, clf.predict(s.dataset.read_image(i)))


def test_an_existing_labels_layer_can_be_the_scribbles_layer():
    from napari.layers import Labels

    img, _ = _scene()
    s, first = _session(img)
    mine = Labels(np.zeros(img.shape, np.uint8), name="my strokes")
    s.layers.append(mine)
    assert s.add_scribbles_layer(mine) is mine and s.scribbles_layer is mine
    assert first.metadata["labelsuite"].get("classifier") is None
    with pytest.raises(ClassifierError) as err:
        s.add_scribbles_layer(Labels(np.zeros((5, 5), np.uint8)))
    assert err.value.field == "scribbles.shape"
    with pytest.raises(SessionError):
        s.add_scribbles_layer(s.add_semantic_layer())
    assert s.scribbles_layer is mine
