"""Data the team-labeling tests build: image folders and rectangle annotations."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tifffile

from napari_labelsuite.core.annotation import ImageAnnotation, ObjectInfo


def write_random_tiffs(folder: Path, n: int, shape: tuple[int, ...], seed: int) -> Path:
    """``folder`` made with ``img0.tif`` .. ``img{n-1}.tif``: random uint8 images of ``shape``."""
    folder.mkdir()
    rng = np.random.default_rng(seed)
    for k in range(n):
        tifffile.imwrite(folder / f"img{k}.tif", rng.integers(0, 255, shape, dtype=np.uint8))
    return folder


def rect_annotation(
    key: str, shape: tuple[int, ...], rects: list[tuple], classes: list[int]
) -> ImageAnnotation:
    """Instances ``1..n`` filling the rectangles ``(y0, y1, x0, x1)``, of ``classes`` in order."""
    inst = np.zeros(shape, np.int32)
    for k, (y0, y1, x0, x1) in enumerate(rects, start=1):
        inst[y0:y1, x0:x1] = k
    objects = {k: ObjectInfo(c) for k, c in enumerate(classes, start=1)}
    return ImageAnnotation(key, shape, instances=inst, objects=objects)
