"""COCO export and import speed, against pycocotools.

Part 1 (``--polygons``, the default first part): import of a COCO file shaped like the
COCO 2017 records (5,000 images, 50,000 polygon objects with 8-60 float vertices, some
with several parts, some crossing the border) with ``formats.coco.read`` (JSON, validation,
rasterisation of every object into per-image instance masks) against pycocotools
``COCO(file)`` + ``annToMask`` of every object, timed in the same run (goal: ours <= 10 s).
Masks are checked equal to ``annToMask`` on a sample of images.

Part 2:

Exports 2,000 instances of a 4096 x 4096 mask with ``formats.coco.write`` (RLE, compressed
counts, encoded from each instance's bounding-box crop) and, in the same run, encodes the
same instances with pycocotools ``mask.encode`` (which needs each instance as a full-size
Fortran-ordered mask). Prints both times, their ratio (goal: ours within 1.5x of the
peer's) and the time to read the file back. The peer's mask buffer is prepared outside
its timer: only ``mask.encode`` is timed.

    python benchmarks/formats.py [--images 5000] [--objects 50000] [--width 320 --height 240]
                                 [--size 4096] [--instances 2000] [--peer-sample N]
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


def make_coco_polygons(n_images: int, n_objects: int, w: int, h: int, seed: int = 0) -> dict:
    """A COCO document with ``n_objects`` polygon objects spread over ``n_images`` images."""
    rng = np.random.default_rng(seed)
    images = [
        {"id": i + 1, "file_name": f"{i + 1:012d}.jpg", "width": w, "height": h}
        for i in range(n_images)
    ]
    anns = []
    per = np.bincount(rng.integers(0, n_images, n_objects), minlength=n_images)
    aid = 0
    for i, n in enumerate(per.tolist()):
        for _ in range(n):
            aid += 1
            parts = []
            for _part in range(1 + int(rng.random() < 0.15)):
                k = int(rng.integers(8, 61))
                cx, cy = rng.uniform(-10, w + 10), rng.uniform(-10, h + 10)
                r = rng.uniform(4, min(w, h) / 4)
                a = np.sort(rng.uniform(0, 2 * np.pi, k))
                rad = r * rng.uniform(0.6, 1.0, k)
                xy = np.c_[cx + rad * np.cos(a), cy + rad * np.sin(a)]
                parts.append(np.round(xy, 2).ravel().tolist())
            allp = np.concatenate([np.reshape(p, (-1, 2)) for p in parts])
            x0, y0 = np.clip(allp.min(0), 0, [w, h])
            x1, y1 = np.clip(allp.max(0), 0, [w, h])
            if x1 - x0 < 1 or y1 - y0 < 1:
                x0, y0, x1, y1 = 0.0, 0.0, 1.0, 1.0
            bbox = [
                round(float(x0), 2),
                round(float(y0), 2),
                round(float(x1 - x0), 2),
                round(float(y1 - y0), 2),
            ]
            anns.append(
                {
                    "id": aid,
                    "image_id": i + 1,
                    "category_id": 1 + aid % 80,
                    "iscrowd": 0,
                    "area": 1.0,
                    "bbox": bbox,
                    "segmentation": parts,
                }
            )
    cats = [{"id": c, "name": f"class{c}", "supercategory": "thing"} for c in range(1, 81)]
    return {"info": {}, "licenses": [], "images": images, "annotations": anns, "categories": cats}


def bench_polygon_import(args: argparse.Namespace) -> None:
    import json

    from pycocotools.coco import COCO

    doc = make_coco_polygons(args.images, args.objects, args.width, args.height)
    with tempfile.TemporaryDirectory() as tmp:
        f = Path(tmp) / "instances.json"
        f.write_text(json.dumps(doc))
        size_mb = f.stat().st_size / 1e6
        del doc
        t0, c0 = time.perf_counter(), time.process_time()
        anns, _ = coco.read(f)
        t_ours, c_ours = time.perf_counter() - t0, time.process_time() - c0
        t0, c0 = time.perf_counter(), time.process_time()
        api = COCO(str(f))
        masks = 0
        for rec in api.anns.values():
            api.annToMask(rec)
            masks += 1
        t_peer, c_peer = time.perf_counter() - t0, time.process_time() - c0
        # pixel-for-pixel check on a sample of images (later objects win, as we paint)
        by_name = {a.image_name: a for a in anns}
        for img in list(api.imgs.values())[:: max(1, len(api.imgs) // 50)]:
            expected = np.zeros((img["height"], img["width"]), np.int64)
            for k, rec in enumerate(api.imgToAnns[img["id"]], start=1):
                expected[api.annToMask(rec).astype(bool)] = k
            got = np.asarray(by_name[img["file_name"]].instances)
            assert np.array_equal(got, expected), f"mask differs from annToMask: {img}"
    n_obj = sum(len(a.objects) for a in anns)
    print(
        f"COCO import of {args.images} images ({args.width}x{args.height}), "
        f"{args.objects} polygon objects ({size_mb:.0f} MB JSON)"
    )
    print("  wall and CPU seconds (CPU time is the fair measure on a shared machine):")
    print(
        f"  ours (formats.coco.read: parse, validate, rasterise): {t_ours:8.3f} s wall "
        f"{c_ours:8.3f} s CPU  (goal <= 10 s)"
    )
    print(
        f"  pycocotools COCO() + annToMask of {masks} objects:   {t_peer:8.3f} s wall "
        f"{c_peer:8.3f} s CPU"
    )
    print(
        f"  ratio ours / peer: {t_ours / t_peer:.3f} wall, {c_ours / c_peer:.3f} CPU; "
        f"{n_obj} instances"
    )
    print("  masks equal to annToMask on the sampled images: yes")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=5000)
    ap.add_argument("--objects", type=int, default=50000)
    ap.add_argument("--width", type=int, default=320)
    ap.add_argument("--height", type=int, default=240)
    ap.add_argument("--skip-export", action="store_true", help="run part 1 only")
    ap.add_argument("--size", type=int, default=4096)
    ap.add_argument("--instances", type=int, default=2000)
    ap.add_argument(
        "--peer-sample",
        type=int,
        default=0,
        help="time pycocotools on this many instances and scale up (0: all)",
    )
    args = ap.parse_args()
    bench_polygon_import(args)
    if args.skip_export:
        return
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
