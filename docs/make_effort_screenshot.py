"""Render the "Labeling effort" dock into ``docs/images/labeling_effort.png``.

The synthetic cells sample; a few nuclei labelled with napari's own tools (polygons in the
Labels polygon mode, brush strokes, boxes drawn with the rectangle tool, driven by the
simulated annotator of ``napari_labelsuite._simulate``), an action every few seconds of a
made-up clock; then the dock with its table. Needs a display; headless, run it under Xvfb::

    xvfb-run -a -s "-screen 0 1600x1200x24" python docs/make_effort_screenshot.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi
from skimage import measure

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_classifier_screenshots import shot  # noqa: E402
from make_screenshots import HERE, WINDOW, _cells_viewer, _settle  # noqa: E402


def main() -> int:
    from qtpy.QtWidgets import QApplication

    from napari_labelsuite import _simulate as sim
    from napari_labelsuite._demo import PLUGIN
    from napari_labelsuite.core.synthetic import make_cells_2d
    from napari_labelsuite.session import LabelSession

    truth = make_cells_2d().instances  # the sample's own ground truth
    viewer = _cells_viewer()
    try:
        app = QApplication.instance()
        viewer.window.resize(*WINDOW)
        s = LabelSession.attach(viewer)
        s.user = "ana"
        clock = iter(np.cumsum(np.random.default_rng(0).uniform(1.5, 6.0, 2000)))
        s._effort_clock = lambda: 1.7e9 + float(next(clock))
        _, widget = viewer.window.add_plugin_dock_widget(PLUGIN, "Labeling effort")
        inst = s.add_instance_layer()
        s.set_active_class("nucleus")
        inst.preserve_labels = True
        for gid, sl in enumerate(ndi.find_objects(truth)[:12], start=1):
            m = truth[sl] == gid
            contour = max(measure.find_contours(np.pad(m, 1).astype(float), 0.5), key=len)
            verts = measure.approximate_polygon(contour - 1, 1.5)[:-1]
            sim.labels_polygon(inst, verts + [sl[0].start, sl[1].start], label=gid)
        for gid in range(13, 19):
            y, x = (int(c) for c in ndi.center_of_mass(truth == gid))
            sim.brush_stroke(inst, [(y, x - 6), (y, x + 6)], label=gid, size=9)
            sim.brush_stroke(inst, [(y - 5, x - 4), (y - 5, x + 4)], label=gid, size=7)
        boxes = s.add_boxes_layer()
        for sl in ndi.find_objects(truth)[18:26]:
            sim.draw_rectangle(
                boxes, (sl[0].start - 0.5, sl[1].start - 0.5), (sl[0].stop - 0.5, sl[1].stop - 0.5)
            )
        viewer.layers.selection.active = inst
        widget.refresh()
        _settle(app)
        viewer.reset_view()
        _settle(app)
        shot(viewer, HERE / "images" / "labeling_effort.png")
    finally:
        viewer.close()
    print(HERE / "images" / "labeling_effort.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
