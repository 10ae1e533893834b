"""Cost of keeping polygon vertices: COCO read and write of many polygon objects.

The readers keep every polygon's vertices (``ann.polygons``) beside the mask, and the
COCO writer (``segmentation="auto"``) writes an object's own vertices only after checking
that their raster still equals its mask. Measured in the same run:

* read: ``coco.read`` (mask + vertices) against pycocotools (``COCO(file)`` and
  ``annToMask`` of every annotation, the peer's way to get the same masks);
* write: ``coco.write`` with the vertices kept (``"auto"``), with traced outlines
  (``"polygon"``) and as RLE (``"rle"``), against pycocotools turning the same polygons
  into RLE (``frPyObjects``, what a tool needs to check or store the same masks).

Run: ``python benchmarks/polygon_vertices.py [n_objects] [side]``
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from _common import best_of

from napari_labelsuite.core.formats import coco


def make_doc(n: int, side: int, seed: int = 0) -> dict[str, Any]:
    """``n`` non-overlapping star-shaped objects of 48 float vertices on a grid."""
    rng = np.random.default_rng(seed)
    per_row = int(np.ceil(np.sqrt(n)))
    cell = side / per_row
    anns = []
    for i in range(n):
        cy, cx = (np.array(divmod(i, per_row)) + 0.5) * cell
        r = cell * 0.4
        a = np.sort(rng.uniform(0, 2 * np.pi, 48))
        rad = r * rng.uniform(0.6, 1.0, 48)
        xy = np.c_[cx + rad * np.cos(a), cy + rad * np.sin(a)]
        x0, y0 = xy.min(0)
        x1, y1 = xy.max(0)
        anns.append({"id": i + 1, "image_id": 1, "category_id": 1, "iscrowd": 0,
                     "segmentation": [[round(float(v), 2) for v in xy.ravel()]],
                     "area": 1.0, "bbox": [float(x0), float(y0), float(x1 - x0),
                                           float(y1 - y0)]})  # fmt: skip
    return {"images": [{"id": 1, "file_name": "big.png", "width": side, "height": side}],
            "annotations": anns, "categories": [{"id": 1, "name": "cell"}]}  # fmt: skip


def main() -> None:
    import warnings

    from pycocotools import mask as mask_utils
    from pycocotools.coco import COCO

    warnings.filterwarnings("ignore", category=DeprecationWarning)
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    side = int(sys.argv[2]) if len(sys.argv) > 2 else 2048
    doc = make_doc(n, side)
    with tempfile.TemporaryDirectory() as tmp:
        f = Path(tmp) / "in.json"
        f.write_text(json.dumps(doc))
        t_read, ((ann,), tax) = best_of(3, coco.read, f)

        def peer_read() -> int:
            import contextlib
            import io

            with contextlib.redirect_stdout(io.StringIO()):
                c = COCO(str(f))
            return sum(int(c.annToMask(a).any()) for a in c.dataset["annotations"])

        t_peer_read, _ = best_of(3, peer_read)
        print(f"{n} polygon objects of 48 vertices on a {side} x {side} image")
        print(f"read   ours (mask + vertices) {t_read:7.3f} s | pycocotools COCO + annToMask "
              f"{t_peer_read:7.3f} s | ratio {t_read / t_peer_read:5.2f}")  # fmt: skip
        out = Path(tmp) / "out.json"
        t_auto, _ = best_of(3, coco.write, out, [ann], tax, segmentation="auto")
        written = json.loads(out.read_text())["annotations"]
        same = [a["segmentation"] for a in written] == [
            a["segmentation"] for a in doc["annotations"]
        ]
        t_poly, _ = best_of(3, coco.write, out, [ann], tax, segmentation="polygon")
        t_rle, _ = best_of(3, coco.write, out, [ann], tax, segmentation="rle")
        polys = [a["segmentation"] for a in doc["annotations"]]
        t_peer_write, _ = best_of(
            3, lambda: [mask_utils.frPyObjects(p, side, side) for p in polys]
        )
        print(f"write  ours, own vertices (checked) {t_auto:7.3f} s | traced outlines "
              f"{t_poly:7.3f} s | RLE {t_rle:7.3f} s")  # fmt: skip
        print(f"       pycocotools polygons -> RLE {t_peer_write:7.3f} s | ratio own vertices / "
              f"peer {t_auto / t_peer_write:5.2f}")  # fmt: skip
        print(f"       file's vertices written back unchanged: {same}")


if __name__ == "__main__":
    main()
