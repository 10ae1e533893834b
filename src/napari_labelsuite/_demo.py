"""The demo viewer: the 2D synthetic cells, the taxonomy applied, every dock widget open."""

from __future__ import annotations

from typing import Any

PLUGIN = "napari-labelsuite"


def open_plugin_widgets(viewer: Any) -> list[Any]:
    """Dock every plugin widget (tabified on the right); returns the widget instances."""
    from ._widgets import DOCK_WIDGETS

    widgets, docks = [], []
    for i, (name, _cls) in enumerate(DOCK_WIDGETS):
        dock, widget = viewer.window.add_plugin_dock_widget(PLUGIN, name, tabify=i > 0)
        widgets.append(widget)
        docks.append(dock)
    # the taxonomy is what a newcomer needs first
    if docks:
        from qtpy.QtCore import QTimer

        # raise after Qt has laid out the tabs, or the last added tab stays in front
        QTimer.singleShot(0, docks[0].raise_)
    return widgets


def build_demo(viewer: Any) -> Any:
    """Load the 2D sample into ``viewer`` and open the widgets.

    The sample's class list and the role of its mask are adopted by the session as the
    layers arrive (as with File > Open Sample), so the demo shows what a user gets.
    """
    from .session import LabelSession

    session = LabelSession.attach(viewer)
    viewer.open_sample(PLUGIN, "cells_2d")
    open_plugin_widgets(viewer)
    session.set_active_class("nucleus")
    session.push_to_console()
    return session


def run_demo(screenshot: str | None = None) -> int:
    """Start napari with the demo; with ``screenshot`` render the window to a PNG and exit."""
    import napari

    viewer = napari.Viewer(title="napari-labelsuite demo", show=True)
    build_demo(viewer)
    if screenshot is None:
        napari.run()
        return 0
    from qtpy.QtWidgets import QApplication

    from ._napari_compat import resize_window

    resize_window(viewer, 1366, 768)  # a laptop screen: the docks must fit
    for _ in range(10):
        QApplication.processEvents()
    viewer.reset_view()
    viewer.screenshot(screenshot, canvas_only=False)
    viewer.close()
    return 0
