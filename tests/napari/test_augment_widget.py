"""The "Augmentation preview" dock widget and the session's preview methods."""

from __future__ import annotations

import numpy as np
import pytest

from napari_labelsuite import LabelSession
from napari_labelsuite._widgets.augment import AugmentWidget
from napari_labelsuite.core.annotation import ObjectInfo
from napari_labelsuite.core.augment import Pipeline
from napari_labelsuite.core.augment_transforms import (
    Affine,
    GaussianNoise,
    HorizontalFlip,
    RandomCrop,
)
from napari_labelsuite.core.boxes import boxes_from_instances
from napari_labelsuite.core.synthetic import NUCLEI_CLASSES
from napari_labelsuite.core.taxonomy import Taxonomy


def _populate(session, cells):
    """Two channel layers, managed semantic / instance / boxes layers."""
    from napari.layers import Image

    session.taxonomy = Taxonomy(NUCLEI_CLASSES)
    session.layers.append(Image(cells.image[0], name="nuclei"))
    session.layers.append(Image(cells.image[1], name="cytoplasm"))
    session.add_semantic_layer(np.array(cells.semantic))
    objects = {int(i): ObjectInfo(1) for i in np.unique(cells.instances)[1:]}
    session.add_instance_layer(np.array(cells.instances), objects=objects)
    session.add_boxes_layer(boxes_from_instances(cells.instances, objects))
    return session


@pytest.fixture
def widget(make_napari_viewer, small_cells):
    viewer = make_napari_viewer()
    _populate(LabelSession.attach(viewer), small_cells)
    w = AugmentWidget(viewer)
    w.transforms = [HorizontalFlip(p=0.5), Affine(rotate=(-15, 15))]
    w._refresh_list()
    w.n.value = 4
    return w


@pytest.fixture
def bare_widget(make_napari_viewer):
    """A widget on an empty viewer, for editing the pipeline."""
    w = AugmentWidget(make_napari_viewer())
    w.transforms = [HorizontalFlip(p=0.5), Affine(rotate=(-15, 15))]
    w._refresh_list()
    return w


def _preview_layers(viewer):
    return [layer.name for layer in viewer.layers if layer.name.startswith("augment: ")]


# -- the widget --------------------------------------------------------------------------------
def test_widget_preselects_the_source_layers(widget):
    assert widget.images.value == ["nuclei", "cytoplasm"]
    assert (widget.semantic.value, widget.instances.value, widget.boxes.value) == (
        "semantic",
        "instances",
        "boxes",
    )


def test_preview_shows_the_grid_with_masks_boxes_and_diagnostics(widget):
    preview = widget.preview(block=True)
    viewer = widget.viewer
    assert _preview_layers(viewer) == [
        "augment: nuclei",
        "augment: cytoplasm",
        "augment: semantic",
        "augment: instances",
        "augment: boxes",
        "augment: tiles",
    ]
    gap = preview.gap
    assert viewer.layers["augment: instances"].data.shape == (2 * 256 + gap, 2 * 256 + gap)
    n_boxes = sum(len(v[1].boxes) for v in preview.variants)
    assert len(viewer.layers["augment: boxes"].data) == n_boxes
    assert len(viewer.layers["augment: tiles"].data) == 4
    text = widget.report.toPlainText()
    assert text.splitlines()[0].startswith("1: seed 0") and "labels intact" in text
    grid = viewer.layers["augment: instances"].data
    for i, (_, ann, _) in enumerate(preview.variants):
        r0, c0 = preview.tile_origin(i)
        np.testing.assert_array_equal(grid[r0 : r0 + 256, c0 : c0 + 256], ann.instances)


def test_reseed_moves_to_the_next_seeds_and_replaces_the_layers(widget, qtbot):
    widget.preview(block=True)
    before = widget.viewer.layers["augment: nuclei"].data.copy()
    widget.reseed()  # runs in a worker
    qtbot.waitUntil(
        lambda: widget.session.last_augment_preview.seeds == [4, 5, 6, 7], timeout=20000
    )
    qtbot.waitUntil(lambda: widget.report.toPlainText().startswith("1: seed 4"), timeout=20000)
    assert widget.seed.value == 4
    assert len(_preview_layers(widget.viewer)) == 6
    assert not np.array_equal(widget.viewer.layers["augment: nuclei"].data, before)


def test_adding_and_editing_a_transform(bare_widget):
    bare_widget.new_type.value = "RandomCrop"
    bare_widget._add_transform()
    assert isinstance(bare_widget.transforms[-1], RandomCrop)
    height = next(w for w in bare_widget.editor if w.name == "height")
    height.value = 100
    bare_widget._update_transform()
    assert bare_widget.transforms[-1].height == 100
    assert bare_widget.pipeline().transforms[-1] == RandomCrop(height=100, width=256)


def test_editing_a_range_with_low_above_high_notifies_and_keeps_the_transform(
    bare_widget, monkeypatch
):
    shown = []
    monkeypatch.setattr("napari_labelsuite._widgets._base.show_error", shown.append)
    bare_widget.transform_list.setCurrentRow(1)  # the Affine
    rotate = next(w for w in bare_widget.editor if w.name == "rotate")
    rotate[0].value, rotate[1].value = 30.0, -30.0
    bare_widget._update_transform()
    assert bare_widget.transforms[1].rotate == (-15.0, 15.0)
    assert len(shown) == 1 and "rotate" in shown[0] and "Affine" in shown[0]


def test_save_and_load_the_pipeline(bare_widget, tmp_path):
    path = tmp_path / "pipe.yaml"
    bare_widget.fill_mode.value = "reflect"
    bare_widget.path.value = path
    bare_widget.save()
    assert Pipeline.load(path) == bare_widget.pipeline()
    bare_widget.transforms = []
    bare_widget.fill_mode.value = "constant"
    bare_widget.load()
    assert [type(t).__name__ for t in bare_widget.transforms] == ["HorizontalFlip", "Affine"]
    assert bare_widget.fill_mode.value == "reflect"


def test_keras_arguments_become_the_pipeline(bare_widget):
    bare_widget.keras.value = (
        '{"rotation_range": 10, "horizontal_flip": true, "fill_mode": "wrap"}'
    )
    bare_widget.from_keras()
    assert [type(t).__name__ for t in bare_widget.transforms] == ["Affine", "HorizontalFlip"]
    assert bare_widget.fill_mode.value == "wrap"


def test_preview_follows_the_current_plane(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    stack = np.zeros((3, 40, 50), np.uint16)
    for z in range(3):
        stack[z] = z + 1
    viewer.add_image(stack, name="stack")
    w = AugmentWidget(viewer)
    w.transforms = [HorizontalFlip(p=1.0)]
    w.n.value = 1
    w.follow_plane.value = True
    viewer.dims.current_step = (2, 0, 0)
    qtbot.waitUntil(lambda: w.session.last_augment_preview is not None, timeout=20000)
    qtbot.waitUntil(lambda: "augment: stack" in viewer.layers, timeout=20000)
    assert w.session.last_augment_preview.source.plane == (2,)
    assert (viewer.layers["augment: stack"].data == 3).all()
    w.follow_plane.value = False


# -- the session methods behind it ----------------------------------------------------------
def test_headless_preview_returns_variants_without_adding_layers(small_cells):
    session = _populate(LabelSession(), small_cells)
    n_layers = len(session.layers)
    channels = [session.layers["nuclei"], session.layers["cytoplasm"]]
    preview = session.augment_preview(
        Pipeline([Affine(rotate=(-30, 30)), GaussianNoise()]), n=3, seed=5, images=channels
    )
    assert len(session.layers) == n_layers
    assert preview.seeds == [5, 6, 7]
    image, ann, diag = preview.variants[0]
    assert image.shape == (256, 256, 2) and image.dtype == np.uint16
    assert set(np.unique(ann.instances)) <= set(np.unique(small_cells.instances))
    assert session.history()[-1]["action"] == "augment_preview"


def test_large_planes_are_previewed_on_a_window(small_cells, monkeypatch):
    import napari_labelsuite._session.augment as mod

    monkeypatch.setattr(mod, "MAX_PREVIEW_SIDE", 100)
    session = _populate(LabelSession(), small_cells)
    preview = session.augment_preview(Pipeline([]), n=1)
    assert preview.source.window == (78, 178, 78, 178)
    np.testing.assert_array_equal(
        preview.variants[0][1].instances, small_cells.instances[78:178, 78:178]
    )


def test_preview_refuses_masks_that_do_not_match_the_image(small_cells):
    from napari.layers import Labels

    from napari_labelsuite.core.errors import AugmentError

    session = _populate(LabelSession(), small_cells)
    odd = Labels(np.zeros((200, 256), np.int32), name="odd")
    with pytest.raises(AugmentError) as e:
        session.augment_preview(n=1, semantic=odd)
    assert e.value.field == "semantic" and e.value.value == (200, 256)


def test_nd_layers_are_previewed_on_the_requested_plane():
    from napari.layers import Image

    from napari_labelsuite.core.annotation import Box

    session = LabelSession(taxonomy=Taxonomy(NUCLEI_CLASSES))
    inst = np.zeros((3, 40, 50), np.int32)
    inst[1, 5:15, 10:30] = 4
    inst[2, 20:30, 5:9] = 6
    session.layers.append(Image(np.zeros((3, 40, 50), np.uint8), name="stack"))
    session.add_instance_layer(inst, objects={4: ObjectInfo(1), 6: ObjectInfo(1)})
    session.add_boxes_layer([Box(10, 5, 30, 15, 1, plane=(1,)), Box(5, 20, 9, 30, 1, plane=(2,))])
    preview = session.augment_preview(Pipeline([HorizontalFlip(p=1.0)]), n=1, plane=(1,))
    _, ann, _ = preview.variants[0]
    np.testing.assert_array_equal(ann.instances, inst[1, :, ::-1])
    assert [b.xyxy for b in ann.boxes] == [(20.0, 5.0, 40.0, 15.0)]
