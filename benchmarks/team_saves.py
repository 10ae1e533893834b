"""Team labeling benchmark: two annotators saving into one mask store at the same time.

Two processes (spawn), annotators ``a`` and ``b``, each open the store for themselves
(a lock per label image), add their label image and save N distinct one-pixel edits, one
save per edit. The peer, measured in the same run: the same 2 x N saves made by one
whole-store writer (what a single store lock forces: one person after the other). Prints
lost edits, lock errors, wall time and the ratio of saves per second.

Run: ``.venv/bin/python benchmarks/team_saves.py [--saves 500] [--s3]`` (``--s3`` repeats
it against a local moto S3 server; needs moto and s3fs).
"""

from __future__ import annotations

import argparse
import multiprocessing
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

SHAPE = (32, 64)
CHUNKS = (16, 16)


def _pixel(k: int) -> tuple[int, int]:
    return (k // SHAPE[1]) % SHAPE[0], k % SHAPE[1]


def _annotate(url: str, annotator: str, n: int, barrier: Any, out: Any, opts: Any) -> None:
    from napari_labelsuite.core.errors import StoreError
    from napari_labelsuite.core.team import open_for_annotator

    lock_errors = 0
    barrier.wait(timeout=120)
    t0 = time.perf_counter()
    try:
        st = open_for_annotator(url, annotator, storage_options=opts)
        lab = st.create_labels(f"instances.{annotator}", dtype="uint16", role="instances")
        for k in range(n):
            lab[_pixel(k)] = k + 1
            st.save()
        st.close()
    except StoreError:
        lock_errors += 1
    out.put((annotator, lock_errors, time.perf_counter() - t0))


def _team(url: str, n: int, opts: Any) -> tuple[float, int]:
    ctx = multiprocessing.get_context("spawn")
    barrier, out = ctx.Barrier(3), ctx.Queue()
    procs = [ctx.Process(target=_annotate, args=(url, a, n, barrier, out, opts))
             for a in ("a", "b")]  # fmt: skip
    for p in procs:
        p.start()
    barrier.wait(timeout=120)  # both children imported and ready: start the clock
    t0 = time.perf_counter()
    results = [out.get(timeout=3600) for _ in procs]
    wall = time.perf_counter() - t0
    for p in procs:
        p.join()
    return wall, sum(r[1] for r in results)


def _single(url: str, n: int, opts: Any) -> float:
    from napari_labelsuite.core.store import MaskStore

    t0 = time.perf_counter()
    with MaskStore.open(url, "r+", storage_options=opts) as st:
        labs = [st.create_labels(f"instances.{a}", dtype="uint16", role="instances")
                for a in ("a", "b")]  # fmt: skip
        for k in range(n):
            for lab in labs:  # one writer, the two people's edits one after the other
                lab[_pixel(k)] = k + 1
                st.save()
    return time.perf_counter() - t0


def _lost(url: str, n: int, opts: Any) -> int:
    from napari_labelsuite.core.store import MaskStore

    exp = np.zeros(SHAPE, np.uint16)
    for k in range(n):
        exp[_pixel(k)] = k + 1
    lost = 0
    with MaskStore.open(url, "r", storage_options=opts) as st:
        for a in ("a", "b"):
            got = st.labels(f"instances.{a}")[:]
            lost += int(np.count_nonzero(got != exp))
    return lost


def _run(where: str, make_url: Any, n: int, opts: Any) -> None:
    from napari_labelsuite.core.store import MaskStore

    team_url, single_url = make_url("team"), make_url("single")
    for u in (team_url, single_url):
        MaskStore.create(u, shape=SHAPE, chunks=CHUNKS, storage_options=opts).close()
    wall, lock_errors = _team(team_url, n, opts)
    lost = _lost(team_url, n, opts)
    t_single = _single(single_url, n, opts)
    lost_single = _lost(single_url, n, opts)
    rate, rate_single = 2 * n / wall, 2 * n / t_single
    print(f"{where}: 2 annotators x {n} saves at once: {wall:.1f} s ({rate:.0f} saves/s), "
          f"lost edits {lost}, lock errors {lock_errors}")  # fmt: skip
    print(f"{where}: peer, one whole-store writer, the same {2 * n} saves in turn: "
          f"{t_single:.1f} s ({rate_single:.0f} saves/s), lost edits {lost_single}")  # fmt: skip
    print(
        f"{where}: ratio team / single writer throughput {t_single / wall:.2f}x "
        "(goal: 0 lost, 0 lock errors)"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--saves", type=int, default=500, help="saves per annotator")
    ap.add_argument("--s3", action="store_true", help="also against a local moto S3 server")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="team-bench-"))
    try:
        _run("local", lambda name: str(tmp / f"{name}.ome.zarr"), args.saves, None)
        if args.s3:
            import logging

            import boto3
            from moto.moto_server.threaded_moto_server import ThreadedMotoServer

            logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request
            server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
            server.start()
            host, port = server.get_host_and_port()
            endpoint = f"http://{host}:{port}"
            region = "us-east-1"
            keys = {"key": "testing", "secret": "testing"}
            client_kwargs = {"endpoint_url": endpoint, "region_name": region}
            opts = {**keys, "skip_instance_cache": True, "client_kwargs": client_kwargs}
            client = boto3.client(
                "s3", endpoint_url=endpoint, region_name=region,
                aws_access_key_id="testing", aws_secret_access_key="testing",
            )  # fmt: skip
            client.create_bucket(Bucket="bench")
            try:
                _run("s3", lambda name: f"s3://bench/{name}.ome.zarr", args.saves, opts)
            finally:
                server.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
