"""Saving and reopening polygons, rotated boxes and keypoint sets with an image.

Two measurements, each against a peer measured in the same run:

* core: ``save_sidecar`` + ``load_sidecar`` of an annotation holding N polygons (16
  vertices), N rotated boxes and N keypoint sets (17 keypoints), every field checked on
  reading, against the floor: ``json.dumps`` + ``json.loads`` of the same numbers as plain
  lists (no checks, no objects);
* session: ``save_current`` + reopening the image (``next``/``prev``: the layers are read,
  written, read back and shown again) with the three object layers, against the same with
  3N axis-aligned boxes on the boxes layer (the path boxes always took).

Run: ``python benchmarks/object_kinds_sidecar.py [n_objects_per_kind]``
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import best_of

from napari_labelsuite import LabelSession
from napari_labelsuite.core.annotation import Box, ImageAnnotation
from napari_labelsuite.core.dataset import load_sidecar, save_sidecar
from napari_labelsuite.core.objects import Keypoints, Polygon, RotatedBox
from napari_labelsuite.core.objects.polygons import Ring
from napari_labelsuite.core.taxonomy import Taxonomy

SIZE = 2000
NAMES = [f"k{i}" for i in range(17)]
TAX = {"classes": [{"id": 1, "name": "thing"},
                   {"id": 2, "name": "person", "keypoints": {"names": NAMES}}]}  # fmt: skip


def make_objects(n: int, seed: int = 0) -> tuple[list, list, list]:
    rng = np.random.default_rng(seed)
    polys, rboxes, kps = [], [], []
    for i in range(n):
        c = rng.uniform(40, SIZE - 40, 2)
        t = np.sort(rng.uniform(0, 2 * np.pi, 16))
        r = rng.uniform(6, 30) * rng.uniform(0.6, 1.0, 16)
        polys.append(Polygon(Ring(c + np.c_[r * np.cos(t), r * np.sin(t)]), 1, i + 1))
        rboxes.append(RotatedBox(*rng.uniform(40, SIZE - 40, 2), *rng.uniform(4, 30, 2),
                                 rng.uniform(-90, 90), 1))  # fmt: skip
        xy = c + rng.uniform(-20, 20, (17, 2))
        kps.append(Keypoints(np.c_[xy, rng.integers(1, 3, 17)], 2))
    return polys, rboxes, kps


def core(n: int, folder: Path) -> None:
    polys, rboxes, kps = make_objects(n)
    ann = ImageAnnotation("img", (SIZE, SIZE), polygons=polys, rotated=rboxes, keypoints=kps)
    jp = folder / "img.json"

    def ours() -> None:
        save_sidecar(ann, jp)
        back = load_sidecar(jp)
        assert len(back.polygons) == len(back.rotated) == len(back.keypoints) == n

    raw = {
        "polygons": [p.ring.xy.tolist() for p in polys],
        "rotated": [list(rb.xywha) for rb in rboxes],
        "keypoints": [k.xyv.tolist() for k in kps],
    }
    plain = folder / "plain.json"

    def floor() -> None:
        plain.write_text(json.dumps(raw))
        json.loads(plain.read_text())

    t_ours, t_floor = best_of(3, ours)[0], best_of(3, floor)[0]
    print(f"core  {n} objects of each kind: save+load {t_ours * 1e3:8.1f} ms, "
          f"plain json {t_floor * 1e3:8.1f} ms, ratio {t_ours / t_floor:5.2f}x")  # fmt: skip


def session_round(n: int, folder: Path, kinds: bool) -> float:
    import tifffile

    sub = folder / ("kinds" if kinds else "boxes")
    sub.mkdir()
    for name in ("a.tif", "b.tif"):
        tifffile.imwrite(sub / name, np.zeros((SIZE, SIZE), np.uint8))
    s = LabelSession()
    s.taxonomy = Taxonomy.from_dict(TAX)
    s.open_dataset(sub)
    polys, rboxes, kps = make_objects(n)
    if kinds:
        s.add_polygons_layer([{"xy": p.ring.xy, "class_id": 1, "instance_id": p.instance_id}
                              for p in polys])  # fmt: skip
        s.add_rotated_boxes_layer(rboxes)
        s.add_keypoints_layer(kps)
    else:
        rng = np.random.default_rng(1)
        x0 = rng.uniform(0, SIZE - 40, (3 * n, 2))
        s.add_boxes_layer([Box(x, y, x + 30, y + 30, 1) for x, y in x0])
    t0 = time.perf_counter()
    s.next()  # save, show the next image
    s.prev()  # read back and show again
    dt = time.perf_counter() - t0
    if kinds:
        assert len(s.layers_of_role("polygons")[0].data) == n
    else:
        assert len(s.boxes.data) == 3 * n
    return dt


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        core(n, folder)
        t_kinds = session_round(n, folder, kinds=True)
        t_boxes = session_round(n, folder, kinds=False)
    print(f"session next+prev, {n} polygons + {n} rotated + {n} keypoint sets: "
          f"{t_kinds:6.2f} s; {3 * n} boxes: {t_boxes:6.2f} s; "
          f"ratio {t_kinds / t_boxes:5.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
