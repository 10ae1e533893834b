"""Render ``docs/images/objects.png``: rotated boxes fitted to instances, and keypoints.

The 2D cells sample is opened, ``session.rotated_boxes_from_instances()`` fits one
minimum-area rotated box per nucleus, and a few keypoint sets of a class with a skeleton
are shown on a Points layer. Needs a display; headless::

    xvfb-run -a -s "-screen 0 1600x1200x24" python docs/make_objects_screenshot.py
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
WINDOW = (1100, 800)


def main() -> int:
    import napari
    import numpy as np

    from napari_labelsuite import LabelSession
    from napari_labelsuite.core.annotation import ObjectInfo
    from napari_labelsuite.core.objects import Keypoints
    from napari_labelsuite.core.synthetic import make_cells_2d
    from napari_labelsuite.core.taxonomy import Taxonomy

    viewer = napari.Viewer(title="napari-labelsuite", show=True)
    try:
        viewer.window.resize(*WINDOW)
        ann = make_cells_2d(shape=(256, 256), seed=3)
        s = LabelSession(viewer)
        s.taxonomy = Taxonomy.from_dict({
            "classes": [
                {"id": 1, "name": "nucleus", "color": "#ffcc00"},
                {"id": 2, "name": "landmark", "keypoints": {
                    "names": ["tip", "left", "right"], "edges": [[0, 1], [0, 2]],
                    "flip_pairs": [[1, 2]]}},
            ]
        })  # fmt: skip
        viewer.add_image(ann.image[0], name="nuclei")
        ids = [int(i) for i in np.unique(ann.instances) if i]
        s.add_instance_layer(ann.instances, objects={i: ObjectInfo(1) for i in ids})
        s.instances.opacity = 0.35
        s.rotated_boxes_from_instances()
        kps = [
            Keypoints(np.array([[x, y - 12, 2], [x - 10, y + 8, 2], [x + 10, y + 8, 1]]), 2,
                      box=(x - 12, y - 14, x + 12, y + 10))
            for x, y in [(60.0, 60.0), (190.0, 80.0), (120.0, 200.0)]
        ]  # fmt: skip
        s.add_keypoints_layer(kps)
        viewer.reset_view()
        out = HERE / "images" / "objects.png"
        viewer.screenshot(str(out), canvas_only=False)
        print(out)
    finally:
        viewer.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
