"""Render a screenshot of each dock widget into ``docs/images/<widget>.png``.

Each widget is docked alone in a napari window showing the synthetic cells sample, after a
few session calls that give it something to show, and the whole window is saved with
``viewer.screenshot(canvas_only=False)``. Needs a display; headless, run it under Xvfb::

    xvfb-run -a -s "-screen 0 1600x1200x24" python docs/make_screenshots.py

(``make screenshots`` does exactly this.) Pass widget names to render only some of them,
``workflow`` for the README's image, ``objects`` for the object kinds (``objects_*.png``),
``team`` for the Team dock on a small team dataset (``team*.png``).
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
WINDOW = (1366, 768)  # a laptop screen: the docks must fit it


def slug(display_name: str) -> str:
    """``"Import / export"`` -> ``"import_export"`` (the PNG's name)."""
    return re.sub(r"[^a-z0-9]+", "_", display_name.lower()).strip("_")


def _prepare_instances(session: Any) -> None:
    session.label_components()


def _prepare_qc(session: Any) -> None:
    session.label_components()
    session.run_checks()


def _prepare_augment(session: Any) -> None:
    session.augment_preview(n=4)


def _prepare_store(session: Any) -> None:
    import tempfile

    folder = tempfile.mkdtemp(prefix="labelsuite-shot-")
    session.create_store(str(Path(folder) / "cells.ome.zarr"))


def _prepare_assist(session: Any) -> None:
    import numpy as np

    from napari_labelsuite.core.assist import segment
    from napari_labelsuite.core.synthetic import make_cells_2d

    sample = make_cells_2d()  # the sample's ground truth: click nucleus centres
    for name in ("classes", "cytoplasm"):
        session.layers[name].visible = False
    session.add_instance_layer()
    session.add_boxes_layer([])  # accepted objects add their linked boxes here
    session._select(session.instances)
    session.set_active_class("nucleus")
    clicks = []
    for iid in range(1, 80):  # nuclei that one click gets right, as a user would see
        truth = sample.instances == iid
        rows, cols = truth.nonzero()
        point = [[rows.mean(), cols.mean()]]
        got = segment(sample.image[0], point, [1])
        if (got & truth).sum() / (got | truth).sum() >= 0.85:
            clicks.append(point)
        if len(clicks) == 4:
            break
    for point in clicks[:3]:
        session.segment_object(point, [1])
    session.assist_click(np.asarray(clicks[3][0]))  # the candidate shows as a preview


#: display name -> session calls made before the screenshot (so the widget has content)
PREPARE: dict[str, Callable[[Any], None]] = {
    "Instances": _prepare_instances,
    "Quality control": _prepare_qc,
    "Augmentation preview": _prepare_augment,
    "Mask store": _prepare_store,
    "Assist": _prepare_assist,
}


def _save_small(path: Path) -> None:
    """Re-save a screenshot as a 256-colour PNG (a third of the size, same look)."""
    from PIL import Image

    with Image.open(path) as im:
        small = im.convert("RGB").quantize(256, dither=Image.Dither.NONE)
    small.save(path, optimize=True)


def _settle(app: Any, rounds: int = 10) -> None:
    for _ in range(rounds):
        app.processEvents()


def _cells_viewer() -> Any:
    """A shown viewer with the 2D sample, its taxonomy and the managed class layer."""
    import napari

    from napari_labelsuite._demo import PLUGIN
    from napari_labelsuite.session import LabelSession

    viewer = napari.Viewer(title="napari-labelsuite", show=True)
    LabelSession.attach(viewer)
    viewer.open_sample(PLUGIN, "cells_2d")  # the sample brings its classes
    return viewer


def make_workflow_screenshot(out_dir: Path = HERE / "images") -> Path:
    """The README's first image: a real labelling workflow on the sample, every dock open.

    Label components, Split touching and Boxes from instances are pressed in the Instances
    dock (its result line shows what the last one did), and the view is zoomed in far
    enough for the boxes to show their class names.
    """
    from qtpy.QtWidgets import QApplication

    from napari_labelsuite._demo import open_plugin_widgets

    viewer = _cells_viewer()
    try:
        app = QApplication.instance()
        viewer.window.resize(*WINDOW)
        widgets = {type(w).__name__: w for w in open_plugin_widgets(viewer)}
        instances = widgets["InstancesWidget"]
        instances.label_components()
        instances.scope.setCurrentText("whole volume")
        instances.split_touching()
        instances.boxes_from_instances()
        viewer.layers["classes"].visible = False
        _settle(app)
        # the dock of the tools just used in front
        dock = instances.parentWidget()
        while dock is not None and type(dock).__name__ != "QtViewerDockWidget":
            dock = dock.parentWidget()
        if dock is not None:
            dock.raise_()
        _settle(app)
        camera = viewer.scene.camera
        camera.center = (300.0, 300.0)
        camera.zoom = 2.2
        _settle(app)
        path = out_dir / "workflow.png"
        viewer.screenshot(str(path), canvas_only=False)
        _save_small(path)
        print(path)
        return path
    finally:
        viewer.close()


# -- object kinds: polygons, rotated boxes, keypoints with a skeleton --------------------------
OBJECT_TAXONOMY = {
    "classes": [
        {"id": 1, "name": "nucleus", "color": "#ffcc00"},
        {"id": 2, "name": "person", "color": "#33ccff", "keypoints": {
            "names": ["head", "neck", "left_hand", "right_hand", "hip", "left_foot",
                      "right_foot"],
            "edges": [[0, 1], [1, 2], [1, 3], [1, 4], [4, 5], [4, 6]],
            "flip_pairs": [[2, 3], [5, 6]]}},
    ]
}  # fmt: skip
#: joints of a standing figure relative to its hip, in pixels (x right, y down)
FIGURE = [(0, -34), (0, -22), (16, -6), (-16, -8), (0, 6), (10, 30), (-10, 30)]


def _figures_image(centres: Sequence[tuple[float, float]], shape=(256, 256)) -> Any:
    """A blurred drawing of stick figures (the keypoints scene's image)."""
    import numpy as np
    from scipy import ndimage as ndi
    from skimage.draw import disk, line

    img = np.zeros(shape, float)
    edges = OBJECT_TAXONOMY["classes"][1]["keypoints"]["edges"]
    for cx, cy in centres:
        pts = [(cx + dx, cy + dy) for dx, dy in FIGURE]
        for i, j in edges:
            rr, cc = line(int(pts[i][1]), int(pts[i][0]), int(pts[j][1]), int(pts[j][0]))
            img[rr, cc] = 1.0
        img[disk((pts[0][1], pts[0][0]), 7, shape=shape)] = 1.0
    img = ndi.gaussian_filter(ndi.grey_dilation(img, size=3), 1.0)
    rng = np.random.default_rng(0)
    return (np.clip(img + rng.normal(0, 0.04, shape), 0, 1) * 255).astype(np.uint8)


def _object_scene(kind: str) -> tuple[Any, Any]:
    """A shown viewer with one object kind made through the session, and the session."""
    import napari
    import numpy as np

    from napari_labelsuite import LabelSession
    from napari_labelsuite.core.annotation import ObjectInfo
    from napari_labelsuite.core.objects import Keypoints, RotatedBox
    from napari_labelsuite.core.synthetic import make_cells_2d
    from napari_labelsuite.core.taxonomy import Taxonomy

    viewer = napari.Viewer(title="napari-labelsuite", show=True)
    viewer.window.resize(*WINDOW)
    s = LabelSession.attach(viewer)
    s.taxonomy = Taxonomy.from_dict(OBJECT_TAXONOMY)
    if kind == "keypoints":
        centres = [(50.0, 70.0), (128.0, 150.0), (200.0, 90.0)]
        viewer.add_image(_figures_image(centres), name="figures")
        sets = []
        for k, (cx, cy) in enumerate(centres):
            xyv = np.array([[cx + dx + 0.5, cy + dy + 0.5, 2] for dx, dy in FIGURE], float)
            if k == 1:
                xyv[3, 2] = 1  # an occluded right hand
            sets.append(Keypoints(xyv, 2, box=(cx - 24, cy - 44, cx + 24, cy + 36)))
        # each figure also gets a rotated box and a polygon around its head (for the
        # augmentation preview of all three kinds)
        s.add_rotated_boxes_layer(
            [RotatedBox(cx + 0.5, cy - 2.0, 44.0, 84.0, 0.0, class_id=2) for cx, cy in centres]
        )
        t = np.linspace(0, 2 * np.pi, 12, endpoint=False)
        s.add_polygons_layer(
            [
                {"xy": np.c_[cx + 0.5 + 10 * np.cos(t), cy - 33.5 + 10 * np.sin(t)],
                 "class_id": 2, "instance_id": k + 1}
                for k, (cx, cy) in enumerate(centres)
            ]
        )  # fmt: skip
        s.layers["rotated boxes"].visible = False  # shown in the preview only
        s.layers["polygons"].visible = False
        layer = s.add_keypoints_layer(sets)
        layer.text = {"string": "{keypoint}", "size": 7, "color": "white",
                      "anchor": "upper_left", "translation": [-3, 3]}  # fmt: skip
        # the plugin draws the skeleton's edges on "keypoints skeleton" (show_skeleton)
        viewer.layers.move(viewer.layers.index(layer), len(viewer.layers) - 1)
        return viewer, s
    if kind == "rotated":  # elongated objects at many angles, as in aerial images
        from scipy import ndimage as ndi
        from skimage.draw import ellipse

        rng = np.random.default_rng(4)
        labels = np.zeros((256, 256), np.int32)
        for k, (r, c) in enumerate([(50, 50), (60, 140), (45, 215), (130, 70), (135, 170),
                                    (205, 45), (210, 130), (200, 210)], start=1):  # fmt: skip
            rr, cc = ellipse(r, c, 12, 32, shape=labels.shape, rotation=rng.uniform(-1.5, 1.5))
            labels[rr, cc] = k
        image = ndi.gaussian_filter((labels > 0) * 200.0, 1.5) + rng.normal(20, 8, labels.shape)
        viewer.add_image(np.clip(image, 0, 255).astype(np.uint8), name="objects")
        instances = labels
    else:
        cells = make_cells_2d(shape=(256, 256), seed=3)
        viewer.add_image(cells.image[0], name="nuclei")
        instances = cells.instances
    ids = [int(i) for i in np.unique(instances) if i]
    s.add_instance_layer(instances, objects={i: ObjectInfo(1) for i in ids})
    s.instances.opacity = 0.3
    if kind == "polygons":
        s.polygons_from_instances(tolerance=0.8)
        s.instances.visible = False
    else:
        s.rotated_boxes_from_instances()
    return viewer, s


def make_object_screenshots(out_dir: Path = HERE / "images") -> list[Path]:
    """``objects_polygons.png``, ``objects_rotated.png``, ``objects_keypoints.png`` (the
    Object kinds dock beside each) and ``objects_augment.png`` (the preview of all three)."""
    from qtpy.QtWidgets import QApplication

    from napari_labelsuite._demo import PLUGIN
    from napari_labelsuite.core.augment import Pipeline
    from napari_labelsuite.core.augment.transforms import Affine, HorizontalFlip

    written = []
    for kind in ("polygons", "rotated", "keypoints"):
        viewer, session = _object_scene(kind)
        app = QApplication.instance()
        try:
            viewer.window.add_plugin_dock_widget(PLUGIN, "Object kinds")
            _settle(app)
            viewer.reset_view()
            if kind == "polygons":  # close enough to see the vertices of one outline
                layer = session.layers["polygons"]
                layer.selected_data = {int(len(layer.data) // 2)}
                layer.mode = "direct"
                viewer.scene.camera.center = (128.0, 128.0)
                viewer.scene.camera.zoom *= 1.3
            _settle(app)
            path = out_dir / f"objects_{kind}.png"
            viewer.screenshot(str(path), canvas_only=False)
            _save_small(path)
            written.append(path)
            print(path)
            if kind == "keypoints":
                # the augmentation preview moves polygons, rotated boxes and keypoints
                # (left/right swapped on a mirror) with the image
                session.show_skeleton(visible=False)  # the dock's "Skeleton edges" box
                session.layers["keypoints"].text.visible = False
                _, dock = viewer.window.add_plugin_dock_widget(PLUGIN, "Augmentation preview")
                session.augment_pipeline = Pipeline(
                    [HorizontalFlip(p=0.5), Affine(rotate=(-20, 20), p=1.0)]
                )
                dock.n.value = 4
                dock.seed.value = 1
                dock.preview(block=True)  # the dock brings the grid into view
                _settle(app)
                path = out_dir / "objects_augment.png"
                viewer.screenshot(str(path), canvas_only=False)
                _save_small(path)
                written.append(path)
                print(path)
        finally:
            viewer.close()
    return written


TEAM_CROPS = [(0, 0), (0, 256), (256, 0), (256, 256), (512, 512), (512, 768)]


def _team_dataset(folder: Path) -> None:
    """Six 256 x 256 crops of the sample's nuclei channel, assigned to ana, bob and cy with
    half the images labelled by all three: each annotator's labels are the sample's truth
    shifted a pixel or two, with a few objects missed, and cy calls most dividing nuclei
    plain nuclei."""
    import numpy as np

    from napari_labelsuite.core.annotation import ImageAnnotation, ObjectInfo
    from napari_labelsuite.core.dataset import Dataset
    from napari_labelsuite.core.synthetic import make_cells_2d
    from napari_labelsuite.core.team import (
        Assignments,
        assignments_path,
        save_annotator_annotation,
    )

    sample = make_cells_2d()
    rng = np.random.default_rng(0)
    for n, (y, x) in enumerate(TEAM_CROPS):
        np.save(folder / f"field{n}.npy", np.asarray(sample.image[0, y : y + 256, x : x + 256]))
    ds = Dataset.open(folder)
    plan = Assignments.create(ds.keys(), ["ana", "bob", "cy"], overlap=0.5, per_image=3)
    assignments_path(ds).parent.mkdir(parents=True, exist_ok=True)
    plan.save(assignments_path(ds))
    for i, key in enumerate(ds.keys()):
        y, x = TEAM_CROPS[i]
        gt = np.asarray(sample.instances[y : y + 256, x : x + 256])
        ids = [int(v) for v in np.unique(gt) if v]
        for who in plan.annotators_of(key):
            inst = np.zeros_like(gt, dtype=np.int32)
            objects = {}
            for v in ids:
                if rng.random() < 0.07:
                    continue  # missed
                dy, dx = rng.integers(-2, 3, 2)
                inst[np.roll(gt == v, (int(dy), int(dx)), axis=(0, 1))] = v
                cls = 2 if v % 5 == 0 and not (who == "cy" and rng.random() < 0.7) else 1
                objects[v] = ObjectInfo(cls)
            ann = ImageAnnotation(key, gt.shape, instances=inst, objects=objects)
            save_annotator_annotation(ds, i, who, ann)


def make_team_screenshots(out_dir: Path = HERE / "images") -> list[Path]:
    """``team.png`` (the Team dock, ana and cy side by side), ``team_difference.png`` (their
    difference) and ``team_agreement.png`` (the agreement chart) on :func:`_team_dataset`."""
    import tempfile

    import napari
    from qtpy.QtWidgets import QApplication

    from napari_labelsuite._demo import PLUGIN
    from napari_labelsuite.core.taxonomy import Taxonomy
    from napari_labelsuite.core.team import agreement_chart
    from napari_labelsuite.session import LabelSession

    written = []
    with tempfile.TemporaryDirectory(prefix="labelsuite-team-") as tmp:
        _team_dataset(Path(tmp))
        viewer = napari.Viewer(title="napari-labelsuite", show=True)
        s = LabelSession.attach(viewer)
        try:
            app = QApplication.instance()
            viewer.window.resize(*WINDOW)
            s.user = "rita"
            s.taxonomy = Taxonomy.from_dict(
                {"classes": [
                    {"id": 1, "name": "nucleus", "color": "#1f77b4",
                     "description": "A whole nucleus, rim included; touching nuclei apart."},
                    {"id": 2, "name": "dividing", "color": "#d62728",
                     "description": "Condensed chromatin or two daughter nuclei still joined."},
                ]}
            )  # fmt: skip
            s.open_dataset(tmp)
            s.goto(s.dataset.keys().index(s.assignments.overlap_keys()[0]))
            _, widget = viewer.window.add_plugin_dock_widget(PLUGIN, "Team")
            result = s.agreement_by_annotator()
            widget._show_agreement(result)
            agreement_chart(result, out_dir / "team_agreement.png")
            written.append(out_dir / "team_agreement.png")
            for mode, name in (
                ("side_by_side", "team.png"),
                ("difference", "team_difference.png"),
            ):
                s.show_annotators("ana", "cy", mode=mode)
                widget.refresh()
                if mode == "difference":  # the decision buttons at the dock's end
                    bar = widget.scroll_area.verticalScrollBar()
                    bar.setValue(bar.maximum())
                _settle(app)
                viewer.reset_view()
                _settle(app)
                viewer.screenshot(str(out_dir / name), canvas_only=False)
                _save_small(out_dir / name)
                written.append(out_dir / name)
        finally:
            s.release_annotator_lock()
            viewer.close()
    for path in written:
        print(path)
    return written


def make_screenshots(out_dir: Path = HERE / "images", names: Sequence[str] = ()) -> list[Path]:
    """Render every dock widget (or those in ``names``); returns the PNGs written."""
    from qtpy.QtWidgets import QApplication

    from napari_labelsuite._demo import PLUGIN
    from napari_labelsuite._widgets import DOCK_WIDGETS
    from napari_labelsuite.core.errors import LabelsuiteError
    from napari_labelsuite.session import LabelSession

    wanted = {slug(n) for n in names}
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for display_name, _cls in DOCK_WIDGETS:
        if wanted and slug(display_name) not in wanted:
            continue
        viewer = _cells_viewer()
        try:
            app = QApplication.instance()
            viewer.window.resize(*WINDOW)
            viewer.window.add_plugin_dock_widget(PLUGIN, display_name)
            prepare = PREPARE.get(display_name)
            if prepare is not None:
                try:
                    prepare(LabelSession.attach(viewer))
                except LabelsuiteError as exc:  # the screenshot is still useful without it
                    print(f"{display_name}: {exc}", file=sys.stderr)
            _settle(app)
            viewer.reset_view()
            _settle(app)
            path = out_dir / f"{slug(display_name)}.png"
            viewer.screenshot(str(path), canvas_only=False)
            _save_small(path)
            written.append(path)
            print(path)
        finally:
            store = LabelSession.attach(viewer).store
            if store is not None:
                LabelSession.attach(viewer).close_store()
                shutil.rmtree(Path(store.path).parent, ignore_errors=True)
            viewer.close()
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "widgets",
        nargs="*",
        help="display names or slugs, 'workflow', 'objects' or 'team' (default: all)",
    )
    parser.add_argument("--out", type=Path, default=HERE / "images", help="output folder")
    args = parser.parse_args(argv)
    written = make_screenshots(args.out, args.widgets)
    if not args.widgets or "workflow" in args.widgets:
        written.append(make_workflow_screenshot(args.out))
    if not args.widgets or "objects" in args.widgets:
        written += make_object_screenshots(args.out)
    if not args.widgets or "team" in args.widgets:
        written += make_team_screenshots(args.out)
    return 0 if written else 1


if __name__ == "__main__":
    sys.exit(main())
