"""Render ``docs/images/interpolate.png``: keyframes painted on a 3D stack, then filled.

The 3D cells sample is opened, three nuclei are copied from the sample's ground truth onto
a few keyframe slices of the ``keyframes`` layer, and *Interpolate masks* (all objects) of
the **Interpolate / track** dock fills the slices in between. Needs a display; headless::

    xvfb-run -a -s "-screen 0 1600x1200x24" python docs/make_interpolate_screenshot.py
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
WINDOW = (1280, 800)


def main() -> int:
    import napari
    import numpy as np
    from qtpy.QtWidgets import QApplication

    from napari_labelsuite._demo import PLUGIN
    from napari_labelsuite.core.synthetic import make_cells_3d

    viewer = napari.Viewer(title="napari-labelsuite", show=True)
    try:
        app = QApplication.instance()
        viewer.window.resize(*WINDOW)
        viewer.open_sample(PLUGIN, "cells_3d")
        truth = make_cells_3d().instances
        keyframes = viewer.layers["keyframes"]
        ids = [i for i in np.unique(truth[16]) if i][:6]
        for iid in ids:
            zs = np.flatnonzero((truth == iid).any(axis=(1, 2)))
            for z in zs[:: max(1, len(zs) // 3)][:3].tolist() + [int(zs[-1])]:
                keyframes.data[z][truth[z] == iid] = iid
        keyframes.refresh()
        _, widget = viewer.window.add_plugin_dock_widget(PLUGIN, "Interpolate / track")
        session = widget.session
        for iid in ids:  # coloured by their class
            session.set_object_class(int(iid), "nucleus", layer=keyframes)
        viewer.layers["classes"].visible = False
        widget.scope.setCurrentText("all objects")
        widget.interpolate()
        for _ in range(200):  # the worker finishes, then the result is written
            app.processEvents()
            if "pixels filled" in widget.status.text():
                break
            import time

            time.sleep(0.05)
        viewer.dims.set_point(0, 16 * 2.0)
        viewer.reset_view()
        centre = np.argwhere(keyframes.data[16] > 0).mean(0)
        viewer.scene.camera.center = (0.0, float(centre[0]), float(centre[1]))
        viewer.scene.camera.zoom *= 2.0
        for _ in range(10):
            app.processEvents()
        path = HERE / "images" / "interpolate.png"
        viewer.screenshot(str(path), canvas_only=False)
        print(path, widget.status.text())
    finally:
        viewer.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
