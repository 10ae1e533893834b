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


# -- File > Save stores the taxonomy ----------------------------------------------------------
def test_file_save_then_open_keeps_class_names_and_colours(make_napari_viewer, tmp_path):
    from napari_labelsuite.core.store import MaskStore
    from napari_labelsuite.core.synthetic import NUCLEI_CLASSES
    from napari_labelsuite.core.taxonomy import Taxonomy

    viewer = make_napari_viewer()
    session = LabelSession.attach(viewer)
    session.taxonomy = Taxonomy(NUCLEI_CLASSES)
    mask = np.zeros((16, 16), np.uint8)
    mask[2:6, 2:6] = 1
    session.add_semantic_layer(mask, name="sem")
    out = str(tmp_path / "saved.ome.zarr")

    [written] = viewer.layers.save(out, plugin="napari-labelsuite")

    st = MaskStore.open(written, mode="r")
    try:
        assert st.taxonomy.to_dict() == session.taxonomy.to_dict()
        assert st.taxonomy.names()[:2] == ["nucleus", NUCLEI_CLASSES[1]["name"]]
    finally:
        st.close()


def test_writer_without_a_session_takes_the_taxonomy_from_layer_metadata(tmp_path):
    from napari_labelsuite._writer import write_store
    from napari_labelsuite.core.store import MaskStore
    from napari_labelsuite.core.taxonomy import Taxonomy

    tax = Taxonomy([{"id": 1, "name": "cell", "color": "#00ff00"}])
    meta = {
        "name": "m",
        "metadata": {"labelsuite": {"role": "semantic", "taxonomy": tax.to_dict()}},
    }
    [written] = write_store(
        str(tmp_path / "x.ome.zarr"), [(np.ones((4, 4), np.uint8), meta, "labels")]
    )
    st = MaskStore.open(written, mode="r")
    try:
        assert st.taxonomy.to_dict() == tax.to_dict()
    finally:
        st.close()
