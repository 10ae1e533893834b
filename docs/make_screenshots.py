"""Render a screenshot of each dock widget into ``docs/images/<widget>.png``.

Each widget is docked alone in a napari window showing the synthetic cells sample, after a
few session calls that give it something to show, and the whole window is saved with
``viewer.screenshot(canvas_only=False)``. Needs a display; headless, run it under Xvfb::

    xvfb-run -a -s "-screen 0 1600x1200x24" python docs/make_screenshots.py

(``make screenshots`` does exactly this.) Pass widget names to render only some of them.
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
        "widgets", nargs="*", help="display names or slugs, or 'workflow' (default: all)"
    )
    parser.add_argument("--out", type=Path, default=HERE / "images", help="output folder")
    args = parser.parse_args(argv)
    written = make_screenshots(args.out, args.widgets)
    if not args.widgets or "workflow" in args.widgets:
        written.append(make_workflow_screenshot(args.out))
    return 0 if written else 1


if __name__ == "__main__":
    sys.exit(main())
