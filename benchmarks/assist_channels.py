"""Click latency on a stack napari shows as one Image layer per channel, against the same
stack as one multi-channel layer.

Two zarr arrays (one per channel, ``N x N`` uint16, 512² chunks), shown as the Image layers
``img`` and ``img [1]`` (what ``viewer.add_image(data, channel_axis=0)`` gives), are read by
the session as one image's channels: a prompt reads its window of each layer. The peer,
measured in the same run on the same pixels, is one ``(2, N, N)`` zarr array in one Image
layer with the channel axis set (``set_assist_channel_axis(0)``). Every prompt is a first
click (no prior) at the centre of an object; half the objects are seen in channel 1 only.

Run: ``python benchmarks/assist_channels.py [--size 8192] [--clicks 40]``
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import zarr

CHUNK = 512


def _blobs(n: int, channel: int, rng_seed: int = 0) -> list[tuple[int, int, int]]:
    """(row, col, channel) of the objects: a grid, alternately in channel 0 and 1."""
    out = []
    for k, r in enumerate(range(CHUNK // 2, n, CHUNK)):
        for j, c in enumerate(range(CHUNK // 2, n, CHUNK)):
            out.append((r, c, (k + j) % 2))
    return [b for b in out if channel < 0 or b[2] == channel]


def _write(tmp: Path, n: int) -> tuple[zarr.Array, zarr.Array, zarr.Array]:
    one = [
        zarr.create_array(tmp / f"c{c}.zarr", shape=(n, n), chunks=(CHUNK, CHUNK), dtype="uint16")
        for c in range(2)
    ]
    both = zarr.create_array(
        tmp / "both.zarr", shape=(2, n, n), chunks=(1, CHUNK, CHUNK), dtype="uint16"
    )
    rr, cc = np.ogrid[:CHUNK, :CHUNK]
    disc = ((rr - CHUNK // 2) ** 2 + (cc - CHUNK // 2) ** 2 <= 14**2).astype(np.uint16)
    rng = np.random.default_rng(0)
    for r in range(0, n, CHUNK):
        for c in range(0, n, CHUNK):
            k, j = r // CHUNK, c // CHUNK
            for ch in range(2):
                noise = rng.normal(100, 5, (CHUNK, CHUNK))
                block = (noise + 800 * disc * ((k + j) % 2 == ch)).astype(np.uint16)
                one[ch][r : r + CHUNK, c : c + CHUNK] = block
                both[ch, r : r + CHUNK, c : c + CHUNK] = block
    return one[0], one[1], both


def _latency(session, layer, points) -> list[float]:
    out = []
    for p in points:
        t0 = time.perf_counter()
        _, mask = session.preview_object([p], [1], layer=layer)
        out.append((time.perf_counter() - t0) * 1000)
        assert mask.sum() > 300, p
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=8192)
    ap.add_argument("--clicks", type=int, default=40)
    args = ap.parse_args()
    from napari.layers import Image, Labels

    from napari_labelsuite import LabelSession

    n = args.size
    with tempfile.TemporaryDirectory() as tmp:
        c0, c1, both = _write(Path(tmp), n)
        labels = zarr.create_array(
            Path(tmp) / "labels.zarr", shape=(n, n), chunks=(CHUNK, CHUNK), dtype="uint32"
        )
        blobs = _blobs(n, -1)
        rng = np.random.default_rng(1)
        pick = rng.choice(len(blobs), min(args.clicks, len(blobs)), replace=False)
        points = [blobs[i][:2] for i in pick]

        split = LabelSession()
        for arr in (c0, c1):
            split.layers.append(Image(arr, name="img", contrast_limits=(0, 1000)))
        split_labels = Labels(labels, name="cells")
        split.layers.append(split_labels)
        assert [la.name for la in split.layers][:2] == ["img", "img [1]"]

        peer = LabelSession()
        peer.layers.append(Image(both, name="both", contrast_limits=(0, 1000)))
        peer_labels = Labels(labels, name="cells")
        peer.layers.append(peer_labels)
        peer.set_assist_channel_axis(0)

        _latency(split, split_labels, points[:2])  # warm-up (imports, first reads)
        _latency(peer, peer_labels, points[:2])
        a: list[float] = []
        b: list[float] = []
        for p in points:  # interleaved: both see the same load and the same cache state
            a += _latency(split, split_labels, [p])
            b += _latency(peer, peer_labels, [p])

    def stats(v: list[float]) -> tuple[float, float]:
        return statistics.median(v), float(np.percentile(v, 95))

    (am, ap95), (bm, bp95) = stats(a), stats(b)
    print(f"{n}x{n} uint16, 2 channels, {len(points)} first clicks, classical engine")
    print(f"{'image':44s} {'median ms':>10s} {'p95 ms':>8s}")
    print(f"{'split layers img, img [1] (one zarr each)':44s} {am:10.1f} {ap95:8.1f}")
    print(f"{'peer: one (2, N, N) zarr layer, axis 0':44s} {bm:10.1f} {bp95:8.1f}")
    print(f"ratio split / peer: median {am / bm:.2f}, p95 {ap95 / bp95:.2f}")


if __name__ == "__main__":
    main()
