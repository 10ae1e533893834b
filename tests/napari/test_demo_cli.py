"""`napari-labelsuite demo --screenshot` renders the whole window headless and exits 0."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest


@pytest.mark.skipif(not os.environ.get("DISPLAY"), reason="needs a display (run under Xvfb)")
def test_demo_screenshot_shows_image_labels_and_widgets(tmp_path):
    from skimage.io import imread

    out = tmp_path / "demo.png"
    proc = subprocess.run(
        [sys.executable, "-m", "napari_labelsuite.cli", "demo", "--screenshot", str(out)],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    img = imread(out)
    # rendered at 1,366 x 768 and not grown: every dock fits a laptop screen
    assert img.ndim == 3 and img.shape[:2] == (768, 1366)
    rgb = img[..., :3].reshape(-1, 3)
    # the canvas shows the taxonomy colours: nucleus (#E69F00 blended) and cytoplasm hues
    colours = np.unique(rgb // 32, axis=0)
    assert len(colours) > 20
    # the right dock area holds the widgets: it is not uniform background
    right = img[100:-100, -250:, :3]
    assert right.std() > 5
