"""Split touching with the data-driven defaults against the plain scikit-image recipe.

Run: ``python benchmarks/split_defaults.py [--size 1024]``. On the synthetic cells sample
(nuclei and cytoplasm, labelled into connected components of each class) it prints, in one
run, for each method the object count after a whole-image split (the sample's ground truth
is the number of nuclei plus cells), the time, and the ratio of times against the peer:

* ours: ``split_touching`` with ``min_distance`` from the object size and ``min_depth``
  (peaks joined by a shallow saddle merge, so rings stay whole);
* ours before: ``min_distance=7``, ``min_depth=0`` (the former defaults);
* peer: the scikit-image recipe per object (distance transform, ``peak_local_max`` with
  ``min_distance=7``, ``watershed``), the usual way to split touching objects.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy import ndimage as ndi
from skimage.feature import peak_local_max
from skimage.segmentation import watershed

from napari_labelsuite.core import instances as inst
from napari_labelsuite.core.synthetic import make_cells_2d


def skimage_recipe(labels: np.ndarray, min_distance: int = 7) -> np.ndarray:
    """One watershed per object on its distance transform, seeded by its peaks."""
    out = np.zeros_like(labels)
    nxt = 1
    for iid, sl in enumerate(ndi.find_objects(labels), start=1):
        if sl is None:
            continue
        sl = tuple(slice(max(0, s.start - 1), s.stop + 1) for s in sl)
        mask = labels[sl] == iid
        dist = ndi.distance_transform_edt(mask)
        peaks = peak_local_max(dist, min_distance=min_distance, labels=mask, exclude_border=False)
        markers = np.zeros(mask.shape, np.int32)
        markers[tuple(peaks.T)] = np.arange(1, len(peaks) + 1)
        parts = watershed(-dist, markers, mask=mask) if len(peaks) > 1 else mask.astype(int)
        n = int(parts.max())
        block = out[sl]
        block[mask] = parts[mask] + nxt - 1
        nxt += n
    return out


def timed(fn):
    t = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - t


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--size", type=int, default=1024)
    args = p.parse_args()
    sample = make_cells_2d((args.size, args.size))
    truth = len(np.unique(sample.instances)) - 1 + len(np.unique(sample.cells)) - 1
    labels = inst.label_components(sample.semantic, 1)
    print(f"sample {args.size}^2: {int(labels.max())} components, ground truth {truth} objects")

    peer, t_peer = timed(lambda: skimage_recipe(labels))
    ours, t_ours = timed(lambda: inst.split_touching(labels).apply(labels))
    before, t_before = timed(
        lambda: inst.split_touching(labels, min_distance=7, min_depth=0).apply(labels)
    )
    rows = [
        ("ours (auto min distance, min_depth 1.5)", ours, t_ours),
        ("ours before (min distance 7, no depth)", before, t_before),
        ("peer: scikit-image recipe (min distance 7)", peer, t_peer),
    ]
    for name, result, t in rows:
        n = len(np.unique(result)) - 1
        print(f"  {name:45s} {n:6d} objects ({n / truth:4.2f} x truth)  {t:6.2f} s  "
              f"{t / t_peer:4.2f} x peer time")  # fmt: skip


if __name__ == "__main__":
    main()
