"""Render the "Team" dock into ``docs/images/team.png`` and ``team_difference.png``, and the
agreement chart into ``docs/images/team_agreement.png``.

A small dataset cut from the synthetic cells sample (six 256 x 256 crops of the nuclei
channel), assigned to ana, bob and cy with half the images labelled by all three; each
annotator's labels are the sample's ground truth, shifted a pixel or two, with a few
objects missed, and cy calls most dividing nuclei plain nuclei. Needs a display; headless,
run it under Xvfb::

    xvfb-run -a -s "-screen 0 1600x1200x24" python docs/make_team_screenshots.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_classifier_screenshots import shot  # noqa: E402
from make_screenshots import HERE, WINDOW, _settle  # noqa: E402

CROPS = [(0, 0), (0, 256), (256, 0), (256, 256), (512, 512), (512, 768)]


def build(folder: Path) -> None:
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
    for n, (y, x) in enumerate(CROPS):
        np.save(folder / f"field{n}.npy", np.asarray(sample.image[0, y : y + 256, x : x + 256]))
    ds = Dataset.open(folder)
    plan = Assignments.create(ds.keys(), ["ana", "bob", "cy"], overlap=0.5, per_image=3)
    assignments_path(ds).parent.mkdir(parents=True, exist_ok=True)
    plan.save(assignments_path(ds))
    for i, key in enumerate(ds.keys()):
        y, x = CROPS[i]
        gt = np.asarray(sample.instances[y : y + 256, x : x + 256])
        ids = [int(v) for v in np.unique(gt) if v]
        dividing = {v for v in ids if v % 5 == 0}
        for who in plan.annotators_of(key):
            inst = np.zeros_like(gt, dtype=np.int32)
            objects = {}
            for v in ids:
                if rng.random() < 0.07:
                    continue  # missed
                dy, dx = rng.integers(-2, 3, 2)
                inst[np.roll(gt == v, (int(dy), int(dx)), axis=(0, 1))] = v
                cls = 2 if v in dividing and not (who == "cy" and rng.random() < 0.7) else 1
                objects[v] = ObjectInfo(cls)
            save_annotator_annotation(
                ds, i, who, ImageAnnotation(key, gt.shape, instances=inst, objects=objects)
            )


def main() -> int:
    import napari
    from qtpy.QtWidgets import QApplication

    from napari_labelsuite._demo import PLUGIN
    from napari_labelsuite.core.taxonomy import Taxonomy
    from napari_labelsuite.core.team import agreement_chart
    from napari_labelsuite.session import LabelSession

    out = HERE / "images"
    with tempfile.TemporaryDirectory(prefix="labelsuite-team-") as tmp:
        build(Path(tmp))
        viewer = napari.Viewer(title="napari-labelsuite", show=True)
        try:
            app = QApplication.instance()
            viewer.window.resize(*WINDOW)
            s = LabelSession.attach(viewer)
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
            first = s.assignments.overlap_keys()[0]
            s.goto(s.dataset.keys().index(first))
            _, widget = viewer.window.add_plugin_dock_widget(PLUGIN, "Team")
            result = s.agreement_by_annotator()
            widget._show_agreement(result)
            agreement_chart(result, out / "team_agreement.png")
            s.show_annotators("ana", "cy", mode="side_by_side")
            widget.refresh()
            _settle(app)
            viewer.reset_view()
            _settle(app)
            shot(viewer, out / "team.png")
            s.show_annotators("ana", "cy", mode="difference")
            widget.refresh()
            widget.scroll_area.verticalScrollBar().setValue(
                widget.scroll_area.verticalScrollBar().maximum()
            )
            _settle(app)
            viewer.reset_view()
            _settle(app)
            shot(viewer, out / "team_difference.png")
        finally:
            viewer.close()
    for name in ("team.png", "team_difference.png", "team_agreement.png"):
        print(out / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
