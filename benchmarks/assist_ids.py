"""The id source of a lazy instance layer: the chunk-wise scan when a layer is adopted, then
ids without reading pixels, against dask's reduction and the old per-accept full read.

A zarr-backed uint32 instance layer (every chunk written, ids up to the last object) is
scanned once by ``scan_instance_ids`` (chunk-aligned blocks of at most 1 Mi elements); the
peer, measured in the same run on the same array, is ``dask.array.from_zarr(a).max()``. Then
``next_instance_id`` is timed after the scan (no pixel read) against what each accept cost
before this fix on an unmanaged lazy layer: ``np.max`` over the whole array.

Run: ``python benchmarks/assist_ids.py [--size 8192]``
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import zarr


def _labels(tmp: Path, n: int) -> zarr.Array:
    arr = zarr.create_array(
        tmp / "labels.zarr", shape=(n, n), chunks=(1024, 1024), dtype="uint32", fill_value=0
    )
    rng = np.random.default_rng(0)
    for r in range(0, n, 1024):
        for c in range(0, n, 1024):
            block = np.zeros((min(1024, n - r), min(1024, n - c)), np.uint32)
            ids = rng.integers(1, 50000, 64, dtype=np.uint32)
            for k, (y, x) in enumerate(rng.integers(0, 1000, (64, 2))):
                block[y : y + 20, x : x + 20] = ids[k]
            arr[r : r + block.shape[0], c : c + block.shape[1]] = block
    arr[n - 10 : n, n - 10 : n] = 70000  # the largest id, in the last chunk
    return arr


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=8192)
    args = ap.parse_args()
    import dask.array as da
    from napari.layers import Labels

    from napari_labelsuite import LabelSession

    with tempfile.TemporaryDirectory() as tmp:
        arr = _labels(Path(tmp), args.size)
        session = LabelSession()
        layer = Labels(arr, name="lazy")
        session.layers.append(layer)

        tracemalloc.start()
        t0 = time.perf_counter()
        top = session.scan_instance_ids(layer)
        scan = time.perf_counter() - t0
        scan_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()

        tracemalloc.start()
        t0 = time.perf_counter()
        peer_top = int(da.from_zarr(arr).max().compute(scheduler="threads"))
        peer = time.perf_counter() - t0
        peer_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert top == peer_top == 70000, (top, peer_top)

        session.manage_layer(layer, "instances")  # bound already known: no second scan
        times = []
        for _ in range(200):
            t0 = time.perf_counter()
            iid = session.next_instance_id(layer)
            times.append(time.perf_counter() - t0)
        assert iid == 70001
        lookup = statistics.median(times)

        t0 = time.perf_counter()
        old = int(np.max(arr[...]))  # the old accept on an unmanaged lazy layer
        full = time.perf_counter() - t0
        assert old == 70000

    mb = args.size * args.size * 4 / 2**20
    print(f"{args.size}^2 uint32 zarr labels ({mb:.0f} MiB), chunks 1024^2, 2 shared cores")
    print(f"{'step':44s} {'ours':>12s} {'peer':>12s} {'ratio':>7s}")
    print(
        f"{'scan once (peer: dask from_zarr().max())':44s} {scan:10.2f} s {peer:10.2f} s "
        f"{scan / peer:7.2f}"
    )
    print(
        f"{'  peak traced memory':44s} {scan_peak / 2**20:9.0f} MiB {peer_peak / 2**20:9.0f} MiB "
        f"{scan_peak / max(peer_peak, 1):7.2f}"
    )
    print(
        f"{'next id per accept (peer: np.max of all)':44s} {lookup * 1e3:9.3f} ms "
        f"{full * 1e3:9.0f} ms {lookup / full:7.1e}"
    )


if __name__ == "__main__":
    main()
