"""Augmentation speed: one variant and a 3 x 3 preview grid of a 1024 x 1024 image.

Targets: one variant of a three-channel 1024 x 1024 image with an instance mask and 100
boxes <= 50 ms (median); a 3 x 3 grid <= 0.5 s. The peer is albumentations running the
exported equivalent of the same pipeline on the same data in the same run (skipped when
albumentations is not installed). Run: ``python benchmarks/augment.py``.
"""

from __future__ import annotations

import statistics
import time

import numpy as np

from napari_labelsuite.core.annotation import ImageAnnotation, ObjectInfo
from napari_labelsuite.core.augment import Pipeline
from napari_labelsuite.core.augment.transforms import Affine, BrightnessContrast, HorizontalFlip
from napari_labelsuite.core.augment.warp import resolve_backend
from napari_labelsuite.core.boxes import boxes_from_instances
from napari_labelsuite.core.synthetic import make_cells_2d

REPEATS = 15


def _data():
    cells = make_cells_2d((1024, 1024), seed=0)
    nuclei, cyto = cells.image
    image = np.stack([nuclei, cyto, (nuclei // 2 + cyto // 2)]).astype(np.uint16)
    boxes = boxes_from_instances(cells.instances)[:100]
    objects = {b.instance_id: ObjectInfo(1) for b in boxes}
    ann = ImageAnnotation(
        "bench", (1024, 1024), instances=cells.instances, objects=objects, boxes=boxes
    )
    return image, ann


def _median_ms(fn) -> float:
    fn(0)  # warm up
    times = []
    for i in range(REPEATS):
        t0 = time.perf_counter()
        fn(i + 1)
        times.append(time.perf_counter() - t0)
    return 1000 * statistics.median(times)


def main() -> None:
    image, ann = _data()
    transforms = [
        HorizontalFlip(p=0.5),
        Affine(rotate=(-20, 20), scale=(0.9, 1.1), translate_x=(-0.05, 0.05)),
        BrightnessContrast(p=1.0),
    ]
    print(f"image {image.shape} {image.dtype}, {len(ann.boxes)} boxes, instance mask int32")
    results = {}
    for backend in ("auto", "scipy"):
        name = resolve_backend(backend)
        if name in results:
            continue
        pipe = Pipeline(transforms, min_visibility=0.0, backend=name)
        one = _median_ms(lambda s, pipe=pipe: pipe.apply(image, ann, seed=s))
        grid = _median_ms(
            lambda s, pipe=pipe: pipe.apply_many(image, ann, range(9 * s, 9 * s + 9))
        )
        results[name] = one
        print(
            f"labelsuite [{name:6s}] one variant {one:7.1f} ms (target 50)   "
            f"3x3 grid {grid:7.1f} ms (target 500)"
        )
    try:
        import albumentations  # noqa: F401
    except ImportError:
        print("albumentations not installed: peer comparison skipped")
        return
    compose = Pipeline(transforms, min_visibility=0.0).to_albumentations_compose(strict=True)
    hwc = np.ascontiguousarray(np.moveaxis(image, 0, -1))
    bboxes = [b.xyxy for b in ann.boxes]
    class_ids = [b.class_id for b in ann.boxes]

    def run_albu(seed):
        compose.set_random_seed(seed)
        compose(image=hwc, masks=[ann.instances], bboxes=bboxes, class_ids=class_ids)

    peer = _median_ms(run_albu)
    print(f"albumentations          one variant {peer:7.1f} ms")
    for name, ms in results.items():
        print(f"ratio labelsuite[{name}] / albumentations: {ms / peer:.2f}")


if __name__ == "__main__":
    main()
