"""COCO export and import speed on a large instance mask, against pycocotools.

Exports 2,000 instances of a 4096 x 4096 mask with ``formats.coco.write`` (RLE, compressed
counts, encoded from each instance's bounding-box crop) and, in the same run, encodes the
same instances with pycocotools ``mask.encode`` (which needs each instance as a full-size
Fortran-ordered mask). Prints both times, their ratio (goal: ours within 1.5x of the
peer's) and the time to read the file back. The peer's mask buffer is prepared outside
its timer: only ``mask.encode`` is timed.

    python benchmarks/formats.py [--size 4096] [--instances 2000] [--peer-sample N]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi

from napari_labelsuite.core.annotation import ImageAnnotation, ObjectInfo
from napari_labelsuite.core.formats import coco, rle
from napari_labelsuite.core.taxonomy import Taxonomy


def make_instances(size: int, n: int, seed: int = 0) -> np.ndarray:
    """``n`` disjoint blobs (ellipses of radius 6-20 px) on a jittered grid."""
    rng = np.random.default_rng(seed)
    labels = np.zeros((size, size), np.int32)
    grid = int(np.ceil(np.sqrt(n)))
    cell = size // grid
    yy, xx = np.mgrid[-20:21, -20:21]
    k = 0
    for gy in range(grid):
        for gx in range(grid):
            if k == n:
                break
            ry, rx = rng.uniform(6, min(20, cell / 2 - 1), 2)
            cy = gy * cell + cell // 2 + int(rng.integers(-2, 3))
            cx = gx * cell + cell // 2 + int(rng.integers(-2, 3))
            blob = (yy / ry) ** 2 + (xx / rx) ** 2 <= 1
            k += 1
            view = labels[cy - 20 : cy + 21, cx - 20 : cx + 21]
            view[blob[: view.shape[0], : view.shape[1]]] = k
    return labels


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=4096)
    ap.add_argument("--instances", type=int, default=2000)
    ap.add_argument(
        "--peer-sample",
        type=int,
        default=0,
        help="time pycocotools on this many instances and scale up (0: all)",
    )
    args = ap.parse_args()
    from pycocotools import mask as mask_utils

    labels = make_instances(args.size, args.instances)
    n = int(labels.max())
    tax = Taxonomy([{"id": 1, "name": "cell"}])
    ann = ImageAnnotation(
        "big.png",
        labels.shape,
        instances=labels,
        objects={k: ObjectInfo(1) for k in range(1, n + 1)},
    )
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "big.json"
        t0 = time.perf_counter()
        coco.write(out, [ann], tax)
        t_ours = time.perf_counter() - t0
        t0 = time.perf_counter()
        (back,), _ = coco.read(out)
        t_read = time.perf_counter() - t0
        assert np.array_equal(back.instances, labels), "round trip changed the mask"
        size_mb = out.stat().st_size / 1e6

    slices = ndi.find_objects(labels)
    ids = list(range(1, n + 1))
    if args.peer_sample:
        ids = list(np.random.default_rng(1).choice(ids, args.peer_sample, replace=False))
    buf = np.zeros(labels.shape, np.uint8, order="F")
    t_peer = 0.0
    for k in ids:
        sl = slices[k - 1]
        buf[sl] = labels[sl] == k
        t0 = time.perf_counter()
        ref = mask_utils.encode(buf)
        t_peer += time.perf_counter() - t0
        crop = labels[sl] == k
        ours = rle.counts_to_string(
            rle.counts_from_crop(crop, sl[0].start, sl[1].start, *labels.shape)
        )
        assert ours == ref["counts"].decode(), f"RLE differs from pycocotools for {k}"
        buf[sl] = 0
    t_peer *= n / len(ids)
    scaled = " (scaled from a sample)" if args.peer_sample else ""
    print(f"COCO export of {n} instances in a {args.size}x{args.size} mask ({size_mb:.1f} MB)")
    print(f"  ours (formats.coco.write, whole file): {t_ours:8.3f} s")
    print(f"  pycocotools mask.encode, same instances: {t_peer:8.3f} s{scaled}")
    print(f"  ratio ours / peer: {t_ours / t_peer:.3f}  (goal <= 1.5)")
    print(f"  import (formats.coco.read): {t_read:8.3f} s")


if __name__ == "__main__":
    main()
