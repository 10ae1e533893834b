"""Every dock widget of the manifest fits a 1,366 x 768 laptop screen.

One viewer at that size gets every widget the manifest declares (also those added after
this test was written), docked as the Plugins menu docks them; each dock is shown in turn
and the window is rendered to a PNG. A dock whose minimum size exceeds the screen makes the
window grow, and the screenshot comes out larger than the screen.
"""

from __future__ import annotations

from importlib import resources

import yaml

from napari_labelsuite._widgets._base import SessionWidget

PLUGIN = "napari-labelsuite"
SCREEN = (1366, 768)  # width, height


def _manifest_widgets() -> list[str]:
    text = resources.files("napari_labelsuite").joinpath("napari.yaml").read_text()
    return [w["display_name"] for w in yaml.safe_load(text)["contributions"]["widgets"]]


def test_every_dock_fits_a_laptop_screen(make_napari_viewer, tmp_path):
    from qtpy.QtWidgets import QApplication
    from skimage.io import imread

    viewer = make_napari_viewer(show=True)
    window = viewer.window._qt_window
    window.resize(*SCREEN)
    viewer.open_sample(PLUGIN, "cells_2d")
    names = _manifest_widgets()
    assert len(names) >= 6
    too_big = {}
    for name in names:
        dock, widget = viewer.window.add_plugin_dock_widget(PLUGIN, name)
        QApplication.processEvents()
        QApplication.processEvents()  # the deferred tabify
        dock.raise_()
        QApplication.processEvents()
        hint = dock.minimumSizeHint()
        if hint.height() > SCREEN[1] - 150 or hint.width() > SCREEN[0] // 3:
            too_big[name] = (hint.width(), hint.height())
        shot = tmp_path / f"{name.replace(' ', '_').replace('/', '')}.png"
        viewer.screenshot(str(shot), canvas_only=False)
        assert imread(shot).shape[:2] == (SCREEN[1], SCREEN[0]), name
        if isinstance(widget, SessionWidget):
            # a Label Suite dock joins the others as a tab instead of stacking under them
            assert widget.minimumSizeHint().height() <= 240
    assert too_big == {}
    minimum = window.minimumSizeHint()
    assert minimum.width() <= SCREEN[0] and minimum.height() <= SCREEN[1]
    assert (window.width(), window.height()) == SCREEN
