"""Instance tools: speed against scipy / cc3d / fastremap, and memory of chunked labelling.

Run: ``python benchmarks/instances.py [--quick]``. Prints, in one run:
1. connected components of an 8192 x 8192 mask: ours vs ``scipy.ndimage.label``
   (and the candidates cc3d and fastremap);
2. splitting one object in an 8192 x 8192 image (goal <= 100 ms);
3. whole-image watershed split of a 2048 x 2048 image with ~1,000 touching objects;
4. peak memory of chunked labelling of a 20000 x 20000 zarr array (goal <= 2 GB),
   measured in a child process (its maximum resident set size);
5. whole-image chunked split of touching objects of an 8192 x 8192 zarr array (the
   20000 x 20000 case takes far longer than 2 minutes here) against the in-memory
   ``split_touching`` on the same data: time, peak memory (each in its own child process),
   and whether the results are equal.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile

import numpy as np
from _common import best_of
from scipy import ndimage as ndi

from napari_labelsuite.core import instances as inst
from napari_labelsuite.core.synthetic import make_cells_2d


def blobs(shape, y0=0, x0=0) -> np.ndarray:
    """A deterministic blob mask defined per pixel, so any block can be made on its own."""
    y = np.arange(y0, y0 + shape[0], dtype=np.float32)[:, None]
    x = np.arange(x0, x0 + shape[1], dtype=np.float32)[None, :]
    f = np.sin(y / 9.0) * np.sin(x / 13.0) + 0.4 * np.sin((x + 2 * y) / 31.0)
    return f > 0.35


def bench_components(n: int) -> None:
    mask = blobs((n, n))
    t_scipy = best_of(3, lambda: ndi.label(mask))[0]
    t_ours = best_of(3, lambda: inst.label_components(mask))[0]
    print(f"[components {n}x{n}] scipy.ndimage.label {t_scipy * 1e3:.0f} ms")
    print(f"  ours (label_components)   {t_ours * 1e3:.0f} ms  ratio {t_ours / t_scipy:.2f}")
    try:
        import cc3d

        t_cc3d = best_of(3, lambda: cc3d.connected_components(mask, connectivity=4))[0]
        print(f"  cc3d                      {t_cc3d * 1e3:.0f} ms  ratio {t_cc3d / t_scipy:.2f}")
        sem = mask.astype(np.uint8) + (np.arange(n)[None, :] > n // 2)
        t_sem = best_of(3, lambda: inst.label_components(sem))[0]
        t_sem_cc = best_of(3, lambda: cc3d.connected_components(sem, connectivity=4))[0]
        print(f"  semantic (2 classes): ours {t_sem * 1e3:.0f} ms, cc3d {t_sem_cc * 1e3:.0f} ms")
    except ImportError:
        print("  cc3d not installed")
    lab, _ = ndi.label(mask)
    from skimage.segmentation import relabel_sequential

    t_sk = best_of(1, lambda: relabel_sequential(lab))[0]
    t_rel = best_of(1, lambda: inst.relabel_sequential(lab * 3))[0]
    print(f"[relabel {n}x{n}] skimage {t_sk * 1e3:.0f} ms, ours {t_rel * 1e3:.0f} ms", end="")
    try:
        import fastremap

        t_fr = best_of(1, lambda: fastremap.renumber(lab * 3, in_place=False))[0]
        print(f", fastremap {t_fr * 1e3:.0f} ms")
    except ImportError:
        print(", fastremap not installed")


def bench_split_one(n: int) -> None:
    labels = np.zeros((n, n), np.int32)
    yy, xx = np.ogrid[:60, :100]
    pair = ((yy - 30) ** 2 + (xx - 30) ** 2 <= 400) | ((yy - 30) ** 2 + (xx - 66) ** 2 <= 400)
    labels[n // 2 : n // 2 + 60, n // 3 : n // 3 + 100][pair] = 5
    labels[:100, :100] = 9  # other content
    t_full = best_of(3, lambda: inst.split_touching(labels, ids=[5]))[0]
    edit = inst.split_touching(labels, ids=[5])
    box = inst.find_bboxes(labels, [5])[5]
    t_box = best_of(3, lambda: inst.split_touching(labels[box], ids=[5], next_id=10))[0]
    print(
        f"[split one object in {n}x{n}] {t_full * 1e3:.1f} ms (goal <= 100 ms; "
        f"{len(edit.parents) + 1} parts); on its bounding box alone {t_box * 1e3:.1f} ms"
    )


def bench_split_whole(n: int) -> None:
    s = make_cells_2d((n, n), seed=1, density=1.3)
    merged = inst.label_components(s.instances > 0)
    t = best_of(1, lambda: inst.split_touching(merged))[0]
    out = inst.split_touching(merged).apply(merged)
    print(
        f"[watershed split {n}x{n}] {s.n_instances} true objects, {merged.max()} merged "
        f"components -> {len(np.unique(out)) - 1} objects in {t:.2f} s"
    )


CHILD = """
import sys, resource, time, numpy as np, zarr

# Peak resident memory of the child itself. ru_maxrss is not used: on Linux a child started
# from a big parent inherits the parent's maximum; VmHWM belongs to the new address space.
def hwm_kb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
sys.path.insert(0, {here!r})
from instances import blobs
from napari_labelsuite.core.instances.chunked import label_components_chunked
n, c, root = {n}, {c}, {root!r}
src = zarr.create_array(root + "/mask.zarr", shape=(n, n), chunks=(c, c), dtype=bool)
for y in range(0, n, c):
    for x in range(0, n, c):
        src[y:y + c, x:x + c] = blobs((min(c, n - y), min(c, n - x)), y, x)
out = zarr.create_array(root + "/labels.zarr", shape=(n, n), chunks=(c, c), dtype="u4")
t = time.perf_counter()
k = label_components_chunked(src, out)
dt = time.perf_counter() - t
print(k, dt, hwm_kb())
"""


def bench_chunked_memory(n: int, c: int) -> None:
    import os

    here = os.path.dirname(os.path.abspath(__file__))
    with tempfile.TemporaryDirectory() as root:
        code = CHILD.format(here=here, n=n, c=c, root=root)
        res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        if res.returncode:
            print(res.stderr)
            raise SystemExit(1)
        k, dt, rss_kb = res.stdout.split()
    full = n * n * 4 / 2**30
    print(
        f"[chunked labelling {n}x{n}, chunks {c}] {int(k)} components in {float(dt):.1f} s, "
        f"peak RSS {int(rss_kb) / 2**20:.2f} GB (goal <= 2 GB; the int32 result alone "
        f"is {full:.2f} GB)"
    )


SPLIT_CHILD = """
import resource, sys, time, numpy as np, zarr

# Peak resident memory of the child itself. ru_maxrss is not used: on Linux a child started
# from a big parent inherits the parent's maximum; VmHWM belongs to the new address space.
def hwm_kb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
from napari_labelsuite.core import instances as inst
from napari_labelsuite.core.instances.chunked import split_touching_chunked
root, mode = {root!r}, {mode!r}
base = hwm_kb()
src = zarr.open_array(root + "/merged.zarr", mode="r")
t = time.perf_counter()
if mode == "memory":
    lab = src[:]
    res = inst.split_touching(lab).apply(lab, inplace=True)
    zarr.create_array(root + "/ref.zarr", data=res, chunks=src.chunks, overwrite=True)
    n = 0
else:
    out = zarr.create_array(root + "/out.zarr", shape=src.shape, chunks=src.chunks,
                            dtype=src.dtype, overwrite=True)
    n = len(split_touching_chunked(src, out).parents)
dt = time.perf_counter() - t
print(dt, hwm_kb(), base, n)
"""


def bench_split_chunked(n: int, c: int) -> None:
    import zarr

    tile = make_cells_2d((2048, 2048), seed=1, density=1.3).instances > 0
    reps = -(-n // 2048)
    merged = inst.label_components(np.tile(tile, (reps, reps))[:n, :n])
    with tempfile.TemporaryDirectory() as root:
        zarr.create_array(root + "/merged.zarr", data=merged, chunks=(c, c))
        del merged
        res = {}
        for mode in ("memory", "chunked"):
            code = SPLIT_CHILD.format(root=root, mode=mode)
            r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
            if r.returncode:
                print(r.stderr)
                raise SystemExit(1)
            dt, rss, base, k = r.stdout.split()
            res[mode] = (float(dt), int(rss) / 2**10, int(k))
            res["base"] = int(base) / 2**10
        a = zarr.open_array(root + "/ref.zarr", mode="r")
        b = zarr.open_array(root + "/out.zarr", mode="r")
        equal = all(np.array_equal(a[y : y + c], b[y : y + c]) for y in range(0, n, c))
    (t_mem, m_mem, _), (t_ch, m_ch, k) = res["memory"], res["chunked"]
    print(
        f"[chunked split {n}x{n}, chunks {c}] {k} new ids; equal to in-memory: {equal} "
        f"(RSS after imports {res['base']:.0f} MB)"
    )
    print(f"  in-memory split_touching  {t_mem:.1f} s, peak RSS {m_mem:.0f} MB")
    print(
        f"  chunked (zarr -> zarr)    {t_ch:.1f} s, peak RSS {m_ch:.0f} MB  "
        f"time ratio {t_ch / t_mem:.2f}, memory ratio {m_ch / m_mem:.2f}"
    )


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true", help="smaller sizes (smoke run)")
    a = p.parse_args()
    big, whole, huge = (2048, 1024, 4096) if a.quick else (8192, 2048, 20000)
    bench_components(big)
    bench_split_one(big)
    bench_split_whole(whole)
    bench_chunked_memory(huge, 2048)
    bench_split_chunked(2048 if a.quick else 8192, 512)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"(this process peak RSS {rss:.2f} GB)")


if __name__ == "__main__":
    main()
