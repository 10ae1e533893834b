"""The "Classifier" dock: its callbacks drive the session; results land in layers."""

from __future__ import annotations

import numpy as np
import pytest

from napari_labelsuite.core.taxonomy import Taxonomy

CLASSES = [{"id": 1, "name": "background"}, {"id": 2, "name": "cell"}]


def _scene(shape=(64, 64)):
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    gt = (yy - 32) ** 2 + (xx - 30) ** 2 < 14**2
    return gt.astype(np.float32) + rng.normal(0, 0.3, shape).astype(np.float32), gt


@pytest.fixture
def widget(make_napari_viewer, monkeypatch):
    from napari_labelsuite._widgets import _base
    from napari_labelsuite._widgets.classifier import ClassifierWidget

    viewer = make_napari_viewer()
    w = ClassifierWidget(viewer)
    w.session.taxonomy = Taxonomy(CLASSES, name="cells")
    w.errors, w.warnings = [], []
    monkeypatch.setattr(_base, "show_error", w.errors.append)
    monkeypatch.setattr(_base, "show_warning", w.warnings.append)
    img, gt = _scene()
    viewer.add_image(img, name="raw")
    w.sigmas.setText("0.7, 1.6, 3.5")
    w.trees.setValue(8)
    return w, gt


def _paint(w):
    layer = w.add_scribbles()
    layer.data[30:34, 24:36] = 2
    layer.data[2:4, 2:60] = 1
    return layer


def test_train_previews_the_view_and_apply_is_one_undo_step(widget, qtbot):
    w, gt = widget
    _paint(w)
    assert w.session.scribbles_layer.mode == "paint"
    w.kinds["log"].setChecked(True)
    w.train()
    qtbot.waitUntil(lambda: "Preview updated" in w.status.text(), timeout=60000)
    clf = w.session.classifier
    assert "log" in clf.features.kinds and clf.forest_options["n_estimators"] == 8
    assert "cell: 48 px" in w.status.text()
    pred = w.session.classifier_layers()["prediction"]
    region = w.session.view_region()
    raw = w.viewer.layers["raw"].data
    np.testing.assert_array_equal(pred.data[region], clf.predict(raw, region=region))
    w.show_uncertainty.setChecked(True)
    assert w.session.classifier_layers()["uncertainty"].visible
    sem = w.session.add_semantic_layer()
    w.apply_to_image()
    qtbot.waitUntil(lambda: "Applied" in w.status.text(), timeout=60000)
    np.testing.assert_array_equal(sem.data, clf.predict(w.viewer.layers["raw"].data))
    assert ((sem.data == 2) == gt).mean() > 0.95
    sem.undo()
    assert not sem.data.any()


def test_one_class_only_is_a_notification_and_changes_nothing(widget, qtbot):
    w, _ = widget
    layer = w.add_scribbles()
    layer.data[2:4, 2:60] = 1
    w.train()
    qtbot.waitUntil(lambda: bool(w.errors), timeout=60000)
    assert "two classes" in w.errors[0]
    assert w.session.classifier is None
    assert w.session.classifier_layers()["prediction"] is None


def test_bad_scales_and_missing_scribbles_are_notifications(widget):
    w, _ = widget
    w.sigmas.setText("1, two")
    assert w.train() is None and "scales" in w.errors[-1]
    w.sigmas.setText("1, 2")
    assert w.train() is None and "scribbles layer" in w.errors[-1]


def test_suggest_fills_the_queue_and_save_load_round_trip(widget, qtbot, tmp_path):
    w, _ = widget
    _paint(w)
    w.train()
    qtbot.waitUntil(lambda: w.session.classifier is not None, timeout=60000)
    w.n_suggest.setValue(3)
    w.suggest()
    qtbot.waitUntil(lambda: w.queue.count() == 3, timeout=60000)
    assert w.queue.item(0).text().startswith("tile ")
    region = w.goto(0)
    assert region == [tuple(r) for r in w.session.suggestions[0]["region"]]
    path = w.save(str(tmp_path / "c.lsclf"))
    w.sigmas.setText("9")
    clf = w.load(path)
    assert clf.features == w.session.classifier.features
    assert w.sigmas.text() == "0.7, 1.6, 3.5"


def test_view_region_follows_the_camera_and_the_layer_scale(widget):
    import math

    w, _ = widget
    v = w.session.viewer
    v.layers["raw"].scale = (2, 2)  # world = 2 x data
    scene = getattr(v, "scene", None)
    cam = scene.camera if scene is not None else v.camera
    h, wd = v.canvas.size
    cam.center = (64.0, 64.0)  # data (32, 32)
    cam.zoom = h / 40  # 40 world pixels tall: 20 data rows
    ys, xs = w.session.view_region()
    assert (ys.start, ys.stop) == (22, 42)
    half = wd / cam.zoom / 2 / 2  # data columns each side
    assert (xs.start, xs.stop) == (max(0, math.floor(32 - half)), min(64, math.ceil(32 + half)))
