"""Regression tests for bugs found in the code-health review (GUI side)."""

from __future__ import annotations

import numpy as np

from napari_labelsuite import LabelSession
from napari_labelsuite._widgets.augment import AugmentWidget
from napari_labelsuite.core.augment import Affine, HorizontalFlip, Pipeline


def _image_session(viewer):
    from napari.layers import Image

    session = LabelSession.attach(viewer)
    image = np.arange(24 * 32, dtype=np.uint8).reshape(24, 32)
    session.layers.append(Image(image, name="img"))
    session.add_semantic_layer(np.zeros((24, 32), np.uint8))
    return session, image


def test_console_pipeline_is_shown_and_kept_by_preview_and_save(make_napari_viewer, tmp_path):
    viewer = make_napari_viewer()
    session, image = _image_session(viewer)
    widget = AugmentWidget(viewer)
    console = Pipeline([HorizontalFlip(p=1.0)], fill_mode="wrap")
    session.augment_pipeline = console  # typed in napari's console

    assert widget.transform_list.count() == 1
    assert widget.transform_list.item(0).text().startswith("HorizontalFlip (p=1)")
    assert widget.fill_mode.value == "wrap"

    preview = widget.preview(block=True)
    assert session.augment_pipeline is console
    out_image = preview.variants[0][0]
    np.testing.assert_array_equal(np.squeeze(out_image), image[:, ::-1])

    widget.path.value = tmp_path / "pipe.yaml"
    widget.save()
    assert Pipeline.load(tmp_path / "pipe.yaml") == console
    assert session.augment_pipeline is console


def test_widget_edits_go_to_the_session_pipeline(make_napari_viewer):
    viewer = make_napari_viewer()
    session = LabelSession.attach(viewer)
    widget = AugmentWidget(viewer)
    seen: list[Pipeline] = []
    session.pipeline_changed.connect(seen.append)

    widget.transforms = [Affine(rotate=(-5, 5))]
    widget.fill_mode.value = "reflect"
    widget.new_type.value = "VerticalFlip"
    widget._add_transform()

    pipe = session.augment_pipeline
    assert [type(t).__name__ for t in pipe.transforms] == ["Affine", "VerticalFlip"]
    assert pipe.fill_mode == "reflect"
    assert seen[-1] is pipe and len(seen) == 3
    assert widget.transform_list.currentRow() == 1


def test_closed_augment_widget_stops_following_the_pipeline(make_napari_viewer):
    viewer = make_napari_viewer()
    session = LabelSession.attach(viewer)
    dock, widget = viewer.window.add_plugin_dock_widget(
        "napari-labelsuite", "Augmentation preview"
    )
    viewer.window.remove_dock_widget(dock)
    assert widget._on_pipeline not in session.pipeline_changed
