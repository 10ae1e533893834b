"""Render the pixel-classifier workflow into ``docs/images/classifier_*.png``.

The synthetic cells sample, strokes painted on a few pixels of each class, the "Classifier"
dock: after training (prediction preview of the view), with the uncertainty overlay, and
the "label next" queue. Needs a display; headless, run it under Xvfb::

    xvfb-run -a -s "-screen 0 1600x1200x24" python docs/make_classifier_screenshots.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_screenshots import HERE, WINDOW, _cells_viewer, _settle  # noqa: E402


def strokes_from_truth(
    semantic: np.ndarray, background: int, n: int = 30, seed: int = 0
) -> np.ndarray:
    """Short horizontal strokes in the top-left quarter (where a person started), each
    inside one class (``background`` where the truth is 0)."""
    rng = np.random.default_rng(seed)
    out = np.zeros(semantic.shape, np.uint8)
    h, w = semantic.shape
    for _ in range(n):
        y, x = (int(v) for v in rng.integers(5, min(h, w) // 2 - 30, 2))
        c = semantic[y, x]
        run = semantic[y, x : x + 25] == c
        length = int(np.argmin(run)) if not run.all() else 25
        out[max(0, y - 1) : y + 2, x : x + length] = c if c else background
    return out


def shot(viewer: object, path: Path) -> None:
    """The window as a small PNG (1200 px wide, 256 colours)."""
    from PIL import Image

    viewer.screenshot(str(path), canvas_only=False)  # type: ignore[attr-defined]
    img = Image.open(path).convert("RGB")
    img = img.resize((1200, round(img.height * 1200 / img.width)), Image.LANCZOS)
    img.quantize(256).save(path, optimize=True)


def main() -> int:
    from qtpy.QtWidgets import QApplication

    from napari_labelsuite._demo import PLUGIN
    from napari_labelsuite.session import LabelSession

    out = HERE / "images"
    viewer = _cells_viewer()
    try:
        app = QApplication.instance()
        viewer.window.resize(*WINDOW)
        _, widget = viewer.window.add_plugin_dock_widget(PLUGIN, "Classifier")
        s = LabelSession.attach(viewer)
        background = s.add_class("background", color="#999999").id
        truth = np.asarray(s.semantic.data)
        layer = s.add_scribbles_layer()
        layer.data[...] = strokes_from_truth(truth, background)
        s.train_classifier(n_estimators=30)
        s.predict_classifier(None)
        s.semantic.visible = False
        _settle(app)
        viewer.reset_view()
        _settle(app)
        shot(viewer, out / "classifier.png")
        widget.show_uncertainty.setChecked(True)
        s.classifier_layers()["prediction"].visible = False
        for name in ("cytoplasm", "nuclei", "classes"):
            if name in viewer.layers:
                viewer.layers[name].visible = False
        widget._show_queue()
        s.suggest_next(5)
        _settle(app)
        shot(viewer, out / "classifier_uncertainty.png")
        print(out / "classifier.png", out / "classifier_uncertainty.png")
    finally:
        viewer.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
